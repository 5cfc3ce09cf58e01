/* timers.c: `xtrace timers`: the Timers experiment of a trace: per timer its kind, clock, where
 * it was created, its settings over time, expirations, overruns and how it ended, then totals
 * (calls per API, expirations by how they reached the program). The numbers come from the
 * Timers analysis (analysis/timerset.c) on a pass of its own, with creation sites named. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis/stats_json.h"
#include "analysis/summary.h"
#include "cli.h"
#include "options.h"

/* put_clock writes a timer's clock by name, or its number. */
static void put_clock(struct xt_out *o, const struct xt_timer_info *ti, int json)
{
	const char *name = xt_timer_clock_name(ti->kind, ti->clock);
	if (name && json)
		xt_out_json_str(o, name, strlen(name));
	else if (name)
		xt_out_str(o, name);
	else
		xt_out_u64(o, ti->clock);
}

static void put_timer_json(struct xt_out *o, const xtrace_reader *r, const struct xt_timer_info *ti)
{
	xt_out_printf(o, "{\"id\": %llu, \"kind\": \"%s\", \"clock\": ", (unsigned long long)ti->id,
		      ti->described ? xt_timer_kind_name(ti->kind) : "?");
	put_clock(o, ti, 1);
	xt_out_printf(o, ", \"notify\": \"%s\", \"signo\": %llu, \"handle\": %llu, \"created_ns\": %llu",
		      xt_timer_notify_name(ti->notify), (unsigned long long)ti->signo,
		      (unsigned long long)ti->handle,
		      (unsigned long long)cli_since_start(r, ti->created_ts));
	xt_out_str(o, ", \"created_at\": ");
	if (ti->created_at)
		xt_out_json_str(o, ti->created_at, strlen(ti->created_at));
	else
		xt_out_str(o, "null");
	xt_out_printf(o, ", \"sets\": %llu, \"gets\": %llu, \"settings\": [",
		      (unsigned long long)ti->sets, (unsigned long long)ti->gets);
	for (uint64_t i = 0; i < ti->sets && i < XT_TIMER_KEEP_SETTINGS; i++) {
		const struct xt_timer_setting *s = &ti->settings[i];
		xt_out_printf(o, "%s{\"ns\": %llu, \"api\": \"%s\", \"value_ns\": %llu, "
			      "\"interval_ns\": %llu, \"absolute\": %s}", i ? ", " : "",
			      (unsigned long long)cli_since_start(r, s->ts),
			      xt_timer_api_name(XT_TIMER_CALL_API(s->call)), (unsigned long long)s->value_ns,
			      (unsigned long long)s->interval_ns,
			      s->call & XT_TIMER_CALL_ABSTIME ? "true" : "false");
	}
	xt_out_printf(o, "], \"fires\": %llu, \"expirations\": %llu, \"overruns\": %llu, "
		      "\"deleted\": %s, \"armed_at_exit\": %s}", (unsigned long long)ti->fire_events,
		      (unsigned long long)ti->expirations, (unsigned long long)ti->overruns,
		      ti->deleted ? "true" : "false", xt_timer_armed_at_exit(ti) ? "true" : "false");
}

static void put_json(struct xt_out *o, const char *path, const xtrace_reader *r,
		     const struct xt_timers *t)
{
	xt_out_str(o, "{\n  \"file\": ");
	xt_out_json_str(o, path, strlen(path));
	xt_out_str(o, ",\n");
	xt_put_timer_counts(o, t, "  ");
	xt_out_printf(o, ",\n  \"sleeps_interrupted\": %llu,\n  \"slept_ns\": %llu,\n  \"timers\": [",
		      (unsigned long long)t->sleeps_interrupted, (unsigned long long)t->slept_ns);
	for (size_t i = 0; i < t->n; i++) {
		xt_out_str(o, i ? ",\n    " : "\n    ");
		put_timer_json(o, r, &t->timers[i]);
	}
	xt_out_str(o, t->n ? "\n  ]\n}\n" : "]\n}\n");
}

