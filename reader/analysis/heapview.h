/* heapview.h: the heap view, one allocation or free of any heap as the analysis of its
 * experiment reads it from an event: AllocFree's (mallocheap.c) for the malloc heap, Heaps'
 * (heaps.c) for the program's own. xt_heapview_apply is the one place that applies it: to that
 * heap's live set and totals (heap.h), to the allocation sites when it is the heap the pass
 * looks at (--heap), and to the validation listing. */
#ifndef XT_HEAPVIEW_H
#define XT_HEAPVIEW_H

#include <stdint.h>

#include "heap.h"
#include "summary.h"
#include "xtrace-reader.h"

/* xt_heapview_apply applies op (heap.h's struct xt_heap_op), read from event ev, to heap h of
 * the pass s: 0 to go on, 1 when the pass is to stop there (h is the selected heap and reached
 * p->stop_event), -1 without memory. Inline: every event of a heap comes through here. */
static inline int xt_heapview_apply(struct xt_summary *s, struct xt_heap *h, const xtrace_reader *r,
				    const struct xtrace_event *ev, const struct xt_heap_op *op,
				    const struct xt_pass *p)
{
	int selected = h == s->selected;
	struct xt_sites *sites = selected ? p->sites : NULL;
	enum xt_heap_check c;
	if (op->kind == XT_OP_ALLOC) {
		uint32_t site = XT_NO_SITE, objects = op->objects ? op->objects : 1;
		if (sites && op->addr && xt_sites_site(sites, r, ev->thread, op->stack, &site) < 0)
			return -1;
		c = xt_heap_alloc(h, ev->ts, op->addr, op->api, op->bytes, objects, site);
		if (sites && op->addr && c != XT_HEAP_NOMEM)
			xt_sites_alloc(sites, site, op->api != XT_API_UNKNOWN ? op->bytes : 0, objects);
	} else {
		struct xt_live old;
		c = xt_heap_free(h, op->addr, op->kind == XT_OP_REALLOC_FREE, sites ? &old : NULL);
		if (sites && c == XT_HEAP_OK)
			xt_sites_free(sites, &old);
	}
	if (c == XT_HEAP_NOMEM)
		return -1;
	s->op_heap = h;
	if (op != &s->op) /* an analysis may build it there */
		s->op = *op;
	if (c != XT_HEAP_OK && p->issue && (selected || p->check_every_heap))
		p->issue(p->ctx, r, ev, c);
	return selected && p->stop_event && h->events >= p->stop_event;
}

#endif
