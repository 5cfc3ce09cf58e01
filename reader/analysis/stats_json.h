/* stats_json.h: the JSON of `xtrace stats --json`, for one trace and for a run's images, and the
 * index's object per image. The CLI prints it to stdout and the library hands it out as text
 * (xtrace-analysis.h), so both give the same object. Only printing and the run's totals here:
 * the numbers come from summary.c and images.c. */
#ifndef XT_STATS_JSON_H
#define XT_STATS_JSON_H

#include "cli/output.h"
#include "images.h"
#include "summary.h"

/* xt_stats_put_json writes the stats object of the trace at path, read by r to status st into s. */
void xt_stats_put_json(struct xt_out *o, const char *path, const xtrace_reader *r,
		       const struct xt_summary *s, enum xtrace_status st);

/* The totals of a run's selected images. */
struct xt_run_stats {
	uint64_t generations, threads, events, lost, first_ts, last_ts, processes, truncated, corrupt;
	uint64_t images;
	struct xt_heap heap;     /* only its counters: the live sets stay empty; the tree's peak */
	struct xt_timers timers; /* only calls and fires */
	uint64_t duration_ns, peak_time_ns; /* since the first selected image started */
	const struct xt_run *run;
};

/* xt_run_stats_read scans the run's images and reads the tree's peak into t: XTRACE_OK,
 * XTRACE_ERR_NOMEM, or XTRACE_ERR_IO when the traces cannot all be open at once. */
enum xtrace_status xt_run_stats_read(struct xt_run *run, struct xt_run_stats *t);
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
