/* sample.c: XTRACE_SAMPLE's sampler and the set of sampled addresses (see sample.h). Only a
 * sampled call and the free of a sampled object come here past the inline count; the set is
 * looked up by every free, without a lock. */
#include <string.h>
#include <sys/mman.h>

#include "real.h"
#include "sample.h"

XT_TLS int64_t xt_sample_left = -1;
_Atomic uint64_t *xt_sampled;

/* The thread's generator (splitmix64); 0 until its first draw seeds it. */
static XT_TLS uint64_t rng;
/* Threads seeded so far: with XTRACE_SAMPLE_SEED, a thread's stream is the seed's and its
 * order's, so a run of a single-threaded program repeats exactly. */
static _Atomic uint64_t seeded;

/* The set: open addressing on a hash of the address; a slot holds 0 (never used), a
 * tombstone (a sampled object freed), or a live sampled address. A slot never becomes empty
 * again, so a lookup may stop at the first empty slot; an address is only ever placed within
 * XT_SAMPLED_PROBE slots of its home, so a lookup never looks further, whatever the churn. */
#define XT_SAMPLED_BITS 17
#define XT_SAMPLED_SLOTS (1u << XT_SAMPLED_BITS)
#define XT_SAMPLED_PROBE 16
#define TOMBSTONE 1 /* no allocation is at address 1 */
/* the filter in front of it (sample.h); a saturated count stays: it only costs lookups */
_Atomic uint8_t *xt_sample_filter;

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* neg_log is -ln(u) for u in (0, 1], a normal double: u = m * 2^e with m in [sqrt(1/2),
 * sqrt(2)), ln m by the series of 2 atanh((m - 1) / (m + 1)) (|s| < 0.18: 12 terms reach double
 * precision). Written out so that the shim needs no libm, whose loading costs every traced
 * process about eight page faults at start. */
static double neg_log(double u)
{
	uint64_t bits;
	memcpy(&bits, &u, sizeof bits);
	int e = (int)(bits >> 52) - 1022; /* u = m * 2^e, m in [0.5, 1) */
	bits = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1022) << 52);
	double m;
	memcpy(&m, &bits, sizeof m);
	if (m < 0.70710678118654752440) {
		m *= 2;
		e--;
	}
	double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
	for (int k = 1; k < 24; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return -((double)e * 0.69314718055994530942 + 2 * sum);
}

/* draw is an exponentially distributed byte count of mean xt_config.sample_bytes. */
static int64_t draw(void)
{
	double u = (double)((splitmix(&rng) >> 11) + 1) * 0x1p-53; /* (0, 1] */
	double v = neg_log(u) * (double)xt_config.sample_bytes;
	return v < 0x1p62 ? (int64_t)v : INT64_C(1) << 62;
}

bool xt_sample_slow(uint64_t bytes)
{
	if (xt_unlikely(!rng)) {
		uint64_t n = atomic_fetch_add(&seeded, 1) + 1;
		rng = xt_config.sample_seed ? xt_config.sample_seed * 0x2545f4914f6cdd1dull + n
					    : xt_now() ^ ((uintptr_t)&rng * 0x9e3779b97f4a7c15ull);
		rng |= 1;
		/* The thread's first count: this call is sampled if it reaches past the count. */
		xt_sample_left = draw() - (int64_t)(bytes < (uint64_t)INT64_MAX ? bytes : INT64_MAX);
		if (xt_sample_left >= 0)
			return false;
	}
	xt_sample_left = draw();
	return true;
}

bool xt_sample_init(void)
{
	if (!xt_config.sample_bytes)
		return true;
	size_t set_len = XT_SAMPLED_SLOTS * sizeof(uint64_t);
	/* Populated at once: a sample's first touch of a page would fault on the program's thread
	 * (a fault costs what thousands of unsampled calls do). 1 MiB and 4 KiB, resident. */
	uint8_t *m = xt_real.mmap(NULL, set_len + (1u << XT_FILTER_BITS), PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	xt_sample_filter = (_Atomic uint8_t *)(m + set_len);
	xt_sampled = (_Atomic uint64_t *)m;
	return true;
}

static inline size_t home(uint64_t addr)
{
	return (size_t)(xt_sampled_hash(addr) >> (64 - XT_SAMPLED_BITS));
}
static inline _Atomic uint8_t *filter_count(uint64_t addr)
{
	return &xt_sample_filter[xt_sampled_hash(addr) >> (64 - XT_FILTER_BITS)];
}

/* filter_add counts addr in (up), or out of, the filter; a saturated count stays. */
static void filter_add(uint64_t addr, bool up)
{
	_Atomic uint8_t *c = filter_count(addr);
	uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
	while (v != UINT8_MAX && !atomic_compare_exchange_weak(c, &v, (uint8_t)(up ? v + 1 : v - 1)))
		;
}

bool xt_sampled_add(uint64_t addr)
{
	size_t h = home(addr);
	for (size_t i = 0; i < XT_SAMPLED_PROBE; i++) {
		_Atomic uint64_t *slot = &xt_sampled[(h + i) & (XT_SAMPLED_SLOTS - 1)];
		uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
		while (v == 0 || v == TOMBSTONE) {
			if (atomic_compare_exchange_weak_explicit(slot, &v, addr, memory_order_release,
								  memory_order_relaxed)) {
				filter_add(addr, true);
				return true;
			}
		}
	}
	return false;
}

bool xt_sampled_take_slow(uint64_t addr)
{
	size_t h = home(addr);
	for (size_t i = 0; i < XT_SAMPLED_PROBE; i++) {
		_Atomic uint64_t *slot = &xt_sampled[(h + i) & (XT_SAMPLED_SLOTS - 1)];
		uint64_t v = atomic_load_explicit(slot, memory_order_acquire);
		if (v == 0)
			return false;
		/* Only the free of the object at addr removes it: no other thread changes this slot
		 * meanwhile (a double free would be the program's own error). */
		if (v == addr && atomic_compare_exchange_strong(slot, &v, TOMBSTONE)) {
			filter_add(addr, false);
			return true;
		}
	}
	return false;
}
