/* signals.c: signal() and sigaction(), and the dispatcher that runs the program's handlers.
 *
 * Every handler the program installs is registered with the kernel as the shim's dispatcher,
 * with the program's own mask and flags (plus SA_SIGINFO), so the handler runs exactly as it
 * would, while the shim knows a handler is running: its allocations are recorded even when it
 * interrupted a real allocator call. What the program reads back (old actions) is what it set,
 * as the kernel would report it. Signals whose default action ends the process (SEGV, ABRT,
 * TERM, INT, PIPE, ...) get the dispatcher too while the program leaves them at the default:
 * it completes the trace, then the signal kills the program as it would have. */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "generation.h"
#include "lifecycle.h"
#include "real.h"
#include "timertab.h"


static struct sigaction prog[NSIG];   /* what the program set */
static _Atomic unsigned char known[NSIG]; /* prog[sig] holds the program's view */
static _Atomic unsigned char wrapped[NSIG]; /* the kernel has the dispatcher for sig */
static _Atomic unsigned char pristine[NSIG]; /* wrapped at init; the program never set it */

/* The signals whose default action terminates the process (SIGTRAP is left to debuggers,
 * SIGKILL cannot be caught, and real-time signals are rarely left to kill). */
static const int fatal[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGILL,    SIGABRT, SIGBUS,  SIGFPE,
			    SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE,   SIGALRM, SIGTERM, SIGSTKFLT,
			    SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,  SIGSYS};

static int is_fatal(int sig)
{
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (fatal[i] == sig)
			return 1;
	return 0;
}

static int is_function(const struct sigaction *a)
{
	return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

static void die_as_default(int sig, siginfo_t *si)
{
	int e = errno;
	xt_image_end(XT_END_SIGNAL, sig);
	xt_tl.internal++;
	xt_advance(XT_ADVANCE_CRASH);
	xt_tl.internal--;
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	xt_real.sigaction(sig, &dfl, NULL);
	wrapped[sig] = 0;
	/* A fault re-executes and kills; a signal that was sent must be sent again. */
	if (si->si_code <= 0)
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
	errno = e;
}

static void dispatch(int sig, siginfo_t *si, void *uc)
{
	struct sigaction a = prog[sig];
	if (a.sa_flags & SA_RESETHAND)
		prog[sig].sa_handler = SIG_DFL; /* as the kernel just did to its registration */
	if (!is_function(&a)) {
		if (a.sa_handler == SIG_DFL && is_fatal(sig))
			die_as_default(sig, si);
		return;
	}
	struct xt_signal_save s = xt_signal_enter();
	xt_timers_signal(sig, si);
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else
		a.sa_handler(sig);
	xt_signal_leave(s);
}

static void learn(int sig)
{
	if (!known[sig]) {
		xt_real.sigaction(sig, NULL, &prog[sig]);
		known[sig] = 1;
	}
}

/* install registers the program's action act for sig, wrapped as needed; old gets what the
 * kernel had, as the program would see it. */
static int install(int sig, const struct sigaction *act, struct sigaction *old)
{
	learn(sig);
	struct sigaction prev = prog[sig], kold;
	int was_wrapped = wrapped[sig], was_pristine = pristine[sig];
	int r;
	if (act) {
		struct sigaction k = *act;
		int wrap = is_function(act) ||
			   (act->sa_handler == SIG_DFL && is_fatal(sig) && atomic_load(&xt_gen));
		if (wrap) {
			k.sa_sigaction = dispatch;
			k.sa_flags |= SA_SIGINFO;
		}
		r = xt_real.sigaction(sig, &k, &kold);
		if (r == 0) {
			prog[sig] = *act;
			wrapped[sig] = (unsigned char)wrap;
			pristine[sig] = 0;
		}
	} else {
		r = xt_real.sigaction(sig, NULL, &kold);
	}
	if (r != 0)
		return r;
	if (old && was_pristine) {
		*old = prev; /* what the kernel said before the shim registered anything */
	} else if (old) {
		*old = kold;
		if (was_wrapped) {
			if (prev.sa_flags & SA_SIGINFO)
				old->sa_sigaction = prev.sa_sigaction;
			else
				old->sa_handler = prev.sa_handler;
			old->sa_flags = (kold.sa_flags & ~SA_SIGINFO) | (prev.sa_flags & SA_SIGINFO);
		}
	}
	return 0;
}

XT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	xt_ensure_init();
	if (sig < 1 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP || xt_passing_through())
		return xt_real.sigaction(sig, act, old);
	int e = errno;
	int r = install(sig, act, old);
	if (r == 0)
		errno = e;
	return r;
}

/* signal() with glibc's BSD semantics: SA_RESTART, the signal blocked in its handler. */
XT_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	xt_ensure_init();
	if (handler == SIG_ERR || sig < 1 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP ||
	    (sig >= 32 && sig < SIGRTMIN)) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction act, old;
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	act.sa_flags = SA_RESTART;
	if (install(sig, &act, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

void xt_signals_init(void)
{
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		int sig = fatal[i];
		learn(sig);
		if (prog[sig].sa_handler != SIG_DFL)
			continue;
		struct sigaction k;
		memset(&k, 0, sizeof(k));
		k.sa_sigaction = dispatch;
		k.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&k.sa_mask);
		if (xt_real.sigaction(sig, &k, NULL) == 0)
			wrapped[sig] = pristine[sig] = 1;
	}
}
