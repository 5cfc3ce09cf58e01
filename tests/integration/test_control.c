/* test_control.c: integration tests of tracing switched from outside: `xtrace ctl PID
 * start|stop|snapshot|status` on a running process (tests/workloads/commanded.c, which
 * allocates and frees as told on stdin), XTRACE_START=stopped, the trace of a process switched
 * off and on read as such (frees of objects allocated while recording was off are no errors),
 * the control socket of a fork child, one that survives a program closing every descriptor,
 * and who may drive it: as root, a process that dropped its privileges (setpriv) is driven by
 * root, never by another user. Then the flight recorder (XTRACE_FLIGHT): a churning program's
 * trace and snapshots stay within the setting and its memory within a bound, a snapshot ends
 * where it was asked for, and SIGTERM leaves the final trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <time.h>

#include "harness.h"

/* A commanded process running under the shim, its stdin and stdout piped to the test. */
struct proc {
	pid_t pid;
	int in, out;
	char dir[PATH_MAX];
};

/* launch runs prefix (a command line that ends by running the program, e.g. setpriv ...; or
 * none) then prog, traced with env, in dir, its stdin and stdout piped to the test. */
static void launch(struct proc *p, const char *dir, char *const prefix[], char *const prog[],
		   const char *const env[])
{
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	h_fmt(p->dir, sizeof p->dir, "%s", dir);
	/* Behind a prefix, its last command (env) preloads the shim, for the program alone. */
	const char *const *tenv = h_trace_env(p->dir, env);
	char *argv[32], *envp[512];
	size_t n = 0;
	for (size_t i = 0; prefix && prefix[i]; i++)
		argv[n++] = prefix[i];
	if (prefix)
		argv[n++] = (char *)tenv[0]; /* LD_PRELOAD=... */
	for (size_t i = 0; prog[i]; i++)
		argv[n++] = prog[i];
	argv[n] = NULL;
	h_child_env(envp, prefix ? tenv + 1 : tenv);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	posix_spawn_file_actions_addchdir_np(&fa, p->dir);
	int rc = posix_spawn(&p->pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	assert_int_equal(rc, 0);
	p->in = in[1];
	p->out = out[0];
}

/* start_in launches commanded and waits for its "ready". */
static void start_in(struct proc *p, const char *dir, char *const prefix[], const char *const env[])
{
	launch(p, dir, prefix, H_ARGV((char *)h_workload("commanded")), env);
	char line[64];
	size_t k = 0;
	while (k < sizeof line - 1 && read(p->out, line + k, 1) == 1 && line[k] != '\n')
		k++;
	line[k] = 0;
	if (strcmp(line, "ready") != 0) {
		int st = 0;
		waitpid(p->pid, &st, 0);
		fail_msg("commanded did not start: '%s', wait status 0x%x", line, st);
	}
}

static void start(struct proc *p, const char *const env[])
{
	start_in(p, h_tmpdir(), NULL, env);
}

/* say sends one command and returns the answer line (static buffer). */
static const char *say(struct proc *p, const char *cmd)
{
	static char line[64];
	char buf[80];
	h_fmt(buf, sizeof buf, "%s\n", cmd);
	assert_int_equal(write(p->in, buf, strlen(buf)), (ssize_t)strlen(buf));
	size_t k = 0;
	while (k < sizeof line - 1 && read(p->out, line + k, 1) == 1 && line[k] != '\n')
		k++;
	line[k] = 0;
	return line;
}

/* finish tells the process to exit and waits for it; it must exit 0. */
static void finish(struct proc *p)
{
	say(p, "exit");
	close(p->in);
	close(p->out);
	int st;
	assert_int_equal(waitpid(p->pid, &st, 0), p->pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("commanded ended with wait status 0x%x", st);
}

/* ctl runs `xtrace ctl pid what` (prefixed by prefix, e.g. setpriv as another user), asserts
 * its exit code is want (unless want is -1), and returns its stdout and stderr together (tracked). */
static char *ctl(char *const prefix[], pid_t pid, const char *what, int want)
{
	char spid[32];
	h_fmt(spid, sizeof spid, "%ld", (long)pid);
	char *argv[32];
	size_t n = 0;
	for (size_t i = 0; prefix && prefix[i]; i++)
		argv[n++] = prefix[i];
	argv[n++] = (char *)h_cli_path();
	argv[n++] = "ctl";
	argv[n++] = spid;
	argv[n++] = (char *)what;
	argv[n] = NULL;
	struct h_run r;
	if (h_spawn(&r, h_tmpdir(), argv, NULL) != 0)
		fail_msg("cannot run xtrace ctl");
	int rc = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : 128 + WTERMSIG(r.status);
	if (want >= 0 && rc != want)
		fail_msg("xtrace ctl %s %s: exit %d, expected %d\nstdout: %s\nstderr: %s", spid, what,
			 rc, want, r.out, r.err);
	size_t len = strlen(r.out) + strlen(r.err) + 1;
	char *both = h_track(malloc(len));
	h_fmt(both, len, "%s%s", r.out, r.err);
	h_run_free(&r);
	return both;
}

static void expect_in(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("expected '%s' in: %s", what, text);
}

/* trace_of returns the trace of process pid in dir. */
static void trace_of(const struct proc *p, char path[PATH_MAX])
{
	h_fmt(path, PATH_MAX, "%s/t.%ld.xt", p->dir, (long)p->pid);
}

/* Started switched off, switched on and off and on again: the objects allocated while off and
 * freed while on are unrecorded frees, no errors; only what was done while on is recorded. */
static void test_switched(void **state)
{
	(void)state;
	struct proc p;
	start(&p, (const char *const[]){"XTRACE_START=stopped", "XTRACE_GEN_MS=50", NULL});
	assert_string_equal(say(&p, "alloc 1000"), "ok"); /* off */
	expect_in(ctl(NULL, p.pid, "status", 0), "stopped");
	expect_in(ctl(NULL, p.pid, "start", 0), "recording");
	expect_in(ctl(NULL, p.pid, "status", 0), "recording");
	assert_string_equal(say(&p, "free"), "ok");       /* 1000 unrecorded frees */
	assert_string_equal(say(&p, "alloc 500"), "ok");  /* recorded */
	assert_string_equal(say(&p, "free"), "ok");
	assert_string_equal(say(&p, "alloc 700"), "ok");  /* recorded, freed while off */
	expect_in(ctl(NULL, p.pid, "stop", 0), "stopped");
	assert_string_equal(say(&p, "free"), "ok");
	assert_string_equal(say(&p, "alloc 300"), "ok");  /* off, on the addresses just freed */
	expect_in(ctl(NULL, p.pid, "start", 0), "recording");
	/* 300 frees of addresses allocated while off; in the trace they are frees of the objects
	 * recorded there before the stop (the 700), which are no errors either */
	assert_string_equal(say(&p, "free"), "ok");
	finish(&p);

	char path[PATH_MAX];
	trace_of(&p, path);
	struct h_run v;
	int rc = h_cli(&v, H_ARGV("validate", path));
	if (rc != 0)
		fail_msg("validate %s: exit %d\n%s%s", path, rc, v.out, v.err);
	expect_in(v.out, "2 gaps in the recording");
	char *js = h_stats_json(path, 0);
	uint64_t unrecorded = h_json_u64(js, "unrecorded_frees"), allocs = h_json_u64(js, "allocs");
	if (unrecorded < 1000 || unrecorded >= 1000 + 300 || allocs < 1200 || allocs >= 1200 + 300)
		fail_msg("%s: %llu allocations (1200 recorded), %llu unrecorded frees (1000)\n%s",
			 path, (unsigned long long)allocs, (unsigned long long)unrecorded, js);
	h_free(js);
	/* the socket goes with the process */
	char sock[PATH_MAX];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && xdg[0] == '/')
		h_fmt(sock, sizeof sock, "%s/xtrace/%ld.sock", xdg, (long)p.pid);
	else
		h_fmt(sock, sizeof sock, "/tmp/xtrace-%lu/%ld.sock", (unsigned long)geteuid(),
		      (long)p.pid);
	if (access(sock, F_OK) == 0)
		fail_msg("%s is still there after the process exited", sock);
}

/* A snapshot of a recording process closes the generation and names the trace, which then
 * holds complete generations only. */
static void test_snapshot_names_trace(void **state)
{
	(void)state;
	struct proc p;
	start(&p, NULL);
	assert_string_equal(say(&p, "alloc 100"), "ok");
	char *out = ctl(NULL, p.pid, "snapshot", 0), path[PATH_MAX], *nl = strchr(out, '\n');
	trace_of(&p, path);
	if (nl)
		*nl = 0;
	assert_string_equal(out, path);
	h_validate(path);
	finish(&p);
	h_validate(path);
}

/* A fork child answers on a socket of its own; both survive the program closing every
 * descriptor it has (a daemon), and the trace does too. */
static void test_fork_child_and_closeall(void **state)
{
	(void)state;
	struct proc p;
	start(&p, NULL);
	assert_string_equal(say(&p, "closeall"), "ok");
	char want[64];
	h_fmt(want, sizeof want, "pid %ld: recording", (long)p.pid);
	expect_in(ctl(NULL, p.pid, "status", 0), want);
	const char *ans = say(&p, "fork");
	long child = strncmp(ans, "child ", 6) == 0 ? atol(ans + 6) : 0;
	assert_true(child > 0);
	/* the child's thread makes its socket when it starts tracing, at its first allocation */
	char *st = NULL;
	for (int i = 0; i < 100; i++) {
		struct h_run r;
		char spid[32];
		h_fmt(spid, sizeof spid, "%ld", child);
		if (h_cli(&r, H_ARGV("ctl", spid, "status")) == 0) {
			st = h_track(strdup(r.out));
			break;
		}
		usleep(20000);
	}
	if (!st)
		fail_msg("the fork child %ld has no control socket", child);
	h_fmt(want, sizeof want, "pid %ld: recording", child);
	expect_in(st, want);
	expect_in(ctl(NULL, child, "stop", 0), "stopped");
	h_fmt(want, sizeof want, "pid %ld: recording", (long)p.pid);
	expect_in(ctl(NULL, p.pid, "status", 0), want); /* the parent's is its own */
	char stop[PATH_MAX];
	h_fmt(stop, sizeof stop, "%s/child-stop", p.dir);
	assert_int_equal(h_write_file(stop, "", 0), 0);
	finish(&p);
	char path[PATH_MAX];
	trace_of(&p, path);
	h_validate(path);
	h_fmt(path, sizeof path, "%s/t.%ld.xt", p.dir, child);
	h_validate(path);
}

/* As root: a traced process that dropped its privileges (setpriv to nobody) is controlled by
 * root; another user is refused, even when the socket's directory and mode let it connect
 * (the peer's credentials decide). */
static void test_other_user_refused(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
		fprintf(stderr, "not root, or no setpriv: the other-user test needs both\n");
		skip();
	}
	char *const as_nobody[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
				   "--clear-groups", "/usr/bin/env", "-u", "XDG_RUNTIME_DIR", NULL};
	char *const as_other[] = {"/usr/bin/setpriv", "--reuid=65533", "--regid=65533",
				  "--clear-groups", "/usr/bin/env", "-u", "XDG_RUNTIME_DIR", NULL};
	/* the traced process writes its trace as nobody: its directory must let it */
	char work[PATH_MAX], root[PATH_MAX], dir[PATH_MAX], sock[PATH_MAX];
	h_fmt(work, sizeof work, "%s", h_tmpdir());
	h_fmt(root, sizeof root, "%s", work);
	*strrchr(root, '/') = 0;
	assert_int_equal(chmod(work, 0777), 0);
	assert_int_equal(chmod(root, 0711), 0);
	struct proc p;
	start_in(&p, work, as_nobody, NULL);
	char want[64];
	h_fmt(want, sizeof want, "pid %ld: recording", (long)p.pid);
	expect_in(ctl(NULL, p.pid, "status", 0), want); /* root may */
	expect_in(ctl(as_other, p.pid, "stop", 1), "only its user or root");
	/* Open the way to the socket: the shim itself must refuse. */
	h_fmt(dir, sizeof dir, "/tmp/xtrace-65534");
	h_fmt(sock, sizeof sock, "%s/%ld.sock", dir, (long)p.pid);
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(chmod(sock, 0666), 0);
	char *out = ctl(as_other, p.pid, "stop", -1);
	chmod(sock, 0600);
	chmod(dir, 0700); /* else the next process of nobody's finds it open, and makes no socket */
	expect_in(out, "refused");
	expect_in(ctl(NULL, p.pid, "status", 0), want); /* still recording */
	finish(&p);
	char path[PATH_MAX];
	trace_of(&p, path);
	h_validate(path);
}

