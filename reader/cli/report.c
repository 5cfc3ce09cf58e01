/* report.c: `xtrace report`: one self-contained HTML file (inline CSS and SVG, no script, no
 * network): the trace's totals, the live heap over time, the top sites, what leaked, a flame
 * graph and the trace's other events (timers, sleeps, regions, logs). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "described.h"
#include "flamegraph.h"
#include "options.h"
#include "profile.h"
#include "spec.h"
#include "tree.h"

/* The heap chart keeps at most this many points: the largest live heap per time bucket, the
 * buckets doubling in width whenever they would exceed it, so memory stays fixed. */
#define CHART_POINTS 1024
#define MAX_LOGS 50

struct sample {
	uint64_t ns, live;
};

struct report {
	struct sample pt[CHART_POINTS];
	size_t npt;
	uint64_t width_ns;           /* of a bucket */
	uint64_t last_live;
	uint64_t counts[256];        /* events by type, heap events excluded */
	struct { uint64_t ns, thread; char text[160]; } logs[MAX_LOGS];
	size_t nlogs;
	struct cli_described described; /* events of experiments known from the trace alone */
};

static int on_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_summary *s)
{
	struct report *rp = ctx;
	if (cli_described_event(&rp->described, ev) < 0)
		return -1;
	if (ev->kind == XTRACE_EVENT_SYNC || ev->generic)
		return 0;
	uint64_t ns = cli_since_start(r, ev->ts);
	if (s->op_heap != s->selected) {
		if (!s->op_heap)
			rp->counts[ev->type]++;
		if (ev->type == XT_EV_UserLog && rp->nlogs < MAX_LOGS) {
			size_t lc = 0, lm = 0;
			const char *c = xtrace_string(r, ev->args[0], &lc);
			const char *m = xtrace_string(r, ev->args[1], &lm);
			snprintf(rp->logs[rp->nlogs].text, sizeof rp->logs[0].text, "%.*s: %.*s",
				 (int)lc, c ? c : "", (int)lm, m ? m : "");
			rp->logs[rp->nlogs].ns = ns;
			rp->logs[rp->nlogs++].thread = ev->thread;
		}
		return 0;
	}
	uint64_t live = s->selected->live_bytes;
	while (ns / rp->width_ns >= CHART_POINTS) {
		/* Bucket j of twice the width covers buckets 2j and 2j + 1: keep the larger. */
		for (size_t j = 0; 2 * j < rp->npt; j++) {
			struct sample m = rp->pt[2 * j];
			if (2 * j + 1 < rp->npt && rp->pt[2 * j + 1].live > m.live)
				m = rp->pt[2 * j + 1];
			rp->pt[j] = m;
		}
		rp->npt = (rp->npt + 1) / 2;
		rp->width_ns *= 2;
	}
	size_t b = (size_t)(ns / rp->width_ns);
	while (rp->npt <= b) { /* buckets without heap events keep the level before them */
		rp->pt[rp->npt] = (struct sample){rp->npt * rp->width_ns, rp->last_live};
		rp->npt++;
	}
	if (live >= rp->pt[b].live)
		rp->pt[b] = (struct sample){ns, live};
	rp->last_live = live;
	return 0;
}

static void put_text(struct xt_out *o, const char *s)
{
	xt_out_xml(o, s, strlen(s));
}

