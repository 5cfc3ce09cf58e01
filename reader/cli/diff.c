/* diff.c: `xtrace diff`: two traces side by side: totals (allocations, bytes, peak, temporary,
 * leaked) and sites. Sites match across the traces by their symbolized frames, never by
 * addresses, which move between runs. --fail-above PCT exits 4 when the chosen metric's total
 * grew by more than PCT percent, for CI gates. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "profile.h"
#include "tree.h"

struct diff_row {
	uint32_t key;
	uint64_t a, b;
};

/* growth is how much b grew over a, in percent (infinite from nothing to something). */
static double growth(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b == 0 ? 0 : INFINITY;
	return ((double)b - (double)a) * 100.0 / (double)a;
}

static uint64_t total_of(const struct cli_profile *p, enum xt_metric m)
{
	/* The process's peak, unless a region filter made it the region's sites' share. */
	if (m == XT_BY_PEAK && !p->sites.region_filter)
		return p->sum.selected->peak_live_bytes;
	return xt_counts_metric(&p->sites.total, m);
}

static int cmp_rows(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;
	uint64_t da = a->a > a->b ? a->a - a->b : a->b - a->a;
	uint64_t db = b->a > b->b ? b->a - b->b : b->b - b->a;
	if (da != db)
		return da > db ? -1 : 1;
	uint64_t ma = a->a > a->b ? a->a : a->b, mb = b->a > b->b ? b->a : b->b;
	return ma > mb ? -1 : ma < mb;
}

/* merge pairs the groups of both traces by key (IDs of one shared table) into rows. */
static struct diff_row *merge(const struct xt_group *ga, size_t na, const struct xt_group *gb,
			      size_t nb, uint32_t nkeys, enum xt_metric m, size_t *n)
{
	uint32_t *row_of = calloc(nkeys ? nkeys : 1, sizeof *row_of);
	struct diff_row *rows = calloc(na + nb + 1, sizeof *rows);
	if (!row_of || !rows) {
		free(row_of);
		free(rows);
		return NULL;
	}
	size_t k = 0;
	for (int side = 0; side < 2; side++) {
		const struct xt_group *g = side ? gb : ga;
		for (size_t i = 0, ng = side ? nb : na; i < ng; i++) {
			if (!row_of[g[i].key]) {
				rows[k].key = g[i].key;
				row_of[g[i].key] = (uint32_t)++k;
			}
			struct diff_row *r = &rows[row_of[g[i].key] - 1];
			*(side ? &r->b : &r->a) = xt_counts_metric(&g[i].c, m);
		}
	}
	free(row_of);
	qsort(rows, k, sizeof *rows, cmp_rows);
	*n = k;
	return rows;
}

static void put_pct(struct xt_out *o, double pct, int json)
{
	if (isinf(pct))
		xt_out_str(o, json ? "null" : "new");
	else
		xt_out_printf(o, json ? "%.2f" : "%+.1f%%", pct);
}

