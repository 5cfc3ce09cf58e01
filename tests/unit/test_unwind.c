/* test_unwind.c: the shim's DWARF walk (shim/unwind.c) gives the frames libunwind gives, from
 * the main thread, another thread, frames of every shape the compiler makes (deep recursion,
 * alloca, frame pointers or none), libc's own frames and through a signal frame, from its own
 * frame or a caller's, and the first frames of stacks deeper than it walks, its memo of the
 * last walk staying in bounds and keeping the stack tree's nodes only on the steps they name,
 * deep walks keeping them; it gives up (so the shim asks libunwind) on a signal stack; the rules
 * it cached before a dlclose, or when one may be half written, are not used again. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "real.h"
#include "unwind.h"

struct xt_real xt_real; /* the rows of long FDEs are mapped with it (shim/fderows.c) */

static __thread struct xt_thread *t_state;

/* new_state returns a zeroed thread state, aligned as its page-aligned parts require. */
static struct xt_thread *new_state(void)
{
	struct xt_thread *t = aligned_alloc(_Alignof(struct xt_thread), sizeof *t);
	assert_non_null(t);
	memset(t, 0, sizeof *t);
	t->unw = calloc(1, sizeof *t->unw);
	return t;
}

static struct xt_thread *thread_state(void)
{
	struct xt_thread *t = t_state;
	if (!t) {
		t = t_state = new_state();
		pthread_attr_t attr;
		void *lo;
		size_t size;
		assert_int_equal(pthread_getattr_np(pthread_self(), &attr), 0);
		assert_int_equal(pthread_attr_getstack(&attr, &lo, &size), 0);
		pthread_attr_destroy(&attr);
		t->stack_lo = (uintptr_t)lo;
		t->stack_hi = (uintptr_t)lo + size;
	}
	return t;
}

/* The most frames the shim asks for: XTRACE_STACK_DEPTH's 128 and its own frames. */
#define MAX_WALK 136

struct walks {
	uintptr_t dwarf[MAX_WALK], lu[MAX_WALK];
	int nd, nl;
};

/* node_for stands for the stack tree's node of pc under parent (stacks.c): any function of
 * both that tells chains apart. */
static uint64_t node_for(uint64_t parent, uint64_t pc)
{
	return (parent * 0x9e3779b97f4a7c15ull ^ pc) * 0xbf58476d1ce4e5b9ull + 1;
}

/* name_nodes gives every step of the memo its node, as the shim does for the steps it reads. */
static void name_nodes(struct xt_unw_memo *m)
{
	if (!m->match)
		return;
	m->nodes = 1;
	m->node_base = m->node_top = m->base;
	m->s[m->base].node = 0;
	for (unsigned k = m->base + 1; k <= m->top; k++)
		m->s[k].node = node_for(m->s[k - 1].node, m->s[k - 1].ip);
	m->node_top = m->top;
}

/* assert_nodes checks that the nodes a walk kept are still those of the steps they are on:
 * each names the steps from its own outward, as they now are. */
static void assert_nodes(const struct xt_unw_memo *m)
{
	if (!m->nodes)
		return;
	assert_true(m->node_base >= m->base && m->node_top <= m->top &&
		    m->node_base <= m->node_top);
	for (unsigned k = m->node_base + 1; k <= m->node_top; k++)
		if (m->s[k].node != node_for(m->s[k - 1].node, m->s[k - 1].ip))
			fail_msg("step %u of %u..%u keeps a node of other steps", k, m->base, m->top);
}

/* Set: capture_max's DWARF walks start from its own frame, as the shim's from the interposed
 * function's, and give the return addresses from capture_max's own outwards. */
static __thread bool from_frame;

/* capture_max walks the stack both ways from the same frame, max frames at most. Each list's
 * first entry is a return address inside capture_max itself (two different calls), so lists
 * are compared from the second (a walk from its frame has none: it gets a 0 there). The memo's
 * nodes are named before the walk and checked after it. */
