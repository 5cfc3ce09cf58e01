/* test_faults.c: the shim under faults and stress (workload tests/workloads/faults.c): kill -9 in
 * the middle of a run, fork while other threads allocate, fork in a loop, vfork and
 * posix_spawn, exec, dlopen/dlclose in a loop, thousands of threads, allocations beyond the
 * address space, a disk that fills up, and trace file creation (mode 0600, never through a
 * symlink). Each test checks that the program ran as it does untraced and that every trace it
 * left reads back complete (or, after a kill or a full disk, every generation before it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>

#include "harness.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* run_both runs argv untraced and traced (extra: more shim variables) and asserts the same
 * stdout and wait status; the traced run is left in *r. */
static void run_both(struct h_run *r, const char *const extra[], char *const argv[])
{
	struct h_run plain;
	h_plain(&plain, argv);
	h_traced(r, extra, argv);
	if (r->status != plain.status)
		fail_msg("%s: wait status 0x%x traced, 0x%x untraced; stderr: %s", argv[0], r->status,
			 plain.status, r->err);
	assert_string_equal(r->out, plain.out);
	h_run_free(&plain);
}

/* stats_exit runs `xtrace stats --json path` and returns its exit code; *gens gets the
 * "generations" it reports. */
static int stats_exit(const char *path, uint64_t *gens)
{
	struct h_run c;
	int rc = h_cli(&c, H_ARGV("stats", "--json", (char *)path));
	*gens = (rc == 0 || rc == 3) ? h_json_u64(c.out, "generations") : 0;
	h_run_free(&c);
	return rc;
}

/* validate_exit runs `xtrace validate path`, asserts it reported no error, returns its exit. */
static int validate_exit(const char *path)
{
	struct h_run c;
	int rc = h_cli(&c, H_ARGV("validate", (char *)path));
	if (strncmp(c.out, "valid: ", 7) != 0)
		fail_msg("xtrace validate %s: exit %d\nstdout: %s\nstderr: %s", path, rc, c.out, c.err);
	h_run_free(&c);
	return rc;
}

/* trace_of returns the index of the trace (among paths) whose header has pid, or fails. */
static size_t trace_of(char paths[][PATH_MAX], size_t n, uint64_t pid, const char *exe)
{
	size_t found = n;
	for (size_t i = 0; i < n; i++) {
		char err[256];
		xtrace_reader *rd = xtrace_open(paths[i], err, sizeof err);
		if (!rd)
			fail_msg("xtrace_open %s: %s", paths[i], err);
		const struct xtrace_header *h = xtrace_get_header(rd);
		if (h->pid == pid && !strcmp(h_basename(h->exe), exe)) {
			if (found != n)
				fail_msg("two traces of pid %llu running %s", (unsigned long long)pid, exe);
			found = i;
		}
		xtrace_close(rd);
	}
	if (found == n)
		fail_msg("no trace of pid %llu running %s", (unsigned long long)pid, exe);
	return found;
}

/* ---- kill -9 ------------------------------------------------------------------------------ */

/* The process is stopped once its file holds 3 complete generations, they are counted, and it
 * is killed with SIGKILL while stopped: the file after the kill is the file that was counted, so
 * the reader must give back exactly those generations and find nothing wrong in them. Each
 * generation is written whole, in one write: the file ends at a generation's end (exit 0), or
 * inside one only where a write was cut (exit 3, the truncation said). */
