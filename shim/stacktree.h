/* stacktree.h: a generation's stacks as a prefix tree of (parent node, pc), one per generation
 * parity, and the stack table's IDs of the nodes events name (stacktree.c). */
#ifndef XT_STACKTREE_H
#define XT_STACKTREE_H

#include <stdbool.h>
#include <stdint.h>

#include "intern.h"

/* A node is a stack: its innermost frame's pc under its parent, the stack of the callers
 * (node 0: none, the root). Nodes get IDs from 1, densely; a node named by an event gets a
 * stack ID, dense too, so the stack table holds the stacks events use and not every suffix of
 * them. A node deeper than the stacks kept shares the ID of its innermost frames' node. Lookups are lock-free (intern.c); only new nodes and new stack IDs cost
 * atomics. */
struct xt_stree {
	struct xt_intern nodes;
	_Atomic uint32_t *stack_of; /* per node (from 1): its stack ID, 0 none yet */
	_Atomic uint32_t *node_of;  /* per stack ID (from 1): its node, 0 none */
	_Atomic uint32_t next_stack;
	/* changes at every reset, in any tree of the process: a memo of node IDs made under
	 * another serial is stale */
	_Atomic uint64_t serial;
};

/* xt_stree_child returns the node of pc under parent (0: the root), adding it; 0 when the
 * tree is full. */
XT_HIDDEN uint64_t xt_stree_child(struct xt_stree *tr, uint64_t parent, uintptr_t pc);
/* xt_stree_stack returns the stack ID of node's innermost depth frames (all of them when it
 * has no more), giving it one; 0 when none is left. A tree's depth never changes. */
XT_HIDDEN uint64_t xt_stree_new_stack(struct xt_stree *tr, uint64_t node, unsigned depth);
static inline uint64_t xt_stree_stack(struct xt_stree *tr, uint64_t node, unsigned depth)
{
	uint32_t id = node && node <= tr->nodes.max_ids
			      ? atomic_load_explicit(&tr->stack_of[node - 1], memory_order_acquire)
			      : 0;
	return id ? id : xt_stree_new_stack(tr, node, depth);
}
/* xt_stree_frames writes stack ID id's frames to pcs, innermost first, at most max; returns
 * how many, 0 when id names no whole stack. */
XT_HIDDEN unsigned xt_stree_frames(struct xt_stree *tr, uint64_t id, uintptr_t *pcs, unsigned max);
/* xt_stree_stacks is one more than the highest stack ID given (IDs may have gaps). */
XT_HIDDEN uint64_t xt_stree_stacks(struct xt_stree *tr);
/* xt_stree_reset empties the tree for its next generation (tree idle). */
XT_HIDDEN void xt_stree_reset(struct xt_stree *tr);
/* Trees come in pairs, one per generation parity: init both (a level 0 of at most nslots
 * slots each, room for nslots / 2 nodes; nearly_full as intern.h's), or, in a fork child,
 * forget both (after xt_tables_forget_all, intern.h), whatever the parent's threads were adding
 * at the fork. */
XT_HIDDEN bool xt_stree_init_pair(struct xt_stree tr[2], uint32_t nslots,
				  void (*nearly_full)(void));
XT_HIDDEN void xt_stree_forget_pair(struct xt_stree tr[2]);

#endif
