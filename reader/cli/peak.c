/* peak.c: `xtrace peak`: when the process's live heap was largest, how large, and which sites
 * held it then (each site's live bytes at that moment, from a second read up to the peak). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <getopt.h>

#include "options.h"
#include "profile.h"
#include "tree.h"

static void put_json(struct xt_out *o, const struct cli_profile *p, enum xt_grouping by,
		     const struct xt_group *g, size_t n)
{
	cli_put_json_head(o, p, by);
	xt_out_printf(o, ",\n  \"peak_bytes\": %llu,\n  \"peak_time_ns\": %llu,\n  \"sites\": ",
		      (unsigned long long)p->sum.selected->peak_live_bytes,
		      (unsigned long long)p->peak_time_ns);
	xt_put_groups_json(o, &p->sites, g, n, 0, by);
	xt_out_str(o, "\n}\n");
}

enum { NCOLS = 4 };

static void cells(const struct cli_profile *p, enum xt_grouping by, const struct xt_group *g,
		  long i, int tsv, char buf[NCOLS][512], const char *cell[NCOLS])
{
	static const char *const head[NCOLS] = {"#", "live at peak", "share", "site"};
	for (int c = 0; c < NCOLS; c++)
		cell[c] = i < 0 ? head[c] : buf[c];
	if (i < 0)
		return;
	uint64_t peak = p->sum.selected->peak_live_bytes;
	snprintf(buf[0], 512, "%ld", i + 1);
	if (tsv)
		snprintf(buf[1], 512, "%llu", (unsigned long long)g[i].c.peak_bytes);
	else
		xt_fmt_bytes(buf[1], 512, g[i].c.peak_bytes);
	snprintf(buf[2], 512, "%.1f%%", peak ? 100.0 * (double)g[i].c.peak_bytes / (double)peak : 0);
	if (tsv)
		snprintf(buf[3], 512, "%s", xt_names_str(&p->sites.names, g[i].key));
	else
		cli_group_label(buf[3], 512, &p->sites, &p->sites.names, &g[i], by);
}

static void put_text(struct xt_out *o, const struct cli_profile *p, enum xt_grouping by,
		     const struct xt_group *g, size_t n, int tsv)
{
	char buf[NCOLS][512];
	const char *cell[NCOLS];
	if (tsv) {
		for (long i = -1; i < (long)n; i++) {
			cells(p, by, g, i, 1, buf, cell);
			xt_out_printf(o, "%s\t%s\t%s\t%s\n", cell[0], cell[1], cell[2], cell[3]);
		}
		return;
	}
	char b[32], t[32];
	cli_put_header(o, p);
	xt_out_printf(o, "peak %s at %s; live then, by %s:\n\n",
		      xt_fmt_bytes(b, sizeof b, p->sum.selected->peak_live_bytes),
		      xt_fmt_duration(t, sizeof t, p->peak_time_ns), xt_grouping_name(by));
	size_t width[NCOLS] = {0};
	for (long i = -1; i < (long)n; i++) {
		cells(p, by, g, i, 0, buf, cell);
		xt_cols_fit(width, cell, NCOLS);
	}
	for (long i = -1; i < (long)n; i++) {
		cells(p, by, g, i, 0, buf, cell);
		xt_cols_row(o, width, cell, NCOLS, 1u << 3);
	}
}

/* run_peak writes the tree's peak before the sections of the images: the largest sum of the
 * selected processes' live heaps at one time, and each one's share of it. */