static void test_kill9_keeps_complete_generations(void **state)
{
	const char *dir = h_tmpdir();
	const char *const extra[] = { "XTRACE_GEN_MS=50", NULL };
	const char *const *env = h_trace_env(dir, extra);
	char *envp[512];
	size_t ne = 0;
	for (char **e = environ; *e && ne < 400; e++)
		if (strncmp(*e, "XTRACE_", 7) && strncmp(*e, "LD_PRELOAD=", 11))
			envp[ne++] = *e;
	for (size_t i = 0; env[i]; i++)
		envp[ne++] = (char *)env[i];
	envp[ne] = NULL;
	char *const argv[] = { (char *)h_workload("faults"), "churn", "100000000", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);

	char trace[PATH_MAX];
	h_fmt(trace, sizeof trace, "%s/t.%d.xt", dir, (int)pid);
	uint64_t gens = 0;
	int killed = 0, st, seen = -1;
	for (int attempt = 0; attempt < 2000 && !killed; attempt++) {
		struct timespec pause = { 0, 30 * 1000000 };
		nanosleep(&pause, NULL);
		kill(pid, SIGSTOP);
		assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
		if (!WIFSTOPPED(st))
			fail_msg("the workload ended before it was killed: wait status 0x%x", st);
		seen = stats_exit(trace, &gens);
		if ((seen == 0 || seen == 3) && gens >= 3) {
			kill(pid, SIGKILL);
			killed = 1;
		} else {
			kill(pid, SIGCONT);
		}
	}
	if (!killed) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("the trace never held 3 complete generations");
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	uint64_t after;
	assert_int_equal(stats_exit(trace, &after), seen);
	assert_int_equal(after, gens);
	assert_int_equal(validate_exit(trace), seen);
	struct h_summary s = { .focus = "faults" };
	assert_int_equal(h_summarize(trace, &s), seen ? -1 : 0);
	if (seen)
		assert_int_equal(s.status, XTRACE_ERR_TRUNCATED);
	assert_int_equal(s.gens, gens);
	assert_int_equal(s.lost, 0);
	assert_int_equal(s.shim_allocs, 0);
	assert_true(s.my_allocs > 0);
}

/* ---- fork, spawn, exec ------------------------------------------------------------------- */

/* check_fork_children: every trace but the parent's is a forked child's with exactly its own
 * allocations (want(i) for the child whose fork was the i-th) and one free of an inherited
 * block; every trace validates. */
static void check_forks(struct h_run *r, size_t nforks, int (*want)(size_t k))
{
	char (*paths)[PATH_MAX] = h_track(malloc(256 * PATH_MAX));
	size_t n = h_find_traces(r->dir, paths, 256);
	if (n != nforks + 1)
		fail_msg("expected %zu traces (parent and %zu children), found %zu", nforks + 1, nforks,
			 n);
	/* children in fork order: by fork time in their headers */
	uint64_t parent_pid = 0;
	struct kid { uint64_t fork_ts; size_t i; } kids[256];
	size_t nk = 0;
	for (size_t i = 0; i < n; i++) {
		char err[256];
		xtrace_reader *rd = xtrace_open(paths[i], err, sizeof err);
		if (!rd)
			fail_msg("xtrace_open %s: %s", paths[i], err);
		const struct xtrace_header *h = xtrace_get_header(rd);
		if (h->fork_parent_pid) {
			kids[nk].fork_ts = h->fork_ts;
			kids[nk++].i = i;
		} else {
			assert_int_equal(parent_pid, 0);
			parent_pid = h->pid;
		}
		xtrace_close(rd);
		if (validate_exit(paths[i]) != 0)
			fail_msg("%s: xtrace validate failed", paths[i]);
	}
	assert_int_equal(nk, nforks);
	for (size_t a = 1; a < nk; a++)
		for (size_t b = a; b > 0 && kids[b].fork_ts < kids[b - 1].fork_ts; b--) {
			struct kid t = kids[b];
			kids[b] = kids[b - 1];
			kids[b - 1] = t;
		}
	for (size_t k = 0; k < nk; k++) {
		struct h_summary s = { .focus = "faults" };
		h_summarize_clean(paths[kids[k].i], &s);
		assert_int_equal(s.fork_parent_pid, parent_pid);
		if (s.my_allocs != (uint64_t)want(k) || s.my_frees != (uint64_t)want(k) ||
		    s.unknown_frees != 1)
			fail_msg("%s (fork %zu): %llu allocs, %llu frees, %llu frees of unknown blocks; "
				 "expected %d, %d, 1",
				 paths[kids[k].i], k, (unsigned long long)s.my_allocs,
				 (unsigned long long)s.my_frees, (unsigned long long)s.unknown_frees, want(k),
				 want(k));
		char *js = h_stats_json(paths[kids[k].i], 0);
		assert_int_equal(h_json_u64(js, "inherited_frees"), 1);
		h_free(js);
	}
	h_free(paths);
}

