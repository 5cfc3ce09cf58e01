/* xtrace-analysis.h: the analyses of the xtrace command, in libxtrace-reader for other programs
 * (python/xtrace uses them). Each reads a trace file or a run directory (`xtrace run`'s) and
 * returns what the command prints with --json: the same code prints both. */
#ifndef XTRACE_ANALYSIS_H
#define XTRACE_ANALYSIS_H

#include "xtrace-reader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The command-line options of the analyses; zero is each one's default (o NULL: all defaults). */
struct xtrace_analysis_options {
	uint64_t pid;          /* a run: only this process's images (--pid; 0: all) */
	const char *exe;       /* a run: only this program's images, by path or file name (--exe) */
	const char *by;        /* top's metric (--by): allocs, bytes (NULL), peak, temporary, leaked */
	const char *group;     /* top's grouping (--group): stack, function (NULL), line, region */
	long count;            /* top's rows (-n; 0: 10) */
	const char *region;    /* top: only allocations inside this region (--region) */
	int no_symbols;        /* open no file the trace names: frames are module+offset */
	int keep_allocator_frames;       /* --keep-allocator-frames */
	const char *const *alloc_fns;    /* --alloc-fn, nalloc_fns of them */
	size_t nalloc_fns;
	const char *heap;      /* the heap of stats' totals and top's sites (--heap; NULL: malloc) */
};

/* xtrace_stats_json is `xtrace stats --json PATH`: one JSON object, NUL-terminated, to free
 * with xtrace_json_free. *st gets how reading ended (a truncated or corrupt trace still has its
 * object, over the complete generations; for a run, the worst image's). NULL when there is
 * nothing to show: err says why (*st stays XTRACE_OK for a heap the trace does not have). */
char *xtrace_stats_json(const char *path, const struct xtrace_analysis_options *o,
			enum xtrace_status *st, char *err, size_t errlen);
/* xtrace_top_json is `xtrace top --json PATH` for a trace file (for a run, ask each image):
 * the object, or NULL when the options are wrong or the trace has no such heap (*st stays
 * XTRACE_OK) or the trace is
 * unreadable or corrupt (err says why). A truncated trace is ranked as far as it goes (*st
 * XTRACE_ERR_TRUNCATED). */
char *xtrace_top_json(const char *path, const struct xtrace_analysis_options *o,
		      enum xtrace_status *st, char *err, size_t errlen);
void xtrace_json_free(char *json);

#ifdef __cplusplus
}
#endif
#endif