static void put_human(struct xt_out *o, const xtrace_reader *r, const struct xt_timers *t)
{
	char a[32], b[32], c[32];
	for (size_t i = 0; i < t->n; i++) {
		const struct xt_timer_info *ti = &t->timers[i];
		xt_out_printf(o, "timer %llu: %s, clock ", (unsigned long long)ti->id,
			      ti->described ? xt_timer_kind_name(ti->kind) : "?");
		put_clock(o, ti, 0);
		xt_out_printf(o, ", notify %s", xt_timer_notify_name(ti->notify));
		if (ti->signo)
			xt_out_printf(o, " (signal %llu)", (unsigned long long)ti->signo);
		xt_out_printf(o, ", created at %s", xt_fmt_duration(a, sizeof a,
			      cli_since_start(r, ti->created_ts)));
		if (ti->created_at)
			xt_out_printf(o, " by %s", ti->created_at);
		xt_out_char(o, '\n');
		for (uint64_t k = 0; k < ti->sets && k < XT_TIMER_KEEP_SETTINGS; k++) {
			const struct xt_timer_setting *s = &ti->settings[k];
			xt_out_printf(o, "  %10s  %s value %s%s interval %s\n",
				      xt_fmt_duration(a, sizeof a, cli_since_start(r, s->ts)),
				      xt_timer_api_name(XT_TIMER_CALL_API(s->call)),
				      s->call & XT_TIMER_CALL_ABSTIME ? "at " : "",
				      xt_fmt_duration(b, sizeof b, s->value_ns),
				      xt_fmt_duration(c, sizeof c, s->interval_ns));
		}
		if (ti->sets > XT_TIMER_KEEP_SETTINGS)
			xt_out_printf(o, "  ... %llu settings in all\n", (unsigned long long)ti->sets);
		xt_out_printf(o, "  expirations %llu (%llu notifications), overruns %llu, ",
			      (unsigned long long)ti->expirations, (unsigned long long)ti->fire_events,
			      (unsigned long long)ti->overruns);
		if (ti->deleted)
			xt_out_printf(o, "deleted at %s\n",
				      xt_fmt_duration(a, sizeof a, cli_since_start(r, ti->deleted_ts)));
		else
			xt_out_str(o, xt_timer_armed_at_exit(ti) ? "still armed at exit\n" :
				   "disarmed at exit\n");
	}
	struct xt_table tab = {0};
	xt_table_cell(&tab, "api");
	xt_table_cell(&tab, "calls");
	xt_table_row(&tab);
	for (unsigned i = 0; i < XT_TAPI_COUNT; i++) {
		if (!t->calls[i])
			continue;
		xt_table_cell(&tab, "%s", xt_timer_api_name(i));
		xt_table_cell(&tab, "%llu", (unsigned long long)t->calls[i]);
		xt_table_row(&tab);
	}
	xt_table_row(&tab);
	for (unsigned v = 0; v < XT_TVIA_COUNT; v++) {
		xt_table_cell(&tab, "fires by %s", xt_timer_via_name(v));
		xt_table_cell(&tab, "%llu", (unsigned long long)t->fires[v]);
		xt_table_row(&tab);
	}
	xt_table_cell(&tab, "sleeps interrupted");
	xt_table_cell(&tab, "%llu", (unsigned long long)t->sleeps_interrupted);
	xt_table_row(&tab);
	xt_out_str(o, t->n ? "\n" : "no timers\n\n");
	xt_table_print(&tab, o);
}

int cmd_timers(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	const char *path;
	int code;
	xtrace_reader *r = cli_open_options(cmd, argc, argv, CLI_JSON | CLI_EACH_IMAGE, &opt, &path, &code);
	if (!r)
		return code;
	xtrace_symbolizer *sym = cli_no_symbols ? NULL : xtrace_symbolizer_new();
	struct xt_pass pass = {.analyses = XT_AN_BIT(XT_AN_TIMERS), .sym = sym};
	struct xt_summary s = {0};
	enum xtrace_status st = (!sym && !cli_no_symbols) ? XTRACE_ERR_NOMEM :
			       xt_summarize_pass(r, &s, &pass);
	struct xt_out o;
	if (st == XTRACE_ERR_NOMEM || xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0) {
		cli_warn("%s: out of memory", path);
		code = XT_EXIT_FAIL;
	} else {
		if (opt.json)
			put_json(&o, path, r, &s.timers);
		else
			put_human(&o, r, &s.timers);
		code = cli_finish(&o, r, path, st);
	}
	xt_summary_destroy(&s);
	xtrace_symbolizer_free(sym);
	xtrace_close(r);
	return code;
}
