/* test_reader.c: the reader library on hand-made traces: ordering, tables, Sync, and every
 * kind of damage (corrupt bytes, cut files, huge claims, random flips). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "allocfree.h"
#include "columns.h"
#include "internal.h"
#include "traceopen.h"

/* ---- helpers ---- */

/* The result of reading a whole trace. */
struct run {
	int opened;
	int ngens;         /* Sync events seen */
	uint64_t nevents;  /* timed events seen */
	uint64_t last_gen; /* gen of the last Sync */
	int rc;            /* the final xtrace_next result */
	enum xtrace_status st;
	uint64_t err_off;
	char err[256];
};

static struct run read_trace(const char *path)
{
	struct run res = {0};
	char err[256];
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	if (!r) {
		snprintf(res.err, sizeof res.err, "%s", err);
		return res;
	}
	res.opened = 1;
	struct xtrace_event ev;
	uint64_t gen_events = 0, want_events = 0;
	while ((res.rc = xtrace_next(r, &ev)) > 0) {
		if (ev.kind == XTRACE_EVENT_SYNC) {
			/* The previous generation had as many events as its Sync said. */
			assert_int_equal(gen_events, want_events);
			res.ngens++;
			res.last_gen = ev.gen;
			const struct xtrace_sync *sy = xtrace_get_sync(r);
			assert_non_null(sy);
			assert_int_equal(sy->gen, ev.gen);
			want_events = sy->nevents;
			gen_events = 0;
		} else {
			res.nevents++;
			gen_events++;
			assert_int_equal(ev.gen, res.last_gen);
			/* Every ID an event names resolves. */
			for (int i = 0; i < ev.nargs; i++) {
				const uint64_t *pcs;
				if (ev.arg_kinds[i] == XTRACE_ARG_STACK && ev.args[i])
					assert_true(xtrace_stack(r, ev.args[i], &pcs) > 0);
				if (ev.arg_kinds[i] == XTRACE_ARG_STRING && ev.args[i])
					assert_non_null(xtrace_string(r, ev.args[i], NULL));
				if (ev.arg_kinds[i] == XTRACE_ARG_TYPE && ev.args[i])
					assert_non_null(xtrace_alloc_type(r, ev.args[i]));
			}
		}
	}
	if (res.rc == 0)
		assert_int_equal(gen_events, want_events);
	res.st = xtrace_status(r);
	res.err_off = xtrace_error_offset(r);
	snprintf(res.err, sizeof res.err, "%s", xtrace_error(r));
	/* Once stopped, it stays stopped. */
	assert_int_equal(xtrace_next(r, &ev), res.rc);
	xtrace_close(r);
	return res;
}

static struct run read_tg(const struct tg *t, size_t len)
{
	char *path = tg_tmpfile(t, len);
	struct run res = read_trace(path);
	unlink(path);
	free(path);
	return res;
}

static const uint8_t bid[4] = {0xde, 0xad, 0xbe, 0xef};

/* Generation 1 of the standard trace: two threads interleaved in time, every table. */
static void gen1(struct tg *t)
{
	tg_gen(t, 1);
	tg_sync(t, 100, 1000000000, 1700000001, 42);
	tg_batch(t, XT_BATCH_STRINGS, 0, 100);
	tg_string(t, 1, "/usr/bin/main");
	tg_string(t, 2, "/usr/lib/libc.so.6");
	tg_string(t, 3, "");
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, 100);
	tg_stack(t, 1, 3, (const uint64_t[]){0x401234, 0x401100, 0x7f0000001000});
	tg_stack(t, 2, 1, (const uint64_t[]){0x401300});
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_MODULES, 0, 100);
	tg_module(t, 1, 2, 0x7f0000000000, 0x7f0000000000, 0x7f0000100000, bid, sizeof bid);
	tg_module(t, 2, 1, 0, 0x400000, 0x500000, NULL, 0);
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 100);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_MALLOC, 32, 1, 0);
	tg_alloc_type(t, 2, XT_API_CALLOC, 8, 10, 0);
	tg_alloc_type(t, 3, XT_API_POSIX_MEMALIGN, 64, 1, 64);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 20, 1000);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x10000, 1, 1);  /* 1000 */
	tg_event(t, XT_EV_ObjectAlloc, 20, 0x8000, 2, 2);  /* 1020: negative addr delta */
	tg_event(t, XT_EV_ObjectFree, 10, 0x10000);        /* 1030 */
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 10, 1010);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x20000, 3, 0);  /* 1010 */
	tg_event(t, XT_EV_ObjectFree, 20, 0x20000);        /* 1030: ties with thread 20 */
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 20, 1040);
	tg_event(t, XT_EV_ObjectReallocFree, 5, 0x8000);   /* 1045 */
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x9000, 1, 1);   /* 1045 */
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 30, 1050); /* an empty batch: its thread has no events */
	tg_batch_end(t);
	tg_end(t, 0);
}

/* Generation 2: its Events batch comes before its Sync and tables; it lost 3 events. */
static void gen2(struct tg *t)
{
	tg_gen(t, 2);
	tg_batch(t, XT_BATCH_EVENTS, 30, 2000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0xffffffffffff0000ull, 1, 1);
	tg_event(t, XT_EV_ObjectFree, 1, 0x10);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STRINGS, 0, 2000);
	tg_string(t, 1, "second");
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, 2000);
	tg_stack(t, 1, 2, (const uint64_t[]){0x7f0000000500, 0x401000});
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 2000);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_REALLOC, 100, 1, 0);
	tg_batch_end(t);
	tg_sync(t, 1990, 1000000000, 1700000002, 7);
	tg_end(t, 3);
}

static void gen3(struct tg *t)
{
	tg_gen(t, 3);
	tg_sync(t, 3000, 1000000000, 1700000003, 0);
	tg_batch(t, XT_BATCH_EVENTS, 40, 3000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x40);
	tg_batch_end(t);
	tg_end(t, 0);
}

/* std3 builds the three-generation trace; ends[] gets the offset after each End batch. */
static struct tg *std3(uint64_t *hdr_end, uint64_t ends[3])
{
	struct tg *t = tg_new(NULL);
	if (hdr_end)
		*hdr_end = tg_offset(t);
	gen1(t);
	if (ends)
		ends[0] = tg_offset(t);
	gen2(t);
	if (ends)
		ends[1] = tg_offset(t);
	gen3(t);
	if (ends)
		ends[2] = tg_offset(t);
	return t;
}

#define GEN_EVENTS {7, 2, 1}

static void expect_ev(xtrace_reader *r, struct xtrace_event *ev, uint64_t ts, uint64_t thread,
		      uint8_t type, uint64_t addr)
{
	assert_int_equal(xtrace_next(r, ev), 1);
	assert_int_equal(ev->ts, ts);
	assert_int_equal(ev->thread, thread);
	assert_int_equal(ev->type, type);
	assert_int_equal(ev->args[0], addr);
	assert_int_equal(ev->kind, XTRACE_EVENT_EXPERIMENTAL);
	assert_int_equal(ev->experiment, XT_EXP_ALLOCFREE);
	assert_string_equal(ev->experiment_name, "AllocFree");
}

/* ---- well-formed traces ---- */

static void test_header(void **state)
{
	struct tg *t = std3(NULL, NULL);
	xtrace_reader *r = tg_open_trace(t);
	const struct xtrace_header *h = xtrace_get_header(r);
	assert_int_equal(h->version, XT_FORMAT_VERSION);
	assert_int_equal(h->ticks_per_sec, 1000000000);
	assert_int_equal(h->pid, 4242);
	assert_int_equal(h->ppid, 1);
	assert_int_equal(h->start_ts, 1000);
	assert_int_equal(h->start_wall_sec, 1700000000);
	assert_int_equal(h->start_wall_nsec, 500);
	assert_string_equal(h->exe, "/usr/bin/xtrace-test");
	assert_int_equal(h->cmdline_len, 15);
	assert_memory_equal(h->cmdline, "xtrace-test\0-v\0", 15);
	/* Nothing handed out yet: no tables. */
	assert_null(xtrace_get_sync(r));
	assert_null(xtrace_string(r, 1, NULL));
	xtrace_close(r);
	tg_free(t);
}

