/* heap.c: heap accounting (see heap.h). Called once per AllocFree event: no allocation but the
 * live set's doubling. */
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

uint64_t xt_request_bytes(uint64_t elem_size, uint64_t count)
{
	uint64_t n;
	if (__builtin_mul_overflow(elem_size, count, &n))
		return UINT64_MAX;
	return n;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;
	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

static int tracks_seen(const struct xt_heap *h)
{
	return h->forked_child || h->after_gap;
}

static int mark_seen(struct xt_heap *h, uint64_t addr)
{
	int added;
	return tracks_seen(h) && !xt_liveset_put(&h->seen, addr, &added) ? -1 : 0;
}

enum xt_heap_check xt_heap_alloc(struct xt_heap *h, uint64_t ts, uint64_t addr, unsigned api,
				 uint64_t bytes, uint32_t objects, uint32_t site)
{
	h->events++;
	enum xt_heap_check res = api == XT_API_UNKNOWN ? XT_HEAP_UNKNOWN_TYPE : XT_HEAP_OK;
	if (api < XT_API_COUNT)
		h->by_api[api].calls += objects;
	else if (api == XT_API_UNKNOWN)
		bytes = 0; /* an unknown type requested nothing we can count */
	if (addr == 0) {
		/* A zero-byte request may legitimately return NULL (realloc(p, 0) frees p). */
		if (bytes != 0)
			h->failed_allocs += objects;
		if (res != XT_HEAP_OK)
			h->errors++;
		return res;
	}
	h->allocs += objects;
	h->alloc_bytes = sat_add(h->alloc_bytes, bytes);
	if (api < XT_API_COUNT)
		h->by_api[api].bytes = sat_add(h->by_api[api].bytes, bytes);

	int added;
	/* live from before a gap, not seen since: freed while recording was off */
	int stale = h->after_gap && !xt_liveset_find(&h->seen, addr);
	struct xt_live *e = xt_liveset_put(&h->live, addr, &added);
	if (!e || mark_seen(h, addr) < 0)
		return XT_HEAP_NOMEM;
	if (!added) {
		h->live_bytes -= e->bytes;
		h->live_objects -= e->objects;
		if (!stale)
			res = XT_HEAP_LIVE_ALLOC;
	}
	e->bytes = bytes < XT_LIVE_MAX_BYTES ? bytes : XT_LIVE_MAX_BYTES;
	e->api = api;
	e->site = site;
	e->objects = objects;
	h->live_bytes += e->bytes;
	h->live_objects += objects;
	if (h->live_bytes > h->peak_live_bytes) {
		h->peak_live_bytes = h->live_bytes;
		h->peak_ts = ts;
		h->peak_event = h->events;
	}
	if (res != XT_HEAP_OK)
		h->errors++;
	return res;
}

enum xt_heap_check xt_heap_free(struct xt_heap *h, uint64_t addr, int realloc_free,
				struct xt_live *old)
{
	h->events++;
	struct xt_live was;
	int live = xt_liveset_remove(&h->live, addr, &was);
	/* a sampled object's free stands for as many frees as its allocation did */
	uint64_t objects = live ? was.objects : 1;
	if (realloc_free)
		h->realloc_frees += objects;
	else
		h->frees += objects;
	if (live) {
		if (h->after_gap && mark_seen(h, addr) < 0)
			return XT_HEAP_NOMEM;
		h->live_bytes -= was.bytes;
		h->live_objects -= was.objects;
		if (old)
			*old = was;
		return XT_HEAP_OK;
	}
	if (tracks_seen(h) && !xt_liveset_find(&h->seen, addr)) {
		if (mark_seen(h, addr) < 0)
			return XT_HEAP_NOMEM;
		if (h->after_gap) {
			h->unrecorded_frees++;
			return XT_HEAP_UNRECORDED_FREE;
		}
		h->inherited_frees++;
		return XT_HEAP_INHERITED_FREE;
	}
	h->errors++;
	return XT_HEAP_NOT_LIVE_FREE;
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
