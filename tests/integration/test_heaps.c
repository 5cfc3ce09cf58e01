/* test_heaps.c: integration tests of the Heaps experiment: a pool allocator annotated through
 * include/xtrace.h (tests/workloads/pool.c) traced, its HeapAlloc and HeapFree events counted
 * per heap against what the program did, with their stacks in the allocator; the heap table in
 * every generation; `xtrace dump` showing both; the bound on named heaps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "heaps.h"
#include "spec.h"
#include "varint.h"

#define NHEAPS 3 /* heap IDs 1 and 2, and 0 for any other */

struct heap_counts {
	uint64_t allocs, frees, bytes, in_pool, stray_frees;
};

/* table_names checks one heap-table batch: it must name heap 1 "small" and heap 2 "big";
 * returns how many of the two it named. */
static int table_names(const struct xtrace_exp_batch *b)
{
	const uint8_t *p = b->data, *end = b->data + b->len;
	if (p == end || *p++ != XT_HEAPS_BATCH_TABLE)
		fail_msg("heap batch of subtype %d", p == end ? -1 : p[-1]);
	int seen = 0;
	while (p < end) {
		uint64_t id = 0, len = 0;
		if (xt_get_uvarint(&p, end, &id) || xt_get_uvarint(&p, end, &len) ||
		    len > (uint64_t)(end - p))
			fail_msg("heap table entry cut short");
		const char *want = id == 1 ? "small" : id == 2 ? "big" : NULL;
		if (!want || len != strlen(want) || memcmp(p, want, len) != 0)
			fail_msg("heap table names heap %llu \"%.*s\"", (unsigned long long)id, (int)len,
				 (const char *)p);
		seen++;
		p += len;
	}
	return seen;
}

static void test_pool_heaps(void **state)
{
	struct h_run r;
	const char *const env[] = {"XTRACE_GEN_MS=20", NULL};
	h_traced(&r, env, H_ARGV((char *)h_workload("pool"), "4", "30"));
	h_expect_exit(&r, 0);
	assert_int_equal(h_out_u64(r.out, "heaps ", "small"), 1);
	assert_int_equal(h_out_u64(r.out, "heaps ", "big"), 2);
	assert_int_equal(h_out_u64(r.out, "heaps ", "small_again"), 1);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);

	char err[256] = "";
	xtrace_reader *rd = xtrace_open(trace, err, sizeof err);
	if (!rd)
		fail_msg("xtrace_open %s: %s", trace, err);
	struct heap_counts c[NHEAPS] = {{0}};
	uint64_t stray = h_out_u64(r.out, "bad ", "free"), gens = 0, tables = 0;
	struct xtrace_event ev;
	int rc;
	while ((rc = xtrace_next(rd, &ev)) == 1) {
		if (ev.kind == XTRACE_EVENT_SYNC) {
			const struct xtrace_sync *sy = xtrace_get_sync(rd);
			int named = 0;
			for (size_t i = 0; i < sy->nbatches; i++)
				if (sy->batches[i].experiment == XT_EXP_HEAPS)
					named += table_names(&sy->batches[i]);
			/* both heaps are named before the first generation ends */
			assert_int_equal(named, 2);
			gens++;
			tables += named > 0;
			continue;
		}
		if (ev.experiment != XT_EXP_HEAPS)
			continue;
		struct heap_counts *h = &c[ev.args[0] < NHEAPS ? ev.args[0] : 0];
		if (ev.type == XT_EV_HeapAlloc) {
			h->allocs++;
			h->bytes += ev.args[2];
			/* the stack starts in the allocator that called xtrace_heap_alloc */
			const uint64_t *pcs;
			assert_true(xtrace_stack(rd, ev.args[3], &pcs) > 0);
			const struct xtrace_module *m = xtrace_module_of(rd, pcs[0] - 1);
			assert_non_null(m);
			assert_string_equal(h_basename(m->path), "pool");
			h->in_pool++;
		} else if (ev.type == XT_EV_HeapFree) {
			h->frees++;
			h->stray_frees += ev.args[1] == stray;
		}
	}
	assert_int_equal(rc, 0);
	xtrace_close(rd);
	assert_true(gens >= 3);
	assert_int_equal(tables, gens);

	assert_int_equal(c[0].allocs + c[0].frees, 0);
	assert_int_equal(c[1].allocs, h_out_u64(r.out, "small ", "allocs"));
	assert_int_equal(c[1].frees, h_out_u64(r.out, "small ", "frees"));
	assert_int_equal(c[1].bytes, h_out_u64(r.out, "small ", "bytes"));
	assert_int_equal(c[2].allocs, h_out_u64(r.out, "big ", "allocs"));
	assert_int_equal(c[2].frees, h_out_u64(r.out, "big ", "frees"));
	assert_int_equal(c[2].bytes, h_out_u64(r.out, "big ", "bytes"));
	/* the bad free is big's, of a block small handed out */
	assert_int_equal(c[2].stray_frees, 1);

	/* dump shows the events by name and the heap table among the generation's batches */
	struct h_run d;
	assert_int_equal(h_cli(&d, H_ARGV("dump", trace)), 0);
	assert_int_equal(h_count_substr(d.out, " HeapAlloc heap_value=1 "), c[1].allocs);
	assert_int_equal(h_count_substr(d.out, " HeapAlloc heap_value=2 "), c[2].allocs);
	assert_int_equal(h_count_substr(d.out, " HeapFree heap_value=2 "), c[2].frees);
	assert_int_equal(h_count_substr(d.out, " Heaps=1 ("), gens);
	h_run_free(&d);
	h_run_free(&r);
}

