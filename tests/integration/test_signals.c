/* test_signals.c: the traced program meets signals exactly as it does untraced (workload
 * tests/workloads/signal_paths.c): every default-fatal signal, however it is sent (watchdog
 * timers of every kind, kill, tgkill, sigqueue, resource limits, a broken pipe, SIGIO, a trap, a
 * one-shot handler's second delivery, another thread's watchdog), kills it with the untraced
 * status after completing its one trace; signals whose default is to ignore change nothing; a
 * vfork child's death leaves the parent's trace alone. On a pseudo-terminal, typed as a user
 * would: Ctrl-C, Ctrl-\ and a hangup kill it, Ctrl-Z and a background read stop it until it is
 * resumed, a window resize is ignored. Each case runs untraced and traced and compares the wait
 * status, the output and the files; the trace must be complete and validate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>

#include "harness.h"

#define KEPT 10 /* signal_paths keeps this many blocks before the signal */

/* run_in runs signal_paths MODE DIR in a fresh directory DIR, traced or not. */
static void run_in(struct h_run *r, bool traced, const char *mode)
{
	const char *dir = h_tmpdir();
	char *const argv[] = {(char *)h_workload("signal_paths"), (char *)mode, (char *)dir, NULL};
	if (h_spawn(r, dir, argv, traced ? h_trace_env(dir, NULL) : NULL) != 0)
		fail_msg("cannot run %s", argv[0]);
}

/* check_trace asserts that path is complete and validates, and returns its summary (focus: the
 * workload's own allocations). */
static void check_trace(const char *path, struct h_summary *s)
{
	memset(s, 0, sizeof *s);
	s->focus = "signal_paths";
	h_summarize_clean(path, s);
	h_validate(path);
	char *js = h_stats_json(path, 0);
	assert_false(h_json_bool(js, "truncated"));
	h_free(js);
}

/* ---- default-fatal signals ------------------------------------------------------------------ */

/* The real-time signals are numbered at run time. */
enum { RT_MIN = -1, RT_MAX = -2 };

struct death {
	const char *name, *mode;
	int sig; /* the signal that ends the untraced program */
};

static const struct death deaths[] = {
	{"alarm_watchdog", "alarm", SIGALRM},
	{"setitimer_real_watchdog", "setitimer", SIGALRM},
	{"setitimer_virtual_watchdog", "virtual", SIGVTALRM},
	{"setitimer_prof_watchdog", "prof", SIGPROF},
	{"timer_create_sigrtmin", "timer_rt", RT_MIN},
	{"timer_create_sigusr1", "timer_usr1", SIGUSR1},
	{"kill_sigterm", "kill", SIGTERM},
	{"tgkill_sigusr1", "tgkill", SIGUSR1},
	{"sigqueue_sigusr2", "sigqueue", SIGUSR2},
	{"kill_sigrtmax", "rt_kill", RT_MAX},
	{"cpu_limit_sigxcpu", "xcpu", SIGXCPU},
	{"file_size_limit_sigxfsz", "xfsz", SIGXFSZ},
	{"broken_pipe_sigpipe", "pipe", SIGPIPE},
	{"async_io_sigio", "sigio", SIGIO},
	{"breakpoint_sigtrap", "trap", SIGTRAP},
	{"resethand_second_delivery", "resethand", SIGTERM},
	{"watchdog_on_second_thread", "thread", SIGALRM},
};

/* The program dies of the same signal traced, and its one trace holds every allocation made
 * before the signal: the KEPT blocks live, and at most the loop's block in flight. */
