/* profile.c: reading a trace into its allocation sites and printing them (see profile.h). */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void cli_progress_init(struct cli_progress *pr, const char *path, const char *what)
{
	struct stat st;
	memset(pr, 0, sizeof *pr);
	pr->on = isatty(STDERR_FILENO) && stat(path, &st) == 0 && st.st_size > 0;
	pr->size = pr->on ? (uint64_t)st.st_size : 0;
	pr->last_ms = now_ms();
	pr->what = what;
}

int cli_progress_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		       const struct xt_summary *s)
{
	struct cli_progress *pr = ctx;
	if (!pr->on || ev->kind != XTRACE_EVENT_SYNC)
		return 0;
	/* Quiet for short analyses; then a refresh every quarter second. */
	uint64_t t = now_ms();
	if (t - pr->last_ms < 250)
		return 0;
	pr->last_ms = t;
	fprintf(stderr, "\rxtrace: %s: %3llu%% (generation %llu)", pr->what,
		(unsigned long long)(ev->offset * 100 / pr->size), (unsigned long long)ev->gen);
	return 0;
}

void cli_progress_done(struct cli_progress *pr)
{
	if (pr->on)
		fputs("\r\033[K", stderr);
}

struct first_pass {
	struct cli_progress pr;
	cli_event_fn on_event;
	void *ctx;
	const struct xt_sites *sites;
};

static int first_pass_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
			    const struct xt_summary *s)
{
	struct first_pass *fp = ctx;
	cli_progress_event(&fp->pr, r, ev, s);
	/* the command's own on_event sees the first read only, not the one up to the peak */
	return fp->on_event && !fp->sites->peak_pass ? fp->on_event(fp->ctx, r, ev, s) : 0;
}

int cli_profile_load(struct cli_profile *p, const char *path, const char *region, int peak,
		     cli_event_fn on_event, void *ctx)
{
	memset(p, 0, sizeof *p);
	p->path = path;
	if (!(p->r = cli_open(path)))
		return XT_EXIT_FAIL;
	if (xt_sites_init(&p->sites, !cli_no_symbols, region) < 0) {
		cli_warn("%s: out of memory", path);
		cli_profile_free(p);
		return XT_EXIT_FAIL;
	}
	p->sites.rules = cli_alloc_rules;
	struct first_pass fp = {.on_event = on_event, .ctx = ctx, .sites = &p->sites};
	cli_progress_init(&fp.pr, path, path);
	struct xt_pass pass = {.heap = cli_heap, .sites = &p->sites, .on_event = first_pass_event,
			       .ctx = &fp};
	char err[256] = "";
	int reread = xt_sites_read(p->r, path, &p->sum, &pass, peak, &p->st, err, sizeof err);
	if (reread == 0 && p->st != XTRACE_ERR_NOMEM && cli_heap_missing(path, &p->sum)) {
		cli_progress_done(&fp.pr);
		cli_profile_free(p);
		return XT_EXIT_USAGE;
	}
	cli_progress_done(&fp.pr);
	if (reread < 0) {
		cli_warn("%s", err[0] ? err : path);
		cli_profile_free(p);
		return XT_EXIT_FAIL;
	}
	if (p->st == XTRACE_ERR_NOMEM) {
		cli_warn("%s: out of memory", path);
		cli_profile_free(p);
		return XT_EXIT_FAIL;
	}
	p->duration_ns = cli_since_start(p->r, p->sum.last_ts);
	const struct xt_heap *hp = p->sum.selected;
	p->peak_time_ns = hp->peak_live_bytes ? cli_since_start(p->r, hp->peak_ts) : 0;
	/* A corrupt trace ends the command here; a truncated one is analysed as far as it goes. */
	if (p->st != XTRACE_OK && p->st != XTRACE_ERR_TRUNCATED) {
		int code = cli_read_end(p->r, path, p->st);
		cli_profile_free(p);
		return code;
	}
	return p->st == XTRACE_OK ? XT_EXIT_OK : XT_EXIT_TRUNCATED;
}

int cli_profile_load_arg(struct cli_profile *p, const struct xt_command *cmd, int argc,
			 char **argv, const char *region, int peak)
{
	const char *path = cli_file_arg(cmd, argc, argv);
	if (!path)
		return XT_EXIT_USAGE;
	return cli_profile_load(p, path, region, peak, NULL, NULL);
}

void cli_profile_free(struct cli_profile *p)
{
	xt_summary_destroy(&p->sum);
	xt_sites_destroy(&p->sites);
	if (p->r)
		xtrace_close(p->r);
	p->r = NULL;
}

int cli_parse_metric(const struct xt_command *cmd, const char *v, enum xt_metric *m)
{
	if (xt_metric_parse(v, m) == 0)
		return 0;
	cli_usage_error(cmd, "unknown metric '%s' (allocs, bytes, peak, temporary or leaked)", v);
	return -1;
}