/* The analyses read the pool's heaps from the real trace: stats per heap as the program counted,
 * top and leaks of one heap with the allocator that annotated as the site, validate reporting the
 * bad free like malloc's, and a heap the trace lacks named with the ones it has. */
/* page_cells sums the allocations and bytes of every cell in `xtrace report`'s page of one
 * image (its data's "cells": site, thread, time cell, allocs, bytes, then four more values). */
static void page_cells(const char *page, uint64_t *allocs, uint64_t *bytes)
{
	const char *p = strstr(page, "\"cells\": [");
	assert_non_null(p);
	p += strlen("\"cells\": [");
	*allocs = *bytes = 0;
	for (int k = 0; *p != ']'; k = (k + 1) % 9) {
		char *end;
		uint64_t v = strtoull(p, &end, 10);
		if (end == p)
			fail_msg("cells: not a number at '%.20s'", p);
		if (k == 3)
			*allocs += v;
		else if (k == 4)
			*bytes += v;
		p = end + strspn(end, ",\n");
	}
}

static void test_pool_analyses(void **state)
{
	struct h_run r, c;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("pool"), "3"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	uint64_t sa = h_out_u64(r.out, "small ", "allocs"), sf = h_out_u64(r.out, "small ", "frees");
	uint64_t sb = h_out_u64(r.out, "small ", "bytes"), ba = h_out_u64(r.out, "big ", "allocs");

	assert_int_equal(h_cli(&c, H_ARGV("stats", "--json", trace)), 0);
	assert_int_equal(h_json_u64(c.out, "heaps.small.allocs"), sa);
	assert_int_equal(h_json_u64(c.out, "heaps.small.frees"), sf);
	assert_int_equal(h_json_u64(c.out, "heaps.small.alloc_bytes"), sb);
	assert_int_equal(h_json_u64(c.out, "heaps.small.live_objects_at_end"), sa - sf);
	assert_int_equal(h_json_u64(c.out, "heaps.big.allocs"), ba);
	h_run_free(&c);

	assert_int_equal(h_cli(&c, H_ARGV("top", "--heap", "small", "--tsv", trace)), 0);
	assert_non_null(strstr(c.out, "pool_take"));
	assert_null(strstr(c.out, "xtrace_heap_alloc"));
	h_run_free(&c);
	/* the report's page of heap small: its allocations, at pool_take */
	char html[PATH_MAX];
	h_fmt(html, sizeof html, "%s/small.html", h_tmpdir());
	assert_int_equal(h_cli(&c, H_ARGV("report", "--heap", "small", "-o", html, trace)), 0);
	char *page = h_track(h_read_file(html, NULL));
	uint64_t allocs, bytes;
	page_cells(page, &allocs, &bytes);
	assert_int_equal(allocs, sa);
	assert_int_equal(bytes, sb);
	assert_non_null(strstr(page, "\"pool_take\""));
	assert_null(strstr(page, "xtrace_heap_alloc"));
	h_run_free(&c);

	/* a run whose shell has no heap small: a usage error for the page (top ranks the images
	 * that have it, test_xtrace.py), and the page shows the others (its data, without the
	 * shell's, still reads) */
	char dir[PATH_MAX], env[PATH_MAX + 16], shots[PATH_MAX], cmd[PATH_MAX + 16];
	struct h_run rr;
	h_fmt(dir, sizeof dir, "%s/run", h_tmpdir());
	assert_int_equal(mkdir(dir, 0755), 0);
	h_fmt(env, sizeof env, "XTRACE_DIR=%s", dir);
	h_fmt(cmd, sizeof cmd, "%s 1; true", h_workload("pool"));
	h_traced(&rr, (const char *const[]){env, NULL}, H_ARGV("/bin/sh", "-c", cmd));
	h_expect_exit(&rr, 0);
	h_fmt(html, sizeof html, "%s/run.html", h_tmpdir());
	assert_int_equal(h_cli(&c, H_ARGV("report", "--heap", "small", "-o", html, dir)), 2);
	assert_non_null(strstr(c.err, "no heap 'small' (its heaps: malloc)"));
	h_fmt(shots, sizeof shots, "%s/shots", h_tmpdir());
	char *seen = h_browse(H_ARGV("--load", html, shots));
	if (!strstr(seen, "\"errors\": []"))
		fail_msg("the run's page logged errors: %s", seen);
	h_run_free(&c);
	h_run_free(&rr);
	assert_int_equal(h_cli(&c, H_ARGV("leaks", "--heap", "big", trace)), 0);
	assert_non_null(strstr(c.out, "    pool_take  pool.c:"));
	h_run_free(&c);

	assert_int_equal(h_cli(&c, H_ARGV("validate", trace)), 1);
	assert_non_null(strstr(c.out, " HeapFree heap_value=2 obj_addr="));
	assert_non_null(strstr(c.out, "free of an address that is not live"));
	h_run_free(&c);

	assert_int_equal(h_cli(&c, H_ARGV("top", "--heap", "nope", trace)), 2);
	assert_non_null(strstr(c.err, "no heap 'nope' (its heaps: malloc, small, big)"));
	h_run_free(&c);
	h_run_free(&r);
}

/* Untraced, every heap is 0 and the program runs as it does traced. */
static void test_pool_untraced(void **state)
{
	struct h_run r;
	h_plain(&r, H_ARGV((char *)h_workload("pool")));
	h_expect_exit(&r, 0);
	assert_int_equal(h_out_u64(r.out, "heaps ", "small"), 0);
	assert_int_equal(h_out_u64(r.out, "heaps ", "big"), 0);
	assert_int_equal(h_out_u64(r.out, "small ", "allocs"), 121);
	h_run_free(&r);
}

/* Past XT_HEAPS_MAX names, xtrace_heap gives 0, says so once, and names already given keep
 * their IDs. */
static void test_heap_bound(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("pool"), "names", "300"));
	h_expect_exit(&r, 0);
	assert_int_equal(h_out_u64(r.out, "names ", "given"), XT_HEAPS_MAX);
	assert_int_equal(h_out_u64(r.out, "names ", "same"), 300);
	assert_int_equal(h_count_substr(r.err, "heaps named"), 1);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_heaps),
		cmocka_unit_test(test_pool_analyses),
		cmocka_unit_test(test_pool_untraced),
		cmocka_unit_test(test_heap_bound),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
