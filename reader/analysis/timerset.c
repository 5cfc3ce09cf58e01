/* timerset.c: the Timers experiment over a whole trace (see timerset.h). Per event it does a
 * hash lookup at most; it allocates only when a new timer is seen or its array grows. */
#include "timerset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "summary.h"
#include "varint.h"

/* Argument positions, in the order timers.def gives them. */
enum { ARG_TIMER = 0, ARG_CALL = 1 };
enum { CREATE_STACK = 4 };
enum { SET_VALUE = 2, SET_INTERVAL = 3 };
enum { OVERRUN_VALUE = 2 };
enum { SLEEP_CALL = 0, END_SLEPT = 1, END_ERRNO = 3 };
enum { FIRE_VIA = 1, FIRE_COUNT = 2, FIRE_OVERRUN = 3 };

int xt_timers_init(struct xt_timers *t, xtrace_symbolizer *sym)
{
	memset(t, 0, sizeof *t);
	t->sym = sym;
	return xt_liveset_init(&t->by_id, 16);
}

void xt_timers_destroy(struct xt_timers *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->timers[i].created_at);
	free(t->timers);
	xt_liveset_destroy(&t->by_id);
	memset(t, 0, sizeof *t);
}

/* timer returns the record of timer id (nonzero), adding it; NULL without memory. */
static struct xt_timer_info *timer(struct xt_timers *t, uint64_t id)
{
	int added;
	struct xt_live *l = xt_liveset_put(&t->by_id, id, &added);
	if (!l)
		return NULL;
	if (!added)
		return &t->timers[l->site];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct xt_timer_info *a = realloc(t->timers, cap * sizeof *a);
		if (!a) {
			xt_liveset_remove(&t->by_id, id, NULL);
			return NULL;
		}
		t->timers = a;
		t->cap = cap;
	}
	l->site = (uint32_t)t->n;
	struct xt_timer_info *ti = &t->timers[t->n++];
	memset(ti, 0, sizeof *ti);
	ti->id = id;
	return ti;
}

/* The timer table: subtype byte, then {id, u8 kind, clock, u8 notify, signo, handle,
 * created_ts}*. A malformed entry ends the batch: what came before it stands. */
static int take_table(struct xt_timers *t, const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		uint64_t id, clock, signo, handle, created;
		uint8_t kind, notify;
		if (xt_get_uvarint(&p, end, &id) || p >= end)
			return 0;
		kind = *p++;
		if (xt_get_uvarint(&p, end, &clock) || p >= end)
			return 0;
		notify = *p++;
		if (xt_get_uvarint(&p, end, &signo) || xt_get_uvarint(&p, end, &handle) ||
		    xt_get_uvarint(&p, end, &created) || id == 0)
			return 0;
		struct xt_timer_info *ti = timer(t, id);
		if (!ti)
			return -1;
		ti->described = 1;
		ti->kind = kind;
		ti->notify = notify;
		ti->clock = clock;
		ti->signo = signo;
		ti->handle = handle;
		ti->created_ts = created;
	}
	return 0;
}

int xt_timers_sync(struct xt_timers *t, const xtrace_reader *r)
{
	const struct xtrace_sync *s = xtrace_get_sync(r);
	/* A Timers the trace describes otherwise is not this code's to read. */
	struct xtrace_experiment_spec xs;
	if (!xtrace_experiment_spec(r, XT_EXP_TIMERS, &xs) || !xs.builtin)
		return 0;
	for (size_t i = 0; i < s->nbatches; i++) {
		const struct xtrace_exp_batch *b = &s->batches[i];
		if (b->experiment == XT_EXP_TIMERS && b->len > 0 && b->data[0] == XT_TIMERS_BATCH_TABLE &&
		    take_table(t, b->data + 1, b->data + b->len) < 0)
			return -1;
	}
	return 0;
}

/* site names the innermost frame of stack: "function file:line", or module+offset. */
static char *site(const struct xt_timers *t, const xtrace_reader *r, uint64_t stack)
{
	const uint64_t *pcs;
	if (!t->sym || xtrace_stack(r, stack, &pcs) == 0)
		return NULL;
	struct xtrace_frame f;
	xtrace_symbolize(t->sym, r, pcs[0], &f);
	char buf[512];
	if (f.function && f.file)
		snprintf(buf, sizeof buf, "%s %s:%d", f.function, f.file, f.line);
	else if (f.function)
		snprintf(buf, sizeof buf, "%s", f.function);
	else if (f.module)
		snprintf(buf, sizeof buf, "%s+0x%llx", f.module, (unsigned long long)f.module_offset);
	else
		snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)f.pc);
	return strdup(buf);
}

static void note_setting(struct xt_timer_info *ti, const struct xtrace_event *ev)
{
	struct xt_timer_setting s = {ev->ts, ev->args[ARG_CALL], ev->args[SET_VALUE],
				     ev->args[SET_INTERVAL]};
	if (ti->sets < XT_TIMER_KEEP_SETTINGS)
		ti->settings[ti->sets] = s;
	ti->sets++;
	ti->last = s;
}

