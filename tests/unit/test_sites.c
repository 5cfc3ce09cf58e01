/* test_sites.c: the site analysis on traces built with tracegen: sites keyed by their PCs across
 * generations (whose stack IDs differ), temporary allocations (heaptrack's rule, with its
 * realloc and cross-thread cases), regions per thread and the --region filter, each site's
 * share of the peak from the second pass; tables fed keys crafted against fixed hashes; and
 * the name interner and the flame graph's XML escaping. */
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
#include "cli/flamegraph.h"
#include "traceopen.h"

enum { T_MALLOC100 = 1, T_MALLOC10 };
#define PC_A 0x401010u /* stack A: {PC_A, PC_MAIN}; stack B: {PC_B, PC_MAIN} */
#define PC_B 0x402020u
#define PC_MAIN 0x403030u

/* gen_tables writes a generation's Sync, types, the region name and stacks A and B under
 * IDs that differ per generation (gen 1: A=1, B=2; gen 2: A=2, B=1). */
static void gen_tables(struct tg *t, uint64_t gen, uint64_t time)
{
	tg_sync(t, time, XT_TICKS_PER_SEC, 1700000000, 0);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, time);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, T_MALLOC100, XT_API_MALLOC, 100, 1, 0);
	tg_alloc_type(t, T_MALLOC10, XT_API_MALLOC, 10, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STRINGS, 0, time);
	tg_string(t, 1, "work");
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, time);
	tg_stack(t, gen == 1 ? 1 : 2, 2, (const uint64_t[]){PC_A, PC_MAIN});
	tg_stack(t, gen == 1 ? 2 : 1, 2, (const uint64_t[]){PC_B, PC_MAIN});
	tg_batch_end(t);
}

/* The trace (thread 7 unless said):
 *   gen 1: A 0x1000 (100), free 0x1000 [temporary]; B 0x2000 (10); A 0x3000 (100);
 *          free 0x2000 [not: A came between]; t8: B 0x5000 (10)
 *   gen 2: region "work" begins; A 0x4000 (100) [peak: 210 = 0x3000 + 0x5000 + 0x4000];
 *          free 0x3000 [temporary: the last allocation, 0x4000, has its stack and size];
 *          region ends; free 0x4000 [not: a free came between]
 * At the end 0x5000 (B, 10 bytes) is live. */
static char *build(void)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	gen_tables(t, 1, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, T_MALLOC100, 1);
	tg_event(t, XT_EV_ObjectFree, 1, 0x1000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x2000, T_MALLOC10, 2);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x3000, T_MALLOC100, 1);
	tg_event(t, XT_EV_ObjectFree, 1, 0x2000);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 8, 2100);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, T_MALLOC10, 2);
	tg_batch_end(t);
	tg_end(t, 0);
	tg_gen(t, 2);
	gen_tables(t, 2, 5000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 6000);
	tg_event(t, XT_EV_UserRegionBegin, 1, 1, 2);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x4000, T_MALLOC100, 2);
	tg_event(t, XT_EV_ObjectFree, 1, 0x3000);
	tg_event(t, XT_EV_UserRegionEnd, 1, 1);
	tg_event(t, XT_EV_ObjectFree, 1, 0x4000);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	tg_free(t);
	return path;
}

/* analyse runs the first pass (and the peak pass) of path with region filter region. */
static void analyse(const char *path, struct xt_sites *s, const char *region, uint64_t *peak_event)
{
	assert_int_equal(xt_sites_init(s, 0, region), 0);
	xtrace_reader *r = tg_open_file(path);
	struct xt_summary sum;
	struct xt_pass pass = {.sites = s};
	assert_int_equal(xt_summarize_pass(r, &sum, &pass), XTRACE_OK);
	*peak_event = sum.heap.peak_event;
	assert_int_equal(sum.heap.peak_live_bytes, 210);
	xt_summary_destroy(&sum);
	xtrace_close(r);

	r = tg_open_file(path);
	xt_sites_peak_pass(s);
	pass.stop_event = *peak_event;
	assert_int_equal(xt_summarize_pass(r, &sum, &pass), XTRACE_OK);
	xt_summary_destroy(&sum);
	xtrace_close(r);
}

