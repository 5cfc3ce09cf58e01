/* stats.c: `xtrace stats`: a trace's totals, as aligned tables or one JSON object. The numbers
 * come from xt_summarize (analysis/summary.c); this file only prints them. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <getopt.h>
#include <stdlib.h>

#include "analysis/summary.h"
#include "cli.h"
#include "options.h"
#include "tree.h"

static void put_u(struct xt_out *o, const char *key, uint64_t v)
{
	xt_out_printf(o, ",\n  \"%s\": %llu", key, (unsigned long long)v);
}

static void put_by_api(struct xt_out *o, const struct xt_heap *hp)
{
	xt_out_str(o, ",\n  \"by_api\": {");
	for (unsigned a = 0; a < XT_API_COUNT; a++)
		xt_out_printf(o, "%s\n    \"%s\": {\"calls\": %llu, \"bytes\": %llu}", a ? "," : "",
			      xtrace_alloc_api_name((uint8_t)a), (unsigned long long)hp->by_api[a].calls,
			      (unsigned long long)hp->by_api[a].bytes);
	xt_out_printf(o, ",\n    \"free\": {\"calls\": %llu}\n  }", (unsigned long long)hp->frees);
}

static void put_json(struct xt_out *o, const char *path, const xtrace_reader *r,
		     const struct xt_summary *s, enum xtrace_status st, const struct cli_heap_rows *heaps)
{
	const struct xtrace_header *h = xtrace_get_header(r);
	const struct xt_heap *hp = s->selected;
	xt_out_str(o, "{\n  \"file\": ");
	xt_out_json_str(o, path, strlen(path));
	xt_out_str(o, ",\n  \"exe\": ");
	xt_out_json_str(o, h->exe, strlen(h->exe));
	put_u(o, "pid", h->pid);
	put_u(o, "ppid", h->ppid);
	put_u(o, "fork_parent_pid", h->fork_parent_pid);
	put_u(o, "generations", s->generations);
	put_u(o, "threads", s->threads);
	put_u(o, "events", s->events);
	put_u(o, "lost_events", s->lost_events);
	xt_out_printf(o, ",\n  \"truncated\": %s", st == XTRACE_ERR_TRUNCATED ? "true" : "false");
	xt_out_printf(o, ",\n  \"corrupt\": %s", st == XTRACE_ERR_CORRUPT ? "true" : "false");
	put_u(o, "duration_ns", cli_since_start(r, s->last_ts));
	put_u(o, "allocs", hp->allocs);
	put_u(o, "frees", hp->frees + hp->realloc_frees);
	put_u(o, "realloc_frees", hp->realloc_frees);
	put_u(o, "failed_allocs", hp->failed_allocs);
	put_u(o, "alloc_bytes", hp->alloc_bytes);
	put_u(o, "peak_live_bytes", hp->peak_live_bytes);
	put_u(o, "peak_time_ns", hp->peak_live_bytes ? cli_since_start(r, hp->peak_ts) : 0);
	put_u(o, "live_bytes_at_end", hp->live_bytes);
	put_u(o, "live_objects_at_end", hp->live.count);
	put_u(o, "inherited_frees", hp->inherited_frees);
	put_u(o, "invalid_events", hp->errors);
	put_by_api(o, hp);
	cli_put_heaps_json(o, heaps);
	cli_put_memory_json(o, r, s);
	xt_out_str(o, ",\n  \"timers\": {\n");
	cli_put_timer_counts(o, &s->timers, "    ");
	xt_out_str(o, "\n  }\n}\n");
}

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

static void put_human(struct xt_out *o, const char *path, const xtrace_reader *r,
		      const struct xt_summary *s, enum xtrace_status st, const struct cli_heap_rows *heaps)
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
}

/* The totals of a run's selected images. */
struct tree_totals {
	uint64_t generations, threads, events, lost, first_ts, last_ts, processes, truncated, corrupt;
	struct xt_heap heap;     /* only its counters: the live sets stay empty */
	struct xt_timers timers; /* only calls and fires */
	struct cli_heap_rows heaps;
	int nomem;               /* the heap rows could not grow */
	const struct xt_run *run;
};

