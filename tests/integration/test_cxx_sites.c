/* test_cxx_sites.c: a C++ program built with g++ -O2 -g (tests/workloads/cxx_sites.cpp) read as
 * people read it: top, leaks, flame and diff name the program's own functions, demangled, as
 * the sites (never operator new, the standard library's internals or a mangled name), a
 * member function inlined into its caller is a frame of its own with its own line, symbol
 * versions are gone, --alloc-fn makes the program's own wrapper machinery too,
 * --keep-allocator-frames shows every frame, and dump --stacks shows them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

static char trace1[PATH_MAX], trace2[PATH_MAX];
static char *program_out; /* the workload's own account of its sites */

/* The collapsed stacks above main: the program's entry in glibc. */
#define ROOT "_start;__libc_start_main;__libc_start_call_main;main;"

static void trace_workload(char path[PATH_MAX])
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("cxx_sites")));
	h_expect_exit(&r, 0);
	h_one_trace(&r, path);
	if (!program_out)
		program_out = strdup(r.out);
	h_run_free(&r);
}

static int setup(void **state)
{
	trace_workload(trace1);
	trace_workload(trace2);
	return 0;
}

static int teardown(void **state)
{
	free(program_out);
	return 0;
}

static char *cli_ok(char *const args[])
{
	struct h_run c;
	int rc = h_cli(&c, args);
	if (rc != 0)
		fail_msg("xtrace %s: exit %d\nstdout: %s\nstderr: %s", args[0], rc, c.out, c.err);
	return c.out;
}

/* tsv_cell copies cell col of TSV line i (0: header) into buf: 0 past the last line. */
static int tsv_cell(const char *tsv, int i, int col, char *buf, size_t len)
{
	const char *p = tsv;
	for (int k = 0; k < i && p; k++)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	if (!p || !*p)
		return 0;
	for (int k = 0; k < col; k++) {
		p += strcspn(p, "\t\n");
		if (*p != '\t')
			return 0;
		p++;
	}
	h_fmt(buf, len, "%.*s", (int)strcspn(p, "\t\n"), p);
	return 1;
}

/* expect_sites asserts that the `top --tsv` output out has exactly the sites named (in any
 * order) with the allocations and bytes the program reported for them, and one more: the C++
 * library's own emergency pool, allocated while libraries initialize (call_init). */
static void expect_sites(const char *out, const char *const *names, size_t n)
{
	size_t rows = 0;
	char site[1024], allocs[32], bytes[32];
	for (int i = 1; tsv_cell(out, i, 7, site, sizeof site); i++, rows++) {
		tsv_cell(out, i, 1, allocs, sizeof allocs);
		tsv_cell(out, i, 2, bytes, sizeof bytes);
		if (!strcmp(site, "call_init")) {
			assert_int_equal(strtoull(allocs, NULL, 10), 1);
			continue;
		}
		size_t k = 0;
		while (k < n && strcmp(site, names[k]) != 0)
			k++;
		if (k == n)
			fail_msg("unexpected site '%s' in:\n%s", site, out);
		char prefix[256];
		h_fmt(prefix, sizeof prefix, "site=%s ", names[k]);
		if (strtoull(allocs, NULL, 10) != h_out_u64(program_out, prefix, "allocs") ||
		    strtoull(bytes, NULL, 10) != h_out_u64(program_out, prefix, "bytes"))
			fail_msg("site %s: %s allocations, %s bytes; the program says:\n%s", site, allocs,
				 bytes, program_out);
	}
	if (rows != n + 1)
		fail_msg("%zu sites, expected %zu:\n%s", rows, n + 1, out);
}

static const char *const user_sites[] = {"app::make_nodes", "app::Table::fill",
					 "app::Registry::add", "app::share",
					 "app::leak_strings", "app::pool_alloc"};
#define NUSER (sizeof user_sites / sizeof user_sites[0])

static void test_top_names_program_functions(void **state)
{
	expect_sites(cli_ok(H_ARGV("top", "--tsv", "-n", "100", trace1)), user_sites, NUSER);
	/* The text table says the same, and nothing in it is mangled or versioned. */
	char *text = cli_ok(H_ARGV("top", "-n", "100", trace1));
	assert_non_null(strstr(text, "  app::Registry::add\n"));
	assert_null(strstr(text, "_Z"));
	assert_null(strstr(text, "operator new"));
	assert_null(strstr(text, "std::"));
}