/* site_at returns the site whose innermost PC is pc, in region (NULL: none). */
static const struct xt_site *site_at(const struct xt_sites *s, uint64_t pc, const char *region)
{
	for (uint32_t i = 0; i < s->count; i++) {
		const char *rg = xt_site_region(s, i);
		if (xt_site_frame(s, i, 0)->pc == pc && (region ? rg && !strcmp(rg, region) : !rg))
			return &s->site[i];
	}
	return NULL;
}

static void test_sites_across_generations(void **state)
{
	char *path = build();
	struct xt_sites s;
	uint64_t pe;
	analyse(path, &s, NULL, &pe);
	assert_int_equal(pe, 7); /* the 7th heap event, A 0x4000, reached the peak */
	/* A outside a region (gen 1, ID 1), B (IDs 2 then 1: one site), A in region work */
	assert_int_equal(s.count, 3);
	const struct xt_site *a = site_at(&s, PC_A, NULL), *b = site_at(&s, PC_B, NULL);
	const struct xt_site *aw = site_at(&s, PC_A, "work");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(aw);
	assert_int_equal(a->c.allocs, 2);
	assert_int_equal(a->c.bytes, 200);
	assert_int_equal(a->c.temporary, 2);
	assert_int_equal(a->c.temporary_bytes, 200);
	assert_int_equal(a->c.frees, 2);
	assert_int_equal(a->c.peak_bytes, 100);
	assert_int_equal(b->c.allocs, 2);
	assert_int_equal(b->c.temporary, 0);
	assert_int_equal(b->c.live_objects, 1);
	assert_int_equal(b->c.live_bytes, 10);
	assert_int_equal(b->c.peak_bytes, 10);
	assert_int_equal(aw->c.allocs, 1);
	assert_int_equal(aw->c.temporary, 0);
	assert_int_equal(aw->c.peak_bytes, 100);
	assert_int_equal(s.total.temporary, 2);
	assert_int_equal(s.total.live_bytes, 10);

	struct xt_group *g;
	long n = xt_sites_group(&s, XT_GROUP_STACK, XT_BY_BYTES, &s.names, &g);
	assert_int_equal(n, 3);
	assert_string_equal(xt_names_str(&s.names, g[0].key), "0x403030;0x401010");
	assert_string_equal(xt_names_str(&s.names, g[1].key), "[region work];0x403030;0x401010");
	free(g);
	n = xt_sites_group(&s, XT_GROUP_REGION, XT_BY_ALLOCS, &s.names, &g);
	assert_int_equal(n, 2);
	assert_string_equal(xt_names_str(&s.names, g[0].key), "(no region)");
	assert_int_equal(g[0].c.allocs, 4);
	free(g);
	xt_sites_destroy(&s);

	/* --region work keeps only the allocation made inside it */
	analyse(path, &s, "work", &pe);
	assert_int_equal(s.count, 1);
	assert_int_equal(s.total.allocs, 1);
	assert_int_equal(s.total.bytes, 100);
	xt_sites_destroy(&s);
	unlink(path);
	free(path);
}

/* heaptrack's temporary rule, case by case (stack A = 1, B = 2; [T] marks a temporary free):
 *   t7: A 0x1000 (100); realloc frees it [T]; B 0x2000 (10) is the new block; free [T]
 *       A 0x3000, A 0x4000 (100 each); free 0x3000 [T: the older, but the same stack and size];
 *       free 0x4000 [not: a free came between]
 *       A 0x5000 (100), A 0x6000 (10); free 0x5000 [not: the size differs]; free 0x6000
 *       A 0x7000 (100); t8 frees it next [T: any thread]
 *       A 0x8000 (100); t8 allocates B 0x9000; free 0x8000 [not]; t8 frees 0x9000 [not]
 *       A 0xa000 (100); free of 0xdead, never allocated (no heap event); free 0xa000 [T] */