/* ---- the flight recorder ------------------------------------------------------------------ */

#define FLIGHT_MIB 16
#define FLIGHT_GEN_MS 250
static const char *const flight_env[] = {"XTRACE_FLIGHT=16", "XTRACE_GEN_MS=250", NULL};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* churn_until_dropped launches churn (two threads churning for up to a minute) with the flight
 * recorder and returns once the recorder has dropped drops generations (its status says). */
static void churn_until_dropped(struct proc *p, unsigned drops)
{
	launch(p, h_tmpdir(), NULL, H_ARGV((char *)h_workload("churn"), "60000"), flight_env);
	for (int i = 0; i < 300; i++) {
		usleep(200000);
		const char *st = ctl(NULL, p->pid, "status", 0), *d = strstr(st, "MiB; ");
		if (!d)
			fail_msg("no flight recorder in the status: %s", st);
		if (strtoull(d + 5, NULL, 10) >= drops)
			return;
	}
	fail_msg("the flight recorder dropped no generation in a minute");
}

/* A trace's extent: its first and last generation, when the last began, its last event (a
 * timed one), and how the image ended (ProcessEnd's arguments; 0 without one). */
struct extent {
	uint64_t first_gen, last_gen, last_sync_ns, last_event_ns, end_how, end_status;
};

