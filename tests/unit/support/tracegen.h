/* tracegen.h: a builder of xtrace trace files for tests, in the spirit of Go's internal/testgen.
 *
 * It writes the format of experiments/README.md byte by byte, with the sizes and counts worked
 * out for you, and it writes wrong ones when asked (a claimed size, an End's batch count, raw
 * bytes anywhere), so tests can build both good and damaged traces. Usage:
 *
 *	struct tg *t = tg_new(NULL);             // file header with defaults
 *	tg_gen(t, 1);                            // the batches that follow belong to generation 1
 *	tg_sync(t, 100, 1000000000, 1700000000, 0);
 *	tg_batch(t, XT_BATCH_STRINGS, 0, 100);   // open a batch, fill it, close it
 *	tg_string(t, 1, "main");
 *	tg_batch_end(t);
 *	tg_batch(t, XT_BATCH_EVENTS, 7, 1000);   // thread 7, base time 1000
 *	tg_event(t, XT_EV_ObjectAlloc, 5, 0x1000, 1, 0);   // (type, dt, args...) per the spec
 *	tg_batch_end(t);
 *	tg_end(t, 0);                            // End with the true batch count, lost = 0
 *	tg_write(t, path, TG_ALL);
 *
 * Every function returns or records file offsets so tests can name where damage sits.
 * Failures to allocate abort: this is test code. */
#ifndef XT_TRACEGEN_H
#define XT_TRACEGEN_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "spec.h"

struct tg;

/* File header fields; tg_new(NULL) uses tg_default_header. */
struct tg_header {
	uint64_t version, ticks_per_sec, pid, ppid, fork_parent_pid, fork_ts, start_ts;
	uint64_t wall_sec, wall_nsec;
	const char *exe;
	const char *cmdline; /* cmdline_len bytes: arguments, each NUL-terminated */
	size_t cmdline_len;
};
extern const struct tg_header tg_default_header;

/* tg_new starts a trace with magic and header h (NULL: defaults). tg_new_raw starts an empty
 * buffer, for tests that write their own header with tg_raw. */
struct tg *tg_new(const struct tg_header *h);
struct tg *tg_new_raw(void);
void tg_free(struct tg *t);

/* tg_offset is the file offset the next byte outside a batch goes to. */
uint64_t tg_offset(const struct tg *t);
/* tg_zstd replaces the bytes from file offset from on (the current generation's batches) by a
 * compressed generation record claiming plain_claim plain bytes (0: the true count); returns
 * the offset of its zstd frame. */
uint64_t tg_zstd(struct tg *t, uint64_t from, uint64_t plain_claim);
/* tg_zstd_columns is tg_zstd writing a column record (XT_RECORD_ZSTD_COLUMNS): the bytes'
 * column form, a segment per XT_COL_SEGMENT bytes, as the shim writes it. */
uint64_t tg_zstd_columns(struct tg *t, uint64_t from, uint64_t plain_claim);
/* tg_zstd_raw appends a compressed generation record of kind whose frame holds body (n bytes),
 * claiming plain_claim plain bytes: a test's own content. */
uint64_t tg_zstd_raw(struct tg *t, uint8_t kind, const void *body, size_t n, uint64_t plain_claim);
/* tg_raw appends bytes at the current file position (outside any batch). */
void tg_raw(struct tg *t, const void *p, size_t n);

/* tg_gen makes the following batches belong to generation gen and restarts the batch count
 * that tg_end writes. */
void tg_gen(struct tg *t, uint64_t gen);

/* tg_batch opens a batch of kind for thread at base time; tg_exp_batch opens an
 * Experimental batch. Both return the batch's file offset. One batch is open at a time. */
uint64_t tg_batch(struct tg *t, uint8_t kind, uint64_t thread, uint64_t time);
uint64_t tg_exp_batch(struct tg *t, uint8_t experiment, uint64_t time);
/* tg_batch_end writes the open batch with its true size; tg_batch_end_size claims size
 * instead (the payload written is unchanged). Both return the offset after the batch. */
uint64_t tg_batch_end(struct tg *t);
uint64_t tg_batch_end_size(struct tg *t, uint64_t size);
/* tg_batch_gen overrides the generation of the open batch (for out-of-order tests). */
void tg_batch_gen(struct tg *t, uint64_t gen);

/* Payload of the open batch. */
void tg_u8(struct tg *t, uint8_t v);
void tg_uvarint(struct tg *t, uint64_t v);
void tg_bytes(struct tg *t, const void *p, size_t n);

