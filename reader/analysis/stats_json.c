/* stats_json.c: the JSON of `xtrace stats --json` and the run's totals behind it (see
 * stats_json.h). */
#include "stats_json.h"

#include <stdlib.h>
#include <string.h>

void xt_put_timer_counts(struct xt_out *o, const struct xt_timers *t, const char *indent)
{
	xt_out_printf(o, "%s\"calls\": {", indent);
	for (unsigned a = 0; a < XT_TAPI_COUNT; a++)
		xt_out_printf(o, "%s\"%s\": %llu", a ? ", " : "", xt_timer_api_name(a),
			      (unsigned long long)t->calls[a]);
	xt_out_printf(o, "},\n%s\"fires\": {", indent);
	for (unsigned v = 0; v < XT_TVIA_COUNT; v++)
		xt_out_printf(o, "%s\"%s\": %llu", v ? ", " : "", xt_timer_via_name(v),
			      (unsigned long long)t->fires[v]);
	xt_out_char(o, '}');
}

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

/* The members a trace's object and a run's share, in this order. */
struct totals {
	uint64_t generations, threads, events, lost;
	int truncated, corrupt;
	uint64_t duration_ns, peak_time_ns;
};

static void put_totals(struct xt_out *o, const struct totals *t, const struct xt_heap *hp,
		       const struct xt_timers *timers)
{
	put_u(o, "generations", t->generations);
	put_u(o, "threads", t->threads);
	put_u(o, "events", t->events);
	put_u(o, "lost_events", t->lost);
	xt_out_printf(o, ",\n  \"truncated\": %s", t->truncated ? "true" : "false");
	xt_out_printf(o, ",\n  \"corrupt\": %s", t->corrupt ? "true" : "false");
	put_u(o, "duration_ns", t->duration_ns);
	put_u(o, "allocs", hp->allocs);
	put_u(o, "frees", hp->frees + hp->realloc_frees);
	put_u(o, "realloc_frees", hp->realloc_frees);
	put_u(o, "failed_allocs", hp->failed_allocs);
	put_u(o, "alloc_bytes", hp->alloc_bytes);
	put_u(o, "peak_live_bytes", hp->peak_live_bytes);
	put_u(o, "peak_time_ns", t->peak_time_ns);
	put_u(o, "live_bytes_at_end", hp->live_bytes);
	put_u(o, "live_objects_at_end", hp->live.count);
	put_u(o, "inherited_frees", hp->inherited_frees);
	put_u(o, "invalid_events", hp->errors);
	put_by_api(o, hp);
	xt_out_str(o, ",\n  \"timers\": {\n");
	xt_put_timer_counts(o, timers, "    ");
	xt_out_str(o, "\n  }");
}

void xt_stats_put_json(struct xt_out *o, const char *path, const xtrace_reader *r,
		       const struct xt_summary *s, enum xtrace_status st)
{
	const struct xtrace_header *h = xtrace_get_header(r);
	const struct xt_heap *hp = &s->heap;
	xt_out_str(o, "{\n  \"file\": ");
	xt_out_json_str(o, path, strlen(path));
	xt_out_str(o, ",\n  \"exe\": ");
	xt_out_json_str(o, h->exe, strlen(h->exe));
	put_u(o, "pid", h->pid);
	put_u(o, "ppid", h->ppid);
	put_u(o, "fork_parent_pid", h->fork_parent_pid);
	const struct totals t = {
		.generations = s->generations, .threads = s->threads, .events = s->events,
		.lost = s->lost_events, .truncated = st == XTRACE_ERR_TRUNCATED,
		.corrupt = st == XTRACE_ERR_CORRUPT, .duration_ns = xt_since_start(r, s->last_ts),
		.peak_time_ns = hp->peak_live_bytes ? xt_since_start(r, hp->peak_ts) : 0};
	put_totals(o, &t, hp, &s->timers);
	xt_out_str(o, "\n}\n");
}

static void add_image(void *ctx, size_t i, const xtrace_reader *r, const struct xt_summary *s)
{
	struct xt_run_stats *t = ctx;
	(void)r;
	const struct xt_image *im = &t->run->img[i];
	if (!im->selected)
		return;
	const struct xt_heap *h = &s->heap;
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
}