static const char *metric_cell(char *buf, size_t n, enum xt_metric m, uint64_t v, int human)
{
	if (human && m != XT_BY_ALLOCS && m != XT_BY_TEMPORARY)
		return xt_fmt_bytes(buf, n, v);
	snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

static const char *delta_cell(char *buf, size_t n, enum xt_metric m, uint64_t a, uint64_t b,
			      int human)
{
	/* The sign goes first, the magnitude after it (in units like the other cells). */
	buf[0] = a > b ? '-' : '+';
	metric_cell(buf + (a != b), n - 1, m, a > b ? a - b : b - a, human);
	return buf;
}

static const char *pct_cell(char *buf, size_t n, uint64_t a, uint64_t b)
{
	double pct = growth(a, b);
	if (isinf(pct))
		snprintf(buf, n, "new");
	else if (b == 0 && a)
		snprintf(buf, n, "gone");
	else
		snprintf(buf, n, "%+.1f%%", pct);
	return buf;
}

static void put_json(struct xt_out *o, const struct cli_profile p[2], const struct cli_options *d,
		     const struct xt_names *keys, const struct diff_row *rows, size_t n, int regressed)
{
	xt_out_str(o, "{\n  \"a\": ");
	xt_out_json_str(o, p[0].path, strlen(p[0].path));
	xt_out_str(o, ",\n  \"b\": ");
	xt_out_json_str(o, p[1].path, strlen(p[1].path));
	uint64_t ma = p[0].sum.sampling.mean, mb = p[1].sum.sampling.mean;
	if (ma || mb)
		xt_out_printf(o, ",\n  \"estimated\": true,\n  \"sample_bytes\": {\"a\": %llu, \"b\": %llu}",
			      (unsigned long long)ma, (unsigned long long)mb);
	xt_out_printf(o, ",\n  \"by\": \"%s\",\n  \"group\": \"%s\",\n  \"fail_above\": ",
		      xt_metric_name(d->by), xt_grouping_name(d->group));
	if (d->fail_above >= 0)
		xt_out_printf(o, "%g", d->fail_above);
	else
		xt_out_str(o, "null");
	xt_out_printf(o, ",\n  \"regressed\": %s,\n  \"totals\": {", regressed ? "true" : "false");
	for (int m = 0; m < XT_BY_COUNT; m++) {
		uint64_t a = total_of(&p[0], (enum xt_metric)m), b = total_of(&p[1], (enum xt_metric)m);
		xt_out_printf(o, "%s\n    \"%s\": {\"a\": %llu, \"b\": %llu, \"delta\": %lld, \"percent\": ",
			      m ? "," : "", xt_metric_name((enum xt_metric)m), (unsigned long long)a,
			      (unsigned long long)b, (long long)(b - a));
		put_pct(o, growth(a, b), 1);
		xt_out_char(o, '}');
	}
	xt_out_str(o, "\n  },\n  \"sites\": [");
	for (size_t i = 0; i < n && (long)i < d->count; i++) {
		xt_out_str(o, i ? ",\n    {\"key\": " : "\n    {\"key\": ");
		xt_put_name_json(o, keys, rows[i].key);
		xt_out_printf(o, ", \"a\": %llu, \"b\": %llu, \"delta\": %lld, \"percent\": ",
			      (unsigned long long)rows[i].a, (unsigned long long)rows[i].b,
			      (long long)(rows[i].b - rows[i].a));
		put_pct(o, growth(rows[i].a, rows[i].b), 1);
		xt_out_char(o, '}');
	}
	xt_out_str(o, "\n  ]\n}\n");
}

static void put_text(struct xt_out *o, const struct cli_profile p[2], const struct cli_options *d,
		     const struct xt_names *keys, const struct diff_row *rows, size_t n)
{
	char buf[5][512];
	const char *cell[5];
	int human = !d->tsv;
	size_t width[5] = {0};
	long shown = (long)n < d->count ? (long)n : d->count;
	if (human) {
		xt_out_printf(o, "a  %s\nb  %s\n", p[0].path, p[1].path);
		xt_sampling_put_text(o, "a: ", p[0].sum.sampling.mean);
		xt_sampling_put_text(o, "b: ", p[1].sum.sampling.mean);
		xt_out_char(o, '\n');
		static const char *const head[5] = {"total", "a", "b", "delta", "change"};
		const char *rowsv[XT_BY_COUNT + 1][5];
		char tb[XT_BY_COUNT][4][32];
		for (int m = 0; m <= XT_BY_COUNT; m++) {
			if (m == 0) {
				memcpy(rowsv[0], head, sizeof head);
			} else {
				enum xt_metric mm = (enum xt_metric)(m - 1);
				uint64_t a = total_of(&p[0], mm), b = total_of(&p[1], mm);
				rowsv[m][0] = xt_metric_name(mm);
				rowsv[m][1] = metric_cell(tb[m - 1][0], 32, mm, a, 1);
				rowsv[m][2] = metric_cell(tb[m - 1][1], 32, mm, b, 1);
				rowsv[m][3] = delta_cell(tb[m - 1][2], 32, mm, a, b, 1);
				rowsv[m][4] = pct_cell(tb[m - 1][3], 32, a, b);
			}
			xt_cols_fit(width, rowsv[m], 5);
		}
		for (int m = 0; m <= XT_BY_COUNT; m++)
			xt_cols_row(o, width, rowsv[m], 5, 0);
		xt_out_printf(o, "\nsites by %s, grouped by %s, largest change first:\n\n",
			      xt_metric_name(d->by), xt_grouping_name(d->group));
		memset(width, 0, sizeof width);
	}
	for (int pass = human ? 0 : 1; pass < 2; pass++) {
		for (long i = -1; i < shown; i++) {
			if (i < 0) {
				static const char *const head[5] = {"a", "b", "delta", "change", "site"};
				memcpy(cell, head, sizeof head);
			} else {
				const struct diff_row *r = &rows[i];
				cell[0] = metric_cell(buf[0], 512, d->by, r->a, human);
				cell[1] = metric_cell(buf[1], 512, d->by, r->b, human);
				cell[2] = delta_cell(buf[2], 512, d->by, r->a, r->b, human);
				cell[3] = pct_cell(buf[3], 512, r->a, r->b);
				snprintf(buf[4], 512, "%s", xt_names_str(keys, r->key));
				cell[4] = buf[4];
			}
			if (!human)
				xt_out_printf(o, "%s\t%s\t%s\t%s\t%s\n", cell[0], cell[1], cell[2], cell[3],
					      cell[4]);
			else if (pass == 0)
				xt_cols_fit(width, cell, 5);
			else
				xt_cols_row(o, width, cell, 5, 1u << 4);
		}
	}
}

/* Two runs: each image of A matched with the image of B in the same place of the tree (its
 * program, and the programs and sibling ranks of its parents), compared as two traces. */
struct placed {
	uint64_t key;
	size_t img;
};

static int by_key(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->img < y->img ? -1 : x->img > y->img;
}

static void put_only(struct xt_out *o, const char *which, const struct xt_run *run,
		     const struct xt_image *im, int json, int *first)
{
	char args[120];
	if (json) {
		xt_out_printf(o, "%s\n{\"%s\": ", *first ? "" : ",", which);
		xt_out_json_str(o, im->name, strlen(im->name));
		xt_out_str(o, ", \"exe\": ");
		xt_out_json_str(o, im->exe, strlen(im->exe));
		xt_out_str(o, "}");
	} else {
		xt_out_printf(o, "%s== only in %s: pid %llu %s (%s)\n", *first ? "" : "\n", which,
			      (unsigned long long)im->pid, cli_argv_str(args, sizeof args, im, 0),
			      im->name);
	}
	(void)run;
	*first = 0;
}

static int diff_runs(const struct xt_command *cmd, int argc, char **argv,
		     const struct cli_options *d)
{
	struct xt_run run[2];
	uint64_t *keys[2] = {NULL, NULL};
	struct placed *bs = NULL;
	char *used = NULL;
	int code = cli_run_open(d, argv[optind], &run[0]);
	if (code >= 0)
		return code;
	code = cli_run_open(d, argv[optind + 1], &run[1]);
	if (code >= 0) {
		xt_run_free(&run[0]);
		return code;
	}
	struct xt_out o = {0};
	int ok = xt_out_open(&o, STDOUT_FILENO, 1u << 16) == 0;
	for (int r = 0; ok && r < 2; r++) {
		keys[r] = malloc((run[r].count ? run[r].count : 1) * sizeof *keys[r]);
		ok = keys[r] && xt_run_scan(&run[r], NULL, NULL) == XTRACE_OK &&
		     xt_run_place_keys(&run[r], keys[r]) == 0;
	}
	size_t nb = run[1].count;
	if (ok) {
		bs = malloc((nb ? nb : 1) * sizeof *bs);
		used = calloc(nb ? nb : 1, 1);
		ok = bs && used;
	}
	if (!ok) {
		cli_warn("out of memory");
		code = XT_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < nb; i++)
		bs[i] = (struct placed){keys[1][i], i};
	qsort(bs, nb, sizeof *bs, by_key);
	if (d->json) {
		xt_out_str(&o, "{\n\"a\": ");
		xt_out_json_str(&o, argv[optind], strlen(argv[optind]));
		xt_out_str(&o, ",\n\"b\": ");
		xt_out_json_str(&o, argv[optind + 1], strlen(argv[optind + 1]));
		xt_out_str(&o, ",\n\"processes\": [");
	}
	code = XT_EXIT_OK;
	int first = 1;
	for (size_t k = 0; k < run[0].count; k++) {
		size_t ia = run[0].order[k];
		const struct xt_image *a = &run[0].img[ia];
		if (!a->selected)
			continue;
		/* the first unused image of B with this key */
		size_t lo = 0, hi = nb;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (bs[mid].key < keys[0][ia])
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo < nb && bs[lo].key == keys[0][ia] &&
		       (used[bs[lo].img] || !run[1].img[bs[lo].img].selected))
			lo++;
		if (lo == nb || bs[lo].key != keys[0][ia]) {
			put_only(&o, "a", &run[0], a, d->json, &first);
			continue;
		}
		used[bs[lo].img] = 1;
		const struct xt_image *b = &run[1].img[bs[lo].img];
		char args[120];
		if (d->json) {
			xt_out_str(&o, first ? "\n{\"a\": " : ",\n{\"a\": ");
			xt_out_json_str(&o, a->name, strlen(a->name));
			xt_out_str(&o, ", \"b\": ");
			xt_out_json_str(&o, b->name, strlen(b->name));
			xt_out_str(&o, ", \"exe\": ");
			xt_out_json_str(&o, a->exe, strlen(a->exe));
			xt_out_str(&o, ", \"output\":\n");
		} else {
			xt_out_printf(&o, "%s== pid %llu vs %llu %s (%s vs %s)\n\n", first ? "" : "\n",
				      (unsigned long long)a->pid, (unsigned long long)b->pid,
				      cli_argv_str(args, sizeof args, a, 0), a->name, b->name);
		}
		first = 0;
		xt_out_flush(&o);
		const char *files[2] = {a->path, b->path};
		code = cli_worse(code, cli_run_on(cmd, argc, argv, optind, files, 2));
		if (d->json)
			xt_out_char(&o, '}');
	}
	for (size_t k = 0; k < nb; k++) {
		const struct xt_image *b = &run[1].img[run[1].order[k]];
		if (b->selected && !used[run[1].order[k]])
			put_only(&o, "b", &run[1], b, d->json, &first);
	}
	if (d->json)
		xt_out_str(&o, "\n]\n}\n");
out:
	if (cli_out_close(&o) < 0)
		code = XT_EXIT_FAIL;
	free(bs);
	free(used);
	free(keys[0]);
	free(keys[1]);
	xt_run_free(&run[0]);
	xt_run_free(&run[1]);
	return code;
}

