/* base.c: what every step of the reader shares: the error a reader records, growable arrays,
 * and ID -> index tables. It calls nothing else of the reader. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int xt_rd_fail(xtrace_reader *r, enum xtrace_status st, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	r->status = st;
	r->err_off = off;
	return -1;
}

const char *xt_rd_kind_name(const struct xt_batch *b)
{
	static const char *const names[] = {"?", "events", "strings", "stacks", "modules",
					    "experimental", "sync", "end", "specs"};
	_Static_assert(sizeof names / sizeof names[0] == XT_BATCH_KIND_MAX + 1, "a name per kind");
	return names[b->kind];
}

void *xt_vec_push(struct xt_vec *v, size_t elsz)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = realloc(v->p, cap * elsz);
		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	return (char *)v->p + elsz * v->n++;
}

/* xt_vec_grow makes room for n more elements and returns where they go; n is bounded by bytes
 * present in the file. */
void *xt_vec_grow(struct xt_vec *v, size_t elsz, size_t n)
{
	/* An empty vector gets its first block even for n == 0: the caller gets a pointer, not the
	 * NULL that means out of memory. */
	if (v->n + n > v->cap || !v->p) {
		size_t cap = v->cap ? v->cap : 64;
		while (cap < v->n + n)
			cap *= 2;
		void *p = realloc(v->p, cap * elsz);
		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	void *at = (char *)v->p + elsz * v->n;
	v->n += n;
	return at;
}

void xt_vec_free(struct xt_vec *v)
{
	free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
}

static int xt_pair_cmp(const void *a, const void *b)
{
	const struct xt_idpair *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* xt_idx_build indexes n entries of size stride whose uint64_t id is their first field.
 * It returns 0, -1 when out of memory, or 1 with *dup set to the index of an entry whose ID an
 * earlier entry already has. */
static int xt_idx_build(struct xt_idx *x, const void *entries, size_t n, size_t stride,
			size_t *dup)
{
	uint64_t max = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = *(const uint64_t *)((const char *)entries + i * stride);
		if (id > max)
			max = id;
	}
	x->sparse.n = 0;
	/* Dense when that costs at most a few slots per entry: memory follows the entries. */
	if (max <= 2 * (uint64_t)n + 64) {
		size_t need = (size_t)max + 1;
		if (need > x->capdense) {
			uint32_t *d = realloc(x->dense, need * sizeof *d);
			if (!d)
				return -1;
			x->dense = d;
			x->capdense = need;
		}
		x->ndense = need;
		memset(x->dense, 0, need * sizeof *x->dense);
		for (size_t i = 0; i < n; i++) {
			uint64_t id = *(const uint64_t *)((const char *)entries + i * stride);
			if (x->dense[id]) {
				*dup = i;
				return 1;
			}
			x->dense[id] = (uint32_t)i + 1;
		}
		return 0;
	}
	free(x->dense);
	x->dense = NULL;
	x->ndense = x->capdense = 0;
	struct xt_idpair *a = xt_vec_grow(&x->sparse, sizeof *a, n);
	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++) {
		a[i].id = *(const uint64_t *)((const char *)entries + i * stride);
		a[i].idx = (uint32_t)i;
	}
	qsort(a, n, sizeof *a, xt_pair_cmp);
	int found = 0;
	for (size_t i = 1; i < n; i++)
		if (a[i].id == a[i - 1].id && (!found || a[i].idx < *dup)) {
			*dup = a[i].idx;
			found = 1;
		}
	return found;
}

void xt_idx_free(struct xt_idx *x)
{
	free(x->dense);
	xt_vec_free(&x->sparse);
	memset(x, 0, sizeof *x);
}
/* xt_index reports a duplicate ID with the offset of the batch that repeats it. */
int xt_rd_index(xtrace_reader *r, struct xt_idx *x, const struct xt_vec *v, size_t stride,
		    const char *what, uint64_t (*boff)(const struct xt_gen *, size_t))
{
	size_t dup = 0;
	int rc = xt_idx_build(x, v->p, v->n, stride, &dup);
	if (rc < 0)
		return XT_NOMEM(r);
	if (rc > 0) {
		uint64_t off = boff(&r->g, dup);
		return xt_rd_fail(r, XTRACE_ERR_CORRUPT, off,
			       "batch at offset %" PRIu64 ": duplicate %s id %" PRIu64
			       " in generation %" PRIu64,
			       off, what, *(const uint64_t *)((const char *)v->p + dup * stride),
			       r->g.gen);
	}
	return 0;
}