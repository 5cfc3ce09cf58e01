/* control.h (shim): the control channel's server side (control.c), served by the generation
 * thread. The path and the protocol are experiments/ctlproto.h. */
#ifndef XT_SHIM_CONTROL_H
#define XT_SHIM_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "shim.h"

/* xt_ctl_wait is the generation thread's sleep: until deadline (CLOCK_MONOTONIC ns) or a wake
 * (true), answering control requests meanwhile. It makes the socket first if there is none,
 * once the thread has run for a moment (a wait may end early for that, returning false). */
XT_HIDDEN bool xt_ctl_wait(uint64_t deadline);
/* xt_ctl_wake wakes the generation thread (a thread ran its exit destructor). */
XT_HIDDEN void xt_ctl_wake(void);
/* xt_ctl_end removes this process's socket (exit, exec, fatal signal): nobody can connect any
 * more. xt_ctl_resume undoes it after a failed exec (the generation thread makes it again). */
XT_HIDDEN void xt_ctl_end(void);
XT_HIDDEN void xt_ctl_resume(void);
/* In a fork child: the parent's descriptors closed, so the child's thread makes its own
 * (async-signal-safe). */
XT_HIDDEN void xt_ctl_fork_child(void);

/* For fds.c: the channel's descriptors (-1 for none), hidden from the program like the trace
 * descriptor, and moving one off number fd before the program duplicates onto it. */
#define XT_CTL_FDS 3
XT_HIDDEN void xt_ctl_fds(int out[XT_CTL_FDS]);
XT_HIDDEN bool xt_ctl_owns(int fd);
XT_HIDDEN void xt_ctl_vacate(int fd);

#endif
