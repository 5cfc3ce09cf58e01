/* sites.c: the site table (see sites.h). Per allocation: an array lookup for the stack, a
 * thread lookup (cached while one thread's events run on) and counter updates; tables grow by
 * doubling, nothing else allocates. */
#include "sites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhash.h"

static const char *const metric_names[XT_BY_COUNT] = {"allocs", "bytes", "peak", "temporary",
						       "leaked"};
static const char *const grouping_names[XT_GROUP_COUNT] = {"stack", "function", "line", "region"};

const char *xt_metric_name(enum xt_metric m)
{
	return metric_names[m];
}

const char *xt_grouping_name(enum xt_grouping g)
{
	return grouping_names[g];
}

int xt_metric_parse(const char *str, enum xt_metric *m)
{
	for (int i = 0; i < XT_BY_COUNT; i++)
		if (strcmp(str, metric_names[i]) == 0) {
			*m = (enum xt_metric)i;
			return 0;
		}
	return -1;
}

int xt_grouping_parse(const char *str, enum xt_grouping *g)
{
	for (int i = 0; i < XT_GROUP_COUNT; i++)
		if (strcmp(str, grouping_names[i]) == 0) {
			*g = (enum xt_grouping)i;
			return 0;
		}
	return -1;
}

uint64_t xt_counts_metric(const struct xt_counts *c, enum xt_metric m)
{
	switch (m) {
	case XT_BY_ALLOCS: return c->allocs;
	case XT_BY_BYTES: return c->bytes;
	case XT_BY_PEAK: return c->peak_bytes;
	case XT_BY_TEMPORARY: return c->temporary;
	case XT_BY_LEAKED: return c->live_bytes;
	case XT_BY_COUNT: break;
	}
	return 0;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

void xt_counts_add(struct xt_counts *to, const struct xt_counts *c)
{
	to->allocs += c->allocs;
	to->bytes = sat_add(to->bytes, c->bytes);
	to->frees += c->frees;
	to->temporary += c->temporary;
	to->temporary_bytes = sat_add(to->temporary_bytes, c->temporary_bytes);
	to->live_objects += c->live_objects;
	to->live_bytes = sat_add(to->live_bytes, c->live_bytes);
	to->peak_bytes = sat_add(to->peak_bytes, c->peak_bytes);
}

int xt_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *p = realloc(*(void **)arr, c * elem);
	if (!p)
		return -1;
	*(void **)arr = p;
	*cap = c;
	return 0;
}

int xt_sites_init(struct xt_sites *s, int symbolize, const char *region)
{
	memset(s, 0, sizeof *s);
	s->gen = 1;
	if (xt_names_init(&s->names) < 0 || xt_liveset_init(&s->frame_of_pc, 1024) < 0 ||
	    xt_liveset_init(&s->stack_of_hash, 1024) < 0 ||
	    xt_liveset_init(&s->site_of_region, 16) < 0 || xt_liveset_init(&s->thread_of_tid, 16) < 0)
		return -1;
	if (symbolize && !(s->sym = xtrace_symbolizer_new()))
		return -1;
	if (region) {
		uint32_t id = xt_names_id(&s->names, region, strlen(region));
		if (id == XT_NO_NAME)
			return -1;
		s->region_filter = id + 1;
	}
	return 0;
}

void xt_sites_destroy(struct xt_sites *s)
{
	xt_names_destroy(&s->names);
	xtrace_symbolizer_free(s->sym);
	xt_liveset_destroy(&s->frame_of_pc);
	xt_liveset_destroy(&s->stack_of_hash);
	xt_liveset_destroy(&s->site_of_region);
	xt_liveset_destroy(&s->thread_of_tid);
	free(s->frames);
	free(s->frame_ix);
	free(s->stacks);
	free(s->genmap);
	free(s->site);
	free(s->threads);
	memset(s, 0, sizeof *s);
}

void xt_sites_sync(struct xt_sites *s)
{
	s->gen++;
}

void xt_sites_peak_pass(struct xt_sites *s)
{
	s->peak_pass = 1;
	s->gen++;
	s->nthreads = 0;
	s->last_tid = 0;
	xt_liveset_destroy(&s->thread_of_tid);
	for (size_t i = 0; i < s->count; i++)
		s->site[i].c.peak_bytes = 0;
}

