/* xtrace-analysis.c: the library's entry points to the command's analyses (see
 * reader/xtrace-analysis.h): each opens what the command would, runs the same analysis and
 * prints the same JSON into memory. They print nothing on stdout or stderr. */
#include "xtrace-analysis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "siteread.h"
#include "sites_json.h"
#include "stats_json.h"

/* Room for a small object; the writer grows as needed. */
#define JSON_START (16u << 10)

static const struct xtrace_analysis_options no_options;

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int is_dir(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static char *run_stats(const char *path, const struct xtrace_analysis_options *o,
		       enum xtrace_status *st, char *err, size_t errlen)
{
	struct xt_run run;
	struct xt_run_stats t = {0};
	struct xt_out out;
	char msg[512];
	if (xt_run_open(&run, path, msg, sizeof msg) < 0) {
		say(err, errlen, "%s", msg);
		*st = XTRACE_ERR_IO;
		return NULL;
	}
	char *json = NULL;
	if ((o->pid || o->exe) && !xt_run_select(&run, o->pid, o->exe)) {
		say(err, errlen, "%s: no process image matches%s%s", path, o->exe ? " --exe " : "",
		    o->exe ? o->exe : "");
		*st = XTRACE_ERR_IO;
	} else if ((*st = xt_run_stats_read(&run, o->heap, &t)) == XTRACE_OK && t.heap_missing) {
		xt_no_heap_message(path, o->heap, &t.heaps, err, errlen);
	} else if (*st != XTRACE_OK) {
		say(err, errlen, *st == XTRACE_ERR_IO ? "%s: cannot open every trace at once" :
			"%s: out of memory", path);
	} else if (xt_out_open(&out, -1, JSON_START) < 0) {
		say(err, errlen, "%s: out of memory", path);
		*st = XTRACE_ERR_NOMEM;
	} else {
		xt_run_stats_put_json(&out, path, &t);
		json = xt_out_take(&out);
		*st = t.corrupt ? XTRACE_ERR_CORRUPT : t.truncated ? XTRACE_ERR_TRUNCATED : XTRACE_OK;
		if (!json) {
			say(err, errlen, "%s: out of memory", path);
			*st = XTRACE_ERR_NOMEM;
		}
	}
	xt_run_stats_free(&t);
	xt_run_free(&run);
	return json;
}

char *xtrace_stats_json(const char *path, const struct xtrace_analysis_options *o,
			enum xtrace_status *st, char *err, size_t errlen)
{
	if (!o)
		o = &no_options;
	if (o->pid || o->exe || is_dir(path))
		return run_stats(path, o, st, err, errlen);
	xtrace_reader *r = xtrace_open(path, err, errlen);
	if (!r) {
		*st = XTRACE_ERR_IO;
		return NULL;
	}
	struct xt_summary s;
	struct xt_pass pass = {.heap = o->heap};
	struct xt_heap_rows heaps;
	struct xt_out out;
	char *json = NULL;
	*st = xt_summarize_pass(r, &s, &pass);
	int rows = xt_heap_rows_init(&heaps) == 0 ? xt_heap_rows_add(&heaps, &s) : -1;
	if (*st != XTRACE_ERR_NOMEM && rows == 0 && xt_summary_heap_missing(&s)) {
		xt_no_heap_message(path, o->heap, &heaps, err, errlen);
		*st = XTRACE_OK;
		goto out;
	}
	if (*st != XTRACE_ERR_NOMEM && rows == 0 && xt_out_open(&out, -1, JSON_START) == 0) {
		xt_stats_put_json(&out, path, r, &s, *st, &heaps);
		json = xt_out_take(&out);
	}
	if (!json)
		*st = XTRACE_ERR_NOMEM;
	if (*st != XTRACE_OK)
		xt_read_end_message(r, path, *st, err, errlen);
out:
	xt_heap_rows_free(&heaps);
	xt_summary_destroy(&s);
	xtrace_close(r);
	return json;
}

/* top_query fills q and rules from o: 0, or -1 with err saying which option is wrong. */
static int top_query(const struct xtrace_analysis_options *o, struct xt_top_query *q,
		     struct xt_alloc_rules *rules, char *err, size_t errlen)
{
	*q = (struct xt_top_query){.by = XT_BY_BYTES, .group = XT_GROUP_FUNCTION, .count = 10,
				   .region = o->region};
	if (o->by && xt_metric_parse(o->by, &q->by) < 0) {
		say(err, errlen, "unknown metric '%s' (allocs, bytes, peak, temporary or leaked)", o->by);
		return -1;
	}
	if (o->group && xt_grouping_parse(o->group, &q->group) < 0) {
		say(err, errlen, "unknown grouping '%s' (stack, function, line or region)", o->group);
		return -1;
	}
	if (o->count < 0) {
		say(err, errlen, "the count wants a positive number, not %ld", o->count);
		return -1;
	}
	if (o->count)
		q->count = o->count;
	if (o->nalloc_fns > XT_MAX_ALLOC_FNS) {
		say(err, errlen, "more than %d allocation functions", XT_MAX_ALLOC_FNS);
		return -1;
	}
	*rules = (struct xt_alloc_rules){.keep = o->keep_allocator_frames, .nextra = o->nalloc_fns};
	for (size_t i = 0; i < o->nalloc_fns; i++)
		rules->extra[i] = o->alloc_fns[i];
	return 0;
}

char *xtrace_top_json(const char *path, const struct xtrace_analysis_options *o,
		      enum xtrace_status *st, char *err, size_t errlen)
{
	if (!o)
		o = &no_options;
	/* wrong options leave *st XTRACE_OK: nothing was read */
	*st = XTRACE_OK;
	struct xt_top_query q;
	struct xt_alloc_rules rules;
	if (top_query(o, &q, &rules, err, errlen) < 0)
		return NULL;
	*st = XTRACE_ERR_IO;
	if (is_dir(path)) {
		say(err, errlen, "%s: a run directory: top reads one of its trace files at a time", path);
		return NULL;
	}
	xtrace_reader *r = xtrace_open(path, err, errlen);
	if (!r)
		return NULL;
	struct xt_summary sum = {0};
	struct xt_sites sites;
	struct xt_group *g = NULL;
	struct xt_out out;
	char *json = NULL;
	if (xt_sites_init(&sites, !o->no_symbols, q.region) < 0) {
		xtrace_close(r);
		say(err, errlen, "%s: out of memory", path);
		*st = XTRACE_ERR_NOMEM;
		return NULL;
	}
	sites.rules = rules;
	struct xt_pass pass = {.heap = o->heap, .sites = &sites};
	if (xt_sites_read(r, path, &sum, &pass, 1, st, err, errlen) < 0) {
		*st = XTRACE_ERR_IO;
	} else if (*st != XTRACE_ERR_NOMEM && xt_summary_heap_missing(&sum)) {
		xt_missing_heap_message(path, &sum, err, errlen);
		*st = XTRACE_OK;
	} else if (*st != XTRACE_OK && *st != XTRACE_ERR_TRUNCATED) {
		xt_read_end_message(r, path, *st, err, errlen);
	} else {
		long n = xt_sites_group(&sites, q.group, q.by, &sites.names, &g);
		if (n >= 0 && xt_out_open(&out, -1, JSON_START) == 0) {
			const struct xt_heap *hp = sum.selected;
			uint64_t peak_ns = hp->peak_live_bytes ? xt_since_start(r, hp->peak_ts) : 0;
			xt_top_put_json(&out, path, *st, &sum, &sites, peak_ns, &q, g, (size_t)n);
			json = xt_out_take(&out);
		}
		if (!json) {
			say(err, errlen, "%s: out of memory", path);
			*st = XTRACE_ERR_NOMEM;
		} else if (*st != XTRACE_OK) {
			xt_read_end_message(r, path, *st, err, errlen);
		}
	}
	free(g);
	xt_summary_destroy(&sum);
	xt_sites_destroy(&sites);
	xtrace_close(r);
	return json;
}

void xtrace_json_free(char *json)
{
	free(json);
}