static int five(size_t k)
{
	return 5;
}

/* Fork while four threads allocate without pause, 100 times: the classic deadlock (a lock
 * held by another thread at the fork stays held in the child forever). The workload's alarm
 * kills a hung process, and a hung child fails its parent. */
static void test_fork_while_threads_allocate(void **state)
{
	struct h_run r;
	run_both(&r, NULL, H_ARGV((char *)h_workload("faults"), "forkthreads", "100"));
	h_expect_exit(&r, 0);
	check_forks(&r, 100, five);
	h_run_free(&r);
}

static int loop_allocs(size_t k)
{
	return (int)(k % 5) + 1;
}

/* 40 forks in a row, the children leaving by exit and _exit in turn. */
static void test_fork_loop(void **state)
{
	struct h_run r;
	run_both(&r, NULL, H_ARGV((char *)h_workload("faults"), "forkloop", "40"));
	h_expect_exit(&r, 0);
	check_forks(&r, 40, loop_allocs);
	h_run_free(&r);
}

/* vfork+execv and posix_spawn: the children's new images write traces of their own; the vfork
 * child, which shares the parent's memory until its exec, must not touch the parent's trace. */
static void test_vfork_and_posix_spawn(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("faults"), "spawn"));
	h_expect_exit(&r, 0);
	char paths[8][PATH_MAX];
	size_t n = h_find_traces(r.dir, paths, 8);
	assert_int_equal(n, 3);
	struct { const char *mode; uint64_t pid; int allocs; } want[] = {
		{ "spawn", (uint64_t)r.pid, 3 },
		{ "vfork", h_out_u64(r.out, "spawn ", "vfork_pid"), 7 },
		{ "posix_spawn", h_out_u64(r.out, "spawn ", "spawn_pid"), 9 },
	};
	for (int k = 0; k < 3; k++) {
		size_t i = trace_of(paths, n, want[k].pid, "faults");
		struct h_summary s = { .focus = "faults" };
		h_summarize_clean(paths[i], &s);
		assert_int_equal(s.fork_parent_pid, 0);
		if (s.my_allocs != (uint64_t)want[k].allocs || s.my_frees != (uint64_t)want[k].allocs ||
		    s.unknown_frees != 0)
			fail_msg("%s trace: %llu allocs, %llu frees, %llu unknown frees; expected %d",
				 want[k].mode, (unsigned long long)s.my_allocs,
				 (unsigned long long)s.my_frees, (unsigned long long)s.unknown_frees,
				 want[k].allocs);
		assert_int_equal(validate_exit(paths[i]), 0);
	}
	h_run_free(&r);
}

/* exec of a helper: the first image's trace is completed before the exec, the helper writes
 * the next numbered file of the same pid. */
static void test_exec_helper(void **state)
{
	struct h_run r;
	run_both(&r, NULL, H_ARGV((char *)h_workload("faults"), "exec"));
	h_expect_exit(&r, 0);
	char paths[4][PATH_MAX];
	assert_int_equal(h_find_traces(r.dir, paths, 4), 2);
	char first[PATH_MAX], second[PATH_MAX];
	h_fmt(first, sizeof first, "%s/t.%d.xt", r.dir, (int)r.pid);
	h_fmt(second, sizeof second, "%s/t.%d.1.xt", r.dir, (int)r.pid);
	struct h_summary a = { .focus = "faults" }, b = { .focus = "faults" };
	h_summarize_clean(first, &a);
	h_summarize_clean(second, &b);
	assert_int_equal(a.pid, (uint64_t)r.pid);
	assert_int_equal(b.pid, (uint64_t)r.pid);
	assert_int_equal(a.my_allocs, 3);
	assert_int_equal(a.my_frees, 1);
	assert_int_equal(a.my_live_end, 2);
	assert_int_equal(b.my_allocs, 4);
	assert_int_equal(b.my_frees, 4);
	assert_int_equal(b.unknown_frees, 0);
	assert_int_equal(validate_exit(first), 0);
	assert_int_equal(validate_exit(second), 0);
	h_run_free(&r);
}

