/* timerset.h: the Timers experiment over a whole trace: call counts per API, expirations by how
 * they reached the program, sleeps, and one record per timer (what it is, where it was created,
 * its settings over time, its expirations, how it ended). Fed by the summary pass (stats) and by
 * `xtrace timers`, which also symbolizes creation sites. */
#ifndef XT_TIMERSET_H
#define XT_TIMERSET_H

#include <stdint.h>

#include "liveset.h"
#include "timers.h"
#include "xtrace-reader.h"

/* The first settings of a timer are kept; later ones are only counted. */
#define XT_TIMER_KEEP_SETTINGS 16

struct xt_timer_setting {
	uint64_t ts;
	uint64_t call; /* call_value: API and flags */
	uint64_t value_ns, interval_ns;
};

struct xt_timer_info {
	uint64_t id;
	int described; /* a timer table entry was seen */
	uint8_t kind, notify;
	uint64_t clock, signo, handle, created_ts;
	char *created_at;   /* creation site, or NULL (itimers, or created before tracing) */
	uint64_t sets, gets;
	struct xt_timer_setting settings[XT_TIMER_KEEP_SETTINGS];
	struct xt_timer_setting last; /* the latest setting; last.ts 0: never set */
	uint64_t fire_events;  /* callback runs, signal deliveries, timerfd reads */
	uint64_t expirations;  /* counted expirations: a timerfd read may report several */
	uint64_t overruns;     /* si_overrun of its signals, timer_getoverrun's answers */
	uint64_t last_fire_ts;
	int deleted;
	uint64_t deleted_ts;
};

struct xt_timers {
	uint64_t calls[XT_TAPI_COUNT];
	uint64_t fires[XT_TVIA_COUNT]; /* thread: runs, signal: deliveries, timerfd: expirations read */
	uint64_t sleeps_interrupted;
	uint64_t slept_ns;
	struct xt_timer_info *timers; /* in order of first sight */
	size_t n, cap;
	struct xt_liveset by_id;      /* timer ID -> index in timers (the record's site) */
	xtrace_symbolizer *sym;       /* NULL: creation sites are left out */
};

/* xt_timers_init: 0, or -1 without memory. sym (may be NULL) names creation sites. */
int xt_timers_init(struct xt_timers *t, xtrace_symbolizer *sym);
void xt_timers_destroy(struct xt_timers *t);
/* xt_timers_sync takes in the timer table of the generation whose Sync r just handed out;
 * xt_timers_event one event of any experiment. Both: 0, or -1 without memory. */
int xt_timers_sync(struct xt_timers *t, const xtrace_reader *r);
int xt_timers_event(struct xt_timers *t, const xtrace_reader *r, const struct xtrace_event *ev);

/* xt_timer_armed_at_exit: the timer's last setting would still expire after the trace. */
int xt_timer_armed_at_exit(const struct xt_timer_info *ti);

/* Names from timers.h; "?" for a code outside the lists. */
const char *xt_timer_api_name(unsigned api);
const char *xt_timer_kind_name(unsigned kind);
const char *xt_timer_notify_name(unsigned notify);
const char *xt_timer_via_name(unsigned via);
/* xt_timer_clock_name names a timer's clock (for an itimer, its which); NULL when unnamed. */
const char *xt_timer_clock_name(unsigned kind, uint64_t clock);

#endif
