/* flight.h: the flight recorder (XTRACE_FLIGHT=MiB, flight.c): whole generations kept in a ring
 * in memory instead of written, the oldest dropped whole, written out at exit, at a fatal
 * signal and on `xtrace ctl PID snapshot`. Every function runs with output.c's lock held. */
#ifndef XT_FLIGHT_H
#define XT_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "shim.h"

/* xt_flight_on: the recorder keeps the generations (XTRACE_FLIGHT set and its ring mapped). */
XT_HIDDEN bool xt_flight_on(void);
/* xt_flight_reset maps the ring of cap bytes the first time, and empties it (a new trace). */
XT_HIDDEN bool xt_flight_reset(size_t cap);
/* xt_flight_put appends bytes (their pieces) to the generation being kept. */
XT_HIDDEN void xt_flight_put(const struct iovec *iov, int n);
/* xt_flight_end_gen: the generation being kept is complete (its End batch was put). */
XT_HIDDEN void xt_flight_end_gen(void);
/* xt_flight_kept points out at the bytes of the complete generations kept, oldest first (at
 * most two pieces: the ring wraps); returns how many pieces. xt_flight_drain forgets them (the
 * trace file has them now). */
XT_HIDDEN int xt_flight_kept(struct iovec out[2]);
XT_HIDDEN void xt_flight_drain(void);
/* xt_flight_status describes the ring for `xtrace ctl PID status`. */
XT_HIDDEN void xt_flight_status(char *out, size_t cap);

#endif