static void extent_of(const char *path, struct extent *x)
{
	memset(x, 0, sizeof *x);
	char err[256];
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	if (!r)
		fail_msg("%s: %s", path, err);
	struct xtrace_event ev;
	int rc;
	while ((rc = xtrace_next(r, &ev)) == 1) {
		if (ev.kind == XTRACE_EVENT_SYNC) {
			if (!x->first_gen)
				x->first_gen = ev.gen;
			x->last_gen = ev.gen;
			x->last_sync_ns = ev.ts;
			continue;
		}
		if (ev.ts > x->last_event_ns)
			x->last_event_ns = ev.ts;
		if (!strcmp(ev.name, "ProcessEnd")) {
			x->end_how = ev.args[0];
			x->end_status = ev.args[1];
		}
	}
	if (rc != 0)
		fail_msg("%s: reading stopped: %s", path, xtrace_error(r));
	xtrace_close(r);
}

/* within_setting: the file is a trace no bigger than XTRACE_FLIGHT. */
static void within_setting(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	if (st.st_size <= 0 || st.st_size > (off_t)FLIGHT_MIB << 20)
		fail_msg("%s: %lld bytes, XTRACE_FLIGHT=%d MiB", path, (long long)st.st_size,
			 FLIGHT_MIB);
}

/* A churning program killed by SIGTERM once the recorder has dropped generations: the trace is
 * the kept generations, within the setting, ending with the signal; its peak RSS is within
 * untraced + 32 MiB. */
