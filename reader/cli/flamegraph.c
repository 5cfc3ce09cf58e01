/* flamegraph.c: flame graph SVG (see flamegraph.h). The collapsed stacks become a tree of
 * frames (merged by name under the same parent); each frame is a rectangle as wide as its
 * value's share, roots at the bottom as in flamegraph.pl, with a <title> tooltip. */
#include "flamegraph.h"

#include <stdlib.h>
#include <string.h>

struct node {
	const char *name;
	size_t len;
	uint64_t value;
	uint32_t child, next; /* first child and next sibling, node index + 1; 0: none */
};

struct tree {
	struct node *n;
	size_t count, cap;
};

static long add_node(struct tree *t, const char *name, size_t len)
{
	if (xt_grow(&t->n, &t->cap, t->count + 1, sizeof *t->n) < 0)
		return -1;
	t->n[t->count] = (struct node){.name = name, .len = len};
	return (long)t->count++;
}

/* child_of finds or adds parent's child named name. */
static long child_of(struct tree *t, size_t parent, const char *name, size_t len)
{
	uint32_t c = t->n[parent].child, last = 0;
	for (; c; last = c, c = t->n[c - 1].next)
		if (t->n[c - 1].len == len && memcmp(t->n[c - 1].name, name, len) == 0)
			return c - 1;
	long k = add_node(t, name, len);
	if (k < 0)
		return -1;
	if (last)
		t->n[last - 1].next = (uint32_t)k + 1;
	else
		t->n[parent].child = (uint32_t)k + 1;
	return k;
}

void xt_out_xml(struct xt_out *o, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc;
		switch (c) {
		case '&': esc = "&amp;"; break;
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '"': esc = "&quot;"; break;
		case '\'': esc = "&#39;"; break;
		default:
			esc = c < 0x20 && c != '\t' && c != '\n' ? "?" : NULL;
		}
		if (!esc)
			continue;
		xt_out_mem(o, s + run, i - run);
		xt_out_str(o, esc);
		run = i + 1;
	}
	xt_out_mem(o, s + run, n - run);
}

enum { ROW = 17, PAD_TOP = 36, PAD_SIDE = 10, CHAR_PX = 7 };

struct draw {
	struct xt_out *o;
	const struct tree *t;
	uint64_t total;
	double scale;   /* pixels per unit of value */
	int height;
	enum xt_metric m;
};

static void put_value(struct xt_out *o, enum xt_metric m, uint64_t v)
{
	char buf[32];
	if (m == XT_BY_ALLOCS || m == XT_BY_TEMPORARY)
		xt_out_printf(o, "%llu %s", (unsigned long long)v,
			      m == XT_BY_ALLOCS ? "allocations" : "temporary allocations");
	else
		xt_out_str(o, xt_fmt_bytes(buf, sizeof buf, v));
}

/* draw_node draws node k at x (pixels), depth levels above the bottom, then its children. */
static void draw_node(const struct draw *d, size_t k, double x, int depth)
{
	const struct node *nd = &d->t->n[k];
	double w = (double)nd->value * d->scale;
	if (w < 0.1)
		return;
	int y = d->height - (depth + 1) * ROW;
	/* A warm color from the name, so a function keeps its color across graphs. */
	unsigned h = 2166136261u;
	for (size_t i = 0; i < nd->len; i++)
		h = (h ^ (unsigned char)nd->name[i]) * 16777619u;
	struct xt_out *o = d->o;
	xt_out_str(o, "<g class=\"f\"><title>");
	xt_out_xml(o, nd->name, nd->len);
	xt_out_str(o, " (");
	put_value(o, d->m, nd->value);
	xt_out_printf(o, ", %.2f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		      "fill=\"rgb(%u,%u,%u)\" rx=\"2\"/>",
		      d->total ? 100.0 * (double)nd->value / (double)d->total : 0, x, y, w, ROW - 1,
		      205 + h % 50, 80 + (h >> 8) % 130, 40 + (h >> 16) % 50);
	/* Values summed from a hostile trace can wrap, so w is not bounded by the graph's width:
	 * neither is the count of characters it would fit, until capped. */
	double cols = w / CHAR_PX;
	size_t fit = cols > 2 ? (cols < 4096 ? (size_t)cols - 1 : 4095) : 0;
	if (fit >= 3) {
		xt_out_printf(o, "<text x=\"%.1f\" y=\"%d\">", x + 3, y + ROW - 5);
		if (nd->len <= fit) {
			xt_out_xml(o, nd->name, nd->len);
		} else {
			xt_out_xml(o, nd->name, fit - 2);
			xt_out_str(o, "..");
		}
		xt_out_str(o, "</text>");
	}
	xt_out_str(o, "</g>\n");
	for (uint32_t c = nd->child; c; c = d->t->n[c - 1].next) {
		draw_node(d, c - 1, x, depth + 1);
		x += (double)d->t->n[c - 1].value * d->scale;
	}
}

static int max_depth(const struct tree *t, size_t k)
{
	int best = 0;
	for (uint32_t c = t->n[k].child; c; c = t->n[c - 1].next) {
		int dd = max_depth(t, c - 1);
		if (dd > best)
			best = dd;
	}
	return best + 1;
}

int xt_flame_svg(struct xt_out *o, const struct xt_names *keys, const struct xt_group *g, size_t n,
		 enum xt_metric m, int width, const char *title)
{
	struct tree t = {0};
	if (add_node(&t, "all", 3) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = xt_counts_metric(&g[i].c, m);
		if (!v)
			continue;
		const char *s = xt_names_str(keys, g[i].key);
		size_t len = xt_names_len(keys, g[i].key);
		t.n[0].value += v;
		long cur = 0;
		for (size_t at = 0; at < len;) {
			const char *semi = memchr(s + at, ';', len - at);
			size_t flen = semi ? (size_t)(semi - s) - at : len - at;
			if ((cur = child_of(&t, (size_t)cur, s + at, flen)) < 0) {
				free(t.n);
				return -1;
			}
			t.n[cur].value += v;
			at += flen + 1;
		}
	}
	int depth = t.n[0].value ? max_depth(&t, 0) : 1;
	struct draw d = {.o = o, .t = &t, .total = t.n[0].value, .m = m,
			 .height = PAD_TOP + depth * ROW + 8};
	d.scale = d.total ? (double)(width - 2 * PAD_SIDE) / (double)d.total : 0;
	xt_out_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flame\" width=\"%d\" "
		      "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">\n"
		      "<style>.f text{pointer-events:none;fill:#000}.f:hover rect{stroke:#000;"
		      "stroke-width:0.5}</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fdfdf6\"/>\n"
		      "<text x=\"%d\" y=\"22\" font-size=\"15\">",
		      width, d.height, width, d.height, PAD_SIDE);
	xt_out_xml(o, title, strlen(title));
	xt_out_str(o, "</text>\n");
	if (d.total)
		draw_node(&d, 0, PAD_SIDE, 0);
	xt_out_str(o, "</svg>\n");
	free(t.n);
	return 0;
}
