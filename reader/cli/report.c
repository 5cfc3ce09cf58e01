/* report.c: `xtrace report`: one self-contained interactive HTML file that needs no network:
 * the page (reader/cli/report/: HTML, CSS and script, built into the binary by report_assets.c)
 * with the trace's data as JSON in it. Per image: its totals, the live heap over time, its
 * allocation sites (their frames), what each site allocated per thread and per time cell (so the
 * page can narrow the flame graph and the site table to a time range, processes and threads),
 * the heap against mapped against resident memory (AddrSpace's samples, when the trace has
 * them), and its other events (timers, sleeps, regions, logs, and those of experiments known
 * from the trace alone). The heap is --heap's (the malloc heap by default).
 *
 * The page's size is bounded whatever the trace: per image at most MAX_SITES sites (those with
 * the largest share of some metric; the rest are counted as "other sites" in at most MAX_SITES
 * places of their frames), MAX_THREADS threads told apart (the rest are "other threads"),
 * CHART_POINTS / CELL_SPAN time cells, MAX_CELLS cells of (site, thread, time cell) with a
 * nonzero count (time cells merged pairwise until they fit, or until one spans the trace),
 * CHART_POINTS points of the live heap and MAX_LOGS log messages. Reading, it keeps a map of the
 * live objects to their cells, as large as the heap's live set. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flamegraph.h"
#include "options.h"
#include "profile.h"
#include "report_assets.h"
#include "spec.h"
#include "tree.h"

/* The heap chart keeps at most this many points: the largest live heap per time bucket, the
 * buckets doubling in width whenever they would exceed it, so memory stays fixed. */
#define CHART_POINTS 1024
/* A time cell spans this many chart buckets, and doubles with them. */
#define CELL_SPAN 8
#define MAX_THREADS 32
#define MAX_SITES 2000
#define MAX_CELLS 100000
#define MAX_LOGS 50

struct sample {
	uint64_t ns, live;
};

/* What one site allocated on one thread in one time cell, and what of it is still live. */
struct cell {
	uint32_t stream, bucket;
	uint64_t allocs, bytes, temporary, live_objects, live_bytes;
	/* live_bytes when the process's heap last reached a new peak, valid when stamp is the
	 * report's peak epoch; else live_bytes has not changed since */
	uint64_t at_peak, stamp;
};

/* A site on one thread: its cells, in time order. */
struct stream {
	uint32_t site, thread;
	uint32_t last; /* its latest cell */
};

struct report {
	struct sample pt[CHART_POINTS];
	size_t npt;
	uint64_t width_ns;           /* of a chart bucket */
	uint64_t last_live;
	uint64_t counts[256];        /* events by type, heap events excluded */
	struct { uint64_t ns, thread; char text[160]; } logs[MAX_LOGS];
	size_t nlogs;

	const struct xt_sites *sites;
	struct cell *cells;
	size_t ncells, cells_cap;
	struct stream *streams;
	size_t nstreams, streams_cap;
	struct xt_liveset stream_of; /* (site + 1) << 8 | thread slot -> stream (in site) */
	struct xt_liveset objects;   /* live object -> its bytes and its cell (in site) */
	uint64_t tids[MAX_THREADS];  /* slot -> thread; slot MAX_THREADS: the others */
	size_t ntids;
	int other_threads;
	uint64_t last_tid;
	uint32_t last_slot;
	uint32_t bucket;             /* the latest time cell: cells never go back in time */
	uint64_t epoch;              /* new peaks of the heap so far */
	uint64_t peak_event;
	uint64_t temporary, temporary_bytes; /* the sites' totals after the latest event */
};

static void cell_touch(const struct report *rp, struct cell *c)
{
	if (c->stamp != rp->epoch) {
		c->at_peak = c->live_bytes;
		c->stamp = rp->epoch;
	}
}

static uint64_t cell_at_peak(const struct report *rp, const struct cell *c)
{
	return c->stamp == rp->epoch ? c->at_peak : c->live_bytes;
}

/* halve_cells merges each stream's time cells pairwise (2j and 2j + 1 become j), and points the
 * live objects at the merged cells: 0, or -1 without memory. */