static void test_temporary_rule(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	gen_tables(t, 1, 1000);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, T_MALLOC100, 1);
	tg_event(t, XT_EV_ObjectReallocFree, 1, 0x1000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x2000, T_MALLOC10, 2);
	tg_event(t, XT_EV_ObjectFree, 1, 0x2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x3000, T_MALLOC100, 1);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x4000, T_MALLOC100, 1);
	tg_event(t, XT_EV_ObjectFree, 1, 0x3000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x4000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, T_MALLOC100, 1);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x6000, T_MALLOC10, 1);
	tg_event(t, XT_EV_ObjectFree, 1, 0x5000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x6000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x7000, T_MALLOC100, 1); /* 2013 */
	tg_event(t, XT_EV_ObjectAlloc, 2, 0x8000, T_MALLOC100, 1); /* 2015 */
	tg_event(t, XT_EV_ObjectFree, 2, 0x8000);                  /* 2017 */
	tg_event(t, XT_EV_ObjectAlloc, 2, 0xa000, T_MALLOC100, 1); /* 2019 */
	tg_event(t, XT_EV_ObjectFree, 1, 0xdead);
	tg_event(t, XT_EV_ObjectFree, 1, 0xa000);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 8, 2000);
	tg_event(t, XT_EV_ObjectFree, 14, 0x7000);                 /* 2014 */
	tg_event(t, XT_EV_ObjectAlloc, 2, 0x9000, T_MALLOC10, 2);  /* 2016 */
	tg_event(t, XT_EV_ObjectFree, 2, 0x9000);                  /* 2018 */
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	tg_free(t);

	struct xt_sites s;
	assert_int_equal(xt_sites_init(&s, 0, NULL), 0);
	xtrace_reader *r = tg_open_file(path);
	struct xt_summary sum;
	struct xt_pass pass = {.sites = &s};
	assert_int_equal(xt_summarize_pass(r, &sum, &pass), XTRACE_OK);
	assert_int_equal(s.total.temporary, 5);
	assert_int_equal(s.total.temporary_bytes, 100 + 10 + 100 + 100 + 100);
	const struct xt_site *b = site_at(&s, PC_B, NULL);
	assert_non_null(b);
	assert_int_equal(b->c.temporary, 1);
	xt_summary_destroy(&sum);
	xtrace_close(r);
	xt_sites_destroy(&s);
	unlink(path);
	free(path);
}

/* Modules of the allocation-machinery trace: a C library and the program. */
#define LIBC_BASE 0x7f0000000000u
#define LIBC_MALLOC (LIBC_BASE + 0x1100) /* return addresses inside libc */
#define LIBC_HELPER (LIBC_BASE + 0x2200)
#define PROG_USER 0x401100u               /* inside the program */
#define PROG_MAIN 0x401200u

/* machinery_trace: stacks {libc, libc, user, main} (100 B), {libc, libc} (10 B, libc's own)
 * and {user, libc, main} (1 B), one allocation each. */
static char *machinery_trace(void)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1000, XT_TICKS_PER_SEC, 1700000000, 0);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 1000);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_MALLOC, 100, 1, 0);
	tg_alloc_type(t, 2, XT_API_MALLOC, 10, 1, 0);
	tg_alloc_type(t, 3, XT_API_MALLOC, 1, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STRINGS, 0, 1000);
	tg_string(t, 1, "/lib/x86_64-linux-gnu/libc.so.6");
	tg_string(t, 2, "/usr/bin/prog");
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_MODULES, 0, 1000);
	tg_module(t, 1, 1, LIBC_BASE, LIBC_BASE, LIBC_BASE + 0x100000, NULL, 0);
	tg_module(t, 2, 2, 0, 0x400000, 0x500000, NULL, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, 1000);
	tg_stack(t, 1, 4, (const uint64_t[]){LIBC_MALLOC, LIBC_HELPER, PROG_USER, PROG_MAIN});
	tg_stack(t, 2, 2, (const uint64_t[]){LIBC_MALLOC, LIBC_HELPER});
	tg_stack(t, 3, 3, (const uint64_t[]){PROG_USER, LIBC_HELPER, PROG_MAIN});
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, 1, 1);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x2000, 2, 2);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x3000, 3, 3);
	tg_batch_end(t);
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	tg_free(t);
	return path;
}

