/* top.c: `xtrace top`: allocation sites ranked by a metric (allocations, bytes, share of the
 * peak, temporary allocations, leaked bytes), grouped by stack, function, line or region; as an
 * aligned table, TSV or JSON (analysis/sites_json.c, which the library shares). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "profile.h"

static void put_json(struct xt_out *o, const struct cli_profile *p, const struct cli_options *t,
		     const struct xt_group *g, size_t n)
{
	const struct xt_top_query q = {.by = t->by, .group = t->group, .region = t->region,
				       .count = t->count};
	xt_top_put_json(o, p->path, p->st, &p->sum, &p->sites, p->peak_time_ns, &q, g, n);
}

enum { NCOLS = 8 };

/* cells fills row i's cells (i < 0: the header) for text (human 1: units) or TSV. */
static void cells(const struct cli_profile *p, const struct cli_options *t,
		  const struct xt_group *g, long i, int human, char buf[NCOLS][512], const char *cell[NCOLS])
{
	static const char *const head[NCOLS] = {"#", "allocs", "bytes", "peak", "temporary",
						"leaked", "objects", "site"};
	for (int c = 0; c < NCOLS; c++)
		cell[c] = i < 0 ? head[c] : buf[c];
	if (i < 0)
		return;
	const struct xt_counts *c = &g[i].c;
	const uint64_t v[NCOLS - 1] = {(uint64_t)i + 1, c->allocs, c->bytes, c->peak_bytes,
				       c->temporary, c->live_bytes, c->live_objects};
	for (int k = 0; k < NCOLS - 1; k++) {
		if (human && (k == 2 || k == 3 || k == 5))
			xt_fmt_bytes(buf[k], 512, v[k]);
		else
			snprintf(buf[k], 512, "%llu", (unsigned long long)v[k]);
	}
	if (human)
		cli_group_label(buf[NCOLS - 1], 512, &p->sites, &p->sites.names, &g[i], t->group);
	else
		snprintf(buf[NCOLS - 1], 512, "%s", xt_names_str(&p->sites.names, g[i].key));
}

static void put_text(struct xt_out *o, const struct cli_profile *p, const struct cli_options *t,
		     const struct xt_group *g, size_t n)
{
	long rows = (long)n < t->count ? (long)n : t->count;
	char buf[NCOLS][512];
	const char *cell[NCOLS];
	if (t->tsv) {
		for (long i = -1; i < rows; i++) {
			cells(p, t, g, i, 0, buf, cell);
			for (int c = 0; c < NCOLS; c++) {
				/* TSV has no quoting: a tab or newline inside a name becomes a space. */
				char *q = (char *)cell[c];
				for (char *x = i < 0 ? NULL : q; x && *x; x++)
					if (*x == '\t' || *x == '\n')
						*x = ' ';
				xt_out_str(o, q);
				xt_out_char(o, c + 1 < NCOLS ? '\t' : '\n');
			}
		}
		return;
	}
	char tot[32], peak[32], at[32], leaked[32];
	cli_put_header(o, p);
	xt_out_printf(o, "%llu allocations, %s requested; peak %s at %s; %llu temporary; "
		      "%llu objects (%s) leaked\n",
		      (unsigned long long)p->sites.total.allocs,
		      xt_fmt_bytes(tot, sizeof tot, p->sites.total.bytes),
		      xt_fmt_bytes(peak, sizeof peak, p->sum.selected->peak_live_bytes),
		      xt_fmt_duration(at, sizeof at, p->peak_time_ns),
		      (unsigned long long)p->sites.total.temporary,
		      (unsigned long long)p->sites.total.live_objects,
		      xt_fmt_bytes(leaked, sizeof leaked, p->sites.total.live_bytes));
	xt_out_printf(o, "top %ld of %zu sites by %s, grouped by %s%s%s\n\n", rows, n,
		      xt_metric_name(t->by), xt_grouping_name(t->group),
		      t->region ? ", in region " : "", t->region ? t->region : "");
	size_t width[NCOLS] = {0};
	for (long i = -1; i < rows; i++) {
		cells(p, t, g, i, 1, buf, cell);
		xt_cols_fit(width, cell, NCOLS);
	}
	for (long i = -1; i < rows; i++) {
		cells(p, t, g, i, 1, buf, cell);
		xt_cols_row(o, width, cell, NCOLS, 1u << (NCOLS - 1));
	}
}

int cmd_top(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options t = {.by = XT_BY_BYTES, .group = XT_GROUP_FUNCTION, .count = 10};
	int code = cli_parse_options(cmd, argc, argv,
				     CLI_BY | CLI_GROUP | CLI_COUNT | CLI_REGION | CLI_JSON | CLI_TSV |
					     CLI_EACH_IMAGE | CLI_ALLOC_FRAMES | CLI_HEAP,
				     &t);
	if (code >= 0)
		return code;
	struct cli_profile p;
	/* Every output shows each site's share of the peak. */
	code = cli_profile_load_arg(&p, cmd, argc, argv, t.region, 1);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED)
		return code;
	const char *path = p.path;
	struct xt_group *g;
	struct xt_out o;
	long n = cli_profile_group(&p, t.group, t.by, &g, &o, STDOUT_FILENO);
	if (n < 0) {
		code = XT_EXIT_FAIL;
	} else {
		if (t.json)
			put_json(&o, &p, &t, g, (size_t)n);
		else
			put_text(&o, &p, &t, g, (size_t)n);
		code = cli_finish(&o, p.r, path, p.st);
	}
	free(g);
	cli_profile_free(&p);
	return code;
}