static void add_image(void *ctx, size_t i, const xtrace_reader *r, const struct xt_summary *s)
{
	struct tree_totals *t = ctx;
	(void)r;
	const struct xt_image *im = &t->run->img[i];
	if (!im->selected)
		return;
	/* --heap: that heap's counters, of the images that have it */
	const struct xt_named_heap *named = cli_heap ? xt_heaps_find(&s->heaps, cli_heap) : NULL;
	const struct xt_heap *h = named ? &named->heap : &s->heap;
	static const struct xt_heap none;
	if (cli_heap && !named && strcmp(cli_heap, XT_MALLOC_HEAP_NAME) != 0)
		h = &none;
	t->generations += s->generations;
	t->threads += s->threads;
	t->events += s->events;
	t->lost += s->lost_events;
	if (!t->first_ts || im->start_ts < t->first_ts)
		t->first_ts = im->start_ts;
	if (s->last_ts > t->last_ts)
		t->last_ts = s->last_ts;
	t->heap.allocs += h->allocs;
	t->heap.frees += h->frees;
	t->heap.realloc_frees += h->realloc_frees;
	t->heap.failed_allocs += h->failed_allocs;
	t->heap.alloc_bytes += h->alloc_bytes;
	t->heap.live_bytes += h->live_bytes;
	t->heap.live.count += h->live.count;
	t->heap.inherited_frees += h->inherited_frees;
	t->heap.errors += h->errors;
	for (unsigned a = 0; a < XT_API_COUNT; a++) {
		t->heap.by_api[a].calls += h->by_api[a].calls;
		t->heap.by_api[a].bytes += h->by_api[a].bytes;
	}
	for (unsigned a = 0; a < XT_TAPI_COUNT; a++)
		t->timers.calls[a] += s->timers.calls[a];
	for (unsigned v = 0; v < XT_TVIA_COUNT; v++)
		t->timers.fires[v] += s->timers.fires[v];
	if (cli_heap_rows_add(&t->heaps, s) < 0)
		t->nomem = 1;
}

/* stats_run prints a run's totals over the selected images, then a row (JSON: an object) per
 * image. */