static int halve_cells(struct report *rp)
{
	uint32_t *to = malloc((rp->ncells ? rp->ncells : 1) * sizeof *to);
	if (!to)
		return -1;
	for (size_t k = 0; k < rp->nstreams; k++)
		rp->streams[k].last = UINT32_MAX;
	size_t n = 0;
	for (size_t i = 0; i < rp->ncells; i++) {
		struct cell c = rp->cells[i];
		struct stream *st = &rp->streams[c.stream];
		c.bucket /= 2;
		if (st->last != UINT32_MAX && rp->cells[st->last].bucket == c.bucket) {
			struct cell *m = &rp->cells[st->last];
			m->at_peak = cell_at_peak(rp, m) + cell_at_peak(rp, &c);
			m->stamp = rp->epoch;
			m->allocs += c.allocs;
			m->bytes += c.bytes;
			m->temporary += c.temporary;
			m->live_objects += c.live_objects;
			m->live_bytes += c.live_bytes;
			to[i] = st->last;
			continue;
		}
		rp->cells[n] = c;
		st->last = (uint32_t)n;
		to[i] = (uint32_t)n++;
	}
	rp->ncells = n;
	rp->bucket /= 2;
	for (size_t j = 0; j <= rp->objects.mask; j++)
		if (rp->objects.slots[j].addr)
			rp->objects.slots[j].site = to[rp->objects.slots[j].site];
	free(to);
	return 0;
}

/* thread_slot is tid's slot: one per thread for the first MAX_THREADS, then one for the rest. */
static uint32_t thread_slot(struct report *rp, uint64_t tid)
{
	if (tid == rp->last_tid && rp->ntids)
		return rp->last_slot;
	uint32_t k = 0;
	while (k < rp->ntids && rp->tids[k] != tid)
		k++;
	if (k == rp->ntids) {
		if (rp->ntids < MAX_THREADS)
			rp->tids[rp->ntids++] = tid;
		else
			rp->other_threads = 1;
	}
	rp->last_tid = tid;
	rp->last_slot = k;
	return k;
}

/* cell_of returns the index of the current time cell of site on thread slot, or -1 without
 * memory. */
static long cell_of(struct report *rp, uint32_t site, uint32_t slot)
{
	int added;
	struct xt_live *e = xt_liveset_put(&rp->stream_of, ((uint64_t)site + 1) << 8 | slot, &added);
	if (!e)
		return -1;
	if (added) {
		if (xt_grow(&rp->streams, &rp->streams_cap, rp->nstreams + 1, sizeof *rp->streams) < 0)
			return -1;
		e->site = (uint32_t)rp->nstreams;
		rp->streams[rp->nstreams++] = (struct stream){site, slot, UINT32_MAX};
	}
	struct stream *st = &rp->streams[e->site];
	if (st->last != UINT32_MAX && rp->cells[st->last].bucket == rp->bucket)
		return st->last;
	if (xt_grow(&rp->cells, &rp->cells_cap, rp->ncells + 1, sizeof *rp->cells) < 0)
		return -1;
	rp->cells[rp->ncells] = (struct cell){.stream = e->site, .bucket = rp->bucket,
					      .stamp = rp->epoch};
	st->last = (uint32_t)rp->ncells;
	return (long)rp->ncells++;
}

/* on_heap_event credits an allocation or a free of the selected heap to its cell, after the
 * sites took it in. */
static int on_heap_event(struct report *rp, const struct xtrace_event *ev,
			 const struct xt_summary *s)
{
	uint64_t addr = s->op.addr;
	if (s->op.kind == XT_OP_ALLOC && addr) {
		const struct xt_live *rec = xt_liveset_find(&s->selected->live, addr);
		if (rec && rec->site != XT_NO_SITE) {
			uint64_t bytes = rec->bytes;
			long k = cell_of(rp, rec->site, thread_slot(rp, ev->thread));
			int added;
			struct xt_live *o = k < 0 ? NULL : xt_liveset_put(&rp->objects, addr, &added);
			if (!o)
				return -1;
			struct cell *c = &rp->cells[k];
			cell_touch(rp, c);
			c->allocs++;
			c->bytes += bytes;
			c->live_objects++;
			c->live_bytes += bytes;
			/* An allocation of a live address leaves the old object live in its cell, as
			 * the sites count it. */
			o->bytes = bytes;
			o->site = (uint32_t)k;
		}
	} else if (s->op.kind == XT_OP_FREE || s->op.kind == XT_OP_REALLOC_FREE) {
		struct xt_live old;
		if (xt_liveset_remove(&rp->objects, addr, &old)) {
			struct cell *c = &rp->cells[old.site];
			cell_touch(rp, c);
			c->live_objects--;
			c->live_bytes -= old.bytes;
			c->temporary += rp->sites->total.temporary - rp->temporary;
		}
	}
	rp->temporary = rp->sites->total.temporary;
	if (s->selected->peak_event != rp->peak_event) {
		rp->peak_event = s->selected->peak_event;
		rp->epoch++;
	}
	return 0;
}