static int line_of(const char *name)
{
	char prefix[128];
	h_fmt(prefix, sizeof prefix, "line %s=", name);
	const char *p = strstr(program_out, prefix);
	if (!p)
		fail_msg("no '%s' in the program's output:\n%s", prefix, program_out);
	return atoi(p + strlen(prefix));
}

/* frame_json returns the text of the first JSON frame object of function name in json. */
static char *frame_json(const char *json, const char *name)
{
	char key[256];
	h_fmt(key, sizeof key, "\"function\": \"%s\"", name);
	const char *p = strstr(json, key);
	if (!p)
		fail_msg("no frame of %s in:\n%s", name, json);
	const char *end = strchr(p, '}');
	char *frame = h_track(strndup(p, (size_t)(end - p)));
	return frame;
}

static void test_inlined_member_is_a_frame(void **state)
{
	int add = line_of("app::Registry::add"), fill = line_of("app::fill_registry");
	char want[256];
	/* by stack: the inlined member, at its own line, inside its caller */
	char *text = cli_ok(H_ARGV("top", "--group", "stack", "-n", "100", trace1));
	h_fmt(want, sizeof want,
	      "  app::Registry::add (cxx_sites.cpp:%d) < app::fill_registry < main < ...\n", add);
	if (!strstr(text, want))
		fail_msg("no '%s' in:\n%s", want, text);
	char *tsv = cli_ok(H_ARGV("top", "--group", "stack", "--tsv", "-n", "100", trace1));
	assert_non_null(strstr(tsv, "\t" ROOT "app::fill_registry;app::Registry::add\n"));

	/* JSON: readable and raw names, the inlined frame first, each with its own line */
	char *json = cli_ok(H_ARGV("top", "--group", "stack", "--json", "-n", "100", trace1));
	char *f = frame_json(json, "app::Registry::add");
	assert_non_null(strstr(f, "\"symbol\": \"_ZN3app8Registry3addEiPKc\""));
	h_fmt(want, sizeof want, "\"line\": %d,", add);
	assert_non_null(strstr(f, want));
	assert_non_null(strstr(f, "\"inlined\": true"));
	f = frame_json(json, "app::fill_registry");
	assert_non_null(strstr(f, "\"symbol\": \"_ZN3app13fill_registryERNS_8RegistryEi\""));
	h_fmt(want, sizeof want, "\"line\": %d,", fill);
	assert_non_null(strstr(f, want));
	assert_non_null(strstr(f, "\"inlined\": false"));
	/* the version goes from the readable name, stays in the raw one */
	f = frame_json(json, "__libc_start_main");
	assert_non_null(strstr(f, "\"symbol\": \"__libc_start_main@@GLIBC_2.34\""));
}