static void test_two_threads_in_time_order(void **state)
{
	struct tg *t = std3(NULL, NULL);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;

	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.kind, XTRACE_EVENT_SYNC);
	assert_int_equal(ev.gen, 1);
	assert_int_equal(ev.ts, 100);
	assert_int_equal(ev.thread, 0);
	assert_string_equal(ev.name, "Sync");
	const struct xtrace_sync *sy = xtrace_get_sync(r);
	assert_non_null(sy);
	assert_int_equal(sy->gen, 1);
	assert_int_equal(sy->ts, 100);
	assert_int_equal(sy->ticks_per_sec, 1000000000);
	assert_int_equal(sy->wall_sec, 1700000001);
	assert_int_equal(sy->wall_nsec, 42);
	assert_int_equal(sy->lost, 0);
	assert_int_equal(sy->nevents, 7);
	assert_int_equal(sy->nthreads, 2);
	assert_int_equal(sy->nbatches, 1);
	assert_int_equal(sy->batches[0].experiment, XT_EXP_ALLOCFREE);
	assert_int_equal(sy->batches[0].data[0], XT_ALLOCFREE_BATCH_TYPES);

	expect_ev(r, &ev, 1000, 20, XT_EV_ObjectAlloc, 0x10000);
	assert_string_equal(ev.name, "ObjectAlloc");
	assert_int_equal(ev.nargs, 3);
	assert_string_equal(ev.arg_names[0], "obj_addr");
	assert_string_equal(ev.arg_names[2], "stack");
	assert_int_equal(ev.arg_kinds[0], XTRACE_ARG_ADDR);
	assert_int_equal(ev.arg_kinds[1], XTRACE_ARG_TYPE);
	assert_int_equal(ev.arg_kinds[2], XTRACE_ARG_STACK);
	assert_int_equal(ev.args[1], 1);
	assert_int_equal(ev.args[2], 1);
	expect_ev(r, &ev, 1010, 10, XT_EV_ObjectAlloc, 0x20000);
	assert_int_equal(ev.args[1], 3);
	assert_int_equal(ev.args[2], 0);
	expect_ev(r, &ev, 1020, 20, XT_EV_ObjectAlloc, 0x8000);
	expect_ev(r, &ev, 1030, 10, XT_EV_ObjectFree, 0x20000); /* the tie: lower thread first */
	expect_ev(r, &ev, 1030, 20, XT_EV_ObjectFree, 0x10000);
	uint64_t first_batch_off = ev.offset;
	/* Addr deltas restart from 0 in each batch. */
	expect_ev(r, &ev, 1045, 20, XT_EV_ObjectReallocFree, 0x8000);
	assert_true(ev.offset > first_batch_off);
	expect_ev(r, &ev, 1045, 20, XT_EV_ObjectAlloc, 0x9000);

	/* Generation 2: Sync first though its batch came last in the file. */
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.kind, XTRACE_EVENT_SYNC);
	assert_int_equal(ev.gen, 2);
	assert_int_equal(ev.ts, 1990);
	sy = xtrace_get_sync(r);
	assert_int_equal(sy->lost, 3);
	assert_int_equal(sy->nevents, 2);
	assert_int_equal(sy->nthreads, 1);
	expect_ev(r, &ev, 2001, 30, XT_EV_ObjectAlloc, 0xffffffffffff0000ull);
	expect_ev(r, &ev, 2002, 30, XT_EV_ObjectFree, 0x10);
	assert_int_equal(ev.gen, 2);

	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.kind, XTRACE_EVENT_SYNC);
	assert_int_equal(ev.gen, 3);
	expect_ev(r, &ev, 3001, 40, XT_EV_ObjectFree, 0x40);
	assert_int_equal(xtrace_next(r, &ev), 0);
	assert_int_equal(xtrace_status(r), XTRACE_OK);
	assert_string_equal(xtrace_error(r), "");
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);
}

static void test_tables(void **state)
{
	struct tg *t = std3(NULL, NULL);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);

	size_t len;
	assert_string_equal(xtrace_string(r, 1, &len), "/usr/bin/main");
	assert_int_equal(len, 13);
	assert_string_equal(xtrace_string(r, 3, &len), "");
	assert_int_equal(len, 0);
	assert_null(xtrace_string(r, 0, &len));
	assert_null(xtrace_string(r, 4, &len));
	assert_null(xtrace_string(r, UINT64_MAX, NULL));

	const uint64_t *pcs;
	assert_int_equal(xtrace_stack(r, 1, &pcs), 3);
	assert_int_equal(pcs[0], 0x401234);
	assert_int_equal(pcs[1], 0x401100);
	assert_int_equal(pcs[2], 0x7f0000001000);
	assert_int_equal(xtrace_stack(r, 2, &pcs), 1);
	assert_int_equal(pcs[0], 0x401300);
	assert_int_equal(xtrace_stack(r, 0, &pcs), 0);
	assert_int_equal(xtrace_stack(r, 99, &pcs), 0);

	const struct xtrace_module *mods;
	assert_int_equal(xtrace_modules(r, &mods), 2);
	assert_int_equal(mods[0].id, 1);
	assert_string_equal(mods[0].path, "/usr/lib/libc.so.6");
	assert_int_equal(mods[0].build_id_len, 4);
	assert_memory_equal(mods[0].build_id, bid, 4);
	assert_string_equal(mods[1].path, "/usr/bin/main");
	assert_ptr_equal(xtrace_module_of(r, 0x401234), &mods[1]);
	assert_ptr_equal(xtrace_module_of(r, 0x7f0000001000), &mods[0]);
	assert_ptr_equal(xtrace_module_of(r, 0x400000), &mods[1]);
	assert_null(xtrace_module_of(r, 0x500000)); /* hi is exclusive */
	assert_null(xtrace_module_of(r, 0x10));

	const struct xtrace_alloc_type *at = xtrace_alloc_type(r, 2);
	assert_non_null(at);
	assert_int_equal(at->id, 2);
	assert_int_equal(at->api, XT_API_CALLOC);
	assert_string_equal(xtrace_alloc_api_name(at->api), "calloc");
	assert_int_equal(at->elem_size, 8);
	assert_int_equal(at->count, 10);
	at = xtrace_alloc_type(r, 3);
	assert_int_equal(at->align, 64);
	assert_string_equal(xtrace_alloc_api_name(at->api), "posix_memalign");
	assert_null(xtrace_alloc_type(r, 0));
	assert_null(xtrace_alloc_type(r, 4));

	/* Generation 2's tables replace generation 1's. */
	while (xtrace_next(r, &ev) == 1 && ev.kind != XTRACE_EVENT_SYNC)
		;
	assert_int_equal(ev.gen, 2);
	assert_string_equal(xtrace_string(r, 1, NULL), "second");
	assert_null(xtrace_string(r, 2, NULL));
	assert_int_equal(xtrace_stack(r, 1, &pcs), 2);
	assert_int_equal(pcs[0], 0x7f0000000500);
	assert_int_equal(pcs[1], 0x401000);
	assert_int_equal(xtrace_modules(r, &mods), 0);
	assert_null(xtrace_module_of(r, 0x401234));
	assert_int_equal(xtrace_alloc_type(r, 1)->api, XT_API_REALLOC);
	assert_null(xtrace_alloc_type(r, 2));
	xtrace_close(r);
	tg_free(t);
}

static void test_names(void **state)
{
	assert_string_equal(xtrace_experiment_name(0), "Core");
	assert_string_equal(xtrace_experiment_name(1), "AllocFree");
	assert_null(xtrace_experiment_name(15));
	assert_null(xtrace_experiment_name(200));
	assert_string_equal(xtrace_arg_kind_name(XTRACE_ARG_VALUE), "value");
	assert_string_equal(xtrace_arg_kind_name(XTRACE_ARG_ADDR), "addr");
	assert_string_equal(xtrace_arg_kind_name(XTRACE_ARG_TIMER), "timer");
	assert_null(xtrace_arg_kind_name(7));
	assert_string_equal(xtrace_alloc_api_name(0), "malloc");
	assert_string_equal(xtrace_alloc_api_name(8), "pvalloc");
	assert_null(xtrace_alloc_api_name(9));
}

/* A header and nothing else: the writer died before it completed a generation. */
static void test_empty_trace(void **state)
{
	struct tg *t = tg_new(NULL);
	struct run res = read_tg(t, TG_ALL);
	assert_true(res.opened);
	assert_int_equal(res.rc, -1);
	assert_int_equal(res.ngens, 0);
	assert_int_equal(res.st, XTRACE_ERR_TRUNCATED);
	assert_non_null(strstr(res.err, "generation 1 has no end"));
	tg_free(t);
}

/* Sparse IDs take the sorted-index path; lookups still work and duplicates are still caught. */
static void test_sparse_ids(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1, 1000000000, 0, 0);
	tg_batch(t, XT_BATCH_STACKS, 0, 1);
	tg_stack(t, 1000000, 1, (const uint64_t[]){0x10});
	tg_stack(t, 5, 1, (const uint64_t[]){0x20});
	tg_stack(t, UINT64_MAX, 1, (const uint64_t[]){0x30});
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 1, 10);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x100, 0, 1000000);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x100, 0, UINT64_MAX);
	tg_batch_end(t);
	tg_end(t, 0);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	const uint64_t *pcs;
	assert_int_equal(xtrace_stack(r, 1000000, &pcs), 1);
	assert_int_equal(pcs[0], 0x10);
	assert_int_equal(xtrace_stack(r, 5, &pcs), 1);
	assert_int_equal(pcs[0], 0x20);
	assert_int_equal(xtrace_stack(r, UINT64_MAX, &pcs), 1);
	assert_int_equal(pcs[0], 0x30);
	assert_int_equal(xtrace_stack(r, 6, &pcs), 0);
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);

	t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1, 1000000000, 0, 0);
	tg_batch(t, XT_BATCH_STACKS, 0, 1);
	tg_stack(t, 1000000, 1, (const uint64_t[]){0x10});
	tg_batch_end(t);
	uint64_t dup = tg_batch(t, XT_BATCH_STACKS, 0, 1);
	tg_stack(t, 1000000, 1, (const uint64_t[]){0x10});
	tg_batch_end(t);
	tg_end(t, 0);
	struct run res = read_tg(t, TG_ALL);
	assert_int_equal(res.st, XTRACE_ERR_CORRUPT);
	assert_int_equal(res.err_off, dup);
	assert_non_null(strstr(res.err, "duplicate stack id 1000000"));
	tg_free(t);
}

/* Padded varints (as a writer that back-patches sizes would write) are valid everywhere. */
static void test_padded_varints(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1, 1000000000, 0, 0);
	/* A hand-written Events batch whose header fields and dt are zero-padded. */
	uint8_t payload[] = {XT_EV_ObjectFree, 0x85, 0x80, 0x00, 0x20 /* zigzag(16) */};
	uint8_t hdr[] = {XT_BATCH_EVENTS, 0x81, 0x00, 0x87, 0x80, 0x00, 0x0a, 0x85, 0x80, 0x80, 0x00};
	tg_raw(t, hdr, sizeof hdr);
	tg_raw(t, payload, sizeof payload);
	tg_end_n(t, 2, 0);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.thread, 7);
	assert_int_equal(ev.ts, 15);
	assert_int_equal(ev.args[0], 16);
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);
}

