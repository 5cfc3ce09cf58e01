/* sample.h: XTRACE_SAMPLE, heap sampling by bytes (sample.c). With a mean of T bytes, each
 * thread counts down the bytes it allocates from an exponentially distributed start (mean T);
 * the allocation that takes the count below zero is sampled, and the count starts again from a
 * fresh draw. Since the exponential forgets, every allocation of s bytes is sampled with
 * probability 1 - exp(-s/T), independently of the others, as in tcmalloc's sampler: a reader
 * weighs each sample by the inverse of that. A sampled object's free is recorded too: the
 * sampled addresses live in a lock-free set that every free looks up. */
#ifndef XT_SAMPLE_H
#define XT_SAMPLE_H

#include "shim.h"

/* Bytes this thread still allocates before its next sample; below zero: the next call takes
 * the slow path. It starts at -1, so a thread's first call does, and stays there when every
 * call is recorded. */
extern XT_TLS int64_t xt_sample_left;
/* The set of sampled live addresses, NULL when every call is recorded. */
extern _Atomic uint64_t *xt_sampled;

/* xt_sample_slow decides for a call whose bytes took the count below zero: true to record it
 * (always when not sampling). */
XT_HIDDEN bool xt_sample_slow(uint64_t bytes);

/* xt_sample_skip: the allocation of bytes is not recorded. An unsampled call costs the
 * decrement and the branch; when not sampling the count stays below zero, and every call is
 * recorded without calling out. */
static inline bool xt_sample_skip(uint64_t bytes)
{
	xt_sample_left = (int64_t)((uint64_t)xt_sample_left - bytes);
	if (xt_likely(xt_sample_left >= 0))
		return true;
	return xt_sampled && !xt_sample_slow(bytes);
}

/* xt_sample_init reads nothing itself (xt_config.sample_bytes is the mean) and maps the set
 * when sampling: false if it cannot be mapped. */
XT_HIDDEN bool xt_sample_init(void);
/* xt_sampled_add puts the sampled object at addr into the set: false when its part of the set
 * is full (the object is then not recorded, so its free is not looked for). */
XT_HIDDEN bool xt_sampled_add(uint64_t addr);
/* In front of the set, a counting filter small enough to stay in cache: how many live sampled
 * addresses have each value of the top XT_FILTER_BITS bits of xt_sampled_hash. Most frees are
 * of unsampled objects, and find a zero here without a call or a look at the set. */
#define XT_FILTER_BITS 12
extern _Atomic uint8_t *xt_sample_filter;
static inline uint64_t xt_sampled_hash(uint64_t addr)
{
	return addr * 0x9e3779b97f4a7c15ull;
}

/* xt_sampled_take_slow removes addr from the set: true if it was there. */
XT_HIDDEN bool xt_sampled_take_slow(uint64_t addr);
/* xt_sampled_take removes addr from the set: true if it was there (its free is recorded). A
 * free of an object allocated on another thread comes after that thread's insert by the
 * program's own synchronization, so a relaxed load sees its count. */
static inline bool xt_sampled_take(uint64_t addr)
{
	return atomic_load_explicit(&xt_sample_filter[xt_sampled_hash(addr) >> (64 - XT_FILTER_BITS)],
				    memory_order_relaxed) &&
	       xt_sampled_take_slow(addr);
}

#endif
