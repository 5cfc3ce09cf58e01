/* test_sampling.c: XTRACE_SAMPLE. On the accuracy workload (three sites at 60/30/10% of 4 GB
 * in 2M allocations of 16 B..4 KiB), a trace sampled at one per 64 KiB with a fixed seed records
 * a small fraction of the calls, and every command's estimates come within 5% of each site's
 * exact bytes and 3% of the total, and say they are estimates; the same seed draws the same
 * samples; two sampled runs diff; sampled traces of every allocation API and of frees on
 * other threads validate clean. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define MEAN "65536"

/* The workload's exact bytes: the three sites and the total. */
struct exact {
	uint64_t site[3], total;
};
static const char *const site_name[3] = {"site_sixty", "site_thirty", "site_ten"};

static void parse_exact(const char *out, struct exact *e)
{
	unsigned long long a, b, c, t;
	if (sscanf(out, "site_sixty %llu\nsite_thirty %llu\nsite_ten %llu\ntotal %llu", &a, &b, &c,
		   &t) != 4)
		fail_msg("unexpected workload output: %s", out);
	*e = (struct exact){{a, b, c}, t};
}

/* sampled runs the workload at XTRACE_SAMPLE=MEAN with seed into r; trace gets its path. */
static void sampled(struct h_run *r, const char *seed, char trace[PATH_MAX])
{
	const char *env[] = {"XTRACE_SAMPLE=" MEAN, seed, NULL};
	h_traced(r, env, H_ARGV((char *)h_workload("sampling")));
	h_expect_exit(r, 0);
	h_one_trace(r, trace);
}

static void assert_within(const char *what, double est, double exact, double tolerance)
{
	double err = fabs(est - exact) / exact;
	if (err > tolerance)
		fail_msg("%s: estimated %.0f, exact %.0f: off by %.2f%% (more than %.0f%%)", what, est,
			 exact, 100 * err, 100 * tolerance);
}

/* site_bytes returns the bytes column of the row of site in `top --tsv` output. */
static uint64_t site_bytes(const char *tsv, const char *site)
{
	for (const char *line = tsv; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long long rank, allocs, bytes;
		char name[64];
		if (sscanf(line, "%llu\t%llu\t%llu\t%*u\t%*u\t%*u\t%*u\t%63[^\n]", &rank, &allocs, &bytes,
			   name) == 4 &&
		    !strcmp(name, site))
			return bytes;
	}
	fail_msg("no row for %s in:\n%s", site, tsv);
	return 0;
}

static void test_estimates_within_bounds(void **state)
{
	(void)state;
	struct h_run r;
	char trace[PATH_MAX];
	sampled(&r, "XTRACE_SAMPLE_SEED=1", trace);
	struct exact e;
	parse_exact(r.out, &e);

	/* An unsampled call is not recorded: about 63k samples of 2M allocations. */
	char *json = h_stats_json(trace, 0);
	assert_true(h_json_u64(json, "events") < 2000000 / 10);
	assert_true(h_json_bool(json, "estimated"));
	assert_int_equal(h_json_u64(json, "sample_bytes"), 65536);
	assert_within("total bytes (stats)", (double)h_json_u64(json, "alloc_bytes"), (double)e.total,
		      0.03);
	/* every object but the ring's last 4096 was freed: the estimates agree */
	assert_within("allocations (stats)", (double)h_json_u64(json, "allocs"), 2000000, 0.03);
	h_free(json);

	struct h_run c;
	assert_int_equal(h_cli(&c, H_ARGV("top", trace, "--tsv", "--group", "function")), 0);
	for (int i = 0; i < 3; i++)
		assert_within(site_name[i], (double)site_bytes(c.out, site_name[i]), (double)e.site[i],
			      0.05);
	h_run_free(&c);

	/* Every command says its heap figures are estimates, in text and JSON. */
	static const char *const text_cmds[][2] = {{"stats", NULL}, {"top", NULL}, {"leaks", NULL},
						   {"peak", NULL}};
	for (size_t i = 0; i < sizeof text_cmds / sizeof *text_cmds; i++) {
		assert_int_equal(h_cli(&c, H_ARGV((char *)text_cmds[i][0], trace)), 0);
		if (!strstr(c.out, "estimated: heap figures from sampled allocations, one per 64.00 KiB"))
			fail_msg("xtrace %s does not say it estimates:\n%s", text_cmds[i][0], c.out);
		h_run_free(&c);
		assert_int_equal(h_cli(&c, H_ARGV((char *)text_cmds[i][0], trace, "--json")), 0);
		if (!h_json_bool(c.out, "estimated"))
			fail_msg("xtrace %s --json does not say it estimates:\n%.2000s", text_cmds[i][0],
				 c.out);
		h_run_free(&c);
	}
	/* and the other outputs, each where its format has room */
	char svg[PATH_MAX + 16];
	snprintf(svg, sizeof svg, "%s/flame.svg", r.dir);
	assert_int_equal(h_cli(&c, H_ARGV("flame", trace, "--svg", svg)), 0);
	h_run_free(&c);
	size_t len;
	char *page = h_read_file(svg, &len);
	assert_non_null(page);
	assert_non_null(strstr(page, "allocations by bytes (estimated: sampled, one per 64.00 KiB)"));
	free(page);
	assert_int_equal(h_cli(&c, H_ARGV("flame", trace)), 0);
	assert_non_null(strstr(c.err, "estimated from sampled allocations, one per 64.00 KiB"));
	h_run_free(&c);
	static const char *const exports[][2] = {
		{"csv", "sizes are estimated: sampled allocations, one per 65536 bytes"},
		{"chrome", "(heap estimated: sampled, one per 65536 bytes)"},
		{"speedscope", "(estimated: sampled, one per 65536 bytes)"}};
	for (size_t i = 0; i < sizeof exports / sizeof *exports; i++) {
		assert_int_equal(h_cli(&c, H_ARGV("export", trace, "--format", (char *)exports[i][0],
						  "-o", "-")), 0);
		if (!strstr(c.out, exports[i][1]) && !strstr(c.err, exports[i][1]))
			fail_msg("export --format %s does not say it estimates", exports[i][0]);
		h_run_free(&c);
	}
	char html[PATH_MAX + 16];
	snprintf(html, sizeof html, "%s/report.html", r.dir);
	assert_int_equal(h_cli(&c, H_ARGV("report", trace, "-o", html)), 0);
	h_run_free(&c);
	page = h_read_file(html, &len);
	assert_non_null(page);
	assert_non_null(strstr(page, "\"sample_bytes\": 65536"));
	assert_non_null(strstr(page, "(estimated: sampled, one per "));
	free(page);

	h_validate(trace);
	h_run_free(&r);
}