static const char *base_name(const char *p)
{
	const char *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

static uint32_t name_of(struct xt_sites *s, const char *str)
{
	return str ? xt_names_id(&s->names, str, strlen(str)) : XT_NO_NAME;
}

/* add_frame appends the frame of fr, one of pc's. */
static int add_frame(struct xt_sites *s, uint64_t pc, const struct xtrace_frame *fr)
{
	if (xt_grow(&s->frames, &s->frames_cap, s->nframes + 1, sizeof *s->frames) < 0)
		return -1;
	struct xt_frame_info *f = &s->frames[s->nframes++];
	const char *module = fr->module ? base_name(fr->module) : NULL;
	char buf[4096 + 64];
	f->pc = pc;
	f->offset = fr->module_offset;
	f->line = fr->line;
	f->inlined = (uint8_t)fr->inlined;
	f->alloc = (uint8_t)xt_alloc_frame(&s->rules, fr->function, fr->symbol, module);
	f->function = name_of(s, fr->function);
	f->symbol = name_of(s, fr->symbol);
	f->file = name_of(s, fr->file);
	f->module = name_of(s, module);
	if (fr->function)
		snprintf(buf, sizeof buf, "%s", fr->function);
	else if (fr->module)
		snprintf(buf, sizeof buf, "%s+0x%llx", module, (unsigned long long)fr->module_offset);
	else
		snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)pc);
	/* ';' separates frames in collapsed stacks. */
	for (char *p = buf; *p; p++)
		if (*p == ';')
			*p = ':';
	f->label = name_of(s, buf);
	if (fr->file && fr->line) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof buf - n, " (%s:%d)", base_name(fr->file), fr->line);
	}
	f->line_label = name_of(s, buf);
	if (f->label == XT_NO_NAME || f->line_label == XT_NO_NAME ||
	    (fr->function && f->function == XT_NO_NAME) || (fr->symbol && f->symbol == XT_NO_NAME))
		return -1;
	return 0;
}

/* frames_of sets *first and *n to pc's frames (the calls inlined at it, then the function
 * holding it), symbolizing it the first time. */
static int frames_of(struct xt_sites *s, const xtrace_reader *r, uint64_t pc, uint32_t *first,
		     uint32_t *n)
{
	int added;
	struct xt_live *e = xt_liveset_put(&s->frame_of_pc, pc ? pc : 1, &added);
	if (!e)
		return -1;
	if (!added) {
		*first = (uint32_t)e->bytes;
		*n = e->site;
		return 0;
	}
	struct xtrace_frame plain = {.pc = pc, .module_offset = pc};
	const struct xtrace_frame *fr = &plain;
	size_t nf = 1;
	if (s->sym) {
		if (!(nf = xtrace_symbolize_inlined(s->sym, r, pc, &fr)))
			return -1;
	} else if (xtrace_module_of(r, pc - 1)) {
		const struct xtrace_module *m = xtrace_module_of(r, pc - 1);
		plain.module = m->path;
		plain.module_offset = pc - m->base;
	}
	*first = (uint32_t)s->nframes;
	*n = (uint32_t)nf;
	e->bytes = s->nframes;
	e->site = (uint32_t)nf;
	for (size_t j = 0; j < nf; j++)
		if (add_frame(s, pc, &fr[j]) < 0)
			return -1;
	return 0;
}

/* Seeded: a trace could otherwise give thousands of stacks one hash, and each new stack would
 * compare against them all. */
static uint64_t hash_pcs(const uint64_t *pcs, size_t n)
{
	return xt_keyhash_bytes(pcs, n * sizeof *pcs);
}

static int same_stack(const struct xt_sites *s, const struct xt_ustack *u, const uint64_t *pcs,
		      size_t n)
{
	const uint32_t *ix = s->frame_ix + u->off, *end = ix + u->n;
	for (size_t i = 0; i < n; i++) {
		if (ix == end || s->frames[*ix].pc != pcs[i])
			return 0;
		while (s->frames[*ix].inlined) /* the last frame of a pc's chain is not inlined */
			ix++;
		ix++;
	}
	return ix == end;
}

