/* test_stacks.c: integration tests on allocation stacks: callchain's allocations, made through
 * main -> level_one -> level_two -> level_three -> malloc, must symbolize (xtrace_symbolize) to
 * exactly those functions, with every unwinder (dwarf, libunwind, fp), the default dwarf walk
 * must give every frame libunwind gives, and XTRACE_UNWIND=none and XTRACE_STACK_DEPTH must cut
 * the stacks to the documented depth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define CHAIN_SIZE 777

struct chain_ctx {
	xtrace_symbolizer *sym;
	uint64_t seen;       /* callchain's 777-byte mallocs */
	uint64_t good;       /* those whose stack is as expected */
	size_t want_frames;  /* exact frame count expected, 0: at least 4 */
	int malloc_line;     /* the line of the malloc call in callchain.c */
	char bad[512];       /* the first unexpected stack, for the failure message */
	char all[2048];      /* every frame's function of the first stack, outermost last */
};

static const char *const chain[] = { "level_three", "level_two", "level_one", "main" };

static void chain_alloc(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
			const struct xtrace_alloc_type *t, bool mine)
{
	struct chain_ctx *c = s->ctx;
	if (!mine || t->api != 0 || t->elem_size * t->count != CHAIN_SIZE)
		return;
	c->seen++;
	const uint64_t *pcs;
	size_t n = xtrace_stack(r, ev->args[2], &pcs);
	for (size_t i = 0, al = 0; c->seen == 1 && i < n && al < sizeof c->all; i++) {
		struct xtrace_frame f;
		xtrace_symbolize(c->sym, r, pcs[i], &f);
		al += (size_t)snprintf(c->all + al, sizeof c->all - al, "%s ",
				       f.function ? f.function : "?");
	}
	size_t check = c->want_frames ? c->want_frames : 4;
	bool ok = c->want_frames ? n == c->want_frames : n >= 4;
	char desc[512];
	int dl = snprintf(desc, sizeof desc, "%zu frames:", n);
	for (size_t i = 0; i < n && i < 6; i++) {
		struct xtrace_frame f;
		xtrace_symbolize(c->sym, r, pcs[i], &f);
		const char *fn = f.function ? f.function : "?";
		if (dl < (int)sizeof desc)
			dl += snprintf(desc + dl, sizeof desc - (size_t)dl, " %s", fn);
		if (i < check && (i >= 4 || strcmp(fn, chain[i]) != 0))
			ok = false;
		/* the innermost frame also names the exact source line of the call */
		if (i == 0) {
			if (!f.file || strcmp(h_basename(f.file), "callchain.c") != 0 ||
			    f.line != c->malloc_line)
				ok = false;
			if (dl < (int)sizeof desc)
				dl += snprintf(desc + dl, sizeof desc - (size_t)dl, " (%s:%d)",
					       f.file ? f.file : "?", f.line);
		}
	}
	if (ok)
		c->good++;
	else if (!c->bad[0])
		(void)!snprintf(c->bad, sizeof c->bad, "%s", desc);
}

/* check_chain traces callchain with env and checks its five stacks; all gets the functions of
 * the first one's frames when not NULL. */
