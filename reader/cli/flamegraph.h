/* flamegraph.h: a flame graph as self-contained SVG (rectangles, labels, a tooltip per frame),
 * from collapsed stacks: the stack groups of a trace, each key "outer;...;inner" with a value.
 * flame writes it to a file, report embeds it in HTML. */
#ifndef XT_FLAMEGRAPH_H
#define XT_FLAMEGRAPH_H

#include "analysis/sites.h"
#include "output.h"

/* xt_flame_svg writes an <svg> element for the n groups (keys in keys; values of metric m, the
 * zero ones left out), width pixels wide, titled title. 0, or -1 without memory. */
int xt_flame_svg(struct xt_out *o, const struct xt_names *keys, const struct xt_group *g, size_t n,
		 enum xt_metric m, int width, const char *title);

/* xt_out_xml writes s (n bytes) with &, <, >, " and ' escaped, for XML text and attributes;
 * control bytes other than tab and newline, which XML cannot hold, become '?'. */
void xt_out_xml(struct xt_out *o, const char *s, size_t n);

#endif
