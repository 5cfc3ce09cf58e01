/* summary.c: the one pass over a trace behind stats and validate (see summary.h). Per event it
 * does a few compares and at most two hash operations; it never allocates but when a table
 * doubles. */
#include "summary.h"

#include <string.h>

#include "spec.h"

/* Argument positions of the AllocFree events, in the order allocfree.def gives them. */
enum { ARG_OBJ_ADDR = 0, ARG_TYPE = 1 };

static enum xt_heap_check apply_alloc(struct xt_summary *s, const xtrace_reader *r,
				      const struct xtrace_event *ev)
{
	const struct xtrace_alloc_type *t = xtrace_alloc_type(r, ev->args[ARG_TYPE]);
	unsigned api = t && t->api < XT_API_COUNT ? t->api : XT_API_UNKNOWN;
	uint64_t bytes = t ? xt_request_bytes(t->elem_size, t->count) : 0;
	return xt_heap_alloc(&s->heap, ev->ts, ev->args[ARG_OBJ_ADDR], api, bytes);
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
	memset(s, 0, sizeof *s);
	const struct xtrace_header *h = xtrace_get_header(r);
	if (xt_heap_init(&s->heap, h->fork_parent_pid != 0) < 0)
		return XTRACE_ERR_NOMEM;
	if (xt_liveset_init(&s->thread_ids, 64) < 0)
		return XTRACE_ERR_NOMEM;
	s->last_ts = h->start_ts;

	struct xtrace_event ev;
	int rc;
	while ((rc = xtrace_next(r, &ev)) > 0) {
		if (ev.ts > s->last_ts)
			s->last_ts = ev.ts;
		if (ev.kind == XTRACE_EVENT_SYNC) {
			s->generations++;
			s->lost_events += xtrace_get_sync(r)->lost;
			continue;
		}
		s->events++;
		if (note_thread(s, ev.thread) < 0)
			return XTRACE_ERR_NOMEM;
		if (ev.experiment != XT_EXP_ALLOCFREE)
			continue;
		enum xt_heap_check c;
		switch (ev.type) {
		case XT_EV_ObjectAlloc:
			c = apply_alloc(s, r, &ev);
			break;
		case XT_EV_ObjectFree:
			c = xt_heap_free(&s->heap, ev.args[ARG_OBJ_ADDR], 0);
			break;
		case XT_EV_ObjectReallocFree:
			c = xt_heap_free(&s->heap, ev.args[ARG_OBJ_ADDR], 1);
			break;
		default:
			continue;
		}
		if (c == XT_HEAP_NOMEM)
			return XTRACE_ERR_NOMEM;
		if (c != XT_HEAP_OK && issue)
			issue(ctx, r, &ev, c);
	}
	if (rc == 0)
		return XTRACE_OK;
	enum xtrace_status st = xtrace_status(r);
	return st != XTRACE_OK ? st : XTRACE_ERR_CORRUPT;
}

void xt_summary_destroy(struct xt_summary *s)
{
	xt_heap_destroy(&s->heap);
	xt_liveset_destroy(&s->thread_ids);
}
