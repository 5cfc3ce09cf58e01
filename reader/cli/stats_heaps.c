/* stats_heaps.c: what `xtrace stats` shows of the heaps and the address space: a row per heap
 * (the malloc heap and each the program named; of a run, summed by name over its images), and
 * the heap against mapped against resident memory with its time series. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/summary.h"
#include "cli.h"

int cli_heap_rows_init(struct cli_heap_rows *h)
{
	memset(h, 0, sizeof *h);
	if (xt_names_init(&h->names) < 0)
		return -1;
	return cli_heap_rows_add_one(h, XT_MALLOC_HEAP_NAME, NULL);
}

void cli_heap_rows_free(struct cli_heap_rows *h)
{
	xt_names_destroy(&h->names);
	free(h->row);
}

int cli_heap_rows_add_one(struct cli_heap_rows *h, const char *name, const struct xt_heap *hp)
{
	uint32_t id = xt_names_id(&h->names, name, strlen(name));
	if (id == UINT32_MAX)
		return -1;
	if (id >= h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		struct cli_heap_row *p = realloc(h->row, cap * sizeof *p);
		if (!p)
			return -1;
		memset(p + h->cap, 0, (cap - h->cap) * sizeof *p);
		h->row = p;
		h->cap = cap;
	}
	if (!hp)
		return 0;
	struct cli_heap_row *r = &h->row[id];
	r->allocs += hp->allocs;
	r->frees += hp->frees + hp->realloc_frees;
	r->alloc_bytes += hp->alloc_bytes;
	/* of several images, the largest one image reached */
	if (hp->peak_live_bytes > r->peak_live_bytes)
		r->peak_live_bytes = hp->peak_live_bytes;
	r->live_bytes += hp->live_bytes;
	r->live_objects += hp->live.count;
	return 0;
}

int cli_heap_rows_add(struct cli_heap_rows *h, const struct xt_summary *s)
{
	if (cli_heap_rows_add_one(h, XT_MALLOC_HEAP_NAME, &s->heap) < 0)
		return -1;
	char buf[32];
	for (size_t i = 0; i < s->heaps.n; i++)
		if (cli_heap_rows_add_one(h, xt_heap_label(s->heaps.heap[i], buf, sizeof buf),
					  &s->heaps.heap[i]->heap) < 0)
			return -1;
	return 0;
}

void cli_put_heaps_json(struct xt_out *o, const struct cli_heap_rows *h)
{
	xt_out_str(o, ",\n  \"heaps\": {");
	for (uint32_t i = 0; i < h->names.count; i++) {
		const struct cli_heap_row *r = &h->row[i];
		xt_out_str(o, i ? ",\n    " : "\n    ");
		xt_out_json_str(o, xt_names_str(&h->names, i), xt_names_len(&h->names, i));
		xt_out_printf(o, ": {\"allocs\": %llu, \"frees\": %llu, \"alloc_bytes\": %llu, "
			      "\"peak_live_bytes\": %llu, \"live_bytes_at_end\": %llu, "
			      "\"live_objects_at_end\": %llu}",
			      (unsigned long long)r->allocs, (unsigned long long)r->frees,
			      (unsigned long long)r->alloc_bytes, (unsigned long long)r->peak_live_bytes,
			      (unsigned long long)r->live_bytes, (unsigned long long)r->live_objects);
	}
	xt_out_str(o, "\n  }");
}

void cli_put_heaps_text(struct xt_out *o, const struct cli_heap_rows *h)
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
				const struct cli_heap_row *r = &h->row[i];
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

void cli_warn_no_heap(const char *path, const char *name, const struct cli_heap_rows *h)
{
	fprintf(stderr, "xtrace: %s: no heap '%s' (its heaps: ", path, name);
	for (uint32_t k = 0; k < h->names.count; k++)
		fprintf(stderr, "%s%s", k ? ", " : "", xt_names_str(&h->names, k));
	fputs(")\n", stderr);
}