/* stack_index finds or adds the distinct stack with these PCs. */
static int stack_index(struct xt_sites *s, const xtrace_reader *r, const uint64_t *pcs, size_t n,
		       uint32_t *out)
{
	uint64_t h = hash_pcs(pcs, n);
	/* A 64-bit hash shared by two different stacks moves the second to the next key. */
	for (uint64_t key = h | 1;; key = (key * 0x9E3779B97F4A7C15u) | 1) {
		int added;
		struct xt_live *e = xt_liveset_put(&s->stack_of_hash, key, &added);
		if (!e)
			return -1;
		if (!added) {
			if (same_stack(s, &s->stacks[e->bytes], pcs, n)) {
				*out = (uint32_t)e->bytes;
				return 0;
			}
			continue;
		}
		e->bytes = s->nstacks;
		break;
	}
	if (xt_grow(&s->stacks, &s->stacks_cap, s->nstacks + 1, sizeof *s->stacks) < 0)
		return -1;
	struct xt_ustack *u = &s->stacks[s->nstacks];
	*u = (struct xt_ustack){.hash = h, .off = (uint32_t)s->nframe_ix, .site0 = XT_NO_SITE};
	for (size_t i = 0; i < n; i++) {
		uint32_t first, nf;
		if (frames_of(s, r, pcs[i], &first, &nf) < 0 ||
		    xt_grow(&s->frame_ix, &s->frame_ix_cap, s->nframe_ix + nf, sizeof *s->frame_ix) < 0)
			return -1;
		for (uint32_t j = 0; j < nf; j++)
			s->frame_ix[s->nframe_ix++] = first + j;
	}
	u->n = (uint32_t)(s->nframe_ix - u->off);
	while (u->skip < u->n && s->frames[s->frame_ix[u->off + u->skip]].alloc)
		u->skip++;
	/* A stack that is machinery through and through is the library's own: shown whole. */
	if (u->skip == u->n)
		u->skip = 0;
	*out = (uint32_t)s->nstacks++;
	return 0;
}

static struct xt_thread_regions *thread_of(struct xt_sites *s, uint64_t tid)
{
	if (tid == s->last_tid && s->nthreads)
		return &s->threads[s->last_thread];
	if (!s->thread_of_tid.slots && xt_liveset_init(&s->thread_of_tid, 16) < 0)
		return NULL;
	int added;
	struct xt_live *e = xt_liveset_put(&s->thread_of_tid, tid ? tid : 1, &added);
	if (!e)
		return NULL;
	if (added) {
		if (xt_grow(&s->threads, &s->threads_cap, s->nthreads + 1, sizeof *s->threads) < 0)
			return NULL;
		e->bytes = s->nthreads;
		s->threads[s->nthreads++] = (struct xt_thread_regions){.tid = tid};
	}
	s->last_tid = tid;
	s->last_thread = e->bytes;
	return &s->threads[e->bytes];
}

static int in_filter(const struct xt_sites *s, const struct xt_thread_regions *t)
{
	if (!s->region_filter)
		return 1;
	uint32_t n = t->depth < XT_MAX_REGION_DEPTH ? t->depth : XT_MAX_REGION_DEPTH;
	for (uint32_t i = 0; i < n; i++)
		if (t->region[i] + 1 == s->region_filter)
			return 1;
	return 0;
}

static uint32_t innermost(const struct xt_thread_regions *t)
{
	if (t->depth == 0 || t->depth > XT_MAX_REGION_DEPTH)
		return XT_NO_NAME;
	return t->region[t->depth - 1];
}

int xt_sites_in_region(struct xt_sites *s, uint64_t tid)
{
	if (!s->region_filter)
		return 1;
	const struct xt_thread_regions *t = thread_of(s, tid);
	return t && in_filter(s, t);
}

uint32_t xt_sites_region_of(struct xt_sites *s, uint64_t tid)
{
	const struct xt_thread_regions *t = thread_of(s, tid);
	return t ? innermost(t) : XT_NO_NAME;
}

static int new_site(struct xt_sites *s, uint32_t stack, uint32_t region, uint32_t *out)
{
	if (xt_grow(&s->site, &s->cap, s->count + 1, sizeof *s->site) < 0)
		return -1;
	s->site[s->count] = (struct xt_site){.stack = stack, .region = region};
	*out = (uint32_t)s->count++;
	return 0;
}

int xt_sites_site(struct xt_sites *s, const xtrace_reader *r, uint64_t tid, uint64_t stack,
		  uint32_t *site)
{
	struct xt_thread_regions *t = thread_of(s, tid);
	if (!t)
		return -1;
	if (!in_filter(s, t)) {
		*site = XT_NO_SITE;
		return 0;
	}
	uint32_t u;
	if (stack < s->genmap_cap && s->genmap[stack].gen == s->gen) {
		u = s->genmap[stack].stack;
	} else {
		const uint64_t *pcs;
		size_t n = xtrace_stack(r, stack, &pcs);
		static const uint64_t none = 0;
		if (n == 0) {
			/* An unknown stack is one site of its own, "0x0". */
			pcs = &none;
			n = 1;
		}
		if (stack_index(s, r, pcs, n, &u) < 0)
			return -1;
		if (stack < (1u << 26)) { /* IDs are dense per generation; a wild one is not cached */
			size_t old = s->genmap_cap;
			if (xt_grow(&s->genmap, &s->genmap_cap, stack + 1, sizeof *s->genmap) < 0)
				return -1;
			memset(s->genmap + old, 0, (s->genmap_cap - old) * sizeof *s->genmap);
			s->genmap[stack].gen = s->gen;
			s->genmap[stack].stack = u;
		}
	}
	uint32_t region = innermost(t) + 1; /* XT_NO_NAME + 1 wraps to 0: no region */
	if (region == 0) {
		if (s->stacks[u].site0 == XT_NO_SITE && new_site(s, u, 0, &s->stacks[u].site0) < 0)
			return -1;
		*site = s->stacks[u].site0;
		return 0;
	}
	int added;
	struct xt_live *e = xt_liveset_put(&s->site_of_region, ((uint64_t)u + 1) << 32 | region,
					   &added);
	if (!e)
		return -1;
	if (added) {
		uint32_t id;
		if (new_site(s, u, region, &id) < 0)
			return -1;
		e = xt_liveset_find(&s->site_of_region, ((uint64_t)u + 1) << 32 | region);
		e->bytes = id;
	}
	*site = (uint32_t)e->bytes;
	return 0;
}