/* A module may have no path (string ID 0); events may come in batches of thread 0. */
static void test_module_without_path(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1, 1000000000, 0, 0);
	tg_batch(t, XT_BATCH_MODULES, 0, 1);
	tg_module(t, 1, 0, 0x1000, 0x1000, 0x2000, NULL, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 0, 5);
	tg_event(t, XT_EV_ObjectFree, 0, 0x10);
	tg_batch_end(t);
	tg_end(t, 0);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	const struct xtrace_module *m = xtrace_module_of(r, 0x1800);
	assert_non_null(m);
	assert_string_equal(m->path, "");
	assert_int_equal(xtrace_get_sync(r)->nthreads, 1);
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.thread, 0);
	assert_int_equal(ev.ts, 5);
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);
}

/* Overlapping module ranges: the latest module covering an address holds it, as a scan of the
 * table would find, for every address of a space crowded with random ranges. */
static void test_module_map_overlaps(void **state)
{
	enum { NMOD = 300, SPACE = 4096 };
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1, 1000000000, 0, 0);
	tg_batch(t, XT_BATCH_MODULES, 0, 1);
	uint64_t x = 12345;
	for (uint64_t id = 1; id <= NMOD; id++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		uint64_t lo = (x >> 33) % SPACE, len = 1 + (x >> 17) % (id % 10 ? 64 : 2048);
		tg_module(t, id, 0, lo, lo, lo + len, NULL, 0);
	}
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 1, 5);
	tg_event(t, XT_EV_ObjectFree, 0, 0x10);
	tg_batch_end(t);
	tg_end(t, 0);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	const struct xtrace_module *mods;
	size_t n = xtrace_modules(r, &mods);
	assert_int_equal(n, NMOD);
	for (uint64_t pc = 0; pc < SPACE + 2100; pc++) {
		const struct xtrace_module *want = NULL;
		for (size_t i = 0; i < n; i++)
			if (pc >= mods[i].lo && pc < mods[i].hi)
				want = &mods[i];
		if (xtrace_module_of(r, pc) != want)
			fail_msg("address %" PRIu64 ": module %p, the table's latest %p", pc,
				 (const void *)xtrace_module_of(r, pc), (const void *)want);
	}
	xtrace_close(r);
	tg_free(t);
}

/* ---- bad headers ---- */

static void expect_open_fails(const struct tg *t, size_t len, const char *msg)
{
	char *path = tg_tmpfile(t, len);
	char err[256] = "";
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	unlink(path);
	free(path);
	assert_null(r);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" does not contain \"%s\"", err, msg);
}

static void test_bad_headers(void **state)
{
	char err[256];
	assert_null(xtrace_open("/nonexistent/trace.xt", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/trace.xt: No such file"));
	assert_null(xtrace_open("/nonexistent/trace.xt", NULL, 0));

	struct tg *t = tg_new_raw();
	tg_raw(t, "GIF89a..........", 16);
	expect_open_fails(t, TG_ALL, "not an xtrace trace");
	expect_open_fails(t, 0, "empty file");
	tg_free(t);

	t = tg_new(NULL);
	expect_open_fails(t, 5, "not an xtrace trace");
	expect_open_fails(t, XT_MAGIC_LEN, "truncated header size");
	expect_open_fails(t, XT_MAGIC_LEN + 3, "truncated header");
	tg_free(t);

	/* A header claiming a huge size. */
	t = tg_new_raw();
	tg_raw(t, XT_MAGIC, XT_MAGIC_LEN);
	tg_raw(t, (const uint8_t[]){0xc0, 0x84, 0x3d}, 3); /* 1000000 */
	tg_raw(t, (const uint8_t[]){1, 2, 3}, 3);
	expect_open_fails(t, TG_ALL, "header size 1000000 exceeds limit 8192");
	tg_free(t);
	t = tg_new_raw();
	tg_raw(t, XT_MAGIC, XT_MAGIC_LEN);
	tg_raw(t, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 10);
	expect_open_fails(t, TG_ALL, "bad header size");
	tg_free(t);

	struct tg_header h = tg_default_header;
	h.version = XT_FORMAT_VERSION + 1;
	t = tg_new(&h);
	char want[64];
	snprintf(want, sizeof want, "unsupported trace version %d", XT_FORMAT_VERSION + 1);
	expect_open_fails(t, TG_ALL, want);
	tg_free(t);
	h.version = 0;
	t = tg_new(&h);
	expect_open_fails(t, TG_ALL, "unsupported trace version 0");
	tg_free(t);

	/* An exe length past the header's end. */
	t = tg_new_raw();
	tg_raw(t, XT_MAGIC, XT_MAGIC_LEN);
	tg_raw(t, (const uint8_t[]){11, 1, 1, 1, 1, 0, 0, 1, 1, 1, 100, 'x'}, 12);
	expect_open_fails(t, TG_ALL, "exe length 100");
	tg_free(t);
}

static void test_header_extra_bytes(void **state)
{
	/* Bytes after the known fields (the last, sample_bytes, 512 here) are skipped. */
	struct tg *t = tg_new_raw();
	tg_raw(t, XT_MAGIC, XT_MAGIC_LEN);
	tg_raw(t, (const uint8_t[]){17, 1, 1, 2, 3, 0, 0, 9, 1, 1, 1, 'x', 1, 0, 0x80, 0x04, 0xaa, 0xbb},
	       18);
	tg_gen(t, 1);
	tg_sync(t, 1, 1, 0, 0);
	tg_end(t, 0);
	xtrace_reader *r = tg_open_trace(t);
	assert_string_equal(xtrace_get_header(r)->exe, "x");
	assert_int_equal(xtrace_get_header(r)->pid, 2);
	assert_int_equal(xtrace_get_header(r)->sample_bytes, 512);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);
}

/* ---- corrupt generations ---- */

/* expect_corrupt: generation 1 is whole, then reading stops with CORRUPT at off, with a
 * message containing msg. */
static void expect_corrupt(const struct tg *t, uint64_t off, const char *msg)
{
	struct run res = read_tg(t, TG_ALL);
	assert_true(res.opened);
	assert_int_equal(res.rc, -1);
	if (res.st != XTRACE_ERR_CORRUPT)
		fail_msg("status %d (%s), want corrupt", res.st, res.err);
	assert_int_equal(res.ngens, 1);
	assert_int_equal(res.nevents, 7);
	assert_int_equal(res.err_off, off);
	if (!strstr(res.err, msg))
		fail_msg("error \"%s\" does not contain \"%s\"", res.err, msg);
	char want[64];
	snprintf(want, sizeof want, "offset %llu", (unsigned long long)off);
	if (!strstr(res.err, want))
		fail_msg("error \"%s\" does not name %s", res.err, want);
}

/* A trace whose generation 1 is good; the caller damages what follows. */
static struct tg *good1(void)
{
	struct tg *t = tg_new(NULL);
	gen1(t);
	tg_gen(t, 2);
	return t;
}

static void test_corrupt_kind(void **state)
{
	struct tg *t = good1();
	uint64_t off = tg_offset(t);
	tg_raw(t, (const uint8_t[]){11, 2, 0, 0, 0}, 5);
	expect_corrupt(t, off, "bad kind 11");
	tg_free(t);

	/* a compressed generation's record, of either kind, begins a generation, never follows one
	 * of its batches; and there is none before its version (4 plain, 5 columns) */
	static const struct {
		uint8_t kind;
		uint64_t before; /* the last version without it */
		uint64_t (*record)(struct tg *, uint64_t, uint64_t);
		const char *msg;
	} kinds[] = {{XT_RECORD_ZSTD, 3, tg_zstd, "bad kind 9"},
		     {XT_RECORD_ZSTD_COLUMNS, 4, tg_zstd_columns, "bad kind 10"}};
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		t = good1();
		tg_batch(t, XT_BATCH_STRINGS, 0, 0);
		tg_batch_end(t);
		off = tg_offset(t);
		tg_raw(t, (const uint8_t[]){kinds[k].kind, 2, 0, 0, 0}, 5);
		expect_corrupt(t, off, kinds[k].msg);
		tg_free(t);

		struct tg_header h = tg_default_header;
		h.version = kinds[k].before;
		t = tg_new(&h);
		gen1(t);
		tg_gen(t, 2);
		off = tg_offset(t);
		gen3(t);
		kinds[k].record(t, off, 0);
		expect_corrupt(t, off, kinds[k].msg);
		tg_free(t);
	}

	t = good1();
	off = tg_exp_batch(t, XT_MAX_EXPERIMENTS, 0);
	tg_batch_end(t);
	expect_corrupt(t, off, "experiment 64");
	tg_free(t);
}

static void test_corrupt_size(void **state)
{
	struct tg *t = good1();
	tg_sync(t, 1, 1, 0, 0);
	uint64_t off = tg_batch(t, XT_BATCH_STRINGS, 0, 0);
	tg_batch_end_size(t, 70000);
	tg_end(t, 0);
	expect_corrupt(t, off, "size 70000 exceeds limit 65536");
	tg_free(t);
}

static void test_corrupt_generation_order(void **state)
{
	/* Generation 3 right after 1. */
	struct tg *t = tg_new(NULL);
	gen1(t);
	tg_gen(t, 3);
	uint64_t off = tg_sync(t, 1, 1, 0, 0);
	tg_end(t, 0);
	expect_corrupt(t, off, "generation 3 follows generation 1");
	tg_free(t);

	/* Generation 1 again. */
	t = tg_new(NULL);
	gen1(t);
	off = tg_offset(t);
	gen1(t);
	expect_corrupt(t, off, "generation 1 follows generation 1");
	tg_free(t);

	/* A batch of generation 3 before End 2. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_STRINGS, 0, 0);
	tg_batch_gen(t, 3);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "generation 3 before the end of generation 2");
	tg_free(t);

	/* Generation 0 at the start. */
	t = tg_new(NULL);
	tg_gen(t, 0);
	off = tg_sync(t, 1, 1, 0, 0);
	tg_end(t, 0);
	struct run res = read_tg(t, TG_ALL);
	assert_int_equal(res.st, XTRACE_ERR_CORRUPT);
	assert_int_equal(res.err_off, off);
	assert_int_equal(res.ngens, 0);
	tg_free(t);
}

