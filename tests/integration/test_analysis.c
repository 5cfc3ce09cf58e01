/* test_analysis.c: the analysis commands on the sites workload, whose allocation sites are
 * known (tests/workloads/sites.c): top ranks them by every metric, leaks finds exactly the
 * objects never freed, peak gives the peak, --region keeps the region's site, diff passes two
 * runs of the same program and fails a run that allocates twice as much, flame lines add up,
 * export writes valid Chrome JSON with the expected tracks and one CSV row per event, and the
 * HTML report answers a search, a zoom, a metric and a time range in headless Chromium without
 * console errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define MIB 1048576ull

static char trace1[PATH_MAX], trace1b[PATH_MAX], trace2[PATH_MAX];

/* trace_sites traces the sites workload at scale, pausing pause_ms between its sites. */
static void trace_sites(const char *scale, const char *pause_ms, char path[PATH_MAX])
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("sites"), (char *)scale, (char *)pause_ms));
	h_expect_exit(&r, 0);
	h_one_trace(&r, path);
	h_run_free(&r);
}

static int setup(void **state)
{
	trace_sites("1", "0", trace1);
	trace_sites("1", "0", trace1b);
	trace_sites("2", "0", trace2);
	return 0;
}

/* cli_ok runs the CLI, asserts exit code want and returns its stdout (h_track'ed). */
static char *cli_ok(int want, char *const args[])
{
	struct h_run c;
	int rc = h_cli(&c, args);
	if (rc != want)
		fail_msg("xtrace %s %s: exit %d, expected %d\nstdout: %s\nstderr: %s", args[0],
			 args[1] ? args[1] : "", rc, want, c.out, c.err);
	return c.out;
}

/* tsv_row splits line i (0: header) of TSV text into at most 8 cells in buf. */
static int tsv_row(const char *tsv, int i, char cells[8][256])
{
	const char *p = tsv;
	for (int k = 0; k < i && p; k++)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	if (!p || !*p)
		return 0;
	int n = 0;
	while (n < 8) {
		size_t len = strcspn(p, "\t\n");
		h_fmt(cells[n++], 256, "%.*s", (int)len, p);
		if (p[len] != '\t')
			break;
		p += len + 1;
	}
	return n;
}

/* expect_rank asserts that `top --by metric --tsv` lists sites in this order first. */
static void expect_rank(const char *metric, const char *const *sites, int n)
{
	char *out = cli_ok(0, H_ARGV("top", "--by", (char *)metric, "--tsv", trace1));
	for (int i = 0; i < n; i++) {
		char c[8][256];
		if (tsv_row(out, i + 1, c) != 8 || strcmp(c[7], sites[i]) != 0)
			fail_msg("top --by %s: rank %d is not %s:\n%s", metric, i + 1, sites[i], out);
	}
}

static uint64_t cell_of(const char *out, const char *site, int col)
{
	char c[8][256];
	for (int i = 1; tsv_row(out, i, c) == 8; i++)
		if (!strcmp(c[7], site))
			return strtoull(c[col], NULL, 10);
	fail_msg("no site %s in:\n%s", site, out);
	return 0;
}

