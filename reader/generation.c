/* generation.c: gathering one generation: its batches up to End and its tables (strings, stacks,
 * modules, experimental batches, sync), parsed and indexed; an experiment's own tables are
 * parsed by its code (xt_rd_experiments). Its events are
 * checked next (check.c). Nothing is allocated on a count the file merely claims: arrays grow
 * with entries parsed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "generation.h"
#include "internal.h"
#include "specs.h"

/* The experiments' reader code, by experiment ID: a weak reference to xt_rd_exp_<Name> for every
 * experiment of events.def, NULL where the reader has no code for it. */
#define XT_EXPERIMENT(ident, id, name, version) \
	extern const struct xt_rd_experiment xt_rd_exp_##name __attribute__((weak));
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT

static const struct xt_rd_experiment *const xt_rd_experiments[XT_MAX_EXPERIMENTS] = {
#define XT_EXPERIMENT(ident, id, name, version) [id] = &xt_rd_exp_##name,
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

void xt_rd_gen_free(struct xt_gen *g)
{
	struct xt_vec *v[] = {&g->batches, &g->strs, &g->arena, &g->stks, &g->pcs,
			      &g->mods, &g->modx, &g->modmap, &g->expb, &g->expraw};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		xt_vec_free(v[i]);
	xt_idx_free(&g->stri);
	xt_idx_free(&g->stki);
	xt_idx_free(&g->modi);
	for (int e = 0; e < XT_MAX_EXPERIMENTS; e++) {
		xt_vec_free(&g->exptab[e]);
		xt_idx_free(&g->typei[e]);
	}
	free(g->desc);
	g->desc = NULL;
}

static void xt_gen_reset(struct xt_gen *g)
{
	g->batches.n = g->strs.n = g->arena.n = g->stks.n = g->pcs.n = 0;
	g->mods.n = g->modx.n = g->modmap.n = g->expb.n = g->expraw.n = 0;
	xt_rd_specs_reset(g);
	for (int e = 0; e < XT_MAX_EXPERIMENTS; e++)
		g->exptab[e].n = 0;
	memset(g->typed, 0, sizeof g->typed);
	memset(&g->sync, 0, sizeof g->sync);
	g->sync_off = UINT64_MAX;
}

static int xt_parse_strings(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	const uint8_t *p = b->data, *end = p + b->len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t id, len;
		if (xt_uvarint(&p, end, &id) || xt_uvarint(&p, end, &len))
			return XT_BAD(r, b, at, "bad string entry");
		if (id == XT_NO_ID)
			return XT_BAD(r, b, at, "string id 0");
		if (len > XT_MAX_STRING)
			return XT_BAD(r, b, at, "string %" PRIu64 " length %" PRIu64 " exceeds limit %d",
				      id, len, XT_MAX_STRING);
		if ((uint64_t)(end - p) < len)
			return XT_BAD(r, b, at, "string %" PRIu64 " length %" PRIu64
				      " runs past the batch", id, len);
		struct xt_str *s = xt_vec_push(&g->strs, sizeof *s);
		char *dst = xt_vec_grow(&g->arena, 1, len + 1);
		if (!s || !dst)
			return XT_NOMEM(r);
		memcpy(dst, p, len);
		dst[len] = 0;
		s->id = id;
		s->off = g->arena.n - len - 1;
		s->len = len;
		s->boff = b->off;
		p += len;
	}
	return 0;
}