static void test_corrupt_events(void **state)
{
	/* Unknown event type. */
	struct tg *t = good1();
	tg_sync(t, 1, 1, 0, 0);
	uint64_t off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_event(t, XT_EV_ObjectFree, 1, 0x10);
	tg_event(t, 50, 1);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "unknown event type 50");
	tg_free(t);

	/* Type 0 is invalid. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_u8(t, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "unknown event type 0");
	tg_free(t);

	/* An 11-byte varint. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_u8(t, XT_EV_ObjectFree);
	tg_bytes(t, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
	tg_u8(t, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "bad dt");
	tg_free(t);

	/* A varint overflowing 64 bits in its 10th byte. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_u8(t, XT_EV_ObjectFree);
	tg_u8(t, 0);
	tg_bytes(t, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "bad argument obj_addr");
	tg_free(t);

	/* The payload ends inside an event (too few arguments). */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x10, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "event ObjectAlloc: bad argument stack");
	tg_free(t);

	/* A stack ID that is not in the generation (generation 1 had one: tables do not carry). */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x10, 0, 1);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "stack 1 not in the generation");
	tg_free(t);

	/* An AllocFree type ID that is not in the generation. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x10, 4, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "type 4 not in the generation");
	tg_free(t);
}

static void test_corrupt_tables(void **state)
{
	/* Duplicate string ID, across two batches: the second batch is named. */
	struct tg *t = good1();
	tg_sync(t, 1, 1, 0, 0);
	tg_batch(t, XT_BATCH_STRINGS, 0, 0);
	tg_string(t, 1, "a");
	tg_string(t, 2, "b");
	tg_batch_end(t);
	uint64_t off = tg_batch(t, XT_BATCH_STRINGS, 0, 0);
	tg_string(t, 2, "c");
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "duplicate string id 2 in generation 2");
	tg_free(t);

	/* Duplicate module ID in one batch. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	tg_batch(t, XT_BATCH_STRINGS, 0, 0);
	tg_string(t, 1, "a");
	tg_batch_end(t);
	off = tg_batch(t, XT_BATCH_MODULES, 0, 0);
	tg_module(t, 7, 1, 0, 0, 10, NULL, 0);
	tg_module(t, 7, 1, 0, 10, 20, NULL, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "duplicate module id 7");
	tg_free(t);

	/* A module whose path string is missing. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_MODULES, 0, 0);
	tg_module(t, 1, 9, 0, 0, 10, NULL, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "path string 9 not in the generation");
	tg_free(t);

	/* A string longer than its batch. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_STRINGS, 0, 0);
	tg_uvarint(t, 1);
	tg_uvarint(t, 4000);
	tg_bytes(t, "abc", 3);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "length 4000 runs past the batch");
	tg_free(t);

	/* A stack with 129 frames, then one claiming more frames than bytes. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_STACKS, 0, 0);
	uint64_t pcs[129] = {0};
	tg_stack(t, 1, 129, pcs);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "stack 1 has 129 frames");
	tg_free(t);
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_STACKS, 0, 0);
	tg_uvarint(t, 1);
	tg_uvarint(t, 100);
	tg_uvarint(t, 0x1000);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "runs past the batch");
	tg_free(t);

	/* A build ID longer than the limit. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_MODULES, 0, 0);
	uint8_t big[65] = {0};
	tg_module(t, 1, 1, 0, 0, 10, big, sizeof big);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "build id length 65");
	tg_free(t);

	/* A malformed AllocFree type entry. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_exp_batch(t, XT_EXP_ALLOCFREE, 0);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_uvarint(t, 1);
	tg_u8(t, 0);
	tg_uvarint(t, 8);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "bad alloc type entry");
	tg_free(t);
}

static void test_corrupt_end_and_sync(void **state)
{
	/* End claims the wrong batch count. */
	struct tg *t = good1();
	tg_sync(t, 1, 1, 0, 0);
	tg_batch(t, XT_BATCH_EVENTS, 1, 0);
	tg_batch_end(t);
	uint64_t off = tg_end_n(t, 3, 0);
	expect_corrupt(t, off, "generation 2 claims 3 batches, 2 came before it");
	tg_free(t);

	/* No Sync. */
	t = good1();
	off = tg_batch(t, XT_BATCH_EVENTS, 1, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "generation 2 at offset");
	tg_free(t);

	/* Two Syncs. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_sync(t, 2, 1, 0, 0);
	tg_end(t, 0);
	expect_corrupt(t, off, "second sync of generation 2");
	tg_free(t);

	/* An End with an empty payload. */
	t = good1();
	tg_sync(t, 1, 1, 0, 0);
	off = tg_batch(t, XT_BATCH_END, 0, 0);
	tg_batch_end(t);
	expect_corrupt(t, off, "end batch at offset");
	tg_free(t);
}

/* ---- the clock: ticks mapped to nanoseconds per generation ---- */

/* read_ts reads the trace at path into ts (Sync and timed events alike, at most n); returns
 * how many, or -1 when it cannot be opened or read to its clean end (err says why). */
static int read_ts(const struct tg *t, uint64_t *ts, int n, char *err, size_t errlen)
{
	char *path = tg_tmpfile(t, TG_ALL);
	xtrace_reader *r = xtrace_open(path, err, errlen);
	unlink(path);
	free(path);
	if (!r)
		return -1;
	struct xtrace_event ev;
	int k = 0, rc;
	while ((rc = xtrace_next(r, &ev)) > 0)
		if (k < n)
			ts[k++] = ev.ts;
	if (rc < 0)
		snprintf(err, errlen, "%s", xtrace_error(r));
	xtrace_close(r);
	return rc < 0 ? -1 : k;
}

static struct tg *tick_trace(uint64_t version, uint64_t ticks_per_sec)
{
	struct tg_header h = tg_default_header;
	h.version = version;
	h.ticks_per_sec = ticks_per_sec;
	return tg_new(&h);
}

/* One generation: a Sync of the given rate and monotonic time at tick 1000, and frees at
 * ticks 1000, 3000 (thread 7) and 500 (thread 8, before the anchor). */
static void tick_gen(struct tg *t, uint64_t gen, uint64_t ticks_per_sec, uint64_t mono_ns)
{
	tg_gen(t, gen);
	tg_sync_mono(t, 1000, ticks_per_sec, mono_ns);
	tg_batch(t, XT_BATCH_EVENTS, 7, 1000);
	tg_event(t, XT_EV_ObjectFree, 0, 0x10);
	tg_event(t, XT_EV_ObjectFree, 2000, 0x20);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 8, 500);
	tg_event(t, XT_EV_ObjectFree, 0, 0x30);
	tg_batch_end(t);
	tg_end(t, 0);
}

static void test_clock_per_generation(void **state)
{
	/* Each generation maps its ticks by its own Sync: 2 GHz anchored at 5 s, then 4 GHz at 7 s. */
	struct tg *t = tick_trace(3, XT_TICKS_PER_GEN);
	tick_gen(t, 1, 2000000000, 5000000000);
	tick_gen(t, 2, 4000000000, 7000000000);
	uint64_t ts[8];
	char err[256] = "";
	int n = read_ts(t, ts, 8, err, sizeof err);
	if (n < 0)
		fail_msg("%s", err);
	assert_int_equal(n, 8);
	const uint64_t want[8] = {5000000000, 5000000000 - 250, 5000000000, 5000000000 + 1000,
				  7000000000, 7000000000 - 125, 7000000000, 7000000000 + 500};
	for (int i = 0; i < 8; i++)
		assert_int_equal(ts[i], want[i]);
	char *path = tg_tmpfile(t, TG_ALL);
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	unlink(path);
	free(path);
	assert_non_null(r);
	assert_int_equal(xtrace_get_header(r)->ticks_per_sec, XT_TICKS_PER_GEN);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(xtrace_get_sync(r)->ticks_per_sec, 2000000000);
	assert_int_equal(xtrace_get_sync(r)->ts, 5000000000);
	xtrace_close(r);
	tg_free(t);

	/* Nanosecond traces read as they are, whatever their Syncs say: versions 1 and 2, and
	 * a version 3 header of 1e9 ticks/s. */
	const uint64_t versions[] = {1, 2, 3};
	for (size_t v = 0; v < 3; v++) {
		t = tick_trace(versions[v], XT_TICKS_PER_SEC);
		tick_gen(t, 1, 3000000000, 9000000000);
		n = read_ts(t, ts, 8, err, sizeof err);
		assert_int_equal(n, 4);
		const uint64_t same[4] = {1000, 500, 1000, 3000};
		for (int i = 0; i < 4; i++)
			assert_int_equal(ts[i], same[i]);
		tg_free(t);
	}
}

static void expect_clock_corrupt(struct tg *t, const char *msg)
{
	uint64_t ts[8];
	char err[256] = "";
	assert_int_equal(read_ts(t, ts, 8, err, sizeof err), -1);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" does not contain \"%s\"", err, msg);
	tg_free(t);
}

/* The map's shortcut (ticks within span of the anchor) gives what the saturating formula gives,
 * at the edge of the span and past it, for rates that map exactly and ones that do not. */
