/* signals.c: signal() and sigaction(), and the dispatcher that runs the program's handlers.
 *
 * Every handler the program installs is registered with the kernel as the shim's dispatcher,
 * with the program's own mask and flags (plus SA_SIGINFO), so the handler runs exactly as it
 * would, while the shim knows a handler is running: its allocations are recorded even when it
 * interrupted a real allocator call. What the program reads back (old actions) is what it set,
 * as the kernel would report it. Signals whose default action ends the process (SEGV, ABRT,
 * TERM, INT, PIPE, the real-time signals, ...) get the dispatcher too while the program leaves
 * them at the default: it completes the trace, then the signal kills the program as it would
 * have, however it was sent (a fault, kill, a timer, the terminal, a resource limit). Signals
 * whose default is to ignore or to stop are left to the kernel. */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "experiment.h"
#include "generation.h"
#include "lifecycle.h"
#include "real.h"
#include "unwlib.h"
#include "writer.h"


static struct sigaction prog[NSIG];   /* what the program set */
static _Atomic unsigned char known[NSIG]; /* prog[sig] holds the program's view */
static _Atomic unsigned char wrapped[NSIG]; /* the kernel has the dispatcher for sig */
static _Atomic unsigned char pristine[NSIG]; /* wrapped at init; the program never set it */

/* The signals below SIGRTMIN whose default action terminates the process (SIGKILL cannot be
 * caught); every real-time signal's default terminates it too. A debugger sees SIGTRAP before
 * any handler does. */
static const int fatal[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGILL,    SIGTRAP, SIGABRT, SIGBUS,
			    SIGFPE,  SIGUSR1, SIGSEGV, SIGUSR2,   SIGPIPE, SIGALRM, SIGTERM,
			    SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS};

static int is_fatal(int sig)
{
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		return 1;
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (fatal[i] == sig)
			return 1;
	return 0;
}

static int is_function(const struct sigaction *a)
{
	return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

/* faults_again: sig reports a fault of the instruction the handler returns to, which faults
 * again once the action is the default; the core then shows the fault itself. Every other
 * signal was sent, by a process (si_code <= 0) or by the kernel (SI_KERNEL: a timer, the
 * terminal, a resource limit; POLL_* for SIGIO; an asynchronous machine check), and returning
 * would only drop it. */
static int faults_again(int sig, const siginfo_t *si)
{
	if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE)
		return 0;
	return si->si_code > 0 && si->si_code != SI_KERNEL &&
	       !(sig == SIGBUS && si->si_code == BUS_MCEERR_AO);
}

static void die_as_default(int sig, siginfo_t *si)
{
	int e = errno;
	xt_crash_flush(sig);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	xt_real.sigaction(sig, &dfl, NULL);
	/* Sent again, the signal stays pending while the dispatcher runs (sig is in its mask) and
	 * kills as the dispatcher returns. */
	if (!faults_again(sig, si))
		tgkill(getpid(), gettid(), sig);
	errno = e;
}

static void dispatch(int sig, siginfo_t *si, void *uc);

/* register_dispatcher gives the kernel the dispatcher for sig, with act's mask and flags. */
static int register_dispatcher(int sig, const struct sigaction *act, struct sigaction *kold)
{
	struct sigaction k = *act;
	k.sa_sigaction = dispatch;
	k.sa_flags |= SA_SIGINFO;
	return xt_real.sigaction(sig, &k, kold);
}

static void dispatch(int sig, siginfo_t *si, void *uc)
{
	struct sigaction a = prog[sig];
	if (a.sa_flags & SA_RESETHAND) {
		prog[sig].sa_handler = SIG_DFL; /* as the kernel just did to its registration */
		/* The default kills: the next delivery must still complete the trace. */
		if (is_fatal(sig))
			register_dispatcher(sig, &a, NULL);
	}
	/* A signal that kills: the section it interrupted never resumes, and its events and
	 * this one's go in as the trace ends (xt_give_up_section). */
	if (!is_function(&a) && a.sa_handler == SIG_DFL && is_fatal(sig))
		xt_give_up_section();
	struct xt_signal_save s = xt_signal_enter();
	xt_in_handler++; /* where libunwind must not be loaded (unwlib.c) */
	xt_experiments_signal(sig, si);
	if (!is_function(&a)) {
		xt_signal_leave(s);
		if (a.sa_handler == SIG_DFL && is_fatal(sig))
			die_as_default(sig, si);
		xt_in_handler--;
		return;
	}
	if (a.sa_flags & SA_SIGINFO)
		a.sa_sigaction(sig, si, uc);
	else
		a.sa_handler(sig);
	xt_signal_leave(s);
	xt_in_handler--;
}

/* An alternate signal stack is where the DWARF walk hands handlers' stacks to libunwind: it is
 * loaded now, outside any handler, so that their first stack is whole. */
XT_EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
	xt_ensure_init();
	if (ss && !(ss->ss_flags & SS_DISABLE) && xt_config.unwind == XT_UNWIND_DWARF &&
	    !xt_passing_through())
		xt_unwlib_load();
	return (int)syscall(SYS_sigaltstack, ss, old);
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
		int wrap = is_function(act) ||
			   (act->sa_handler == SIG_DFL && is_fatal(sig) && atomic_load(&xt_gen));
		r = wrap ? register_dispatcher(sig, act, &kold) : xt_real.sigaction(sig, act, &kold);
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

/* wrap_default gives the kernel the dispatcher for sig if it is at its default action. One
 * system call learns the action and registers the dispatcher (a start-up cost paid for every
 * signal); an inherited action other than the default (SIG_IGN) is put back at once. Called
 * with every signal blocked: none is delivered before prog[sig] holds what it learned. The
 * default with no flags and no mask (every action after exec but an ignored one) is what the
 * zeroed prog[sig] holds already: neither stored nor read, so that prog's pages stay untouched
 * at start. */
static void wrap_default(int sig)
{
	struct sigaction k, kold;
	memset(&k, 0, sizeof(k));
	memset(&kold, 0, sizeof(kold));
	k.sa_flags = SA_ONSTACK;
	sigemptyset(&k.sa_mask);
	if (known[sig]) {
		if (prog[sig].sa_handler == SIG_DFL && register_dispatcher(sig, &k, NULL) == 0)
			wrapped[sig] = pristine[sig] = 1;
		return;
	}
	if (register_dispatcher(sig, &k, &kold) != 0)
		return;
	bool plain = kold.sa_handler == SIG_DFL && !kold.sa_flags && !kold.sa_restorer &&
		     sigisemptyset(&kold.sa_mask);
	if (!plain)
		prog[sig] = kold;
	known[sig] = 1;
	if (kold.sa_handler == SIG_DFL)
		wrapped[sig] = pristine[sig] = 1;
	else
		xt_real.sigaction(sig, &kold, NULL);
}

void xt_signals_init(void)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		wrap_default(fatal[i]);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		wrap_default(sig);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