static int xt_parse_stacks(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	const uint8_t *p = b->data, *end = p + b->len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t id, n, pc;
		if (xt_uvarint(&p, end, &id) || xt_uvarint(&p, end, &n))
			return XT_BAD(r, b, at, "bad stack entry");
		if (id == XT_NO_ID)
			return XT_BAD(r, b, at, "stack id 0");
		if (n == 0 || n > XT_MAX_FRAMES)
			return XT_BAD(r, b, at, "stack %" PRIu64 " has %" PRIu64 " frames (1..%d)", id,
				      n, XT_MAX_FRAMES);
		/* Each frame takes at least one byte: n is checked before it sizes anything. */
		if ((uint64_t)(end - p) < n)
			return XT_BAD(r, b, at, "stack %" PRIu64 " with %" PRIu64
				      " frames runs past the batch", id, n);
		struct xt_stk *s = xt_vec_push(&g->stks, sizeof *s);
		uint64_t *pcs = xt_vec_grow(&g->pcs, sizeof *pcs, n);
		if (!s || !pcs)
			return XT_NOMEM(r);
		s->id = id;
		s->n = n;
		s->off = g->pcs.n - n;
		s->boff = b->off;
		if (xt_uvarint(&p, end, &pc))
			return XT_BAD(r, b, at, "stack %" PRIu64 ": bad pc", id);
		pcs[0] = pc;
		for (uint64_t i = 1; i < n; i++) {
			uint64_t z;
			if (xt_uvarint(&p, end, &z))
				return XT_BAD(r, b, at, "stack %" PRIu64 ": bad pc delta %" PRIu64, id, i);
			pc += (uint64_t)xt_unzigzag(z);
			pcs[i] = pc;
		}
	}
	return 0;
}

static int xt_parse_modules(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	const uint8_t *p = b->data, *end = p + b->len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t v[6];
		for (int i = 0; i < 6; i++)
			if (xt_uvarint(&p, end, &v[i]))
				return XT_BAD(r, b, at, "bad module entry");
		if (v[0] == XT_NO_ID)
			return XT_BAD(r, b, at, "module id 0");
		if (v[5] > XT_MAX_BUILDID || (uint64_t)(end - p) < v[5])
			return XT_BAD(r, b, at, "module %" PRIu64 ": build id length %" PRIu64, v[0],
				      v[5]);
		struct xtrace_module *m = xt_vec_push(&g->mods, sizeof *m);
		struct xt_modx *x = xt_vec_push(&g->modx, sizeof *x);
		if (!m || !x)
			return XT_NOMEM(r);
		*m = (struct xtrace_module){.id = v[0], .base = v[2], .lo = v[3], .hi = v[4],
					    .build_id = v[5] ? p : NULL, .build_id_len = v[5]};
		x->path_id = v[1];
		x->boff = b->off;
		p += v[5];
	}
	return 0;
}

static int xt_parse_sync(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b)
{
	if (g->sync_off != UINT64_MAX)
		return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b->off,
			       "sync batch at offset %" PRIu64 ": second sync of generation %" PRIu64
			       " (first at offset %" PRIu64 ")",
			       b->off, g->gen, g->sync_off);
	const uint8_t *p = b->data, *end = p + b->len;
	uint64_t v[4];
	for (int i = 0; i < 3; i++)
		if (xt_uvarint(&p, end, &v[i]))
			return XT_BAD(r, b, p, "bad sync payload");
	/* Events in nanoseconds map onto themselves; ticks by the Sync's anchor and rate. */
	g->clock = (struct xt_clockmap){.mult = 1ull << XT_CLOCK_FRAC};
	v[3] = b->time;
	if (r->clock_per_gen) {
		if (xt_uvarint(&p, end, &v[3]))
			return XT_BAD(r, b, p, "bad sync payload: no monotonic time");
		if (v[0] < XT_MIN_TICKS_PER_SEC || v[0] > XT_MAX_TICKS_PER_SEC)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b->off,
				       "sync batch at offset %" PRIu64 ": ticks_per_sec %" PRIu64
				       " outside %llu..%llu",
				       b->off, v[0], XT_MIN_TICKS_PER_SEC, XT_MAX_TICKS_PER_SEC);
		g->clock = (struct xt_clockmap){
			.ticks0 = b->time,
			.ns0 = v[3],
			.mult = (uint64_t)(((unsigned __int128)1000000000u << XT_CLOCK_FRAC) / v[0]),
		};
	}
	xt_clock_span(&g->clock);
	/* From version 3, a shim that switches recording on and off says, in a field after the
	 * anchor, that recording was off right before this generation. */
	uint64_t after_gap = 0, anchor;
	/* (nanosecond events need not the anchor, which comes first) */
	if (r->hdr.version >= 3 && !r->clock_per_gen && p < end && xt_uvarint(&p, end, &anchor))
		return XT_BAD(r, b, p, "bad sync payload: bad monotonic time");
	if (r->hdr.version >= 3 && p < end && xt_uvarint(&p, end, &after_gap))
		return XT_BAD(r, b, p, "bad sync payload: bad recording-gap flag");
	/* Then, optional, how far the TSC was shifted to make the ticks. */
	uint64_t tsc_shift = 0;
	if (r->hdr.version >= 3 && p < end && (xt_uvarint(&p, end, &tsc_shift) || tsc_shift > 63))
		return XT_BAD(r, b, p, "bad sync payload: bad TSC shift");
	/* Bytes after the known fields are left to newer readers, as in the header. */
	g->sync_off = b->off;
	g->sync.after_gap = after_gap != 0;
	g->sync.tsc_shift = (unsigned)tsc_shift;
	g->sync.ts = v[3];
	g->sync.ticks_per_sec = v[0];
	g->sync.wall_sec = v[1];
	g->sync.wall_nsec = v[2];
	return 0;
}

