/* specbatch.c: Specs batches parsed by the letter of experiments/README.md, for the tests. */
#include "specbatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int sb_read_file(const char *path, struct sb_generation *gens, int max, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open %s", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
	size_t got = data ? fread(data, 1, (size_t)size, f) : 0;
	fclose(f);
	struct cur c = {data, data + got, err, errlen};
	int n = -1;
	uint64_t hsize, gen, thread, time, len;
	if (got < XT_MAGIC_LEN || memcmp(data, XT_MAGIC, XT_MAGIC_LEN) != 0) {
		fail(&c, "%s: not a trace", path);
		goto out;
	}
	c.p += XT_MAGIC_LEN;
	if (get_u(&c, &hsize, "header size") || hsize > (uint64_t)(c.end - c.p))
		goto out;
	c.p += hsize;
	n = 0;
	while (c.p < c.end) {
		uint8_t kind, exp;
		if (get_u8(&c, &kind, "kind") || (kind == XT_BATCH_EXPERIMENTAL && get_u8(&c, &exp, "exp")) ||
		    get_u(&c, &gen, "gen") || get_u(&c, &thread, "thread") || get_u(&c, &time, "time") ||
		    get_u(&c, &len, "size") || len > (uint64_t)(c.end - c.p)) {
			n = -1;
			break;
		}
		if (kind == XT_BATCH_SPECS) {
			if (n == 0 || gens[n - 1].gen != gen) {
				if (n == max) {
					n = fail(&c, "more than %d generations", max);
					break;
				}
				memset(&gens[n], 0, sizeof gens[n]);
				gens[n++].gen = gen;
			}
			if (sb_parse(c.p, (size_t)len, &gens[n - 1], err, errlen)) {
				n = -1;
				break;
			}
		}
		c.p += len;
	}
out:
	free(data);
	return n;
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
