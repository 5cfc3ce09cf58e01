/* test_export_tools.c: `xtrace export --format pprof` and `--format speedscope`, read by the
 * tools they are for. pprof: `go tool pprof -top` of each sample type (alloc_objects,
 * alloc_space, inuse_objects, inuse_space) gives the totals and every function's flat value
 * that `xtrace top --group function` gives (allocs, bytes, objects and bytes leaked), on the
 * sites workload, a C++ program with inlined calls (under --keep-allocator-frames and --alloc-fn
 * too) and python3; -traces shows the stacks, the region label and the inlined call as lines
 * of one location; a run's processes get pid and exe labels. speedscope: the output keeps the
 * file format's rules (tests/integration/speedscope_check.py), each thread's profile weighs
 * what the thread allocated (summed from the CSV export), and all weights add up to the
 * requested bytes of `xtrace stats`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define GO "/usr/bin/go"
#define PYTHON "/usr/bin/python3"

/* cli_ok runs the CLI, asserts it exits 0 and returns its stdout (freed by h_finish). */
static char *cli_ok(char *const args[])
{
	struct h_run c;
	int rc = h_cli(&c, args);
	if (rc != 0)
		fail_msg("xtrace %s %s: exit %d\nstdout: %s\nstderr: %s", args[0], args[1] ? args[1] : "",
			 rc, c.out, c.err);
	return c.out;
}

/* tool runs argv (a full path first), asserts it exits 0 and returns its stdout. */
static char *tool(char *const argv[])
{
	struct h_run r;
	if (h_spawn(&r, h_tmpdir(), argv, NULL) != 0)
		fail_msg("cannot run %s", argv[0]);
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		fail_msg("%s %s: wait status 0x%x\nstdout: %s\nstderr: %s", argv[0], argv[1], r.status,
			 r.out, r.err);
	return r.out;
}

static void trace_of(const char *const env[], char *const argv[], char path[PATH_MAX])
{
	struct h_run r;
	h_traced(&r, env, argv);
	h_expect_exit(&r, 0);
	h_one_trace(&r, path);
}

/* export writes trace (or run) as format into a fresh file, extra options (up to 3) before the
 * trace: its path, in out. */
static void export(const char *format, const char *trace, char *const extra[], char out[PATH_MAX])
{
	h_fmt(out, PATH_MAX, "%s/out.%s", h_tmpdir(), format);
	char *args[12] = {"export", "--format", (char *)format, "-o", out};
	size_t n = 5;
	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n++] = (char *)trace;
	args[n] = NULL;
	cli_ok(args);
}

/* A function's value: summed over the rows of one name (pprof shows a function apart per
 * source file, top groups by name). */
struct row {
	char name[512];
	uint64_t v;
};
#define MAXROWS 4096

static size_t add_row(struct row *rows, size_t n, const char *name, size_t len, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(rows[i].name) == len && !strncmp(rows[i].name, name, len)) {
			rows[i].v += v;
			return n;
		}
	if (n == MAXROWS)
		fail_msg("more than %d functions", MAXROWS);
	h_fmt(rows[n].name, sizeof rows[n].name, "%.*s", (int)len, name);
	rows[n].v = v;
	return n + 1;
}

/* pprof_top runs `go tool pprof -top` on profile for sample type index: the functions with a
 * flat value into rows (their count returned), the total into *total. */
static size_t pprof_top(const char *profile, const char *index, struct row *rows, uint64_t *total)
{
	char si[64];
	h_fmt(si, sizeof si, "-sample_index=%s", index);
	int bytes = strstr(index, "space") != NULL;
	char *out = tool(H_ARGV(GO, "tool", "pprof", "-top", "-nodefraction=0", "-nodecount=100000",
				si, bytes ? "-unit=B" : "-unit=minimum", (char *)profile));
	const char *p = strstr(out, "% of ");
	if (!p)
		fail_msg("no total in pprof -top:\n%s", out);
	*total = strtoull(p + 5, NULL, 10);
	p = strstr(p, "cum%\n");
	if (!p)
		fail_msg("no table in pprof -top:\n%s", out);
	size_t n = 0;
	for (p += 5; *p; p = strchr(p, '\n') + 1) {
		/* flat flat% sum% cum cum% name, the name to the end of the line */
		uint64_t flat = strtoull(p, NULL, 10);
		int at = -1;
		if (sscanf(p, "%*s %*s %*s %*s %*s %n", &at) < 0 || at < 0)
			fail_msg("pprof row: %.80s", p);
		const char *name = p + at, *eol = strchr(name, '\n');
		if (!eol)
			break;
		size_t len = (size_t)(eol - name);
		/* a function inlined (at some of its sites) is marked, the function is the same */
		static const char *const marks[] = {" (inline)", " (partial-inline)"};
		for (size_t m = 0; m < 2; m++)
			if (len > strlen(marks[m]) && !strncmp(eol - strlen(marks[m]), marks[m], strlen(marks[m])))
				len -= strlen(marks[m]);
		if (flat)
			n = add_row(rows, n, name, len, flat);
	}
	return n;
}

