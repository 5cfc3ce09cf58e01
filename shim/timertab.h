/* timertab.h: the Timers experiment's hooks into the rest of the shim (timers.c). */
#ifndef XT_TIMERTAB_H
#define XT_TIMERTAB_H

#include <signal.h>

#include "shim.h"

/* xt_timers_signal records a timer-caused signal delivery (si_code SI_TIMER, or an itimer's
 * SIGALRM, SIGVTALRM or SIGPROF sent by the kernel) about to run the program's handler. The
 * dispatcher calls it inside xt_signal_enter/leave; it is async-signal-safe. */
XT_HIDDEN void xt_timers_signal(int sig, const siginfo_t *si);
/* xt_timers_fork_child forgets what a fork child does not inherit: POSIX timers and itimers. */
XT_HIDDEN void xt_timers_fork_child(void);

/* What the descriptor interposers (fds.c) tell the timerfd table: descriptor fd (or first to
 * last) is about to be closed, the last descriptor of a timerfd deleting its timer (ra: where
 * the program called); newfd now refers to what oldfd does. */
XT_HIDDEN void xt_timers_fd_closing(int fd, void *ra);
XT_HIDDEN void xt_timers_fds_closing(unsigned first, unsigned last, void *ra);
XT_HIDDEN void xt_timers_fd_copied(int oldfd, int newfd, void *ra);

#endif
