/* heap.c: heap accounting (see heap.h): setting up, the gaps, and the names of the checks; the
 * allocations and frees themselves are inline in heap.h. */
#include "heap.h"

#include <string.h>

int xt_heap_init(struct xt_heap *h, int forked_child)
{
	memset(h, 0, sizeof *h);
	h->forked_child = forked_child;
	if (xt_liveset_init(&h->live, 0) < 0)
		return -1;
	if (forked_child && xt_liveset_init(&h->seen, 0) < 0) {
		xt_liveset_destroy(&h->live);
		return -1;
	}
	return 0;
}

void xt_heap_destroy(struct xt_heap *h)
{
	xt_liveset_destroy(&h->live);
	if (h->forked_child || h->after_gap)
		xt_liveset_destroy(&h->seen);
}

int xt_heap_gap(struct xt_heap *h)
{
	if (h->forked_child || h->after_gap)
		xt_liveset_destroy(&h->seen);
	h->forked_child = 0; /* a free not seen since is unrecorded now, whatever came before */
	h->after_gap = xt_liveset_init(&h->seen, 0) == 0;
	return h->after_gap ? 0 : -1;
}

const char *xt_heap_check_name(enum xt_heap_check c)
{
	switch (c) {
	case XT_HEAP_OK: return "ok";
	case XT_HEAP_INHERITED_FREE: return "free of an object inherited at fork";
	case XT_HEAP_UNRECORDED_FREE: return "free of an object allocated while recording was off";
	case XT_HEAP_LIVE_ALLOC: return "allocation of an address that is still live";
	case XT_HEAP_NOT_LIVE_FREE: return "free of an address that is not live";
	case XT_HEAP_UNKNOWN_TYPE: return "allocation with a type id not in the type table";
	case XT_HEAP_NOMEM: return "out of memory";
	}
	return "?";
}
