/* test_heaps.c: the program's own heaps (the Heaps experiment) and the address space (AddrSpace)
 * through the analyses and the commands, on traces built with tracegen: each heap's totals,
 * --heap on the site commands, each heap validated against its own live set, an unknown heap,
 * the memory levels and their time series, and the registry running only what a pass asks for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "allocfree.h"
#include "analysis/summary.h"
#include "clirun.h"
#include "traceopen.h"

enum { T_MALLOC100 = 1 };
enum { POOL = 1, ARENA = 2 };
#define MAP 0x7f0000000000ull
#define MAP2 0x7f0000100000ull
#define TSTACK 0x7e0000000000ull
#define STACK_LEN (8ull << 20)

/* tables writes a generation's Sync, AllocFree's type table, the heap table, a memory sample
 * and two stacks. */
static void tables(struct tg *t, uint64_t time, uint64_t resident, uint64_t mapped)
{
	tg_sync(t, time, XT_TICKS_PER_SEC, 1700000000, 0);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, time);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, T_MALLOC100, XT_API_MALLOC, 100, 1, 0);
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_HEAPS, time);
	tg_u8(t, 0);
	tg_heap_name(t, POOL, "pool");
	tg_heap_name(t, ARENA, "arena");
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ADDRSPACE, time);
	tg_u8(t, 0);
	tg_memory_sample(t, time + 500, resident, mapped);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, time);
	tg_stack(t, 1, 2, (const uint64_t[]){0x401010, 0x401100});
	tg_stack(t, 2, 2, (const uint64_t[]){0x402020, 0x402100});
	tg_batch_end(t);
}

/* heaps_trace: malloc, two heaps of the program's own and its address space.
 *   gen 1  malloc 0x1000 (100)
 *          pool: alloc 0x9000 (64), 0x9040 (32), free 0x9000
 *          arena: alloc 0xa000 (500), free it, free it again (an error)
 *          pool: free 0x1000, malloc's, not pool's (an error)
 *          map 16 KiB (stack 1) and 8 KiB (stack 2), a thread stack of 8 MiB
 *   gen 2  pool: alloc 0x9080 (1000): pool's peak, 1032 B
 *          unmap the 16 KiB, the break moves up 128 KiB, the thread's stack goes
 * Memory samples: (resident 8 KiB, mapped 64 KiB) at +500ns, (16 KiB, 128 KiB) at +4.5us. */
static struct tg *heaps_trace(const struct tg_header *h)
{
	struct tg *t = tg_new(h);
	tg_gen(t, 1);
	tables(t, 1000, 8192, 65536);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 10, 0x1000, T_MALLOC100, 1);
	tg_event(t, XT_EV_HeapAlloc, 10, POOL, 0x9000, 64, 2);
	tg_event(t, XT_EV_HeapAlloc, 10, POOL, 0x9040, 32, 2);
	tg_event(t, XT_EV_HeapFree, 10, POOL, 0x9000);
	tg_event(t, XT_EV_HeapAlloc, 10, ARENA, 0xa000, 500, 1);
	tg_event(t, XT_EV_HeapFree, 10, ARENA, 0xa000);
	tg_event(t, XT_EV_HeapFree, 10, ARENA, 0xa000);
	tg_event(t, XT_EV_HeapFree, 10, POOL, 0x1000);
	tg_event(t, XT_EV_MapCreate, 10, MAP, 16384, 3, 0x22, 1);
	tg_event(t, XT_EV_MapCreate, 10, MAP2, 8192, 3, 0x22, 2);
	tg_event(t, XT_EV_StackAlloc, 10, TSTACK, STACK_LEN);
	tg_batch_end(t);
	tg_end(t, 0);
	tg_gen(t, 2);
	tables(t, 5000, 16384, 131072);
	tg_batch(t, XT_BATCH_EVENTS, 7, 6000);
	tg_event(t, XT_EV_HeapAlloc, 10, POOL, 0x9080, 1000, 2);
	tg_event(t, XT_EV_MapFree, 10, MAP, 16384, 1);
	tg_event(t, XT_EV_BrkMove, 10, 0x560000, 1);
	tg_event(t, XT_EV_BrkMove, 10, 0x580000, 1);
	tg_event(t, XT_EV_StackFree, 10, TSTACK);
	tg_batch_end(t);
	tg_end(t, 0);
	return t;
}

