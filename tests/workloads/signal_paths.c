/* signal_paths.c: a signal reaches the program by one of many paths, so a test can check that
 * the traced program ends (or goes on) exactly as it does untraced, with a complete trace.
 *   signal_paths MODE [DIR]
 * Main first keeps KEPT allocations of 512 bytes and prints "mode=MODE kept=KEPT". The modes
 * that end in a default-fatal signal then allocate and free in a loop until it comes: a watchdog
 * (alarm, setitimer of each clock, a POSIX timer with a real-time or a standard signal), a signal
 * sent (kill, tgkill, sigqueue, a real-time one), a resource limit (SIGXCPU, SIGXFSZ: writes
 * DIR/big.out past a 4096-byte limit), a broken pipe, SIGIO, a breakpoint trap, a SA_RESETHAND
 * handler's second delivery, or a watchdog taken by a second thread. A loop still running after
 * 20 s prints "survived" and exits 3: the signal was lost. Other modes:
 *   vfork     a vfork child dies of SIGTERM before it execs; the parent allocates on, exits 0
 *   ignored   SIGCHLD (also from a real child), SIGWINCH, SIGURG and SIGCONT, each left at its
 *             default (ignore); then 5 more allocations and exit 0
 *   tty_loop  prints "ready" and loops (for a terminal's Ctrl-C, Ctrl-\ or hangup)
 *   tty_read  prints "ready", reads a line from stdin, prints "read=LINE", exits 0 (for Ctrl-Z,
 *             a background read and a window resize) */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "workload.h"

#define KEPT 10
#define AFTER 5

static void *kept[KEPT];

/* spin allocates and frees, with some work between, until a signal ends the program; the
 * bound only keeps a lost signal from hanging the test. */
static void spin(void)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0;; i++) {
		volatile char *p = malloc(64);
		p[0] = (char)i;
		free((void *)p);
		for (volatile int work = 0; work < 1000; work++)
			;
		if ((i & 255) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec > 20) {
				say("survived\n");
				exit(3);
			}
		}
	}
}

static void itimer(int which)
{
	struct itimerval v = {{0, 0}, {0, 20000}};
	setitimer(which, &v, NULL);
	spin();
}

static void posix_timer(int sig)
{
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = sig;
	timer_t t;
	struct itimerspec its = {{0, 0}, {0, 20000000}};
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) == 0 && timer_settime(t, 0, &its, NULL) == 0)
		spin();
}

static void m_alarm(const char *dir) { (void)dir; alarm(1); spin(); }
static void m_setitimer(const char *dir) { (void)dir; itimer(ITIMER_REAL); }
static void m_virtual(const char *dir) { (void)dir; itimer(ITIMER_VIRTUAL); }
static void m_prof(const char *dir) { (void)dir; itimer(ITIMER_PROF); }
static void m_timer_rt(const char *dir) { (void)dir; posix_timer(SIGRTMIN); }
static void m_timer_usr1(const char *dir) { (void)dir; posix_timer(SIGUSR1); }
static void m_kill(const char *dir) { (void)dir; kill(getpid(), SIGTERM); spin(); }
static void m_tgkill(const char *dir) { (void)dir; tgkill(getpid(), gettid(), SIGUSR1); spin(); }
static void m_rt_kill(const char *dir) { (void)dir; kill(getpid(), SIGRTMAX); spin(); }

static void m_sigqueue(const char *dir)
{
	(void)dir;
	sigqueue(getpid(), SIGUSR2, (union sigval){.sival_int = 7});
	spin();
}

static void m_xcpu(const char *dir)
{
	(void)dir;
	/* at the soft limit SIGXCPU, at the hard one SIGKILL: a lost SIGXCPU shows */
	struct rlimit rl = {1, 2};
	setrlimit(RLIMIT_CPU, &rl);
	spin();
}

static void m_xfsz(const char *dir)
{
	char path[4200], block[8192];
	snprintf(path, sizeof path, "%s/big.out", dir ? dir : ".");
	memset(block, 'x', sizeof block);
	struct rlimit rl = {4096, RLIM_INFINITY};
	setrlimit(RLIMIT_FSIZE, &rl);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	for (int i = 0; i < 2; i++)
		write(fd, block, sizeof block); /* the first stops at the limit, the second is beyond */
	spin();
}

