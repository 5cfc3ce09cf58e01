/* test_stacktree.c: the shim's prefix tree of stacks (shim/stacktree.c): a stack added frame by
 * frame from its outermost reads back as its frames under one stack ID, stacks sharing outer
 * frames share nodes, keys that collide in a table too small for them stay apart, a stack
 * deeper than the depth kept names the stack of its innermost frames, a generation's reset
 * starts the IDs again and changes the serial that memos of nodes check, and a fork child's
 * trees start empty after its forget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "format.h"
#include "intern.h"
#include "real.h"
#include "stacktree.h"

struct xt_real xt_real;

static struct xt_stree tr[2];

static int setup_big(void **state)
{
	xt_real.mmap = mmap;
	return xt_stree_init_pair(tr, 1u << 12, NULL) ? 0 : -1;
}

/* node_of_frames adds the n frames (innermost first) to tree t from the outermost in and
 * returns the innermost's node, 0 when the tree is full. */
static uint64_t node_of_frames(struct xt_stree *t, const uintptr_t *pcs, unsigned n)
{
	uint64_t node = 0;
	for (unsigned i = n; i-- > 0;)
		if (!(node = xt_stree_child(t, node, pcs[i])))
			return 0;
	return node;
}

static uint64_t stack_of_frames(struct xt_stree *t, const uintptr_t *pcs, unsigned n,
				unsigned depth)
{
	uint64_t node = node_of_frames(t, pcs, n);
	return node ? xt_stree_stack(t, node, depth) : 0;
}

static void assert_frames(struct xt_stree *t, uint64_t id, const uintptr_t *pcs, unsigned n)
{
	uintptr_t got[XT_MAX_FRAMES];
	assert_int_equal(xt_stree_frames(t, id, got, XT_MAX_FRAMES), n);
	assert_memory_equal(got, pcs, n * sizeof pcs[0]);
}

static void test_stacks_read_back_and_share_nodes(void **state)
{
	struct xt_stree *t = &tr[0];
	static const uintptr_t a[] = {0x401010, 0x402020, 0x403030, 0x404040};
	static const uintptr_t b[] = {0x409090, 0x402020, 0x403030, 0x404040}; /* a's callers */
	static const uintptr_t c[] = {0x404040, 0x403030, 0x402020, 0x401010}; /* a reversed */
	uint64_t ia = stack_of_frames(t, a, 4, 64), ib = stack_of_frames(t, b, 4, 64);
	uint64_t ic = stack_of_frames(t, c, 4, 64);
	assert_true(ia && ib && ic && ia != ib && ia != ic && ib != ic);
	assert_int_equal(stack_of_frames(t, a, 4, 64), ia);
	assert_frames(t, ia, a, 4);
	assert_frames(t, ib, b, 4);
	assert_frames(t, ic, c, 4);
	/* a and b differ only in the innermost frame: their callers' node is one */
	assert_int_equal(node_of_frames(t, a + 1, 3), node_of_frames(t, b + 1, 3));
	/* IDs are dense: only the stacks named got one, not their callers' nodes */
	assert_int_equal(xt_stree_stacks(t), 4);
	/* a stack of callers, once named, is a stack of its own */
	uint64_t callers = stack_of_frames(t, a + 1, 3, 64);
	assert_int_equal(callers, 4);
	assert_frames(t, callers, a + 1, 3);
	assert_int_equal(xt_stree_frames(t, 0, (uintptr_t[XT_MAX_FRAMES]){0}, XT_MAX_FRAMES), 0);
	assert_int_equal(xt_stree_frames(t, 5, (uintptr_t[XT_MAX_FRAMES]){0}, XT_MAX_FRAMES), 0);
	xt_stree_reset(t);
}

static void test_colliding_keys_stay_apart(void **state)
{
	/* 16 slots, room for 8 nodes: every key probes past others */
	struct xt_stree small[2];
	assert_true(xt_stree_init_pair(small, 16, NULL));
	struct xt_stree *t = &small[0];
	/* one pc under different parents, and different pcs under one parent */
	uint64_t root_a = xt_stree_child(t, 0, 0x1000), root_b = xt_stree_child(t, 0, 0x2000);
	uint64_t aa = xt_stree_child(t, root_a, 0x3000), ba = xt_stree_child(t, root_b, 0x3000);
	uint64_t ab = xt_stree_child(t, root_a, 0x4000);
	assert_true(root_a && root_b && aa && ba && ab);
	assert_true(aa != ba && aa != ab && ba != ab && root_a != root_b);
	assert_int_equal(xt_stree_child(t, root_b, 0x3000), ba);
	assert_int_equal(xt_stree_child(t, root_a, 0x3000), aa);
	/* filled up: a new node is refused, the old ones are still found */
	uint64_t last = 1;
	for (uintptr_t pc = 0x5000; last && pc < 0x5000 + 64; pc++)
		last = xt_stree_child(t, ab, pc);
	assert_int_equal(last, 0);
	assert_int_equal(xt_stree_child(t, root_a, 0x4000), ab);
	uint64_t id = xt_stree_stack(t, ba, 64);
	assert_true(id);
	assert_frames(t, id, (const uintptr_t[]){0x3000, 0x2000}, 2);
	assert_int_equal(xt_stree_stack(t, 0, 64), 0);
}

