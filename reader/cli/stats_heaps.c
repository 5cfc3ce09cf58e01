/* stats_heaps.c: what `xtrace stats` shows of the heaps and the address space as text: a row per
 * heap (the malloc heap and each the program named; of a run, summed by name over its images),
 * and the heap against mapped against resident memory. The rows and the JSON are the library's
 * (analysis/stats_json.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats_json.h"
#include "cli.h"
#include "tree.h"

void cli_put_heaps_text(struct xt_out *o, const struct xt_heap_rows *h)
{
	if (h->names.count < 2) /* the malloc heap alone: the totals said it all */
		return;
	enum { COLS = 6 };
	size_t width[COLS] = {0};
	for (int round = 0; round < 2; round++) {
		for (long i = -1; i < (long)h->names.count; i++) {
			const char *cell[COLS] = {"heap", "allocations", "frees", "requested", "peak live",
						  "live at end"};
			char c[COLS - 1][48];
			if (i >= 0) {
				const struct xt_heap_row *r = &h->row[i];
				cell[0] = xt_names_str(&h->names, (uint32_t)i);
				snprintf(c[0], sizeof c[0], "%llu", (unsigned long long)r->allocs);
				snprintf(c[1], sizeof c[1], "%llu", (unsigned long long)r->frees);
				xt_fmt_bytes(c[2], sizeof c[2], r->alloc_bytes);
				xt_fmt_bytes(c[3], sizeof c[3], r->peak_live_bytes);
				char b[32];
				snprintf(c[4], sizeof c[4], "%llu (%s)", (unsigned long long)r->live_objects,
					 xt_fmt_bytes(b, sizeof b, r->live_bytes));
				for (int k = 1; k < COLS; k++)
					cell[k] = c[k - 1];
			}
			if (round == 0)
				xt_cols_fit(width, cell, COLS);
			else
				xt_cols_row(o, width, cell, COLS, 1u);
		}
	}
}

void cli_warn_no_heap(const char *path, const char *name, const struct xt_heap_rows *h)
{
	char msg[1024];
	xt_no_heap_message(path, name, h, msg, sizeof msg);
	cli_warn("%s", msg);
}

int cli_heap_missing(const char *path, const struct xt_summary *s)
{
	if (!xt_summary_heap_missing(s))
		return 0;
	char msg[1024];
	xt_missing_heap_message(path, s, msg, sizeof msg);
	if (!cli_image_lacks_heap(msg))
		cli_warn("%s", msg);
	return 1;
}

static const char *const level_labels[XT_MEMORY_LEVELS] = {"heap (live)", "mapped", "resident",
	"program maps", "thread stacks"};

void cli_put_memory_text(struct xt_out *o, const xtrace_reader *r, const struct xt_summary *s)
{
	const struct xt_addrspace *m = &s->mem;
	if (!m->samples && !m->events)
		return;
	struct xt_level l[XT_MEMORY_LEVELS];
	xt_memory_levels(s, l);
	enum { COLS = 4 };
	size_t width[COLS] = {0};
	for (int round = 0; round < 2; round++) {
		for (long i = -1; i < (long)XT_MEMORY_LEVELS; i++) {
			const char *cell[COLS] = {"memory", "peak", "at", "at end"};
			char c[COLS - 1][32];
			if (i >= 0) {
				cell[0] = level_labels[i];
				cell[1] = xt_fmt_bytes(c[0], sizeof c[0], l[i].peak);
				cell[2] = l[i].peak ? xt_fmt_duration(c[1], sizeof c[1],
								      cli_since_start(r, l[i].peak_ts)) : "";
				cell[3] = xt_fmt_bytes(c[2], sizeof c[2], l[i].now);
			}
			if (round == 0)
				xt_cols_fit(width, cell, COLS);
			else
				xt_cols_row(o, width, cell, COLS, 1u);
		}
	}
	char b[32];
	xt_out_printf(o, "%llu thread stacks live at the end; the program break moved %s; %llu "
		      "samples\n", (unsigned long long)m->stacks,
		      xt_fmt_bytes(b, sizeof b, m->brk_top - m->brk_low), (unsigned long long)m->samples);
}
