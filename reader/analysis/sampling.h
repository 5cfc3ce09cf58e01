/* sampling.h: what the allocations of a sampled trace (XTRACE_SAMPLE, the header's
 * sample_bytes) stand for. At a mean of T bytes, the writer sampled an allocation of s bytes
 * with probability p = 1 - exp(-s/T), so it stands for s/p bytes and 1/p objects: unbiased
 * estimates, as tcmalloc's and jemalloc's heap profilers weigh their samples. Every heap figure
 * of the malloc heap (totals, live and peak bytes, sites) is read through these weights, so it
 * is an estimate, and the commands say so. Objects are counted whole: each sample adds the
 * whole objects its running sum of 1/p passes, so any total is within one of the sum. */
#ifndef XT_SAMPLING_H
#define XT_SAMPLING_H

#include <stdint.h>

#include "cli/output.h"

struct xt_sampling {
	uint64_t mean;  /* T; 0: not sampled, every allocation stands for itself */
	double carry;   /* the fraction of an object the samples so far stood for beyond whole ones */
};

/* xt_sampling_weigh turns a sample's requested *bytes into the bytes it stands for, and sets
 * *objects to how many objects it adds (1 when the trace is not sampled). */
void xt_sampling_weigh(struct xt_sampling *w, uint64_t *bytes, uint32_t *objects);

/* xt_sampling_put_text writes, for a sampled trace (mean > 0), the line saying its heap figures
 * are estimates, after prefix; nothing for a trace of every call. */
void xt_sampling_put_text(struct xt_out *o, const char *prefix, uint64_t mean);
/* xt_sampling_put_json writes, for a sampled trace, the members "estimated": true and
 * "sample_bytes" after a comma; nothing for a trace of every call. */
void xt_sampling_put_json(struct xt_out *o, uint64_t mean);

#endif
