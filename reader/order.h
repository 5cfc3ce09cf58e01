/* order.h: the merged, time-ordered event stream of a checked generation (order.c). */
#ifndef XT_READER_ORDER_H
#define XT_READER_ORDER_H

#include "internal.h"

#pragma GCC visibility push(hidden)
/* xt_rd_order_start sorts the generation's Events batches by thread and sets up the cursors:
 * 0, or -1 without memory. */
int xt_rd_order_start(xtrace_reader *r);
/* xt_rd_order_next fills ev with the generation's next event: 1, or 0 when it has no more. */
int xt_rd_order_next(xtrace_reader *r, struct xtrace_event *ev);
void xt_rd_order_free(xtrace_reader *r);
#pragma GCC visibility pop

#endif