void xt_sites_alloc(struct xt_sites *s, uint32_t site, uint64_t bytes, uint32_t objects)
{
	s->last_alloc_stack = site == XT_NO_SITE ? 0 : s->site[site].stack + 1;
	s->last_alloc_bytes = bytes < XT_LIVE_MAX_BYTES ? bytes : XT_LIVE_MAX_BYTES;
	if (site == XT_NO_SITE)
		return;
	struct xt_counts *c = &s->site[site].c;
	if (s->peak_pass) {
		c->peak_bytes += bytes;
		return;
	}
	c->allocs += objects;
	c->bytes = sat_add(c->bytes, bytes);
	c->live_objects += objects;
	c->live_bytes += bytes;
	s->total.allocs += objects;
	s->total.bytes = sat_add(s->total.bytes, bytes);
	s->total.live_objects += objects;
	s->total.live_bytes += bytes;
}

void xt_sites_free(struct xt_sites *s, const struct xt_live *old)
{
	/* heaptrack's test, which compares allocation infos (stack and size), not addresses. */
	int temporary = old->site != XT_NO_SITE && s->last_alloc_bytes == old->bytes &&
			s->last_alloc_stack == s->site[old->site].stack + 1;
	s->last_alloc_stack = 0;
	if (old->site == XT_NO_SITE)
		return;
	struct xt_counts *c = &s->site[old->site].c;
	if (s->peak_pass) {
		c->peak_bytes -= old->bytes;
		return;
	}
	c->frees += old->objects;
	c->live_objects -= old->objects;
	c->live_bytes -= old->bytes;
	s->total.frees += old->objects;
	s->total.live_objects -= old->objects;
	s->total.live_bytes -= old->bytes;
	if (temporary) {
		c->temporary += old->objects;
		c->temporary_bytes += old->bytes;
		s->total.temporary += old->objects;
		s->total.temporary_bytes += old->bytes;
	}
}

int xt_sites_region(struct xt_sites *s, const xtrace_reader *r, uint64_t tid, uint64_t name,
		    int begin)
{
	struct xt_thread_regions *t = thread_of(s, tid);
	if (!t)
		return -1;
	size_t len;
	const char *str = xtrace_string(r, name, &len);
	if (!str) {
		str = "?";
		len = 1;
	}
	uint32_t id = xt_names_id(&s->names, str, len);
	if (id == XT_NO_NAME)
		return -1;
	if (begin) {
		if (t->depth < XT_MAX_REGION_DEPTH)
			t->region[t->depth] = id;
		t->depth++;
		return 0;
	}
	if (t->depth > XT_MAX_REGION_DEPTH) {
		t->depth--;
		return 0;
	}
	/* An end closes the innermost region of its name and any left open inside it; an end
	 * without a matching begin (it began before the trace) changes nothing. */
	for (uint32_t i = t->depth; i-- > 0;)
		if (t->region[i] == id) {
			t->depth = i;
			break;
		}
	return 0;
}

size_t xt_site_depth(const struct xt_sites *s, uint32_t site)
{
	const struct xt_ustack *u = &s->stacks[s->site[site].stack];
	return u->n - u->skip;
}

const struct xt_frame_info *xt_site_frame(const struct xt_sites *s, uint32_t site, size_t i)
{
	const struct xt_ustack *u = &s->stacks[s->site[site].stack];
	return i < u->n - u->skip ? &s->frames[s->frame_ix[u->off + u->skip + i]] : NULL;
}

const char *xt_site_region(const struct xt_sites *s, uint32_t site)
{
	uint32_t r = s->site[site].region;
	return r ? xt_names_str(&s->names, r - 1) : NULL;
}

