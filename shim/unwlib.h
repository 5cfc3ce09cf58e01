/* unwlib.h: libunwind, loaded when a stack first needs it (unwlib.c). */
#ifndef XT_UNWLIB_H
#define XT_UNWLIB_H

#include <stdbool.h>

#include "shim.h"

/* xt_unwlib_backtrace stores up to n return addresses of the calling stack in pcs, as libunwind's
 * unw_backtrace does; 0 while libunwind is not loaded. Not loaded yet, it is loaded here first
 * where that is safe (xt_unwlib_load); elsewhere the generation thread loads it at its next
 * wake-up, and until then stacks that need it record their caller alone. */
XT_HIDDEN int xt_unwlib_backtrace(void **pcs, int n);
/* xt_unwlib_load loads libunwind if it is not loaded and may be here: not inside a signal
 * handler the dispatcher runs, nor while the dynamic loader changes the list of objects (a
 * dlopen inside a dlopen), nor in a copy of a process caught loading it. */
XT_HIDDEN void xt_unwlib_load(void);
/* xt_unwlib_wanted: a stack needed libunwind where it could not be loaded. */
XT_HIDDEN bool xt_unwlib_wanted(void);
/* The dispatcher's count of the program's signal handlers running on this thread. */
extern XT_HIDDEN XT_TLS unsigned xt_in_handler;

#endif