/* top_rows reads `xtrace top --tsv --group function` of trace (options extra): column col of
 * every site with a nonzero value into rows, their sum into *total. */
static size_t top_rows(const char *trace, char *const extra[], int col, struct row *rows,
		       uint64_t *total)
{
	char *args[12] = {"top", "--tsv", "--group", "function", "-n", "100000"};
	size_t na = 6;
	for (size_t i = 0; extra && extra[i]; i++)
		args[na++] = extra[i];
	args[na++] = (char *)trace;
	args[na] = NULL;
	char *out = cli_ok(args);
	size_t n = 0;
	*total = 0;
	for (const char *p = strchr(out, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
		/* # allocs bytes peak temporary leaked objects site */
		const char *cell[8] = {p + 1};
		for (int c = 1; c < 8; c++)
			cell[c] = strchr(cell[c - 1], '\t') + 1;
		uint64_t v = strtoull(cell[col], NULL, 10);
		const char *name = cell[7];
		*total += v;
		if (v)
			n = add_row(rows, n, name, strcspn(name, "\n"), v);
	}
	return n;
}

static uint64_t value_of(const struct row *rows, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return rows[i].v;
	return 0;
}

/* The sample types, and the column of top --tsv and the stats member that count the same. */
static const struct {
	const char *index;
	int col;
	const char *stats;
} types[] = {
	{"alloc_objects", 1, "allocs"},
	{"alloc_space", 2, "alloc_bytes"},
	{"inuse_objects", 6, "live_objects_at_end"},
	{"inuse_space", 5, "live_bytes_at_end"},
};

/* expect_agree exports trace as pprof (options extra, given to top too) and asserts that pprof
 * and top agree on every sample type: the total (and with stats, stats' total) and each
 * function's value. Returns how many functions had a value in both. */
static size_t expect_agree(const char *trace, char *const extra[], int with_stats)
{
	char out[PATH_MAX];
	export("pprof", trace, extra, out);
	static struct row a[MAXROWS], b[MAXROWS];
	char *stats = with_stats ? h_stats_json(trace, 0) : NULL;
	size_t matched = 0;
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		uint64_t ta, tb;
		size_t na = pprof_top(out, types[t].index, a, &ta);
		size_t nb = top_rows(trace, extra, types[t].col, b, &tb);
		if (ta != tb)
			fail_msg("%s: %s total %llu in pprof, %llu in top", trace, types[t].index,
				 (unsigned long long)ta, (unsigned long long)tb);
		if (stats && ta != h_json_u64(stats, types[t].stats))
			fail_msg("%s: %s total %llu in pprof, stats %s %llu", trace, types[t].index,
				 (unsigned long long)ta, types[t].stats,
				 (unsigned long long)h_json_u64(stats, types[t].stats));
		if (na != nb)
			fail_msg("%s: %s: %zu functions in pprof, %zu in top", trace, types[t].index, na, nb);
		for (size_t i = 0; i < nb; i++) {
			uint64_t v = value_of(a, na, b[i].name);
			if (v != b[i].v)
				fail_msg("%s: %s of %s: %llu in pprof, %llu in top", trace, types[t].index,
					 b[i].name, (unsigned long long)v, (unsigned long long)b[i].v);
		}
		matched += nb;
	}
	return matched;
}