/* Building a group key. */
struct keybuf {
	char *p;
	size_t len, cap;
};

static int key_put(struct keybuf *k, const char *str, size_t n)
{
	if (xt_grow(&k->p, &k->cap, k->len + n + 1, 1) < 0)
		return -1;
	memcpy(k->p + k->len, str, n);
	k->len += n;
	k->p[k->len] = 0;
	return 0;
}

static int key_name(struct keybuf *k, const struct xt_names *n, uint32_t id)
{
	return key_put(k, xt_names_str(n, id), xt_names_len(n, id));
}

/* site_key writes site's key for grouping g: a collapsed stack (outermost frame first, ';'
 * between frames, the region as a frame of its own above them), the innermost function or line,
 * or the region name. */
static int site_key(const struct xt_sites *s, uint32_t site, enum xt_grouping g, struct keybuf *k)
{
	k->len = 0;
	const char *region = xt_site_region(s, site);
	const struct xt_frame_info *inner = xt_site_frame(s, site, 0);
	switch (g) {
	case XT_GROUP_STACK: {
		if (region && (key_put(k, "[region ", 8) < 0 || key_put(k, region, strlen(region)) < 0 ||
			       key_put(k, "]", 1) < 0))
			return -1;
		for (size_t i = xt_site_depth(s, site); i-- > 0;) {
			if (k->len && key_put(k, ";", 1) < 0)
				return -1;
			if (key_name(k, &s->names, xt_site_frame(s, site, i)->label) < 0)
				return -1;
		}
		return 0;
	}
	case XT_GROUP_FUNCTION:
		return key_name(k, &s->names, inner->label);
	case XT_GROUP_LINE:
		return key_name(k, &s->names, inner->line_label);
	case XT_GROUP_REGION:
		return region ? key_put(k, region, strlen(region)) : key_put(k, "(no region)", 11);
	case XT_GROUP_COUNT:
		break;
	}
	return -1;
}

struct sort_ctx {
	enum xt_metric m;
	const struct xt_names *keys;
};

static int cmp_groups(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *sc = arg;
	const struct xt_group *x = a, *y = b;
	uint64_t vx = xt_counts_metric(&x->c, sc->m), vy = xt_counts_metric(&y->c, sc->m);
	if (vx != vy)
		return vx > vy ? -1 : 1;
	/* Then by bytes, so a metric that is zero for most sites still lists the big ones first. */
	if (x->c.bytes != y->c.bytes)
		return x->c.bytes > y->c.bytes ? -1 : 1;
	return strcmp(xt_names_str(sc->keys, x->key), xt_names_str(sc->keys, y->key));
}

void xt_groups_sort(struct xt_group *groups, size_t n, enum xt_metric m,
		    const struct xt_names *keys)
{
	struct sort_ctx sc = {m, keys};
	if (n > 1) /* groups is NULL when there are none: qsort_r must not see it */
		qsort_r(groups, n, sizeof *groups, cmp_groups, &sc);
}

long xt_sites_group(struct xt_sites *s, enum xt_grouping g, enum xt_metric m,
		    struct xt_names *keys, struct xt_group **out)
{
	struct keybuf k = {0};
	/* slot[key ID] = group index + 1; key IDs of other traces sharing keys may be present. */
	uint32_t *slot = NULL;
	size_t slot_cap = 0, n = 0, cap = 0;
	struct xt_group *groups = NULL;
	long res = -1;
	for (uint32_t i = 0; i < s->count; i++) {
		if (site_key(s, i, g, &k) < 0)
			goto out;
		uint32_t id = xt_names_id(keys, k.p ? k.p : "", k.len);
		if (id == XT_NO_NAME)
			goto out;
		size_t old = slot_cap;
		if (xt_grow(&slot, &slot_cap, (size_t)id + 1, sizeof *slot) < 0)
			goto out;
		memset(slot + old, 0, (slot_cap - old) * sizeof *slot);
		if (!slot[id]) {
			if (xt_grow(&groups, &cap, n + 1, sizeof *groups) < 0)
				goto out;
			groups[n] = (struct xt_group){.key = id, .site = i};
			slot[id] = (uint32_t)++n;
		}
		struct xt_group *gr = &groups[slot[id] - 1];
		if (s->site[i].c.bytes > s->site[gr->site].c.bytes)
			gr->site = i;
		xt_counts_add(&gr->c, &s->site[i].c);
	}
	xt_groups_sort(groups, n, m, keys);
	*out = groups;
	groups = NULL;
	res = (long)n;
out:
	free(groups);
	free(slot);
	free(k.p);
	return res;
}
