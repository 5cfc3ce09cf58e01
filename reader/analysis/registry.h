/* registry.h: the analyses a pass over a trace runs (summary.c loops over them). Each takes the
 * Sync of every generation (with its experimental batches), the events of its own experiment,
 * and the end of the pass; its state is its member of struct xt_summary. A command asks for the
 * analyses it needs by their bits (struct xt_pass's analyses), so a pass does no work nobody
 * reads. Adding an analysis: an entry in enum xt_analysis_id, its struct xt_analysis in its own
 * file, a line in registry.c. */
#ifndef XT_REGISTRY_H
#define XT_REGISTRY_H

#include <stdint.h>

#include "xtrace-reader.h"

enum xt_analysis_id {
	XT_AN_MALLOC_HEAP, /* AllocFree: the malloc family's heap (mallocheap.c) */
	XT_AN_TIMERS,      /* Timers: calls, expirations, timers (timerset.c) */
	XT_AN_HEAPS,       /* Heaps: the program's own heaps (heaps.c) */
	XT_AN_ADDRSPACE,   /* AddrSpace: maps, stacks, the break, resident samples (addrspace.c) */
	XT_AN_COUNT
};
#define XT_AN_BIT(id) (1u << (id))
#define XT_AN_ALL ((1u << XT_AN_COUNT) - 1)

struct xt_summary;
struct xt_pass;

/* The hooks return 0 to go on and -1 when memory ran out; event may also return 1 to stop the
 * pass there (struct xt_pass's stop_event). Any hook may be NULL. */
struct xt_analysis {
	const char *name;
	uint8_t experiment; /* whose events it takes */
	int (*init)(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p);
	int (*sync)(struct xt_summary *s, const xtrace_reader *r);
	int (*event)(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		     const struct xt_pass *p);
	void (*finish)(struct xt_summary *s); /* the pass ended (cleanly or not) */
	void (*destroy)(struct xt_summary *s);
};

/* xt_analyses[id] for every enum xt_analysis_id. */
extern const struct xt_analysis *const xt_analyses[XT_AN_COUNT];

#endif