static void test_pprof_sites(void **state)
{
	char trace[PATH_MAX];
	trace_of(NULL, H_ARGV((char *)h_workload("sites"), "1"), trace);
	/* leak_site, peak_site, temporary_site in alloc_objects and alloc_space; leak_site in use */
	assert_int_equal(expect_agree(trace, NULL, 1), 8);
	char out[PATH_MAX];
	export("pprof", trace, NULL, out);
	char *tr = tool(H_ARGV(GO, "tool", "pprof", "-traces", "-sample_index=alloc_space", out));
	/* the stack leaf first, the region a label */
	assert_non_null(strstr(tr, "    region:  build-peak\n"));
	assert_non_null(strstr(tr, "   peak_site\n             main\n             __libc_start_call_main\n"));
	char *raw = tool(H_ARGV(GO, "tool", "pprof", "-raw", out));
	assert_non_null(strstr(raw, "PeriodType: space bytes\nPeriod: 1\n"));
	assert_non_null(strstr(raw, "alloc_objects/count alloc_space/bytes inuse_objects/count "
				    "inuse_space/bytes[dflt]\n"));
	/* the leaked site: 10 objects of 1 MiB, the average size Go's "bytes" label gives */
	assert_non_null(strstr(raw, "10   10485760         10   10485760: "));
	assert_non_null(strstr(raw, "bytes:[1048576]"));
	/* the program's mapping, with its build ID and symbols */
	char want[PATH_MAX + 16];
	h_fmt(want, sizeof want, "%s ", h_workload("sites"));
	const char *m = strstr(raw, want);
	assert_non_null(m);
	assert_true(strcspn(m + strlen(want), " ") == 40); /* a GNU build ID: 20 bytes in hex */
	assert_non_null(strstr(m, "[FN][FL][LN][IN]"));
	/* --region keeps the region's site alone */
	export("pprof", trace, H_ARGV("--region", "build-peak"), out);
	struct row rows[8];
	uint64_t total;
	assert_int_equal(pprof_top(out, "alloc_space", rows, &total), 1);
	assert_string_equal(rows[0].name, "peak_site");
	assert_int_equal(total, 5 * 1048576);
}

static void test_pprof_cxx(void **state)
{
	char trace[PATH_MAX];
	trace_of(NULL, H_ARGV((char *)h_workload("cxx_sites")), trace);
	assert_true(expect_agree(trace, NULL, 1) >= 10);
	/* the allocator's frames kept: operator new and malloc are then the leaves */
	assert_true(expect_agree(trace, H_ARGV("--keep-allocator-frames"), 1) >= 4);
	/* the program's own allocator named: its callers are the sites */
	assert_true(expect_agree(trace, H_ARGV("--alloc-fn", "app::pool_alloc"), 1) >= 10);
	char out[PATH_MAX];
	export("pprof", trace, NULL, out);
	char *top = tool(H_ARGV(GO, "tool", "pprof", "-top", "-sample_index=alloc_objects", out));
	assert_non_null(strstr(top, "  app::Registry::add (inline)\n"));
	/* Registry::add is inlined into fill_registry: two lines of one location, innermost first */
	char *tr = tool(H_ARGV(GO, "tool", "pprof", "-traces", "-sample_index=alloc_objects", out));
	assert_non_null(strstr(tr, "   app::Registry::add (inline)\n             app::fill_registry\n"));
	char *raw = tool(H_ARGV(GO, "tool", "pprof", "-raw", out));
	const char *loc = strstr(raw, " app::Registry::add ");
	assert_non_null(loc);
	const char *next = strchr(loc, '\n') + 1;
	assert_true(!strncmp(next, "             app::fill_registry ", 32));
	/* the mangled name is the function's system name */
	assert_non_null(strstr(loc, "(_ZN3app8Registry3addEiPKc)"));
}

static void test_pprof_python(void **state)
{
	char trace[PATH_MAX];
	trace_of((const char *const[]){"PYTHONMALLOC=malloc", NULL},
		 H_ARGV(PYTHON, "-c", "import json\n"
				      "d = [{'k%d' % i: [str(i)] * 4} for i in range(5000)]\n"
				      "print(len(json.dumps(d)))"),
		 trace);
	assert_true(expect_agree(trace, NULL, 1) >= 20);
}

/* export_run traces the proctree workload (a process tree) into a new run directory run and
 * exports it as format into out: the run's `stats --json`. */
static char *export_run(const char *format, char run[PATH_MAX], char out[PATH_MAX])
{
	/* The directory as `xtrace run` names it to the shim: a sanitized CLI's `run` would preload
	 * a sanitized shim. */
	h_fmt(run, PATH_MAX, "%s", h_tmpdir());
	char env[PATH_MAX + 16];
	h_fmt(env, sizeof env, "XTRACE_DIR=%s", run);
	struct h_run r;
	h_traced(&r, (const char *const[]){env, NULL}, H_ARGV((char *)h_workload("proctree")));
	h_expect_exit(&r, 0);
	export(format, run, NULL, out);
	return h_stats_json(run, 0);
}

static void test_pprof_run(void **state)
{
	char run[PATH_MAX], out[PATH_MAX];
	char *stats = export_run("pprof", run, out);
	static struct row rows[MAXROWS];
	uint64_t total;
	pprof_top(out, "alloc_space", rows, &total);
	assert_int_equal(total, h_json_u64(stats, "alloc_bytes"));
	/* the processes as labels: every pid of the run, the program's path */
	char *tags = tool(H_ARGV(GO, "tool", "pprof", "-tags", "-sample_index=alloc_objects", out));
	assert_non_null(strstr(tags, " exe: Total "));
	char want[PATH_MAX + 8];
	h_fmt(want, sizeof want, ": %s\n", h_workload("proctree"));
	assert_non_null(strstr(tags, want));
	assert_non_null(strstr(tags, " pid: Total "));
	char paths[16][PATH_MAX];
	size_t n = h_find_traces(run, paths, 16);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		char pid[64];
		h_fmt(pid, sizeof pid, ": %.*s\n", (int)strcspn(strrchr(paths[i], '/') + 1, "."),
		      strrchr(paths[i], '/') + 1);
		if (!strstr(tags, pid))
			fail_msg("no pid label %s in:\n%s", pid, tags);
	}
}

