/* heaps.c: the Heaps experiment's analysis (see heaps.h). */
#include "heaps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapview.h"
#include "spec.h"
#include "summary.h"
#include "varint.h"

/* Argument positions of HeapAlloc and HeapFree, in the order heaps.def gives them. */
enum { ARG_HEAP = 0, ARG_OBJ_ADDR = 1, ARG_SIZE = 2, ARG_STACK = 3 };

/* The heap table's batch subtype (heaps.def's XT_BATCH line). */
enum { HEAP_TABLE = 0 };

struct xt_named_heap *xt_heaps_find(const struct xt_heaps *hs, const char *name)
{
	for (size_t i = 0; i < hs->n; i++)
		if (hs->heap[i]->name && strcmp(hs->heap[i]->name, name) == 0)
			return hs->heap[i];
	return NULL;
}

const char *xt_heap_label(const struct xt_named_heap *h, char *buf, size_t n)
{
	if (h->name)
		return h->name;
	snprintf(buf, n, "heap %llu", (unsigned long long)h->id);
	return buf;
}

/* heap_of returns heap id's record, adding it when new; NULL without memory. */
static struct xt_named_heap *heap_of(struct xt_heaps *hs, uint64_t id)
{
	int added;
	struct xt_live *e = xt_liveset_put(&hs->by_id, id, &added);
	if (!e)
		return NULL;
	if (!added)
		return hs->heap[e->site];
	if (hs->n == hs->cap) {
		size_t cap = hs->cap ? 2 * hs->cap : 8;
		struct xt_named_heap **p = realloc(hs->heap, cap * sizeof *p);
		if (!p)
			goto fail;
		hs->heap = p;
		hs->cap = cap;
	}
	struct xt_named_heap *h = calloc(1, sizeof *h);
	if (!h)
		goto fail;
	if (xt_heap_init(&h->heap, hs->forked_child) < 0) {
		free(h);
		goto fail;
	}
	if (hs->after_gap && xt_heap_gap(&h->heap) < 0) {
		xt_heap_destroy(&h->heap);
		free(h);
		goto fail;
	}
	h->id = id;
	e->site = (uint32_t)hs->n;
	hs->heap[hs->n++] = h;
	return h;
fail:
	xt_liveset_remove(&hs->by_id, id, NULL);
	return NULL;
}

/* take_table names the heaps of one heap table: {uvarint id, uvarint len, len bytes} each. A
 * heap keeps the first name it is given; a damaged entry ends the table. The heap --heap names
 * is selected when it is named, before any of its events (a generation's tables come first). */
static int take_table(struct xt_summary *s, const uint8_t *p, const uint8_t *end)
{
	struct xt_heaps *hs = &s->heaps;
	uint64_t id, len;
	while (p < end) {
		if (xt_get_uvarint(&p, end, &id) || xt_get_uvarint(&p, end, &len) || id == 0 ||
		    len > (uint64_t)(end - p))
			return 0;
		struct xt_named_heap *h = heap_of(hs, id);
		if (!h)
			return -1;
		if (!h->name) {
			if (!(h->name = strndup((const char *)p, (size_t)len)))
				return -1;
			if (s->selected == &s->no_heap && strcmp(h->name, s->heap_name) == 0)
				s->selected = &h->heap;
		}
		p += len;
	}
	return 0;
}

static int init(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p)
{
	(void)p;
	memset(&s->heaps, 0, sizeof s->heaps);
	s->heaps.forked_child = xtrace_get_header(r)->fork_parent_pid != 0;
	return xt_liveset_init(&s->heaps.by_id, 8);
}

static int sync(struct xt_summary *s, const xtrace_reader *r)
{
	const struct xtrace_sync *sy = xtrace_get_sync(r);
	for (size_t i = 0; i < sy->nbatches; i++) {
		const struct xtrace_exp_batch *b = &sy->batches[i];
		if (b->experiment == XT_EXP_HEAPS && b->len > 0 && b->data[0] == HEAP_TABLE &&
		    take_table(s, b->data + 1, b->data + b->len) < 0)
			return -1;
	}
	return 0;
}

static int event(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		 const struct xt_pass *p)
{
	struct xt_heap_op op = {.addr = ev->args[ARG_OBJ_ADDR]};
	if (ev->type == XT_EV_HeapAlloc) {
		op.kind = XT_OP_ALLOC;
		op.api = XT_API_NONE;
		op.bytes = ev->args[ARG_SIZE];
		op.stack = ev->args[ARG_STACK];
	} else if (ev->type == XT_EV_HeapFree) {
		op.kind = XT_OP_FREE;
	} else {
		return 0;
	}
	if (ev->args[ARG_HEAP] == 0) /* xtrace_heap's answer without the shim: no heap */
		return 0;
	struct xt_named_heap *h = heap_of(&s->heaps, ev->args[ARG_HEAP]);
	if (!h)
		return -1;
	return xt_heapview_apply(s, &h->heap, r, ev, &op, p);
}

static void destroy(struct xt_summary *s)
{
	struct xt_heaps *hs = &s->heaps;
	for (size_t i = 0; i < hs->n; i++) {
		xt_heap_destroy(&hs->heap[i]->heap);
		free(hs->heap[i]->name);
		free(hs->heap[i]);
	}
	free(hs->heap);
	xt_liveset_destroy(&hs->by_id);
}

const struct xt_analysis xt_analysis_heaps = {
	.name = "heaps",
	.experiment = XT_EXP_HEAPS,
	.init = init,
	.sync = sync,
	.event = event,
	.destroy = destroy,
};
