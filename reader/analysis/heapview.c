/* heapview.c: applying one heap operation of any heap (see heapview.h). */
#include "heapview.h"

#include "summary.h"

int xt_heapview_apply(struct xt_summary *s, struct xt_heap *h, const xtrace_reader *r,
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
		c = xt_heap_free(h, op->addr, op->kind == XT_OP_REALLOC_FREE, &old);
		if (sites && c == XT_HEAP_OK)
			xt_sites_free(sites, &old);
	}
	if (c == XT_HEAP_NOMEM)
		return -1;
	s->op_heap = h;
	s->op = *op;
	if (c != XT_HEAP_OK && p->issue && (selected || p->check_every_heap))
		p->issue(p->ctx, r, ev, c);
	return selected && p->stop_event && h->events >= p->stop_event;
}
