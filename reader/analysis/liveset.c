/* liveset.c: the live set's open-addressing table (see liveset.h). Hot path: no allocation but
 * the doubling, no tombstones. */
#include "liveset.h"

#include <stdlib.h>
#include <sys/mman.h>






/* A table of at least XT_LIVESET_MAPPED bytes is mapped on its own, asking for huge pages: a big
 * live set is touched at random, and in 4 KiB pages each page costs a fault as it is first
 * touched (about 10 us on a VM: half the time of `stats` on a trace whose live set reaches a
 * million objects) and most lookups a TLB miss. */
#define XT_LIVESET_MAPPED (UINT64_C(2) << 20)

static struct xt_live *table_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct xt_live);
	if (bytes < XT_LIVESET_MAPPED)
		return calloc(cap, sizeof(struct xt_live));
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it the table still works */
	return p;
}

static void table_free(struct xt_live *slots, size_t cap)
{
	size_t bytes = cap * sizeof(struct xt_live);
	if (bytes < XT_LIVESET_MAPPED)
		free(slots);
	else if (slots)
		munmap(slots, bytes);
}

static int alloc_table(struct xt_liveset *s, size_t cap)
{
	struct xt_live *slots = table_alloc(cap);
	if (!slots)
		return -1;
	s->slots = slots;
	s->mask = cap - 1;
	s->max_probe = 0;
	return 0;
}

int xt_liveset_init(struct xt_liveset *s, size_t hint)
{
	size_t cap = 16;
	/* Keep the load at most 1/2 for hint keys: short probe runs keep remove cheap, and a big
	 * live set still costs at most four slots an object. */
	while (cap / 2 < hint)
		cap *= 2;
	s->count = 0;
	return alloc_table(s, cap);
}

void xt_liveset_destroy(struct xt_liveset *s)
{
	table_free(s->slots, s->mask + 1);
	s->slots = NULL;
	s->count = 0;
}


int xt_liveset_grow(struct xt_liveset *s)
{
	struct xt_live *old = s->slots;
	size_t oldcap = s->mask + 1;
	if (alloc_table(s, oldcap * 2) < 0)
		return -1;
	for (size_t j = 0; j < oldcap; j++) {
		if (old[j].addr == 0)
			continue;
		size_t h = xt_liveset_slot_home(s, &old[j]), i = h;
		while (s->slots[i].addr != 0)
			i = (i + 1) & s->mask;
		xt_liveset_note_probe(s, h, i);
		s->slots[i] = old[j];
	}
	table_free(old, oldcap);
	return 0;
}


