/* test_cli.c: the stats/validate analysis and the subcommands' exit codes on traces built with
 * tracegen: a clean trace, heap errors, a forked child's inherited frees, truncated and corrupt
 * files. Commands run in-process with stdout sent to a temporary file. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "allocfree.h"
#include "analysis/summary.h"
#include "cli/cli.h"
#include "clirun.h"
#include "traceopen.h"

/* Type IDs of the test traces' type table. */
enum { T_MALLOC100 = 1, T_CALLOC40, T_REALLOC50, T_REALLOC0, T_MALLOC8 };

/* tables writes a generation's Sync, type table, a string and a stack. */
static void tables(struct tg *t, uint64_t time)
{
	tg_sync(t, time, XT_TICKS_PER_SEC, 1700000000, 0);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, time);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, T_MALLOC100, XT_API_MALLOC, 100, 1, 0);
	tg_alloc_type(t, T_CALLOC40, XT_API_CALLOC, 10, 4, 0);
	tg_alloc_type(t, T_REALLOC50, XT_API_REALLOC, 50, 1, 0);
	tg_alloc_type(t, T_REALLOC0, XT_API_REALLOC, 0, 1, 0);
	tg_alloc_type(t, T_MALLOC8, XT_API_MALLOC, 8, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, time);
	tg_stack(t, 1, 2, (const uint64_t[]){0x401010, 0x401100});
	tg_batch_end(t);
}

/* clean_trace: two generations, two threads, every kind of heap event, no errors.
 *   gen 1  t7: malloc 0x1000 (100)  calloc 0x2000 (40)  free 0x1000
 *          t8: realloc 0x2000 -> 0x3000 (50), malloc fails
 *   gen 2  t7: malloc 0x4000 (100), realloc(0x3000, 0) frees it
 * Live bytes: 100, 140, 40, 0+50, ..., 150 (peak), 100. */
static struct tg *clean_trace(const struct tg_header *h)
{
	struct tg *t = tg_new(h);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 10, 0x1000, T_MALLOC100, 1);
	tg_event(t, XT_EV_ObjectAlloc, 10, 0x2000, T_CALLOC40, 0);
	tg_event(t, XT_EV_ObjectFree, 10, 0x1000);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 8, 2100);
	tg_event(t, XT_EV_ObjectReallocFree, 0, 0x2000);
	tg_event(t, XT_EV_ObjectAlloc, 5, 0x3000, T_REALLOC50, 1);
	tg_event(t, XT_EV_ObjectAlloc, 5, 0, T_MALLOC8, 0);
	tg_batch_end(t);
	tg_end(t, 2);
	tg_gen(t, 2);
	tables(t, 5000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 6000);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x4000, T_MALLOC100, 0);
	tg_event(t, XT_EV_ObjectReallocFree, 10, 0x3000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0, T_REALLOC0, 0);
	tg_batch_end(t);
	tg_end(t, 1);
	return t;
}

static enum xtrace_status summarize_path(const char *path, struct xt_summary *s)
{
	xtrace_reader *r = tg_open_file(path);
	enum xtrace_status st = xt_summarize(r, s, NULL, NULL);
	xtrace_close(r);
	return st;
}