static void test_top_ranks(void **state)
{
	expect_rank("allocs", (const char *[]){"temporary_site", "leak_site", "peak_site"}, 3);
	expect_rank("bytes", (const char *[]){"leak_site", "peak_site", "temporary_site"}, 3);
	expect_rank("peak", (const char *[]){"leak_site", "peak_site"}, 2);
	expect_rank("temporary", (const char *[]){"temporary_site"}, 1);
	expect_rank("leaked", (const char *[]){"leak_site"}, 1);

	/* columns: rank allocs bytes peak temporary leaked objects site */
	char *out = cli_ok(0, H_ARGV("top", "--tsv", "-n", "50", trace1));
	assert_int_equal(cell_of(out, "temporary_site", 1), 1000);
	assert_int_equal(cell_of(out, "temporary_site", 2), 64000);
	assert_int_equal(cell_of(out, "temporary_site", 4), 1000);
	assert_int_equal(cell_of(out, "temporary_site", 3), 0);
	assert_int_equal(cell_of(out, "leak_site", 1), 10);
	assert_int_equal(cell_of(out, "leak_site", 3), 10 * MIB);
	assert_int_equal(cell_of(out, "leak_site", 5), 10 * MIB);
	assert_int_equal(cell_of(out, "leak_site", 6), 10);
	assert_int_equal(cell_of(out, "leak_site", 4), 0);
	assert_int_equal(cell_of(out, "peak_site", 3), 5 * MIB);
	/* heaptrack's rule: the first of its 5 blocks is freed right after the last, of the same
	 * stack and size, was allocated */
	assert_int_equal(cell_of(out, "peak_site", 4), 1);
	assert_int_equal(cell_of(out, "peak_site", 5), 0);

	/* the text table and JSON carry the same totals */
	char *json = cli_ok(0, H_ARGV("top", "--json", "--group", "line", trace1));
	assert_int_equal(h_json_u64(json, "totals.allocs"), 1015);
	assert_int_equal(h_json_u64(json, "peak_live_bytes"), 15 * MIB);
	char *text = cli_ok(0, H_ARGV("top", "--group", "stack", trace1));
	assert_non_null(strstr(text, "leak_site (sites.c:"));
	assert_non_null(strstr(text, "10.00 MiB"));
}

static void test_region(void **state)
{
	char *out = cli_ok(0, H_ARGV("top", "--region", "build-peak", "--tsv", trace1));
	char c[8][256];
	assert_int_equal(tsv_row(out, 1, c), 8);
	assert_string_equal(c[7], "peak_site");
	assert_int_equal(tsv_row(out, 2, c), 0);
	out = cli_ok(0, H_ARGV("top", "--group", "region", "--tsv", trace1));
	assert_int_equal(cell_of(out, "build-peak", 2), 5 * MIB);
}

static void test_leaks(void **state)
{
	char *json = cli_ok(0, H_ARGV("leaks", "--json", trace1));
	assert_int_equal(h_json_u64(json, "leaked_objects"), 10);
	assert_int_equal(h_json_u64(json, "leaked_bytes"), 10 * MIB);
	assert_non_null(strstr(json, "\"function\": \"leak_site\""));
	assert_non_null(strstr(json, "\"function\": \"main\""));
	assert_null(strstr(json, "peak_site"));
	assert_null(strstr(json, "temporary_site"));
	char *text = cli_ok(0, H_ARGV("leaks", trace1));
	assert_non_null(strstr(text, "10 objects (10.00 MiB) live at the end, from 1 sites"));
}

static void test_peak(void **state)
{
	char *json = cli_ok(0, H_ARGV("peak", "--json", trace1));
	assert_int_equal(h_json_u64(json, "peak_bytes"), 15 * MIB);
	char *out = cli_ok(0, H_ARGV("peak", "--tsv", trace1));
	char c[8][256];
	assert_int_equal(tsv_row(out, 1, c), 4);
	assert_string_equal(c[3], "leak_site");
	assert_int_equal(strtoull(c[1], NULL, 10), 10 * MIB);
	assert_int_equal(tsv_row(out, 2, c), 4);
	assert_string_equal(c[3], "peak_site");
	assert_int_equal(strtoull(c[1], NULL, 10), 5 * MIB);
}

static void test_diff(void **state)
{
	char *out = cli_ok(0, H_ARGV("diff", "--fail-above", "5", trace1, trace1b));
	assert_non_null(strstr(out, "+0.0%"));
	char *json = cli_ok(0, H_ARGV("diff", "--json", trace1, trace1b));
	assert_false(h_json_bool(json, "regressed"));
	assert_int_equal(h_json_u64(json, "totals.bytes.a"), h_json_u64(json, "totals.bytes.b"));
	cli_ok(4, H_ARGV("diff", "--fail-above", "5", trace1, trace2));
	cli_ok(4, H_ARGV("diff", "--by", "allocs", "--fail-above", "50", trace1, trace2));
	cli_ok(0, H_ARGV("diff", "--by", "allocs", "--fail-above", "150", trace1, trace2));
	json = cli_ok(4, H_ARGV("diff", "--json", "--by", "peak", "--fail-above", "5", trace1, trace2));
	assert_true(h_json_bool(json, "regressed"));
	assert_int_equal(h_json_u64(json, "totals.peak.b"), 30 * MIB);
}