static void test_clock_span_edge(void **state)
{
	(void)state;
	const uint64_t mults[] = {1ull << XT_CLOCK_FRAC, 439804651110ull, 3ull << XT_CLOCK_FRAC, 1};
	const uint64_t ns0s[] = {0, 5000000000ull, UINT64_MAX - 1000, UINT64_MAX};
	for (size_t i = 0; i < sizeof mults / sizeof mults[0]; i++) {
		for (size_t j = 0; j < sizeof ns0s / sizeof ns0s[0]; j++) {
			struct xt_clockmap m = {.ticks0 = 1000, .ns0 = ns0s[j], .mult = mults[i]};
			xt_clock_span(&m);
			const uint64_t near[] = {0, 1, 2, m.span - 1, m.span, m.span + 1, m.span + 2};
			for (size_t k = 0; k < sizeof near / sizeof near[0]; k++) {
				if (near[k] > UINT64_MAX - m.ticks0)
					continue;
				unsigned __int128 d = ((unsigned __int128)near[k] * m.mult) >> XT_CLOCK_FRAC;
				uint64_t want = d > UINT64_MAX - m.ns0 ? UINT64_MAX : m.ns0 + (uint64_t)d;
				assert_int_equal(xt_clock_ns(&m, m.ticks0 + near[k]), want);
			}
		}
	}
}

static void test_clock_bad_values(void **state)
{
	/* A rate of 0 or beyond any clock, a Sync without its anchor's time, a header rate that
	 * is neither nanoseconds nor per generation, a TSC shift past 63: errors, never a division
	 * by zero. */
	struct tg *t = tick_trace(3, XT_TICKS_PER_GEN);
	tick_gen(t, 1, 0, 5000000000);
	expect_clock_corrupt(t, "ticks_per_sec 0 outside");
	t = tick_trace(3, XT_TICKS_PER_GEN);
	tick_gen(t, 1, UINT64_MAX, 5000000000);
	expect_clock_corrupt(t, "ticks_per_sec 18446744073709551615 outside");
	t = tick_trace(3, XT_TICKS_PER_GEN);
	tg_gen(t, 1);
	tg_sync(t, 1000, 2000000000, 1700000000, 0);
	tg_end(t, 0);
	expect_clock_corrupt(t, "no monotonic time");
	t = tick_trace(3, 12345);
	expect_clock_corrupt(t, "bad header: ticks_per_sec 12345");
	/* A TSC shifted by 64 bits or more would leave no ticks. */
	t = tick_trace(3, XT_TICKS_PER_GEN);
	tg_gen(t, 1);
	tg_batch(t, XT_BATCH_SYNC, 0, 1000);
	tg_uvarint(t, 2000000000);
	tg_uvarint(t, 1700000000);
	tg_uvarint(t, 0);
	tg_uvarint(t, 5000000000);
	tg_uvarint(t, 0);  /* after_gap */
	tg_uvarint(t, 64); /* tsc_shift */
	tg_batch_end(t);
	tg_end(t, 0);
	expect_clock_corrupt(t, "bad TSC shift");

	/* Anchors that go back, ticks far before or after them: clamped to the clock's range. */
	t = tick_trace(3, XT_TICKS_PER_GEN);
	tick_gen(t, 1, 2000000000, 5000000000);
	tg_gen(t, 2);
	tg_sync_mono(t, 1000000, XT_MIN_TICKS_PER_SEC, 100);
	tg_batch(t, XT_BATCH_EVENTS, 7, 0);
	tg_event(t, XT_EV_ObjectFree, 0, 0x10);
	tg_event(t, XT_EV_ObjectFree, UINT64_MAX / 2, 0x20);
	tg_event(t, XT_EV_ObjectFree, UINT64_MAX / 2, 0x30);
	tg_batch_end(t);
	tg_end(t, 0);
	uint64_t ts[8];
	char err[256] = "";
	assert_int_equal(read_ts(t, ts, 8, err, sizeof err), 8);
	assert_int_equal(ts[4], 100);
	assert_int_equal(ts[5], 0);
	assert_int_equal(ts[6], UINT64_MAX);
	assert_int_equal(ts[7], UINT64_MAX);
	tg_free(t);
}

/* ---- truncation ---- */

/* ---- compressed generations ---- */

/* A compressed generation's record as tracegen writes it: of plain batches, or of columns. */
typedef uint64_t (*record_fn)(struct tg *, uint64_t, uint64_t);

/* std3z is std3 with generations 2 and 3 compressed by record, 2's claiming claim2 plain bytes
 * (0: the true count); rec[] gets the records' offsets, frame[] their frames'. */
static struct tg *std3z(uint64_t rec[2], uint64_t frame[2], uint64_t claim2, record_fn record)
{
	struct tg *t = tg_new(NULL);
	gen1(t);
	rec[0] = tg_offset(t);
	gen2(t);
	frame[0] = record(t, rec[0], claim2);
	rec[1] = tg_offset(t);
	gen3(t);
	frame[1] = record(t, rec[1], 0);
	return t;
}

/* same_events: the two traces hand out the same events, every field of each. */
static void same_events(const struct tg *a, const struct tg *b)
{
	xtrace_reader *ra = tg_open_trace(a), *rb = tg_open_trace(b);
	struct xtrace_event ea, eb;
	int na, nb, n = 0;
	while ((na = xtrace_next(ra, &ea)) > 0 && (nb = xtrace_next(rb, &eb)) > 0) {
		n++;
		assert_int_equal(ea.ts, eb.ts);
		assert_int_equal(ea.thread, eb.thread);
		assert_int_equal(ea.type, eb.type);
		assert_int_equal(ea.wire_type, eb.wire_type);
		assert_int_equal(ea.nargs, eb.nargs);
		assert_memory_equal(ea.args, eb.args, ea.nargs * sizeof ea.args[0]);
	}
	assert_int_equal(na, 0);
	assert_int_equal(xtrace_next(rb, &eb), 0);
	assert_true(n > 10);
	xtrace_close(ra);
	xtrace_close(rb);
}

/* expect_gen2_fails: generation 1 is whole, then reading stops with status st at off (the
 * record of generation 2), with a message containing msg. */
static void expect_gen2_fails(const struct tg *t, size_t len, enum xtrace_status st, uint64_t off,
			      const char *msg)
{
	struct run res = read_tg(t, len);
	assert_int_equal(res.rc, -1);
	if (res.st != st)
		fail_msg("status %d (%s), want %d", res.st, res.err, st);
	assert_int_equal(res.ngens, 1);
	assert_int_equal(res.err_off, off);
	if (!strstr(res.err, msg))
		fail_msg("error \"%s\" does not contain \"%s\"", res.err, msg);
}

/* Either kind of record (plain batches; columns, the shim's default from version 5) hands out
 * the same events as plain batches; a cut frame is a truncation, a damaged one corrupt, at the
 * record. */
static void test_zstd_generations(void **state)
{
	static const record_fn records[] = {tg_zstd, tg_zstd_columns};
	for (size_t k = 0; k < sizeof records / sizeof records[0]; k++) {
		struct tg *p = std3(NULL, NULL);
		uint64_t rec[2], frame[2];
		struct tg *z = std3z(rec, frame, 0, records[k]);
		same_events(p, z);
		struct run a = read_tg(p, TG_ALL), b = read_tg(z, TG_ALL);
		assert_int_equal(b.ngens, 3);
		assert_int_equal(b.ngens, a.ngens);
		assert_int_equal(b.nevents, a.nevents);
		assert_int_equal(b.rc, a.rc);
		assert_int_equal(b.st, a.st);
		tg_free(p);

		/* cut inside generation 2's frame: generation 1 is kept, the cut is a truncation */
		expect_gen2_fails(z, frame[0] + 3, XTRACE_ERR_TRUNCATED, rec[0], "is cut");
		/* a frame that is not zstd's: corrupt, with the record's offset */
		size_t len;
		uint8_t *d = tg_data(z, &len);
		d[frame[0]] ^= 0xff;
		expect_gen2_fails(z, TG_ALL, XTRACE_ERR_CORRUPT, rec[0], "offset");
		tg_free(z);
	}
}

static void test_zstd_claims(void **state)
{
	uint64_t rec[2], frame[2];
	/* a claim past the cap is refused before anything is allocated for it */
	struct tg *t = std3z(rec, frame, (uint64_t)XT_MAX_GEN_SIZE + 1, tg_zstd);
	expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, rec[0], "outside 1..268435456");
	tg_free(t);
	t = std3z(rec, frame, 10, tg_zstd);
	expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, rec[0], "more bytes than its plain size");
	tg_free(t);
	/* the true size, from a plain generation 2 */
	t = tg_new(NULL);
	gen1(t);
	uint64_t at = tg_offset(t);
	gen2(t);
	uint64_t plain = tg_offset(t) - at;
	tg_free(t);
	t = std3z(rec, frame, plain + 1, tg_zstd);
	expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, rec[0], "plain size differs from its claim");
	tg_free(t);

	/* what a record holds is one whole generation: no more, no less */
	t = tg_new(NULL);
	gen1(t);
	at = tg_offset(t);
	gen3(t);
	tg_gen(t, 2);
	tg_zstd(t, at, 0);
	expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, at, "generation 3 in the record of generation 2");
	tg_free(t);
	t = tg_new(NULL);
	gen1(t);
	at = tg_offset(t);
	tg_gen(t, 2);
	tg_sync(t, 2000, 1000000000, 0, 0);
	tg_zstd(t, at, 0);
	expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, at, "its bytes end before its End batch");
	tg_free(t);
	t = tg_new(NULL);
	gen1(t);
	at = tg_offset(t);
	gen2(t);
	tg_sync(t, 2000, 1000000000, 0, 0);
	tg_zstd(t, at, 0);
	expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, at, "bytes after its End batch");
	tg_free(t);
}

/* A column record whose frame decompresses but whose content is not a column form: corrupt,
 * saying what is wrong, at the record; a claim other than what joins, too. */