static void test_clean_summary(void **state)
{
	struct tg *t = clean_trace(NULL);
	char *path = tg_tmpfile(t, TG_ALL);
	struct xt_summary s;
	assert_int_equal(summarize_path(path, &s), XTRACE_OK);
	assert_int_equal(s.generations, 2);
	assert_int_equal(s.events, 9);
	assert_int_equal(s.lost_events, 3);
	assert_int_equal(s.threads, 2);
	assert_int_equal(s.last_ts, 6011);
	const struct xt_heap *h = &s.heap;
	assert_int_equal(h->allocs, 4);
	assert_int_equal(h->failed_allocs, 1); /* realloc(p, 0) returning NULL is not a failure */
	assert_int_equal(h->frees, 1);
	assert_int_equal(h->realloc_frees, 2);
	assert_int_equal(h->alloc_bytes, 290);
	assert_int_equal(h->peak_live_bytes, 150);
	assert_int_equal(h->peak_ts, 6000);
	assert_int_equal(h->live_bytes, 100);
	assert_int_equal(h->live.count, 1);
	assert_int_equal(h->errors, 0);
	assert_int_equal(h->by_api[XT_API_MALLOC].calls, 3);
	assert_int_equal(h->by_api[XT_API_MALLOC].bytes, 200);
	assert_int_equal(h->by_api[XT_API_CALLOC].bytes, 40);
	assert_int_equal(h->by_api[XT_API_REALLOC].calls, 2);
	assert_int_equal(h->by_api[XT_API_REALLOC].bytes, 50);
	xt_summary_destroy(&s);

	char *out;
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_OK);
	/* both generations lost events: each is a gap the heap reads across */
	assert_string_equal(out, "valid: 9 events, 2 generations, 2 gaps in the recording (switched "
			    "off, generations not kept, or events lost): 0 frees of objects "
			    "allocated in them\n");
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", "--json", path, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "\"generations\": 2,"));
	assert_non_null(strstr(out, "\"frees\": 3,"));
	assert_non_null(strstr(out, "\"duration_ns\": 5011,"));
	assert_non_null(strstr(out, "\"truncated\": false,"));
	assert_non_null(strstr(out, "\"malloc\": {\"calls\": 3, \"bytes\": 200}"));
	assert_non_null(strstr(out, "\"free\": {\"calls\": 1}"));
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", NULL, path, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "\npeak live             150 B  at 5.000us\n"));
	assert_non_null(strstr(out, "\nprogram  /usr/bin/xtrace-test (pid 4242)\n\n"));
	assert_non_null(strstr(out, "\nmalloc       3      200 B\n"));
	free(out);
	assert_int_equal(run_cmd(cmd_dump, "dump", NULL, path, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "\ngen=1 ts=+0.001010ms thread=7 ObjectAlloc obj_addr=0x1000 type=1 stack=1\n"));
	assert_non_null(strstr(out, "\n== generation 2 Sync: ts=+0.004000ms threads=1 events=3 lost=1 "
				    "modules=0 batches: AllocFree=1 ("));
	free(out);
	assert_int_equal(run_cmd(cmd_dump, "dump", "--stacks", path, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "stack=1\n    0x401010 ??\n    0x401100 ??\ngen=1"));
	free(out);
	assert_int_equal(run_cmd(cmd_dump, "dump", "--no-symbols", path, &out), XT_EXIT_OK);
	assert_null(strstr(out, "0x401010")); /* frames only with --stacks */
	free(out);

	unlink(path);
	free(path);
	tg_free(t);
}

/* put_line writes ev's dump line through a writer of cap bytes and returns it (malloc'd). */
static char *put_line(const xtrace_reader *r, const struct xtrace_event *ev, size_t cap)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	struct xt_out o;
	assert_int_equal(xt_out_open(&o, fileno(f), cap), 0);
	cli_put_event(&o, r, ev);
	assert_int_equal(xt_out_close(&o), 0);
	off_t n = lseek(fileno(f), 0, SEEK_END);
	assert_true(n > 0);
	char *line = calloc(1, (size_t)n + 1);
	assert_int_equal(pread(fileno(f), line, (size_t)n, 0), n);
	fclose(f);
	return line;
}

/* Dump lines are written in place when the writer has room and piece by piece when it has not
 * (a small writer): both ways give the same bytes, for every event of the trace. */
static void test_dump_line_both_ways(void **state)
{
	struct tg *t = clean_trace(NULL);
	char *path = tg_tmpfile(t, TG_ALL);
	xtrace_reader *r = xtrace_open(path, NULL, 0);
	assert_non_null(r);
	struct xtrace_event ev;
	int lines = 0;
	while (xtrace_next(r, &ev) > 0) {
		if (ev.kind == XTRACE_EVENT_SYNC)
			continue;
		char *fast = put_line(r, &ev, 1 << 16), *slow = put_line(r, &ev, 8);
		assert_string_equal(fast, slow);
		assert_non_null(strstr(fast, ev.name));
		free(fast);
		free(slow);
		lines++;
	}
	assert_int_equal(lines, 9);
	xtrace_close(r);
	unlink(path);
	free(path);
	tg_free(t);
}

