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

/* xt_heap_init: 0, or -1 without memory. */
int xt_heap_init(struct xt_heap *h, int forked_child);
void xt_heap_destroy(struct xt_heap *h);

/* xt_request_bytes is elem_size * count, saturating at UINT64_MAX. */
uint64_t xt_request_bytes(uint64_t elem_size, uint64_t count);

/* xt_heap_alloc applies an allocation at ts: api (XT_API_UNKNOWN for an unknown type, XT_API_NONE
 * in a heap without APIs), the
 * requested bytes, how many objects the allocation stands for (1, or a sampled trace's estimate,
 * sampling.h: the counts add it) and the caller's site index, kept with the object. An allocation of a live
 * address replaces the old record (so accounting goes on) and reports XT_HEAP_LIVE_ALLOC. */
enum xt_heap_check xt_heap_alloc(struct xt_heap *h, uint64_t ts, uint64_t addr, unsigned api,
				 uint64_t bytes, uint32_t objects, uint32_t site);

/* xt_heap_free applies an ObjectFree (realloc_free 0) or an ObjectReallocFree (1). When it
 * returns XT_HEAP_OK and old is not NULL, *old is the freed object's record. */
enum xt_heap_check xt_heap_free(struct xt_heap *h, uint64_t addr, int realloc_free,
				struct xt_live *old);

/* xt_heap_gap: recording was off until now. A free of an address not allocated since is of an
 * object allocated while it was off (XT_HEAP_UNRECORDED_FREE); an allocation of an address live
 * from before is of an object freed while it was off (the old record goes, no error). 0, or -1
 * without memory. */
int xt_heap_gap(struct xt_heap *h);

/* xt_heap_check_name is a short lowercase description of a check result. */
const char *xt_heap_check_name(enum xt_heap_check c);

#endif
