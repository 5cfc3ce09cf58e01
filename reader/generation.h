/* generation.h: gathering one generation's batches and tables (generation.c). */
#ifndef XT_READER_GENERATION_H
#define XT_READER_GENERATION_H

#include "internal.h"

#pragma GCC visibility push(hidden)
/* xt_rd_gen_load reads the next generation into r->g, its tables parsed and indexed, its events
 * not yet checked: 1, 0 at the clean end of the trace, -1 on an error (set in r). */
int xt_rd_gen_load(xtrace_reader *r);
void xt_rd_gen_free(struct xt_gen *g);
#pragma GCC visibility pop

#endif