/* A double allocation, a double free and a free of a never-allocated address: three errors. */
static void test_validation_errors(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, T_MALLOC100, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, T_MALLOC8, 0);
	tg_event(t, XT_EV_ObjectFree, 1, 0x1000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x1000);
	tg_event(t, XT_EV_ObjectReallocFree, 1, 0x9990);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);

	struct xt_summary s;
	assert_int_equal(summarize_path(path, &s), XTRACE_OK);
	assert_int_equal(s.heap.errors, 3);
	assert_int_equal(s.heap.live_bytes, 0);
	xt_summary_destroy(&s);

	char *out;
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_FAIL);
	assert_non_null(strstr(out, "error: gen=1 ts=+0.001002ms thread=7 ObjectAlloc obj_addr=0x1000 "
				    "type=5 stack=0: allocation of an address that is still live\n"));
	assert_non_null(strstr(out, "ObjectReallocFree obj_addr=0x9990: free of an address that is not live\n"));
	assert_non_null(strstr(out, "invalid: 3 errors in 5 events, 1 generations\n"));
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", "--json", path, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "\"invalid_events\": 3,"));
	free(out);
	unlink(path);
	free(path);
	tg_free(t);
}

/* Validate lists at most 20 errors and counts the rest. */
static void test_error_listing_limit(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	for (int i = 0; i < 25; i++)
		tg_event(t, XT_EV_ObjectFree, 1, 0x1000 + 16 * (uint64_t)i);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	char *out;
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_FAIL);
	size_t listed = 0;
	for (const char *p = out; (p = strstr(p, "error: ")); p++)
		listed++;
	assert_int_equal(listed, 20);
	assert_non_null(strstr(out, "... and 5 more errors\n"));
	free(out);
	unlink(path);
	free(path);
	tg_free(t);
}

/* Times are coarse (64 TSC ticks): a thread reusing an address another thread freed often
 * records its allocation at the free's time. The free comes first whatever the threads' order:
 *   t9: malloc 0x6000 @2000, free 0x5000 @2100, realloc 0x6000 -> 0x7000 @2200
 *   t7: malloc 0x5000 @2000, malloc 0x5000 @2100, malloc 0x6000 @2200 */
static void test_same_tick_reuse(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 9, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x6000, T_MALLOC100, 0);
	tg_event(t, XT_EV_ObjectFree, 100, 0x5000);
	tg_event(t, XT_EV_ObjectReallocFree, 100, 0x6000);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x7000, T_REALLOC50, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x5000, T_MALLOC100, 0);
	tg_event(t, XT_EV_ObjectAlloc, 100, 0x5000, T_MALLOC8, 0);
	tg_event(t, XT_EV_ObjectAlloc, 100, 0x6000, T_MALLOC8, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	char *out;
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_OK);
	assert_string_equal(out, "valid: 7 events, 1 generations\n");
	free(out);
	struct xt_summary s;
	assert_int_equal(summarize_path(path, &s), XTRACE_OK);
	assert_int_equal(s.heap.live_bytes, 8 + 8 + 50);
	xt_summary_destroy(&s);
	unlink(path);
	free(path);
	tg_free(t);
}

/* lossy_trace: generation 2 lost events, any of them an allocation or a free between two
 * recorded ones; generation 3 lost none. double_free3: generation 3 frees an address twice. */
static char *lossy_trace(int double_free3)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, T_MALLOC100, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x6000, T_MALLOC100, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	tg_gen(t, 2);
	tables(t, 3000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 4000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x5000);
	/* lost: the allocation of 0x5000 again, and the free of 0x6000 */
	tg_event(t, XT_EV_ObjectFree, 1, 0x5000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x6000, T_MALLOC100, 0);
	tg_batch_end(t);
	tg_end(t, 2);
	tg_gen(t, 3);
	tables(t, 5000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 6000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, T_MALLOC100, 0);
	tg_event(t, XT_EV_ObjectFree, 1, 0x5000);
	if (double_free3)
		tg_event(t, XT_EV_ObjectFree, 1, 0x5000);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	tg_free(t);
	return path;
}

/* A generation that lost events may have lost an allocation or a free between two recorded
 * ones: a second free, or a second allocation, of an address there is no error; the gap ends
 * with the generation, and a double free after it is one again. */