int cli_heap_missing(const char *path, const struct xt_summary *s)
{
	if (!xt_summary_heap_missing(s))
		return 0;
	struct cli_heap_rows h;
	if (cli_heap_rows_init(&h) < 0 || cli_heap_rows_add(&h, s) < 0)
		cli_warn("%s: no heap '%s'", path, s->heap_name);
	else
		cli_warn_no_heap(path, s->heap_name, &h);
	cli_heap_rows_free(&h);
	return 1;
}

/* The memory levels stats shows: of the selected heap, of the samples, of the program's maps. */
static void levels(const struct xt_summary *s, struct xt_level *l)
{
	const struct xt_addrspace *m = &s->mem;
	l[0] = (struct xt_level){s->selected->live_bytes, s->selected->peak_live_bytes,
				 s->selected->peak_ts};
	l[1] = m->mapped;
	l[2] = m->resident;
	l[3] = (struct xt_level){m->maps.live_bytes, m->maps.peak_live_bytes, m->maps.peak_ts};
	l[4] = m->stack_bytes;
}

static const char *const level_keys[] = {"heap_live_bytes", "mapped_bytes", "resident_bytes",
					 "program_maps_bytes", "thread_stack_bytes"};
static const char *const level_labels[] = {"heap (live)", "mapped", "resident", "program maps",
					   "thread stacks"};
#define NLEVELS (sizeof level_keys / sizeof level_keys[0])

void cli_put_memory_json(struct xt_out *o, const xtrace_reader *r, const struct xt_summary *s)
{
	const struct xt_addrspace *m = &s->mem;
	struct xt_level l[NLEVELS];
	levels(s, l);
	xt_out_printf(o, ",\n  \"memory\": {\n    \"samples\": %llu", (unsigned long long)m->samples);
	for (size_t i = 0; i < NLEVELS; i++)
		xt_out_printf(o, ",\n    \"%s\": {\"peak\": %llu, \"peak_time_ns\": %llu, \"at_end\": %llu}",
			      level_keys[i], (unsigned long long)l[i].peak,
			      (unsigned long long)(l[i].peak ? cli_since_start(r, l[i].peak_ts) : 0),
			      (unsigned long long)l[i].now);
	xt_out_printf(o, ",\n    \"thread_stacks_at_end\": %llu,\n    \"program_break_bytes\": %llu",
		      (unsigned long long)m->stacks, (unsigned long long)(m->brk_top - m->brk_low));
	xt_out_printf(o, ",\n    \"calls\": {\"map\": %llu, \"unmap\": %llu, \"remap\": %llu, "
		      "\"brk\": %llu}", (unsigned long long)m->map_calls,
		      (unsigned long long)m->unmap_calls, (unsigned long long)m->move_calls,
		      (unsigned long long)m->brk_calls);
	xt_out_str(o, ",\n    \"series\": [");
	for (size_t i = 0; i < m->npt; i++) {
		const struct xt_mem_point *p = &m->pt[i];
		xt_out_printf(o, "%s\n      {\"time_ns\": %llu, \"heap_live_bytes\": %llu, "
			      "\"mapped_bytes\": %llu, \"resident_bytes\": %llu, "
			      "\"program_maps_bytes\": %llu}", i ? "," : "",
			      (unsigned long long)cli_since_start(r, p->ts),
			      (unsigned long long)p->heap_bytes, (unsigned long long)p->mapped_bytes,
			      (unsigned long long)p->resident_bytes, (unsigned long long)p->maps_bytes);
	}
	xt_out_str(o, m->npt ? "\n    ]\n  }" : "]\n  }");
}

void cli_put_memory_text(struct xt_out *o, const xtrace_reader *r, const struct xt_summary *s)
{
	const struct xt_addrspace *m = &s->mem;
	if (!m->samples && !m->events)
		return;
	struct xt_level l[NLEVELS];
	levels(s, l);
	enum { COLS = 4 };
	size_t width[COLS] = {0};
	for (int round = 0; round < 2; round++) {
		for (long i = -1; i < (long)NLEVELS; i++) {
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