static void test_flame(void **state)
{
	char *out = cli_ok(0, H_ARGV("flame", trace1));
	uint64_t sum = 0;
	size_t lines = 0;
	for (const char *p = out; *p; lines++) {
		const char *eol = strchr(p, '\n');
		const char *sp = memrchr(p, ' ', (size_t)(eol - p));
		assert_non_null(sp);
		sum += strtoull(sp + 1, NULL, 10);
		p = eol + 1;
	}
	char *json = cli_ok(0, H_ARGV("top", "--json", trace1));
	assert_int_equal(sum, h_json_u64(json, "totals.bytes"));
	assert_true(lines >= 3);
	assert_non_null(strstr(out, ";main;leak_site 10485760\n"));
	assert_non_null(strstr(out, "[region build-peak];"));

	char svg[PATH_MAX];
	h_fmt(svg, sizeof svg, "%s/f.svg", h_tmpdir());
	cli_ok(0, H_ARGV("flame", "--svg", svg, trace1));
	char *text = h_track(h_read_file(svg, NULL));
	assert_non_null(text);
	assert_non_null(strstr(text, "<svg xmlns"));
	assert_non_null(strstr(text, "<title>leak_site (10.00 MiB"));
}

/* run_tool runs argv (a full path first) and returns its exit code. */
static int run_tool(struct h_run *r, char *const argv[])
{
	if (h_spawn(r, h_tmpdir(), argv, NULL) != 0)
		fail_msg("cannot run %s", argv[0]);
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128;
}

static void test_export(void **state)
{
	const char *dir = h_tmpdir();
	char chrome[PATH_MAX], csv[PATH_MAX];
	h_fmt(chrome, sizeof chrome, "%s/t.json", dir);
	h_fmt(csv, sizeof csv, "%s/t.csv", dir);
	cli_ok(0, H_ARGV("export", "--format", "chrome", "-o", chrome, trace1));
	struct h_run py;
	if (run_tool(&py, H_ARGV("/usr/bin/python3", "-m", "json.tool", chrome)) != 0)
		fail_msg("%s is not valid JSON: %s", chrome, py.err);
	char *j = h_track(h_read_file(chrome, NULL));
	assert_non_null(strstr(j, "\"traceEvents\": ["));
	assert_non_null(strstr(j, "{\"name\": \"live heap\", \"ph\": \"C\""));
	assert_non_null(strstr(j, "{\"name\": \"allocation rate\", \"ph\": \"C\""));
	assert_non_null(strstr(j, "\"name\": \"thread_name\", \"ph\": \"M\""));
	assert_non_null(strstr(j, "\"name\": \"process_name\", \"ph\": \"M\""));
	assert_int_equal(h_count_substr(j, "{\"name\": \"build-peak\", \"cat\": \"Core\", \"ph\": \"B\""), 1);
	assert_int_equal(h_count_substr(j, "{\"name\": \"build-peak\", \"cat\": \"Core\", \"ph\": \"E\""), 1);
	assert_non_null(strstr(j, "\"message_string\": \"peak built\""));
	/* the counter reaches the peak exactly */
	assert_non_null(strstr(j, "\"args\": {\"bytes\": 15728640}"));

	cli_ok(0, H_ARGV("export", "--format", "csv", "-o", csv, trace1));
	char *c = h_track(h_read_file(csv, NULL));
	char *stats = h_stats_json(trace1, 0);
	assert_int_equal(h_count_lines(c) - 1, h_json_u64(stats, "events"));
	assert_non_null(strstr(c, ",UserLog,,,,\"build-peak\","
				  "\"category_string=sites message_string=peak built\"\n"));
}