static void test_lost_events(void **state)
{
	char *out, *path = lossy_trace(0);
	if (run_cmd(cmd_validate, "validate", NULL, path, &out) != XT_EXIT_OK)
		fail_msg("validate said:\n%s", out);
	assert_non_null(strstr(out, "valid: 7 events, 3 generations, 1 gap in the recording"));
	assert_non_null(strstr(out, "1 frees of objects allocated in them"));
	free(out);
	unlink(path);
	free(path);
	path = lossy_trace(1);
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_FAIL);
	assert_non_null(strstr(out, "invalid: 1 errors in 8 events"));
	assert_non_null(strstr(out, "gen=3"));
	free(out);
	unlink(path);
	free(path);
}

/* A forked child frees objects it inherited: counted, not errors; a second free still is one. */
static void test_forked_child(void **state)
{
	struct tg_header h = tg_default_header;
	h.fork_parent_pid = 4000;
	h.fork_ts = 900;
	struct tg *t = tg_new(&h);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x7000);
	tg_event(t, XT_EV_ObjectReallocFree, 1, 0x7100);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x7200, T_REALLOC50, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	char *out;
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_OK);
	assert_string_equal(out, "valid: 3 events, 1 generations, 2 frees of objects inherited at fork\n");
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", "--json", path, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "\"inherited_frees\": 2,"));
	assert_non_null(strstr(out, "\"fork_parent_pid\": 4000,"));
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", NULL, path, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "(pid 4242, forked from pid 4000)\n"));
	assert_non_null(strstr(out, "\ninherited frees           2\n"));
	free(out);
	unlink(path);
	free(path);
	tg_free(t);
}

/* A file cut inside generation 2: generation 1 is used, exit 3 with the offset named. */
static void test_truncated(void **state)
{
	struct tg *t = clean_trace(NULL);
	size_t len;
	tg_data(t, &len);
	char *path = tg_tmpfile(t, len - 3);
	struct xt_summary s;
	assert_int_equal(summarize_path(path, &s), XTRACE_ERR_TRUNCATED);
	assert_int_equal(s.generations, 1);
	assert_int_equal(s.events, 6);
	xt_summary_destroy(&s);
	char *out;
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_TRUNCATED);
	assert_non_null(strstr(out, "valid: 6 events, 1 generations, 1 gap in the recording (switched "
			       "off, generations not kept, or events lost): 0 frees of objects "
			       "allocated in them (complete generations of a truncated trace)\n"));
	assert_non_null(strstr(out, "xtrace: "));
	assert_non_null(strstr(out, "offset"));
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", "--json", path, &out), XT_EXIT_TRUNCATED);
	assert_non_null(strstr(out, "\"truncated\": true,"));
	free(out);
	assert_int_equal(run_cmd(cmd_dump, "dump", NULL, path, &out), XT_EXIT_TRUNCATED);
	free(out);
	unlink(path);
	free(path);
	tg_free(t);
}

/* The chrome export makes slices of the begin and end events the spec table pairs (start
 * column), named by what their names share; any other event is an instant, whatever its name
 * ends in (ProcessEnd). */
static void test_export_slices(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_SleepBegin, 10, 0, 1, 5000, 0);
	tg_event(t, XT_EV_SleepEnd, 10, 0, 5000, 0, 0);
	tg_event(t, XT_EV_ProcessEnd, 10, 1, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	char json[] = "/tmp/xtrace-test-export.XXXXXX";
	tmp_output(json);
	char *argv[] = {"export", "--format", "chrome", "-o", json, path, NULL};
	char *out;
	assert_int_equal(run_argv(cmd_export, argv, &out), XT_EXIT_OK);
	free(out);
	char *buf = read_output(json);
	assert_non_null(strstr(buf, "{\"name\": \"Sleep\", \"cat\": \"Timers\", \"ph\": \"B\""));
	assert_non_null(strstr(buf, "{\"name\": \"Sleep\", \"cat\": \"Timers\", \"ph\": \"E\""));
	assert_non_null(strstr(buf, "{\"name\": \"ProcessEnd\", \"cat\": \"Core\", \"ph\": \"i\""));
	free(buf);
	unlink(json);
	unlink(path);
	free(path);
	tg_free(t);
}

/* A builder of Events batches that frees and allocates by reference where it can, as the shim
 * does, or never: the same events either way. */
struct refgen {
	struct tg *t;
	int refs;
	uint64_t list[XT_REFS_LISTS][64]; /* the open batch's addresses of each list */
	uint64_t n[XT_REFS_LISTS], nrefs;
};