static int on_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_summary *s)
{
	struct report *rp = ctx;
	if (ev->kind == XTRACE_EVENT_SYNC || ev->generic)
		return 0;
	uint64_t ns = cli_since_start(r, ev->ts);
	if (s->op_heap != s->selected) {
		if (!s->op_heap) /* other heaps' events are no timer, sleep, region or log */
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
		if (halve_cells(rp) < 0)
			return -1;
	}
	size_t b = (size_t)(ns / rp->width_ns);
	while (rp->npt <= b) { /* buckets without heap events keep the level before them */
		rp->pt[rp->npt] = (struct sample){rp->npt * rp->width_ns, rp->last_live};
		rp->npt++;
	}
	if (live >= rp->pt[b].live)
		rp->pt[b] = (struct sample){ns, live};
	rp->last_live = live;
	if (b / CELL_SPAN > rp->bucket)
		rp->bucket = (uint32_t)(b / CELL_SPAN);
	return on_heap_event(rp, ev, s);
}

static void report_free(struct report *rp)
{
	free(rp->cells);
	free(rp->streams);
	xt_liveset_destroy(&rp->stream_of);
	xt_liveset_destroy(&rp->objects);
	free(rp);
}

/* The page's data. */

/* A cell as written: sites renumbered (kept ones, then "other sites"), peak resolved. */
struct out_cell {
	uint32_t site, thread, bucket;
	uint64_t v[6]; /* allocs, bytes, temporary, leaked objects, leaked bytes, live at the peak */
};

static int cmp_out_cell(const void *a, const void *b)
{
	const struct out_cell *x = a, *y = b;
	if (x->site != y->site)
		return x->site < y->site ? -1 : 1;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/* merge_cells merges neighbours of equal (site, thread, bucket) in sorted c: the new count. */
static size_t merge_cells(struct out_cell *c, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && c[m - 1].site == c[i].site && c[m - 1].thread == c[i].thread &&
		    c[m - 1].bucket == c[i].bucket) {
			for (int k = 0; k < 6; k++)
				c[m - 1].v[k] += c[i].v[k];
			continue;
		}
		c[m++] = c[i];
	}
	return m;
}

struct site_rank {
	uint32_t site;
	double share; /* its largest share of a metric's total */
};

static int cmp_rank(const void *a, const void *b)
{
	const struct site_rank *x = a, *y = b;
	if (x->share != y->share)
		return x->share > y->share ? -1 : 1;
	return x->site < y->site ? -1 : x->site > y->site;
}

/* A frame of a site's path in the page: a function's label, or the region it ran in (first). */
#define REGION_FRAME (UINT32_C(1) << 31)

/* An image's data being written: which sites are kept, their names renumbered, and where the
 * others are counted: the kept sites' paths make a tree of frames, and a site left out is
 * counted as "other sites" under the deepest frame of its path in that tree (at most MAX_SITES
 * such places; past them, at the root). */
struct page_image {
	const struct cli_profile *p;
	const struct report *rp;
	uint32_t *out_site; /* site -> its number in the page */
	uint32_t *kept;     /* page number -> site */
	size_t nkept, other;
	uint32_t *name_ix;  /* name ID -> its number in the page + 1 (0: not written) */
	uint32_t *names;    /* page number -> name ID */
	size_t nnames;
	struct xt_liveset child; /* (node << 32 | frame) + 1 -> the node below (in site) */
	struct { uint32_t parent, frame, fold; } *node; /* 0: the root; fold: its page number + 1 */
	size_t nnodes, nodes_cap;
	uint32_t *folds;    /* page number - nkept -> its node */
	uint32_t *fold_sites; /* how many sites each holds */
	size_t nfolds;
	struct out_cell *cells;
	size_t ncells;
	uint64_t cell_ns;
};

