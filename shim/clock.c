/* clock.c: the trace clock.
 *
 * Where the CPU says its TSC is invariant (CPUID 0x80000007 EDX bit 8: constant rate, running
 * in every power state; the kernel keeps it in step across CPUs), events carry TSC ticks in
 * units of 2^XT_TIME_SHIFT (64, as Go's tracer on amd64): one rdtsc and a shift per event, no
 * multiply, whatever clocksource the kernel chose. The unit is about 24 ns at 2.7 GHz, finer
 * than an event costs, and takes a byte off most events' time deltas (mtloop 2.35 -> 2.03
 * bytes per event, perl 2.31 -> 1.75); a coarser one would save more, but then an address
 * allocated on one thread and freed on another often shares a unit with its free, which a
 * reader cannot order by meaning (reader/order.c).
 *
 * Each generation is calibrated on the shim's own thread instead: its Sync carries a (units,
 * CLOCK_MONOTONIC ns) pair sampled together at its start and the rate in units per second,
 * measured on the TSC itself from there to the next generation's pair, so a reader maps the
 * generation's units onto CLOCK_MONOTONIC exactly at both ends (experiments/README.md, "Sync
 * batch"). Nothing is calibrated at start. Elsewhere events carry CLOCK_MONOTONIC nanoseconds,
 * and every pair is (ns, ns) at 1e9 ticks/s. */
#include <cpuid.h>

#include "format.h"
#include "shim.h"

struct xt_clock xt_clock;

/* A generation shorter than this is stretched to it at its end, so its rate is measured over
 * at least this long. The pairs are good to a few tens of ns and the generation's events lie
 * between them, so a short span costs little precision; longer, it is a spin every short-lived
 * process (a fork child, /bin/true) pays at exit. */
#define MIN_SPAN_NS 2000u

static bool tsc_invariant(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
}

void xt_clock_init(void)
{
	xt_clock.use_tsc = tsc_invariant();
}

/* pair samples the TSC and the monotonic clock together, keeping the tightest of a few tries,
 * with the TSC value at the middle of the clock read. */
static struct xt_clock_pair pair(void)
{
	struct xt_clock_pair p = {0, 0, 0};
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 8; i++) {
		uint64_t a = __builtin_ia32_rdtsc();
		uint64_t n = xt_mono_ns();
		uint64_t b = __builtin_ia32_rdtsc();
		if (b - a < best) {
			best = b - a;
			p.raw = a + (b - a) / 2;
			p.ns = n;
		}
	}
	p.ticks = p.raw >> XT_TIME_SHIFT;
	return p;
}

struct xt_clock_pair xt_clock_sample(void)
{
	if (!xt_clock.use_tsc) {
		uint64_t n = xt_mono_ns();
		return (struct xt_clock_pair){n, n, n};
	}
	return pair();
}

struct xt_clock_pair xt_clock_sample_after(const struct xt_clock_pair *from)
{
	struct xt_clock_pair p = xt_clock_sample();
	while (xt_clock.use_tsc && (p.ns < from->ns + MIN_SPAN_NS || p.ticks <= from->ticks))
		p = pair();
	return p;
}

uint64_t xt_clock_rate(const struct xt_clock_pair *a, const struct xt_clock_pair *b)
{
	if (!xt_clock.use_tsc || b->ns <= a->ns || b->ticks <= a->ticks)
		return XT_TICKS_PER_SEC;
	return (uint64_t)((unsigned __int128)(b->raw - a->raw) * 1000000000u /
			  ((unsigned __int128)(b->ns - a->ns) << XT_TIME_SHIFT));
}
