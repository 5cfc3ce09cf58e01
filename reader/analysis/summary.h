/* summary.h: one pass over a trace that gathers its totals (generations, threads, events, lost
 * events, time span) and runs the analyses of the registry (registry.h) a command asks for: the
 * malloc heap, timers, the program's own heaps, the address space. The stats and validate
 * commands are thin printers over it, and tests call it directly; the site analyses (sites.h)
 * and export ride on the same pass through struct xt_pass. */
#ifndef XT_SUMMARY_H
#define XT_SUMMARY_H

#include <stdint.h>

#include "addrspace.h"
#include "described.h"
#include "heap.h"
#include "heaps.h"
#include "registry.h"
#include "sampling.h"
#include "sites.h"
#include "spec.h"
#include "timerset.h"
#include "xtrace-reader.h"

struct xt_summary {
	uint64_t generations;
	uint64_t gaps;        /* times recording was off before a generation (heap.h: xt_heap_gap) */
	uint64_t events;      /* timed events (Sync excluded) */
	uint64_t lost_events; /* the writer's lost counts, summed over generations */
	uint64_t threads;     /* distinct thread IDs over the whole trace */
	uint64_t last_ts;     /* latest timestamp seen (events and Syncs), ticks */
	/* the last ProcessEnd: how the image ended (0: no ProcessEnd), the status, when */
	uint64_t end_how;
	uint64_t end_status, end_ts;
	unsigned analyses;       /* XT_AN_BIT()s of the analyses the pass runs */
	unsigned ready;          /* those of them set up (and so to destroy) */
	/* by experiment ID, those of them with an event hook for its events: an event goes to its
	 * own without a look at the others */
	unsigned takes[XT_MAX_EXPERIMENTS];
	/* by experiment ID, the one analysis that takes its events when only one does (not for the
	 * core's, which the summary reads too): its event hook, called without the others' loop */
	int (*solo[XT_MAX_EXPERIMENTS])(struct xt_summary *s, const xtrace_reader *r,
					const struct xtrace_event *ev, const struct xt_pass *p);
	/* Each analysis's state (registry.h). */
	struct xt_heap heap;     /* the malloc heap (AllocFree) */
	struct xt_sampling sampling; /* what its allocations stand for in a sampled trace */
	struct xt_timers timers; /* the Timers experiment's calls, expirations and timers */
	struct xt_heaps heaps;   /* the program's own heaps (Heaps) */
	struct xt_addrspace mem; /* maps, stacks, the break, resident samples (AddrSpace) */

	/* The heap the pass follows (sites, stop_event): heap_name's, else no_heap (empty) while
	 * no heap table has named it. */
	const char *heap_name;
	struct xt_heap *selected;
	struct xt_heap no_heap;
	/* The heap the last event allocated in or freed from (NULL for other events), and how. */
	const struct xt_heap *op_heap;
	struct xt_heap_op op;

	/* events of experiments known from the trace alone, by name (merged when the pass ends) */
	struct xt_described described;

	struct xt_liveset thread_ids;
	/* Thread IDs counted already, a slot per ID's low bits: skips the set lookup while the
	 * events of a few threads interleave. */
	uint64_t seen_thread[16];
};

/* xt_issue_fn hears of every allocation or free (of a heap it checks) whose check was not
 * XT_HEAP_OK. */
typedef void (*xt_issue_fn)(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
			    enum xt_heap_check check);

/* xt_summarize reads r to its end and fills s (which it initializes; free it with
 * xt_summary_destroy even on error). It returns XTRACE_OK at a clean end, the reader's status
 * when reading stopped at bad input (s then covers the complete generations before it), or
 * XTRACE_ERR_NOMEM. */
enum xtrace_status xt_summarize(xtrace_reader *r, struct xt_summary *s, xt_issue_fn issue,
				void *ctx);
void xt_summary_destroy(struct xt_summary *s);

/* xt_read_end_message writes into buf (n bytes) why reading path with r stopped short at st
 * (any status but XTRACE_OK): "PATH: corrupt trace: ...", "PATH: out of memory", ... */
void xt_read_end_message(const xtrace_reader *r, const char *path, enum xtrace_status st,
			 char *buf, size_t n);

/* What else a pass does, beyond the summary. */
struct xt_pass {
	unsigned analyses;       /* XT_AN_BIT()s of the analyses to run; 0: every one */
	const char *heap;        /* the heap to follow by name; NULL: the malloc heap */
	xt_issue_fn issue;
	int check_every_heap;    /* issue hears of every heap's events, not only the selected's */
	void *ctx;
	xtrace_symbolizer *sym;  /* names what analyses show by place (timers' creation sites);
				  * NULL: addresses only */
	struct xt_sites *sites;  /* credit the selected heap's allocations and frees to sites;
				  * regions come from here */
	uint64_t stop_event;     /* stop after this many events of the selected heap (0: read to
				  * the end) */
	/* on_event sees every event (Syncs too) after the summary and sites took it in; a nonzero
	 * return stops the pass with XTRACE_ERR_NOMEM. */
	int (*on_event)(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
			const struct xt_summary *s);
};

/* xt_summarize_pass is xt_summarize with the extras of p. */
enum xtrace_status xt_summarize_pass(xtrace_reader *r, struct xt_summary *s, const struct xt_pass *p);

/* The pass a step at a time, for a caller that drives the reader itself (several traces merged
 * by time): xt_summary_init with the pass p will make (0, or -1 without memory; destroy s in
 * any case), then xt_summary_take for each event: 0 to go on, 1 when the pass is to stop there
 * (p->stop_event), -1 without memory; xt_summary_finish at the end. */
int xt_summary_init(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p);
int xt_summary_take(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_pass *p);
void xt_summary_finish(struct xt_summary *s);

/* xt_summary_heap_missing: the pass was to follow a heap of the Heaps experiment that no heap
 * table named (the CLI's "no heap NAME" error). */
static inline int xt_summary_heap_missing(const struct xt_summary *s)
{
	return s->selected == &s->no_heap;
}

/* xt_since_start is ts's time after r's trace start in ns (0 for an earlier ts). */
static inline uint64_t xt_since_start(const xtrace_reader *r, uint64_t ts)
{
	const struct xtrace_header *h = xtrace_get_header(r);
	return ts > h->start_ts ? ts - h->start_ts : 0;
}

#endif
