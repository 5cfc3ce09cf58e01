/* test_every_api.c: integration tests on the every_api workload: exact per-API call and byte
 * counts in the trace (reader library and `xtrace stats --json`), free(NULL) recording nothing,
 * failed allocations, `xtrace dump`/`validate`/`run`, and the program's output being the same
 * with and without the shim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* What every_api N does, computed here independently of the program (see every_api.c). */
struct expect {
	struct h_count api[H_NAPI];
	uint64_t allocs, bytes, frees, reallocfrees, peak;
};

static void expect_every_api(long n, struct expect *e)
{
	memset(e, 0, sizeof *e);
	for (long i = 0; i < n; i++) {
		uint64_t ms = 100 + (uint64_t)(i % 13), cb = (3 + (uint64_t)(i % 5)) * 24;
		uint64_t es = 10 + (uint64_t)(i % 2), mas = 48 + (uint64_t)(i % 4);
		uint64_t grow = 4000 + (uint64_t)(i % 3);
		e->api[0].calls += 1, e->api[0].bytes += ms;
		e->api[1].calls += 1, e->api[1].bytes += cb;
		e->api[2].calls += 4, e->api[2].bytes += (40 + (uint64_t)(i % 3)) + grow + 20 + 20;
		e->api[3].calls += 2, e->api[3].bytes += 4 * es + 8 * es;
		e->api[4].calls += 1, e->api[4].bytes += 200;
		e->api[5].calls += 1, e->api[5].bytes += 256;
		e->api[6].calls += 1, e->api[6].bytes += mas;
		e->api[7].calls += 1, e->api[7].bytes += 100;
		e->api[8].calls += 1, e->api[8].bytes += 5000;
		e->frees += 9;
		e->reallocfrees += 4;
		/* requested bytes live at once: during the grow, and after the last allocation */
		uint64_t during_grow = ms + cb + grow;
		uint64_t all = ms + cb + 20 + 8 * es + 200 + 256 + mas + 100 + 5000;
		if (during_grow > e->peak)
			e->peak = during_grow;
		if (all > e->peak)
			e->peak = all;
	}
	for (int k = 0; k < H_NAPI; k++) {
		e->allocs += e->api[k].calls;
		e->bytes += e->api[k].bytes;
	}
}

/* run_every_api traces every_api N (FAILS failing mallocs) and returns its one trace. */
static void run_every_api(long n, long fails, struct h_run *r, char trace[PATH_MAX])
{
	char ns[32], fs[32];
	h_fmt(ns, sizeof ns, "%ld", n);
	h_fmt(fs, sizeof fs, "%ld", fails);
	h_traced(r, NULL, H_ARGV((char *)h_workload("every_api"), ns, fs));
	h_expect_exit(r, 0);
	h_one_trace(r, trace);
}

/* check_counts: the program's own report, then the trace, both against the formula. */
static void check_counts(long n)
{
	struct expect e;
	expect_every_api(n, &e);
	struct h_run r;
	char trace[PATH_MAX];
	run_every_api(n, 0, &r, trace);

	for (int k = 0; k < H_NAPI; k++) {
		char prefix[64];
		h_fmt(prefix, sizeof prefix, "api %s ", h_api_names[k]);
		assert_int_equal(h_out_u64(r.out, prefix, "calls"), e.api[k].calls);
		assert_int_equal(h_out_u64(r.out, prefix, "bytes"), e.api[k].bytes);
	}

	struct h_summary s = { .focus = "every_api" };
	h_summarize_clean(trace, &s);
	for (int k = 0; k < H_NAPI; k++) {
		if (s.my_api[k].calls != e.api[k].calls || s.my_api[k].bytes != e.api[k].bytes)
			fail_msg("N=%ld %s: trace has %llu calls, %llu bytes; expected %llu, %llu", n,
				 h_api_names[k], (unsigned long long)s.my_api[k].calls,
				 (unsigned long long)s.my_api[k].bytes,
				 (unsigned long long)e.api[k].calls, (unsigned long long)e.api[k].bytes);
	}
	assert_int_equal(s.my_allocs, e.allocs);
	assert_int_equal(s.my_failed, 0);
	assert_int_equal(s.my_frees, e.frees);
	assert_int_equal(s.my_reallocfrees, e.reallocfrees);
	assert_int_equal(s.my_live_end, 0);
	assert_int_equal(s.unknown_frees, 0);
	assert_int_equal(s.missing_stacks, 0);
	assert_int_equal(s.my_peak_bytes, e.peak);
	assert_int_equal(s.nthreads, 1);
	h_validate(trace);
	h_run_free(&r);
}