/* tg_event appends a timed event to the open Events batch: type, dt, then the arguments as
 * plain numbers. Arguments the spec declares addr are written as zigzag deltas from the
 * batch's previous addr argument; the others as uvarints. A reference form (ObjectFreeRecent,
 * ObjectAllocReused) takes its back_value first, and the address it names becomes the delta
 * base, as for the reader.
 * Any number of arguments is written as given, so a test can also write too few or too many. */
#define tg_event(t, type, dt, ...)                                                   \
	tg_event_n((t), (type), (dt), (const uint64_t[]){0, ##__VA_ARGS__} + 1,        \
		   sizeof((const uint64_t[]){0, ##__VA_ARGS__}) / sizeof(uint64_t) - 1)
void tg_event_n(struct tg *t, uint8_t type, uint64_t dt, const uint64_t *args, size_t nargs);

/* Table entries, appended to the open batch of the matching kind. */
void tg_string(struct tg *t, uint64_t id, const char *s);
void tg_stack(struct tg *t, uint64_t id, size_t n, const uint64_t *pcs); /* zigzag pc deltas */
void tg_module(struct tg *t, uint64_t id, uint64_t path_string, uint64_t base, uint64_t lo,
	       uint64_t hi, const uint8_t *build_id, size_t build_id_len);
/* tg_alloc_type appends one AllocFree type; open the batch with
 * tg_exp_batch(t, XT_EXP_ALLOCFREE, time) and tg_u8(t, XT_ALLOCFREE_BATCH_TYPES) first. */
void tg_alloc_type(struct tg *t, uint64_t id, uint8_t api, uint64_t elem_size, uint64_t count,
		   uint64_t align);

/* Specs batch entries (experiments/README.md "Specs batch"), appended to an open
 * XT_BATCH_SPECS batch: tg_spec_experiment starts an entry with its ID, name and version; then
 * tg_uvarint(t, nbatches) and that many tg_spec_table, then tg_uvarint(t, nevents) and that many
 * tg_spec_event. Counts are the caller's, so a test can claim wrong ones. An event described so
 * is written by tg_event with the kinds its argument names declare (addr as deltas). */
void tg_spec_experiment(struct tg *t, uint64_t id, const char *name, uint64_t version);
void tg_spec_table(struct tg *t, uint8_t subtype, const char *name);
void tg_spec_event(struct tg *t, uint8_t type, const char *name, uint64_t start, uint64_t form_of,
		   uint8_t nargs, const char *const *arg_names);
/* tg_spec_builtin appends the whole entry of built-in experiment id as the spec table has it. */
void tg_spec_builtin(struct tg *t, uint8_t id);
/* tg_heap_name appends one entry of the Heaps experiment's heap table; open the batch with
 * tg_exp_batch(t, XT_EXP_HEAPS, time) and tg_u8(t, 0) (the table's subtype) first. */
void tg_heap_name(struct tg *t, uint64_t id, const char *name);
/* tg_memory_sample appends one sample of the AddrSpace experiment's memory table; open the batch
 * with tg_exp_batch(t, XT_EXP_ADDRSPACE, time) and tg_u8(t, 0) first. */
void tg_memory_sample(struct tg *t, uint64_t time, uint64_t resident_bytes, uint64_t mapped_bytes);

/* Whole batches. Each returns its file offset. */
uint64_t tg_sync(struct tg *t, uint64_t time, uint64_t ticks_per_sec, uint64_t wall_sec,
		 uint64_t wall_nsec);
/* tg_sync_mono writes a Sync with the anchor's CLOCK_MONOTONIC time, as a writer whose events
 * carry ticks does (header ticks_per_sec XT_TICKS_PER_GEN). */
uint64_t tg_sync_mono(struct tg *t, uint64_t time, uint64_t ticks_per_sec, uint64_t mono_ns);
/* tg_end closes the generation with the number of batches written since tg_gen; tg_end_n
 * claims nbatches instead. */
uint64_t tg_end(struct tg *t, uint64_t lost);
uint64_t tg_end_n(struct tg *t, uint64_t nbatches, uint64_t lost);

/* The bytes so far (writable: tests flip bits in place). */
uint8_t *tg_data(struct tg *t, size_t *len);
/* tg_write writes the first len bytes (TG_ALL: all) to path; 0 on success, -1 on error. */
#define TG_ALL SIZE_MAX
int tg_write(const struct tg *t, const char *path, size_t len);
/* tg_tmpfile writes the first len bytes to a new temporary file and returns its path
 * (malloc'd; the caller unlinks and frees it). */
char *tg_tmpfile(const struct tg *t, size_t len);

#endif
