/* report_memory.c: the report's memory chart, memray's resident-against-heap plot: the live
 * heap, the process's mapped bytes and its resident bytes over time, one line each, from the
 * address-space analysis's samples (addrspace.h). Nothing is written for a trace without them. */
#include "profile.h"

enum { W = CLI_CHART_W, H = CLI_CHART_H, L = CLI_CHART_L, B = CLI_CHART_B };

/* The three lines: what each shows of a sample, its colour and its name. */
static const struct {
	size_t offset;
	const char *colour, *name;
} lines[] = {
	{offsetof(struct xt_mem_point, heap_bytes), "#c0392b", "heap (live)"},
	{offsetof(struct xt_mem_point, mapped_bytes), "#2c7fb8", "mapped"},
	{offsetof(struct xt_mem_point, resident_bytes), "#2ca25f", "resident"},
};
#define NLINES (sizeof lines / sizeof lines[0])

static uint64_t value(const struct xt_mem_point *pt, size_t line)
{
	return *(const uint64_t *)((const char *)pt + lines[line].offset);
}

void cli_put_chart_frame(struct xt_out *o, uint64_t max, uint64_t span)
{
	char a[32], t[32];
	xt_out_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" "
		      "height=\"%d\" viewBox=\"0 0 %d %d\">\n<rect x=\"%d\" y=\"10\" width=\"%d\" "
		      "height=\"%d\" fill=\"#f6f8fb\" stroke=\"#ccd\"/>\n", W, H, W, H, L, W - L - 10,
		      H - B - 10);
	xt_out_printf(o, "<text x=\"%d\" y=\"20\" text-anchor=\"end\">%s</text><text x=\"%d\" y=\"%d\" "
		      "text-anchor=\"end\">0 B</text>\n", L - 6, xt_fmt_bytes(a, sizeof a, max), L - 6,
		      H - B);
	xt_out_printf(o, "<text x=\"%d\" y=\"%d\">0</text><text x=\"%d\" y=\"%d\" "
		      "text-anchor=\"end\">%s</text>\n", L, H - 10, W - 10, H - 10,
		      xt_fmt_duration(t, sizeof t, span));
}

void cli_report_memory(struct xt_out *o, const struct cli_profile *p)
{
	const struct xt_addrspace *m = &p->sum.mem;
	if (!m->npt)
		return;
	uint64_t max = 1;
	for (size_t i = 0; i < m->npt; i++)
		for (size_t k = 0; k < NLINES; k++)
			if (value(&m->pt[i], k) > max)
				max = value(&m->pt[i], k);
	uint64_t span = p->duration_ns ? p->duration_ns : 1;
	double sx = (double)(W - L - 10) / (double)span, sy = (double)(H - B - 20) / (double)max;
	xt_out_str(o, "<h2>heap, mapped and resident memory over time</h2>\n");
	cli_put_chart_frame(o, max, span);
	for (size_t k = 0; k < NLINES; k++) {
		xt_out_printf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
			      lines[k].colour);
		for (size_t i = 0; i < m->npt; i++)
			xt_out_printf(o, "%s%.1f,%.1f", i ? " " : "",
				      L + (double)cli_since_start(p->r, m->pt[i].ts) * sx,
				      H - B - (double)value(&m->pt[i], k) * sy);
		xt_out_printf(o, "\"><title>%s</title></polyline>\n<text x=\"%d\" y=\"%d\" fill=\"%s\">"
			      "%s</text>\n", lines[k].name, L + 10 + 130 * (int)k, 28, lines[k].colour,
			      lines[k].name);
	}
	xt_out_str(o, "</svg>\n");
}
