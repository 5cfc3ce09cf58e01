/* names.c: the string interner (see names.h): an arena of NUL-terminated strings and an
 * open-addressing index of their IDs. Adding a name allocates only when a table doubles. */
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "keyhash.h"

/* Names come from the trace (regions, module paths) and the files it names: seeded. */
static uint64_t hash(const char *s, size_t len)
{
	return xt_keyhash_bytes(s, len);
}

/* note_probe keeps the farthest slot i lies from the home slot of hash h. */
static void note_probe(struct xt_names *n, uint32_t i, uint64_t h)
{
	uint32_t d = (i - (uint32_t)h) & n->mask;
	if (d > n->max_probe)
		n->max_probe = d;
}

int xt_names_init(struct xt_names *n)
{
	memset(n, 0, sizeof *n);
	n->arena_cap = 4096;
	n->cap = 64;
	n->mask = 127;
	n->arena = malloc(n->arena_cap);
	n->off = malloc(n->cap * sizeof *n->off);
	n->len = malloc(n->cap * sizeof *n->len);
	n->slots = calloc(n->mask + 1, sizeof *n->slots);
	if (!n->arena || !n->off || !n->len || !n->slots) {
		xt_names_destroy(n);
		return -1;
	}
	return 0;
}

void xt_names_destroy(struct xt_names *n)
{
	free(n->arena);
	free(n->off);
	free(n->len);
	free(n->slots);
	memset(n, 0, sizeof *n);
}

/* slot_of returns the slot holding s or the empty slot where it would go. */
static uint32_t slot_of(const struct xt_names *n, const char *s, size_t len, uint64_t h)
{
	uint32_t i = (uint32_t)h & n->mask;
	for (;; i = (i + 1) & n->mask) {
		uint32_t v = n->slots[i];
		if (v == 0)
			return i;
		if (n->len[v - 1] == len && memcmp(n->arena + n->off[v - 1], s, len) == 0)
			return i;
	}
}

uint32_t xt_names_find(const struct xt_names *n, const char *s, size_t len)
{
	uint32_t v = n->slots[slot_of(n, s, len, hash(s, len))];
	return v ? v - 1 : UINT32_MAX;
}

static int grow_index(struct xt_names *n)
{
	uint32_t cap = (n->mask + 1) * 2;
	uint32_t *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	free(n->slots);
	n->slots = slots;
	n->mask = cap - 1;
	n->max_probe = 0;
	for (uint32_t id = 0; id < n->count; id++) {
		const char *s = n->arena + n->off[id];
		uint64_t h = hash(s, n->len[id]);
		uint32_t i = slot_of(n, s, n->len[id], h);
		note_probe(n, i, h);
		n->slots[i] = id + 1;
	}
	return 0;
}

uint32_t xt_names_id(struct xt_names *n, const char *s, size_t len)
{
	uint64_t h = hash(s, len);
	uint32_t i = slot_of(n, s, len, h);
	note_probe(n, i, h);
	if (n->slots[i])
		return n->slots[i] - 1;
	if (len >= UINT32_MAX / 2 || n->arena_len + len + 1 >= UINT32_MAX)
		return UINT32_MAX;
	if (n->arena_len + len + 1 > n->arena_cap) {
		size_t cap = n->arena_cap;
		while (cap < n->arena_len + len + 1)
			cap *= 2;
		char *a = realloc(n->arena, cap);
		if (!a)
			return UINT32_MAX;
		n->arena = a;
		n->arena_cap = cap;
	}
	if (n->count == n->cap) {
		uint32_t *o = realloc(n->off, 2 * n->cap * sizeof *o);
		if (o)
			n->off = o;
		uint32_t *l = realloc(n->len, 2 * n->cap * sizeof *l);
		if (l)
			n->len = l;
		if (!o || !l)
			return UINT32_MAX;
		n->cap *= 2;
	}
	uint32_t id = n->count++;
	n->off[id] = (uint32_t)n->arena_len;
	n->len[id] = (uint32_t)len;
	memcpy(n->arena + n->arena_len, s, len);
	n->arena[n->arena_len + len] = 0;
	n->arena_len += len + 1;
	n->slots[i] = id + 1;
	/* Keep the index at most half full. */
	if ((n->count * 2 > n->mask + 1) && grow_index(n) < 0) {
		n->count--;
		n->arena_len -= len + 1;
		n->slots[i] = 0;
		return UINT32_MAX;
	}
	return id;
}