/* speedscope_check validates file and returns its output: "profiles N weights W", then a line
 * per profile "NAME W". */
static char *speedscope_check(const char *file)
{
	char script[PATH_MAX];
	if (!realpath("tests/integration/speedscope_check.py", script))
		fail_msg("tests/integration/speedscope_check.py not found (run from the repository)");
	return tool(H_ARGV(PYTHON, script, (char *)file));
}

static void test_speedscope_threads(void **state)
{
	char trace[PATH_MAX];
	trace_of(NULL, H_ARGV((char *)h_workload("threads"), "4", "200"), trace);
	char out[PATH_MAX];
	export("speedscope", trace, NULL, out);
	char *check = speedscope_check(out);
	char *stats = h_stats_json(trace, 0);
	/* every thread allocated; the weights are the requested bytes */
	char want[128];
	h_fmt(want, sizeof want, "profiles %llu weights %llu\n",
	      (unsigned long long)h_json_u64(stats, "threads"),
	      (unsigned long long)h_json_u64(stats, "alloc_bytes"));
	if (strncmp(check, want, strlen(want)) != 0)
		fail_msg("expected %s, got:\n%s", want, check);
	/* each thread's profile weighs what its successful allocations requested, as the CSV
	 * export lists them (gen,time_ns,thread,event,addr,size,...) */
	char csv[PATH_MAX];
	export("csv", trace, NULL, csv);
	char *rows = h_track(h_read_file(csv, NULL));
	struct row per[64];
	size_t n = 0;
	for (const char *p = strchr(rows, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
		char tid[32], event[32], addr[32];
		unsigned long long size = 0;
		if (sscanf(p + 1, "%*[^,],%*[^,],%31[^,],%31[^,],%31[^,],%llu", tid, event, addr, &size) == 4 &&
		    !strcmp(event, "ObjectAlloc") && strcmp(addr, "0") != 0) {
			char name[64];
			h_fmt(name, sizeof name, "thread %s", tid);
			n = add_row(per, n, name, strlen(name), size);
		}
	}
	assert_int_equal(n, h_json_u64(stats, "threads"));
	for (size_t i = 0; i < n; i++) {
		h_fmt(want, sizeof want, "\n%s %llu\n", per[i].name, (unsigned long long)per[i].v);
		if (!strstr(check, want))
			fail_msg("no line '%s' in:\n%s", want + 1, check);
	}
	/* stacks root first: frames are numbered as the first stack names them, so the first is
	 * the main thread's outermost */
	char *j = h_track(h_read_file(out, NULL));
	assert_non_null(strstr(j, "\"frames\": [\n    {\"name\": \"_start\"}"));
	assert_non_null(strstr(j, "\"activeProfileIndex\": "));
}

static void test_speedscope_run(void **state)
{
	char run[PATH_MAX], out[PATH_MAX];
	char *stats = export_run("speedscope", run, out);
	char *check = speedscope_check(out);
	char want[128];
	h_fmt(want, sizeof want, " weights %llu\n", (unsigned long long)h_json_u64(stats, "alloc_bytes"));
	if (!strstr(check, want))
		fail_msg("expected%s, got:\n%s", want, check);
	/* profiles are named by process and thread */
	if (!strstr(check, "\nproctree (pid ") ||
	    !strstr(check, ") thread "))
		fail_msg("no profile named by process and thread in:\n%s", check);
}

int main(void)
{
	if (access(GO, X_OK) != 0 || access(PYTHON, X_OK) != 0) {
		fprintf(stderr, "test_export_tools: %s and %s are needed (scripts/deps.sh installs "
				"golang-go and python3-jsonschema)\n", GO, PYTHON);
		return 1;
	}
	/* go keeps a build cache under $HOME, and pprof may write under it */
	setenv("HOME", h_tmpdir(), 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pprof_sites),
		cmocka_unit_test(test_pprof_cxx),
		cmocka_unit_test(test_pprof_python),
		cmocka_unit_test(test_pprof_run),
		cmocka_unit_test(test_speedscope_threads),
		cmocka_unit_test(test_speedscope_run),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
