/* heap.h: the accounting of one heap (malloc's, or a program's own), the one place that applies
 * an allocation or a free to its live set and keeps its totals (counts, requested bytes, live and
 * peak bytes, per-API calls). The heap view (heapview.h) feeds every heap's events through here. */
#ifndef XT_HEAP_H
#define XT_HEAP_H

#include <stdint.h>

#include "allocfree.h"
#include "liveset.h"

/* XT_API_UNKNOWN marks an allocation whose type ID was not in the generation's type table. */
#define XT_API_UNKNOWN XT_API_COUNT
/* XT_API_NONE marks an allocation in a heap that has no APIs (a program's own, heaps.h). */
#define XT_API_NONE (XT_API_COUNT + 1)

/* What applying an event found. Anything but OK, INHERITED_FREE and UNRECORDED_FREE is a validation
 * error. */
enum xt_heap_check {
	XT_HEAP_OK,
	XT_HEAP_INHERITED_FREE, /* forked child: free of an object allocated before the fork */
	XT_HEAP_UNRECORDED_FREE, /* free of an object allocated while recording was off */
	XT_HEAP_LIVE_ALLOC,     /* allocation of an address that is still live */
	XT_HEAP_NOT_LIVE_FREE,  /* free of an address that is not live */
	XT_HEAP_UNKNOWN_TYPE,   /* allocation whose type ID is not in the type table */
	XT_HEAP_NOMEM,          /* the live set could not grow */
};

struct xt_api_count {
	uint64_t calls; /* ObjectAlloc events, failed ones included */
	uint64_t bytes; /* requested bytes of the successful ones, saturating */
};

struct xt_heap {
	struct xt_liveset live;
	/* In a forked child's trace, the addresses allocated or freed so far: a free of an address
	 * outside it is an object inherited from the parent; inside it, a real error. */
	struct xt_liveset seen;
	int forked_child;
	/* Recording was off for a time (xt_heap_gap): seen then holds the addresses allocated or
	 * freed since; before that time an object may have been freed, or allocated, unrecorded. */
	int after_gap;
	/* The current generation lost events (the pass sets it at each Sync): any of its addresses
	 * may have had an allocation or a free unrecorded between two recorded ones, so none
	 * counts as seen until the next generation; its gap ends there. */
	int lossy;

	uint64_t allocs;          /* ObjectAlloc with a nonzero address */
	uint64_t failed_allocs;   /* ObjectAlloc with address 0 for a nonzero request */
	uint64_t frees;           /* ObjectFree */
	uint64_t realloc_frees;   /* ObjectReallocFree */
	uint64_t inherited_frees;
	uint64_t unrecorded_frees; /* frees of objects allocated while recording was off */
	uint64_t errors;          /* events that were validation errors */
	uint64_t alloc_bytes;     /* requested bytes of all successful allocations, saturating */
	uint64_t live_bytes;
	uint64_t live_objects;    /* the objects the live records stand for */
	uint64_t peak_live_bytes;
	uint64_t peak_ts;         /* timestamp when the live bytes first reached the peak */
	uint64_t events;          /* AllocFree events applied */
	uint64_t peak_event;      /* the ordinal (from 1) in events of the one that reached the peak */
	struct xt_api_count by_api[XT_API_COUNT];
};

/* One allocation or free of a heap, as the analysis of its experiment reads it from an event
 * (heapview.h applies it). */
enum xt_heap_op_kind { XT_OP_ALLOC = 1, XT_OP_FREE, XT_OP_REALLOC_FREE };

struct xt_heap_op {
	enum xt_heap_op_kind kind;
	unsigned api;   /* alloc: the malloc API, XT_API_UNKNOWN, or XT_API_NONE (a heap without) */
	uint64_t addr;
	uint64_t bytes; /* alloc: the requested bytes */
	uint64_t stack; /* alloc: the caller's stack ID, of the current generation */
	uint32_t objects; /* alloc: the objects it stands for in a sampled trace; 0 stands for 1 */
};