static void test_death(void **state)
{
	const struct death *d = *state;
	int sig = d->sig == RT_MIN ? SIGRTMIN : d->sig == RT_MAX ? SIGRTMAX : d->sig;
	struct h_run plain, r;
	run_in(&plain, false, d->mode);
	if (!WIFSIGNALED(plain.status) || WTERMSIG(plain.status) != sig)
		fail_msg("%s untraced: expected death by signal %d, got wait status 0x%x", d->mode,
			 sig, plain.status);
	run_in(&r, true, d->mode);
	h_same_as_untraced(&r, &plain, d->mode);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct h_summary s;
	check_trace(trace, &s);
	if (s.my_live_end < KEPT || s.my_live_end > KEPT + 1)
		fail_msg("%s: %llu of the program's blocks live at the end of the trace, expected %d "
			 "(and the loop's)", d->mode, (unsigned long long)s.my_live_end, KEPT);
	h_run_free(&plain);
	h_run_free(&r);
}

/* A fatal signal that comes while the generation thread ends a generation, waiting for the
 * section the signal interrupted: the dying thread lets it write that section's events rather
 * than wait for it to give them up. Generations of 1 ms make the meeting likely: every one of
 * 20 runs dies of its timer with nothing lost. */
static void test_death_during_generation_end(void **state)
{
	for (int i = 0; i < 20; i++) {
		const char *extra[] = {"XTRACE_GEN_MS=1", NULL};
		const char *dir = h_tmpdir();
		char *const argv[] = {(char *)h_workload("signal_paths"), "setitimer", (char *)dir,
				      NULL};
		struct h_run r;
		if (h_spawn(&r, dir, argv, h_trace_env(dir, extra)) != 0)
			fail_msg("cannot run %s", argv[0]);
		if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != SIGALRM)
			fail_msg("run %d: wait status 0x%x, not death by SIGALRM", i, r.status);
		char trace[PATH_MAX];
		h_one_trace(&r, trace);
		struct h_summary s;
		check_trace(trace, &s);
		h_run_free(&r);
	}
}

/* ---- signals that do not kill ------------------------------------------------------------ */

/* trace_of_pid returns the summary of the one trace in dir whose header names pid. */
static void trace_of_pid(const char *dir, uint64_t pid, struct h_summary *s)
{
	char paths[8][PATH_MAX];
	size_t n = h_find_traces(dir, paths, 8), found = 0;
	for (size_t i = 0; i < n && i < 8; i++) {
		struct h_summary t;
		check_trace(paths[i], &t);
		if (t.pid == pid) {
			*s = t;
			found++;
		}
	}
	if (found != 1)
		fail_msg("%zu traces of pid %llu in %s", found, (unsigned long long)pid, dir);
}

/* A vfork child that dies of a signal before it execs runs the shim's fatal-signal path in the
 * parent's memory: the parent's tracing must go on, with the allocations it makes afterwards. */