static char *trace_file(void)
{
	struct tg *t = heaps_trace(NULL);
	char *path = tg_tmpfile(t, TG_ALL);
	tg_free(t);
	return path;
}

static void done(char *path)
{
	unlink(path);
	free(path);
}

/* run runs fn with the arguments after name, on path, and returns its output (malloc'd) with
 * its exit code in *code. */
#define run(fn, code, path, ...)                                                              \
	run_args((fn), (code), (path), (const char *[]){#fn, ##__VA_ARGS__, NULL})
static char *run_args(int (*fn)(int, char **, const struct xt_command *), int *code,
		      const char *path, const char **args)
{
	char *argv[16];
	int n = 0;
	for (; args[n]; n++)
		argv[n] = (char *)args[n];
	argv[n++] = (char *)path;
	argv[n] = NULL;
	char *out;
	*code = run_argv(fn, argv, &out);
	return out;
}

static void assert_has(const char *out, const char *what)
{
	if (!strstr(out, what))
		fail_msg("missing %s in:\n%s", what, out);
}

/* Each heap gets its own totals; the malloc heap's stay where they were. */
static void test_heap_totals(void **state)
{
	char *path = trace_file();
	xtrace_reader *r = tg_open_file(path);
	struct xt_summary s;
	assert_int_equal(xt_summarize(r, &s, NULL, NULL), XTRACE_OK);
	assert_int_equal(s.events, 16);
	assert_int_equal(s.heap.allocs, 1);
	assert_int_equal(s.heap.live_bytes, 100);
	assert_int_equal(s.heaps.n, 2);
	struct xt_named_heap *pool = xt_heaps_find(&s.heaps, "pool");
	struct xt_named_heap *arena = xt_heaps_find(&s.heaps, "arena");
	assert_non_null(pool);
	assert_non_null(arena);
	assert_int_equal(pool->heap.allocs, 3);
	assert_int_equal(pool->heap.frees, 2);
	assert_int_equal(pool->heap.alloc_bytes, 1096);
	assert_int_equal(pool->heap.peak_live_bytes, 1032);
	assert_int_equal(pool->heap.live_bytes, 1032);
	assert_int_equal(pool->heap.live.count, 2);
	assert_int_equal(pool->heap.errors, 1);
	assert_int_equal(arena->heap.errors, 1);
	assert_int_equal(arena->heap.live_bytes, 0);
	xt_summary_destroy(&s);
	xtrace_close(r);
	done(path);
}

static void test_stats_heaps(void **state)
{
	char *path = trace_file();
	int code;
	char *out = run(cmd_stats, &code, path, "--json");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\n  \"allocs\": 1,"); /* the totals are the malloc heap's */
	assert_has(out, "\"heaps\": {\n"
			"    \"malloc\": {\"allocs\": 1, \"frees\": 0, \"alloc_bytes\": 100, "
			"\"peak_live_bytes\": 100, \"live_bytes_at_end\": 100, \"live_objects_at_end\": 1},\n"
			"    \"pool\": {\"allocs\": 3, \"frees\": 2, \"alloc_bytes\": 1096, "
			"\"peak_live_bytes\": 1032, \"live_bytes_at_end\": 1032, \"live_objects_at_end\": 2},\n"
			"    \"arena\": {\"allocs\": 1, \"frees\": 2, \"alloc_bytes\": 500, "
			"\"peak_live_bytes\": 500, \"live_bytes_at_end\": 0, \"live_objects_at_end\": 0}\n  }");
	free(out);
	out = run(cmd_stats, &code, path, "--json", "--heap", "pool");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\n  \"allocs\": 3,");
	assert_has(out, "\n  \"peak_live_bytes\": 1032,");
	free(out);
	out = run(cmd_stats, &code, path);
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\nheap    allocations  frees  requested  peak live   live at end\n"
			"malloc            1      0      100 B      100 B     1 (100 B)\n"
			"pool              3      2   1.07 KiB   1.00 KiB  2 (1.00 KiB)\n"
			"arena             1      2      500 B      500 B       0 (0 B)\n");
	free(out);
	done(path);
}