/* machinery_groups reads path with rules and returns its groups by g (by bytes). */
static long machinery_groups(const char *path, const struct xt_alloc_rules *rules,
			     enum xt_grouping g, struct xt_sites *s, struct xt_group **out)
{
	assert_int_equal(xt_sites_init(s, 0, NULL), 0);
	s->rules = *rules;
	xtrace_reader *r = tg_open_file(path);
	struct xt_summary sum;
	struct xt_pass pass = {.sites = s};
	assert_int_equal(xt_summarize_pass(r, &sum, &pass), XTRACE_OK);
	xt_summary_destroy(&sum);
	xtrace_close(r);
	return xt_sites_group(s, g, XT_BY_BYTES, &s->names, out);
}

/* A site starts at its first frame outside the allocation machinery (here: libc, by module),
 * counted from the innermost end only; a stack that is all machinery is shown whole;
 * --keep-allocator-frames keeps every frame. */
static void test_allocator_frames(void **state)
{
	char *path = machinery_trace();
	struct xt_alloc_rules rules = {0};
	struct xt_sites s;
	struct xt_group *g;
	assert_int_equal(machinery_groups(path, &rules, XT_GROUP_FUNCTION, &s, &g), 2);
	assert_string_equal(xt_names_str(&s.names, g[0].key), "prog+0x401100");
	assert_int_equal(g[0].c.bytes, 101);
	assert_string_equal(xt_names_str(&s.names, g[1].key), "libc.so.6+0x1100");
	assert_int_equal(g[1].c.bytes, 10);
	free(g);
	xt_sites_destroy(&s);
	assert_int_equal(machinery_groups(path, &rules, XT_GROUP_STACK, &s, &g), 3);
	assert_string_equal(xt_names_str(&s.names, g[0].key), "prog+0x401200;prog+0x401100");
	assert_string_equal(xt_names_str(&s.names, g[1].key), "libc.so.6+0x2200;libc.so.6+0x1100");
	assert_string_equal(xt_names_str(&s.names, g[2].key),
			    "prog+0x401200;libc.so.6+0x2200;prog+0x401100");
	assert_int_equal(xt_site_depth(&s, g[0].site), 2);
	free(g);
	xt_sites_destroy(&s);

	rules.keep = 1;
	assert_int_equal(machinery_groups(path, &rules, XT_GROUP_FUNCTION, &s, &g), 2);
	assert_string_equal(xt_names_str(&s.names, g[0].key), "libc.so.6+0x1100");
	assert_int_equal(g[0].c.bytes, 110);
	assert_string_equal(xt_names_str(&s.names, g[1].key), "prog+0x401100");
	free(g);
	xt_sites_destroy(&s);
	unlink(path);
	free(path);
}