static void test_every_api_counts_n7(void **state)
{
	check_counts(7);
}

static void test_every_api_counts_n300(void **state)
{
	check_counts(300);
}

/* free(NULL) is called 3 times per iteration; the trace must hold no ObjectFree at all for
 * them (a free of address 0 would also break the exact free count above). */
static void test_free_null_records_nothing(void **state)
{
	struct h_run r;
	char trace[PATH_MAX];
	run_every_api(50, 0, &r, trace);
	assert_int_equal(h_out_u64(r.out, "allocs=", "free_null"), 150);
	struct h_summary s = { .focus = "every_api" };
	h_summarize_clean(trace, &s);
	assert_int_equal(s.free_null, 0);
	assert_int_equal(s.my_frees, 50 * 9);
	h_run_free(&r);
}

/* Two 1 PiB mallocs fail: each records one ObjectAlloc with address 0. */
static void test_failed_allocs(void **state)
{
	struct h_run r;
	char trace[PATH_MAX];
	run_every_api(4, 2, &r, trace);
	assert_int_equal(h_out_u64(r.out, "allocs=", "failed"), 2);
	struct h_summary s = { .focus = "every_api" };
	h_summarize_clean(trace, &s);
	assert_int_equal(s.my_failed, 2);
	assert_int_equal(s.failed, 2);
	assert_int_equal(s.my_api[0].calls, 4 + 2);
	assert_int_equal(s.my_allocs, 13 * 4 + 2);

	char *js = h_stats_json(trace, 0);
	assert_int_equal(h_json_u64(js, "failed_allocs"), 2);
	assert_int_equal(h_json_u64(js, "by_api.malloc.calls"), s.api[0].calls);
	h_free(js);
	h_run_free(&r);
}

/* `xtrace stats --json` agrees, on every key it has, with the trace as the reader library
 * sees it. The trace may also hold allocations the program did not make itself (a library's
 * constructor, a sanitizer runtime's): those are the difference between the reader's whole-trace
 * totals and the formula's counts of the program's own calls, checked in check_counts. */
static void test_stats_json(void **state)
{
	long n = 25;
	struct expect e;
	expect_every_api(n, &e);
	struct h_run r;
	char trace[PATH_MAX];
	run_every_api(n, 0, &r, trace);
	struct h_summary s = { .focus = "every_api" };
	h_summarize_clean(trace, &s);
	assert_int_equal(s.my_allocs, e.allocs);
	char *js = h_stats_json(trace, 0);

	for (int k = 0; k < H_NAPI; k++) {
		char p[64];
		h_fmt(p, sizeof p, "by_api.%s.calls", h_api_names[k]);
		if (h_json_u64(js, p) != s.api[k].calls)
			fail_msg("%s = %llu, expected %llu", p, (unsigned long long)h_json_u64(js, p),
				 (unsigned long long)s.api[k].calls);
		h_fmt(p, sizeof p, "by_api.%s.bytes", h_api_names[k]);
		if (h_json_u64(js, p) != s.api[k].bytes)
			fail_msg("%s = %llu, expected %llu", p, (unsigned long long)h_json_u64(js, p),
				 (unsigned long long)s.api[k].bytes);
	}
	uint64_t bytes = 0;
	for (int k = 0; k < H_NAPI; k++)
		bytes += s.api[k].bytes;
	assert_int_equal(h_json_u64(js, "by_api.free.calls"), s.frees);
	/* frees counts every release, free() and realloc's; realloc_frees the latter */
	assert_int_equal(h_json_u64(js, "frees"), s.frees + s.reallocfrees);
	assert_int_equal(h_json_u64(js, "realloc_frees"), s.reallocfrees);
	assert_int_equal(h_json_u64(js, "invalid_events"), 0);
	assert_false(h_json_bool(js, "corrupt"));
	assert_int_equal(h_json_u64(js, "allocs"), s.allocs);
	assert_int_equal(h_json_u64(js, "alloc_bytes"), bytes);
	assert_int_equal(h_json_u64(js, "failed_allocs"), 0);
	assert_int_equal(h_json_u64(js, "inherited_frees"), 0);
	assert_int_equal(h_json_u64(js, "live_bytes_at_end"), s.live_bytes_end);
	assert_int_equal(h_json_u64(js, "live_objects_at_end"), s.live_objects_end);
	assert_int_equal(h_json_u64(js, "peak_live_bytes"), s.peak_live_bytes);
	assert_int_equal(h_json_u64(js, "threads"), 1);
	assert_int_equal(h_json_u64(js, "lost_events"), 0);
	assert_int_equal(h_json_u64(js, "events"), s.events);
	assert_false(h_json_bool(js, "truncated"));
	assert_true(h_json_u64(js, "generations") >= 1);
	assert_true(h_json_u64(js, "duration_ns") > 0);

	/* the human-readable form exits 0 and says something */
	struct h_run c;
	assert_int_equal(h_cli(&c, H_ARGV("stats", trace)), 0);
	assert_true(c.out_len > 0);
	h_run_free(&c);
	h_free(js);
	h_run_free(&r);
}

