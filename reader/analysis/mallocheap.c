/* mallocheap.c: the AllocFree experiment's analysis: its events as the malloc heap's
 * allocations and frees (the heap view, heapview.h), kept in struct xt_summary's heap. */
#include <string.h>

#include "heapview.h"
#include "spec.h"
#include "summary.h"

/* Argument positions of the AllocFree events, in the order allocfree.def gives them. */
enum { ARG_OBJ_ADDR = 0, ARG_TYPE = 1, ARG_STACK = 2 };

static int init(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p)
{
	(void)p;
	s->sampling = (struct xt_sampling){.mean = xtrace_get_header(r)->sample_bytes};
	return xt_heap_init(&s->heap, xtrace_get_header(r)->fork_parent_pid != 0);
}

static int event(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		 const struct xt_pass *p)
{
	/* Built where the pass keeps the last operation (struct xt_summary's op): the heap view
	 * need not copy it there. */
	struct xt_heap_op *op = &s->op;
	uint64_t addr = ev->args[ARG_OBJ_ADDR];
	switch (ev->type) {
	case XT_EV_ObjectAlloc: {
		const struct xtrace_alloc_type *t = xtrace_alloc_type(r, ev->args[ARG_TYPE]);
		*op = (struct xt_heap_op){
			.kind = XT_OP_ALLOC, .addr = addr, .stack = ev->args[ARG_STACK],
			.api = t && t->api < XT_API_COUNT ? t->api : XT_API_UNKNOWN,
			.bytes = t ? xt_request_bytes(t->elem_size, t->count) : 0};
		xt_sampling_weigh(&s->sampling, &op->bytes, &op->objects);
		break;
	}
	case XT_EV_ObjectFree:
		*op = (struct xt_heap_op){.kind = XT_OP_FREE, .addr = addr};
		break;
	case XT_EV_ObjectReallocFree:
		*op = (struct xt_heap_op){.kind = XT_OP_REALLOC_FREE, .addr = addr};
		break;
	default:
		return 0;
	}
	return xt_heapview_apply(s, &s->heap, r, ev, op, p);
}

static void destroy(struct xt_summary *s)
{
	xt_heap_destroy(&s->heap);
}

const struct xt_analysis xt_analysis_malloc_heap = {
	.name = "malloc heap",
	.experiment = XT_EXP_ALLOCFREE,
	.init = init,
	.event = event,
	.destroy = destroy,
};