static void test_zstd_columns_corrupt(void **state)
{
	/* frames whose content is not a column form: a column count past the keys there are;
	 * an empty segment, which would join to nothing for ever; a segment the frame ends in */
	static const struct {
		uint8_t form[8];
		size_t n;
		const char *msg;
	} bad[] = {
		{{0xff, 0xff, 0x03, 1, 2, 3}, 6, "head is not well formed"},
		{{0, 0}, 2, "head is not well formed"},
		{{2, XT_COL_TYPES, 5, XT_COL_DT, 5, 40, XT_BATCH_STRINGS}, 7, "ends inside a column segment"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tg *t = tg_new(NULL);
		gen1(t);
		uint64_t at = tg_offset(t);
		tg_gen(t, 2);
		tg_zstd_raw(t, XT_RECORD_ZSTD_COLUMNS, bad[i].form, bad[i].n, 100);
		expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, at, bad[i].msg);
		tg_free(t);
	}
	/* the segments join to other than the record's claim */
	uint64_t rec[2], frame[2];
	struct tg *t = std3z(rec, frame, 0, tg_zstd_columns);
	size_t len;
	uint8_t *d = tg_data(t, &len);
	/* gen 2's claim is its first uvarint after gen: make it one more (it is one byte) */
	assert_true(d[rec[0] + 2] < 0x7f);
	d[rec[0] + 2]++;
	expect_gen2_fails(t, TG_ALL, XTRACE_ERR_CORRUPT, rec[0], "plain size differs from its claim");
	tg_free(t);
}

static void test_truncated_no_end(void **state)
{
	struct tg *t = good1();
	uint64_t off = tg_sync(t, 1, 1, 0, 0);
	tg_batch(t, XT_BATCH_EVENTS, 1, 0);
	tg_event(t, XT_EV_ObjectFree, 1, 0x10);
	tg_batch_end(t);
	size_t len;
	tg_data(t, &len);
	struct run res = read_tg(t, TG_ALL);
	assert_int_equal(res.rc, -1);
	assert_int_equal(res.st, XTRACE_ERR_TRUNCATED);
	assert_int_equal(res.ngens, 1);
	assert_int_equal(res.err_off, off);
	char want[160];
	snprintf(want, sizeof want,
		 "trace truncated at offset %llu: generation 2 has no end (file ends at %zu)",
		 (unsigned long long)off, len);
	assert_string_equal(res.err, want);
	tg_free(t);

	/* A size that fits the limit but not the file. */
	t = good1();
	off = tg_sync(t, 1, 1, 0, 0);
	tg_batch(t, XT_BATCH_STRINGS, 0, 0);
	tg_batch_end_size(t, 60000);
	res = read_tg(t, TG_ALL);
	assert_int_equal(res.st, XTRACE_ERR_TRUNCATED);
	assert_int_equal(res.err_off, off);
	assert_int_equal(res.ngens, 1);
	tg_free(t);
}

/* Cut the three-generation trace at every byte: exactly the generations whose End is inside
 * the cut come out, then a clean end at a generation boundary after the first, or TRUNCATED
 * anywhere else (a header alone included). */
static void test_truncate_everywhere(void **state)
{
	uint64_t hdr_end, ends[3];
	struct tg *t = std3(&hdr_end, ends);
	const uint64_t gen_events[3] = GEN_EVENTS;
	char *path = tg_tmpfile(t, TG_ALL);
	for (uint64_t len = 0; len <= ends[2]; len++) {
		assert_int_equal(tg_write(t, path, len), 0);
		struct run res = read_trace(path);
		if (len < hdr_end) {
			assert_false(res.opened);
			continue;
		}
		assert_true(res.opened);
		int whole = 0;
		uint64_t events = 0;
		while (whole < 3 && ends[whole] <= len)
			events += gen_events[whole++];
		assert_int_equal(res.ngens, whole);
		assert_int_equal(res.nevents, events);
		uint64_t start = whole ? ends[whole - 1] : hdr_end;
		if (len == start && whole) {
			assert_int_equal(res.rc, 0);
			assert_int_equal(res.st, XTRACE_OK);
		} else {
			assert_int_equal(res.rc, -1);
			if (res.st != XTRACE_ERR_TRUNCATED)
				fail_msg("cut at %llu: status %d: %s", (unsigned long long)len,
					 res.st, res.err);
			assert_int_equal(res.err_off, start);
			char want[128];
			snprintf(want, sizeof want, "generation %d has no end (file ends at %llu)",
				 whole + 1, (unsigned long long)len);
			assert_non_null(strstr(res.err, want));
		}
	}
	unlink(path);
	free(path);
	tg_free(t);
}

/* A reader closed at any point of a trace of several generations, the helper thread readying
 * the next one or waiting with it: nothing leaks, nothing is touched after the close (the
 * sanitized run of this test tells), and what was handed out before matches a whole read. */
static void test_close_anywhere(void **state)
{
	struct tg *t = std3(NULL, NULL);
	const uint64_t gen_events[3] = GEN_EVENTS;
	const uint64_t total = 3 + gen_events[0] + gen_events[1] + gen_events[2];
	for (uint64_t k = 0; k <= total + 1; k++) {
		xtrace_reader *r = tg_open_trace(t);
		struct xtrace_event ev;
		uint64_t n = 0;
		while (n < k && xtrace_next(r, &ev) > 0)
			n++;
		assert_int_equal(n, k <= total ? k : total);
		xtrace_close(r);
	}
	tg_free(t);
}

/* A process forked while reading a trace of several generations reads on in the child: the
 * helper thread readying the next generation stays in the parent, and the child, which has none,
 * readies the rest itself (waiting for the helper, it would wait for ever: the alarm ends it). */
static void test_fork_reads_on(void **state)
{
	struct tg *t = std3(NULL, NULL);
	const uint64_t gen_events[3] = GEN_EVENTS;
	const uint64_t total = 3 + gen_events[0] + gen_events[1] + gen_events[2];
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1); /* generation 1's Sync: the helper starts */
	pid_t pid = fork();
	assert_true(pid >= 0);
	uint64_t n = 1;
	int rc;
	if (pid == 0)
		alarm(10);
	while ((rc = xtrace_next(r, &ev)) > 0)
		n++;
	xtrace_close(r);
	if (pid == 0)
		_exit(rc == 0 && n == total ? 0 : 1);
	assert_int_equal(rc, 0);
	assert_int_equal(n, total);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	tg_free(t);
}

/* threads_now counts the threads of this process. */
static int threads_now(void)
{
	int n = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* The helper thread runs from the first Sync of a trace of several generations to the close;
 * XTRACE_READ_AHEAD=0 reads on the caller's thread alone, the same events. */
static void test_read_ahead_switch(void **state)
{
	struct tg *t = std3(NULL, NULL);
	const uint64_t gen_events[3] = GEN_EVENTS;
	const uint64_t total = 3 + gen_events[0] + gen_events[1] + gen_events[2];
	const int before = threads_now();
	for (int ahead = 1; ahead >= 0; ahead--) {
		if (!ahead)
			setenv("XTRACE_READ_AHEAD", "0", 1);
		xtrace_reader *r = tg_open_trace(t);
		struct xtrace_event ev;
		assert_int_equal(xtrace_next(r, &ev), 1);
		assert_int_equal(threads_now(), before + ahead);
		uint64_t n = 1;
		while (xtrace_next(r, &ev) > 0)
			n++;
		assert_int_equal(n, total);
		xtrace_close(r);
		assert_int_equal(threads_now(), before);
	}
	unsetenv("XTRACE_READ_AHEAD");
	tg_free(t);
}

/* A compressed generation of more plain bytes than the buffer they are inflated into starts
 * with (2 MiB) and its first doubling: the buffer grows twice as the bytes come out, and every
 * event of the generation is read; as a column record too, of five segments. */
static void test_zstd_big_generation(void **state)
{
	const uint64_t gen_events[3] = GEN_EVENTS;
	static const record_fn records[] = {tg_zstd, tg_zstd_columns};
	for (size_t k = 0; k < sizeof records / sizeof records[0]; k++) {
		struct tg *t = tg_new(NULL);
		gen1(t);
		uint64_t rec = tg_offset(t);
		tg_gen(t, 2);
		tg_sync(t, 2000, 1000000000, 1700000002, 0);
		uint64_t n = 0;
		for (int b = 0; b < 80; b++) { /* 80 batches of 60000 bytes: 4.8 MB */
			tg_batch(t, XT_BATCH_EVENTS, 1 + b % 2, 2000);
			for (uint64_t i = 0; i < 20000; i++, n++)
				tg_event(t, XT_EV_ObjectFree, 1, 0x100000 + 16 * i);
			tg_batch_end(t);
		}
		tg_end(t, 0);
		records[k](t, rec, 0);
		xtrace_reader *r = tg_open_trace(t);
		struct xtrace_event ev;
		uint64_t got = 0;
		int rc;
		while ((rc = xtrace_next(r, &ev)) > 0)
			got++;
		assert_int_equal(rc, 0);
		assert_int_equal(got, 2 + gen_events[0] + n);
		xtrace_close(r);
		tg_free(t);
	}
}

/* ---- frees by reference ---- */

/* expect_free reads the next event: a free of type at addr (a timestamp of no interest), coded
 * on the wire as wire. */
static void expect_free(xtrace_reader *r, uint64_t thread, uint8_t type, uint8_t wire,
			uint64_t addr)
{
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.thread, thread);
	assert_int_equal(ev.type, type);
	assert_int_equal(ev.wire_type, wire);
	assert_string_equal(ev.name, xt_specs[type].name);
	assert_int_equal(ev.nargs, 1);
	assert_string_equal(ev.arg_names[0], "obj_addr");
	assert_int_equal(ev.arg_kinds[0], XTRACE_ARG_ADDR);
	assert_int_equal(ev.args[0], addr);
}

/* expect_alloc_as reads the next event: an ObjectAlloc of addr, type and stack, coded on the wire
 * as wire. */
