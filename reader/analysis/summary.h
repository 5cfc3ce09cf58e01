/* summary.h: one pass over a trace that gathers its totals (generations, threads, events, lost
 * events, time span) and its heap accounting. The stats and validate commands are thin printers
 * over it, and tests call it directly; the site analyses (sites.h) and export ride on the same
 * pass through struct xt_pass. */
#ifndef XT_SUMMARY_H
#define XT_SUMMARY_H

#include <stdint.h>

#include "heap.h"
#include "sites.h"
#include "timerset.h"
#include "xtrace-reader.h"

struct xt_summary {
	uint64_t generations;
	uint64_t events;      /* timed events (Sync excluded) */
	uint64_t lost_events; /* the writer's lost counts, summed over generations */
	uint64_t threads;     /* distinct thread IDs over the whole trace */
	uint64_t last_ts;     /* latest timestamp seen (events and Syncs), ticks */
	/* the last ProcessEnd: how the image ended (0: no ProcessEnd), the status, when */
	uint64_t end_how;
	uint64_t end_status, end_ts;
	struct xt_heap heap;
	struct xt_timers timers; /* the Timers experiment's calls, expirations and timers */

	struct xt_liveset thread_ids;
	uint64_t last_thread; /* skips the set lookup while one thread's events run on */
};

/* xt_issue_fn hears of every AllocFree event whose check was not XT_HEAP_OK. */
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
	xt_issue_fn issue;
	void *ctx;
	struct xt_sites *sites;  /* credit allocations and frees to sites; regions come from here */
	uint64_t stop_event;     /* stop after this many AllocFree events (0: read to the end) */
	/* on_event sees every event (Syncs too) after the summary and sites took it in; a nonzero
	 * return stops the pass with XTRACE_ERR_NOMEM. */
	int (*on_event)(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
			const struct xt_summary *s);
};

/* xt_summarize_pass is xt_summarize with the extras of p. */
enum xtrace_status xt_summarize_pass(xtrace_reader *r, struct xt_summary *s, const struct xt_pass *p);

/* The pass a step at a time, for a caller that drives the reader itself (several traces merged
 * by time): xt_summary_init (0, or -1 without memory; destroy s in any case), then
 * xt_summary_take for each event: 0 to go on, 1 when the pass is to stop there
 * (p->stop_event), -1 without memory. */
int xt_summary_init(struct xt_summary *s, const xtrace_reader *r);
int xt_summary_take(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_pass *p);

/* xt_ticks_to_ns converts a tick count to nanoseconds. */
static inline uint64_t xt_ticks_to_ns(uint64_t ticks, uint64_t ticks_per_sec)
{
	if (ticks_per_sec == 1000000000u || ticks_per_sec == 0)
		return ticks;
	return (uint64_t)((unsigned __int128)ticks * 1000000000u / ticks_per_sec);
}

/* xt_since_start is ts's time after r's trace start in ns (0 for an earlier ts). */
static inline uint64_t xt_since_start(const xtrace_reader *r, uint64_t ts)
{
	const struct xtrace_header *h = xtrace_get_header(r);
	return ts > h->start_ts ? xt_ticks_to_ns(ts - h->start_ts, h->ticks_per_sec) : 0;
}

#endif
