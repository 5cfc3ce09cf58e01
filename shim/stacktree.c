/* stacktree.c: the prefix tree of stacks, as heaptrack's trace tree: a stack is its innermost
 * frame's pc under the node of its callers, so stacks that share their outer frames share those
 * nodes, and a caller that knows the node of a stack's outer part (the DWARF walk's memo,
 * stacks.c) adds a frame with one lookup. Nodes live in an intern table (intern.c) keyed by
 * (parent, pc); the stack table written at generation end holds, for each stack an event
 * named, its frames read back along the parents. */
#include "format.h"
#include "real.h"
#include "stacktree.h"

/* Serials of every tree of the process, so that no two resets give one. */
static _Atomic uint64_t serials;

static uint64_t node_hash(uint64_t parent, uintptr_t pc)
{
	/* splitmix64's finalizer over both: every bit of either moves the slot */
	uint64_t h = parent * 0x9e3779b97f4a7c15ull ^ pc;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

uint64_t xt_stree_child(struct xt_stree *tr, uint64_t parent, uintptr_t pc)
{
	uint64_t key[2] = {parent, pc};
	return xt_intern(&tr->nodes, node_hash(parent, pc), key, sizeof key);
}

/* new_stack gives node a stack ID of its own, or returns the one it has. */
static uint64_t new_stack(struct xt_stree *tr, uint64_t node)
{
	_Atomic uint32_t *at = &tr->stack_of[node - 1];
	uint32_t id = atomic_load_explicit(at, memory_order_acquire);
	if (id)
		return id;
	uint32_t mine = atomic_fetch_add_explicit(&tr->next_stack, 1, memory_order_relaxed) + 1;
	if (mine > tr->nodes.max_ids)
		return 0;
	/* Before the node can name it: a stack ID a node names has its node. A thread that loses
	 * the race leaves its ID's node unnamed by the node, a gap. */
	atomic_store_explicit(&tr->node_of[mine - 1], (uint32_t)node, memory_order_release);
	if (atomic_compare_exchange_strong_explicit(at, &id, mine, memory_order_acq_rel,
						    memory_order_acquire))
		return mine;
	return id;
}

/* parent_pc reads node's parent and pc; false when the node is not published. A node named
 * by a published node, its parent, was published before it: the walks check only where they
 * start (outward), and read the parents without the check. */
static bool parent_pc(struct xt_stree *tr, uint64_t node, bool outward, uint64_t *parent,
		      uintptr_t *pc)
{
	uint32_t len;
	const uint64_t *key = outward ? xt_intern_key_of(&tr->nodes, node, &len)
				      : xt_intern_key(&tr->nodes, node, &len);
	if (!key || len != 2 * sizeof(uint64_t))
		return false;
	*parent = key[0];
	*pc = (uintptr_t)key[1];
	return true;
}

/* xt_stree_new_stack is xt_stree_stack's way the first time a node names a stack. */
uint64_t xt_stree_new_stack(struct xt_stree *tr, uint64_t node, unsigned depth)
{
	if (!node || node > tr->nodes.max_ids)
		return 0;
	uint32_t id;
	/* A node deeper than depth frames names the stack of its innermost depth frames, their
	 * own node's. */
	uintptr_t pcs[XT_MAX_FRAMES + 1];
	unsigned n = 0;
	if (depth > XT_MAX_FRAMES)
		depth = XT_MAX_FRAMES;
	for (uint64_t at = node; at && n <= depth; n++)
		if (!parent_pc(tr, at, n > 0, &at, &pcs[n]))
			return 0;
	if (n <= depth)
		return new_stack(tr, node);
	uint64_t own = 0;
	for (unsigned i = depth; i-- > 0;)
		if (!(own = xt_stree_child(tr, own, pcs[i])))
			return 0;
	if (!(id = (uint32_t)new_stack(tr, own)))
		return 0;
	uint32_t none = 0;
	if (atomic_compare_exchange_strong_explicit(&tr->stack_of[node - 1], &none, id,
						    memory_order_acq_rel, memory_order_acquire))
		return id;
	return none;
}

uint64_t xt_stree_stacks(struct xt_stree *tr)
{
	uint64_t n = atomic_load(&tr->next_stack);
	return (n < tr->nodes.max_ids ? n : tr->nodes.max_ids) + 1;
}

/* node_of returns stack ID id's node, 0 when the ID was never given whole. */
static uint32_t node_of(struct xt_stree *tr, uint64_t id)
{
	uint32_t node = atomic_load_explicit(&tr->node_of[id - 1], memory_order_acquire);
	if (!node || atomic_load_explicit(&tr->stack_of[node - 1], memory_order_acquire) != id)
		return 0;
	return node;
}

unsigned xt_stree_frames(struct xt_stree *tr, uint64_t id, uintptr_t *pcs, unsigned max)
{
	if (!id || id >= xt_stree_stacks(tr))
		return 0;
	uint64_t node = node_of(tr, id);
	unsigned n = 0;
	while (node) {
		/* a node never published, or a chain longer than any stack */
		if (n == max || !parent_pc(tr, node, n > 0, &node, &pcs[n]))
			return 0;
		n++;
	}
	return n;
}

static void new_serial(struct xt_stree *tr)
{
	atomic_store(&tr->serial, atomic_fetch_add(&serials, 1) + 1);
}

void xt_stree_reset(struct xt_stree *tr)
{
	/* every node may name a stack: one deeper than its stack's, another's */
	uint64_t nodes = atomic_load(&tr->nodes.next_id);
	for (uint64_t i = 0; i < nodes && i < tr->nodes.max_ids; i++)
		atomic_store_explicit(&tr->stack_of[i], 0, memory_order_relaxed);
	for (uint64_t id = 1, n = xt_stree_stacks(tr); id < n; id++)
		atomic_store_explicit(&tr->node_of[id - 1], 0, memory_order_relaxed);
	atomic_store(&tr->next_stack, 0);
	xt_intern_reset(&tr->nodes);
	new_serial(tr);
}

/* An intern entry holds 24 bytes and the 16-byte key. */
#define NODE_BYTES 40

static bool init_one(struct xt_stree *tr, uint32_t nslots, void (*nearly_full)(void))
{
	/* room for half as many nodes as slots: probes stay short in a full tree */
	if (!xt_intern_init(&tr->nodes, nslots, (size_t)nslots / 2 * NODE_BYTES, nearly_full))
		return false;
	size_t bytes = tr->nodes.max_ids * sizeof(uint32_t);
	void *a = xt_table_map(bytes), *b = xt_table_map(bytes);
	if (!a || !b)
		return false;
	tr->stack_of = a;
	tr->node_of = b;
	atomic_store(&tr->next_stack, 0);
	new_serial(tr);
	return true;
}

bool xt_stree_init_pair(struct xt_stree tr[2], uint32_t nslots, void (*nearly_full)(void))
{
	return init_one(&tr[0], nslots, nearly_full) && init_one(&tr[1], nslots, nearly_full);
}

void xt_stree_forget_pair(struct xt_stree tr[2])
{
	for (int i = 0; i < 2; i++) {
		xt_intern_forget(&tr[i].nodes);
		xt_table_forget(tr[i].stack_of, tr[i].nodes.max_ids * sizeof(uint32_t));
		xt_table_forget(tr[i].node_of, tr[i].nodes.max_ids * sizeof(uint32_t));
		atomic_store(&tr[i].next_stack, 0);
		new_serial(&tr[i]);
	}
}