static void expect_alloc_as(xtrace_reader *r, uint64_t thread, uint8_t wire, uint64_t addr,
			    uint64_t type, uint64_t stack)
{
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.thread, thread);
	assert_int_equal(ev.type, XT_EV_ObjectAlloc);
	assert_int_equal(ev.wire_type, wire);
	assert_string_equal(ev.name, "ObjectAlloc");
	assert_int_equal(ev.nargs, 3);
	assert_string_equal(ev.arg_names[0], "obj_addr");
	assert_int_equal(ev.arg_kinds[0], XTRACE_ARG_ADDR);
	assert_int_equal(ev.args[0], addr);
	assert_int_equal(ev.args[1], type);
	assert_int_equal(ev.args[2], stack);
}

/* expect_alloc reads the next event: an ObjectAlloc of addr, by address, with no type or stack. */
static void expect_alloc(xtrace_reader *r, uint64_t thread, uint64_t addr)
{
	expect_alloc_as(r, thread, XT_EV_ObjectAlloc, addr, 0, 0);
}

/* ref_trace: one generation whose threads run one after another (each batch's times are past
 * the one before), so events come out batch by batch.
 *   thread 7: three allocs (the middle one failed), frees of the first and the last by
 *             reference, then an alloc whose address is a hand-written delta from the freed one
 *   thread 8: 64 allocs, each from the fourth on followed by a free naming the one 3 back: the
 *             reader's ring of 4 wraps
 *   thread 9: a batch reaching 1 back, then one reaching 7 back: the ring fits the larger */
static struct tg *ref_trace(void)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 100, 1000000000, 1700000001, 0);
	tg_batch(t, XT_BATCH_EVENTS, 7, 1000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, 0, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0, 0, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x3000, 0, 0);
	tg_event(t, XT_EV_ObjectFreeRecent, 1, 0);
	tg_event(t, XT_EV_ObjectReallocFreeRecent, 1, 2);
	/* zigzag(+0x10) from the address the last free named, not from the 0x3000 before it */
	tg_u8(t, XT_EV_ObjectAlloc);
	tg_bytes(t, (const uint8_t[]){1, 0x20, 0, 0}, 4);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 8, 2000);
	for (uint64_t i = 0; i < 64; i++) {
		tg_event(t, XT_EV_ObjectAlloc, 1, 0x10000 + 0x40 * i, 0, 0);
		if (i >= 3)
			tg_event(t, XT_EV_ObjectFreeRecent, 1, 3);
	}
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 9, 3000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x7000, 0, 0);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x7100, 0, 0);
	tg_event(t, XT_EV_ObjectFreeRecent, 1, 1);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 9, 4000);
	for (uint64_t i = 0; i < 10; i++)
		tg_event(t, XT_EV_ObjectAlloc, 1, 0x9000 + 0x100 * i, 0, 0);
	tg_event(t, XT_EV_ObjectFreeRecent, 1, 7);
	tg_batch_end(t);
	tg_end(t, 0);
	return t;
}

static void test_free_by_reference(void **state)
{
	struct tg *t = ref_trace();
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.kind, XTRACE_EVENT_SYNC);
	assert_int_equal(ev.wire_type, 0);
	assert_int_equal(xtrace_get_sync(r)->nevents, 6 + 64 + 61 + 3 + 11);

	expect_alloc(r, 7, 0x1000);
	expect_alloc(r, 7, 0);
	expect_alloc(r, 7, 0x3000);
	expect_free(r, 7, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x3000);
	expect_free(r, 7, XT_EV_ObjectReallocFree, XT_EV_ObjectReallocFreeRecent, 0x1000);
	expect_alloc(r, 7, 0x1010);

	for (uint64_t i = 0; i < 64; i++) {
		expect_alloc(r, 8, 0x10000 + 0x40 * i);
		if (i >= 3)
			expect_free(r, 8, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent,
				    0x10000 + 0x40 * (i - 3));
	}

	expect_alloc(r, 9, 0x7000);
	expect_alloc(r, 9, 0x7100);
	expect_free(r, 9, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x7000);
	for (uint64_t i = 0; i < 10; i++)
		expect_alloc(r, 9, 0x9000 + 0x100 * i);
	expect_free(r, 9, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x9200);
	assert_int_equal(xtrace_next(r, &ev), 0);
	assert_int_equal(xtrace_status(r), XTRACE_OK);
	xtrace_close(r);
	tg_free(t);
}

/* ---- allocations by reference ---- */

/* alloc_ref_trace: allocations by reference, in one generation with types and stacks; threads
 * run one after another, as in ref_trace.
 *   thread 7: allocations naming a plain ObjectFree, an ObjectFreeRecent, an
 *             ObjectReallocFreeRecent and a plain ObjectReallocFree; a free naming an
 *             allocation by reference; last an alloc whose address is a hand-written delta
 *             from the address the allocation before it named
 *   thread 8: 64 frees, each from the fourth on followed by an allocation naming the free 3
 *             back: the reader's ring of frees wraps
 *   thread 9: a batch reaching 1 free back, then one reaching 7 frees and 3 allocs back: each
 *             ring fits its list's larger reach */
static struct tg *alloc_ref_trace(void)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 100, 1000000000, 1700000001, 0);
	tg_batch(t, XT_BATCH_STACKS, 0, 100);
	tg_stack(t, 1, 1, (const uint64_t[]){0x401234});
	tg_stack(t, 2, 1, (const uint64_t[]){0x401300});
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 100);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_MALLOC, 32, 1, 0);
	tg_alloc_type(t, 2, XT_API_MALLOC, 64, 1, 0);
	tg_alloc_type(t, 3, XT_API_REALLOC, 40, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 1000);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x1000, 1, 1);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0, 2, 0);                 /* failed */
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x2000, 1, 2);
	tg_event(t, XT_EV_ObjectFree, 1, 0x1000);                   /* frees: 0x1000 */
	tg_event(t, XT_EV_ObjectFreeRecent, 1, 0);                  /* 0x1000 0x2000 */
	tg_event(t, XT_EV_ObjectAllocReused, 1, 1, 2, 1);           /* the plain free */
	tg_event(t, XT_EV_ObjectAllocReused, 1, 0, 1, 2);           /* the Recent free */
	tg_event(t, XT_EV_ObjectReallocFreeRecent, 1, 1);           /* allocs 3 back: 0x1000 */
	tg_event(t, XT_EV_ObjectAllocReused, 1, 0, 3, 1);           /* realloc kept it */
	tg_event(t, XT_EV_ObjectReallocFree, 1, 0x2000);            /* plain */
	tg_event(t, XT_EV_ObjectAllocReused, 1, 0, 3, 2);
	/* zigzag(+0x10) from the address the allocation before named */
	tg_u8(t, XT_EV_ObjectAlloc);
	tg_bytes(t, (const uint8_t[]){1, 0x20, 1, 1}, 4);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 8, 2000);
	for (uint64_t i = 0; i < 64; i++) {
		tg_event(t, XT_EV_ObjectFree, 1, 0x10000 + 0x40 * i);
		if (i >= 3)
			tg_event(t, XT_EV_ObjectAllocReused, 1, 3, 1, 1);
	}
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 9, 3000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x7000);
	tg_event(t, XT_EV_ObjectFree, 1, 0x7100);
	tg_event(t, XT_EV_ObjectAllocReused, 1, 1, 1, 1);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 9, 4000);
	for (uint64_t i = 0; i < 10; i++)
		tg_event(t, XT_EV_ObjectFree, 1, 0x9000 + 0x100 * i);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0xa000, 1, 1);
	tg_event(t, XT_EV_ObjectAllocReused, 1, 7, 2, 2);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0xb000, 1, 1);
	tg_event(t, XT_EV_ObjectFreeRecent, 1, 2);
	tg_batch_end(t);
	tg_end(t, 0);
	return t;
}

static void test_alloc_by_reference(void **state)
{
	struct tg *t = alloc_ref_trace();
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.kind, XTRACE_EVENT_SYNC);
	assert_int_equal(xtrace_get_sync(r)->nevents, 12 + 64 + 61 + 3 + 14);

	const uint8_t A = XT_EV_ObjectAlloc, R = XT_EV_ObjectAllocReused;
	expect_alloc_as(r, 7, A, 0x1000, 1, 1);
	expect_alloc_as(r, 7, A, 0, 2, 0);
	expect_alloc_as(r, 7, A, 0x2000, 1, 2);
	expect_free(r, 7, XT_EV_ObjectFree, XT_EV_ObjectFree, 0x1000);
	expect_free(r, 7, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0x2000);
	expect_alloc_as(r, 7, R, 0x1000, 2, 1);
	expect_alloc_as(r, 7, R, 0x2000, 1, 2);
	expect_free(r, 7, XT_EV_ObjectReallocFree, XT_EV_ObjectReallocFreeRecent, 0x1000);
	expect_alloc_as(r, 7, R, 0x1000, 3, 1);
	expect_free(r, 7, XT_EV_ObjectReallocFree, XT_EV_ObjectReallocFree, 0x2000);
	expect_alloc_as(r, 7, R, 0x2000, 3, 2);
	expect_alloc_as(r, 7, A, 0x2010, 1, 1);

	for (uint64_t i = 0; i < 64; i++) {
		expect_free(r, 8, XT_EV_ObjectFree, XT_EV_ObjectFree, 0x10000 + 0x40 * i);
		if (i >= 3)
			expect_alloc_as(r, 8, R, 0x10000 + 0x40 * (i - 3), 1, 1);
	}

	expect_free(r, 9, XT_EV_ObjectFree, XT_EV_ObjectFree, 0x7000);
	expect_free(r, 9, XT_EV_ObjectFree, XT_EV_ObjectFree, 0x7100);
	expect_alloc_as(r, 9, R, 0x7000, 1, 1);
	for (uint64_t i = 0; i < 10; i++)
		expect_free(r, 9, XT_EV_ObjectFree, XT_EV_ObjectFree, 0x9000 + 0x100 * i);
	expect_alloc_as(r, 9, A, 0xa000, 1, 1);
	expect_alloc_as(r, 9, R, 0x9200, 2, 2);
	expect_alloc_as(r, 9, A, 0xb000, 1, 1);
	expect_free(r, 9, XT_EV_ObjectFree, XT_EV_ObjectFreeRecent, 0xa000);
	assert_int_equal(xtrace_next(r, &ev), 0);
	assert_int_equal(xtrace_status(r), XTRACE_OK);
	xtrace_close(r);
	tg_free(t);
}

