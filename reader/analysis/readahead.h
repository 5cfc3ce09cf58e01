/* readahead.h: a reader's events decoded on a helper thread, ahead of the thread that takes
 * them in, so decoding and analysing (or formatting) run on two processors at once: every
 * summary pass (summary.c) and `xtrace dump` read this way.
 *
 *   struct xt_readahead *ra = xt_readahead_start(r, XT_READAHEAD_MIN);
 *   const struct xtrace_event *ev;
 *   while ((ev = xt_readahead_next(ra, &rc)))  // rc as xtrace_next's, once ev is NULL
 *       ... use ev and the tables of r (xtrace_get_sync, xtrace_string, xtrace_stack, ...) ...
 *   xt_readahead_stop(ra);                    // before xtrace_status(r) or xtrace_close(r)
 *
 * The helper hands events over in blocks and never reads on into a generation while the
 * caller still holds events of the current one, so the table accessors stay valid for every
 * event handed out, as with xtrace_next. Where no thread can be started the same calls run
 * xtrace_next directly. */
#ifndef XT_ANALYSIS_READAHEAD_H
#define XT_ANALYSIS_READAHEAD_H

#include <stdint.h>

#include "xtrace-reader.h"

struct xt_readahead;

/* xt_readahead_start sets up reading r ahead: from the first generation of at least
 * min_events events on (XT_READAHEAD_MIN: below that a thread costs more than it saves), a
 * helper thread decodes. NULL only without memory. */
#define XT_READAHEAD_MIN 16384
struct xt_readahead *xt_readahead_start(xtrace_reader *r, uint64_t min_events);
/* xt_readahead_next returns the next event, valid until the next call; NULL at the end, with
 * *rc 0 (the clean end of the trace) or -1 (see xtrace_status). */
const struct xtrace_event *xt_readahead_next(struct xt_readahead *ra, int *rc);
/* xt_readahead_stop stops the helper (soon, if the caller stopped early) and frees ra. */
void xt_readahead_stop(struct xt_readahead *ra);

#endif