static void test_heap_option_on_sites(void **state)
{
	char *path = trace_file();
	int code;
	char *out = run(cmd_top, &code, path, "--json", "--heap", "pool");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\n  \"heap\": \"pool\",");
	assert_has(out, "\"peak_live_bytes\": 1032,");
	assert_has(out, "\"totals\": {\"sites\": 1, \"allocs\": 3, \"bytes\": 1096,");
	free(out);
	out = run(cmd_top, &code, path, "--json");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\"totals\": {\"sites\": 1, \"allocs\": 1, \"bytes\": 100,");
	free(out);
	out = run(cmd_leaks, &code, path, "--json", "--heap", "pool");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\n  \"heap\": \"pool\",");
	assert_has(out, "\"leaked_objects\": 2, \"leaked_bytes\": 1032");
	free(out);
	out = run(cmd_peak, &code, path, "--json", "--heap", "pool");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "1032");
	free(out);
	out = run(cmd_top, &code, path, "--heap", "pool");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "(pid 4242)\nheap     pool\n\n");
	free(out);
	out = run(cmd_flame, &code, path, "--heap", "arena");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, " 500\n");
	assert_null(strstr(out, " 100\n"));
	free(out);
	done(path);
}

/* Every heap is checked against its own live set; --heap checks one. */
static void test_validate_each_heap(void **state)
{
	char *path = trace_file();
	int code;
	char *out = run(cmd_validate, &code, path);
	assert_int_equal(code, XT_EXIT_FAIL);
	assert_has(out, "error: gen=1 ts=+0.001070ms thread=7 HeapFree heap_value=2 obj_addr=0xa000: "
			"free of an address that is not live\n");
	assert_has(out, "HeapFree heap_value=1 obj_addr=0x1000: free of an address that is not live\n");
	assert_has(out, "invalid: 2 errors in 16 events, 2 generations\n");
	free(out);
	out = run(cmd_validate, &code, path, "--heap", "arena");
	assert_int_equal(code, XT_EXIT_FAIL);
	assert_has(out, "invalid: 1 errors in 16 events");
	assert_null(strstr(out, "heap_value=1"));
	free(out);
	out = run(cmd_validate, &code, path, "--heap", "malloc");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "valid: 16 events, 2 generations\n");
	free(out);
	done(path);
}

static void test_unknown_heap(void **state)
{
	char *path = trace_file();
	int (*const cmds[])(int, char **, const struct xt_command *) = {
		cmd_stats, cmd_validate, cmd_top, cmd_leaks, cmd_peak, cmd_flame};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		int code;
		char *out = run_args(cmds[i], &code, path, (const char *[]){"cmd", "--heap", "slab", NULL});
		assert_int_equal(code, XT_EXIT_USAGE);
		assert_has(out, ": no heap 'slab' (its heaps: malloc, pool, arena)\n");
		free(out);
	}
	done(path);
}

