/* summary.c: the one pass over a trace behind stats, validate and the site analyses (see
 * summary.h). Per event it does a few compares and a few hash operations; it never allocates but
 * when a table doubles. The events come decoded from a helper thread (readahead.h). */
#include "summary.h"

#include <stdio.h>
#include <string.h>

#include "readahead.h"
#include "spec.h"

/* Argument positions of the AllocFree events, in the order allocfree.def gives them. */
enum { ARG_OBJ_ADDR = 0, ARG_TYPE = 1, ARG_STACK = 2 };

static enum xt_heap_check apply_alloc(struct xt_summary *s, const xtrace_reader *r,
				      const struct xtrace_event *ev, struct xt_sites *sites)
{
	const struct xtrace_alloc_type *t = xtrace_alloc_type(r, ev->args[ARG_TYPE]);
	unsigned api = t && t->api < XT_API_COUNT ? t->api : XT_API_UNKNOWN;
	uint64_t bytes = t ? xt_request_bytes(t->elem_size, t->count) : 0;
	uint64_t addr = ev->args[ARG_OBJ_ADDR];
	uint32_t site = XT_NO_SITE;
	if (sites && addr && xt_sites_site(sites, r, ev->thread, ev->args[ARG_STACK], &site) < 0)
		return XT_HEAP_NOMEM;
	enum xt_heap_check c = xt_heap_alloc(&s->heap, ev->ts, addr, api, bytes, site);
	if (sites && addr && c != XT_HEAP_NOMEM)
		xt_sites_alloc(sites, site, api < XT_API_COUNT ? bytes : 0);
	return c;
}

static enum xt_heap_check apply_free(struct xt_summary *s, const struct xtrace_event *ev,
				     struct xt_sites *sites, int realloc_free)
{
	struct xt_live old;
	enum xt_heap_check c = xt_heap_free(&s->heap, ev->args[ARG_OBJ_ADDR], realloc_free, &old);
	if (sites && c == XT_HEAP_OK)
		xt_sites_free(sites, &old);
	return c;
}

/* apply_core takes in the core events an analysis follows: region begins and ends. */
static int apply_core(const xtrace_reader *r, const struct xtrace_event *ev, struct xt_sites *sites)
{
	if (!sites || (ev->type != XT_EV_UserRegionBegin && ev->type != XT_EV_UserRegionEnd))
		return 0;
	return xt_sites_region(sites, r, ev->thread, ev->args[0], ev->type == XT_EV_UserRegionBegin);
}

static int note_thread(struct xt_summary *s, uint64_t tid)
{
	if (tid == s->last_thread || tid == 0)
		return 0;
	s->last_thread = tid;
	int added;
	if (!xt_liveset_put(&s->thread_ids, tid, &added))
		return -1;
	s->threads += (uint64_t)added;
	return 0;
}

enum xtrace_status xt_summarize(xtrace_reader *r, struct xt_summary *s, xt_issue_fn issue,
				void *ctx)
{
	struct xt_pass p = {.issue = issue, .ctx = ctx};
	return xt_summarize_pass(r, s, &p);
}

int xt_summary_take(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		      const struct xt_pass *p)
{
	if (ev->ts > s->last_ts)
		s->last_ts = ev->ts;
	if (ev->kind == XTRACE_EVENT_SYNC) {
		s->generations++;
		s->lost_events += xtrace_get_sync(r)->lost;
		if (xt_timers_sync(&s->timers, r) < 0)
			return -1;
		if (p->sites)
			xt_sites_sync(p->sites);
		return p->on_event && p->on_event(p->ctx, r, ev, s) ? -1 : 0;
	}
	s->events++;
	if (note_thread(s, ev->thread) < 0)
		return -1;
	if (ev->experiment != XT_EXP_ALLOCFREE) {
		if (xt_timers_event(&s->timers, r, ev) < 0)
			return -1;
		if (ev->experiment == XT_EXP_NONE && apply_core(r, ev, p->sites) < 0)
			return -1;
		if (ev->type == XT_EV_ProcessEnd && ev->experiment == XT_EXP_NONE) {
			s->end_how = ev->args[0];
			s->end_status = ev->args[1];
			s->end_ts = ev->ts;
		}
		return p->on_event && p->on_event(p->ctx, r, ev, s) ? -1 : 0;
	}
	enum xt_heap_check c;
	switch (ev->type) {
	case XT_EV_ObjectAlloc:
		c = apply_alloc(s, r, ev, p->sites);
		break;
	case XT_EV_ObjectFree:
		c = apply_free(s, ev, p->sites, 0);
		break;
	case XT_EV_ObjectReallocFree:
		c = apply_free(s, ev, p->sites, 1);
		break;
	default:
		return 0;
	}
	if (c == XT_HEAP_NOMEM)
		return -1;
	if (c != XT_HEAP_OK && p->issue)
		p->issue(p->ctx, r, ev, c);
	if (p->on_event && p->on_event(p->ctx, r, ev, s))
		return -1;
	return p->stop_event && s->heap.events >= p->stop_event;
}

int xt_summary_init(struct xt_summary *s, const xtrace_reader *r)
{
	memset(s, 0, sizeof *s);
	const struct xtrace_header *h = xtrace_get_header(r);
	if (xt_heap_init(&s->heap, h->fork_parent_pid != 0) < 0)
		return -1;
	if (xt_liveset_init(&s->thread_ids, 64) < 0)
		return -1;
	if (xt_timers_init(&s->timers, NULL) < 0)
		return -1;
	s->last_ts = h->start_ts;
	return 0;
}

enum xtrace_status xt_summarize_pass(xtrace_reader *r, struct xt_summary *s, const struct xt_pass *p)
{
	if (xt_summary_init(s, r) < 0)
		return XTRACE_ERR_NOMEM;

	/* the events are decoded on a second thread while this one takes them in */
	struct xt_readahead *ra = xt_readahead_start(r, XT_READAHEAD_MIN);
	if (!ra)
		return XTRACE_ERR_NOMEM;
	const struct xtrace_event *ev;
	int rc = 0, taken = 0;
	while (!taken && (ev = xt_readahead_next(ra, &rc)))
		taken = xt_summary_take(s, r, ev, p);
	xt_readahead_stop(ra);
	if (taken < 0)
		return XTRACE_ERR_NOMEM;
	if (taken > 0 || rc == 0)
		return XTRACE_OK;
	enum xtrace_status st = xtrace_status(r);
	return st != XTRACE_OK ? st : XTRACE_ERR_CORRUPT;
}

void xt_summary_destroy(struct xt_summary *s)
{
	xt_heap_destroy(&s->heap);
	xt_liveset_destroy(&s->thread_ids);
	xt_timers_destroy(&s->timers);
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
