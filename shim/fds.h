/* fds.h: the shim's own descriptors (fds.c): where they are put, and what the read interposers
 * must refuse to the unwinder. */
#ifndef XT_FDS_H
#define XT_FDS_H

#include <stdbool.h>

#include "shim.h"

/* xt_fds_high returns a close-on-exec duplicate of f high in the range the descriptor limit
 * allows, clear of the numbers programs pick or dup2 onto (shells use 10 and up, and 255); -1
 * if there is no room. xt_fds_move_high moves f there (f itself when it cannot). */
XT_HIDDEN int xt_fds_high(int f);
XT_HIDDEN int xt_fds_move_high(int f);

/* xt_fds_keep opens path (read-only) as the file the shim keeps open, high and hidden from the
 * program like its other descriptors, in place of the one kept before; it returns the
 * descriptor or -1. xt_fds_kept is its number now (the program duplicating onto it moves it). */
XT_HIDDEN int xt_fds_keep(const char *path);
XT_HIDDEN int xt_fds_kept(void);

/* xt_fds_unwinder_stale: fd is a number the unwinder still thinks is its pipe, which the
 * program has since taken: the unwinder must find it closed (EBADF) and open a new pipe. */
XT_HIDDEN bool xt_fds_unwinder_stale(int fd);

#endif