static void test_flight_sigterm(void **state)
{
	(void)state;
	struct h_run u;
	h_plain(&u, H_ARGV((char *)h_workload("churn"), "1000"));
	h_expect_exit(&u, 0);
	uint64_t untraced_kib = h_out_u64(u.out, "churn ", "maxrss_kib");
	struct proc p;
	churn_until_dropped(&p, 2);
	assert_int_equal(kill(p.pid, SIGTERM), 0);
	int st;
	struct rusage ru;
	assert_int_equal(wait4(p.pid, &st, 0, &ru), p.pid);
	close(p.in);
	close(p.out);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
		fail_msg("churn: wait status 0x%x, not killed by SIGTERM", st);
	char path[PATH_MAX];
	trace_of(&p, path);
	within_setting(path);
	h_validate(path);
	struct extent x;
	extent_of(path, &x);
	if (x.first_gen < 2 || x.end_how != 2 || x.end_status != SIGTERM)
		fail_msg("%s: generations %llu..%llu, end how %llu status %llu", path,
			 (unsigned long long)x.first_gen, (unsigned long long)x.last_gen,
			 (unsigned long long)x.end_how, (unsigned long long)x.end_status);
	if (!getenv("XTRACE_TEST_SANITIZED") && (uint64_t)ru.ru_maxrss > untraced_kib + (32u << 10))
		fail_msg("peak RSS %ld KiB traced with XTRACE_FLIGHT=%d, %llu untraced", ru.ru_maxrss,
			 FLIGHT_MIB, (unsigned long long)untraced_kib);
}

