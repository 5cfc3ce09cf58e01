/* heaps.h: the Heaps experiment's analysis, a program's own heaps (pools, arenas) beside the
 * malloc heap: each heap the trace names gets its own accounting (heap.h), fed through the heap
 * view (heapview.h) as malloc's is. Names come from each generation's heap table; a heap is
 * looked up by ID per event, so a trace naming many heaps stays linear. */
#ifndef XT_HEAPS_H
#define XT_HEAPS_H

#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "liveset.h"

/* XT_MALLOC_HEAP_NAME names the malloc heap, the one an analysis reads unless told otherwise. */
#define XT_MALLOC_HEAP_NAME "malloc"

struct xt_named_heap {
	uint64_t id;         /* heap_value, from 1 */
	char *name;          /* from the heap table; NULL until one names it */
	struct xt_heap heap;
};

struct xt_heaps {
	struct xt_named_heap **heap; /* in order of first sight; each its own block, so pointers to
				      * a heap stay valid while more come */
	size_t n, cap;
	struct xt_liveset by_id;     /* heap ID -> index in heap (the record's site) */
	int forked_child;
	int after_gap; /* recording was off for a time: a heap named later knows it too */
};

/* xt_heaps_find returns the heap named name, or NULL. */
struct xt_named_heap *xt_heaps_find(const struct xt_heaps *hs, const char *name);

/* xt_heap_label is a heap's name, or "heap N" in buf when no table named it. */
const char *xt_heap_label(const struct xt_named_heap *h, char *buf, size_t n);

#endif
