/* export_speedscope.c: `xtrace export --format speedscope`: the allocations in speedscope's file
 * format (https://www.speedscope.app/file-format-schema.json): one "sampled" profile per thread
 * (of a run: per thread of each image), whose samples are the thread's allocation sites (stacks
 * of indices into shared.frames, root first) in the order the thread first allocated from them,
 * weighted by the bytes it requested there (unit "bytes"). The sites are `xtrace top`'s (the
 * same allocator frames left out), so the weights add up to the requested bytes `xtrace stats`
 * counts. A frame is a function (its readable name and source file), as `xtrace flame` shows
 * them; a site inside a region has the frame "[region NAME]" at its root, as in flame. The
 * profile opened first (activeProfileIndex) is the one that allocated the most. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "spec.h"

/* What one thread allocated from one site of the image being read. */
struct cell {
	uint32_t thread, site;
	uint64_t bytes;
};

struct speedscope {
	struct export_images images;
	struct xt_out *o;
	int is_run, failed;
	struct xt_names frames;      /* "name\0file" -> index in shared.frames */
	uint32_t *frame_of;          /* this image's frame index -> shared frame + 1 (0: none yet) */
	/* this image's threads in the order they first allocated, and their cells */
	struct xt_liveset thread_of_tid; /* tid -> thread index */
	uint64_t *tids;
	size_t nthreads, threads_cap;
	struct xt_liveset cell_of;   /* (thread + 1) << 32 | site -> cell index */
	struct cell *cells;
	size_t ncells, cells_cap;
	uint32_t *stack;             /* a sample's frames, root first */
	size_t stack_cap;
	size_t nprofiles, active;
	uint64_t active_bytes;
};

/* grow makes room for need elements of elem bytes in *arr: 0, or -1 without memory. */
static int grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : 64;
	while (c < need)
		c *= 2;
	void *p = realloc(*(void **)arr, c * elem);
	if (!p)
		return -1;
	*(void **)arr = p;
	*cap = c;
	return 0;
}

/* on_event credits each counted allocation to its thread and site. */
static int on_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_summary *s)
{
	struct speedscope *sp = ctx;
	if (ev->experiment != XT_EXP_ALLOCFREE || ev->type != XT_EV_ObjectAlloc || !ev->args[0])
		return 0;
	/* The pass has just recorded the object: its record holds the site and the bytes. */
	const struct xt_live *l = xt_liveset_find(&s->heap.live, ev->args[0]);
	if (!l || l->site == XT_NO_SITE)
		return 0;
	int added;
	struct xt_live *t = xt_liveset_put(&sp->thread_of_tid, ev->thread ? ev->thread : 1, &added);
	if (!t)
		return -1;
	if (added) {
		if (grow(&sp->tids, &sp->threads_cap, sp->nthreads + 1, sizeof *sp->tids) < 0)
			return -1;
		t->bytes = sp->nthreads;
		sp->tids[sp->nthreads++] = ev->thread;
	}
	uint32_t thread = (uint32_t)t->bytes;
	struct xt_live *c = xt_liveset_put(&sp->cell_of, ((uint64_t)thread + 1) << 32 | l->site, &added);
	if (!c)
		return -1;
	if (added) {
		if (grow(&sp->cells, &sp->cells_cap, sp->ncells + 1, sizeof *sp->cells) < 0)
			return -1;
		c->bytes = sp->ncells;
		sp->cells[sp->ncells++] = (struct cell){.thread = thread, .site = l->site};
	}
	/* as the sites count them: an allocation of an unknown API is counted without bytes */
	if (l->api < XT_API_COUNT)
		sp->cells[c->bytes].bytes += l->bytes;
	return 0;
}

/* frame_index is the index in shared.frames of a frame named name (len bytes) in file (or
 * NULL): -1 without memory. */
static long frame_index(struct speedscope *sp, const char *name, size_t len, const char *file)
{
	char key[8192];
	len = len < 4096 ? len : 4096; /* a frame's label is shorter (sites.c) */
	size_t flen = file ? strlen(file) : 0;
	flen = flen < sizeof key - len - 1 ? flen : sizeof key - len - 1;
	memcpy(key, name, len);
	key[len] = 0;
	memcpy(key + len + 1, file ? file : "", flen);
	uint32_t id = xt_names_id(&sp->frames, key, len + (file ? 1 + flen : 0));
	return id == XT_NO_NAME ? -1 : (long)id;
}

/* site_stack fills sp->stack with site's frames, root first: their number, or -1 without
 * memory. */
static long site_stack(struct speedscope *sp, const struct xt_sites *s, uint32_t site)
{
	size_t depth = xt_site_depth(s, site), n = 0;
	if (grow(&sp->stack, &sp->stack_cap, depth + 1, sizeof *sp->stack) < 0)
		return -1;
	const char *region = xt_site_region(s, site);
	if (region) {
		char name[4200];
		int len = snprintf(name, sizeof name, "[region %s]", region);
		long f = frame_index(sp, name, len < (int)sizeof name ? (size_t)len : sizeof name - 1, NULL);
		if (f < 0)
			return -1;
		sp->stack[n++] = (uint32_t)f;
	}
	for (size_t i = depth; i-- > 0;) {
		const struct xt_frame_info *f = xt_site_frame(s, site, i);
		uint32_t fi = (uint32_t)(f - s->frames);
		if (!sp->frame_of[fi]) {
			long k = frame_index(sp, xt_names_str(&s->names, f->label),
					     xt_names_len(&s->names, f->label),
					     f->file != XT_NO_NAME ? xt_names_str(&s->names, f->file) : NULL);
			if (k < 0)
				return -1;
			sp->frame_of[fi] = (uint32_t)k + 1;
		}
		sp->stack[n++] = sp->frame_of[fi] - 1;
	}
	return (long)n;
}

