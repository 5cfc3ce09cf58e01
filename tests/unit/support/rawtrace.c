/* rawtrace.c: a trace read by the letter of experiments/README.md, without the reader: its Specs
 * batches, and its events decoded with them, for the tests of what the shim writes. */
#include "rawtrace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "allocfree.h"
#include "columns.h"
#include "varint.h"

struct cur {
	const uint8_t *p, *end;
	char *err;
	size_t errlen;
};

static int fail(struct cur *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int get_u(struct cur *c, uint64_t *v, const char *what)
{
	return xt_get_uvarint(&c->p, c->end, v) ? fail(c, "%s: bad uvarint", what) : 0;
}

static int get_u8(struct cur *c, uint8_t *v, const char *what)
{
	if (c->p >= c->end)
		return fail(c, "%s: cut short", what);
	*v = *c->p++;
	return 0;
}

/* get_name reads {uvarint len (1..64), len bytes} into out. */
static int get_name(struct cur *c, char out[XT_MAX_SPEC_NAME + 1], const char *what)
{
	uint64_t n;
	if (get_u(c, &n, what))
		return -1;
	if (n < 1 || n > XT_MAX_SPEC_NAME || n > (uint64_t)(c->end - c->p))
		return fail(c, "%s: name length %llu", what, (unsigned long long)n);
	memcpy(out, c->p, n);
	out[n] = 0;
	c->p += n;
	return 0;
}

static int names_event(const struct sb_experiment *x, uint64_t type)
{
	for (unsigned i = 0; i < x->nevents; i++)
		if (x->events[i].type == type)
			return 1;
	return 0;
}

static int parse_entry(struct cur *c, struct sb_generation *g)
{
	if (g->n >= XT_MAX_EXPERIMENTS)
		return fail(c, "more than %d experiments", XT_MAX_EXPERIMENTS);
	struct sb_experiment *x = &g->exp[g->n];
	memset(x, 0, sizeof *x);
	uint64_t n;
	if (get_u(c, &x->id, "experiment") || get_name(c, x->name, "experiment name") ||
	    get_u(c, &x->version, "version") || get_u(c, &n, "nbatches"))
		return -1;
	if (x->id < 1 || x->id >= XT_MAX_EXPERIMENTS)
		return fail(c, "experiment ID %llu", (unsigned long long)x->id);
	for (unsigned i = 0; i < g->n; i++)
		if (g->exp[i].id == x->id)
			return fail(c, "experiment %llu described twice", (unsigned long long)x->id);
	if (n > XT_MAX_BATCH_SUBTYPES)
		return fail(c, "%s: %llu batch tables", x->name, (unsigned long long)n);
	x->nbatches = (unsigned)n;
	for (unsigned b = 0; b < x->nbatches; b++) {
		if (get_u8(c, &x->subtypes[b], "subtype") || get_name(c, x->batches[b], "batch name"))
			return -1;
		if (x->subtypes[b] >= XT_MAX_BATCH_SUBTYPES)
			return fail(c, "%s: subtype %u", x->name, x->subtypes[b]);
	}
	if (get_u(c, &n, "nevents"))
		return -1;
	if (n > XT_MAX_EVENT_TYPES - XT_FIRST_EXPERIMENTAL_EVENT)
		return fail(c, "%s: %llu events", x->name, (unsigned long long)n);
	x->nevents = (unsigned)n;
	for (unsigned i = 0; i < x->nevents; i++) {
		struct sb_event *e = &x->events[i];
		if (get_u8(c, &e->type, "type") || get_name(c, e->name, "event name") ||
		    get_u(c, &e->start, "start") || get_u(c, &e->form_of, "form_of") ||
		    get_u8(c, &e->nargs, "nargs"))
			return -1;
		if (e->type < XT_FIRST_EXPERIMENTAL_EVENT)
			return fail(c, "%s: type %u", e->name, e->type);
		for (unsigned j = 0; j < g->n; j++)
			if (names_event(&g->exp[j], e->type))
				return fail(c, "type %u described twice", e->type);
		for (unsigned j = 0; j < i; j++)
			if (x->events[j].type == e->type)
				return fail(c, "type %u described twice", e->type);
		if (e->nargs > XT_MAX_ARGS)
			return fail(c, "%s: %u arguments", e->name, e->nargs);
		for (unsigned a = 0; a < e->nargs; a++) {
			if (get_name(c, e->args[a], "argument name"))
				return -1;
			if (xt_arg_kind_of(e->args[a]) < 0)
				return fail(c, "%s: argument %s has no kind", e->name, e->args[a]);
		}
	}
	for (unsigned i = 0; i < x->nevents; i++) {
		const struct sb_event *e = &x->events[i];
		if ((e->start && !names_event(x, e->start)) || (e->form_of && !names_event(x, e->form_of)))
			return fail(c, "%s: start or form_of names no event of %s", e->name, x->name);
	}
	g->n++;
	return 0;
}

int sb_parse(const uint8_t *p, size_t len, struct sb_generation *g, char *err, size_t errlen)
{
	struct cur c = {p, p + len, err, errlen};
	while (c.p < c.end)
		if (parse_entry(&c, g))
			return -1;
	g->nbatches++;
	return 0;
}

/* Walking a file's batches: the header skipped, then each batch's framing. */
struct batch {
	uint8_t kind, exp;
	uint64_t gen, thread, time, len;
	const uint8_t *data;
};

/* join_columns turns the column form of a generation (form, n bytes) into its plain bytes at
 * out (room for cap): their count, or SIZE_MAX when a segment does not join. */
static size_t join_columns(const uint8_t *form, size_t n, uint8_t *out, size_t cap)
{
	struct xt_columns *ws = calloc(1, sizeof *ws);
	size_t done = 0;
	for (size_t at = 0; ws && at < n;) {
		long seg = xt_columns_segment_size(form + at, n - at, ws);
		const char *why;
		size_t got = seg > 0 && (size_t)seg <= n - at
				     ? xt_columns_join(form + at, (size_t)seg, ws, out + done, cap - done, &why)
				     : 0;
		if (!got) {
			done = SIZE_MAX;
			break;
		}
		at += (size_t)seg;
		done += got;
	}
	free(ws);
	return ws ? done : SIZE_MAX;
}

/* inflate_all decompresses the zstd frame p (n bytes), whose content size its header need not
 * give: a malloc'd buffer of *out bytes, or NULL. */
static uint8_t *inflate_all(const uint8_t *p, size_t n, size_t *out)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer in = {p, n, 0};
	size_t cap = 1u << 20, rc = 1;
	uint8_t *buf = malloc(cap);
	*out = 0;
	while (d && buf && rc) {
		if (*out == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
		ZSTD_outBuffer o = {buf, cap, *out};
		size_t was = in.pos;
		rc = ZSTD_decompressStream(d, &o, &in);
		if (ZSTD_isError(rc) || (rc && in.pos == was && o.pos == *out && o.pos < cap))
			break;
		*out = o.pos;
	}
	ZSTD_freeDCtx(d);
	if (rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* inflate_records replaces each compressed generation record after the header (c->p) by the
 * plain batches its frame holds (a column record's joined back), so the walk below sees every
 * generation's batches alike. */
static uint8_t *inflate_records(uint8_t *data, size_t *len, struct cur *c)
{
	size_t head = (size_t)(c->p - data), cap = *len + 1, n = head;
	uint8_t *out = malloc(cap);
	if (!out) {
		free(data);
		return NULL;
	}
	memcpy(out, data, head);
	const uint8_t *p = c->p, *end = data + *len;
	while (p < end) {
		const uint8_t *at = p;
		uint64_t v[4] = {0};
		size_t plain;
		int record = *p == XT_RECORD_ZSTD || *p == XT_RECORD_ZSTD_COLUMNS;
		if (record) {
			p++;
			for (int i = 0; i < 3; i++)
				if (xt_get_uvarint(&p, end, &v[i]))
					p = end + 1;
			if (p > end || v[2] > (uint64_t)(end - p))
				break; /* a cut record: the walk ends here */
			plain = v[1];
		} else {
			p += 1 + (*p == XT_BATCH_EXPERIMENTAL);
			for (int i = 0; i < 4 && p <= end; i++)
				if (xt_get_uvarint(&p, end, &v[i]))
					p = end + 1;
			if (p > end || v[3] > (uint64_t)(end - p))
				p = end; /* cut: copied as it is, for the walk to say so */
			else
				p += v[3];
			plain = (size_t)(p - at);
		}
		if (n + plain > cap) {
			cap = 2 * (n + plain);
			uint8_t *o = realloc(out, cap);
			if (!o)
				break;
			out = o;
		}
		if (record) {
			size_t got;
			if (*at == XT_RECORD_ZSTD) {
				got = ZSTD_decompress(out + n, plain, p, v[2]);
			} else {
				size_t fn;
				uint8_t *form = inflate_all(p, v[2], &fn);
				got = form ? join_columns(form, fn, out + n, plain) : SIZE_MAX;
				free(form);
			}
			if (ZSTD_isError(got) || got != plain) {
				fail(c, "compressed generation at offset %zu does not decompress",
				     (size_t)(at - data));
				break;
			}
			p += v[2];
		} else {
			memcpy(out + n, at, plain);
		}
		n += plain;
	}
	free(data);
	*len = n;
	c->p = out + head;
	c->end = out + n;
	return out;
}

static uint8_t *load(const char *path, size_t *len, struct cur *c)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fail(c, "cannot open %s", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
	*len = data ? fread(data, 1, (size_t)size, f) : 0;
	fclose(f);
	uint64_t hsize;
	c->p = data;
	c->end = data + *len;
	if (*len < XT_MAGIC_LEN || memcmp(data, XT_MAGIC, XT_MAGIC_LEN) != 0) {
		fail(c, "%s: not a trace", path);
	} else {
		c->p += XT_MAGIC_LEN;
		if (!get_u(c, &hsize, "header size") && hsize <= (uint64_t)(c->end - c->p)) {
			c->p += hsize;
			return inflate_records(data, len, c);
		}
	}
	free(data);
	return NULL;
}

/* next_batch reads the batch at c->p: 1, 0 at the end, -1 when the framing is broken. */
static int next_batch(struct cur *c, struct batch *b)
{
	if (c->p >= c->end)
		return 0;
	b->exp = 0;
	if (get_u8(c, &b->kind, "kind") ||
	    (b->kind == XT_BATCH_EXPERIMENTAL && get_u8(c, &b->exp, "experiment")) ||
	    get_u(c, &b->gen, "gen") || get_u(c, &b->thread, "thread") || get_u(c, &b->time, "time") ||
	    get_u(c, &b->len, "size"))
		return -1;
	if (b->len > (uint64_t)(c->end - c->p))
		return fail(c, "batch payload of %llu bytes cut short", (unsigned long long)b->len);
	b->data = c->p;
	c->p += b->len;
	return 1;
}

int sb_read_file(const char *path, struct sb_generation *gens, int max, char *err, size_t errlen)
{
	struct cur c = {NULL, NULL, err, errlen};
	size_t size;
	uint8_t *data = load(path, &size, &c);
	if (!data)
		return -1;
	struct batch b;
	int n = 0, more;
	while (n >= 0 && (more = next_batch(&c, &b)) != 0) {
		if (more < 0) {
			n = -1;
		} else if (b.kind == XT_BATCH_SPECS) {
			if (n == 0 || gens[n - 1].gen != b.gen) {
				if (n == max) {
					n = fail(&c, "more than %d generations", max);
					break;
				}
				memset(&gens[n], 0, sizeof gens[n]);
				gens[n++].gen = b.gen;
			}
			if (sb_parse(b.data, (size_t)b.len, &gens[n - 1], err, errlen))
				n = -1;
		}
	}
	free(data);
	return n;
}

/* spec_of finds event type's experiment and event in generation g's Specs. */
static const struct sb_event *spec_of(const struct sb_generation *g, uint8_t type)
{
	for (unsigned i = 0; i < g->n; i++)
		for (unsigned j = 0; j < g->exp[i].nevents; j++)
			if (g->exp[i].events[j].type == type)
				return &g->exp[i].events[j];
	return NULL;
}

/* grow makes room for element n of v (capacities 1, 2, 4, ...). */
static void *grow(void *v, size_t n, size_t size)
{
	if (n & (n - 1))
		return v; /* room left: the capacity is the next power of two */
	void *w = realloc(v, (n ? 2 * n : 1) * size);
	if (!w)
		abort();
	return w;
}

/* decode_events appends the events of Events batch b, decoded with generation g's Specs
 * (core types with the built-in table), to t. AllocFree's reference forms name an address of
 * an earlier event of the batch, as the README says. */
static int decode_events(struct cur *c, const struct batch *b, const struct sb_generation *g,
			 struct sb_trace *t)
{
	struct cur e = {b->data, b->data + b->len, c->err, c->errlen};
	uint64_t last_addr = 0, *lists[XT_REFS_LISTS] = {NULL, NULL};
	size_t nlist[XT_REFS_LISTS] = {0, 0};
	int rc = 0;
	while (!rc && e.p < e.end) {
		struct sb_decoded d = {.gen = b->gen, .thread = b->thread};
		uint64_t dt;
		if (get_u8(&e, &d.type, "type") || get_u(&e, &dt, "dt")) {
			rc = -1;
			break;
		}
		const struct sb_event *s = d.type >= XT_FIRST_EXPERIMENTAL_EVENT ? spec_of(g, d.type) : NULL;
		if (d.type < XT_FIRST_EXPERIMENTAL_EVENT && xt_specs[d.type].name)
			d.nargs = xt_specs[d.type].nargs;
		else if (s)
			d.nargs = s->nargs;
		else {
			rc = fail(&e, "generation %llu: type %u described nowhere",
				  (unsigned long long)b->gen, d.type);
			break;
		}
		for (unsigned a = 0; !rc && a < d.nargs; a++) {
			const char *name = s ? s->args[a] : xt_specs[d.type].arg_names[a];
			if (get_u(&e, &d.args[a], "argument"))
				rc = -1;
			else if (xt_arg_kind_of(name) == XT_KIND_addr)
				d.args[a] = last_addr += (uint64_t)xt_unzigzag(d.args[a]);
		}
		int names = xt_allocref_names(d.type), joins = xt_allocref_list(d.type);
		if (!rc && names >= 0) {
			if (d.args[0] >= nlist[names]) {
				rc = fail(&e, "reference %llu back of %zu", (unsigned long long)d.args[0],
					  nlist[names]);
				break;
			}
			last_addr = d.args[0] = lists[names][nlist[names] - 1 - d.args[0]];
		}
		if (!rc && joins >= 0) {
			lists[joins] = grow(lists[joins], nlist[joins], sizeof(uint64_t));
			lists[joins][nlist[joins]++] = d.args[0];
		}
		t->events = grow(t->events, t->nevents, sizeof d);
		t->events[t->nevents++] = d;
	}
	free(lists[0]);
	free(lists[1]);
	return rc;
}

int sb_read_trace(const char *path, struct sb_trace *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->gens = calloc(SB_MAX_GENERATIONS, sizeof *t->gens);
	int n = t->gens ? sb_read_file(path, t->gens, SB_MAX_GENERATIONS, err, errlen) : -1;
	if (n < 0)
		return -1;
	t->ngens = n;
	struct cur c = {NULL, NULL, err, errlen};
	size_t size;
	uint8_t *data = load(path, &size, &c);
	if (!data)
		return -1;
	struct batch b;
	int rc = 0, more;
	while (!rc && (more = next_batch(&c, &b)) != 0) {
		const struct sb_generation *g = NULL;
		for (int i = 0; i < t->ngens; i++)
			if (t->gens[i].gen == b.gen)
				g = &t->gens[i];
		if (more < 0) {
			rc = -1;
		} else if (b.kind == XT_BATCH_EVENTS) {
			rc = g ? decode_events(&c, &b, g, t)
			       : fail(&c, "generation %llu has no Specs", (unsigned long long)b.gen);
		} else if (b.kind == XT_BATCH_EXPERIMENTAL) {
			struct sb_exp_batch x = {b.gen, b.exp, (size_t)b.len, malloc(b.len + 1)};
			memcpy(x.data, b.data, (size_t)b.len);
			t->exp = grow(t->exp, t->nexp, sizeof x);
			t->exp[t->nexp++] = x;
		} else if (b.kind == XT_BATCH_STRINGS || b.kind == XT_BATCH_STACKS) {
			struct cur e = {b.data, b.data + b.len, err, errlen};
			while (!rc && e.p < e.end) {
				struct sb_entry x = {b.gen, b.kind, 0, NULL};
				uint64_t n2;
				if (get_u(&e, &x.id, "id") || get_u(&e, &n2, "length")) {
					rc = -1;
					break;
				}
				if (b.kind == XT_BATCH_STRINGS) {
					if (n2 > (uint64_t)(e.end - e.p)) {
						rc = fail(&e, "string cut short");
						break;
					}
					x.text = strndup((const char *)e.p, (size_t)n2);
					e.p += n2;
				} else {
					for (uint64_t k = 0; !rc && k < n2; k++) {
						uint64_t pc;
						rc = get_u(&e, &pc, "frame");
					}
				}
				t->entries = grow(t->entries, t->nentries, sizeof x);
				t->entries[t->nentries++] = x;
			}
		}
	}
	free(data);
	return rc;
}

void sb_trace_free(struct sb_trace *t)
{
	for (size_t i = 0; i < t->nentries; i++)
		free(t->entries[i].text);
	for (size_t i = 0; i < t->nexp; i++)
		free(t->exp[i].data);
	free(t->entries);
	free(t->exp);
	free(t->events);
	free(t->gens);
	memset(t, 0, sizeof *t);
}

const struct sb_entry *sb_entry_of(const struct sb_trace *t, uint64_t gen, uint8_t kind,
				   uint64_t id)
{
	for (size_t i = 0; i < t->nentries; i++)
		if (t->entries[i].gen == gen && t->entries[i].kind == kind && t->entries[i].id == id)
			return &t->entries[i];
	return NULL;
}

const struct sb_experiment *sb_find(const struct sb_generation *g, const char *name)
{
	for (unsigned i = 0; i < g->n; i++)
		if (strcmp(g->exp[i].name, name) == 0)
			return &g->exp[i];
	return NULL;
}

const struct sb_event *sb_event_named(const struct sb_experiment *x, const char *name)
{
	for (unsigned i = 0; i < x->nevents; i++)
		if (strcmp(x->events[i].name, name) == 0)
			return &x->events[i];
	return NULL;
}