/* ---- corrupt references ---- */

/* list_events writes n events of list from the address base up: ObjectAllocs or ObjectFrees. */
static void list_events(struct tg *t, int list, uint64_t n, uint64_t base)
{
	uint8_t type = list == XT_REFS_ALLOCS ? XT_EV_ObjectAlloc : XT_EV_ObjectFree;
	for (uint64_t i = 0; i < n; i++)
		tg_event_n(t, type, 1, (const uint64_t[XT_MAX_ARGS]){base + 16 * i},
			   xt_specs[type].nargs);
}

/* ref_event writes the reference form ref naming back (type and stack none). */
static void ref_event(struct tg *t, uint8_t ref, uint64_t back)
{
	tg_event_n(t, ref, 1, (const uint64_t[XT_MAX_ARGS]){back}, xt_specs[ref].nargs);
}

/* bad_ref_gen2 follows the good generation 1 with a generation 2 whose one Events batch has n
 * events of the list ref names, then ref naming the one back back, then after more of them:
 * placed far from the batch's end, the reference is for the lanes' fast check to turn down
 * first. The batch's offset is returned. */
static uint64_t bad_ref_gen2(struct tg *t, uint8_t ref, uint64_t n, uint64_t back, uint64_t after)
{
	tg_sync(t, 1, 1, 0, 0);
	uint64_t off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	list_events(t, xt_allocref_names(ref), n, 0x100000);
	ref_event(t, ref, back);
	list_events(t, xt_allocref_names(ref), after, 0x200000);
	tg_batch_end(t);
	tg_end(t, 0);
	return off;
}

static void test_corrupt_references(void **state)
{
	static const uint64_t afters[] = {0, 100};
	static const struct {
		uint8_t ref;
		const char *names; /* what the message says it names */
	} refs[] = {
		{XT_EV_ObjectFreeRecent, "ObjectAlloc"},
		{XT_EV_ObjectReallocFreeRecent, "ObjectAlloc"},
		{XT_EV_ObjectAllocReused, "ObjectFree or ObjectReallocFree"},
	};
	char msg[256];
	for (size_t f = 0; f < sizeof refs / sizeof refs[0]; f++) {
		uint8_t ref = refs[f].ref;
		int named = xt_allocref_names(ref);
		for (size_t k = 0; k < sizeof afters / sizeof afters[0]; k++) {
			/* One back too far. */
			struct tg *t = good1();
			uint64_t off = bad_ref_gen2(t, ref, 2, 2, afters[k]);
			snprintf(msg, sizeof msg, "event %s: back_value 2 names no %s of the batch "
				 "(2 before it, at most 4096 back)", xt_specs[ref].name, refs[f].names);
			expect_corrupt(t, off, msg);
			tg_free(t);

			/* Batches are read on their own: a batch's first reference names nothing,
			 * whatever the thread's batch before it had. */
			t = good1();
			tg_sync(t, 1, 1, 0, 0);
			tg_batch(t, XT_BATCH_EVENTS, 5, 0);
			list_events(t, named, 1, 0x10);
			tg_batch_end(t);
			off = tg_batch(t, XT_BATCH_EVENTS, 5, 10);
			ref_event(t, ref, 0);
			list_events(t, named, afters[k], 0x20);
			tg_batch_end(t);
			tg_end(t, 0);
			snprintf(msg, sizeof msg, "back_value 0 names no %s of the batch (0 before it",
				 refs[f].names);
			expect_corrupt(t, off, msg);
			tg_free(t);

			/* Only the named list counts: many events of the other one, one of its own. */
			t = good1();
			tg_sync(t, 1, 1, 0, 0);
			off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
			int other = named == XT_REFS_ALLOCS ? XT_REFS_FREES : XT_REFS_ALLOCS;
			list_events(t, other, 3, 0x10);
			list_events(t, named, 1, 0x100);
			ref_event(t, ref, 1);
			list_events(t, other, afters[k], 0x1000);
			tg_batch_end(t);
			tg_end(t, 0);
			snprintf(msg, sizeof msg, "back_value 1 names no %s of the batch (1 before it",
				 refs[f].names);
			expect_corrupt(t, off, msg);
			tg_free(t);

			/* Past the window, with more than that many before it. */
			t = good1();
			off = bad_ref_gen2(t, ref, XT_ALLOCREF_WINDOW + 1, XT_ALLOCREF_WINDOW, afters[k]);
			snprintf(msg, sizeof msg, "back_value 4096 names no %s of the batch (4097 before",
				 refs[f].names);
			expect_corrupt(t, off, msg);
			tg_free(t);
		}

		/* The oldest the window reaches is good. */
		struct tg *t = good1();
		bad_ref_gen2(t, ref, XT_ALLOCREF_WINDOW + 1, XT_ALLOCREF_WINDOW - 1, 100);
		xtrace_reader *r = tg_open_trace(t);
		struct xtrace_event ev;
		uint64_t nref = 0;
		while (xtrace_next(r, &ev) > 0)
			if (ev.gen == 2 && ev.wire_type == ref) {
				assert_int_equal(ev.type, xt_allocref_by_address(ref));
				assert_int_equal(ev.args[0], 0x100000 + 16 * 1);
				nref++;
			}
		assert_int_equal(nref, 1);
		assert_int_equal(xtrace_status(r), XTRACE_OK);
		xtrace_close(r);
		tg_free(t);
	}

	/* An allocation by reference has its type and stack checked as ObjectAlloc's are. */
	struct tg *t = good1();
	tg_sync(t, 1, 1, 0, 0);
	uint64_t off = tg_batch(t, XT_BATCH_EVENTS, 5, 0);
	tg_event(t, XT_EV_ObjectFree, 1, 0x10);
	tg_event(t, XT_EV_ObjectAllocReused, 1, 0, 5, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	expect_corrupt(t, off, "event ObjectAllocReused: type 5 not in the generation");
	tg_free(t);
}

/* ---- random damage ---- */

/* random_flips damages t's bytes at random, thousands of times: reading never crashes, and
 * ends cleanly or with an error. */
static void random_flips(struct tg *t)
{
	size_t len;
	uint8_t *d = tg_data(t, &len);
	uint8_t *orig = malloc(len);
	assert_non_null(orig);
	memcpy(orig, d, len);
	char *path = tg_tmpfile(t, TG_ALL);
	unsigned seed = 12345;
	int iters = getenv("XTRACE_FLIP_ITERS") ? atoi(getenv("XTRACE_FLIP_ITERS")) : 4000;
	int outcomes[5] = {0};
	for (int i = 0; i < iters; i++) {
		memcpy(d, orig, len);
		int nflips = 1 + rand_r(&seed) % 4;
		for (int k = 0; k < nflips; k++) {
			size_t at = (size_t)rand_r(&seed) % len;
			if (rand_r(&seed) % 2)
				d[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
			else
				d[at] = (uint8_t)rand_r(&seed);
		}
		size_t cut = rand_r(&seed) % 4 == 0 ? (size_t)rand_r(&seed) % (len + 1) : len;
		assert_int_equal(tg_write(t, path, cut), 0);
		struct run res = read_trace(path);
		if (res.opened) {
			assert_true(res.rc <= 0);
			assert_true(res.rc == 0 ? res.st == XTRACE_OK : res.st != XTRACE_OK);
			assert_true(res.ngens <= 3);
			if (res.rc < 0)
				assert_true(res.err[0] != 0);
		}
		outcomes[res.opened ? res.st : 4]++;
	}
	/* The flips reach past the header: each outcome happens. */
	assert_true(outcomes[XTRACE_OK] > 0);
	assert_true(outcomes[XTRACE_ERR_CORRUPT] > 0);
	assert_true(outcomes[XTRACE_ERR_TRUNCATED] > 0);
	unlink(path);
	free(path);
	free(orig);
	tg_free(t);
}

static void test_random_flips(void **state)
{
	random_flips(std3(NULL, NULL));
	random_flips(ref_trace());
	random_flips(alloc_ref_trace());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_two_threads_in_time_order),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_module_map_overlaps),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_empty_trace),
		cmocka_unit_test(test_sparse_ids),
		cmocka_unit_test(test_padded_varints),
		cmocka_unit_test(test_module_without_path),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_header_extra_bytes),
		cmocka_unit_test(test_corrupt_kind),
		cmocka_unit_test(test_zstd_generations),
		cmocka_unit_test(test_zstd_claims),
		cmocka_unit_test(test_zstd_columns_corrupt),
		cmocka_unit_test(test_corrupt_size),
		cmocka_unit_test(test_corrupt_generation_order),
		cmocka_unit_test(test_corrupt_events),
		cmocka_unit_test(test_corrupt_tables),
		cmocka_unit_test(test_corrupt_end_and_sync),
		cmocka_unit_test(test_clock_per_generation),
		cmocka_unit_test(test_clock_span_edge),
		cmocka_unit_test(test_clock_bad_values),
		cmocka_unit_test(test_truncated_no_end),
		cmocka_unit_test(test_truncate_everywhere),
		cmocka_unit_test(test_close_anywhere),
		cmocka_unit_test(test_fork_reads_on),
		cmocka_unit_test(test_read_ahead_switch),
		cmocka_unit_test(test_zstd_big_generation),
		cmocka_unit_test(test_free_by_reference),
		cmocka_unit_test(test_alloc_by_reference),
		cmocka_unit_test(test_corrupt_references),
		cmocka_unit_test(test_random_flips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