static void rg_batch(struct refgen *g, uint64_t thread, uint64_t time)
{
	tg_batch(g->t, XT_BATCH_EVENTS, thread, time);
	memset(g->n, 0, sizeof g->n);
}

/* rg_event writes the AllocFree event plain with args (args[0] its address), as ref naming the
 * latest event at that address of the list ref names in the batch, if any. */
static void rg_event(struct refgen *g, uint8_t plain, uint8_t ref, uint64_t *args)
{
	int named = xt_allocref_names(ref), list = xt_allocref_list(plain);
	uint64_t addr = args[0];
	uint8_t type = plain;
	for (uint64_t back = 0; g->refs && back < g->n[named]; back++)
		if (g->list[named][g->n[named] - 1 - back] == addr) {
			args[0] = back;
			type = ref;
			g->nrefs++;
			break;
		}
	tg_event_n(g->t, type, 1, args, xt_specs[type].nargs);
	g->list[list][g->n[list]++] = addr;
}

static void rg_alloc(struct refgen *g, uint64_t addr, uint64_t type, uint64_t stack)
{
	rg_event(g, XT_EV_ObjectAlloc, XT_EV_ObjectAllocReused, (uint64_t[]){addr, type, stack});
}

static void rg_free(struct refgen *g, uint8_t plain, uint8_t ref, uint64_t addr)
{
	rg_event(g, plain, ref, (uint64_t[]){addr});
}

/* lifecycle_trace: two generations, two threads; frees in the batch of their allocation, in a
 * later batch, on another thread; allocations at addresses freed in the batch (by address or by
 * reference, by a free or a realloc), in an earlier batch, by another thread; leaks. */
static struct tg *lifecycle_trace(int refs, uint64_t *nrefs)
{
	struct refgen g = {tg_new(NULL), refs, {{0}}, {0}, 0};
	tg_gen(g.t, 1);
	tables(g.t, 1000);
	rg_batch(&g, 7, 2000);
	rg_alloc(&g, 0x1000, T_MALLOC100, 1);
	rg_alloc(&g, 0x2000, T_CALLOC40, 0);
	rg_alloc(&g, 0x3000, T_MALLOC8, 1);
	rg_free(&g, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x2000);
	rg_alloc(&g, 0x4000, T_MALLOC100, 1);
	rg_alloc(&g, 0, T_MALLOC8, 1);
	rg_free(&g, XT_EV_ObjectReallocFree, XT_EV_ObjectReallocFreeRecent, 0x4000);
	rg_alloc(&g, 0x5000, T_REALLOC50, 1);
	rg_free(&g, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x1000);
	rg_alloc(&g, 0x1000, T_MALLOC8, 0);
	rg_alloc(&g, 0x2000, T_MALLOC100, 1);
	tg_batch_end(g.t);
	rg_batch(&g, 8, 2050);
	rg_alloc(&g, 0x8000, T_MALLOC100, 1);
	rg_free(&g, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x5000); /* thread 7's */
	rg_alloc(&g, 0x9000, T_CALLOC40, 1);
	rg_free(&g, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x8000);
	rg_alloc(&g, 0x5000, T_MALLOC100, 0);
	tg_batch_end(g.t);
	rg_batch(&g, 7, 3000);
	rg_free(&g, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x3000); /* the batch before's */
	rg_alloc(&g, 0x6000, T_MALLOC100, 1);
	rg_free(&g, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x1000);
	rg_alloc(&g, 0x4000, T_CALLOC40, 1);                           /* the batch before's */
	rg_alloc(&g, 0x8000, T_MALLOC8, 1);                            /* thread 8's */
	tg_batch_end(g.t);
	tg_end(g.t, 0);
	tg_gen(g.t, 2);
	tables(g.t, 5000);
	rg_batch(&g, 7, 6000);
	rg_alloc(&g, 0xa000, T_MALLOC100, 1);
	rg_alloc(&g, 0xb000, T_MALLOC8, 1);
	rg_free(&g, XT_EV_ObjectReallocFree, XT_EV_ObjectReallocFreeRecent, 0xa000);
	rg_alloc(&g, 0xa000, T_REALLOC50, 1);
	tg_batch_end(g.t);
	tg_end(g.t, 0);
	*nrefs = g.nrefs;
	return g.t;
}