enum xtrace_status xt_run_stats_read(struct xt_run *run, struct xt_run_stats *t)
{
	memset(t, 0, sizeof *t);
	t->run = run;
	struct xt_run_peak pk = {0};
	enum xtrace_status st = xt_run_scan(run, add_image, t);
	if (st == XTRACE_OK)
		st = xt_run_peak_read(run, &pk);
	free(pk.live);
	if (st != XTRACE_OK)
		return st;
	t->heap.peak_live_bytes = pk.bytes;
	for (size_t i = 0; i < run->count; i++) {
		const struct xt_image *im = &run->img[i];
		if (!im->selected)
			continue;
		t->images++;
		t->processes += im->exec_from < 0 || !run->img[im->exec_from].selected;
		t->truncated += im->t.st == XTRACE_ERR_TRUNCATED;
		t->corrupt += im->t.st != XTRACE_OK && im->t.st != XTRACE_ERR_TRUNCATED;
	}
	t->duration_ns = t->last_ts > t->first_ts ? t->last_ts - t->first_ts : 0;
	t->peak_time_ns = pk.bytes && pk.ts > t->first_ts ? pk.ts - t->first_ts : 0;
	return XTRACE_OK;
}

void xt_run_stats_put_json(struct xt_out *o, const char *path, const struct xt_run_stats *t)
{
	const struct xt_heap *hp = &t->heap;
	const struct xt_run *run = t->run;
	xt_out_str(o, "{\n  \"run\": ");
	xt_out_json_str(o, path, strlen(path));
	put_u(o, "images", t->images);
	put_u(o, "process_count", t->processes);
	const struct totals tt = {
		.generations = t->generations, .threads = t->threads, .events = t->events,
		.lost = t->lost, .truncated = t->truncated != 0, .corrupt = t->corrupt != 0,
		.duration_ns = t->duration_ns, .peak_time_ns = t->peak_time_ns};
	put_totals(o, &tt, hp, &t->timers);
	xt_out_str(o, ",\n  \"processes\": [");
	int first = 1;
	for (size_t k = 0; k < run->count; k++) {
		const struct xt_image *im = &run->img[run->order[k]];
		if (!im->selected)
			continue;
		xt_out_str(o, first ? "\n    " : ",\n    ");
		first = 0;
		xt_put_image_json(o, run, im);
	}
	xt_out_str(o, "\n  ]\n}\n");
}

/* since_start is ts's time after the run's first image started, in ns. */
static uint64_t since_start(const struct xt_run *run, uint64_t ts)
{
	uint64_t t0 = run->count ? run->img[0].start_ts : 0;
	return ts > t0 ? ts - t0 : 0;
}

static void put_file_or_null(struct xt_out *o, const struct xt_run *run, long i)
{
	if (i < 0)
		xt_out_str(o, "null");
	else
		xt_out_json_str(o, run->img[i].name, strlen(run->img[i].name));
}

void xt_put_image_json(struct xt_out *o, const struct xt_run *run, const struct xt_image *im)
{
	const struct xt_image_totals *t = &im->t;
	xt_out_str(o, "{\"file\": ");
	xt_out_json_str(o, im->name, strlen(im->name));
	xt_out_printf(o, ", \"pid\": %llu, \"ppid\": %llu, \"fork_parent_pid\": %llu, \"parent\": ",
		      (unsigned long long)im->pid, (unsigned long long)im->ppid,
		      (unsigned long long)im->fork_parent_pid);
	put_file_or_null(o, run, im->parent);
	xt_out_str(o, ", \"exec_from\": ");
	put_file_or_null(o, run, im->exec_from);
	xt_out_str(o, ", \"exe\": ");
	xt_out_json_str(o, im->exe, strlen(im->exe));
	xt_out_str(o, ", \"argv\": [");
	xt_out_json_strs(o, im->cmdline, im->cmdline_len, ", ");
	xt_out_printf(o, "], \"start_wall\": \"%llu.%09llu\", \"start_ns\": %llu, \"end_ns\": %llu",
		      (unsigned long long)im->start_wall_sec, (unsigned long long)im->start_wall_nsec,
		      (unsigned long long)since_start(run, im->start_ts),
		      (unsigned long long)since_start(run, t->last_ts));
	const char *end = xt_image_end_name(im->end);
	xt_out_str(o, ", \"end\": ");
	if (end)
		xt_out_printf(o, "\"%s\", \"status\": %llu", end, (unsigned long long)im->end_status);
	else
		xt_out_str(o, "null, \"status\": null");
	xt_out_printf(o, ", \"truncated\": %s, \"events\": %llu, \"allocs\": %llu, \"frees\": %llu, "
		      "\"alloc_bytes\": %llu, \"peak_live_bytes\": %llu, \"live_bytes_at_end\": %llu}",
		      t->st == XTRACE_OK ? "false" : "true", (unsigned long long)t->events,
		      (unsigned long long)t->allocs, (unsigned long long)t->frees,
		      (unsigned long long)t->alloc_bytes, (unsigned long long)t->peak_live_bytes,
		      (unsigned long long)t->live_bytes_at_end);
}