/* put_profile writes thread t's profile, its cells cells[ix[0..n)]. */
static int put_profile(struct speedscope *sp, const struct xt_image *im, const struct xt_sites *s,
		       uint32_t t, const size_t *ix, size_t n)
{
	struct xt_out *o = sp->o;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += sp->cells[ix[i]].bytes;
	char name[4200];
	if (sp->is_run)
		snprintf(name, sizeof name, "%s (pid %llu) thread %llu", xt_image_program(im),
			 (unsigned long long)im->pid, (unsigned long long)sp->tids[t]);
	else
		snprintf(name, sizeof name, "thread %llu", (unsigned long long)sp->tids[t]);
	xt_out_str(o, sp->nprofiles ? ",\n    {" : "\n    {");
	xt_out_str(o, "\"type\": \"sampled\", \"name\": ");
	xt_out_json_str(o, name, strlen(name));
	xt_out_str(o, ", \"unit\": \"bytes\", \"startValue\": 0, \"endValue\": ");
	xt_out_u64(o, total);
	xt_out_str(o, ",\n     \"samples\": [");
	for (size_t i = 0; i < n; i++) {
		long depth = site_stack(sp, s, sp->cells[ix[i]].site);
		if (depth < 0)
			return -1;
		xt_out_str(o, i ? ", [" : "[");
		for (long k = 0; k < depth; k++) {
			if (k)
				xt_out_char(o, ',');
			xt_out_u64(o, sp->stack[k]);
		}
		xt_out_char(o, ']');
	}
	xt_out_str(o, "],\n     \"weights\": [");
	for (size_t i = 0; i < n; i++) {
		if (i)
			xt_out_str(o, ", ");
		xt_out_u64(o, sp->cells[ix[i]].bytes);
	}
	xt_out_str(o, "]}");
	if (!sp->nprofiles || total > sp->active_bytes) {
		sp->active = sp->nprofiles;
		sp->active_bytes = total;
	}
	sp->nprofiles++;
	return 0;
}

/* on_image writes a profile per thread of the image, then forgets its threads and cells. */
static int on_image(void *ctx, const struct xt_image *im, struct cli_profile *p)
{
	struct speedscope *sp = ctx;
	const struct xt_sites *s = &p->sites;
	int res = -1;
	/* the cells grouped by thread (a counting sort), each thread's in first-allocation order */
	size_t *start = calloc(sp->nthreads + 1, sizeof *start);
	size_t *ix = malloc((sp->ncells + 1) * sizeof *ix);
	free(sp->frame_of);
	sp->frame_of = calloc(s->nframes + 1, sizeof *sp->frame_of);
	if (start && ix && sp->frame_of) {
		for (size_t i = 0; i < sp->ncells; i++)
			start[sp->cells[i].thread + 1]++;
		for (size_t t = 0; t < sp->nthreads; t++)
			start[t + 1] += start[t];
		size_t *next = start; /* advanced as cells are placed; start[t] ends as thread t + 1's */
		for (size_t i = 0; i < sp->ncells; i++)
			ix[next[sp->cells[i].thread]++] = i;
		res = 0;
		for (size_t t = 0, from = 0; t < sp->nthreads && !res; from = start[t++])
			res = put_profile(sp, im, s, (uint32_t)t, ix + from, start[t] - from);
	}
	free(start);
	free(ix);
	sp->nthreads = sp->ncells = 0;
	xt_liveset_destroy(&sp->thread_of_tid);
	xt_liveset_destroy(&sp->cell_of);
	if (res == 0 && (xt_liveset_init(&sp->thread_of_tid, 16) < 0 ||
			 xt_liveset_init(&sp->cell_of, 64) < 0))
		res = -1;
	return res;
}

int export_speedscope(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
		      int is_run)
{
	struct speedscope sp = {.o = o, .is_run = is_run};
	sp.images = (struct export_images){.on_event = on_event, .image = on_image, .ctx = &sp};
	int code = XT_EXIT_FAIL;
	if (xt_names_init(&sp.frames) < 0 || xt_liveset_init(&sp.thread_of_tid, 16) < 0 ||
	    xt_liveset_init(&sp.cell_of, 64) < 0) {
		cli_warn("out of memory");
	} else {
		const char *name = run->dir ? run->dir : run->img[0].path;
		xt_out_str(o, "{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\",\n"
			      " \"exporter\": \"xtrace\",\n \"name\": ");
		xt_out_json_str(o, name, strlen(name));
		xt_out_str(o, ",\n \"profiles\": [");
		code = export_profiles(run, opt, &sp.images);
		xt_out_str(o, "\n ],\n \"shared\": {\"frames\": [");
		for (uint32_t i = 0; i < sp.frames.count; i++) {
			const char *k = xt_names_str(&sp.frames, i);
			size_t len = xt_names_len(&sp.frames, i), nl = strlen(k);
			xt_out_str(o, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
			xt_out_json_str(o, k, nl);
			if (nl < len) {
				xt_out_str(o, ", \"file\": ");
				xt_out_json_str(o, k + nl + 1, len - nl - 1);
			}
			xt_out_char(o, '}');
		}
		xt_out_printf(o, "\n ]},\n \"activeProfileIndex\": %zu\n}\n", sp.active);
	}
	xt_names_destroy(&sp.frames);
	xt_liveset_destroy(&sp.thread_of_tid);
	xt_liveset_destroy(&sp.cell_of);
	free(sp.frame_of);
	free(sp.tids);
	free(sp.cells);
	free(sp.stack);
	return code;
}
