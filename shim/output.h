/* output.h: the trace file: naming, header, and batches in generation order. */
#ifndef XT_OUTPUT_H
#define XT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "shim.h"

/* Who this trace belongs to, written in the header. */
struct xt_origin {
	uint64_t fork_parent_pid, fork_ts;
};

/* xt_out_open creates the trace file (never overwriting, never following a symlink) and writes
 * its header; false (after one line on stderr) when it cannot. Resets generation order to 1. */
XT_HIDDEN bool xt_out_open(const struct xt_origin *origin);
XT_HIDDEN void xt_out_close(void);

/* Batches. A generation's batches are gathered in memory and written whole at its End.
 * xt_out_lock/unlock bracket the advancer's run of xt_out_batch calls and the End. Write errors
 * stop tracing, once, with a line on stderr. */
XT_HIDDEN void xt_out_lock(void);
/* xt_out_trylock gives up after about timeout_ms (for the fatal-signal path). */
XT_HIDDEN bool xt_out_trylock(unsigned timeout_ms);
XT_HIDDEN void xt_out_unlock(void);
XT_HIDDEN void xt_out_batch(uint8_t kind, uint8_t exp, uint64_t gen, uint64_t thread, uint64_t time,
			    const void *data, size_t len);
/* xt_out_events_batch takes a program thread's full buffer of generation gen, without waiting
 * for anything but a copy, and zeroes the buffer's count of events (*events) in the same hold
 * of the stage's lock; false if it is lost (gen is sealed, or gathered too much already). */
XT_HIDDEN bool xt_out_events_batch(uint64_t gen, uint64_t thread, uint64_t time, const void *data,
				   size_t len, _Atomic uint32_t *events);
/* xt_out_open_gen begins gathering generation gen (before xt_gen says gen); xt_out_seal(gen)
 * ends program threads' batches of it (the advancer gives up on a section of it, or writes it
 * now): once it returns, no batch of gen goes in, and a buffer's count of events is what of it
 * is not in the generation. */
XT_HIDDEN void xt_out_open_gen(uint64_t gen);
XT_HIDDEN void xt_out_seal(uint64_t gen);
/* A table batch the advancer builds from whole entries: a batch is written whenever the next
 * entry may not fit. Experimental batches begin with their subtype byte, again in every batch
 * a long table continues into. */
struct xt_tablew {
	uint8_t kind, exp;
	int subtype; /* -1: none */
	uint64_t gen, time;
	size_t len;
	uint8_t buf[XT_MAX_BATCH_SIZE];
};
/* xt_tablew_shared is the writer of every table a generation's end writes, one table after
 * another under the advance lock: one page of it is touched for a small generation's tables,
 * not a page of a writer of each (a page fault each in a short process). */
XT_HIDDEN struct xt_tablew *xt_tablew_shared(void);
XT_HIDDEN void xt_tablew_begin(struct xt_tablew *w, uint8_t kind, uint8_t exp, uint64_t gen,
			       uint64_t time);
/* xt_tablew_room returns where an entry of at most need bytes goes; xt_tablew_commit ends it. */
XT_HIDDEN uint8_t *xt_tablew_room(struct xt_tablew *w, size_t need);
XT_HIDDEN void xt_tablew_commit(struct xt_tablew *w, const uint8_t *end);
XT_HIDDEN void xt_tablew_flush(struct xt_tablew *w);
/* xt_tablew_string appends a Strings entry {id, len, bytes}. */
XT_HIDDEN void xt_tablew_string(struct xt_tablew *w, uint64_t id, const void *s, size_t len);

/* xt_out_end adds generation gen's End batch and writes the generation to the file, compressed
 * unless XTRACE_COMPRESS=0 (lock held). */
XT_HIDDEN void xt_out_end(uint64_t gen, uint64_t lost);
/* The flight recorder (flight.h): xt_out_flight_write writes the generations kept to the
 * trace file (exit, exec, fatal signal: crash waits for the lock a bounded time);
 * xt_out_flight_snapshot writes them, after the header, to a new file next to it and names it
 * in reply; xt_out_flight_status describes the ring ("" without a recorder). */
XT_HIDDEN void xt_out_flight_write(bool crash);
XT_HIDDEN bool xt_out_flight_snapshot(char *reply, size_t cap);
XT_HIDDEN void xt_out_flight_status(char *reply, size_t cap);
/* xt_out_reinit_locks: in a fork child, the parent's lock state is meaningless. */
XT_HIDDEN void xt_out_reinit_locks(void);
XT_HIDDEN bool xt_out_ok(void);

/* xt_out_fd is the trace descriptor's number (-1: none open now), for shim/fds.c to hide it
 * from the program. xt_out_vacate moves the descriptor off number n, if it is there, before the
 * program duplicates onto n; with no number free, the file is opened again at the next write. */
XT_HIDDEN int xt_out_fd(void);
XT_HIDDEN void xt_out_vacate(int n);

/* xt_out_path is the trace file's path from the root. */
XT_HIDDEN const char *xt_out_path(void);
/* xt_out_exe_path is /proc/self/exe, read at open. */
XT_HIDDEN const char *xt_out_exe_path(void);

#endif
