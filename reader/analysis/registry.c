/* registry.c: the table of analyses (see registry.h). */
#include "registry.h"

extern const struct xt_analysis xt_analysis_malloc_heap, xt_analysis_timers, xt_analysis_heaps,
	xt_analysis_addrspace;

const struct xt_analysis *const xt_analyses[XT_AN_COUNT] = {
	[XT_AN_MALLOC_HEAP] = &xt_analysis_malloc_heap,
	[XT_AN_TIMERS] = &xt_analysis_timers,
	[XT_AN_HEAPS] = &xt_analysis_heaps,
	[XT_AN_ADDRSPACE] = &xt_analysis_addrspace,
};
