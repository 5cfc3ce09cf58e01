/* prefetch.h: readying the next generation on a helper thread while the caller reads the
 * current one (prefetch.c). */
#ifndef XT_READER_PREFETCH_H
#define XT_READER_PREFETCH_H

#include "internal.h"

#pragma GCC visibility push(hidden)
/* xt_rd_ready_gen reads the next generation into r->g and checks its events: 1, 0 at the clean
 * end of the trace, -1 on an error (set in r). What xtrace_next does between generations, on
 * whichever thread runs it. */
int xt_rd_ready_gen(xtrace_reader *r);
/* xt_rd_prefetch_start, once r has handed out a generation's Sync and more bytes follow it,
 * starts a helper thread readying the next generation: 0, or -1 when none could be started (the
 * caller then goes on readying them itself). */
int xt_rd_prefetch_start(xtrace_reader *r);
/* xt_rd_prefetch_take waits for the generation the helper readied and makes it r->g, as
 * xt_rd_ready_gen would have: 1, 0 at the end, -1 with the helper's error set in r. */
int xt_rd_prefetch_take(xtrace_reader *r);
/* xt_rd_prefetch_stop ends the helper (waiting for the generation it is readying) and frees
 * what it held. */
void xt_rd_prefetch_stop(xtrace_reader *r);
#pragma GCC visibility pop

#endif
