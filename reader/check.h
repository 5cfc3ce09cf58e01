/* check.h: checking a gathered generation's events (check.c). */
#ifndef XT_READER_CHECK_H
#define XT_READER_CHECK_H

#include "internal.h"

#pragma GCC visibility push(hidden)
/* xt_rd_check checks every Events batch of g, counting its events: 0, or -1 with the error of
 * the first bad batch in file order set. */
int xt_rd_check(xtrace_reader *r, struct xt_gen *g);
#pragma GCC visibility pop

#endif
