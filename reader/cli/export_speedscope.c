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
	int is_run;
	struct xt_names frames;      /* "name\0file" -> index in shared.frames */
	uint32_t *frame_of;          /* this image's frame index -> shared frame + 1 (0: none yet) */
	/* What this image's threads allocated: each thread (its tid the key) numbered in the
	 * order it first allocated (in site), each cell (key (thread + 1) << 32 | site) numbered
	 * in the order it was first met (in site), its bytes in bytes. */
	struct xt_liveset threads, cells;
	size_t nprofiles, active;
	uint64_t active_bytes;
};

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
	struct xt_live *t = xt_liveset_put(&sp->threads, ev->thread ? ev->thread : 1, &added);
	if (!t)
		return -1;
	if (added)
		t->site = (uint32_t)(sp->threads.count - 1);
	struct xt_live *c = xt_liveset_put(&sp->cells, ((uint64_t)t->site + 1) << 32 | l->site, &added);
	if (!c)
		return -1;
	if (added)
		c->site = (uint32_t)(sp->cells.count - 1);
	/* as the sites count them: an allocation of an unknown API is counted without bytes */
	if (l->api < XT_API_COUNT)
		c->bytes = c->bytes + l->bytes < XT_LIVE_MAX_BYTES ? c->bytes + l->bytes : XT_LIVE_MAX_BYTES;
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

/* put_stack writes site's frames as a JSON array of frame indices, root first: 0, or -1 without
 * memory. */
static int put_stack(struct speedscope *sp, const struct xt_sites *s, uint32_t site)
{
	struct xt_out *o = sp->o;
	xt_out_char(o, '[');
	const char *region = xt_site_region(s, site);
	if (region) {
		char name[4200];
		int len = snprintf(name, sizeof name, "[region %s]", region);
		long f = frame_index(sp, name, len < (int)sizeof name ? (size_t)len : sizeof name - 1, NULL);
		if (f < 0)
			return -1;
		xt_out_u64(o, (uint64_t)f);
	}
	for (size_t i = xt_site_depth(s, site); i-- > 0;) {
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
		if (region || i + 1 < xt_site_depth(s, site))
			xt_out_char(o, ',');
		xt_out_u64(o, sp->frame_of[fi] - 1);
	}
	xt_out_char(o, ']');
	return 0;
}

/* put_profile writes the profile of thread tid, its cells cells[ix[0..n)]. */
static int put_profile(struct speedscope *sp, const struct xt_image *im, const struct xt_sites *s,
		       uint64_t tid, const struct cell *cells, const size_t *ix, size_t n)
{
	struct xt_out *o = sp->o;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += cells[ix[i]].bytes;
	char name[4200];
	if (sp->is_run)
		snprintf(name, sizeof name, "%s (pid %llu) thread %llu", xt_image_program(im),
			 (unsigned long long)im->pid, (unsigned long long)tid);
	else
		snprintf(name, sizeof name, "thread %llu", (unsigned long long)tid);
	uint64_t mean = im->sample_bytes;
	if (mean) {
		size_t l = strlen(name);
		snprintf(name + l, sizeof name - l, " (estimated: sampled, one per %llu bytes)",
			 (unsigned long long)mean);
	}
	xt_out_str(o, sp->nprofiles ? ",\n    {" : "\n    {");
	xt_out_str(o, "\"type\": \"sampled\", \"name\": ");
	xt_out_json_str(o, name, strlen(name));
	xt_out_str(o, ", \"unit\": \"bytes\", \"startValue\": 0, \"endValue\": ");
	xt_out_u64(o, total);
	xt_out_str(o, ",\n     \"samples\": [");
	for (size_t i = 0; i < n; i++) {
		if (i)
			xt_out_str(o, ", ");
		if (put_stack(sp, s, cells[ix[i]].site) < 0)
			return -1;
	}
	xt_out_str(o, "],\n     \"weights\": [");
	for (size_t i = 0; i < n; i++) {
		if (i)
			xt_out_str(o, ", ");
		xt_out_u64(o, cells[ix[i]].bytes);
	}
	xt_out_str(o, "]}");
	if (!sp->nprofiles || total > sp->active_bytes) {
		sp->active = sp->nprofiles;
		sp->active_bytes = total;
	}
	sp->nprofiles++;
	return 0;
}

/* put_profiles writes a profile per thread of the image, from its threads and cells tables. */
static int put_profiles(struct speedscope *sp, const struct xt_image *im, const struct xt_sites *s)
{
	size_t nt = sp->threads.count, nc = sp->cells.count;
	uint64_t *tids = malloc((nt + 1) * sizeof *tids);
	struct cell *cells = malloc((nc + 1) * sizeof *cells);
	size_t *start = calloc(nt + 1, sizeof *start), *ix = malloc((nc + 1) * sizeof *ix);
	int res = -1;
	if (tids && cells && start && ix) {
		for (size_t i = 0; i <= sp->threads.mask; i++)
			if (sp->threads.slots[i].addr)
				tids[sp->threads.slots[i].site] = sp->threads.slots[i].addr;
		for (size_t i = 0; i <= sp->cells.mask; i++) {
			const struct xt_live *c = &sp->cells.slots[i];
			if (c->addr)
				cells[c->site] = (struct cell){.thread = (uint32_t)((c->addr >> 32) - 1),
							       .site = (uint32_t)c->addr, .bytes = c->bytes};
		}
		/* the cells grouped by thread (a counting sort), each thread's in the order met */
		for (size_t i = 0; i < nc; i++)
			start[cells[i].thread + 1]++;
		for (size_t t = 0; t < nt; t++)
			start[t + 1] += start[t];
		size_t *next = start; /* advanced as cells are placed: start[t] ends as thread t + 1's */
		for (size_t i = 0; i < nc; i++)
			ix[next[cells[i].thread]++] = i;
		res = 0;
		for (size_t t = 0, from = 0; t < nt && !res; from = start[t++])
			res = put_profile(sp, im, s, tids[t], cells, ix + from, start[t] - from);
	}
	free(tids);
	free(cells);
	free(start);
	free(ix);
	return res;
}

/* on_image writes the image's profiles, then empties its tables for the next image. */
static int on_image(void *ctx, const struct xt_image *im, struct cli_profile *p)
{
	struct speedscope *sp = ctx;
	free(sp->frame_of);
	sp->frame_of = calloc(p->sites.nframes + 1, sizeof *sp->frame_of);
	int res = sp->frame_of ? put_profiles(sp, im, &p->sites) : -1;
	xt_liveset_destroy(&sp->threads);
	xt_liveset_destroy(&sp->cells);
	if (xt_liveset_init(&sp->threads, 16) < 0 || xt_liveset_init(&sp->cells, 64) < 0)
		res = -1;
	return res;
}

int export_speedscope(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
		      int is_run)
{
	struct speedscope sp = {.o = o, .is_run = is_run};
	sp.images = (struct export_images){.on_event = on_event, .image = on_image, .ctx = &sp};
	int code = XT_EXIT_FAIL;
	if (xt_names_init(&sp.frames) < 0 || xt_liveset_init(&sp.threads, 16) < 0 ||
	    xt_liveset_init(&sp.cells, 64) < 0) {
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
	xt_liveset_destroy(&sp.threads);
	xt_liveset_destroy(&sp.cells);
	free(sp.frame_of);
	return code;
}