/* The allocation-machinery table, rule by rule, and the names a project adds. */
static void test_allocator_rules(void **state)
{
	static const struct {
		const char *function, *module;
		int alloc;
	} cases[] = {
		{"malloc", NULL, 1},
		{"aligned_alloc", "prog", 1},
		{"operator new", "prog", 1},
		{"operator new[]", NULL, 1},
		{"__strdup", NULL, 1},
		{"getline", NULL, 1},
		{"std::vector<int, std::allocator<int> >::_M_default_append", "prog", 1},
		{"std::make_unique<app::Node>", "prog", 1},
		{"__gnu_cxx::new_allocator<char>::allocate", "prog", 1},
		{"fopen", "libc.so.6", 1},
		{NULL, "libstdc++.so.6", 1},
		{"app::build", "prog", 0},
		{"main", "prog", 0},
		{"malloc_wrapper", "prog", 0},
		{"stdx::thing", "prog", 0},
		{NULL, "libcrypto.so.3", 0},
		{NULL, NULL, 0},
	};
	struct xt_alloc_rules none = {0}, keep = {.keep = 1};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (xt_alloc_frame(&none, cases[i].function, NULL, cases[i].module) != cases[i].alloc)
			fail_msg("%s in %s: machinery should be %d", cases[i].function, cases[i].module,
				 cases[i].alloc);
		assert_int_equal(xt_alloc_frame(&keep, cases[i].function, NULL, cases[i].module), 0);
	}
	/* --alloc-fn: the readable name or the raw symbol */
	struct xt_alloc_rules own = {.extra = {"app::pool_alloc", "xmalloc"}, .nextra = 2};
	assert_int_equal(xt_alloc_frame(&own, "app::pool_alloc", "_ZN3app10pool_allocEm", "prog"), 1);
	assert_int_equal(xt_alloc_frame(&own, "app::pool", "_ZN3app4poolEm", "prog"), 0);
	assert_int_equal(xt_alloc_frame(&own, NULL, "xmalloc", "prog"), 1);
	assert_int_equal(xt_alloc_frame(&none, "app::pool_alloc", NULL, "prog"), 0);
}

static void test_names(void **state)
{
	struct xt_names n;
	assert_int_equal(xt_names_init(&n), 0);
	char buf[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(buf, sizeof buf, "name%d", i);
		assert_int_equal(xt_names_id(&n, buf, strlen(buf)), (uint32_t)i);
	}
	assert_int_equal(xt_names_id(&n, "name42", 6), 42);
	assert_int_equal(xt_names_find(&n, "name4999", 8), 4999);
	assert_int_equal(xt_names_find(&n, "name5000", 8), UINT32_MAX);
	assert_string_equal(xt_names_str(&n, 1234), "name1234");
	assert_int_equal(xt_names_id(&n, "a\0b", 3), 5000); /* bytes, not C strings */
	assert_int_equal(xt_names_len(&n, 5000), 3);
	xt_names_destroy(&n);
}

/* Keys crafted against the fixed hashes the analyses once used: each crafted set shared one home
 * slot (or one stack hash), so every new key walked all the earlier ones. */
#define FIB 0x9E3779B97F4A7C15u