/* `xtrace dump` prints every timed event by its spec name, one per line. */
static void test_dump_names_every_event(void **state)
{
	struct h_run r;
	char trace[PATH_MAX];
	run_every_api(6, 0, &r, trace);
	struct h_summary s = { .focus = "every_api" };
	h_summarize_clean(trace, &s);
	assert_int_equal(s.my_allocs, 13 * 6);
	struct h_run c;
	assert_int_equal(h_cli(&c, H_ARGV("dump", trace)), 0);
	/* Names as words: a free by reference ends in "(coded as ObjectFreeRecent)", which is not
	 * one more ObjectFree. */
	assert_int_equal(h_count_substr(c.out, " ObjectAlloc "), s.allocs);
	assert_int_equal(h_count_substr(c.out, " ObjectReallocFree "), s.reallocfrees);
	assert_int_equal(h_count_substr(c.out, " ObjectFree "), s.frees);
	h_run_free(&c);

	/* with --stacks, the callers are named: main of every_api calls every API */
	assert_int_equal(h_cli(&c, H_ARGV("dump", trace, "--stacks")), 0);
	assert_non_null(strstr(c.out, "main"));
	h_run_free(&c);
	h_run_free(&r);
}

/* `xtrace run -o DIR -- prog` traces prog like LD_PRELOAD does, into the run directory DIR. */
static void test_xtrace_run(void **state)
{
	char dir[PATH_MAX];
	h_fmt(dir, sizeof dir, "%s/run", h_tmpdir());
	struct h_run c;
	int rc = h_cli(&c, H_ARGV("run", "-o", dir, "--", (char *)h_workload("every_api"), "3"));
	assert_int_equal(rc, 0);
	assert_int_equal(h_out_u64(c.out, "api realloc ", "calls"), 12);
	char paths[4][PATH_MAX];
	size_t nt = h_find_traces(dir, paths, 4);
	assert_int_equal(nt, 1);
	struct h_summary s = { .focus = "every_api" };
	h_summarize_clean(paths[0], &s);
	assert_int_equal(s.my_allocs, 13 * 3);
	assert_int_equal(s.my_frees, 9 * 3);
	h_run_free(&c);
}

/* The shim changes neither what a program prints nor how it exits. */
static void same_output(char *const argv[])
{
	struct h_run plain, traced;
	h_plain(&plain, argv);
	h_traced(&traced, NULL, argv);
	if (plain.out_len != traced.out_len || memcmp(plain.out, traced.out, plain.out_len) != 0)
		fail_msg("%s: output differs under the shim\n--- plain:\n%s\n--- traced:\n%s", argv[0],
			 plain.out, traced.out);
	assert_int_equal(plain.status, traced.status);
	assert_int_equal(plain.err_len, 0);
	if (traced.err_len != 0)
		fail_msg("%s: the shim wrote to stderr: %s", argv[0], traced.err);
	char trace[PATH_MAX];
	h_one_trace(&traced, trace);
	h_run_free(&plain);
	h_run_free(&traced);
}

static void test_output_unchanged(void **state)
{
	same_output(H_ARGV((char *)h_workload("every_api"), "40"));
	same_output(H_ARGV((char *)h_workload("demo")));
	same_output(H_ARGV((char *)h_workload("callchain"), "9"));
	same_output(H_ARGV((char *)h_workload("dlopen"), "13"));
}

/* XTRACE_OUT in a directory that cannot be created in (its parent is a regular file, which
 * stops root too): one line on stderr, and the program runs as without the shim. */