static void check_chain_frames(const char *const env[], size_t want_frames, char *all, size_t len)
{
	struct h_run r;
	h_traced(&r, env, H_ARGV((char *)h_workload("callchain"), "5"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	struct chain_ctx c = { .sym = xtrace_symbolizer_new(), .want_frames = want_frames };
	c.malloc_line = (int)h_out_u64(r.out, "chain ", "malloc_line");
	assert_non_null(c.sym);
	struct h_summary s = { .focus = "callchain", .on_alloc = chain_alloc, .ctx = &c };
	h_summarize_clean(trace, &s);
	xtrace_symbolizer_free(c.sym);
	assert_int_equal(c.seen, 5);
	if (c.good != 5)
		fail_msg("%s%s: %llu of 5 stacks as expected; first other: %s",
			 env && env[0] ? env[0] : "default", env && env[0] && env[1] ? " ..." : "",
			 (unsigned long long)c.good, c.bad);
	if (all)
		snprintf(all, len, "%s", c.all);
	h_run_free(&r);
}

static void check_chain(const char *const env[], size_t want_frames)
{
	check_chain_frames(env, want_frames, NULL, 0);
}

static void test_callchain_default(void **state)
{
	check_chain(NULL, 0);
}

/* dwarf, the default, walks the same frames as libunwind, libc's outermost ones included */
static void test_callchain_dwarf_is_libunwind(void **state)
{
	char dwarf[2048], lu[2048];
	check_chain_frames((const char *const[]){ "XTRACE_UNWIND=dwarf", NULL }, 0, dwarf,
			   sizeof dwarf);
	check_chain_frames((const char *const[]){ "XTRACE_UNWIND=libunwind", NULL }, 0, lu,
			   sizeof lu);
	assert_non_null(strstr(dwarf, "level_three level_two level_one main "));
	assert_string_equal(dwarf, lu);
}

static void test_callchain_fp(void **state)
{
	check_chain((const char *const[]){ "XTRACE_UNWIND=fp", NULL }, 0);
}

/* none records only the calling address: one frame, in level_three */
static void test_callchain_none(void **state)
{
	check_chain((const char *const[]){ "XTRACE_UNWIND=none", NULL }, 1);
}

/* An unknown unwinder: one line on stderr naming the choices, and the default's full stacks. */
static void test_unknown_unwinder_says_so(void **state)
{
	struct h_run r;
	h_traced(&r, (const char *const[]){ "XTRACE_UNWIND=bogus", NULL },
		 H_ARGV((char *)h_workload("callchain"), "5"));
	h_expect_exit(&r, 0);
	assert_int_equal(h_count_substr(r.err, "xtrace: "), 1);
	assert_non_null(strstr(r.err, "XTRACE_UNWIND=bogus is not dwarf, libunwind, fp or none; "
				      "using dwarf"));
	h_run_free(&r);
	check_chain((const char *const[]){ "XTRACE_UNWIND=bogus", NULL }, 0);
}

/* Allocations in signal handlers: the stack goes through the kernel's signal frame into the
 * interrupted code, on the thread's stack (the dwarf walk follows the frame) and on an
 * alternate signal stack (it hands over to libunwind). */
struct sig_ctx {
	xtrace_symbolizer *sym;
	int seen[3], good[3];
	char bad[512];
};

static void sig_alloc(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
		      const struct xtrace_alloc_type *t, bool mine)
{
	struct sig_ctx *c = s->ctx;
	uint64_t size = t->elem_size * t->count;
	if (!mine || t->api != 0 || size < 4321 || size > 4323)
		return;
	int k = (int)(size - 4321);
	const char *want[] = {"handler_leaf", k ? "on_usr2" : "on_usr1", "raise_here", "main"};
	const uint64_t *pcs;
	size_t n = xtrace_stack(r, ev->args[2], &pcs), w = 0;
	char desc[512];
	int dl = snprintf(desc, sizeof desc, "%zu frames:", n);
	for (size_t i = 0; i < n; i++) {
		struct xtrace_frame f;
		xtrace_symbolize(c->sym, r, pcs[i], &f);
		const char *fn = f.function ? f.function : "?";
		if (w < 4 && strcmp(fn, want[w]) == 0)
			w++;
		if (dl < (int)sizeof desc)
			dl += snprintf(desc + dl, sizeof desc - (size_t)dl, " %s", fn);
	}
	c->seen[k]++;
	if (w == 4)
		c->good[k]++;
	else if (!c->bad[0] && k < 2)
		(void)!snprintf(c->bad, sizeof c->bad, "%s", desc);
}

/* sig_stacks runs sigstack with args traced (env added), checks it printed "sigstack what=1",
 * and gathers its handlers' allocations into c. */
static void sig_stacks(const char *const env[], const char *args, const char *what,
		       struct sig_ctx *c)
{
	struct h_run r;
	h_traced(&r, env, H_ARGV((char *)h_workload("sigstack"), (char *)args));
	h_expect_exit(&r, 0);
	assert_int_equal(h_out_u64(r.out, "sigstack ", what), 1);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	*c = (struct sig_ctx){.sym = xtrace_symbolizer_new()};
	assert_non_null(c->sym);
	struct h_summary s = {.focus = "sigstack", .on_alloc = sig_alloc, .ctx = c};
	h_summarize_clean(trace, &s);
	xtrace_symbolizer_free(c->sym);
	h_run_free(&r);
}

static void check_signal_stacks(const char *const env[])
{
	struct sig_ctx c;
	sig_stacks(env, NULL, "alternate", &c);
	assert_int_equal(c.seen[0], 1);
	assert_int_equal(c.seen[1], 1);
	if (c.good[0] != 1 || c.good[1] != 1)
		fail_msg("%s: a handler's stack does not reach main: %s",
			 env && env[0] ? env[0] : "default", c.bad);
}

static void test_signal_handler_stacks(void **state)
{
	check_signal_stacks(NULL);
	check_signal_stacks((const char *const[]){ "XTRACE_UNWIND=libunwind", NULL });
}

/* An alternate signal stack the shim did not see set up (the system call itself): the first
 * handler stack on it that needs libunwind finds it not loaded (a handler may not load it) and
 * records its caller alone; the generation thread loads it, and a later one is whole. */
static void test_signal_stack_libunwind_loaded_late(void **state)
{
	struct sig_ctx c;
	sig_stacks((const char *const[]){ "XTRACE_GEN_MS=20", NULL }, "late", "later", &c);
	assert_int_equal(c.seen[1], 1);
	assert_int_equal(c.seen[2], 1);
	assert_int_equal(c.good[2], 1);
}

static void test_callchain_depth2(void **state)
{
	check_chain((const char *const[]){ "XTRACE_STACK_DEPTH=2", NULL }, 2);
}

static void test_callchain_depth2_fp(void **state)
{
	check_chain((const char *const[]){ "XTRACE_STACK_DEPTH=2", "XTRACE_UNWIND=fp", NULL }, 2);
}

/* Deep stacks: deepstack's allocations, 300 frames deep and more, recorded at
 * XTRACE_STACK_DEPTH 64 and 128 by every unwinder. Each allocation's size names the call path
 * it was made from (see tests/workloads/deepstack.c), so every recorded stack is checked frame
 * by frame: the program's frames from the innermost outwards, exactly, up to the depth; past
 * main, only frames outside the program. */
enum { FN_OTHER, FN_NODE, FN_LEAF, FN_DIVE, FN_BUILD, FN_EXPR, FN_TERM, FN_FACTOR, FN_MAIN };
static const char *const deep_fn[] = { "?", "node", "leaf", "dive", "build", "expr", "term",
				       "factor", "main" };

struct deep_ctx {
	xtrace_symbolizer *sym;
	struct h_addrset fn; /* pc -> FN_* */
	size_t depth;        /* XTRACE_STACK_DEPTH */
	uint64_t seen, good;
	char bad[1024]; /* the first stack not as expected, for the failure message */
};

static int deep_fn_of(struct deep_ctx *c, const xtrace_reader *r, uint64_t pc)
{
	uint64_t id;
	if (h_addrset_take(&c->fn, pc, &id)) {
		h_addrset_put(&c->fn, pc, id);
		return (int)id;
	}
	struct xtrace_frame f;
	xtrace_symbolize(c->sym, r, pc, &f);
	id = FN_OTHER;
	for (int k = FN_NODE; f.function && k <= FN_MAIN; k++)
		if (!strcmp(f.function, deep_fn[k]))
			id = (uint64_t)k;
	h_addrset_put(&c->fn, pc, id);
	return (int)id;
}

/* deep_expected writes the program's frames of an allocation of size (innermost first) into
 * want and returns how many, or 0 for a size deepstack does not make. */
static size_t deep_expected(uint64_t size, int *want, size_t cap)
{
	uint64_t site = size / 1000, level = size % 1000;
	static const int parse_fn[3] = { FN_EXPR, FN_TERM, FN_FACTOR };
	size_t n = 0;
	if (level + 4 > cap)
		return 0;
	want[n++] = FN_NODE;
	switch (site) {
	case 1: /* leaf under level dives */
		want[n++] = FN_LEAF;
		for (uint64_t i = 0; i < level; i++)
			want[n++] = FN_DIVE;
		break;
	case 2: case 3: /* build, before and after its recursion */
		for (uint64_t i = 0; i <= level; i++)
			want[n++] = FN_BUILD;
		break;
	case 4: case 5: case 6: /* expr, term, factor */
		if (parse_fn[level % 3] != FN_EXPR + (int)(site - 4))
			return 0;
		for (uint64_t i = 0; i <= level; i++)
			want[n++] = parse_fn[(level - i) % 3];
		break;
	default:
		return 0;
	}
	want[n++] = FN_MAIN;
	return n;
}

static void deep_alloc(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
		       const struct xtrace_alloc_type *t, bool mine)
{
	struct deep_ctx *c = s->ctx;
	if (!mine || t->api != 0)
		return;
	c->seen++;
	int want[1024];
	size_t nw = deep_expected(t->elem_size * t->count, want, 1024);
	const uint64_t *pcs;
	size_t n = xtrace_stack(r, ev->args[2], &pcs);
	/* exactly the program's frames up to the depth, and none of them past main */
	bool ok = nw > 0 && n == (nw < c->depth ? n : c->depth) && (nw >= c->depth || n >= nw);
	for (size_t i = 0; ok && i < n; i++)
		ok = deep_fn_of(c, r, pcs[i]) == (i < nw ? want[i] : FN_OTHER);
	if (ok) {
		c->good++;
		return;
	}
	if (c->bad[0])
		return;
	int l = snprintf(c->bad, sizeof c->bad, "size %llu: %zu frames (%zu expected before main's "
			 "callers):", (unsigned long long)(t->elem_size * t->count), n, nw);
	for (size_t i = 0; i < n && l < (int)sizeof c->bad; i++)
		l += snprintf(c->bad + l, sizeof c->bad - (size_t)l, " %s",
			      deep_fn[deep_fn_of(c, r, pcs[i])]);
}

/* check_deep runs deepstack mode untraced, then traced with every unwinder at both depths
 * (and env, if not NULL): the same output, a valid trace, and every stack exactly as
 * deep_expected says; with env, in at least min_gens generations. */
static void check_deep_env(const char *mode, const char *n, uint64_t want_allocs, const char *env,
			   uint64_t min_gens)
{
	struct h_run plain;
	h_plain(&plain, H_ARGV((char *)h_workload("deepstack"), (char *)mode, (char *)n));
	h_expect_exit(&plain, 0);
	static const char *const unwinders[] = { "dwarf", "libunwind", "fp" };
	static const size_t depths[] = { 64, 128 };
	for (size_t u = 0; u < 3; u++) {
		for (size_t d = 0; d < 2; d++) {
			char uenv[64], denv[64];
			h_fmt(uenv, sizeof uenv, "XTRACE_UNWIND=%s", unwinders[u]);
			h_fmt(denv, sizeof denv, "XTRACE_STACK_DEPTH=%zu", depths[d]);
			struct h_run r;
			h_traced(&r, (const char *const[]){ uenv, denv, env, NULL },
				 H_ARGV((char *)h_workload("deepstack"), (char *)mode, (char *)n));
			h_expect_exit(&r, 0);
			assert_string_equal(r.out, plain.out);
			char trace[PATH_MAX];
			h_one_trace(&r, trace);
			h_validate(trace);
			struct deep_ctx c = { .sym = xtrace_symbolizer_new(), .depth = depths[d] };
			assert_non_null(c.sym);
			struct h_summary s = { .focus = "deepstack", .on_alloc = deep_alloc, .ctx = &c };
			h_summarize_clean(trace, &s);
			if (s.gens < min_gens)
				fail_msg("deepstack %s %s, %s %s: %llu generations, not %llu", mode, n,
					 uenv, denv, (unsigned long long)s.gens,
					 (unsigned long long)min_gens);
			xtrace_symbolizer_free(c.sym);
			h_addrset_free(&c.fn);
			if (c.seen != want_allocs || c.good != c.seen)
				fail_msg("deepstack %s %s, %s %s: %llu of %llu allocations (%llu expected) "
					 "with their stacks as expected; first other: %s", mode, n, uenv,
					 denv, (unsigned long long)c.good, (unsigned long long)c.seen,
					 (unsigned long long)want_allocs, c.bad);
			h_run_free(&r);
		}
	}
	h_run_free(&plain);
}

static void check_deep(const char *mode, const char *n, uint64_t want_allocs)
{
	check_deep_env(mode, n, want_allocs, NULL, 1);
}

/* one helper called at shallow and deep depths in turn: 20 + 20 allocations */
static void test_deep_alternating_depths(void **state)
{
	check_deep("alternate", "300", 40);
}

/* a builder allocating at every level of a 300-deep recursion, down and back up */
static void test_deep_recursive_builder(void **state)
{
	check_deep("build", "300", 600);
}

/* three mutually recursive functions 100 parentheses deep (305 frames): per level of
 * parentheses, expr, term and factor allocate once on the way down, and term and expr once more
 * for the "*2+3" after each closing one */
static void test_deep_recursive_descent(void **state)
{
	check_deep("parse", "100", 603);
}

/* the builder's stacks again in later generations: each generation's stack tree starts
 * empty, and what a thread remembers of the last one's nodes must not name any of its own */
static void test_deep_stacks_again_in_new_generations(void **state)
{
	check_deep_env("rounds", "100", 4 * 200, "XTRACE_GEN_MS=1", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_callchain_default),
		cmocka_unit_test(test_callchain_dwarf_is_libunwind),
		cmocka_unit_test(test_signal_stack_libunwind_loaded_late),
		cmocka_unit_test(test_callchain_fp),
		cmocka_unit_test(test_callchain_none),
		cmocka_unit_test(test_unknown_unwinder_says_so),
		cmocka_unit_test(test_signal_handler_stacks),
		cmocka_unit_test(test_callchain_depth2),
		cmocka_unit_test(test_callchain_depth2_fp),
		cmocka_unit_test(test_deep_alternating_depths),
		cmocka_unit_test(test_deep_recursive_builder),
		cmocka_unit_test(test_deep_recursive_descent),
		cmocka_unit_test(test_deep_stacks_again_in_new_generations),
	};
	return h_finish(cmocka_run_group_tests_name("stacks", tests, NULL, NULL));
}