/* ---- dlopen, threads -------------------------------------------------------------------- */

/* 50 rounds of dlopen, allocate in the library, dlclose: the module comes and goes at the same
 * address, and every allocation is attributed to it. */
static void test_dlopen_dlclose_loop(void **state)
{
	struct h_run r;
	run_both(&r, NULL, H_ARGV((char *)h_workload("faults"), "dlloop", "50"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct h_summary s = { .focus = "libplugin.so" };
	h_summarize_clean(trace, &s);
	assert_true(h_has_module(&s, "libplugin.so"));
	assert_int_equal(s.my_allocs, 150);
	assert_int_equal(s.my_api[0].bytes, 150 * 4242);
	assert_int_equal(s.my_frees, 150);
	assert_int_equal(s.unknown_frees, 0);
	assert_int_equal(validate_exit(trace), 0);
	h_run_free(&r);
}

struct small_ctx {
	uint64_t allocs;
};

/* counts the 48-byte mallocs whose caller is in the workload (small_thread's) */
static void count_small(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
			const struct xtrace_alloc_type *t, bool mine)
{
	struct small_ctx *c = s->ctx;
	const uint64_t *pcs;
	if (t->api != 0 || t->elem_size != 48 || t->count != 1 || !xtrace_stack(r, ev->args[2], &pcs))
		return;
	const struct xtrace_module *m = xtrace_module_of(r, pcs[0] - 1);
	if (m && !strcmp(h_basename(m->path), "faults"))
		c->allocs++;
}

/* 2000 threads, created and ended in waves of 50: their slots are recycled, nothing is lost. */
static void test_thousands_of_threads(void **state)
{
	struct h_run r;
	run_both(&r, NULL, H_ARGV((char *)h_workload("faults"), "manythreads", "2000"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct small_ctx c = { 0 };
	/* the focus matches no module: more threads than h_summary tracks one by one */
	struct h_summary s = { .focus = "-", .on_alloc = count_small, .ctx = &c };
	h_summarize_clean(trace, &s);
	assert_int_equal(c.allocs, 6000);
	assert_int_equal(s.unknown_frees, 0);
	assert_int_equal(validate_exit(trace), 0);
	char *js = h_stats_json(trace, 0);
	assert_int_equal(h_json_u64(js, "lost_events"), 0);
	assert_true(h_json_u64(js, "threads") > 1);
	h_free(js);
	h_run_free(&r);
}

/* ---- allocations beyond the address space ---------------------------------------------------- */

#define HUGE_SIZE ((uint64_t)3 << 46)

struct huge_ctx {
	uint64_t n;
	struct { uint8_t api; uint64_t elem, count, align; } failed[16];
};

static void note_failed(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
			const struct xtrace_alloc_type *t, bool mine)
{
	struct huge_ctx *c = s->ctx;
	if (!mine || ev->args[0] != 0 || c->n == 16)
		return;
	c->failed[c->n].api = t->api;
	c->failed[c->n].elem = t->elem_size;
	c->failed[c->n].count = t->count;
	c->failed[c->n++].align = t->align;
}

/* Every API asked for more than the address space: NULL and ENOMEM reach the program (or the
 * error code, for posix_memalign), each call is recorded with address 0 and its exact request,
 * counted as failed, never as a live object; the block a failed realloc kept stays live. */
static void test_huge_allocations_fail(void **state)
{
	struct h_run r;
	/* a sanitizer's allocator reports such requests unless told to return NULL like libc */
	const char *const extra[] = { "ASAN_OPTIONS=allocator_may_return_null=1", NULL };
	h_traced(&r, extra, H_ARGV((char *)h_workload("faults"), "huge"));
	h_expect_exit(&r, 0);
	assert_string_equal(r.out, "huge failed_ok=10 of=10 intact=1\n");
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct huge_ctx c = { 0 };
	struct h_summary s = { .focus = "faults", .on_alloc = note_failed, .ctx = &c };
	h_summarize_clean(trace, &s);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), t40 = (uint64_t)1 << 40;
	struct { uint8_t api; uint64_t elem, count, align; } want[10] = {
		{ 0, HUGE_SIZE, 1, 0 },          /* malloc */
		{ 1, HUGE_SIZE >> 20, 1 << 20, 0 }, /* calloc */
		{ 1, t40, t40, 0 },              /* calloc, overflowing */
		{ 2, HUGE_SIZE, 1, 0 },          /* realloc */
		{ 3, t40, t40, 0 },              /* reallocarray, overflowing */
		{ 4, HUGE_SIZE, 1, 64 },         /* posix_memalign */
		{ 5, HUGE_SIZE, 1, 64 },         /* aligned_alloc */
		{ 6, HUGE_SIZE, 1, 4096 },       /* memalign */
		{ 7, HUGE_SIZE, 1, page },       /* valloc */
		{ 8, HUGE_SIZE, 1, page },       /* pvalloc */
	};
	assert_int_equal(c.n, 10);
	for (int i = 0; i < 10; i++) {
		if (c.failed[i].api != want[i].api || c.failed[i].elem != want[i].elem ||
		    c.failed[i].count != want[i].count || c.failed[i].align != want[i].align)
			fail_msg("failed allocation %d: api %u elem %llu count %llu align %llu; expected "
				 "api %u elem %llu count %llu align %llu",
				 i, c.failed[i].api, (unsigned long long)c.failed[i].elem,
				 (unsigned long long)c.failed[i].count, (unsigned long long)c.failed[i].align,
				 want[i].api, (unsigned long long)want[i].elem,
				 (unsigned long long)want[i].count, (unsigned long long)want[i].align);
	}
	assert_int_equal(s.my_allocs, 11);
	assert_int_equal(s.my_failed, 10);
	assert_int_equal(s.my_frees, 1);
	assert_int_equal(s.my_reallocfrees, 0);
	assert_int_equal(s.my_live_end, 0);
	assert_int_equal(s.unknown_frees, 0);
	assert_int_equal(validate_exit(trace), 0);
	char *js = h_stats_json(trace, 0);
	assert_int_equal(h_json_u64(js, "failed_allocs"), 10);
	/* no failed request reaches the live heap: 3 << 46 bytes would dwarf everything else */
	assert_true(h_json_u64(js, "peak_live_bytes") < HUGE_SIZE);
	assert_true(h_json_u64(js, "alloc_bytes") < HUGE_SIZE);
	h_free(js);
	h_run_free(&r);
}

/* ---- output faults --------------------------------------------------------------------------- */

static char mounted[PATH_MAX];

/* A disk that fills up while the program runs: one line on stderr, the program's output and
 * status unchanged, and the trace holds the generations completed before the disk filled (the
 * one being written is the only loss). Needs permission to mount a small tmpfs; skipped
 * otherwise. */
static void test_disk_full(void **state)
{
	const char *dir = h_tmpdir();
	char mnt[PATH_MAX];
	h_fmt(mnt, sizeof mnt, "%s/small", dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("xtrace-test", mnt, "tmpfs", 0, "size=1m,mode=0700") != 0) {
		fprintf(stderr, "test_disk_full: skipped: cannot mount a tmpfs (%s)\n", strerror(errno));
		skip();
	}
	h_fmt(mounted, sizeof mounted, "%s", mnt);
	char *const argv[] = { (char *)h_workload("faults"), "churn", "3000", NULL };
	struct h_run plain;
	h_plain(&plain, argv);
	char preload[PATH_MAX + 16], out[PATH_MAX + 32];
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());
	h_fmt(out, sizeof out, "XTRACE_OUT=%s/t.xt", mnt);
	/* plain generations: compressed, this trace would fit in the 1 MiB */
	const char *env[] = { preload, out, "XTRACE_GEN_MS=5", "XTRACE_COMPRESS=0", NULL };
	struct h_run r;
	assert_int_equal(h_spawn(&r, dir, argv, env), 0);
	assert_int_equal(r.status, plain.status);
	assert_string_equal(r.out, plain.out);
	if (h_count_lines(r.err) != 1 || !strstr(r.err, "No space left on device"))
		fail_msg("expected one line on stderr about the full disk, got: '%s'", r.err);

	char trace[PATH_MAX];
	h_fmt(trace, sizeof trace, "%s/t.xt", mnt);
	struct stat st;
	assert_int_equal(stat(trace, &st), 0);
	uint64_t gens;
	int rc = stats_exit(trace, &gens);
	/* The disk is full: the file ends inside the generation being written (exit 3), unless
	 * the space ran out exactly at the end of a generation. */
	if (rc != 3 && rc != 0)
		fail_msg("xtrace stats %s: exit %d", trace, rc);
	assert_true(gens >= 1);
	assert_int_equal(validate_exit(trace), rc);
	struct h_summary s = { .focus = "faults" };
	h_summarize(trace, &s);
	assert_int_equal(s.gens, gens);
	assert_int_equal(s.lost, 0);
	assert_true(s.my_allocs > 0);
	h_run_free(&r);
	h_run_free(&plain);
	umount2(mnt, MNT_DETACH);
	mounted[0] = 0;
}

/* The trace is created 0600 whatever the umask, and an XTRACE_OUT that is a symlink to a file
 * is neither followed nor overwritten: one line on stderr, the trace under the next name. */
static void test_trace_mode_and_symlink_to_file(void **state)
{
	const char *dir = h_tmpdir();
	char victim[PATH_MAX], link[PATH_MAX], out[PATH_MAX + 32], preload[PATH_MAX + 16];
	h_fmt(victim, sizeof victim, "%s/victim", dir);
	h_fmt(link, sizeof link, "%s/t.xt", dir);
	assert_int_equal(h_write_file(victim, "precious", 8), 0);
	assert_int_equal(symlink(victim, link), 0);
	h_fmt(out, sizeof out, "XTRACE_OUT=%s", link);
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());
	const char *env[] = { preload, out, NULL };
	char *const argv[] = { (char *)h_workload("faults"), "child", "3", NULL };
	mode_t old = umask(0);
	struct h_run r;
	int rc = h_spawn(&r, dir, argv, env);
	umask(old);
	assert_int_equal(rc, 0);
	h_expect_exit(&r, 0);
	if (h_count_lines(r.err) != 1 || !strstr(r.err, "symlink"))
		fail_msg("expected one line on stderr about the symlink, got: '%s'", r.err);
	size_t len;
	char *kept = h_track(h_read_file(victim, &len));
	assert_int_equal(len, 8);
	assert_memory_equal(kept, "precious", 8);
	h_free(kept);
	char trace[PATH_MAX];
	h_fmt(trace, sizeof trace, "%s/t.1.xt", dir);
	struct stat st;
	assert_int_equal(lstat(trace, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	struct h_summary s = { .focus = "faults" };
	h_summarize_clean(trace, &s);
	assert_int_equal(s.my_allocs, 3);
	h_run_free(&r);
}

int main(void)
{
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_keeps_complete_generations),
		cmocka_unit_test(test_fork_while_threads_allocate),
		cmocka_unit_test(test_fork_loop),
		cmocka_unit_test(test_vfork_and_posix_spawn),
		cmocka_unit_test(test_exec_helper),
		cmocka_unit_test(test_dlopen_dlclose_loop),
		cmocka_unit_test(test_thousands_of_threads),
		cmocka_unit_test(test_huge_allocations_fail),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_trace_mode_and_symlink_to_file),
	};
	int failures = cmocka_run_group_tests_name("faults", tests, NULL, NULL);
	if (mounted[0])
		umount2(mounted, MNT_DETACH);
	return h_finish(failures);
}