static int run_peak(void *ctx, struct xt_out *o, struct xt_run *run, const struct cli_options *opt)
{
	(void)ctx;
	struct xt_run_peak pk;
	enum xtrace_status st = xt_run_peak_read(run, cli_heap, &pk);
	if (st != XTRACE_OK) {
		free(pk.live);
		cli_warn(st == XTRACE_ERR_IO ? "%s: cannot open every trace at once" : "%s: out of memory",
			 run->dir ? run->dir : run->img[0].path);
		return XT_EXIT_FAIL;
	}
	uint64_t t0 = run->img[0].start_ts, at = pk.bytes && pk.ts > t0 ? pk.ts - t0 : 0;
	char b[32], t[32], args[100];
	if (opt->json)
		xt_out_printf(o, ",\n\"peak_bytes\": %llu,\n\"peak_time_ns\": %llu,\n\"live_at_peak\": [",
			      (unsigned long long)pk.bytes, (unsigned long long)at);
	else if (opt->tsv)
		xt_out_printf(o, "# run peak %llu at %llu ns\n", (unsigned long long)pk.bytes,
			      (unsigned long long)at);
	else
		xt_out_printf(o, "run  %s\npeak %s at %s, the sum of the processes' live heaps; live then:\n\n",
			      run->dir ? run->dir : run->img[0].path, xt_fmt_bytes(b, sizeof b, pk.bytes),
			      xt_fmt_duration(t, sizeof t, at));
	enum { COLS = 4 };
	size_t width[COLS] = {0};
	int first = 1;
	for (int round = 0; round < 2; round++) {
		for (long k = -1; k < (long)run->count; k++) {
			const struct xt_image *im = k < 0 ? NULL : &run->img[run->order[k]];
			uint64_t live = im ? pk.live[run->order[k]] : 0;
			if (im && (!im->selected || !live))
				continue;
			if (opt->json || opt->tsv) {
				if (!im || round == 0)
					continue;
				if (opt->tsv) {
					xt_out_printf(o, "# %llu\t%llu\t%s\n", (unsigned long long)im->pid,
						      (unsigned long long)live, im->name);
					continue;
				}
				xt_out_str(o, first ? "\n  {\"file\": " : ",\n  {\"file\": ");
				xt_out_json_str(o, im->name, strlen(im->name));
				xt_out_printf(o, ", \"pid\": %llu, \"exe\": ", (unsigned long long)im->pid);
				xt_out_json_str(o, im->exe, strlen(im->exe));
				xt_out_printf(o, ", \"bytes\": %llu}", (unsigned long long)live);
				first = 0;
				continue;
			}
			char cb[3][32];
			const char *cell[COLS] = {"pid", "live at peak", "share", "program"};
			if (im) {
				snprintf(cb[0], 32, "%llu", (unsigned long long)im->pid);
				xt_fmt_bytes(cb[1], 32, live);
				snprintf(cb[2], 32, "%.1f%%", 100.0 * (double)live / (double)pk.bytes);
				cell[0] = cb[0], cell[1] = cb[1], cell[2] = cb[2];
				cell[3] = cli_argv_str(args, sizeof args, im, 0);
			}
			if (round == 0)
				xt_cols_fit(width, cell, COLS);
			else
				xt_cols_row(o, width, cell, COLS, 1u << 3);
		}
	}
	xt_out_str(o, opt->json ? "\n]" : opt->tsv ? "" : "\n");
	free(pk.live);
	return -1;
}

int cmd_peak(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {.group = XT_GROUP_FUNCTION, .count = 10};
	int code = cli_parse_options(cmd, argc, argv,
				     CLI_GROUP | CLI_COUNT | CLI_JSON | CLI_TSV | CLI_PID | CLI_EXE |
					     CLI_ALLOC_FRAMES | CLI_HEAP,
				     &opt);
	if (code >= 0)
		return code;
	if (optind < argc && cli_wants_images(argv[optind], &opt))
		return cli_each_image(cmd, argc, argv, &opt, run_peak, NULL);
	struct cli_profile p;
	code = cli_profile_load_arg(&p, cmd, argc, argv, NULL, 1);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED)
		return code;
	const char *path = p.path;
	struct xt_group *g;
	struct xt_out o;
	long n = cli_profile_group(&p, opt.group, XT_BY_PEAK, &g, &o, STDOUT_FILENO);
	if (n < 0) {
		code = XT_EXIT_FAIL;
	} else {
		/* Sites that held nothing at the peak are left out. */
		size_t k = 0;
		while (k < (size_t)n && g[k].c.peak_bytes && (long)k < opt.count)
			k++;
		if (opt.json)
			put_json(&o, &p, opt.group, g, k);
		else
			put_text(&o, &p, opt.group, g, k, opt.tsv);
		code = cli_finish(&o, p.r, path, p.st);
	}
	free(g);
	cli_profile_free(&p);
	return code;
}