/* strip_coded_as drops dump's " (coded as ...)" marks from out, in place, and counts them. */
static size_t strip_coded_as(char *out)
{
	size_t n = 0;
	char *p;
	while ((p = strstr(out, " (coded as "))) {
		char *close = strchr(p, ')');
		assert_non_null(close);
		memmove(p, close + 1, strlen(close + 1) + 1);
		n++;
	}
	return n;
}

/* References are the events they stand for: every command's output (but dump's marks) is byte
 * for byte that of the same trace with addresses. */
static void test_references_same_output(void **state)
{
	char dir[] = "/tmp/xtrace-test-refs-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char a[64], b[64];
	snprintf(a, sizeof a, "%s/a.xt", dir);
	snprintf(b, sizeof b, "%s/b.xt", dir);
	struct {
		int (*fn)(int, char **, const struct xt_command *);
		char *argv[8];
	} cmds[] = {
		{cmd_stats, {"stats", b}},
		{cmd_stats, {"stats", "--json", b}},
		{cmd_validate, {"validate", b}},
		{cmd_leaks, {"leaks", b}},
		{cmd_leaks, {"leaks", "--json", b}},
		{cmd_top, {"top", b}},
		{cmd_top, {"top", "--by", "temporary", "--json", b}},
		{cmd_peak, {"peak", "--json", b}},
		{cmd_flame, {"flame", "--by", "leaked", b}},
		{cmd_diff, {"diff", "--json", a, b}},
		{cmd_export, {"export", "--format", "csv", "-o", "-", b}},
		{cmd_export, {"export", "--format", "chrome", "-o", "-", b}},
		{cmd_dump, {"dump", b}},
	};
	enum { NCMD = sizeof cmds / sizeof cmds[0] };
	char *want[NCMD];
	uint64_t nrefs;
	struct tg *plain = lifecycle_trace(0, &nrefs), *refs = lifecycle_trace(1, &nrefs);
	assert_int_equal(nrefs, 5 + 4); /* frees, allocations */
	assert_int_equal(tg_write(plain, a, TG_ALL), 0);
	/* b holds the trace with addresses first, then the one with references */
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(tg_write(pass ? refs : plain, b, TG_ALL), 0);
		for (int i = 0; i < NCMD; i++) {
			char *out;
			int code = run_argv(cmds[i].fn, cmds[i].argv, &out);
			assert_int_equal(code, XT_EXIT_OK);
			if (!pass) {
				want[i] = out;
				continue;
			}
			if (cmds[i].fn == cmd_dump)
				assert_int_equal(strip_coded_as(out), nrefs);
			assert_string_equal(out, want[i]);
			free(out);
			free(want[i]);
		}
	}
	/* the trace is smaller with references */
	size_t la, lb;
	tg_data(plain, &la);
	tg_data(refs, &lb);
	assert_true(lb < la);
	unlink(a);
	unlink(b);
	rmdir(dir);
	tg_free(plain);
	tg_free(refs);
}

/* Corrupt input, an unreadable path and usage errors. */
/* export chrome pairs events by the spec's start column, the built-in ones and those of an
 * experiment the trace describes (Open, and Shut that closes it), whatever their names. */
static void test_chrome_pairs_by_start_column(void **state)
{
	static const char *const args[] = {"what_value"};
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tables(t, 100);
	tg_batch(t, XT_BATCH_SPECS, 0, 100);
	tg_spec_experiment(t, 30, "Gadget", 1);
	tg_uvarint(t, 0);
	tg_uvarint(t, 2);
	tg_spec_event(t, 200, "Open", 0, 0, 1, args);
	tg_spec_event(t, 201, "Shut", 200, 0, 1, args);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 100);
	tg_event(t, 200, 1, 5);
	tg_event(t, XT_EV_SleepBegin, 1, 11, 1, 1000, 1);
	tg_event(t, XT_EV_SleepEnd, 1, 11, 1000, 0, 0);
	tg_event(t, 201, 1, 5);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL), *out;
	char *argv[] = {"export", "--format", "chrome", "-o", "-", path, NULL};
	assert_int_equal(run_argv(cmd_export, argv, &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "{\"name\": \"Open\", \"cat\": \"Gadget\", \"ph\": \"B\""));
	assert_non_null(strstr(out, "{\"name\": \"Open\", \"cat\": \"Gadget\", \"ph\": \"E\""));
	assert_non_null(strstr(out, "{\"name\": \"Sleep\", \"cat\": \"Timers\", \"ph\": \"B\""));
	assert_non_null(strstr(out, "{\"name\": \"Sleep\", \"cat\": \"Timers\", \"ph\": \"E\""));
	free(out);
	unlink(path);
	free(path);
	tg_free(t);
}