static void test_deep_stacks_keep_their_innermost_frames(void **state)
{
	struct xt_stree *t = &tr[1];
	uintptr_t deep[300], other[300];
	for (unsigned i = 0; i < 300; i++)
		deep[i] = other[i] = 0x500000 + 16 * (uintptr_t)(i % 7) + i;
	other[250] = 0x1234; /* differs from deep past the 128th frame */
	/* a stack of the most frames a stack has is kept whole */
	uint64_t whole = stack_of_frames(t, deep, XT_MAX_FRAMES, XT_MAX_FRAMES);
	assert_frames(t, whole, deep, XT_MAX_FRAMES);
	/* deeper ones name the stack of their innermost depth frames, one for both */
	uint64_t id = stack_of_frames(t, deep, 300, 64);
	assert_true(id && id != whole);
	assert_frames(t, id, deep, 64);
	assert_int_equal(stack_of_frames(t, other, 300, 64), id);
	assert_int_equal(stack_of_frames(t, deep, 64, 64), id);
	assert_int_equal(stack_of_frames(t, deep, 200, XT_MAX_FRAMES), whole);
	/* a deep node whose innermost frames differ is another stack */
	other[3] = 0x4321;
	uint64_t id2 = stack_of_frames(t, other, 300, 64);
	assert_true(id2 && id2 != id);
	assert_frames(t, id2, other, 64);
	xt_stree_reset(t);
}

static void test_reset_starts_a_new_generation(void **state)
{
	struct xt_stree *t = &tr[0];
	static const uintptr_t a[] = {0x10, 0x20, 0x30}, b[] = {0x40, 0x50};
	uint64_t serial = atomic_load(&t->serial), other = atomic_load(&tr[1].serial);
	uint64_t ia = stack_of_frames(t, a, 3, 64), ib = stack_of_frames(t, b, 2, 64);
	assert_int_equal(ia, 1);
	assert_int_equal(ib, 2);
	uint64_t in_other = stack_of_frames(&tr[1], b, 2, 64);
	xt_stree_reset(t);
	assert_true(atomic_load(&t->serial) != serial);
	assert_int_equal(atomic_load(&tr[1].serial), other);
	/* the last generation's IDs are gone; the next starts from 1 */
	assert_int_equal(xt_stree_stacks(t), 1);
	assert_int_equal(xt_stree_frames(t, ia, (uintptr_t[XT_MAX_FRAMES]){0}, XT_MAX_FRAMES), 0);
	assert_int_equal(stack_of_frames(t, b, 2, 64), 1);
	assert_frames(t, 1, b, 2);
	assert_int_equal(stack_of_frames(t, a, 3, 64), 2);
	assert_frames(t, 2, a, 3);
	/* the other parity's tree is untouched */
	assert_frames(&tr[1], in_other, b, 2);
	xt_stree_reset(t);
	xt_stree_reset(&tr[1]);
}

/* child_forgets_trees checks, in a fork child, that its trees start empty after the forget
 * (their memory came wiped, or xt_tables_forget_all gave it back) and work from there, under
 * serials of their own; 0 if so, else which check failed. */
static int child_forgets_trees(const uintptr_t *a, const uint64_t serial[2])
{
	xt_tables_forget_all();
	xt_stree_forget_pair(tr);
	for (int i = 0; i < 2; i++)
		if (xt_stree_stacks(&tr[i]) != 1 || atomic_load(&tr[i].nodes.next_id) != 0 ||
		    atomic_load(&tr[i].serial) == serial[i])
			return 1;
	if (atomic_load(&tr[0].serial) == atomic_load(&tr[1].serial))
		return 2;
	uintptr_t got[XT_MAX_FRAMES];
	if (stack_of_frames(&tr[1], a, 2, 64) != 1 ||
	    xt_stree_frames(&tr[1], 1, got, XT_MAX_FRAMES) != 2 || memcmp(got, a, 2 * sizeof a[0]))
		return 3;
	return 0;
}

static void test_fork_child_forgets_both_trees(void **state)
{
	static const uintptr_t a[] = {0x77, 0x88};
	uint64_t serial[2] = {atomic_load(&tr[0].serial), atomic_load(&tr[1].serial)};
	assert_int_equal(stack_of_frames(&tr[0], a, 2, 64), 1);
	assert_int_equal(stack_of_frames(&tr[1], a + 1, 1, 64), 1);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_forgets_trees(a, serial));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	xt_stree_reset(&tr[0]);
	xt_stree_reset(&tr[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stacks_read_back_and_share_nodes),
		cmocka_unit_test(test_colliding_keys_stay_apart),
		cmocka_unit_test(test_deep_stacks_keep_their_innermost_frames),
		cmocka_unit_test(test_reset_starts_a_new_generation),
		cmocka_unit_test(test_fork_child_forgets_both_trees),
	};
	return cmocka_run_group_tests(tests, setup_big, NULL);
}
