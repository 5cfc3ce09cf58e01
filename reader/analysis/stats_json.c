/* stats_json.c: the JSON of `xtrace stats --json` and the run's totals behind it (see
 * stats_json.h). */
#include "stats_json.h"

#include <stdio.h>
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

int xt_heap_rows_init(struct xt_heap_rows *h)
{
	memset(h, 0, sizeof *h);
	if (xt_names_init(&h->names) < 0)
		return -1;
	return xt_heap_rows_add_one(h, XT_MALLOC_HEAP_NAME, NULL);
}

void xt_heap_rows_free(struct xt_heap_rows *h)
{
	xt_names_destroy(&h->names);
	free(h->row);
}

int xt_heap_rows_add_one(struct xt_heap_rows *h, const char *name, const struct xt_heap *hp)
{
	uint32_t id = xt_names_id(&h->names, name, strlen(name));
	if (id == UINT32_MAX)
		return -1;
	if (id >= h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		struct xt_heap_row *p = realloc(h->row, cap * sizeof *p);
		if (!p)
			return -1;
		memset(p + h->cap, 0, (cap - h->cap) * sizeof *p);
		h->row = p;
		h->cap = cap;
	}
	if (!hp)
		return 0;
	struct xt_heap_row *r = &h->row[id];
	r->allocs += hp->allocs;
	r->frees += hp->frees + hp->realloc_frees;
	r->alloc_bytes += hp->alloc_bytes;
	/* of several images, the largest one image reached */
	if (hp->peak_live_bytes > r->peak_live_bytes)
		r->peak_live_bytes = hp->peak_live_bytes;
	r->live_bytes += hp->live_bytes;
	r->live_objects += hp->live.count;
	return 0;
}

int xt_heap_rows_add(struct xt_heap_rows *h, const struct xt_summary *s)
{
	if (xt_heap_rows_add_one(h, XT_MALLOC_HEAP_NAME, &s->heap) < 0)
		return -1;
	char buf[32];
	for (size_t i = 0; i < s->heaps.n; i++)
		if (xt_heap_rows_add_one(h, xt_heap_label(s->heaps.heap[i], buf, sizeof buf),
					  &s->heaps.heap[i]->heap) < 0)
			return -1;
	return 0;
}

void xt_no_heap_message(const char *path, const char *name, const struct xt_heap_rows *h,
			char *buf, size_t n)
{
	if (!buf || !n)
		return;
	int k = snprintf(buf, n, "%s: no heap '%s' (its heaps: ", path, name);
	for (uint32_t i = 0; i < h->names.count && k >= 0 && (size_t)k < n; i++)
		k += snprintf(buf + k, n - (size_t)k, "%s%s", i ? ", " : "", xt_names_str(&h->names, i));
	if (k >= 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, ")");
}

void xt_missing_heap_message(const char *path, const struct xt_summary *s, char *buf, size_t n)
{
	struct xt_heap_rows h;
	if (xt_heap_rows_init(&h) == 0 && xt_heap_rows_add(&h, s) == 0)
		xt_no_heap_message(path, s->heap_name, &h, buf, n);
	else if (buf && n)
		snprintf(buf, n, "%s: no heap '%s'", path, s->heap_name);
	xt_heap_rows_free(&h);
}

void xt_put_heaps_json(struct xt_out *o, const struct xt_heap_rows *h)
{
	xt_out_str(o, ",\n  \"heaps\": {");
	for (uint32_t i = 0; i < h->names.count; i++) {
		const struct xt_heap_row *r = &h->row[i];
		xt_out_str(o, i ? ",\n    " : "\n    ");
		xt_out_json_str(o, xt_names_str(&h->names, i), xt_names_len(&h->names, i));
		xt_out_printf(o, ": {\"allocs\": %llu, \"frees\": %llu, \"alloc_bytes\": %llu, "
			      "\"peak_live_bytes\": %llu, \"live_bytes_at_end\": %llu, "
			      "\"live_objects_at_end\": %llu}",
			      (unsigned long long)r->allocs, (unsigned long long)r->frees,
			      (unsigned long long)r->alloc_bytes, (unsigned long long)r->peak_live_bytes,
			      (unsigned long long)r->live_bytes, (unsigned long long)r->live_objects);
	}
	xt_out_str(o, "\n  }");
}

/* The memory levels stats shows: of the selected heap, of the samples, of the program's maps. */
void xt_memory_levels(const struct xt_summary *s, struct xt_level *l)
{
	const struct xt_addrspace *m = &s->mem;
	l[0] = (struct xt_level){s->selected->live_bytes, s->selected->peak_live_bytes,
				 s->selected->peak_ts};
	l[1] = m->mapped;
	l[2] = m->resident;
	l[3] = (struct xt_level){m->maps.live_bytes, m->maps.peak_live_bytes, m->maps.peak_ts};
	l[4] = m->stack_bytes;
}

const char *const xt_memory_level_keys[XT_MEMORY_LEVELS] = {"heap_live_bytes", "mapped_bytes", "resident_bytes",
	"program_maps_bytes", "thread_stack_bytes"};