static void page_image_free(struct page_image *pi)
{
	free(pi->out_site);
	free(pi->kept);
	free(pi->name_ix);
	free(pi->names);
	xt_liveset_destroy(&pi->child);
	free(pi->node);
	free(pi->folds);
	free(pi->fold_sites);
	free(pi->cells);
}

static uint32_t page_name(struct page_image *pi, uint32_t id)
{
	if (!pi->name_ix[id]) {
		pi->names[pi->nnames] = id;
		pi->name_ix[id] = (uint32_t)++pi->nnames;
	}
	return pi->name_ix[id] - 1;
}

/* node_below finds the node under parent for frame, adding it when add is set: the node, 0 when
 * there is none, or -1 without memory. */
static long node_below(struct page_image *pi, uint32_t parent, uint32_t frame, int add)
{
	uint64_t key = ((uint64_t)parent << 32 | frame) + 1;
	if (!add) {
		const struct xt_live *e = xt_liveset_find(&pi->child, key);
		return e ? e->site : 0;
	}
	int added;
	struct xt_live *e = xt_liveset_put(&pi->child, key, &added);
	if (!e || xt_grow(&pi->node, &pi->nodes_cap, pi->nnodes + 1, sizeof *pi->node) < 0)
		return -1;
	if (added) {
		e->site = (uint32_t)pi->nnodes;
		pi->node[pi->nnodes].parent = parent;
		pi->node[pi->nnodes].frame = frame;
		pi->node[pi->nnodes++].fold = 0;
	}
	return e->site;
}

/* site_node walks site's path down the tree, adding what is missing when add is set: the
 * deepest node reached, or -1 without memory. */
static long site_node(struct page_image *pi, uint32_t site, int add)
{
	const struct xt_sites *s = &pi->p->sites;
	long node = 0, next;
	uint32_t region = s->site[site].region;
	if (region && (node = node_below(pi, 0, (region - 1) | REGION_FRAME, add)) <= 0)
		return node;
	for (size_t i = xt_site_depth(s, site); i-- > 0; node = next)
		if ((next = node_below(pi, (uint32_t)node, xt_site_frame(s, site, i)->label, add)) <= 0)
			return next < 0 ? -1 : node;
	return node;
}

/* fold_site counts a site left out under its deepest frame among the kept sites': 0, or -1
 * without memory. */
static int fold_site(struct page_image *pi, uint32_t site)
{
	long node = site_node(pi, site, 0);
	if (node < 0)
		return -1;
	if (!pi->node[node].fold && pi->nfolds >= MAX_SITES)
		node = 0;
	if (!pi->node[node].fold) {
		pi->folds[pi->nfolds] = (uint32_t)node;
		pi->fold_sites[pi->nfolds] = 0;
		pi->node[node].fold = (uint32_t)++pi->nfolds;
	}
	pi->fold_sites[pi->node[node].fold - 1]++;
	pi->out_site[site] = (uint32_t)(pi->nkept + pi->node[node].fold - 1);
	return 0;
}

/* page_image_build chooses the sites, numbers their names and gathers the cells: 0, or -1
 * without memory. */
