/* sampling.c: a sampled trace's weights (see sampling.h). */
#include "sampling.h"

#include <math.h>

void xt_sampling_weigh(struct xt_sampling *w, uint64_t *bytes, uint32_t *objects)
{
	*objects = 1;
	if (!w->mean || !*bytes)
		return; /* a zero-byte request is never sampled: it stands for itself */
	double s = (double)*bytes;
	double p = -expm1(-s / (double)w->mean);
	double est = s / p;
	*bytes = est < 0x1p63 ? (uint64_t)llround(est) : UINT64_MAX;
	double n = w->carry + 1 / p;
	double whole = floor(n);
	w->carry = n - whole;
	*objects = whole < (double)UINT32_MAX ? (uint32_t)whole : UINT32_MAX;
}

void xt_sampling_put_text(struct xt_out *o, const char *prefix, uint64_t mean)
{
	char b[32];
	if (mean)
		xt_out_printf(o, "%sestimated: heap figures from sampled allocations, one per %s "
			      "allocated on average (XTRACE_SAMPLE=%llu)\n",
			      prefix, xt_fmt_bytes(b, sizeof b, mean), (unsigned long long)mean);
}

void xt_sampling_put_json(struct xt_out *o, uint64_t mean)
{
	if (mean)
		xt_out_printf(o, ",\n  \"estimated\": true,\n  \"sample_bytes\": %llu",
			      (unsigned long long)mean);
}