static void test_vfork_child_dies(void **state)
{
	struct h_run plain, r;
	run_in(&plain, false, "vfork");
	run_in(&r, true, "vfork");
	h_same_as_untraced(&r, &plain, "vfork");
	assert_non_null(strstr(r.out, "child signaled=1 sig=15"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct h_summary s;
	check_trace(trace, &s);
	assert_int_equal(s.my_allocs, KEPT + 5);
	assert_int_equal(s.my_frees, 5);
	h_run_free(&plain);
	h_run_free(&r);
}

/* SIGCHLD (sent, and from a real child), SIGWINCH, SIGURG and SIGCONT at their default: ignored;
 * the parent and the forked child each leave one trace. */
static void test_ignored_by_default(void **state)
{
	struct h_run plain, r;
	run_in(&plain, false, "ignored");
	run_in(&r, true, "ignored");
	h_same_as_untraced(&r, &plain, "ignored");
	h_expect_exit(&r, 0);
	assert_int_equal(h_find_traces(r.dir, NULL, 0), 2);
	struct h_summary s;
	trace_of_pid(r.dir, (uint64_t)r.pid, &s);
	assert_int_equal(s.my_allocs, KEPT + 5);
	assert_int_equal(s.my_frees, 5);
	h_run_free(&plain);
	h_run_free(&r);
}

/* ---- a pseudo-terminal --------------------------------------------------------------------- */

/* A program on a pseudo-terminal, typed at through the master side. In the session shape the
 * program leads its own session, so the terminal's hangup goes to it; in the job shape a small
 * shell leads the session and runs the program as a job in its own process group, in the
 * foreground or not (job control signals do nothing to a group with no parent in its session),
 * reports each wait status of it on a pipe and, like fg, resumes it when it stops. */
struct tty_run {
	char dir[PATH_MAX];
	int master, reports;
	pid_t pid;                /* the program, or the shell in the job shape */
	char text[8192];          /* everything the terminal showed */
	size_t len;
	int statuses[4], nstatuses; /* the program's wait statuses, in order */
};

/* tty_read_more appends what the terminal shows within ms milliseconds; false at its end. */
static bool tty_read_more(struct tty_run *t, int ms)
{
	struct pollfd p = {t->master, POLLIN, 0};
	if (t->master < 0 || poll(&p, 1, ms) <= 0)
		return false;
	ssize_t n = read(t->master, t->text + t->len, sizeof t->text - 1 - t->len);
	if (n <= 0)
		return false;
	t->len += (size_t)n;
	t->text[t->len] = 0;
	return true;
}

static void tty_wait_for(struct tty_run *t, const char *what)
{
	/* bounded, so that a program that never gets there fails the test instead of hanging it */
	for (int i = 0; i < 300 && !strstr(t->text, what); i++)
		tty_read_more(t, 100);
	if (!strstr(t->text, what))
		fail_msg("the terminal never showed '%s'; it showed: %s", what, t->text);
}

static void tty_type(struct tty_run *t, const char *keys)
{
	if (write(t->master, keys, strlen(keys)) != (ssize_t)strlen(keys))
		fail_msg("cannot type on the terminal: %s", strerror(errno));
}

/* tty_status takes the program's next wait status. */
static int tty_status(struct tty_run *t)
{
	int st = -1;
	if (t->reports >= 0) {
		if (read(t->reports, &st, sizeof st) != sizeof st)
			fail_msg("the shell reported no status");
	} else if (waitpid(t->pid, &st, 0) != t->pid) {
		fail_msg("waitpid: %s", strerror(errno));
	}
	if (t->nstatuses < 4)
		t->statuses[t->nstatuses++] = st;
	return st;
}

static void exec_program(const char *mode, char *const envp[])
{
	char *const argv[] = {(char *)h_workload("signal_paths"), (char *)mode, NULL};
	execve(argv[0], argv, envp);
	_exit(127);
}

/* job_shell runs in the forked child that leads the session (job shape); it never returns. */
static void job_shell(int tty, int report, bool foreground, const char *mode, char *const envp[])
{
	signal(SIGTTOU, SIG_IGN); /* a shell hands the terminal on from the background */
	pid_t job = fork();
	if (job == 0) {
		setpgid(0, 0);
		if (foreground)
			tcsetpgrp(tty, getpid());
		signal(SIGTTOU, SIG_DFL);
		dup2(tty, 0), dup2(tty, 1), dup2(tty, 2);
		exec_program(mode, envp);
	}
	setpgid(job, job);
	if (foreground)
		tcsetpgrp(tty, job);
	for (;;) {
		int st;
		if (waitpid(job, &st, WUNTRACED) != job)
			_exit(1);
		if (write(report, &st, sizeof st) != sizeof st)
			_exit(1);
		if (!WIFSTOPPED(st))
			_exit(0);
		tcsetpgrp(tty, job); /* fg */
		kill(-job, SIGCONT);
	}
}

/* tty_start starts signal_paths MODE on a new pseudo-terminal and waits until it is ready. */
static void tty_start(struct tty_run *t, bool traced, bool job, bool foreground, const char *mode)
{
	memset(t, 0, sizeof *t);
	t->reports = -1;
	h_fmt(t->dir, sizeof t->dir, "%s", h_tmpdir());
	char *envp[512];
	h_child_env(envp, traced ? h_trace_env(t->dir, NULL) : NULL);
	char slave[PATH_MAX];
	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0 || grantpt(t->master) != 0 || unlockpt(t->master) != 0 ||
	    ptsname_r(t->master, slave, sizeof slave) != 0)
		fail_msg("cannot open a pseudo-terminal: %s", strerror(errno));
	int pipefd[2] = {-1, -1};
	if (job && pipe2(pipefd, O_CLOEXEC) != 0)
		fail_msg("pipe: %s", strerror(errno));
	t->pid = fork();
	if (t->pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (t->pid == 0) {
		int tty;
		if (setsid() < 0 || (tty = open(slave, O_RDWR | O_CLOEXEC)) < 0)
			_exit(126); /* the first terminal a session leader opens becomes its own */
		if (job)
			job_shell(tty, pipefd[1], foreground, mode, envp);
		dup2(tty, 0), dup2(tty, 1), dup2(tty, 2);
		exec_program(mode, envp);
	}
	if (job) {
		close(pipefd[1]);
		t->reports = pipefd[0];
	}
	tty_wait_for(t, "ready\r\n");
}

/* tty_finish takes the program's last status (a killed run's at once; a stopped one was taken
 * by the caller), reads what the terminal shows until its end and closes it. */
static void tty_finish(struct tty_run *t)
{
	int st = tty_status(t);
	if (WIFSTOPPED(st))
		fail_msg("the program is still stopped");
	while (tty_read_more(t, 2000))
		;
	if (t->reports >= 0) {
		waitpid(t->pid, NULL, 0);
		close(t->reports);
	}
	if (t->master >= 0)
		close(t->master);
}

/* tty_compare asserts the traced terminal run t ended as plain did: statuses, what the terminal
 * showed, and one complete trace of the program. */
static void tty_compare(struct tty_run *t, struct tty_run *plain, const char *what)
{
	if (t->nstatuses != plain->nstatuses)
		fail_msg("%s: %d statuses traced, %d untraced", what, t->nstatuses, plain->nstatuses);
	for (int i = 0; i < t->nstatuses; i++)
		if (t->statuses[i] != plain->statuses[i])
			fail_msg("%s: wait status %d: 0x%x traced, 0x%x untraced; the terminal showed: %s",
				 what, i, t->statuses[i], plain->statuses[i], t->text);
	if (strcmp(t->text, plain->text) != 0)
		fail_msg("%s: the terminal showed, traced:\n%s\nuntraced:\n%s", what, t->text,
			 plain->text);
	char paths[4][PATH_MAX];
	if (h_find_traces(t->dir, paths, 4) != 1)
		fail_msg("%s: expected 1 trace file in %s", what, t->dir);
	struct h_summary s;
	check_trace(paths[0], &s);
	if (s.my_allocs < KEPT)
		fail_msg("%s: %llu allocations in the trace", what, (unsigned long long)s.my_allocs);
}

/* A key that makes the terminal signal the foreground job: Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT). */
static void key_kills(const char *key, int sig, const char *what)
{
	struct tty_run plain, t;
	for (int traced = 0; traced < 2; traced++) {
		struct tty_run *run = traced ? &t : &plain;
		tty_start(run, traced, false, true, "tty_loop");
		tty_type(run, key);
		tty_finish(run);
	}
	if (!WIFSIGNALED(plain.statuses[0]) || WTERMSIG(plain.statuses[0]) != sig)
		fail_msg("%s untraced: wait status 0x%x", what, plain.statuses[0]);
	tty_compare(&t, &plain, what);
}

static void test_tty_ctrl_c(void **state)
{
	key_kills("\x03", SIGINT, "Ctrl-C");
}

static void test_tty_ctrl_backslash(void **state)
{
	key_kills("\x1c", SIGQUIT, "Ctrl-\\");
}

/* The terminal goes away (its master side is closed): the session leader gets SIGHUP. */
static void test_tty_hangup(void **state)
{
	struct tty_run plain, t;
	for (int traced = 0; traced < 2; traced++) {
		struct tty_run *run = traced ? &t : &plain;
		tty_start(run, traced, false, true, "tty_loop");
		close(run->master);
		run->master = -1;
		tty_finish(run);
	}
	if (!WIFSIGNALED(plain.statuses[0]) || WTERMSIG(plain.statuses[0]) != SIGHUP)
		fail_msg("hangup untraced: wait status 0x%x", plain.statuses[0]);
	tty_compare(&t, &plain, "hangup");
}

/* stopped_then_resumed runs tty_read as a job: it stops (by Ctrl-Z in the foreground, or by
 * reading from the background), is resumed like fg does, reads a typed line and exits 0. */
static void stopped_then_resumed(bool foreground, int stop_sig, const char *what)
{
	struct tty_run plain, t;
	for (int traced = 0; traced < 2; traced++) {
		struct tty_run *run = traced ? &t : &plain;
		tty_start(run, traced, true, foreground, "tty_read");
		if (foreground)
			tty_type(run, "\x1a");
		int st = tty_status(run);
		if (!WIFSTOPPED(st) || WSTOPSIG(st) != stop_sig)
			fail_msg("%s %s: wait status 0x%x, expected stopped by %d", what,
				 traced ? "traced" : "untraced", st, stop_sig);
		tty_type(run, "go\n");
		tty_finish(run);
	}
	if (!WIFEXITED(plain.statuses[1]) || WEXITSTATUS(plain.statuses[1]) != 0)
		fail_msg("%s untraced: wait status 0x%x", what, plain.statuses[1]);
	tty_compare(&t, &plain, what);
	assert_non_null(strstr(t.text, "read=go"));
}

static void test_tty_ctrl_z_and_fg(void **state)
{
	stopped_then_resumed(true, SIGTSTP, "Ctrl-Z");
}

static void test_tty_background_read(void **state)
{
	stopped_then_resumed(false, SIGTTIN, "background read");
}

/* A resized window sends SIGWINCH to the foreground job, whose default ignores it. */
static void test_tty_resize(void **state)
{
	struct tty_run plain, t;
	for (int traced = 0; traced < 2; traced++) {
		struct tty_run *run = traced ? &t : &plain;
		tty_start(run, traced, false, true, "tty_read");
		struct winsize ws = {.ws_row = 40, .ws_col = 100};
		if (ioctl(run->master, TIOCSWINSZ, &ws) != 0)
			fail_msg("TIOCSWINSZ: %s", strerror(errno));
		tty_type(run, "go\n");
		tty_finish(run);
	}
	if (!WIFEXITED(plain.statuses[0]) || WEXITSTATUS(plain.statuses[0]) != 0)
		fail_msg("resize untraced: wait status 0x%x", plain.statuses[0]);
	tty_compare(&t, &plain, "resize");
}

int main(void)
{
	/* SIGQUIT, SIGXCPU and the others dump core by default: no core files */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	enum { NDEATHS = sizeof deaths / sizeof deaths[0] };
	enum { NFIXED = 9 };
	struct CMUnitTest tests[NDEATHS + NFIXED] = {
		cmocka_unit_test(test_death_during_generation_end),
		cmocka_unit_test(test_vfork_child_dies),
		cmocka_unit_test(test_ignored_by_default),
		cmocka_unit_test(test_tty_ctrl_c),
		cmocka_unit_test(test_tty_ctrl_backslash),
		cmocka_unit_test(test_tty_hangup),
		cmocka_unit_test(test_tty_ctrl_z_and_fg),
		cmocka_unit_test(test_tty_background_read),
		cmocka_unit_test(test_tty_resize),
	};
	for (size_t i = 0; i < NDEATHS; i++)
		tests[NFIXED + i] = (struct CMUnitTest){deaths[i].name, test_death, NULL, NULL,
						   (void *)&deaths[i]};
	return h_finish(_cmocka_run_group_tests("signals", tests, NDEATHS + NFIXED, NULL, NULL));
}