static void test_unwritable_out(void **state)
{
	char *const argv[] = { (char *)h_workload("every_api"), "5", NULL };
	struct h_run plain;
	h_plain(&plain, argv);

	const char *dir = h_tmpdir();
	char file[PATH_MAX], out[PATH_MAX + 32];
	h_fmt(file, sizeof file, "%s/plainfile", dir);
	assert_int_equal(h_write_file(file, "x", 1), 0);
	h_fmt(out, sizeof out, "XTRACE_OUT=%s/t.%%p.xt", file);
	char preload[PATH_MAX + 16];
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());
	const char *env[] = { preload, out, NULL };
	struct h_run r;
	assert_int_equal(h_spawn(&r, dir, argv, env), 0);

	assert_int_equal(r.status, plain.status);
	assert_string_equal(r.out, plain.out);
	if (h_count_lines(r.err) != 1 || r.err[r.err_len - 1] != '\n')
		fail_msg("expected exactly one line on stderr, got: '%s'", r.err);
	char paths[4][PATH_MAX];
	assert_int_equal(h_find_traces(dir, paths, 4), 0);
	h_run_free(&r);
	h_run_free(&plain);
}

/* An existing file at the trace path is never overwritten, and a symlink there is never
 * followed: the trace goes to the next free numbered name (fixed.1.xt) instead, and one line on
 * stderr says so. The program's output and status stay as without the shim either way. */
static void test_never_overwrites_or_follows_symlinks(void **state)
{
	char *const argv[] = { (char *)h_workload("every_api"), "2", NULL };
	struct h_run plain;
	h_plain(&plain, argv);
	char preload[PATH_MAX + 16];
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());

	const char *dir = h_tmpdir();
	char existing[PATH_MAX], out[PATH_MAX + 32];
	h_fmt(existing, sizeof existing, "%s/fixed.xt", dir);
	assert_int_equal(h_write_file(existing, "keep me", 7), 0);
	h_fmt(out, sizeof out, "XTRACE_OUT=%s", existing);
	const char *env[] = { preload, out, NULL };
	struct h_run r;
	assert_int_equal(h_spawn(&r, dir, argv, env), 0);
	assert_int_equal(r.status, plain.status);
	assert_string_equal(r.out, plain.out);
	assert_int_equal(h_count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "fixed.xt exists, not overwritten; tracing to "));
	size_t len;
	char *kept = h_track(h_read_file(existing, &len));
	assert_non_null(kept);
	assert_int_equal(len, 7);
	assert_memory_equal(kept, "keep me", 7);
	h_free(kept);
	char numbered[PATH_MAX];
	h_fmt(numbered, sizeof numbered, "%s/fixed.1.xt", dir);
	struct h_summary s = { .focus = "every_api" };
	h_summarize_clean(numbered, &s);
	assert_int_equal(s.my_allocs, 13 * 2);
	h_run_free(&r);

	const char *dir2 = h_tmpdir();
	char target[PATH_MAX], link[PATH_MAX];
	h_fmt(target, sizeof target, "%s/target", dir2);
	h_fmt(link, sizeof link, "%s/link.xt", dir2);
	assert_int_equal(symlink(target, link), 0);
	h_fmt(out, sizeof out, "XTRACE_OUT=%s", link);
	const char *env2[] = { preload, out, NULL };
	assert_int_equal(h_spawn(&r, dir2, argv, env2), 0);
	assert_int_equal(r.status, plain.status);
	assert_string_equal(r.out, plain.out);
	assert_int_equal(h_count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "link.xt is a symlink, not written through; tracing to "));
	struct stat st;
	if (lstat(target, &st) == 0)
		fail_msg("the shim followed the symlink %s and created %s", link, target);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	h_fmt(numbered, sizeof numbered, "%s/link.1.xt", dir2);
	struct h_summary s2 = { .focus = "every_api" };
	h_summarize_clean(numbered, &s2);
	assert_int_equal(s2.my_allocs, 13 * 2);
	h_run_free(&r);
	h_run_free(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_api_counts_n7),
		cmocka_unit_test(test_every_api_counts_n300),
		cmocka_unit_test(test_free_null_records_nothing),
		cmocka_unit_test(test_failed_allocs),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_dump_names_every_event),
		cmocka_unit_test(test_xtrace_run),
		cmocka_unit_test(test_output_unchanged),
		cmocka_unit_test(test_unwritable_out),
		cmocka_unit_test(test_never_overwrites_or_follows_symlinks),
	};
	return h_finish(cmocka_run_group_tests_name("every_api", tests, NULL, NULL));
}
