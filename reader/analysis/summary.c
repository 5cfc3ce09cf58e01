/* summary.c: the one pass over a trace behind stats, validate and the site analyses (see
 * summary.h). Per event it does a few compares and hands the event to the analyses of its
 * experiment (registry.h); it never allocates but when a table doubles. It reads on the caller's
 * thread: decoding ahead on a second one cost more in moving the events between the two
 * processors' caches than it saved (measured on two cores). */
#include "summary.h"

#include <stdio.h>
#include <string.h>

#include "spec.h"

/* apply_core takes in the core events an analysis follows: region begins and ends. */
static int apply_core(const xtrace_reader *r, const struct xtrace_event *ev, struct xt_sites *sites)
{
	if (!sites || (ev->type != XT_EV_UserRegionBegin && ev->type != XT_EV_UserRegionEnd))
		return 0;
	return xt_sites_region(sites, r, ev->thread, ev->args[0], ev->type == XT_EV_UserRegionBegin);
}

/* add_thread counts a thread ID not in the slot cache: apart, so that the common case below
 * saves no registers. */
static __attribute__((noinline)) int add_thread(struct xt_summary *s, uint64_t tid)
{
	int added;
	if (!xt_liveset_put(&s->thread_ids, tid, &added))
		return -1;
	s->threads += (uint64_t)added;
	return 0;
}

static inline int note_thread(struct xt_summary *s, uint64_t tid)
{
	uint64_t *seen = &s->seen_thread[tid % (sizeof s->seen_thread / sizeof s->seen_thread[0])];
	if (tid == *seen || tid == 0)
		return 0;
	*seen = tid;
	return add_thread(s, tid);
}

enum xtrace_status xt_summarize(xtrace_reader *r, struct xt_summary *s, xt_issue_fn issue,
				void *ctx)
{
	struct xt_pass p = {.issue = issue, .ctx = ctx};
	return xt_summarize_pass(r, s, &p);
}

/* take_gap: recording was off before this generation, every heap reads on knowing it. */
static int take_gap(struct xt_summary *s)
{
	s->gaps++;
	if ((s->ready & XT_AN_BIT(XT_AN_MALLOC_HEAP)) && xt_heap_gap(&s->heap) < 0)
		return -1;
	if (!(s->ready & XT_AN_BIT(XT_AN_HEAPS)))
		return 0;
	s->heaps.after_gap = 1;
	for (size_t i = 0; i < s->heaps.n; i++)
		if (xt_heap_gap(&s->heaps.heap[i]->heap) < 0)
			return -1;
	return 0;
}

/* set_lossy tells every heap whether the generation beginning lost events (struct xt_heap's
 * lossy: its gap lasts to its end). */
static void set_lossy(struct xt_summary *s, int lossy)
{
	s->heap.lossy = lossy;
	for (size_t i = 0; i < s->heaps.n; i++)
		s->heaps.heap[i]->heap.lossy = lossy;
}

static int take_sync(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p)
{
	s->generations++;
	/* A file whose first generation is not 1 was begun by recording that was on before it (a
	 * flight recorder keeps the last generations only). A generation that lost events is one
	 * too: what it lost may be allocations whose frees come later, or frees of addresses
	 * allocated again. */
	const struct xtrace_sync *sy = xtrace_get_sync(r);
	if ((sy->after_gap || sy->lost || (s->generations == 1 && sy->gen > 1)) && take_gap(s) < 0)
		return -1;
	set_lossy(s, sy->lost != 0);
	s->lost_events += xtrace_get_sync(r)->lost;
	for (unsigned i = 0; i < XT_AN_COUNT; i++) {
		const struct xt_analysis *a = xt_analyses[i];
		/* An experiment the trace describes otherwise than the built-in one is not its
		 * analysis's to read: its batches are handed out raw only. */
		struct xtrace_experiment_spec xs;
		if (a->experiment != XT_EXP_NONE &&
		    (!xtrace_experiment_spec(r, a->experiment, &xs) || !xs.builtin))
			continue;
		if ((s->ready & XT_AN_BIT(i)) && a->sync && a->sync(s, r) < 0)
			return -1;
	}
	if (p->sites)
		xt_sites_sync(p->sites);
	return 0;
}

static int take_core(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		     const struct xt_pass *p)
{
	if (ev->type == XT_EV_ProcessEnd) {
		s->end_how = ev->args[0];
		s->end_status = ev->args[1];
		s->end_ts = ev->ts;
	}
	return apply_core(r, ev, p->sites);
}