static __attribute__((noinline, optimize("no-omit-frame-pointer"))) void
capture_max(struct walks *w, unsigned max)
{
	name_nodes(&thread_state()->unw->memo);
	int skip = from_frame;
	uintptr_t fp = from_frame ? (uintptr_t)__builtin_frame_address(0) : 0;
	w->nd = xt_unwind_dwarf(thread_state(), max - (unsigned)skip, fp);
	assert_nodes(&thread_state()->unw->memo);
	w->nl = unw_backtrace((void **)w->lu, (int)max);
	w->dwarf[0] = 0;
	for (int i = 0; i < w->nd; i++)
		w->dwarf[i + skip] = xt_unwind_pc(&thread_state()->unw->memo, (unsigned)i);
	if (w->nd >= 0)
		w->nd += skip;
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void capture(struct walks *w)
{
	capture_max(w, 128);
	__asm__ volatile("" ::: "memory");
}

static void assert_same_frames(const struct walks *w, int min_depth)
{
	assert_true(w->nd > 1);
	assert_int_equal(w->nd, w->nl);
	assert_true(w->nd >= min_depth);
	for (int i = 1; i < w->nd; i++)
		assert_int_equal(w->dwarf[i], w->lu[i]);
}

static __attribute__((noinline)) int recurse(struct walks *w, int n)
{
	if (n == 0) {
		capture(w);
		return 0;
	}
	int r = recurse(w, n - 1);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

/* With a variable-size frame the CFA is RBP-based (gcc keeps a frame pointer for alloca);
 * nested ones need each caller's RBP restored from where its callee saved it. */
static __attribute__((noinline)) int with_alloca(struct walks *w, size_t n, int nest)
{
	char *p = __builtin_alloca(n);
	memset(p, 1, n);
	__asm__ volatile("" : : "r"(p) : "memory");
	int r = nest ? with_alloca(w, n + 16, nest - 1) : recurse(w, 3);
	__asm__ volatile("" ::: "memory");
	return r + p[n / 2];
}

static __attribute__((noinline, optimize("omit-frame-pointer"))) int no_fp(struct walks *w, int n)
{
	volatile char pad[200];
	pad[0] = (char)n;
	return with_alloca(w, 1000 + (size_t)n, 2) + pad[0];
}

static void test_same_as_libunwind_main_thread(void **state)
{
	struct walks w;
	recurse(&w, 0);
	assert_same_frames(&w, 4);
	recurse(&w, 40);
	assert_same_frames(&w, 44);
	no_fp(&w, 7);
	assert_same_frames(&w, 12);
	/* a second time, from the cache */
	no_fp(&w, 7);
	assert_same_frames(&w, 12);
}

static void *thread_walk(void *arg)
{
	struct walks *w = arg;
	no_fp(w, 3);
	free(t_state->unw);
	free(t_state);
	return NULL;
}

static void test_same_as_libunwind_other_thread(void **state)
{
	struct walks w;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, thread_walk, &w), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	/* ... thread_walk, start_thread, clone3: libc's outermost frame ends both walks */
	assert_same_frames(&w, 8);
}

/* Two call sites of the same function at the same depth: the frames below are the same, and
 * only the caller's return address tells them apart. */
static __attribute__((noinline)) int site(struct walks *w, int which, int depth)
{
	int r;
	if (which) {
		r = recurse(w, depth);
		__asm__ volatile("nop" ::: "memory");
	} else {
		r = recurse(w, depth);
		__asm__ volatile("nop\n\tnop" ::: "memory");
	}
	__asm__ volatile("" ::: "memory");
	return r;
}

/* random_walks walks from 400 call sites and depths in a random order, each walk's frames
 * checked against libunwind's; with from_frames, about half the walks start from the frame of
 * the function that asks (capture_max's), as the shim's from malloc's. */
static void random_walks(unsigned seed, bool from_frames)
{
	for (int i = 0; i < 400; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned r = seed >> 16;
		struct walks w;
		from_frame = from_frames && ((r >> 4) & 1);
		if (r & 1)
			site(&w, (r >> 1) & 1, (int)((r >> 2) % 4));
		else
			no_fp(&w, (int)((r >> 2) % 3));
		assert_same_frames(&w, 4);
	}
	from_frame = false;
}

static void test_repeated_walks_follow_changes(void **state)
{
	/* Each walk may take the previous one's outer frames; every one must still be what
	 * libunwind sees, whichever frame changed in between. */
	random_walks(12345, false);
}

static void test_walks_from_a_frame(void **state)
{
	/* the same, walks from the asking function's frame mixed with walks from the walker's */
	random_walks(54321, true);
}

static void test_depth_limit(void **state)
{
	struct walks w;
	recurse(&w, 20);
	assert_int_equal(xt_unwind_dwarf(thread_state(), 4, 0), 4);
}

/* Walks of stacks deeper than max, from every level of deep recursions: each takes what it can
 * of the previous walk's frames, and must give libunwind's first max frames while its memo
 * stays within half its array (the memo keeps steps past max, and a memo once held the whole
 * deeper walk, past its array). */
static void assert_deep_walk(const struct walks *w, unsigned max)
{
	const struct xt_unw_memo *m = &thread_state()->unw->memo;
	const unsigned half = sizeof m->s / sizeof m->s[0] / 2 - 1;
	if (m->top - m->base > half)
		fail_msg("the memo holds %u steps, more than %u", m->top - m->base, half);
	assert_same_frames(w, 2);
	assert_true(w->nd <= (int)max);
}

static __attribute__((noinline)) void deep_build(struct walks *w, unsigned max, int level)
{
	capture_max(w, max);
	assert_deep_walk(w, max);
	if (level)
		deep_build(w, max, level - 1);
	capture_max(w, max);
	assert_deep_walk(w, max);
}

static __attribute__((noinline)) void deep_b(struct walks *w, unsigned max, int level);

static __attribute__((noinline)) void deep_c(struct walks *w, unsigned max, int level)
{
	capture_max(w, max);
	assert_deep_walk(w, max);
	if (level)
		deep_b(w, max, level - 1);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void deep_a(struct walks *w, unsigned max, int level)
{
	capture_max(w, max);
	assert_deep_walk(w, max);
	deep_c(w, max, level);
	capture_max(w, max);
	assert_deep_walk(w, max);
}

static __attribute__((noinline)) void deep_b(struct walks *w, unsigned max, int level)
{
	deep_a(w, max, level);
	capture_max(w, max);
	assert_deep_walk(w, max);
}

static __attribute__((noinline)) void deep_at(struct walks *w, unsigned max, int level)
{
	if (level)
		deep_at(w, max, level - 1);
	else
		capture_max(w, max);
	__asm__ volatile("" ::: "memory");
}

static void test_deep_walks_stay_in_the_memo(void **state)
{
	static const unsigned maxes[] = { 72, MAX_WALK, 9 };
	for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++) {
		unsigned max = maxes[k];
		struct walks w;
		deep_build(&w, max, 300);
		deep_b(&w, max, 100);
		/* the same function at shallow and deep levels in turn */
		for (int i = 0; i < 20; i++) {
			deep_at(&w, max, i);
			assert_deep_walk(&w, max);
			deep_at(&w, max, 300 - i);
			assert_deep_walk(&w, max);
		}
	}
}

static __attribute__((noinline)) void capture_nested(struct walks *w, unsigned max)
{
	capture_max(w, max);
	__asm__ volatile("" ::: "memory");
}

/* deep_pair walks at the bottom of a recursion, from two depths in turn; returns how many of
 * the walks kept the memo's last step and the nodes of every step but the few that changed. */
static __attribute__((noinline)) int deep_pair(struct walks *w, unsigned max, int level)
{
	int kept = 0;
	if (level) {
		kept = deep_pair(w, max, level - 1);
	} else {
		const struct xt_unw_memo *m = &thread_state()->unw->memo;
		for (int i = 0; i < 8; i++) {
			if (i & 1)
				capture_nested(w, max);
			else
				capture_max(w, max);
			kept += i > 0 && m->nodes && m->node_base == m->base && m->node_top + 8 >= m->top;
		}
	}
	__asm__ volatile("" ::: "memory");
	return kept;
}

/* A walk of a stack deeper than it goes keeps the memo's last step, and so the nodes rooted
 * there, even when it starts a frame deeper or shallower than the last one did. */
static void test_deep_walks_keep_their_nodes(void **state)
{
	struct walks w;
	assert_int_equal(deep_pair(&w, 72, 200), 7);
	assert_int_equal(deep_pair(&w, 9, 30), 7);
	/* shallow stacks too */
	assert_int_equal(deep_pair(&w, MAX_WALK, 10), 7);
}

static struct walks sig_walks;
static volatile int sig_n;

static void on_signal(int sig)
{
	capture(&sig_walks);
}

static void on_signal_dwarf_only(int sig)
{
	sig_n = xt_unwind_dwarf(thread_state(), 128, 0);
}

static __attribute__((noinline)) void raise_from(int depth)
{
	if (depth)
		raise_from(depth - 1);
	else
		raise(SIGUSR1);
	__asm__ volatile("" ::: "memory");
}

static void test_through_signal_frames(void **state)
{
	/* from the handler through the kernel's signal frame into the interrupted code and its
	 * callers: libunwind's frames, twice (the second time from cached rules) */
	signal(SIGUSR1, on_signal);
	for (int i = 0; i < 2; i++) {
		memset(&sig_walks, 0, sizeof sig_walks);
		raise_from(5);
		assert_same_frames(&sig_walks, 10);
	}

	/* on an alternate signal stack the walk does not even start */
	stack_t ss = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16};
	assert_int_equal(sigaltstack(&ss, NULL), 0);
	struct sigaction sa = {.sa_handler = on_signal_dwarf_only, .sa_flags = SA_ONSTACK};
	sigaction(SIGUSR1, &sa, NULL);
	sig_n = 0;
	raise(SIGUSR1);
	assert_int_equal(sig_n, -1);
	signal(SIGUSR1, SIG_DFL);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(ss.ss_sp);
}