static void test_address_space(void **state)
{
	char *path = trace_file();
	xtrace_reader *r = tg_open_file(path);
	struct xt_summary s;
	assert_int_equal(xt_summarize(r, &s, NULL, NULL), XTRACE_OK);
	const struct xt_addrspace *m = &s.mem;
	assert_int_equal(m->samples, 2);
	assert_int_equal(m->maps.peak_live_bytes, 24576);
	assert_int_equal(m->maps.live_bytes, 8192);
	assert_int_equal(m->stack_bytes.peak, STACK_LEN);
	assert_int_equal(m->stacks, 0);
	assert_int_equal(m->brk_top - m->brk_low, 0x20000);
	assert_int_equal(m->resident.peak, 16384);
	assert_int_equal(m->npt, 2);
	xt_summary_destroy(&s);
	xtrace_close(r);

	int code;
	char *out = run(cmd_stats, &code, path, "--json");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\"memory\": {\n    \"samples\": 2,\n"
			"    \"heap_live_bytes\": {\"peak\": 100, \"peak_time_ns\": 1010, \"at_end\": 100},\n"
			"    \"mapped_bytes\": {\"peak\": 131072, \"peak_time_ns\": 4500, \"at_end\": 131072},\n"
			"    \"resident_bytes\": {\"peak\": 16384, \"peak_time_ns\": 4500, \"at_end\": 16384},\n"
			"    \"program_maps_bytes\": {\"peak\": 24576, \"peak_time_ns\": 1100, \"at_end\": 8192},\n");
	/* each sample with the heap and the program's maps at the end of its generation */
	assert_has(out, "\"series\": [\n"
			"      {\"time_ns\": 500, \"heap_live_bytes\": 100, \"mapped_bytes\": 65536, "
			"\"resident_bytes\": 8192, \"program_maps_bytes\": 24576},\n"
			"      {\"time_ns\": 4500, \"heap_live_bytes\": 100, \"mapped_bytes\": 131072, "
			"\"resident_bytes\": 16384, \"program_maps_bytes\": 8192}\n    ]");
	free(out);
	/* the program's maps as a heap: who maps */
	out = run(cmd_top, &code, path, "--json", "--heap", "mmap");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\"peak_live_bytes\": 24576,");
	assert_has(out, "\"totals\": {\"sites\": 2, \"allocs\": 2, \"bytes\": 24576,");
	free(out);
	out = run(cmd_leaks, &code, path, "--json", "--heap", "mmap");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\"leaked_objects\": 1, \"leaked_bytes\": 8192");
	free(out);
	out = run(cmd_stats, &code, path);
	assert_has(out, "\nmemory               peak       at      at end\n");
	assert_has(out, "\nresident        16.00 KiB  4.500us   16.00 KiB\n");
	free(out);
	done(path);
}

/* The chrome export's heap counters follow --heap. */
static void test_export_heap(void **state)
{
	char *path = trace_file();
	char out_path[] = "/tmp/xtrace-heaps-export.XXXXXX";
	tmp_output(out_path);
	const char *live[] = {"\"args\": {\"bytes\": 100}", "\"args\": {\"bytes\": 1032}"};
	for (int i = 0; i < 2; i++) {
		int code;
		char *out = i ? run(cmd_export, &code, path, "--format", "chrome", "-o", out_path,
				    "--heap", "pool")
			      : run(cmd_export, &code, path, "--format", "chrome", "-o", out_path);
		assert_int_equal(code, XT_EXIT_OK);
		free(out);
		char *buf = read_output(out_path);
		assert_has(buf, live[i]);
		assert_null(strstr(buf, live[1 - i]));
		free(buf);
	}
	unlink(out_path);
	done(path);
}

/* The CSV export fills addr and size of every heap's allocations (the heap view) and keeps a
 * heap's own events' arguments, its ID among them, in detail. */
static void test_export_csv(void **state)
{
	char *path = trace_file();
	char out_path[] = "/tmp/xtrace-heaps-csv.XXXXXX";
	tmp_output(out_path);
	int code;
	char *out = run(cmd_export, &code, path, "--format", "csv", "-o", out_path);
	assert_int_equal(code, XT_EXIT_OK);
	free(out);
	char *buf = read_output(out_path);
	assert_has(buf, "\n1,1010,7,ObjectAlloc,4096,100,malloc,,\n");
	assert_has(buf, "\n1,1020,7,HeapAlloc,36864,64,,,\"heap_value=1 obj_addr=36864 size_value=64 "
			"stack=2\"\n");
	assert_has(buf, "\n1,1040,7,HeapFree,36864,,,,\"heap_value=1 obj_addr=36864\"\n");
	free(buf);
	unlink(out_path);
	done(path);
}