static uint64_t inverse(uint64_t a) /* mod 2^64, a odd: Newton's iteration */
{
	uint64_t x = a;
	for (int i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

/* old_stack_hash was the site table's stack hash: each step is invertible, so the last PC of a
 * two-frame stack can be chosen to give any hash at all. crafted_pc1 returns the PC after pc0
 * that makes the stack hash to target. */
static uint64_t crafted_pc1(uint64_t pc0, uint64_t target)
{
	const uint64_t m = 0xff51afd7ed558ccdu;
	uint64_t h = (FIB ^ 2) ^ pc0;
	h *= m;
	h ^= h >> 32;
	/* x ^ (x >> 32) is its own inverse */
	return h ^ ((target ^ (target >> 32)) * inverse(m));
}

/* A trace whose allocation addresses and thread IDs all had home slot 0 (i * K^-1, see
 * test_liveset.c), and whose stacks all had one hash: the live set, the thread tables and the
 * stack table stay short-probed, and every stack is told apart by its hash alone. */
static void test_crafted_trace(void **state)
{
	enum { N = 4096 };
	const uint64_t kinv = inverse(FIB);
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1000, XT_TICKS_PER_SEC, 1700000000, 0);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 1000);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, T_MALLOC10, XT_API_MALLOC, 10, 1, 0);
	tg_batch_end(t);
	for (uint64_t i = 1; i <= N; i++) {
		if (i % 1024 == 1) /* batches stay under the reader's 64 KiB */
			tg_batch(t, XT_BATCH_STACKS, 0, 1000);
		uint64_t pc0 = 0x401000 + 16 * i;
		tg_stack(t, i, 2, (const uint64_t[]){pc0, crafted_pc1(pc0, 0x5eed)});
		if (i % 1024 == 0 || i == N)
			tg_batch_end(t);
	}
	for (uint64_t i = 1; i <= N; i++) {
		tg_batch(t, XT_BATCH_EVENTS, i * kinv, 2000 + i);
		tg_event(t, XT_EV_ObjectAlloc, 1, i * kinv, T_MALLOC10, i);
		tg_batch_end(t);
	}
	tg_end(t, 0);
	char *path = tg_tmpfile(t, TG_ALL);
	tg_free(t);

	struct xt_sites s;
	assert_int_equal(xt_sites_init(&s, 0, NULL), 0);
	xtrace_reader *r = tg_open_file(path);
	struct xt_summary sum;
	struct xt_pass pass = {.sites = &s};
	assert_int_equal(xt_summarize_pass(r, &sum, &pass), XTRACE_OK);
	assert_int_equal(sum.heap.live.count, N);
	assert_int_equal(sum.threads, N);
	assert_int_equal(s.nstacks, N);
	/* Far above what a seeded hash gives at load 1/2, far below the N - 1 of the old ones. */
	assert_true(sum.heap.live.max_probe < 64);
	assert_true(sum.thread_ids.max_probe < 64);
	assert_true(s.thread_of_tid.max_probe < 64);
	for (size_t i = 1; i < s.nstacks; i++)
		assert_true(s.stacks[i].hash != s.stacks[0].hash);
	xt_summary_destroy(&sum);
	xtrace_close(r);
	xt_sites_destroy(&s);
	unlink(path);
	free(path);
}

/* old_name_hash was the interner's hash (FNV-1a): names from a trace (regions, module paths)
 * could be picked to share the low bits that chose the slot. */
static uint64_t old_name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
	return h ^ (h >> 29);
}

static void test_names_crafted(void **state)
{
	/* 1000 names keep the index at 2048 slots or fewer: 12 equal low bits gave them one home. */
	enum { N = 1000 };
	struct xt_names n;
	assert_int_equal(xt_names_init(&n), 0);
	char buf[16];
	int found = 0;
	for (uint32_t c = 0; found < N; c++) {
		snprintf(buf, sizeof buf, "r%08x", c);
		if ((old_name_hash(buf, 9) & 0xfff) == 0)
			assert_int_equal(xt_names_id(&n, buf, 9), (uint32_t)found++);
	}
	assert_true(n.mask < 0xfff);
	assert_true(n.max_probe < 64);
	xt_names_destroy(&n);
}

static void test_xml_escape(void **state)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	struct xt_out o;
	assert_int_equal(xt_out_open(&o, fileno(f), 64), 0);
	const char s[] = "operator<<(a&b, \"c\") 'd'\x01>";
	xt_out_xml(&o, s, sizeof s - 1);
	assert_int_equal(xt_out_close(&o), 0);
	char got[256] = "";
	assert_true(pread(fileno(f), got, sizeof got - 1, 0) > 0);
	assert_string_equal(got, "operator&lt;&lt;(a&amp;b, &quot;c&quot;) &#39;d&#39;?&gt;");
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sites_across_generations),
		cmocka_unit_test(test_temporary_rule),
		cmocka_unit_test(test_allocator_frames),
		cmocka_unit_test(test_allocator_rules),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_crafted_trace),
		cmocka_unit_test(test_names_crafted),
		cmocka_unit_test(test_xml_escape),
	};
	return cmocka_run_group_tests_name("sites", tests, NULL, NULL);
}
