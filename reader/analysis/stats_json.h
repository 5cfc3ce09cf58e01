/* stats_json.h: the JSON of `xtrace stats --json`, for one trace and for a run's images, and the
 * index's object per image. The CLI prints it to stdout and the library hands it out as text
 * (xtrace-analysis.h), so both give the same object. Only printing, the run's totals and the
 * rows per heap here: the numbers come from summary.c and images.c. */
#ifndef XT_STATS_JSON_H
#define XT_STATS_JSON_H

#include "cli/output.h"
#include "images.h"
#include "summary.h"

/* A row per heap, keyed by name (a run's images summed; the malloc heap first).
 * xt_heap_rows_init, _add and _add_one: 0, or -1 without memory. */
struct xt_heap_row {
	uint64_t allocs, frees, alloc_bytes, peak_live_bytes, live_bytes, live_objects;
};
struct xt_heap_rows {
	struct xt_names names; /* heap name -> row */
	struct xt_heap_row *row;
	size_t cap;
};
int xt_heap_rows_init(struct xt_heap_rows *h);
void xt_heap_rows_free(struct xt_heap_rows *h);
int xt_heap_rows_add(struct xt_heap_rows *h, const struct xt_summary *s);
int xt_heap_rows_add_one(struct xt_heap_rows *h, const char *name, const struct xt_heap *hp);
/* xt_no_heap_message writes into buf (n bytes) that path has no heap name, listing h's heaps:
 * "PATH: no heap 'NAME' (its heaps: malloc, pool)". */
void xt_no_heap_message(const char *path, const char *name, const struct xt_heap_rows *h,
			char *buf, size_t n);
/* xt_missing_heap_message is xt_no_heap_message for the heap the pass s was to follow, listing
 * the heaps s saw (or none, without memory to list them). */
void xt_missing_heap_message(const char *path, const struct xt_summary *s, char *buf, size_t n);
/* The "heaps" member (after a comma). */
void xt_put_heaps_json(struct xt_out *o, const struct xt_heap_rows *h);

/* The memory levels stats shows, in this order: the selected heap, mapped, resident, the
 * program's maps, thread stacks; xt_memory_level_keys are their JSON names. */
#define XT_MEMORY_LEVELS 5
extern const char *const xt_memory_level_keys[XT_MEMORY_LEVELS];
void xt_memory_levels(const struct xt_summary *s, struct xt_level *l);
/* The "memory" member (after a comma): the levels (peak, when, at end), the thread stacks, the
 * break, the calls and the time series. */
void xt_put_memory_json(struct xt_out *o, const xtrace_reader *r, const struct xt_summary *s);

/* xt_stats_put_json writes the stats object of the trace at path, read by r to status st into s
 * (s->selected the heap of its totals), with the rows of heaps. */
void xt_stats_put_json(struct xt_out *o, const char *path, const xtrace_reader *r,
		       const struct xt_summary *s, enum xtrace_status st,
		       const struct xt_heap_rows *heaps);

/* The totals of a run's selected images. */
struct xt_run_stats {
	uint64_t generations, threads, events, lost, first_ts, last_ts, processes, truncated, corrupt;
	uint64_t images;
	struct xt_heap heap;     /* only its counters: the live sets stay empty; the tree's peak */
	struct xt_timers timers; /* only calls and fires */
	struct xt_heap_rows heaps;
	const char *heap_name;   /* the heap of heap (NULL: the malloc heap) */
	int heap_missing;        /* no image has heap_name: nothing else was read */
	int nomem;               /* the heap rows could not grow */
	uint64_t duration_ns, peak_time_ns; /* since the first selected image started */
	const struct xt_run *run;
};

/* xt_run_stats_read scans the run's images and reads the tree's peak into t, of the heap named
 * heap_name (NULL: the malloc heap; t->heap_missing when no image has it): XTRACE_OK,
 * XTRACE_ERR_NOMEM, or XTRACE_ERR_IO when the traces cannot all be open at once. Free t with
 * xt_run_stats_free in any case. */
enum xtrace_status xt_run_stats_read(struct xt_run *run, const char *heap_name,
				     struct xt_run_stats *t);
void xt_run_stats_free(struct xt_run_stats *t);
/* xt_run_stats_put_json writes the stats object of the run at path: its totals, then the
 * index's object of each selected image in tree order under "processes". */
void xt_run_stats_put_json(struct xt_out *o, const char *path, const struct xt_run_stats *t);

/* xt_put_timer_counts writes the "calls" (per timer API) and "fires" (per way an expiration
 * reached the program) members of a JSON object, each line after indent. */
void xt_put_timer_counts(struct xt_out *o, const struct xt_timers *t, const char *indent);

/* xt_put_image_json writes one image of a scanned run as a JSON object: file, pid, ppid,
 * fork_parent_pid, parent and exec_from (their files, or null), exe, argv, start_wall (the
 * header's wall clock), start_ns and end_ns (since the run's first image started; end_ns is the
 * image's last timestamp), end ("exit", "signal", "exec" or null), status, truncated, events,
 * allocs, frees, alloc_bytes, peak_live_bytes, live_bytes_at_end. */
void xt_put_image_json(struct xt_out *o, const struct xt_run *run, const struct xt_image *im);

#endif