/* The report charts the heap against mapped against resident memory. */
static void test_report_memory(void **state)
{
	char *path = trace_file();
	char out_path[] = "/tmp/xtrace-heaps-report.XXXXXX";
	tmp_output(out_path);
	int code;
	char *out = run(cmd_report, &code, path, "-o", out_path);
	assert_int_equal(code, XT_EXIT_OK);
	free(out);
	char *buf = read_output(out_path);
	/* each sample: its time, the live heap at its generation's end, mapped, resident */
	assert_has(buf, "\"memory\": [500,100,65536,8192,4500,100,131072,16384]");
	assert_has(buf, "<h2>heap, mapped and resident memory over time</h2>");
	free(buf);
	unlink(out_path);
	done(path);
}

/* A run directory: each heap summed by name over the images; each image validated. */
static void test_run_directory(void **state)
{
	char dir[] = "/tmp/xtrace-heaps-run.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char paths[2][64];
	for (int i = 0; i < 2; i++) {
		struct tg_header h = tg_default_header;
		h.pid = 100 + (uint64_t)i;
		struct tg *t = heaps_trace(&h);
		snprintf(paths[i], sizeof paths[i], "%s/%d.xt", dir, 100 + i);
		assert_int_equal(tg_write(t, paths[i], TG_ALL), 0);
		tg_free(t);
	}
	int code;
	char *out = run(cmd_stats, &code, dir, "--json");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\"pool\": {\"allocs\": 6, \"frees\": 4, \"alloc_bytes\": 2192, "
			"\"peak_live_bytes\": 1032, \"live_bytes_at_end\": 2064, \"live_objects_at_end\": 4}");
	free(out);
	/* --heap: the run's totals of that heap, its peak the largest sum of the images' */
	out = run(cmd_stats, &code, dir, "--json", "--heap", "pool");
	assert_int_equal(code, XT_EXIT_OK);
	assert_has(out, "\n  \"allocs\": 6,");
	assert_has(out, "\n  \"peak_live_bytes\": 2064,");
	free(out);
	out = run(cmd_stats, &code, dir, "--heap", "slab");
	assert_int_equal(code, XT_EXIT_USAGE);
	assert_has(out, ": no heap 'slab' (its heaps: malloc, pool, arena)\n");
	free(out);
	out = run(cmd_validate, &code, dir);
	assert_int_equal(code, XT_EXIT_FAIL);
	const char *p = out;
	int invalid = 0;
	while ((p = strstr(p, "invalid: 2 errors in 16 events"))) {
		invalid++;
		p++;
	}
	assert_int_equal(invalid, 2);
	free(out);
	out = run(cmd_validate, &code, dir, "--heap", "malloc");
	assert_int_equal(code, XT_EXIT_OK);
	free(out);
	for (int i = 0; i < 2; i++)
		unlink(paths[i]);
	rmdir(dir);
}

/* A pass runs the analyses it is asked for and no other. */
static void test_registry(void **state)
{
	char *path = trace_file();
	xtrace_reader *r = tg_open_file(path);
	struct xt_summary s;
	struct xt_pass p = {.analyses = XT_AN_BIT(XT_AN_TIMERS)};
	assert_int_equal(xt_summarize_pass(r, &s, &p), XTRACE_OK);
	assert_int_equal(s.ready, XT_AN_BIT(XT_AN_TIMERS));
	assert_int_equal(s.events, 16);
	assert_int_equal(s.heap.allocs, 0);
	assert_int_equal(s.heaps.n, 0);
	assert_int_equal(s.mem.samples, 0);
	xt_summary_destroy(&s);
	xtrace_close(r);
	done(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_totals),
		cmocka_unit_test(test_stats_heaps),
		cmocka_unit_test(test_heap_option_on_sites),
		cmocka_unit_test(test_validate_each_heap),
		cmocka_unit_test(test_unknown_heap),
		cmocka_unit_test(test_address_space),
		cmocka_unit_test(test_export_heap),
		cmocka_unit_test(test_export_csv),
		cmocka_unit_test(test_report_memory),
		cmocka_unit_test(test_run_directory),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