/* A snapshot asked for while the program churns is a trace of its own, within the setting,
 * that validates and whose last generation ends within one generation of the request; the
 * trace written at exit is the same kind. */
static void test_flight_snapshot(void **state)
{
	(void)state;
	struct proc p;
	churn_until_dropped(&p, 1);
	uint64_t asked = now_ns();
	char *snap = ctl(NULL, p.pid, "snapshot", 0), *nl = strchr(snap, '\n');
	uint64_t answered = now_ns();
	if (nl)
		*nl = 0;
	char stop[PATH_MAX];
	h_fmt(stop, sizeof stop, "%s/churn-stop", p.dir);
	assert_int_equal(h_write_file(stop, "", 0), 0);
	int st;
	assert_int_equal(waitpid(p.pid, &st, 0), p.pid);
	close(p.in);
	close(p.out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("churn: wait status 0x%x", st);

	within_setting(snap);
	h_validate(snap);
	struct extent x;
	extent_of(snap, &x);
	uint64_t gen_ns = FLIGHT_GEN_MS * 1000000ull;
	if (x.first_gen < 2 || x.last_event_ns > answered || x.last_event_ns + gen_ns < asked)
		fail_msg("%s: generations %llu..%llu, the last event %lld ms after the request "
			 "(answered after %llu ms)", snap, (unsigned long long)x.first_gen,
			 (unsigned long long)x.last_gen,
			 (long long)((int64_t)(x.last_event_ns - asked) / 1000000),
			 (unsigned long long)((answered - asked) / 1000000));
	char path[PATH_MAX];
	trace_of(&p, path);
	within_setting(path);
	h_validate(path);
	extent_of(path, &x);
	if (x.first_gen < 2 || x.end_how != 1)
		fail_msg("%s: generations %llu..%llu, end how %llu", path,
			 (unsigned long long)x.first_gen, (unsigned long long)x.last_gen,
			 (unsigned long long)x.end_how);
}

/* A generation that would outgrow the ring ends early instead (here the program churns for
 * longer than the ring holds and ends long before the generation would): the trace written at
 * exit has complete generations, within the setting. */
static void test_flight_long_generation(void **state)
{
	(void)state;
	struct h_run r;
	h_traced(&r, (const char *const[]){"XTRACE_FLIGHT=4", "XTRACE_GEN_MS=600000", NULL},
		 H_ARGV((char *)h_workload("churn"), "2000"));
	h_expect_exit(&r, 0);
	char path[PATH_MAX];
	h_one_trace(&r, path);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	if (st.st_size > 4 << 20)
		fail_msg("%s: %lld bytes, XTRACE_FLIGHT=4", path, (long long)st.st_size);
	h_validate(path);
	struct extent x;
	extent_of(path, &x);
	if (x.first_gen < 2 || x.end_how != 1)
		fail_msg("%s: generations %llu..%llu, end how %llu", path,
			 (unsigned long long)x.first_gen, (unsigned long long)x.last_gen,
			 (unsigned long long)x.end_how);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switched),
		cmocka_unit_test(test_snapshot_names_trace),
		cmocka_unit_test(test_fork_child_and_closeall),
		cmocka_unit_test(test_other_user_refused),
		cmocka_unit_test(test_flight_sigterm),
		cmocka_unit_test(test_flight_snapshot),
		cmocka_unit_test(test_flight_long_generation),
	};
	return h_finish(cmocka_run_group_tests_name("control", tests, NULL, NULL));
}