static void m_pipe(const char *dir)
{
	(void)dir;
	int p[2];
	if (pipe(p) != 0)
		return;
	close(p[0]);
	write(p[1], "x", 1);
	spin();
}

static void m_sigio(const char *dir)
{
	(void)dir;
	int p[2];
	if (pipe(p) != 0)
		return;
	fcntl(p[0], F_SETOWN, getpid());
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_ASYNC);
	write(p[1], "x", 1);
	spin();
}

static void m_trap(const char *dir)
{
	(void)dir;
	__asm__ volatile("int3");
	spin();
}

static volatile sig_atomic_t handled;

static void on_term(int sig)
{
	(void)sig;
	free(malloc(32)); /* the handler's allocation is the program's too */
	handled++;
}

/* A one-shot handler runs once; the second delivery meets the default action. */
static void m_resethand(const char *dir)
{
	(void)dir;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGTERM, &sa, NULL);
	raise(SIGTERM);
	say("handled=%d\n", (int)handled);
	raise(SIGTERM);
	spin();
}

static void *watchdog_thread(void *arg)
{
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	itimer(ITIMER_REAL);
	return arg;
}

/* The main thread blocks SIGALRM: the process-directed watchdog goes to the second thread. */
static void m_thread(const char *dir)
{
	(void)dir;
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, watchdog_thread, NULL) == 0)
		pthread_join(t, NULL);
}

static void allocate_after(void)
{
	void *b[AFTER];
	for (int i = 0; i < AFTER; i++)
		b[i] = malloc(256);
	for (int i = 0; i < AFTER; i++)
		free(b[i]);
	say("after allocs=%d frees=%d\n", AFTER, AFTER);
	exit(0);
}

/* The vfork child shares the parent's memory: what it does before it dies must not touch the
 * parent's trace. */
static void m_vfork(const char *dir)
{
	(void)dir;
	pid_t pid = vfork();
	if (pid == 0) {
		raise(SIGTERM);
		_exit(9);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return;
	say("child signaled=%d sig=%d\n", WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	allocate_after();
}

static void m_ignored(const char *dir)
{
	(void)dir;
	static const int ignored[] = {SIGCHLD, SIGWINCH, SIGURG, SIGCONT};
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		kill(getpid(), ignored[i]);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return;
	allocate_after();
}

static void m_tty_loop(const char *dir)
{
	(void)dir;
	say("ready\n");
	spin();
}

static void m_tty_read(const char *dir)
{
	(void)dir;
	say("ready\n");
	char line[128];
	ssize_t n;
	do
		n = read(0, line, sizeof line - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return;
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	say("read=%s\n", line);
	allocate_after();
}

static const struct mode {
	const char *name;
	void (*run)(const char *dir);
} modes[] = {
	{"alarm", m_alarm},       {"setitimer", m_setitimer}, {"virtual", m_virtual},
	{"prof", m_prof},         {"timer_rt", m_timer_rt},   {"timer_usr1", m_timer_usr1},
	{"kill", m_kill},         {"tgkill", m_tgkill},       {"sigqueue", m_sigqueue},
	{"rt_kill", m_rt_kill},   {"xcpu", m_xcpu},           {"xfsz", m_xfsz},
	{"pipe", m_pipe},         {"sigio", m_sigio},         {"trap", m_trap},
	{"resethand", m_resethand}, {"thread", m_thread},     {"vfork", m_vfork},
	{"ignored", m_ignored},   {"tty_loop", m_tty_loop},   {"tty_read", m_tty_read},
};

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	for (int i = 0; i < KEPT; i++)
		kept[i] = malloc(512);
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(mode, modes[i].name) == 0) {
			say("mode=%s kept=%d\n", mode, KEPT);
			modes[i].run(argc > 2 ? argv[2] : NULL);
			say("signal_paths: mode %s failed to set up\n", mode);
			return 2;
		}
	}
	say("signal_paths: unknown mode %s\n", mode);
	return 2;
}
