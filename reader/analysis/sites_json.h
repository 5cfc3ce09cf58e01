/* sites_json.h: allocation sites as JSON: a site's frames, groups of sites with their counters,
 * and the object `xtrace top --json` prints, which the library hands out as text too
 * (xtrace-analysis.h). */
#ifndef XT_SITES_JSON_H
#define XT_SITES_JSON_H

#include "cli/output.h"
#include "summary.h"

/* xt_put_frames_json writes site's frames as a JSON array of objects. */
void xt_put_frames_json(struct xt_out *o, const struct xt_sites *s, uint32_t site);
/* xt_put_groups_json writes groups g[0..n) as a JSON array, an object a line:
 *   {"key": ..., "allocs": ..., ..., "frames": [...]}
 * ranked adds "rank" first and "region" before "frames" (null unless by is stack grouping). */
void xt_put_groups_json(struct xt_out *o, const struct xt_sites *s, const struct xt_group *g,
			size_t n, int ranked, enum xt_grouping by);
/* xt_put_counts_json writes the counters as JSON members (no braces), after a comma. */
void xt_put_counts_json(struct xt_out *o, const struct xt_counts *c);
/* xt_put_name_json writes name ID id of n as a JSON string. */
void xt_put_name_json(struct xt_out *o, const struct xt_names *n, uint32_t id);

/* What `xtrace top` was asked for. */
struct xt_top_query {
	enum xt_metric by;
	enum xt_grouping group;
	const char *region; /* NULL: every allocation */
	long count;         /* rows at most */
};
/* xt_top_put_json writes top's object for the trace at path, read to status st into sum and s,
 * its peak peak_time_ns after its start: the query, the totals, and the first q->count of the
 * n groups g, ranked. */
void xt_top_put_json(struct xt_out *o, const char *path, enum xtrace_status st,
		     const struct xt_summary *sum, const struct xt_sites *s, uint64_t peak_time_ns,
		     const struct xt_top_query *q, const struct xt_group *g, size_t n);

#endif