static void put_chart(struct xt_out *o, const struct report *rp, const struct cli_profile *p)
{
	enum { W = CLI_CHART_W, H = CLI_CHART_H, L = CLI_CHART_L, B = CLI_CHART_B };
	uint64_t max = p->sum.selected->peak_live_bytes ? p->sum.selected->peak_live_bytes : 1;
	uint64_t span = p->duration_ns ? p->duration_ns : 1;
	char a[32], t[32];
	cli_put_chart_frame(o, max, span);
	xt_out_str(o, "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.5\" points=\"");
	double sx = (double)(W - L - 10) / (double)span, sy = (double)(H - B - 20) / (double)max;
	xt_out_printf(o, "%d,%d", L, H - B);
	for (size_t i = 0; i < rp->npt; i++)
		xt_out_printf(o, " %.1f,%.1f", L + (double)rp->pt[i].ns * sx,
			      H - B - (double)rp->pt[i].live * sy);
	xt_out_printf(o, " %.1f,%.1f\"/>\n", L + (double)span * sx, H - B -
		      (double)p->sum.selected->live_bytes * sy);
	xt_out_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#c0392b\"><title>peak %s at %s"
		      "</title></circle>\n</svg>\n", L + (double)p->peak_time_ns * sx,
		      H - B - (double)p->sum.selected->peak_live_bytes * sy, xt_fmt_bytes(a, sizeof a, max),
		      xt_fmt_duration(t, sizeof t, p->peak_time_ns));
}

static void put_sites(struct xt_out *o, const struct cli_profile *p, const struct xt_group *g,
		      size_t n)
{
	char v[5][32], label[512];
	xt_out_str(o, "<table><tr><th>#</th><th>allocs</th><th>bytes</th><th>peak</th>"
		   "<th>temporary</th><th>leaked</th><th>site</th></tr>\n");
	for (size_t i = 0; i < n && i < 15; i++) {
		const struct xt_counts *c = &g[i].c;
		xt_out_printf(o, "<tr><td>%zu</td><td>%llu</td><td>%s</td><td>%s</td><td>%llu</td>"
			      "<td>%s</td><td class=\"site\">", i + 1, (unsigned long long)c->allocs,
			      xt_fmt_bytes(v[0], 32, c->bytes), xt_fmt_bytes(v[1], 32, c->peak_bytes),
			      (unsigned long long)c->temporary, xt_fmt_bytes(v[2], 32, c->live_bytes));
		put_text(o, cli_group_label(label, sizeof label, &p->sites, &p->sites.names, &g[i],
					    XT_GROUP_STACK));
		xt_out_str(o, "</td></tr>\n");
	}
	xt_out_str(o, "</table>\n");
}

static void put_events(struct xt_out *o, const struct report *rp)
{
	xt_out_str(o, "<table><tr><th>event</th><th>experiment</th><th>count</th></tr>\n");
	int any = 0;
	for (unsigned t = 1; t < 256; t++) {
		const struct xt_event_spec *sp = &xt_specs[t];
		if (!rp->counts[t] || !sp->name)
			continue;
		any = 1;
		xt_out_printf(o, "<tr><td>%s</td><td>%s</td><td>%llu</td></tr>\n", sp->name,
			      xtrace_experiment_name(sp->experiment), (unsigned long long)rp->counts[t]);
	}
	if (!any)
		xt_out_str(o, "<tr><td colspan=\"3\">no timer, sleep, region or log events</td></tr>\n");
	xt_out_str(o, "</table>\n");
	if (!rp->nlogs)
		return;
	xt_out_str(o, "<h3>logs</h3>\n<table><tr><th>time</th><th>thread</th><th>message</th></tr>\n");
	for (size_t i = 0; i < rp->nlogs; i++) {
		char t[32];
		xt_out_printf(o, "<tr><td>%s</td><td>%llu</td><td>",
			      xt_fmt_duration(t, sizeof t, rp->logs[i].ns),
			      (unsigned long long)rp->logs[i].thread);
		put_text(o, rp->logs[i].text);
		xt_out_str(o, "</td></tr>\n");
	}
	xt_out_str(o, "</table>\n");
}

static void put_doc_head(struct xt_out *o, const char *title)
{
	xt_out_str(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		   "<title>xtrace: ");
	put_text(o, title);
	xt_out_str(o, "</title>\n<style>body{font:14px sans-serif;margin:24px;color:#222}"
		   "h1{font-size:20px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccd}"
		   "table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right}"
		   "th{background:#eef}td.site{text-align:left;font-family:monospace}"
		   "tr:nth-child(even){background:#f7f7fa}.chart text{font:11px sans-serif}"
		   "</style></head><body>\n");
}