/* take_any is xt_summary_take for every event, the common case below excepted. */
static __attribute__((noinline)) int take_any(struct xt_summary *s, const xtrace_reader *r,
					     const struct xtrace_event *ev, const struct xt_pass *p)
{
	int stop = 0;
	if (ev->kind == XTRACE_EVENT_SYNC) {
		if (take_sync(s, r, p) < 0)
			return -1;
	} else {
		s->events++;
		if (note_thread(s, ev->thread) < 0)
			return -1;
		if (ev->experiment == XT_EXP_NONE && take_core(s, r, ev, p) < 0)
			return -1;
		/* A generic event (an experiment known from the trace alone) is none of the built-in
		 * analyses', whatever its IDs. */
		unsigned takes = ev->generic || ev->experiment >= XT_MAX_EXPERIMENTS ? 0
				 : s->takes[ev->experiment];
		for (; takes; takes &= takes - 1) {
			int rc = xt_analyses[__builtin_ctz(takes)]->event(s, r, ev, p);
			if (rc < 0)
				return -1;
			stop |= rc;
		}
	}
	if ((ev->kind == XTRACE_EVENT_SYNC || ev->generic) && xt_described_event(&s->described, ev) < 0)
		return -1;
	if (p->on_event && p->on_event(p->ctx, r, ev, s))
		return -1;
	return stop;
}

int xt_summary_take(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		      const struct xt_pass *p)
{
	if (ev->ts > s->last_ts)
		s->last_ts = ev->ts;
	s->op_heap = NULL;
	/* The common case, an event of a built-in experiment that one analysis takes, with no
	 * on_event after it: handed over in a tail call, what it returns is the answer (as
	 * take_any's loop would make it). */
	int (*solo)(struct xt_summary *, const xtrace_reader *, const struct xtrace_event *,
		    const struct xt_pass *) =
		ev->kind != XTRACE_EVENT_SYNC && !ev->generic && ev->experiment < XT_MAX_EXPERIMENTS
			? s->solo[ev->experiment] : NULL;
	if (!solo || p->on_event)
		return take_any(s, r, ev, p);
	s->events++;
	if (note_thread(s, ev->thread) < 0)
		return -1;
	return solo(s, r, ev, p);
}

int xt_summary_init(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p)
{
	memset(s, 0, sizeof *s);
	const struct xtrace_header *h = xtrace_get_header(r);
	s->last_ts = h->start_ts;
	s->analyses = p && p->analyses ? p->analyses : XT_AN_ALL;
	s->heap_name = p && p->heap ? p->heap : XT_MALLOC_HEAP_NAME;
	s->selected = strcmp(s->heap_name, XT_MALLOC_HEAP_NAME) == 0 ? &s->heap : &s->no_heap;
	if (xt_liveset_init(&s->thread_ids, 64) < 0)
		return -1;
	for (unsigned i = 0; i < XT_AN_COUNT; i++) {
		if (!(s->analyses & XT_AN_BIT(i)))
			continue;
		const struct xt_analysis *a = xt_analyses[i];
		if (a->init && a->init(s, r, p) < 0)
			return -1;
		s->ready |= XT_AN_BIT(i);
		if (a->event && a->experiment < XT_MAX_EXPERIMENTS)
			s->takes[a->experiment] |= XT_AN_BIT(i);
	}
	for (unsigned e = 0; e < XT_MAX_EXPERIMENTS; e++) {
		unsigned t = s->takes[e];
		if (e != XT_EXP_NONE && t && !(t & (t - 1)))
			s->solo[e] = xt_analyses[__builtin_ctz(t)]->event;
	}
	return 0;
}

void xt_summary_finish(struct xt_summary *s)
{
	xt_described_merge(&s->described);
	for (unsigned i = 0; i < XT_AN_COUNT; i++)
		if ((s->ready & XT_AN_BIT(i)) && xt_analyses[i]->finish)
			xt_analyses[i]->finish(s);
}

enum xtrace_status xt_summarize_pass(xtrace_reader *r, struct xt_summary *s, const struct xt_pass *p)
{
	if (xt_summary_init(s, r, p) < 0)
		return XTRACE_ERR_NOMEM;

	struct xtrace_event ev;
	int rc = 0, taken = 0;
	while (!taken && (rc = xtrace_next(r, &ev)) > 0)
		taken = xt_summary_take(s, r, &ev, p);
	xt_summary_finish(s);
	if (taken < 0)
		return XTRACE_ERR_NOMEM;
	if (taken > 0 || rc == 0)
		return XTRACE_OK;
	enum xtrace_status st = xtrace_status(r);
	return st != XTRACE_OK ? st : XTRACE_ERR_CORRUPT;
}

void xt_summary_destroy(struct xt_summary *s)
{
	for (unsigned i = 0; i < XT_AN_COUNT; i++)
		if ((s->ready & XT_AN_BIT(i)) && xt_analyses[i]->destroy)
			xt_analyses[i]->destroy(s);
	xt_liveset_destroy(&s->thread_ids);
	xt_described_free(&s->described);
}

void xt_read_end_message(const xtrace_reader *r, const char *path, enum xtrace_status st,
			 char *buf, size_t n)
{
	if (!buf || !n)
		return;
	if (st == XTRACE_ERR_NOMEM)
		snprintf(buf, n, "%s: out of memory", path);
	else if (st == XTRACE_ERR_TRUNCATED) /* the reader's message names the offset */
		snprintf(buf, n, "%s: %s; read the complete generations before it", path, xtrace_error(r));
	else if (st == XTRACE_ERR_IO)
		snprintf(buf, n, "%s: read error: %s", path, xtrace_error(r));
	else
		snprintf(buf, n, "%s: corrupt trace: %s", path, xtrace_error(r));
}