static void test_no_bounds_no_walk(void **state)
{
	struct xt_thread *t = new_state();
	assert_int_equal(xt_unwind_dwarf(t, 8, 0), -1);
	free(t->unw);
	free(t);
}

static void test_dlclose_drops_cached_rules(void **state)
{
	struct walks w;
	recurse(&w, 2);
	struct xt_thread *t = thread_state();
	unsigned before = t->unw->epoch;
	size_t cached = 0;
	/* every rule cached made one the walk cannot follow (kind 4, giving up; the epoch it was
	 * cached in kept): the walks of the next epoch must not use them */
	for (size_t i = 0; i < sizeof t->unw->e / sizeof t->unw->e[0]; i++) {
		if (t->unw->e[i].key != 0) {
			cached++;
			t->unw->e[i].rule = (t->unw->e[i].rule & ~(uint64_t)7) | 4;
		}
	}
	assert_true(cached > 0);
	xt_unwind_code_unmapped();
	recurse(&w, 2);
	assert_int_not_equal(t->unw->epoch, before);
	assert_same_frames(&w, 5);
	/* and a cache told that a rule may be half written clears them all */
	for (size_t i = 0; i < sizeof t->unw->e / sizeof t->unw->e[0]; i++)
		if (t->unw->e[i].key != 0)
			t->unw->e[i].rule = (t->unw->e[i].rule & ~(uint64_t)7) | 4;
	t->unw->epoch = UINT_MAX;
	recurse(&w, 2);
	assert_same_frames(&w, 5);
}

int main(void)
{
	xt_real.mmap = mmap;
	xt_real.munmap = munmap;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_libunwind_main_thread),
		cmocka_unit_test(test_same_as_libunwind_other_thread),
		cmocka_unit_test(test_repeated_walks_follow_changes),
		cmocka_unit_test(test_walks_from_a_frame),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_deep_walks_stay_in_the_memo),
		cmocka_unit_test(test_deep_walks_keep_their_nodes),
		cmocka_unit_test(test_through_signal_frames),
		cmocka_unit_test(test_no_bounds_no_walk),
		cmocka_unit_test(test_dlclose_drops_cached_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