static void test_bad_input_and_usage(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tables(t, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, 99, 0); /* type 99 is not in the table */
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	char *out;
	assert_int_equal(run_cmd(cmd_validate, "validate", NULL, path, &out), XT_EXIT_FAIL);
	assert_non_null(strstr(out, "xtrace: "));
	assert_non_null(strstr(out, "corrupt trace"));
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", "--json", path, &out), XT_EXIT_FAIL);
	assert_non_null(strstr(out, "\"corrupt\": true,"));
	free(out);
	unlink(path);
	free(path);
	tg_free(t);

	assert_int_equal(run_cmd(cmd_stats, "stats", NULL, "/nonexistent/trace.xt", &out), XT_EXIT_FAIL);
	free(out);
	assert_int_equal(run_cmd(cmd_stats, "stats", "--bogus", "x", &out), XT_EXIT_USAGE);
	assert_non_null(strstr(out, "unknown option --bogus"));
	free(out);
	assert_int_equal(run_cmd(cmd_validate, "validate", "a", "b", &out), XT_EXIT_USAGE);
	free(out);
	assert_int_equal(run_cmd(cmd_run, "run", "-o", NULL, &out), XT_EXIT_USAGE);
	free(out);
	assert_int_equal(run_cmd(cmd_dump, "dump", "--help", "x", &out), XT_EXIT_OK);
	assert_non_null(strstr(out, "usage: test"));
	free(out);
	/* the option parser every command shares: each says what went wrong, by the option's name */
	static const struct {
		int (*fn)(int, char **, const struct xt_command *);
		char *argv[5];
		const char *says;
	} bad[] = {
		{cmd_top, {"top", "--by"}, "option --by needs a value"},
		{cmd_top, {"top", "-n"}, "option -n needs a value"},
		{cmd_top, {"top", "-n", "0", "x"}, "-n"},
		{cmd_top, {"top", "--by", "nope", "x"}, "nope"},
		{cmd_top, {"top", "--json", "--tsv", "x"}, "--json and --tsv exclude each other"},
		{cmd_peak, {"peak", "--group=nope", "x"}, "nope"},
		{cmd_leaks, {"leaks", "--tsv", "x"}, "unknown option --tsv"},
		{cmd_stats, {"stats", "-jx", "x"}, "unknown option -j"},
		{cmd_diff, {"diff", "--fail-above", "-1", "a", "b"}, "--fail-above wants a percentage"},
		{cmd_export, {"export", "--format=chrome", "--output"}, "option --output needs a value"},
		{cmd_flame, {"flame", "--svg"}, "option --svg needs a value"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *argv[6] = {0};
		memcpy(argv, bad[i].argv, sizeof bad[i].argv);
		assert_int_equal(run_argv(bad[i].fn, argv, &out), XT_EXIT_USAGE);
		if (!strstr(out, bad[i].says))
			fail_msg("%s %s: \"%s\" does not say \"%s\"", argv[0], argv[1], out, bad[i].says);
		free(out);
	}
	/* run's options end at the program's name: its own options are left to it */
	assert_int_equal(run_cmd(cmd_run, "run", "--bogus", NULL, &out), XT_EXIT_USAGE);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_summary),
		cmocka_unit_test(test_dump_line_both_ways),
		cmocka_unit_test(test_validation_errors),
		cmocka_unit_test(test_error_listing_limit),
		cmocka_unit_test(test_same_tick_reuse),
		cmocka_unit_test(test_lost_events),
		cmocka_unit_test(test_forked_child),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_input_and_usage),
		cmocka_unit_test(test_chrome_pairs_by_start_column),
		cmocka_unit_test(test_references_same_output),
		cmocka_unit_test(test_export_slices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