static void test_flame_stacks_end_at_sites(void **state)
{
	char *out = cli_ok(H_ARGV("flame", trace1));
	static const char *const lines[] = {
		ROOT "app::make_nodes 20800\n",
		ROOT "app::Table::fill 8000\n",
		ROOT "app::use_pool;app::pool_alloc 6000\n",
		ROOT "app::fill_registry;app::Registry::add 4600\n",
		ROOT "app::share 3840\n",
		ROOT "app::leak_strings 730\n",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		if (!strstr(out, lines[i]))
			fail_msg("no line '%s' in:\n%s", lines[i], out);
	assert_int_equal(h_count_lines(out), 7); /* and the C++ library's pool, from call_init */
	assert_non_null(strstr(out, ";call_init "));
	assert_null(strstr(out, "_Z"));
	assert_null(strstr(out, "@"));
	assert_null(strstr(out, "operator new"));

	char svg[PATH_MAX];
	h_fmt(svg, sizeof svg, "%s/f.svg", h_tmpdir());
	cli_ok(H_ARGV("flame", "--svg", svg, trace1));
	char *text = h_track(h_read_file(svg, NULL));
	assert_non_null(strstr(text, "<title>app::Registry::add (4.49 KiB"));
	assert_null(strstr(text, "_Z"));
}

static void test_leaks_by_program_function(void **state)
{
	char *json = cli_ok(H_ARGV("leaks", "--group", "function", "--json", trace1));
	assert_int_equal(h_json_u64(json, "leaked_objects"), 21); /* and the C++ library's pool */
	char *f = frame_json(json, "app::leak_strings");
	assert_non_null(strstr(f, "\"symbol\": \"_ZN3app12leak_stringsEi\""));
	assert_non_null(strstr(json, "\"key\": \"app::leak_strings\", \"allocs\": 20, \"bytes\": 730"));
	char *text = cli_ok(H_ARGV("leaks", trace1));
	assert_non_null(strstr(text, "730 B in 20 objects, of 20 allocations (730 B), allocated at\n"
				     "    app::leak_strings  cxx_sites.cpp:"));
	assert_null(strstr(text, "operator new"));
	assert_null(strstr(text, "_Z"));
}

static void test_alloc_fn(void **state)
{
	char *out = cli_ok(H_ARGV("top", "--tsv", "-n", "100", "--alloc-fn", "app::pool_alloc", trace1));
	/* the wrapper's caller takes its allocations over */
	assert_non_null(strstr(out, "\t20\t6000\t"));
	assert_non_null(strstr(out, "\tapp::use_pool\n"));
	assert_null(strstr(out, "app::pool_alloc"));
	/* by its raw symbol too, and with other names given */
	char *raw = cli_ok(H_ARGV("top", "--tsv", "-n", "100", "--alloc-fn", "xmalloc", "--alloc-fn",
				  "_ZN3app10pool_allocEm", trace1));
	assert_string_equal(raw, out);
}

static void test_keep_allocator_frames(void **state)
{
	char *out = cli_ok(H_ARGV("top", "--tsv", "-n", "100", "--keep-allocator-frames", trace1));
	char site[1024], allocs[32];
	uint64_t new_allocs = 0;
	for (int i = 1; tsv_cell(out, i, 7, site, sizeof site); i++)
		if (!strcmp(site, "operator new") && tsv_cell(out, i, 1, allocs, sizeof allocs))
			new_allocs = strtoull(allocs, NULL, 10);
	/* every allocation but the wrapper's (malloc) and the pool's goes through operator new */
	assert_int_equal(new_allocs, 101 + 1 + 100 + 31 + 20);
	assert_null(strstr(out, "app::make_nodes"));
}

static void test_dump_shows_every_frame(void **state)
{
	char *out = cli_ok(H_ARGV("dump", "--stacks", trace1));
	char want[256];
	h_fmt(want, sizeof want, " app::Registry::add tests/workloads/cxx_sites.cpp:%d (inlined)\n",
	      line_of("app::Registry::add"));
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, " operator new (libstdc++.so.6+0x"));
	assert_non_null(strstr(out, " std::make_unique<app::Node> /usr/include/c++/"));
	assert_non_null(strstr(out, " __libc_start_main ../csu/libc-start.c:"));
	assert_null(strstr(out, "@@GLIBC"));
}

static void test_diff_matches_readable_sites(void **state)
{
	char *out = cli_ok(H_ARGV("diff", "--tsv", "-n", "100", trace1, trace2));
	for (size_t i = 0; i < NUSER; i++) {
		char want[256];
		h_fmt(want, sizeof want, "\t0\t+0.0%%\t%s\n", user_sites[i]);
		if (!strstr(out, want))
			fail_msg("no unchanged site %s in:\n%s", user_sites[i], out);
	}
	assert_null(strstr(out, "_Z"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_names_program_functions),
		cmocka_unit_test(test_inlined_member_is_a_frame),
		cmocka_unit_test(test_flame_stacks_end_at_sites),
		cmocka_unit_test(test_leaks_by_program_function),
		cmocka_unit_test(test_alloc_fn),
		cmocka_unit_test(test_keep_allocator_frames),
		cmocka_unit_test(test_dump_shows_every_frame),
		cmocka_unit_test(test_diff_matches_readable_sites),
	};
	return h_finish(cmocka_run_group_tests_name("cxx_sites", tests, setup, teardown));
}
