/* keyhash.h: the one hash of every analysis table keyed by what a trace holds (addresses,
 * thread and timer IDs, stacks, names). A fixed hash lets a crafted trace choose keys that all
 * fall into one probe run, and every lookup then walks them all: the analysis turns quadratic.
 * This is XXH3 keyed with a seed drawn at random once per process, so a trace cannot aim. */
#ifndef XT_KEYHASH_H
#define XT_KEYHASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* xt_keyhash_seed is drawn when the program starts (keyhash.c). */
extern uint64_t xt_keyhash_seed;

static inline uint64_t xt_keyhash_u64(uint64_t key)
{
	return XXH3_64bits_withSeed(&key, sizeof key, xt_keyhash_seed);
}

static inline uint64_t xt_keyhash_bytes(const void *p, size_t len)
{
	return XXH3_64bits_withSeed(p, len, xt_keyhash_seed);
}

/* xt_keyhash_fix_seed replaces the random seed, for runs that must repeat exactly (the fuzz
 * check: the same inputs must take the same paths). Call it before any table exists. */
void xt_keyhash_fix_seed(uint64_t seed);

#endif