static int stats_run(const char *path, const struct cli_options *opt)
{
	struct {
		struct xt_run run;
		struct tree_totals t;
	} x = {0};
	x.t.run = &x.run;
	int code = cli_run_open(opt, path, &x.run);
	if (code >= 0)
		return code;
	struct xt_run_peak pk = {0};
	struct xt_out o;
	enum xtrace_status st = cli_heap_rows_init(&x.t.heaps) < 0 ? XTRACE_ERR_NOMEM :
				xt_run_scan(&x.run, add_image, &x.t);
	if (st == XTRACE_OK && x.t.nomem)
		st = XTRACE_ERR_NOMEM;
	if (st == XTRACE_OK && cli_heap &&
	    xt_names_find(&x.t.heaps.names, cli_heap, strlen(cli_heap)) == UINT32_MAX) {
		cli_warn_no_heap(path, cli_heap, &x.t.heaps);
		cli_heap_rows_free(&x.t.heaps);
		xt_run_free(&x.run);
		return XT_EXIT_USAGE;
	}
	if (st == XTRACE_OK)
		st = xt_run_peak_read(&x.run, cli_heap, &pk);
	if (st != XTRACE_OK || xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0) {
		cli_warn(st == XTRACE_ERR_IO ? "%s: cannot open every trace at once" :
			 "%s: out of memory", path);
		free(pk.live);
		cli_heap_rows_free(&x.t.heaps);
		xt_run_free(&x.run);
		return XT_EXIT_FAIL;
	}
	struct tree_totals *t = &x.t;
	struct xt_heap *hp = &t->heap;
	hp->peak_live_bytes = pk.bytes;
	size_t images = 0;
	for (size_t i = 0; i < x.run.count; i++) {
		const struct xt_image *im = &x.run.img[i];
		if (!im->selected)
			continue;
		images++;
		t->processes += im->exec_from < 0 || !x.run.img[im->exec_from].selected;
		t->truncated += im->t.st == XTRACE_ERR_TRUNCATED;
		t->corrupt += im->t.st != XTRACE_OK && im->t.st != XTRACE_ERR_TRUNCATED;
	}
	uint64_t duration = t->last_ts > t->first_ts ? t->last_ts - t->first_ts : 0;
	uint64_t peak_at = pk.bytes && pk.ts > t->first_ts ? pk.ts - t->first_ts : 0;
	if (opt->json) {
		xt_out_str(&o, "{\n  \"run\": ");
		xt_out_json_str(&o, path, strlen(path));
		put_u(&o, "images", images);
		put_u(&o, "process_count", t->processes);
		put_u(&o, "generations", t->generations);
		put_u(&o, "threads", t->threads);
		put_u(&o, "events", t->events);
		put_u(&o, "lost_events", t->lost);
		xt_out_printf(&o, ",\n  \"truncated\": %s", t->truncated ? "true" : "false");
		xt_out_printf(&o, ",\n  \"corrupt\": %s", t->corrupt ? "true" : "false");
		put_u(&o, "duration_ns", duration);
		put_u(&o, "allocs", hp->allocs);
		put_u(&o, "frees", hp->frees + hp->realloc_frees);
		put_u(&o, "realloc_frees", hp->realloc_frees);
		put_u(&o, "failed_allocs", hp->failed_allocs);
		put_u(&o, "alloc_bytes", hp->alloc_bytes);
		put_u(&o, "peak_live_bytes", hp->peak_live_bytes);
		put_u(&o, "peak_time_ns", peak_at);
		put_u(&o, "live_bytes_at_end", hp->live_bytes);
		put_u(&o, "live_objects_at_end", hp->live.count);
		put_u(&o, "inherited_frees", hp->inherited_frees);
		put_u(&o, "invalid_events", hp->errors);
		put_by_api(&o, hp);
		cli_put_heaps_json(&o, &t->heaps);
		xt_out_str(&o, ",\n  \"timers\": {\n");
		cli_put_timer_counts(&o, &t->timers, "    ");
		xt_out_str(&o, "\n  }");
		xt_out_str(&o, ",\n  \"processes\": [");
		int first = 1;
		for (size_t k = 0; k < x.run.count; k++) {
			const struct xt_image *im = &x.run.img[x.run.order[k]];
			if (!im->selected)
				continue;
			xt_out_str(&o, first ? "\n    " : ",\n    ");
			first = 0;
			cli_put_image_json(&o, &x.run, im);
		}
		xt_out_str(&o, "\n  ]\n}\n");
	} else {
		xt_out_printf(&o, "run      %s (%llu process%s, %zu image%s)\n\n", path,
			      (unsigned long long)t->processes, t->processes == 1 ? "" : "es", images,
			      images == 1 ? "" : "s");
		struct totals tt = {
			.duration = duration, .generations = t->generations, .threads = t->threads,
			.events = t->events, .lost = t->lost,
			.gen_note = t->corrupt ? "(corrupt)" : t->truncated ? "(truncated)" : NULL,
			.peak_at = peak_at, .peak_where = ", all processes", .inherited = 1};
		put_totals(&o, &tt, hp);
		xt_out_char(&o, '\n');
		if (t->heaps.names.count > 1) {
			cli_put_heaps_text(&o, &t->heaps);
			xt_out_char(&o, '\n');
		}
		cli_put_tree(&o, &x.run);
	}
	code = cli_out_close(&o) < 0 ? XT_EXIT_FAIL :
	       t->corrupt ? XT_EXIT_FAIL : t->truncated ? XT_EXIT_TRUNCATED : XT_EXIT_OK;
	free(pk.live);
	cli_heap_rows_free(&x.t.heaps);
	xt_run_free(&x.run);
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
	struct cli_heap_rows heaps;
	enum xtrace_status st = xt_summarize_pass(r, &s, &pass);
	int heap_rows = cli_heap_rows_init(&heaps);
	code = XT_EXIT_FAIL;
	struct xt_out o;
	if (st != XTRACE_ERR_NOMEM && cli_heap_missing(path, &s)) {
		code = XT_EXIT_USAGE;
	} else if (st == XTRACE_ERR_NOMEM || heap_rows < 0 || cli_heap_rows_add(&heaps, &s) < 0 ||
		   xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0) {
		cli_warn("%s: out of memory", path);
	} else {
		if (opt.json)
			put_json(&o, path, r, &s, st, &heaps);
		else
			put_human(&o, path, r, &s, st, &heaps);
		code = cli_finish(&o, r, path, st);
	}
	cli_heap_rows_free(&heaps);
	xt_summary_destroy(&s);
	xtrace_close(r);
	return code;
}