void xt_put_memory_json(struct xt_out *o, const xtrace_reader *r, const struct xt_summary *s)
{
	const struct xt_addrspace *m = &s->mem;
	struct xt_level l[XT_MEMORY_LEVELS];
	xt_memory_levels(s, l);
	xt_out_printf(o, ",\n  \"memory\": {\n    \"samples\": %llu", (unsigned long long)m->samples);
	for (size_t i = 0; i < XT_MEMORY_LEVELS; i++)
		xt_out_printf(o, ",\n    \"%s\": {\"peak\": %llu, \"peak_time_ns\": %llu, \"at_end\": %llu}",
			      xt_memory_level_keys[i], (unsigned long long)l[i].peak,
			      (unsigned long long)(l[i].peak ? xt_since_start(r, l[i].peak_ts) : 0),
			      (unsigned long long)l[i].now);
	xt_out_printf(o, ",\n    \"thread_stacks_at_end\": %llu,\n    \"program_break_bytes\": %llu",
		      (unsigned long long)m->stacks, (unsigned long long)(m->brk_top - m->brk_low));
	xt_out_printf(o, ",\n    \"calls\": {\"map\": %llu, \"unmap\": %llu, \"remap\": %llu, "
		      "\"brk\": %llu}", (unsigned long long)m->map_calls,
		      (unsigned long long)m->unmap_calls, (unsigned long long)m->move_calls,
		      (unsigned long long)m->brk_calls);
	xt_out_str(o, ",\n    \"series\": [");
	for (size_t i = 0; i < m->npt; i++) {
		const struct xt_mem_point *p = &m->pt[i];
		xt_out_printf(o, "%s\n      {\"time_ns\": %llu, \"heap_live_bytes\": %llu, "
			      "\"mapped_bytes\": %llu, \"resident_bytes\": %llu, "
			      "\"program_maps_bytes\": %llu}", i ? "," : "",
			      (unsigned long long)xt_since_start(r, p->ts),
			      (unsigned long long)p->heap_bytes, (unsigned long long)p->mapped_bytes,
			      (unsigned long long)p->resident_bytes, (unsigned long long)p->maps_bytes);
	}
	xt_out_str(o, m->npt ? "\n    ]\n  }" : "]\n  }");
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

/* put_totals writes the shared members up to by_api; the caller adds heaps (and memory), then
 * put_timers. */
static void put_totals(struct xt_out *o, const struct totals *t, const struct xt_heap *hp)
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
}

static void put_timers(struct xt_out *o, const struct xt_timers *timers)
{
	xt_out_str(o, ",\n  \"timers\": {\n");
	xt_put_timer_counts(o, timers, "    ");
	xt_out_str(o, "\n  }");
}

/* put_described writes the "described_events" member (after a comma): the events of
 * experiments known from the trace alone, by experiment and event name. */
static void put_described(struct xt_out *o, const struct xt_described *d)
{
	xt_out_str(o, ",\n  \"described_events\": [");
	for (size_t i = 0; i < d->n; i++) {
		xt_out_str(o, i ? ",\n    {\"experiment\": " : "\n    {\"experiment\": ");
		xt_out_json_str(o, d->c[i].experiment, strlen(d->c[i].experiment));
		xt_out_str(o, ", \"event\": ");
		xt_out_json_str(o, d->c[i].event, strlen(d->c[i].event));
		xt_out_printf(o, ", \"count\": %llu}", (unsigned long long)d->c[i].count);
	}
	xt_out_str(o, d->n ? "\n  ]" : "]");
}

void xt_stats_put_json(struct xt_out *o, const char *path, const xtrace_reader *r,
		       const struct xt_summary *s, enum xtrace_status st,
		       const struct xt_heap_rows *heaps)
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
	const struct totals t = {
		.generations = s->generations, .threads = s->threads, .events = s->events,
		.lost = s->lost_events, .truncated = st == XTRACE_ERR_TRUNCATED,
		.corrupt = st == XTRACE_ERR_CORRUPT, .duration_ns = xt_since_start(r, s->last_ts),
		.peak_time_ns = hp->peak_live_bytes ? xt_since_start(r, hp->peak_ts) : 0};
	put_totals(o, &t, hp);
	xt_put_heaps_json(o, heaps);
	xt_put_memory_json(o, r, s);
	put_timers(o, &s->timers);
	put_described(o, &s->described);
	xt_out_str(o, "\n}\n");
}

static void add_image(void *ctx, size_t i, const xtrace_reader *r, const struct xt_summary *s)
{
	struct xt_run_stats *t = ctx;
	(void)r;
	const struct xt_image *im = &t->run->img[i];
	if (!im->selected)
		return;
	/* a heap other than malloc's: its counters, of the images that have it */
	const struct xt_named_heap *named = t->heap_name ? xt_heaps_find(&s->heaps, t->heap_name) : NULL;
	const struct xt_heap *h = named ? &named->heap : &s->heap;
	static const struct xt_heap none;
	if (t->heap_name && !named && strcmp(t->heap_name, XT_MALLOC_HEAP_NAME) != 0)
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
	if (xt_heap_rows_add(&t->heaps, s) < 0)
		t->nomem = 1;
}

enum xtrace_status xt_run_stats_read(struct xt_run *run, const char *heap_name,
				     struct xt_run_stats *t)
{
	memset(t, 0, sizeof *t);
	t->run = run;
	t->heap_name = heap_name;
	struct xt_run_peak pk = {0};
	if (xt_heap_rows_init(&t->heaps) < 0)
		return XTRACE_ERR_NOMEM;
	enum xtrace_status st = xt_run_scan(run, add_image, t);
	if (st == XTRACE_OK && t->nomem)
		st = XTRACE_ERR_NOMEM;
	if (st == XTRACE_OK && heap_name &&
	    xt_names_find(&t->heaps.names, heap_name, strlen(heap_name)) == UINT32_MAX) {
		t->heap_missing = 1;
		return XTRACE_OK;
	}
	if (st == XTRACE_OK)
		st = xt_run_peak_read(run, heap_name, &pk);
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

void xt_run_stats_free(struct xt_run_stats *t)
{
	xt_heap_rows_free(&t->heaps);
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
	put_totals(o, &tt, hp);
	xt_put_heaps_json(o, &t->heaps);
	put_timers(o, &t->timers);
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