static int page_image_build(struct page_image *pi, const struct cli_profile *p,
			    const struct report *rp)
{
	const struct xt_sites *s = &p->sites;
	memset(pi, 0, sizeof *pi);
	pi->p = p;
	pi->rp = rp;
	struct site_rank *rank = malloc((s->count + 1) * sizeof *rank);
	pi->out_site = malloc((s->count + 1) * sizeof *pi->out_site);
	pi->kept = malloc((s->count + 1) * sizeof *pi->kept);
	pi->name_ix = calloc(s->names.count + 1, sizeof *pi->name_ix);
	pi->names = malloc((s->names.count + 1) * sizeof *pi->names);
	pi->folds = malloc((MAX_SITES + 1) * sizeof *pi->folds);
	pi->fold_sites = malloc((MAX_SITES + 1) * sizeof *pi->fold_sites);
	pi->cells = malloc((rp->ncells + 1) * sizeof *pi->cells);
	if (!rank || !pi->out_site || !pi->kept || !pi->name_ix || !pi->names || !pi->folds ||
	    !pi->fold_sites || !pi->cells || xt_liveset_init(&pi->child, 1024) < 0 ||
	    xt_grow(&pi->node, &pi->nodes_cap, 1, sizeof *pi->node) < 0) {
		free(rank);
		return -1;
	}
	pi->node[pi->nnodes++] = (typeof(*pi->node)){0, 0, 0};
	for (uint32_t i = 0; i < s->count; i++) {
		double best = 0;
		for (int m = 0; m < XT_BY_COUNT; m++) {
			uint64_t t = xt_counts_metric(&s->total, (enum xt_metric)m);
			double v = t ? (double)xt_counts_metric(&s->site[i].c, (enum xt_metric)m) / (double)t : 0;
			if (v > best)
				best = v;
		}
		rank[i] = (struct site_rank){i, best};
	}
	qsort(rank, s->count, sizeof *rank, cmp_rank);
	pi->nkept = s->count < MAX_SITES ? s->count : MAX_SITES;
	pi->other = s->count - pi->nkept;
	for (size_t k = 0; k < pi->nkept; k++) {
		uint32_t site = rank[k].site;
		pi->kept[k] = site;
		pi->out_site[site] = (uint32_t)k;
		if (site_node(pi, site, 1) < 0) {
			free(rank);
			return -1;
		}
		if (s->site[site].region)
			page_name(pi, s->site[site].region - 1);
		const struct xt_frame_info *f;
		for (size_t i = 0; (f = xt_site_frame(s, site, i)); i++) {
			page_name(pi, f->label);
			if (i == 0)
				page_name(pi, f->line_label);
		}
	}
	for (size_t k = pi->nkept; k < s->count; k++)
		if (fold_site(pi, rank[k].site) < 0) {
			free(rank);
			return -1;
		}
	free(rank);
	for (size_t i = 0; i < rp->ncells; i++) {
		const struct cell *c = &rp->cells[i];
		const struct stream *st = &rp->streams[c->stream];
		pi->cells[i] = (struct out_cell){pi->out_site[st->site], st->thread, c->bucket,
			{c->allocs, c->bytes, c->temporary, c->live_objects, c->live_bytes,
			 cell_at_peak(rp, c)}};
	}
	pi->ncells = rp->ncells;
	qsort(pi->cells, pi->ncells, sizeof *pi->cells, cmp_out_cell);
	pi->ncells = merge_cells(pi->cells, pi->ncells);
	pi->cell_ns = rp->width_ns * CELL_SPAN;
	/* Coarser time cells until they fit, or until one spans the trace. */
	for (uint32_t last = rp->bucket; pi->ncells > MAX_CELLS && last; last /= 2) {
		for (size_t i = 0; i < pi->ncells; i++)
			pi->cells[i].bucket /= 2;
		pi->ncells = merge_cells(pi->cells, pi->ncells);
		pi->cell_ns *= 2;
	}
	return 0;
}

/* put_path writes the functions' frames of node's path, from the root, as page name numbers. */
static void put_path(struct xt_out *o, const struct page_image *pi, uint32_t node)
{
	if (!node)
		return;
	put_path(o, pi, pi->node[node].parent);
	if (!(pi->node[node].frame & REGION_FRAME))
		xt_out_printf(o, ",%u", pi->name_ix[pi->node[node].frame] - 1);
}

/* put_fold writes fold k: how many sites it holds, its region's name (-1: none), its frames. */
static void put_fold(struct xt_out *o, const struct page_image *pi, size_t k)
{
	uint32_t top = pi->folds[k];
	while (top && pi->node[top].parent)
		top = pi->node[top].parent;
	uint32_t frame = pi->node[top].frame;
	xt_out_printf(o, "[%u,%ld", pi->fold_sites[k],
		      top && frame & REGION_FRAME ? (long)pi->name_ix[frame & ~REGION_FRAME] - 1 : -1L);
	put_path(o, pi, pi->folds[k]);
	xt_out_char(o, ']');
}