int xt_timers_event(struct xt_timers *t, const xtrace_reader *r, const struct xtrace_event *ev)
{
	if (ev->experiment != XT_EXP_TIMERS || ev->kind != XTRACE_EVENT_EXPERIMENTAL || ev->generic)
		return 0;
	if (ev->type == XT_EV_SleepBegin) {
		unsigned api = XT_TIMER_CALL_API(ev->args[SLEEP_CALL]);
		if (api < XT_TAPI_COUNT)
			t->calls[api]++;
		return 0;
	}
	if (ev->type == XT_EV_SleepEnd) {
		t->slept_ns += ev->args[END_SLEPT];
		t->sleeps_interrupted += ev->args[END_ERRNO] == EINTR;
		return 0;
	}
	if (ev->type == XT_EV_TimerFire) {
		unsigned via = (unsigned)ev->args[FIRE_VIA];
		if (via < XT_TVIA_COUNT)
			t->fires[via] += ev->args[FIRE_COUNT];
	} else {
		/* every other Timers event is one call */
		unsigned api = XT_TIMER_CALL_API(ev->args[ARG_CALL]);
		if (api < XT_TAPI_COUNT)
			t->calls[api]++;
	}
	uint64_t id = ev->args[ARG_TIMER];
	if (!id)
		return 0; /* a call that failed, or a timer the trace does not know */
	struct xt_timer_info *ti = timer(t, id);
	if (!ti)
		return -1;
	switch (ev->type) {
	case XT_EV_TimerCreate:
		free(ti->created_at);
		ti->created_at = site(t, r, ev->args[CREATE_STACK]);
		break;
	case XT_EV_TimerSet:
		note_setting(ti, ev);
		break;
	case XT_EV_TimerGet:
		ti->gets++;
		break;
	case XT_EV_TimerGetOverrun:
		ti->overruns += ev->args[OVERRUN_VALUE];
		break;
	case XT_EV_TimerDelete:
		ti->deleted = 1;
		ti->deleted_ts = ev->ts;
		break;
	case XT_EV_TimerFire:
		ti->fire_events++;
		ti->expirations += ev->args[FIRE_COUNT];
		ti->overruns += ev->args[FIRE_OVERRUN];
		ti->last_fire_ts = ev->ts;
		break;
	default:
		break;
	}
	return 0;
}

int xt_timer_armed_at_exit(const struct xt_timer_info *ti)
{
	if (ti->deleted || !ti->last.ts || !ti->last.value_ns)
		return 0;
	/* periodic: armed until disarmed; one-shot: until its expiration was seen */
	return ti->last.interval_ns || ti->last_fire_ts < ti->last.ts;
}

#define XT_NAME_OF(list, X_NAME)                       \
	static const char *const names[] = {list(X_NAME)}; \
	return i < sizeof names / sizeof names[0] ? names[i] : "?"
#define XT_LIST_NAME(ident, name) name,

const char *xt_timer_api_name(unsigned i)
{
	XT_NAME_OF(XT_TIMER_APIS, XT_LIST_NAME);
}

const char *xt_timer_kind_name(unsigned i)
{
	XT_NAME_OF(XT_TIMER_KINDS, XT_LIST_NAME);
}

const char *xt_timer_notify_name(unsigned i)
{
	XT_NAME_OF(XT_TIMER_NOTIFIES, XT_LIST_NAME);
}

const char *xt_timer_via_name(unsigned i)
{
	XT_NAME_OF(XT_TIMER_VIAS, XT_LIST_NAME);
}

const char *xt_timer_clock_name(unsigned kind, uint64_t clock)
{
#define XT_CASE(id, name) case id: return name;
	if (kind == XT_TKIND_ITIMER) {
		switch (clock) {
			XT_ITIMERS(XT_CASE)
		}
		return NULL;
	}
	switch (clock) {
		XT_TIMER_CLOCKS(XT_CASE)
	}
	return NULL;
#undef XT_CASE
}

/* The Timers experiment's entry in the registry of analyses (registry.h): the pass's timers,
 * their creation sites named by the pass's symbolizer. */
static int an_init(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p)
{
	(void)r;
	return xt_timers_init(&s->timers, p ? p->sym : NULL);
}

static int an_sync(struct xt_summary *s, const xtrace_reader *r)
{
	return xt_timers_sync(&s->timers, r);
}

static int an_event(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_pass *p)
{
	(void)p;
	return xt_timers_event(&s->timers, r, ev);
}

static void an_destroy(struct xt_summary *s)
{
	xt_timers_destroy(&s->timers);
}

const struct xt_analysis xt_analysis_timers = {
	.name = "timers",
	.experiment = XT_EXP_TIMERS,
	.init = an_init,
	.sync = an_sync,
	.event = an_event,
	.destroy = an_destroy,
};