static uint64_t xt_str_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_str *)g->strs.p)[i].boff;
}
static uint64_t xt_stk_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_stk *)g->stks.p)[i].boff;
}
static uint64_t xt_mod_boff(const struct xt_gen *g, size_t i)
{
	return ((const struct xt_modx *)g->modx.p)[i].boff;
}

/* xt_gather reads the batches of the next generation up to its End: from the file, or from
 * the plain bytes of a compressed generation's record. Events batches go to g->batches; every
 * other kind is parsed on the spot, so only Events batches are kept. */
static int xt_gather(xtrace_reader *r, struct xt_gen *g)
{
	uint64_t first = r->next_off, want = r->last_gen + 1, nb = 0;
	char msg[XT_ERRLEN];
	struct xt_batch b;
	struct xt_window w = {r->data, r->size, 0};
	uint64_t off = first, zgen = 0, zend = 0;
	if (first < r->size && ((r->data[first] == XT_RECORD_ZSTD && r->hdr.version >= 4) ||
				(r->data[first] == XT_RECORD_ZSTD_COLUMNS && r->hdr.version >= 5))) {
		enum xt_read rc = xt_rd_inflate(r, first, &zgen, &zend, msg, sizeof msg);
		if (rc == XT_READ_TRUNC)
			return xt_rd_fail(r, XTRACE_ERR_TRUNCATED, first,
				       "trace truncated at offset %" PRIu64 ": compressed generation %"
				       PRIu64 " is cut (file ends at %zu)", first, want, r->size);
		if (rc != XT_READ_OK)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, first, "%s", msg);
		w = (struct xt_window){r->plain.p, r->plain.n, first};
		off = 0;
	}
	for (;;) {
		uint64_t next = 0;
		enum xt_read rc = xt_rd_batch(&w, off, &b, &next, msg, sizeof msg);
		if (zend && rc != XT_READ_OK && rc != XT_READ_CORRUPT)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, first,
				       "compressed generation at offset %" PRIu64
				       ": its bytes end before its End batch", first);
		/* A writer always completes at least one generation, so a file that ends right after
		 * its header belongs to a process that died before it could: that is a cut too. */
		if (rc == XT_READ_EOF && off == first && r->last_gen)
			return 0;
		if (rc == XT_READ_EOF || rc == XT_READ_TRUNC)
			return xt_rd_fail(r, XTRACE_ERR_TRUNCATED, first,
				       "trace truncated at offset %" PRIu64 ": generation %" PRIu64
				       " has no end (file ends at %zu)",
				       first, off == first ? want : g->gen, r->size);
		if (rc == XT_READ_CORRUPT)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b.off, "%s", msg);
		if (zend && b.gen != zgen)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b.off,
				       "batch at offset %" PRIu64 ": generation %" PRIu64
				       " in the record of generation %" PRIu64, b.off, b.gen, zgen);
		if (b.off == first) {
			if (b.gen == 0)
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b.off,
					       "batch at offset %" PRIu64 ": generation 0", b.off);
			/* The first generation may have any number; later ones count up by one. */
			if (r->last_gen && b.gen != want)
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b.off,
					       "batch at offset %" PRIu64 ": generation %" PRIu64
					       " follows generation %" PRIu64,
					       b.off, b.gen, r->last_gen);
			g->gen = b.gen;
			g->off = first;
		} else if (b.gen != g->gen) {
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b.off,
				       "batch at offset %" PRIu64 ": generation %" PRIu64
				       " before the end of generation %" PRIu64,
				       b.off, b.gen, g->gen);
		}
		if (b.kind == XT_BATCH_END) {
			const uint8_t *p = b.data, *end = p + b.len;
			uint64_t n, lost;
			if (xt_uvarint(&p, end, &n) || xt_uvarint(&p, end, &lost))
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b.off,
					       "end batch at offset %" PRIu64 ": bad payload", b.off);
			if (n != nb)
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, b.off,
					       "end batch at offset %" PRIu64 ": generation %" PRIu64
					       " claims %" PRIu64 " batches, %" PRIu64 " came before it",
					       b.off, g->gen, n, nb);
			if (zend && next != w.size)
				return xt_rd_fail(r, XTRACE_ERR_CORRUPT, first,
					       "compressed generation at offset %" PRIu64
					       ": bytes after its End batch", first);
			g->sync.lost = lost;
			r->next_off = zend ? zend : next;
			return 1;
		}
		nb++;
		off = next;
		int err = 0;
		switch (b.kind) {
		case XT_BATCH_EVENTS: {
			struct xt_batch *k = xt_vec_push(&g->batches, sizeof *k);
			if (!k)
				return XT_NOMEM(r);
			*k = b;
			break;
		}
		case XT_BATCH_STRINGS:
			err = xt_parse_strings(r, g, &b);
			break;
		case XT_BATCH_STACKS:
			err = xt_parse_stacks(r, g, &b);
			break;
		case XT_BATCH_MODULES:
			err = xt_parse_modules(r, g, &b);
			break;
		case XT_BATCH_EXPERIMENTAL: {
			struct xtrace_exp_batch *e = xt_vec_push(&g->expb, sizeof *e);
			struct xt_batch *k = xt_vec_push(&g->expraw, sizeof *k);
			if (!e || !k)
				return XT_NOMEM(r);
			*e = (struct xtrace_exp_batch){.experiment = b.experiment, .thread = b.thread,
						       .data = b.data, .len = b.len};
			/* Parsed by the experiment's code once the Specs say whether it applies. */
			*k = b;
			break;
		}
		case XT_BATCH_SPECS:
			err = xt_rd_parse_specs(r, g, &b);
			break;
		case XT_BATCH_SYNC:
			err = xt_parse_sync(r, g, &b);
			break;
		}
		if (err)
			return -1;
	}
}