/* xt_heap_init: 0, or -1 without memory. */
int xt_heap_init(struct xt_heap *h, int forked_child);
void xt_heap_destroy(struct xt_heap *h);

/* xt_request_bytes is elem_size * count, saturating at UINT64_MAX. */
static inline uint64_t xt_request_bytes(uint64_t elem_size, uint64_t count)
{
	uint64_t n;
	if (__builtin_mul_overflow(elem_size, count, &n))
		return UINT64_MAX;
	return n;
}

/* xt_heap_alloc and xt_heap_free are inline: every event of a heap goes through one of them. */
static inline uint64_t xt_sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;
	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

static inline int xt_heap_tracks_seen(const struct xt_heap *h)
{
	return h->forked_child || h->after_gap;
}

static inline int xt_heap_mark_seen(struct xt_heap *h, uint64_t addr)
{
	int added;
	if (!xt_heap_tracks_seen(h) || h->lossy)
		return 0;
	return xt_liveset_put(&h->seen, addr, &added) ? 0 : -1;
}

/* xt_heap_alloc applies an allocation at ts: api (XT_API_UNKNOWN for an unknown type, XT_API_NONE
 * in a heap without APIs), the
 * requested bytes, how many objects the allocation stands for (1, or a sampled trace's estimate,
 * sampling.h: the counts add it) and the caller's site index, kept with the object. An allocation of a live
 * address replaces the old record (so accounting goes on) and reports XT_HEAP_LIVE_ALLOC. */
static inline enum xt_heap_check xt_heap_alloc(struct xt_heap *h, uint64_t ts, uint64_t addr,
						unsigned api, uint64_t bytes, uint32_t objects,
						uint32_t site)
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
	h->alloc_bytes = xt_sat_add(h->alloc_bytes, bytes);
	if (api < XT_API_COUNT)
		h->by_api[api].bytes = xt_sat_add(h->by_api[api].bytes, bytes);

	int added;
	/* live from before a gap, not seen since: freed while recording was off */
	int stale = h->after_gap && !xt_liveset_find(&h->seen, addr);
	struct xt_live *e = xt_liveset_put(&h->live, addr, &added);
	if (!e || xt_heap_mark_seen(h, addr) < 0)
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

/* xt_heap_free applies an ObjectFree (realloc_free 0) or an ObjectReallocFree (1). When it
 * returns XT_HEAP_OK and old is not NULL, *old is the freed object's record. */
static inline enum xt_heap_check xt_heap_free(struct xt_heap *h, uint64_t addr, int realloc_free,
					       struct xt_live *old)
{
	h->events++;
	/* The record is read where it is, not copied: a copy of its bit fields read back whole
	 * stalls on the store (the record is a trace's every free). */
	struct xt_live *e = xt_liveset_find(&h->live, addr);
	/* a sampled object's free stands for as many frees as its allocation did */
	uint64_t objects = e ? e->objects : 1;
	if (realloc_free)
		h->realloc_frees += objects;
	else
		h->frees += objects;
	if (e) {
		h->live_bytes -= e->bytes;
		h->live_objects -= objects;
		if (old)
			*old = *e;
		xt_liveset_delete(&h->live, e);
		return h->after_gap && xt_heap_mark_seen(h, addr) < 0 ? XT_HEAP_NOMEM : XT_HEAP_OK;
	}
	if (xt_heap_tracks_seen(h) && !xt_liveset_find(&h->seen, addr)) {
		if (xt_heap_mark_seen(h, addr) < 0)
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

/* xt_heap_gap: recording was off until now. A free of an address not allocated since is of an
 * object allocated while it was off (XT_HEAP_UNRECORDED_FREE); an allocation of an address live
 * from before is of an object freed while it was off (the old record goes, no error). 0, or -1
 * without memory. */
int xt_heap_gap(struct xt_heap *h);

/* xt_heap_check_name is a short lowercase description of a check result. */
const char *xt_heap_check_name(enum xt_heap_check c);

#endif