static void test_seed_repeats_samples(void **state)
{
	(void)state;
	struct h_run r1, r2, c1, c2;
	char t1[PATH_MAX], t2[PATH_MAX];
	sampled(&r1, "XTRACE_SAMPLE_SEED=7", t1);
	sampled(&r2, "XTRACE_SAMPLE_SEED=7", t2);
	assert_int_equal(h_cli(&c1, H_ARGV("top", t1, "--tsv")), 0);
	assert_int_equal(h_cli(&c2, H_ARGV("top", t2, "--tsv")), 0);
	assert_string_equal(c1.out, c2.out);
	h_run_free(&c1);
	h_run_free(&c2);
	h_run_free(&r1);
	h_run_free(&r2);
}

static void test_diff_of_sampled_runs(void **state)
{
	(void)state;
	struct h_run r1, r2, c;
	char t1[PATH_MAX], t2[PATH_MAX];
	sampled(&r1, "XTRACE_SAMPLE_SEED=2", t1);
	sampled(&r2, "XTRACE_SAMPLE_SEED=3", t2);
	struct exact e;
	parse_exact(r1.out, &e);
	assert_int_equal(h_cli(&c, H_ARGV("diff", t1, t2, "--json")), 0);
	assert_true(h_json_bool(c.out, "estimated"));
	assert_int_equal(h_json_u64(c.out, "sample_bytes.a"), 65536);
	assert_within("diff's a", (double)h_json_u64(c.out, "totals.bytes.a"), (double)e.total, 0.03);
	assert_within("diff's b", (double)h_json_u64(c.out, "totals.bytes.b"), (double)e.total, 0.03);
	h_run_free(&c);
	assert_int_equal(h_cli(&c, H_ARGV("diff", t1, t2)), 0);
	assert_non_null(strstr(c.out, "a: estimated: "));
	assert_non_null(strstr(c.out, "b: estimated: "));
	h_run_free(&c);
	h_run_free(&r1);
	h_run_free(&r2);
}

/* A trace of every call is exact and says nothing of estimates. */
static void test_unsampled_is_exact(void **state)
{
	(void)state;
	struct h_run r, c;
	char trace[PATH_MAX];
	h_traced(&r, NULL, H_ARGV((char *)h_workload("sampling")));
	h_expect_exit(&r, 0);
	h_one_trace(&r, trace);
	struct exact e;
	parse_exact(r.out, &e);
	char *json = h_stats_json(trace, 0);
	assert_int_equal(h_json_u64(json, "alloc_bytes"), e.total);
	assert_null(h_json_find(json, "estimated"));
	h_free(json);
	assert_int_equal(h_cli(&c, H_ARGV("stats", trace)), 0);
	assert_null(strstr(c.out, "estimated"));
	h_run_free(&c);
	h_run_free(&r);
}

/* Sampled objects of every API (realloc's old and new objects sampled apart) and freed on
 * another thread: each recorded free is of a recorded allocation. */
static void test_sampled_traces_validate(void **state)
{
	(void)state;
	static const char *const workloads[] = {"every_api", "prodcons", "threads"};
	for (size_t i = 0; i < sizeof workloads / sizeof *workloads; i++) {
		struct h_run r;
		char trace[PATH_MAX];
		const char *env[] = {"XTRACE_SAMPLE=256", NULL};
		h_traced(&r, env, H_ARGV((char *)h_workload(workloads[i])));
		h_expect_exit(&r, 0);
		h_one_trace(&r, trace);
		h_validate(trace);
		h_run_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_estimates_within_bounds),
		cmocka_unit_test(test_seed_repeats_samples),
		cmocka_unit_test(test_diff_of_sampled_runs),
		cmocka_unit_test(test_unsampled_is_exact),
		cmocka_unit_test(test_sampled_traces_validate),
	};
	return h_finish(cmocka_run_group_tests_name("sampling", tests, NULL, NULL));
}