/* A module's range starting (start 1) or ending at pos, for the sweep of xt_build_modmap. */
struct xt_modedge {
	uint64_t pos;
	size_t mod;
	int start;
};

static int xt_modedge_cmp(const void *a, const void *b)
{
	const struct xt_modedge *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* max_heap_push and max_heap_pop keep h[0..*n) a binary max-heap of module indices. */
static void max_heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;
	for (; i && h[(i - 1) / 2] < v; i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = v;
}

static void max_heap_pop(size_t *h, size_t *n)
{
	size_t v = h[--*n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (h[c] <= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
}

/* xt_build_modmap cuts the generation's module ranges into disjoint stretches, each held by
 * the latest module covering it (as a later object mapped over an unloaded one's range), so a
 * lookup is a binary search however many modules a trace names: one sweep over the sorted
 * range ends, with the covering modules in a max-heap. */
static int xt_build_modmap(struct xt_gen *g)
{
	const struct xtrace_module *m = g->mods.p;
	size_t n = g->mods.n, ne = 0, nh = 0;
	if (!n)
		return 0;
	struct xt_modedge *e = malloc(2 * n * sizeof *e);
	size_t *heap = malloc(n * sizeof *heap);
	unsigned char *ended = calloc(n, 1);
	int rc = -1;
	if (!e || !heap || !ended)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (m[i].lo >= m[i].hi)
			continue;
		e[ne++] = (struct xt_modedge){m[i].lo, i, 1};
		e[ne++] = (struct xt_modedge){m[i].hi, i, 0};
	}
	qsort(e, ne, sizeof *e, xt_modedge_cmp);
	for (size_t i = 0; i < ne;) {
		uint64_t pos = e[i].pos;
		for (; i < ne && e[i].pos == pos; i++) {
			if (e[i].start)
				max_heap_push(heap, &nh, e[i].mod);
			else
				ended[e[i].mod] = 1;
		}
		while (nh && ended[heap[0]])
			max_heap_pop(heap, &nh);
		if (!nh || i == ne)
			continue;
		struct xt_modseg *last = g->modmap.n ? (struct xt_modseg *)g->modmap.p + g->modmap.n - 1
						     : NULL;
		if (last && last->mod == heap[0] && last->hi == pos) {
			last->hi = e[i].pos;
			continue;
		}
		struct xt_modseg *sg = xt_vec_push(&g->modmap, sizeof *sg);
		if (!sg)
			goto out;
		*sg = (struct xt_modseg){pos, e[i].pos, heap[0]};
	}
	rc = 0;
out:
	free(e);
	free(heap);
	free(ended);
	return rc;
}

int xt_rd_gen_load(xtrace_reader *r)
{
	struct xt_gen *g = &r->g;
	r->have_gen = 0;
	xt_gen_reset(g);
	int rc = xt_gather(r, g);
	if (rc <= 0)
		return rc;
	if (g->sync_off == UINT64_MAX)
		return xt_rd_fail(r, XTRACE_ERR_CORRUPT, g->off,
			       "generation %" PRIu64 " at offset %" PRIu64 " has no sync batch",
			       g->gen, g->off);
	if (xt_rd_index(r, &g->stri, &g->strs, sizeof(struct xt_str), "string", xt_str_boff) ||
	    xt_rd_index(r, &g->stki, &g->stks, sizeof(struct xt_stk), "stack", xt_stk_boff) ||
	    xt_rd_index(r, &g->modi, &g->mods, sizeof(struct xtrace_module), "module", xt_mod_boff))
		return -1;
	/* An experiment's own code reads its batches only where the generation's Specs say it is
	 * the experiment the reader was built with; else they are handed out raw, unread. */
	xt_rd_resolve_specs(g);
	const struct xt_batch *eb = g->expraw.p;
	for (size_t i = 0; i < g->expraw.n; i++) {
		const struct xt_rd_experiment *x = xt_rd_experiments[eb[i].experiment];
		if (x && x->batch && g->builtin[eb[i].experiment] && x->batch(r, g, &eb[i]))
			return -1;
	}
	for (int e = 0; e < XT_MAX_EXPERIMENTS; e++) {
		const struct xt_rd_experiment *x = xt_rd_experiments[e];
		if (x && x->index && g->builtin[e] && x->index(r, g, (uint8_t)e))
			return -1;
	}
	struct xtrace_module *m = g->mods.p;
	const struct xt_modx *mx = g->modx.p;
	const struct xt_str *strs = g->strs.p;
	for (size_t i = 0; i < g->mods.n; i++) {
		/* Path ID 0 is "none": an object without a name keeps an empty path. */
		if (mx[i].path_id == XT_NO_ID) {
			m[i].path = "";
			continue;
		}
		int64_t s = xt_idx_get(&g->stri, mx[i].path_id);
		if (s < 0)
			return xt_rd_fail(r, XTRACE_ERR_CORRUPT, mx[i].boff,
				       "modules batch at offset %" PRIu64 ": module %" PRIu64
				       " path string %" PRIu64 " not in the generation",
				       mx[i].boff, m[i].id, mx[i].path_id);
		m[i].path = (const char *)g->arena.p + strs[s].off;
	}
	if (xt_build_modmap(g))
		return xt_rd_fail(r, XTRACE_ERR_NOMEM, g->off, "out of memory for the module map");
	g->sync.gen = g->gen;
	g->sync.batches = g->expb.p;
	g->sync.nbatches = g->expb.n;
	return 1;
}