/* num is the number at path in json (dots between keys). */
static double num(const char *json, const char *path)
{
	const char *p = h_json_find(json, path);
	if (!p || !strchr("-0123456789", *p))
		fail_msg("no number at '%s' in %s", path, json);
	return strtod(p, NULL);
}

/* alloc_times sets *leak_last and *peak_first to when leak_site allocated last and peak_site
 * first (ns since the trace's start), from trace's CSV export. */
static void alloc_times(const char *trace, uint64_t *leak_last, uint64_t *peak_first)
{
	char *csv = cli_ok(0, H_ARGV("export", "--format", "csv", "-o", "-", (char *)trace));
	*leak_last = 0;
	*peak_first = UINT64_MAX;
	for (char *line = csv; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		unsigned long long ns;
		if (sscanf(line, "%*[^,],%llu,", &ns) != 1 || !strstr(line, ",ObjectAlloc,"))
			continue;
		char *eol = strchr(line, '\n'), *mib = strstr(line, ",1048576,malloc,");
		if (!mib || (eol && mib > eol))
			continue;
		if (!strncmp(mib, ",1048576,malloc,\"build-peak\"", 28))
			*peak_first = ns < *peak_first ? ns : *peak_first;
		else
			*leak_last = ns > *leak_last ? ns : *leak_last;
	}
	assert_true(*leak_last && *leak_last < *peak_first && *peak_first != UINT64_MAX);
}

/* The report is used as a person would: the test loads it in Chromium, searches leak_site,
 * clicks its frame, switches the metric, filters and sorts the table, drags over the chart, and
 * checks each answer against
 * `xtrace top` and the workload's known sites (traced with 100 ms between them, so that each
 * has a time of its own); no console error all along. */
static void test_report(void **state)
{
	const char *dir = h_tmpdir();
	char trace[PATH_MAX], html[PATH_MAX], shots[PATH_MAX], bad[PATH_MAX], badshots[PATH_MAX];
	char from[32], to[32];
	trace_sites("1", "100", trace);
	h_fmt(html, sizeof html, "%s/report.html", dir);
	/* The screenshots outlive the test's directories, to be looked at. */
	h_fmt(shots, sizeof shots, "%s/report-screenshots", h_build_dir());
	h_fmt(bad, sizeof bad, "%s/broken.html", dir);
	h_fmt(badshots, sizeof badshots, "%s/broken", dir);
	cli_ok(0, H_ARGV("report", "-o", html, trace));
	size_t len;
	char *page = h_track(h_read_file(html, &len));
	/* self-contained: nothing loaded from anywhere */
	assert_null(strstr(page, "src="));
	assert_null(strstr(page, "href="));
	assert_null(strstr(page, "url("));
	assert_null(strstr(page, "fetch("));
	assert_null(strstr(page, "XMLHttpRequest"));

	/* the range: from the start to halfway between leak_site and peak_site */
	uint64_t leak_last, peak_first;
	alloc_times(trace, &leak_last, &peak_first);
	h_fmt(from, sizeof from, "0");
	h_fmt(to, sizeof to, "%llu", (unsigned long long)(leak_last + (peak_first - leak_last) / 2));
	char *seen = h_browse(H_ARGV(html, shots, "leak_site", from, to));
	if (!strstr(seen, "\"errors\": []"))
		fail_msg("the report logged errors: %s", seen);

	/* search: leak_site's share is top's */
	char *top = cli_ok(0, H_ARGV("top", "--tsv", trace));
	uint64_t leak = cell_of(top, "leak_site", 2), peak = cell_of(top, "peak_site", 2);
	double total = (double)(leak + peak + cell_of(top, "temporary_site", 2));
	assert_true(num(seen, "search.value") == (double)leak);
	assert_true(num(seen, "search.total") == total);
	assert_true(num(seen, "search.matches") == 1);
	assert_non_null(strstr(seen, "(66.40%)"));

	/* zoom: the clicked frame becomes the graph's width, and reset brings it back */
	double full = num(seen, "zoom.full"), before = num(seen, "zoom.before");
	assert_true(before < 0.8 * full);
	assert_true(num(seen, "zoom.after") > full - 2);
	assert_true(num(seen, "zoom.reset") == before);

	/* metric: by temporary allocations, temporary_site (1000 of 1001) fills the graph and
	 * leak_site (none) is gone */
	assert_true(num(seen, "metric.bytes.temporary_site") < 0.01 * full);
	assert_true(num(seen, "metric.temporary.temporary_site") > 0.99 * num(seen, "metric.temporary.all"));
	assert_null(h_json_find(seen, "metric.temporary.leak_site"));

	/* table: the filter keeps leak_site's row; by allocations, temporary_site (1000) comes
	 * first, and peak_site (5) when the order is turned */
	assert_true(num(seen, "table.filtered") == 1);
	assert_non_null(strstr(seen, "\"filtered_first\": \"leak_site\""));
	assert_non_null(strstr(seen, "\"by_allocs\": \"temporary_site\""));
	assert_non_null(strstr(seen, "\"by_allocs_up\": \"peak_site\""));

	/* time range: temporary_site and leak_site are in it, peak_site is not */
	assert_true(num(seen, "range.before.rows") == 3);
	assert_true(num(seen, "range.before.bytes") == total);
	assert_true(num(seen, "range.after.rows") == 2);
	assert_true(num(seen, "range.after.bytes") == total - (double)peak);
	assert_true(num(seen, "range.flame_after") == total - (double)peak);
	/* the address space chart beside the live heap's, from the trace's AddrSpace samples */
	assert_true(h_json_bool(seen, "memory.shown"));
	assert_non_null(strstr(seen, "\"lines\": \"heap (live),mapped,resident\""));
	fprintf(stderr, "report screenshots: %s\n", shots);

	/* The check must see an error when there is one: a copy with a failing script. */
	char *end = strstr(page, "</body>");
	assert_non_null(end);
	char *broken = h_track(malloc(len + 64));
	int n = sprintf(broken, "%.*s<script>no_such_function();</script>%s", (int)(end - page), page, end);
	assert_int_equal(h_write_file(bad, broken, (size_t)n), 0);
	seen = h_browse(H_ARGV("--load", bad, badshots));
	assert_non_null(strstr(seen, "no_such_function"));
}

