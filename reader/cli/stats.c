/* stats.c: `xtrace stats`: a trace's totals, as aligned tables or one JSON object. The numbers
 * come from xt_summarize (analysis/summary.c) and the JSON from analysis/stats_json.c, which the
 * library shares; this file prints the tables. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <getopt.h>
#include <stdlib.h>

#include "analysis/stats_json.h"
#include "cli.h"
#include "options.h"
#include "tree.h"

/* row adds a table row: a label, a value and an optional note. */
static void row(struct xt_table *t, const char *label, const char *value, const char *note)
{
	xt_table_cell(t, "%s", label);
	xt_table_cell(t, "%s", value);
	if (note)
		xt_table_cell(t, "%s", note);
	xt_table_row(t);
}

/* num formats v into buf and returns buf. */
static const char *num(char *buf, size_t n, uint64_t v)
{
	snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

/* The numbers of the totals table, of one trace or of a run's images. */
struct totals {
	uint64_t duration, generations, threads, events, lost, peak_at;
	const char *gen_note;   /* NULL, "(truncated)" or "(corrupt)" */
	const char *peak_where; /* after the peak's time */
	int inherited;          /* show the inherited frees */
};

static void put_totals(struct xt_out *o, const struct totals *tt, const struct xt_heap *hp)
{
	char v[32], u[48], at[32];
	struct xt_table t = {.left_cols = 4};
	row(&t, "duration", xt_fmt_duration(v, sizeof v, tt->duration), NULL);
	row(&t, "generations", num(v, sizeof v, tt->generations), tt->gen_note);
	row(&t, "threads", num(v, sizeof v, tt->threads), NULL);
	row(&t, "events", num(v, sizeof v, tt->events), NULL);
	row(&t, "lost events", num(v, sizeof v, tt->lost), NULL);
	xt_table_row(&t);
	row(&t, "allocations", num(v, sizeof v, hp->allocs), xt_fmt_bytes(u, sizeof u, hp->alloc_bytes));
	row(&t, "failed allocations", num(v, sizeof v, hp->failed_allocs), NULL);
	snprintf(u, sizeof u, "(%llu by realloc)", (unsigned long long)hp->realloc_frees);
	row(&t, "frees", num(v, sizeof v, hp->frees + hp->realloc_frees), u);
	snprintf(u, sizeof u, "at %s%s", xt_fmt_duration(at, sizeof at, tt->peak_at), tt->peak_where);
	row(&t, "peak live", xt_fmt_bytes(v, sizeof v, hp->peak_live_bytes), u);
	row(&t, "live at end", num(v, sizeof v, hp->live.count), xt_fmt_bytes(u, sizeof u, hp->live_bytes));
	if (tt->inherited)
		row(&t, "inherited frees", num(v, sizeof v, hp->inherited_frees), NULL);
	if (hp->errors)
		row(&t, "invalid events", num(v, sizeof v, hp->errors), "(see xtrace validate)");
	xt_table_print(&t, o);
}

/* put_described lists the events of experiments known from the trace alone (the run-time
 * experiments of a program, or ones newer than this reader), by experiment and name. */
static void put_described(struct xt_out *o, const struct xt_described *d)
{
	if (!d->n)
		return;
	struct xt_table t = {0};
	char v[32];
	row(&t, "experiment", "event", "count");
	for (size_t i = 0; i < d->n; i++)
		row(&t, d->c[i].experiment, d->c[i].event, num(v, sizeof v, d->c[i].count));
	xt_out_char(o, '\n');
	xt_table_print(&t, o);
}

static void put_human(struct xt_out *o, const char *path, const xtrace_reader *r,
		      const struct xt_summary *s, enum xtrace_status st, const struct xt_heap_rows *heaps)
{
	const struct xtrace_header *h = xtrace_get_header(r);
	const struct xt_heap *hp = s->selected;
	char v[32], u[48];
	/* Paths go outside the table: they can be longer than a cell. */
	xt_out_printf(o, "trace    %s\nprogram  %s (pid %llu", path, h->exe, (unsigned long long)h->pid);
	if (h->fork_parent_pid)
		xt_out_printf(o, ", forked from pid %llu", (unsigned long long)h->fork_parent_pid);
	xt_out_str(o, ")\n");
	if (s->selected != &s->heap)
		xt_out_printf(o, "heap     %s\n", s->heap_name);
	xt_out_char(o, '\n');

	struct totals tt = {
		.duration = cli_since_start(r, s->last_ts), .generations = s->generations,
		.threads = s->threads, .events = s->events, .lost = s->lost_events,
		.gen_note = st == XTRACE_OK ? NULL : st == XTRACE_ERR_TRUNCATED ? "(truncated)" : "(corrupt)",
		.peak_at = hp->peak_live_bytes ? cli_since_start(r, hp->peak_ts) : 0, .peak_where = "",
		.inherited = h->fork_parent_pid != 0};
	put_totals(o, &tt, hp);

	struct xt_table api = {0};
	row(&api, "api", "calls", "requested");
	for (unsigned i = 0; i < XT_API_COUNT; i++)
		if (hp->by_api[i].calls)
			row(&api, xtrace_alloc_api_name((uint8_t)i), num(v, sizeof v, hp->by_api[i].calls),
			    xt_fmt_bytes(u, sizeof u, hp->by_api[i].bytes));
	row(&api, "free", num(v, sizeof v, hp->frees), NULL);
	if (s->selected == &s->heap) {
		xt_out_char(o, '\n');
		xt_table_print(&api, o);
	}
	if (heaps->names.count > 1) {
		xt_out_char(o, '\n');
		cli_put_heaps_text(o, heaps);
	}
	if (s->mem.samples || s->mem.events) {
		xt_out_char(o, '\n');
		cli_put_memory_text(o, r, s);
	}
	put_described(o, &s->described);
}

/* stats_run prints a run's totals over the selected images, then a row (JSON: an object) per
 * image. */
static int stats_run(const char *path, const struct cli_options *opt)
{
	struct xt_run run = {0};
	struct xt_run_stats t;
	int code = cli_run_open(opt, path, &run);
	if (code >= 0)
		return code;
	struct xt_out o;
	enum xtrace_status st = xt_run_stats_read(&run, cli_heap, &t);
	if (st == XTRACE_OK && t.heap_missing) {
		cli_warn_no_heap(path, cli_heap, &t.heaps);
		xt_run_stats_free(&t);
		xt_run_free(&run);
		return XT_EXIT_USAGE;
	}
	if (st != XTRACE_OK || xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0) {
		cli_warn(st == XTRACE_ERR_IO ? "%s: cannot open every trace at once" :
			 "%s: out of memory", path);
		xt_run_stats_free(&t);
		xt_run_free(&run);
		return XT_EXIT_FAIL;
	}
	if (opt->json) {
		xt_run_stats_put_json(&o, path, &t);
	} else {
		xt_out_printf(&o, "run      %s (%llu process%s, %llu image%s)\n\n", path,
			      (unsigned long long)t.processes, t.processes == 1 ? "" : "es",
			      (unsigned long long)t.images, t.images == 1 ? "" : "s");
		struct totals tt = {
			.duration = t.duration_ns, .generations = t.generations, .threads = t.threads,
			.events = t.events, .lost = t.lost,
			.gen_note = t.corrupt ? "(corrupt)" : t.truncated ? "(truncated)" : NULL,
			.peak_at = t.peak_time_ns, .peak_where = ", all processes", .inherited = 1};
		put_totals(&o, &tt, &t.heap);
		xt_out_char(&o, '\n');
		if (t.heaps.names.count > 1) {
			cli_put_heaps_text(&o, &t.heaps);
			xt_out_char(&o, '\n');
		}
		cli_put_tree(&o, &run);
	}
	code = cli_out_close(&o) < 0 ? XT_EXIT_FAIL :
	       t.corrupt ? XT_EXIT_FAIL : t.truncated ? XT_EXIT_TRUNCATED : XT_EXIT_OK;
	xt_run_stats_free(&t);
	xt_run_free(&run);
	return code;
}

int cmd_stats(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	const char *path;
	int code = cli_parse_options(cmd, argc, argv, CLI_JSON | CLI_PID | CLI_EXE | CLI_HEAP, &opt);
	if (code >= 0)
		return code;
	if (optind < argc && cli_wants_images(argv[optind], &opt)) {
		const char *run = cli_file_arg(cmd, argc, argv);
		return run ? stats_run(run, &opt) : XT_EXIT_USAGE;
	}
	xtrace_reader *r = cli_open_arg(cmd, argc, argv, &path, &code);
	if (!r)
		return code;
	struct xt_summary s;
	struct xt_pass pass = {.heap = cli_heap};
	struct xt_heap_rows heaps;
	enum xtrace_status st = xt_summarize_pass(r, &s, &pass);
	int heap_rows = xt_heap_rows_init(&heaps);
	code = XT_EXIT_FAIL;
	struct xt_out o;
	if (st != XTRACE_ERR_NOMEM && cli_heap_missing(path, &s)) {
		code = XT_EXIT_USAGE;
	} else if (st == XTRACE_ERR_NOMEM || heap_rows < 0 || xt_heap_rows_add(&heaps, &s) < 0 ||
		   xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0) {
		cli_warn("%s: out of memory", path);
	} else {
		if (opt.json)
			xt_stats_put_json(&o, path, r, &s, st, &heaps);
		else
			put_human(&o, path, r, &s, st, &heaps);
		code = cli_finish(&o, r, path, st);
	}
	xt_heap_rows_free(&heaps);
	xt_summary_destroy(&s);
	xtrace_close(r);
	return code;
}
