/* names.h: a string interner: byte strings -> dense IDs from 0, and back. Analyses key what they
 * show by name through it (functions, files, regions, site keys), so that a name is stored once
 * and compares as an integer, also across two traces that share one table (diff). */
#ifndef XT_NAMES_H
#define XT_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct xt_names {
	char *arena;        /* the strings, each NUL-terminated */
	size_t arena_len, arena_cap;
	uint32_t *off;      /* id -> offset in arena */
	uint32_t *len;      /* id -> length */
	uint32_t count, cap;
	uint32_t *slots;    /* open addressing: id + 1, 0 empty */
	uint32_t mask;
	uint32_t max_probe; /* the farthest an added or looked-up name sits from its home slot */
};

/* xt_names_init: 0, or -1 without memory. */
int xt_names_init(struct xt_names *n);
void xt_names_destroy(struct xt_names *n);

/* xt_names_id returns the ID of s (len bytes), adding it: UINT32_MAX without memory. */
uint32_t xt_names_id(struct xt_names *n, const char *s, size_t len);
/* xt_names_find returns the ID of s, or UINT32_MAX if it is not there. */
uint32_t xt_names_find(const struct xt_names *n, const char *s, size_t len);

static inline const char *xt_names_str(const struct xt_names *n, uint32_t id)
{
	return n->arena + n->off[id];
}

static inline size_t xt_names_len(const struct xt_names *n, uint32_t id)
{
	return n->len[id];
}

#endif
