/* sigquery: installs handlers with sigaction (SA_SIGINFO or not, SA_RESETHAND, SA_RESTART,
 * SA_NODEFER, masks) and signal(), reads every action back, also after a SA_RESETHAND handler
 * ran, and prints what it read: handler, flags and mask. Run traced and untraced, the output must
 * be the same. */
#include <signal.h>
#include <string.h>

#include "workload.h"

static volatile sig_atomic_t ran;

static void plain(int sig)
{
	ran += sig;
}

static void info(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	ran += sig;
}

static const char *name_of(const struct sigaction *a)
{
	if (a->sa_handler == SIG_DFL)
		return "SIG_DFL";
	if (a->sa_handler == SIG_IGN)
		return "SIG_IGN";
	if (a->sa_flags & SA_SIGINFO)
		return a->sa_sigaction == info ? "info" : "other-siginfo";
	return a->sa_handler == plain ? "plain" : "other";
}

static void show(const char *what, int sig)
{
	struct sigaction a;
	memset(&a, 0, sizeof a);
	if (sigaction(sig, NULL, &a) != 0) {
		say("%s sig=%d: query failed\n", what, sig);
		return;
	}
	char mask[65] = {0};
	for (int s = 1; s < 65 && s < NSIG; s++)
		mask[s - 1] = sigismember(&a.sa_mask, s) == 1 ? '1' : '0';
	say("%s sig=%d handler=%s flags=%#x mask=%s\n", what, sig, name_of(&a),
	    (unsigned)a.sa_flags, mask);
}

static void set(int sig, int siginfo, int flags, const int *masked)
{
	struct sigaction a, old;
	memset(&a, 0, sizeof a);
	if (siginfo)
		a.sa_sigaction = info;
	else
		a.sa_handler = plain;
	a.sa_flags = flags | (siginfo ? SA_SIGINFO : 0);
	sigemptyset(&a.sa_mask);
	for (; masked && *masked; masked++)
		sigaddset(&a.sa_mask, *masked);
	memset(&old, 0, sizeof old);
	sigaction(sig, &a, &old);
	say("old sig=%d handler=%s flags=%#x\n", sig, name_of(&old), (unsigned)old.sa_flags);
}

int main(void)
{
	const int m1[] = {SIGUSR2, SIGTERM, 0}, m2[] = {SIGINT, SIGRTMIN, 0};
	show("initial", SIGALRM);
	show("initial", SIGSEGV);
	set(SIGALRM, 0, SA_RESTART, m1);
	show("set", SIGALRM);
	set(SIGALRM, 1, SA_RESTART | SA_NODEFER, m2);
	show("set", SIGALRM);
	set(SIGUSR1, 1, SA_RESETHAND, NULL);
	show("set", SIGUSR1);
	raise(SIGUSR1);
	show("after-resethand", SIGUSR1);
	set(SIGUSR2, 0, 0, m2);
	show("set", SIGUSR2);
	set(SIGPROF, 0, SA_ONSTACK | SA_RESTART, m1);
	show("set", SIGPROF);
	say("signal old=%s\n", signal(SIGVTALRM, plain) == SIG_DFL ? "SIG_DFL" : "other");
	show("signal", SIGVTALRM);
	say("signal old=%s\n", signal(SIGVTALRM, SIG_IGN) == plain ? "plain" : "other");
	show("signal", SIGVTALRM);
	set(SIGSEGV, 1, 0, NULL);
	show("set", SIGSEGV);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGALRM, &dfl, NULL);
	show("reset", SIGALRM);
	say("ran=%d\n", (int)ran);
	return 0;
}