/* The comparison scripts: medians side by side, and the CI gate's exit codes. */
static void test_compare_scripts(void **state)
{
	char compare[PATH_MAX], gate[PATH_MAX], xt[PATH_MAX + 16], one[PATH_MAX + 4], two[PATH_MAX + 4];
	if (!realpath("scripts/xtrace-compare", compare) || !realpath("scripts/ci-alloc-gate.sh", gate))
		fail_msg("run from the repository root: no scripts/xtrace-compare");
	h_fmt(xt, sizeof xt, "XTRACE=%s", h_cli_path());
	h_fmt(one, sizeof one, "%s 1", h_workload("sites"));
	h_fmt(two, sizeof two, "%s 2", h_workload("sites"));
	const char *const env[] = {xt, NULL};
	struct h_run r;
	if (h_spawn(&r, h_tmpdir(), H_ARGV(compare, "-n", "2", "--json", "--", (char *)h_workload("sites"),
					   "--vs", (char *)h_workload("sites"), "2"), env) != 0)
		fail_msg("cannot run %s", compare);
	h_expect_exit(&r, 0);
	assert_non_null(strstr(r.out, "\"median\": 1015"));
	assert_non_null(strstr(r.out, "\"median\": 2030"));
	if (h_spawn(&r, h_tmpdir(), H_ARGV(gate, one, one, "5", "2"), env) != 0)
		fail_msg("cannot run %s", gate);
	h_expect_exit(&r, 0);
	if (h_spawn(&r, h_tmpdir(), H_ARGV(gate, one, two, "5", "2"), env) != 0)
		fail_msg("cannot run %s", gate);
	h_expect_exit(&r, 4);
	assert_non_null(strstr(r.err, "grew by more than 5%"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_ranks),
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_leaks),
		cmocka_unit_test(test_peak),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_flame),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_compare_scripts),
	};
	return h_finish(cmocka_run_group_tests_name("analysis", tests, setup, NULL));
}