/* put_process writes one trace's part of the report, under its own heading. */
static int put_process(struct xt_out *o, const struct cli_profile *p, const struct report *rp,
		       const struct xt_group *by_fn, size_t nfn, const struct xt_group *by_stack,
		       size_t nstack)
{
	const struct xtrace_header *h = xtrace_get_header(p->r);
	const struct xt_counts *tot = &p->sites.total;
	char a[32], b[32], c[32], d[32];
	xt_out_printf(o, "<h1 id=\"pid-%llu-%llu\">xtrace report: ", (unsigned long long)h->pid,
		      (unsigned long long)h->start_ts);
	put_text(o, h->exe);
	xt_out_printf(o, " (pid %llu)</h1>\n<p>", (unsigned long long)h->pid);
	put_text(o, p->path);
	xt_out_printf(o, "%s: %s, %llu generations, %llu threads, %llu events</p>\n",
		      p->st == XTRACE_ERR_TRUNCATED ? " (truncated)" : "",
		      xt_fmt_duration(a, sizeof a, p->duration_ns),
		      (unsigned long long)p->sum.generations, (unsigned long long)p->sum.threads,
		      (unsigned long long)p->sum.events);
	xt_out_printf(o, "<p><b>%llu</b> allocations, <b>%s</b> requested; peak <b>%s</b> at %s; "
		      "<b>%llu</b> temporary; <b>%llu</b> objects (<b>%s</b>) live at the end</p>\n",
		      (unsigned long long)tot->allocs, xt_fmt_bytes(a, sizeof a, tot->bytes),
		      xt_fmt_bytes(b, sizeof b, p->sum.selected->peak_live_bytes),
		      xt_fmt_duration(c, sizeof c, p->peak_time_ns), (unsigned long long)tot->temporary,
		      (unsigned long long)tot->live_objects, xt_fmt_bytes(d, sizeof d, tot->live_bytes));
	xt_out_str(o, "<h2>live heap over time</h2>\n");
	put_chart(o, rp, p);
	cli_report_memory(o, p);
	xt_out_str(o, "<h2>top sites by bytes</h2>\n");
	put_sites(o, p, by_fn, nfn);
	xt_out_str(o, "<h2>flame graph (bytes allocated)</h2>\n");
	if (xt_flame_svg(o, &p->sites.names, by_stack, nstack, XT_BY_BYTES, 1200, "all allocations") < 0)
		return -1;
	xt_out_str(o, "<h2>timers, sleeps, regions and logs</h2>\n");
	put_events(o, rp);
	return 0;
}

/* report_image reads the trace path and writes its part of the report: the exit code (a
 * truncated trace is reported and its part written). */
static int report_image(struct xt_out *o, const char *path)
{
	struct report *rp = calloc(1, sizeof *rp);
	if (!rp) {
		cli_warn("out of memory");
		return XT_EXIT_FAIL;
	}
	rp->width_ns = 1000;
	struct cli_profile p;
	int code = cli_profile_load(&p, path, NULL, 1, on_event, rp);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED) {
		cli_described_free(&rp->described);
		free(rp);
		return code;
	}
	struct xt_group *g = NULL, *gs = NULL;
	long n = xt_sites_group(&p.sites, XT_GROUP_STACK, XT_BY_BYTES, &p.sites.names, &gs);
	long nf = n < 0 ? -1 : xt_sites_group(&p.sites, XT_GROUP_FUNCTION, XT_BY_BYTES,
					      &p.sites.names, &g);
	if (nf < 0 || put_process(o, &p, rp, g, (size_t)nf, gs, (size_t)n) < 0) {
		cli_warn("%s: out of memory", path);
		code = XT_EXIT_FAIL;
	} else {
		cli_described_html(o, &rp->described);
		if (code == XT_EXIT_TRUNCATED)
			cli_read_end(p.r, path, p.st);
	}
	free(g);
	free(gs);
	cli_described_free(&rp->described);
	free(rp);
	cli_profile_free(&p);
	return code;
}

