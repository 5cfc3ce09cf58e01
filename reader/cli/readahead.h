/* readahead.h: a reader's events decoded on a helper thread, ahead of the command that formats
 * them, so decoding and formatting run on two processors at once (`xtrace dump`).
 *
 *   struct cli_readahead *ra = cli_readahead_start(r);
 *   const struct xtrace_event *ev;
 *   while ((ev = cli_readahead_next(ra, &rc)))   // rc as xtrace_next's, once ev is NULL
 *       ... use ev and the tables of r (xtrace_get_sync, xtrace_string, xtrace_stack, ...) ...
 *   cli_readahead_stop(ra);                     // before xtrace_status(r) or xtrace_close(r)
 *
 * The helper hands events over in blocks and never reads on into a generation while the
 * command still holds events of the current one, so the table accessors stay valid for every
 * event handed out, as with xtrace_next. Where no thread can be started the same calls run
 * xtrace_next directly. */
#ifndef XT_READAHEAD_H
#define XT_READAHEAD_H

#include "xtrace-reader.h"

struct cli_readahead;

/* cli_readahead_start starts reading r ahead; NULL only without memory. */
struct cli_readahead *cli_readahead_start(xtrace_reader *r);
/* cli_readahead_next returns the next event, valid until the next call; NULL at the end, with
 * *rc 0 (the clean end of the trace) or -1 (see xtrace_status). */
const struct xtrace_event *cli_readahead_next(struct cli_readahead *ra, int *rc);
/* cli_readahead_stop stops the helper (soon, if the command stopped early) and frees ra. */
void cli_readahead_stop(struct cli_readahead *ra);

#endif