static void put_str(struct xt_out *o, const char *s)
{
	xt_out_json_str_html(o, s, strlen(s));
}

static void put_sites(struct xt_out *o, struct page_image *pi)
{
	const struct xt_sites *s = &pi->p->sites;
	xt_out_str(o, ",\n\"names\": [");
	for (size_t k = 0; k < pi->nnames; k++) {
		if (k)
			xt_out_char(o, ',');
		xt_out_json_str_html(o, xt_names_str(&s->names, pi->names[k]),
				     xt_names_len(&s->names, pi->names[k]));
	}
	/* A site: its region's name (-1: none), its innermost line, then its frames from the
	 * outermost. */
	xt_out_str(o, "],\n\"sites\": [");
	for (size_t k = 0; k < pi->nkept; k++) {
		uint32_t site = pi->kept[k], region = s->site[site].region;
		size_t depth = xt_site_depth(s, site);
		xt_out_printf(o, "%s[%ld,%u", k ? ",\n" : "", region ? (long)pi->name_ix[region - 1] - 1 : -1L,
			      pi->name_ix[xt_site_frame(s, site, 0)->line_label] - 1);
		for (size_t i = depth; i-- > 0;)
			xt_out_printf(o, ",%u", pi->name_ix[xt_site_frame(s, site, i)->label] - 1);
		xt_out_char(o, ']');
	}
	/* Where the sites left out are counted: how many, then their path as above. */
	xt_out_printf(o, "],\n\"other_sites\": %zu,\n\"folds\": [", pi->other);
	for (size_t k = 0; k < pi->nfolds; k++) {
		xt_out_str(o, k ? ",\n" : "");
		put_fold(o, pi, k);
	}
	xt_out_printf(o, "],\n\"cell_ns\": %llu,\n\"cells\": [", (unsigned long long)pi->cell_ns);
	/* Flat: site, thread, time cell, allocs, bytes, temporary, leaked objects and bytes, peak. */
	for (size_t i = 0; i < pi->ncells; i++) {
		const struct out_cell *c = &pi->cells[i];
		xt_out_printf(o, "%s%u,%u,%u", i ? (i % 8 ? "," : ",\n") : "", c->site, c->thread,
			      c->bucket);
		for (int k = 0; k < 6; k++) {
			xt_out_char(o, ',');
			xt_out_u64(o, c->v[k]);
		}
	}
	xt_out_str(o, "]");
}

static void put_chart(struct xt_out *o, const struct report *rp, const struct cli_profile *p)
{
	xt_out_str(o, ",\n\"chart\": [");
	for (size_t i = 0; i < rp->npt; i++)
		xt_out_printf(o, "%s%llu,%llu", i ? (i % 8 ? "," : ",\n") : "",
			      (unsigned long long)rp->pt[i].ns, (unsigned long long)rp->pt[i].live);
	xt_out_printf(o, "%s%llu,%llu]", rp->npt ? "," : "", (unsigned long long)p->duration_ns,
		      (unsigned long long)p->sum.selected->live_bytes);
}

/* put_memory writes the AddrSpace samples, flat: time, live heap, mapped and resident bytes
 * (nothing for a trace without them). */
static void put_memory(struct xt_out *o, const struct cli_profile *p)
{
	const struct xt_addrspace *m = &p->sum.mem;
	xt_out_str(o, ",\n\"memory\": [");
	for (size_t i = 0; i < m->npt; i++)
		xt_out_printf(o, "%s%llu,%llu,%llu,%llu", i ? (i % 4 ? "," : ",\n") : "",
			      (unsigned long long)cli_since_start(p->r, m->pt[i].ts),
			      (unsigned long long)m->pt[i].heap_bytes,
			      (unsigned long long)m->pt[i].mapped_bytes,
			      (unsigned long long)m->pt[i].resident_bytes);
	xt_out_str(o, "]");
}

/* put_events writes the counts of events by type, of built-in experiments then of those known
 * from the trace alone (d), and the log messages. */
