/* profile.h: what the site commands (top, leaks, peak, flame, diff, report) share: reading a
 * trace into its allocation sites (one pass, and a second up to the peak when a command needs
 * each site's share of it), progress on stderr, and printing a site's frames and counters. */
#ifndef XT_PROFILE_H
#define XT_PROFILE_H

#include "analysis/sites_json.h"
#include "analysis/siteread.h"
#include "cli.h"

struct cli_profile {
	const char *path;
	xtrace_reader *r;         /* open for its header until cli_profile_free */
	struct xt_summary sum;
	struct xt_sites sites;
	enum xtrace_status st;    /* how reading ended */
	uint64_t duration_ns;     /* trace start to its last timestamp */
	uint64_t peak_time_ns;    /* trace start to the peak */
};

/* cli_alloc_rules: what --keep-allocator-frames and --alloc-fn said to the command (options.c
 * resets it at every parse); like --no-symbols it holds for every trace the command loads. */
extern struct xt_alloc_rules cli_alloc_rules;
/* cli_heap: the heap --heap named (NULL: the malloc heap), likewise reset at every parse and
 * held for every trace the command loads. */
extern const char *cli_heap;

/* cli_profile_load reads path's heap cli_heap (sum.selected). region (or NULL) keeps only
 * allocations inside that region;
 * peak adds the second pass; on_event (may be NULL) sees the first pass's events, with ctx.
 * Returns an exit code: XT_EXIT_OK or XT_EXIT_TRUNCATED when p is
 * usable (free it with cli_profile_free), XT_EXIT_FAIL after reporting why not, XT_EXIT_USAGE
 * after reporting that the trace has no heap cli_heap. */
typedef int (*cli_event_fn)(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
			    const struct xt_summary *s);
int cli_profile_load(struct cli_profile *p, const char *path, const char *region, int peak,
		     cli_event_fn on_event, void *ctx);
/* cli_profile_load_arg is cli_file_arg then cli_profile_load without on_event: the same exit
 * codes, and XT_EXIT_USAGE after reporting a missing or extra FILE. */
int cli_profile_load_arg(struct cli_profile *p, const struct xt_command *cmd, int argc,
			 char **argv, const char *region, int peak);
void cli_profile_free(struct cli_profile *p);

/* cli_progress_event is an xt_pass on_event that shows how far reading is, on stderr when it is
 * a terminal (ctx: a struct cli_progress). cli_progress_done clears the line. */
struct cli_progress {
	int on;
	uint64_t size, last_ms;
	const char *what;
};
void cli_progress_init(struct cli_progress *pr, const char *path, const char *what);
int cli_progress_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		       const struct xt_summary *s);
void cli_progress_done(struct cli_progress *pr);

/* Options the site commands share, parsed from their values. */
int cli_parse_metric(const struct xt_command *cmd, const char *v, enum xt_metric *m);
int cli_parse_grouping(const struct xt_command *cmd, const char *v, enum xt_grouping *g);

/* cli_parse_count parses -n's value, a positive count, into *n: 0, or -1 after the usage error. */
int cli_parse_count(const struct xt_command *cmd, const char *v, long *n);

/* cli_profile_group groups p's sites by `by`, ranked by m, into *g (keys in p's own name table;
 * free *g in any case) and opens o on fd: the group count, or -1 after reporting that memory
 * ran out. */
long cli_profile_group(struct cli_profile *p, enum xt_grouping by, enum xt_metric m,
		       struct xt_group **g, struct xt_out *o, int fd);

/* cli_metric_value formats group counter m for people: bytes in units, counts plain. */
const char *cli_metric_value(char *buf, size_t n, const struct xt_counts *c, enum xt_metric m);

/* cli_group_label writes how a group is shown in a table: its key, or for stack groups the
 * innermost frames "leak_site (sites.c:34) < main (sites.c:70) < ...". */
const char *cli_group_label(char *buf, size_t n, const struct xt_sites *s,
			    const struct xt_names *keys, const struct xt_group *g,
			    enum xt_grouping by);
/* cli_put_header writes the lines that open a site command's text output. */
void cli_put_header(struct xt_out *o, const struct cli_profile *p);

/* cli_put_frames writes site's frames, innermost first, one per line after indent:
 *   leak_site  sites.c:34  (sites) */
void cli_put_frames(struct xt_out *o, const struct xt_sites *s, uint32_t site, const char *indent);
/* cli_put_json_head opens a site command's JSON object with its "file", "heap", "group" and
 * members (no comma after the last). */
void cli_put_json_head(struct xt_out *o, const struct cli_profile *p, enum xt_grouping by);

#endif