int cli_parse_grouping(const struct xt_command *cmd, const char *v, enum xt_grouping *g)
{
	if (xt_grouping_parse(v, g) == 0)
		return 0;
	cli_usage_error(cmd, "unknown grouping '%s' (stack, function, line or region)", v);
	return -1;
}

int cli_parse_count(const struct xt_command *cmd, const char *v, long *n)
{
	char *end;
	*n = strtol(v, &end, 10);
	if (*end || *n < 1) {
		cli_usage_error(cmd, "-n wants a positive count, not '%s'", v);
		return -1;
	}
	return 0;
}

long cli_profile_group(struct cli_profile *p, enum xt_grouping by, enum xt_metric m,
		       struct xt_group **g, struct xt_out *o, int fd)
{
	*g = NULL;
	long n = xt_sites_group(&p->sites, by, m, &p->sites.names, g);
	if (n < 0 || xt_out_open(o, fd, XT_STDOUT_BUFFER) < 0) {
		cli_warn("%s: out of memory", p->path);
		return -1;
	}
	return n;
}

const char *cli_metric_value(char *buf, size_t n, const struct xt_counts *c, enum xt_metric m)
{
	uint64_t v = xt_counts_metric(c, m);
	if (m == XT_BY_BYTES || m == XT_BY_PEAK || m == XT_BY_LEAKED)
		return xt_fmt_bytes(buf, n, v);
	snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

const char *cli_group_label(char *buf, size_t n, const struct xt_sites *s,
			    const struct xt_names *keys, const struct xt_group *g,
			    enum xt_grouping by)
{
	if (by != XT_GROUP_STACK) {
		snprintf(buf, n, "%s", xt_names_str(keys, g->key));
		return buf;
	}
	size_t len = 0;
	const char *region = xt_site_region(s, g->site);
	buf[0] = 0;
	if (region)
		len += (size_t)snprintf(buf, n, "[%s] ", region);
	const struct xt_frame_info *f;
	for (size_t i = 0; i < 3 && len < n && (f = xt_site_frame(s, g->site, i)); i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? " < " : "",
					xt_names_str(&s->names, i ? f->label : f->line_label));
	if (len < n && xt_site_depth(s, g->site) > 3)
		snprintf(buf + len, n - len, " < ...");
	return buf;
}

void cli_put_header(struct xt_out *o, const struct cli_profile *p)
{
	const struct xtrace_header *h = xtrace_get_header(p->r);
	xt_out_printf(o, "trace    %s%s\nprogram  %s (pid %llu)\n", p->path,
		      p->st == XTRACE_ERR_TRUNCATED ? " (truncated)" : "", h->exe,
		      (unsigned long long)h->pid);
	if (p->sum.selected != &p->sum.heap)
		xt_out_printf(o, "heap     %s\n", p->sum.heap_name);
	xt_sampling_put_text(o, "", p->sum.sampling.mean);
	xt_out_char(o, '\n');
}

static const char *base_name(const char *p)
{
	const char *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

void cli_put_frames(struct xt_out *o, const struct xt_sites *s, uint32_t site, const char *indent)
{
	const struct xt_names *n = &s->names;
	const char *region = xt_site_region(s, site);
	if (region)
		xt_out_printf(o, "%sin region %s\n", indent, region);
	const struct xt_frame_info *f;
	for (size_t i = 0; (f = xt_site_frame(s, site, i)); i++) {
		xt_out_printf(o, "%s%s", indent, xt_names_str(n, f->label));
		if (f->file != XT_NO_NAME && f->line)
			xt_out_printf(o, "  %s:%d", base_name(xt_names_str(n, f->file)), f->line);
		if (f->inlined)
			xt_out_str(o, "  (inlined)");
		else if (f->module != XT_NO_NAME && f->function != XT_NO_NAME)
			xt_out_printf(o, "  (%s)", xt_names_str(n, f->module));
		xt_out_char(o, '\n');
	}
}

void cli_put_json_head(struct xt_out *o, const struct cli_profile *p, enum xt_grouping by)
{
	xt_out_str(o, "{\n  \"file\": ");
	xt_out_json_str(o, p->path, strlen(p->path));
	xt_out_str(o, ",\n  \"heap\": ");
	xt_out_json_str(o, p->sum.heap_name, strlen(p->sum.heap_name));
	xt_out_printf(o, ",\n  \"group\": \"%s\",\n  \"truncated\": %s", xt_grouping_name(by),
		      p->st == XTRACE_ERR_TRUNCATED ? "true" : "false");
	xt_sampling_put_json(o, p->sum.sampling.mean);
}
