/* heapview.h: the heap view, one allocation or free of any heap as the analysis of its
 * experiment reads it from an event: AllocFree's (mallocheap.c) for the malloc heap, Heaps'
 * (heaps.c) for the program's own. xt_heapview_apply is the one place that applies it: to that
 * heap's live set and totals (heap.h), to the allocation sites when it is the heap the pass
 * looks at (--heap), and to the validation listing. */
#ifndef XT_HEAPVIEW_H
#define XT_HEAPVIEW_H

#include <stdint.h>

#include "heap.h"
#include "xtrace-reader.h"

enum xt_heap_op_kind { XT_OP_ALLOC = 1, XT_OP_FREE, XT_OP_REALLOC_FREE };

struct xt_heap_op {
	enum xt_heap_op_kind kind;
	unsigned api;   /* alloc: the malloc API, XT_API_UNKNOWN, or XT_API_NONE (a heap without) */
	uint64_t addr;
	uint64_t bytes; /* alloc: the requested bytes */
	uint64_t stack; /* alloc: the caller's stack ID, of the current generation */
	uint32_t objects; /* alloc: the objects it stands for in a sampled trace; 0 stands for 1 */
};

struct xt_summary;
struct xt_pass;

/* xt_heapview_apply applies op, read from event ev, to heap h of the pass s: 0 to go on, 1 when
 * the pass is to stop there (h is the selected heap and reached p->stop_event), -1 without
 * memory. */
int xt_heapview_apply(struct xt_summary *s, struct xt_heap *h, const xtrace_reader *r,
		      const struct xtrace_event *ev, const struct xt_heap_op *op,
		      const struct xt_pass *p);

#endif