int cmd_diff(int argc, char **argv, const struct xt_command *cmd)
{
	/* fail_above < 0: no gate */
	struct cli_options d = {.by = XT_BY_BYTES, .group = XT_GROUP_FUNCTION, .count = 20,
				.fail_above = -1};
	int code = cli_parse_options(cmd, argc, argv,
				     CLI_BY | CLI_GROUP | CLI_COUNT | CLI_REGION | CLI_FAIL_ABOVE |
					     CLI_JSON | CLI_TSV | CLI_PID | CLI_EXE | CLI_ALLOC_FRAMES | CLI_HEAP,
				     &d);
	if (code >= 0)
		return code;
	if (argc - optind != 2)
		return cli_usage_error(cmd, "want two trace files, got %d", argc - optind);
	if (cli_wants_images(argv[optind], &d) || cli_wants_images(argv[optind + 1], &d))
		return diff_runs(cmd, argc, argv, &d);
	struct cli_profile p[2];
	int peak = d.by == XT_BY_PEAK;
	code = cli_profile_load(&p[0], argv[optind], d.region, peak, NULL, NULL);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED)
		return code;
	int code_b = cli_profile_load(&p[1], argv[optind + 1], d.region, peak, NULL, NULL);
	if (code_b != XT_EXIT_OK && code_b != XT_EXIT_TRUNCATED) {
		cli_profile_free(&p[0]);
		return code_b;
	}
	if (code == XT_EXIT_OK)
		code = code_b;
	struct xt_names keys;
	struct xt_group *g[2] = {NULL, NULL};
	struct diff_row *rows = NULL;
	size_t n = 0;
	long na = -1, nb = -1;
	struct xt_out o;
	if (xt_names_init(&keys) == 0) {
		na = xt_sites_group(&p[0].sites, d.group, d.by, &keys, &g[0]);
		nb = na < 0 ? -1 : xt_sites_group(&p[1].sites, d.group, d.by, &keys, &g[1]);
		if (nb >= 0)
			rows = merge(g[0], (size_t)na, g[1], (size_t)nb, keys.count, d.by, &n);
	}
	if (!rows || xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0) {
		cli_warn("out of memory");
		code = XT_EXIT_FAIL;
	} else {
		double pct = growth(total_of(&p[0], d.by), total_of(&p[1], d.by));
		int regressed = d.fail_above >= 0 && pct > d.fail_above;
		if (d.json)
			put_json(&o, p, &d, &keys, rows, n, regressed);
		else
			put_text(&o, p, &d, &keys, rows, n);
		if (cli_out_close(&o) < 0) {
			code = XT_EXIT_FAIL;
		} else if (regressed) {
			char v[32];
			cli_warn("%s grew by %s, more than %g%%", xt_metric_name(d.by),
				 pct_cell(v, sizeof v, total_of(&p[0], d.by), total_of(&p[1], d.by)),
				 d.fail_above);
			code = XT_EXIT_REGRESSED;
		}
	}
	free(rows);
	free(g[0]);
	free(g[1]);
	xt_names_destroy(&keys);
	cli_profile_free(&p[0]);
	cli_profile_free(&p[1]);
	return code;
}