static void put_events(struct xt_out *o, const struct report *rp, const struct xt_described *d)
{
	xt_out_str(o, ",\n\"event_types\": [");
	int any = 0;
	for (unsigned t = 1; t < 256; t++) {
		const struct xt_event_spec *sp = &xt_specs[t];
		if (!rp->counts[t] || !sp->name)
			continue;
		xt_out_printf(o, "%s[\"%s\",\"%s\",%llu]", any++ ? "," : "", sp->name,
			      xtrace_experiment_name(sp->experiment), (unsigned long long)rp->counts[t]);
	}
	for (size_t i = 0; i < d->n; i++) {
		xt_out_str(o, any++ ? ",[" : "[");
		put_str(o, d->c[i].event);
		xt_out_char(o, ',');
		put_str(o, d->c[i].experiment);
		xt_out_printf(o, ",%llu]", (unsigned long long)d->c[i].count);
	}
	xt_out_str(o, "],\n\"logs\": [");
	for (size_t i = 0; i < rp->nlogs; i++) {
		xt_out_printf(o, "%s[%llu,%llu,", i ? "," : "", (unsigned long long)rp->logs[i].ns,
			      (unsigned long long)rp->logs[i].thread);
		put_str(o, rp->logs[i].text);
		xt_out_char(o, ']');
	}
	xt_out_str(o, "]");
}

/* put_image writes one image's data as a JSON object; im (NULL for a lone trace) places it in
 * its run. 0, or -1 without memory. */
static int put_image(struct xt_out *o, const struct cli_profile *p, const struct report *rp,
		     const struct xt_run *run, const struct xt_image *im)
{
	struct page_image pi;
	if (page_image_build(&pi, p, rp) < 0) {
		page_image_free(&pi);
		return -1;
	}
	const struct xtrace_header *h = xtrace_get_header(p->r);
	xt_out_printf(o, "{\"pid\": %llu, \"exe\": ", (unsigned long long)h->pid);
	put_str(o, h->exe);
	xt_out_str(o, ", \"file\": ");
	put_str(o, p->path);
	if (im) {
		char args[512], status[32];
		uint64_t t0 = run->img[0].start_ts;
		xt_out_str(o, ", \"program\": ");
		put_str(o, xt_image_program(im));
		xt_out_str(o, ", \"args\": ");
		put_str(o, cli_argv_str(args, sizeof args, im, 0));
		xt_out_str(o, ", \"end\": ");
		put_str(o, xt_image_status(status, sizeof status, im));
		xt_out_printf(o, ", \"depth\": %u, \"start_ns\": %llu", im->depth,
			      (unsigned long long)(im->start_ts > t0 ? im->start_ts - t0 : 0));
	}
	const struct xt_heap *hp = p->sum.selected;
	xt_out_printf(o, ",\n\"truncated\": %s, \"duration_ns\": %llu, \"generations\": %llu, "
		      "\"threads\": %llu, \"events\": %llu, \"frees\": %llu, \"failed_allocs\": %llu, "
		      "\"peak_live_bytes\": %llu, \"peak_time_ns\": %llu, \"live_bytes_at_end\": %llu",
		      p->st == XTRACE_ERR_TRUNCATED ? "true" : "false",
		      (unsigned long long)p->duration_ns, (unsigned long long)p->sum.generations,
		      (unsigned long long)p->sum.threads, (unsigned long long)p->sum.events,
		      (unsigned long long)(hp->frees + hp->realloc_frees),
		      (unsigned long long)hp->failed_allocs, (unsigned long long)hp->peak_live_bytes,
		      (unsigned long long)p->peak_time_ns, (unsigned long long)hp->live_bytes);
	xt_out_str(o, ",\n\"thread_ids\": [");
	for (size_t k = 0; k < rp->ntids; k++)
		xt_out_printf(o, "%s%llu", k ? "," : "", (unsigned long long)rp->tids[k]);
	xt_out_printf(o, "], \"other_threads\": %s", rp->other_threads ? "true" : "false");
	put_chart(o, rp, p);
	put_memory(o, p);
	put_sites(o, &pi);
	put_events(o, rp, &p->sum.described);
	xt_out_str(o, "}");
	page_image_free(&pi);
	return 0;
}

/* report_image reads the trace path and writes its data (after sep): the exit code (a truncated
 * trace is reported and its data written). */