/* report_run writes the run's tree, then a part for each selected image, in tree order. */
static int report_run(struct xt_out *o, struct xt_run *run, const char *path)
{
	if (xt_run_scan(run, NULL, NULL) != XTRACE_OK) {
		cli_warn("%s: out of memory", path);
		return XT_EXIT_FAIL;
	}
	xt_out_str(o, "<h1>xtrace run ");
	put_text(o, path);
	xt_out_str(o, "</h1>\n<table><tr><th>pid</th><th>events</th><th>allocations</th>"
		   "<th>requested</th><th>peak</th><th>end</th><th>program</th></tr>\n");
	for (size_t k = 0; k < run->count; k++) {
		const struct xt_image *im = &run->img[run->order[k]];
		if (!im->selected)
			continue;
		char a[32], b[32], c[32], args[160];
		xt_out_printf(o, "<tr><td>%llu</td><td>%llu</td><td>%llu</td><td>%s</td><td>%s</td>"
			      "<td>%s</td><td class=\"site\" style=\"padding-left:%upx\">"
			      "<a href=\"#pid-%llu-%llu\">",
			      (unsigned long long)im->pid, (unsigned long long)im->t.events,
			      (unsigned long long)im->t.allocs, xt_fmt_bytes(a, sizeof a, im->t.alloc_bytes),
			      xt_fmt_bytes(b, sizeof b, im->t.peak_live_bytes),
			      xt_image_status(c, sizeof c, im), 10 + 16 * (im->depth < 16 ? im->depth : 16),
			      (unsigned long long)im->pid, (unsigned long long)im->start_ts);
		put_text(o, cli_argv_str(args, sizeof args, im, 0));
		xt_out_str(o, "</a></td></tr>\n");
	}
	xt_out_str(o, "</table>\n");
	int code = XT_EXIT_OK;
	for (size_t k = 0; k < run->count && code != XT_EXIT_FAIL; k++) {
		const struct xt_image *im = &run->img[run->order[k]];
		if (im->selected)
			code = cli_worse(code, report_image(o, im->path));
	}
	return code;
}

int cmd_report(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	int code = cli_parse_options(cmd, argc, argv, CLI_OUTPUT | CLI_PID | CLI_EXE | CLI_ALLOC_FRAMES | CLI_HEAP,
				     &opt);
	if (code >= 0)
		return code;
	if (!opt.output)
		return cli_usage_error(cmd, "no output file given (-o OUT.html)");
	const char *path = cli_file_arg(cmd, argc, argv);
	if (!path)
		return XT_EXIT_USAGE;
	struct xt_run run;
	int is_run = cli_wants_images(path, &opt);
	if (is_run && (code = cli_run_open(&opt, path, &run)) >= 0)
		return code;
	int fd = open(opt.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct xt_out o;
	if (fd < 0) {
		cli_warn("cannot create %s: %m", opt.output);
		code = XT_EXIT_FAIL;
	} else if (xt_out_open(&o, fd, XT_STDOUT_BUFFER) < 0) {
		cli_warn("%s: out of memory", path);
		code = XT_EXIT_FAIL;
		close(fd);
	} else {
		char title[4200];
		snprintf(title, sizeof title, "%s%s", is_run ? "run " : "", path);
		put_doc_head(&o, title);
		code = is_run ? report_run(&o, &run, path) : report_image(&o, path);
		xt_out_str(&o, "</body></html>\n");
		if (xt_out_close(&o) < 0 || close(fd) < 0) {
			cli_warn("cannot write %s", opt.output);
			code = XT_EXIT_FAIL;
		}
	}
	if (is_run)
		xt_run_free(&run);
	return code;
}
