/* reader.c: the state machine a user drives: open and close, xtrace_next stepping through each
 * generation (gather it, check it, hand out its Sync, then its events in time order), and the
 * status of a reader that stopped. The steps are the files below it: generation.c, check.c,
 * order.c, and prefetch.c, which gathers and checks the next generation on a helper thread;
 * the lookups into a generation's tables are event.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generation.h"
#include "internal.h"
#include "order.h"
#include "prefetch.h"

xtrace_reader *xtrace_open(const char *path, char *err, size_t errlen)
{
	char buf[XT_ERRLEN];
	xtrace_reader *r = calloc(1, sizeof *r);
	if (!r) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->fd = -1;
	if (xt_rd_open_file(r, path, buf, sizeof buf) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", buf);
		xtrace_close(r);
		return NULL;
	}
	r->state = XT_ST_NEED_GEN;
	return r;
}

void xtrace_close(xtrace_reader *r)
{
	if (!r)
		return;
	xt_rd_prefetch_stop(r);
	xt_rd_close_file(r);
	xt_rd_gen_free(&r->g);
	xt_rd_order_free(r);
	free(r);
}

const struct xtrace_header *xtrace_get_header(const xtrace_reader *r)
{
	return &r->hdr;
}

int xtrace_generation_done(const xtrace_reader *r)
{
	return r->state != XT_ST_EVENTS || r->nheap == 0;
}

static const char *const xt_no_names[1];
static const uint8_t xt_no_kinds[1];

/* next_gen is xtrace_next past the last event of a generation (or before the first): apart,
 * so that the step to the next event saves no registers. */
static __attribute__((noinline)) int next_gen(xtrace_reader *r, struct xtrace_event *ev)
{
	if (r->state == XT_ST_EVENTS)
		r->state = XT_ST_NEED_GEN;
	if (r->state == XT_ST_ERROR)
		return -1;
	if (r->state == XT_ST_DONE)
		return 0;
	/* After the first generation, a helper thread readies the next while this one is read. */
	int first = !r->last_gen;
	int rc = r->pf ? xt_rd_prefetch_take(r) : xt_rd_ready_gen(r);
	if (rc == 0) {
		r->state = XT_ST_DONE;
		return 0;
	}
	if (rc < 0 || xt_rd_order_start(r) < 0) {
		r->state = XT_ST_ERROR;
		return -1;
	}
	r->have_gen = 1;
	r->state = XT_ST_EVENTS;
	if (first)
		(void)xt_rd_prefetch_start(r); /* without a helper, the next is readied here */
	memset(ev, 0, sizeof *ev);
	ev->kind = XTRACE_EVENT_SYNC;
	ev->gen = r->g.gen;
	ev->ts = r->g.sync.ts;
	ev->name = "Sync";
	ev->experiment_name = xt_experiments[0].name;
	ev->arg_names = xt_no_names;
	ev->arg_kinds = xt_no_kinds;
	ev->offset = r->g.sync_off;
	return 1;
}

int xtrace_next(xtrace_reader *r, struct xtrace_event *ev)
{
	if (r->state == XT_ST_EVENTS && xt_rd_order_next(r, ev))
		return 1;
	return next_gen(r, ev);
}

enum xtrace_status xtrace_status(const xtrace_reader *r)
{
	return r->status;
}

const char *xtrace_error(const xtrace_reader *r)
{
	return r->status == XTRACE_OK ? "" : r->err;
}

uint64_t xtrace_error_offset(const xtrace_reader *r)
{
	return r->err_off;
}