static int report_image(struct xt_out *o, const char *path, const struct xt_run *run,
			const struct xt_image *im, const char *sep)
{
	struct report *rp = calloc(1, sizeof *rp);
	if (!rp || xt_liveset_init(&rp->stream_of, 1024) < 0 ||
	    xt_liveset_init(&rp->objects, 1024) < 0) {
		if (rp)
			report_free(rp);
		cli_warn("out of memory");
		return XT_EXIT_FAIL;
	}
	rp->width_ns = 1000;
	struct cli_profile p;
	rp->sites = &p.sites;
	int code = cli_profile_load(&p, path, NULL, 1, on_event, rp);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED) {
		report_free(rp);
		return code;
	}
	xt_out_str(o, sep);
	if (put_image(o, &p, rp, run, im) < 0) {
		cli_warn("%s: out of memory", path);
		code = XT_EXIT_FAIL;
	} else if (code == XT_EXIT_TRUNCATED) {
		cli_read_end(p.r, path, p.st);
	}
	report_free(rp);
	cli_profile_free(&p);
	return code;
}

/* put_data writes the page's data: {"title", "heap", "run", "images": [...]}, the images of a run in
 * tree order. The exit code. */
static int put_data(struct xt_out *o, const char *path, struct xt_run *run, int is_run)
{
	xt_out_str(o, "{\"title\": ");
	put_str(o, path);
	xt_out_str(o, ", \"heap\": ");
	put_str(o, cli_heap ? cli_heap : "malloc");
	xt_out_printf(o, ", \"run\": %s, \"images\": [\n", is_run ? "true" : "false");
	int code = XT_EXIT_OK;
	if (!is_run) {
		code = report_image(o, path, NULL, NULL, "");
	} else if (xt_run_scan(run, NULL, NULL) != XTRACE_OK) {
		cli_warn("%s: out of memory", path);
		code = XT_EXIT_FAIL;
	} else {
		const char *sep = "";
		for (size_t k = 0; k < run->count && code != XT_EXIT_FAIL; k++) {
			const struct xt_image *im = &run->img[run->order[k]];
			if (!im->selected)
				continue;
			int c = report_image(o, im->path, run, im, sep);
			if (c == XT_EXIT_OK || c == XT_EXIT_TRUNCATED) /* its data was written */
				sep = ",\n";
			code = cli_worse(code, c);
		}
	}
	xt_out_str(o, "]}");
	return code;
}

/* put_page writes the page template, its @@NAME@@ marks replaced: TITLE, STYLE, SCRIPT, DATA. */
static int put_page(struct xt_out *o, const char *path, struct xt_run *run, int is_run)
{
	int code = XT_EXIT_OK;
	const char *t = xt_report_html;
	for (const char *m; (m = strstr(t, "@@"));) {
		const char *end = strstr(m + 2, "@@");
		if (!end)
			break;
		xt_out_mem(o, t, (size_t)(m - t));
		size_t n = (size_t)(end - m - 2);
		if (n == 5 && !memcmp(m + 2, "TITLE", 5)) {
			xt_out_xml(o, path, strlen(path));
		} else if (n == 5 && !memcmp(m + 2, "STYLE", 5)) {
			xt_out_str(o, xt_report_css);
		} else if (n == 6 && !memcmp(m + 2, "SCRIPT", 6)) {
			xt_out_str(o, xt_report_js);
		} else if (n == 4 && !memcmp(m + 2, "DATA", 4)) {
			code = put_data(o, path, run, is_run);
		} else {
			xt_out_mem(o, m, (size_t)(end + 2 - m));
		}
		t = end + 2;
	}
	xt_out_str(o, t);
	return code;
}

int cmd_report(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	int code = cli_parse_options(cmd, argc, argv, CLI_OUTPUT | CLI_PID | CLI_EXE | CLI_ALLOC_FRAMES |
				     CLI_HEAP, &opt);
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
		code = put_page(&o, path, &run, is_run);
		if (xt_out_close(&o) < 0 || close(fd) < 0) {
			cli_warn("cannot write %s", opt.output);
			code = XT_EXIT_FAIL;
		}
	}
	if (is_run)
		xt_run_free(&run);
	return code;
}
