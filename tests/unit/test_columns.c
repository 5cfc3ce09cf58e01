/* test_columns.c: a generation's column form (experiments/columns.h): split and joined back it
 * is the same bytes, over one segment and many; a form that is not well formed is refused with
 * what is wrong, never read or written outside its buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "allocfree.h"
#include "columns.h"
#include "spec.h"
#include "tracegen.h"
#include "varint.h"

static struct xt_columns ws;

/* builtin_nargs: the argument counts of the built-in event types, as the shim gives them. */
static void builtin_nargs(uint8_t nargs[256])
{
	for (unsigned t = 0; t < 256; t++)
		nargs[t] = xt_specs[t].name ? xt_specs[t].nargs : XT_COL_NO_TYPE;
}

/* one_gen writes a generation with every kind of batch, an empty Events batch and events of
 * one to three arguments, events_batches Events batches of 2000 events more (to fill several
 * segments), and returns its plain bytes (*len of them; the caller frees them). */
static uint8_t *one_gen(unsigned events_batches, size_t *len)
{
	struct tg *t = tg_new(NULL);
	uint64_t from = tg_offset(t);
	tg_gen(t, 1);
	tg_sync(t, 1000, 1000000000, 1700000000, 0);
	tg_batch(t, XT_BATCH_STRINGS, 0, 100);
	tg_string(t, 1, "/usr/bin/main");
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, 100);
	tg_stack(t, 1, 2, (const uint64_t[]){0x401234, 0x401100});
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 100);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_MALLOC, 32, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 1000);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0x10000, 1, 1);
	tg_event(t, XT_EV_ObjectFree, 30, 0x10000);
	tg_event(t, XT_EV_ProcessEnd, 1, 0, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 8, 1050);
	tg_batch_end(t);
	for (unsigned b = 0; b < events_batches; b++) {
		tg_batch(t, XT_BATCH_EVENTS, 9 + b % 3, 2000 + b);
		for (uint64_t i = 0; i < 2000; i++) {
			uint64_t addr = 0x200000 + 48 * (i * 7919 % 4096);
			if (i % 2)
				tg_event(t, XT_EV_ObjectFree, i % 7, addr);
			else
				tg_event(t, XT_EV_ObjectAlloc, i % 7, addr, 1, 1);
		}
		tg_batch_end(t);
	}
	tg_end(t, 0);
	size_t n;
	uint8_t *d = tg_data(t, &n);
	*len = n - from;
	uint8_t *plain = malloc(*len);
	assert_non_null(plain);
	memcpy(plain, d + from, *len);
	tg_free(t);
	return plain;
}

/* round_trip splits plain into segments and joins each back: the same bytes; returns how many
 * segments there were. */
static unsigned round_trip(const uint8_t *plain, size_t len)
{
	uint8_t nargs[256];
	builtin_nargs(nargs);
	uint8_t *form = malloc(XT_COL_SPLIT_ROOM), *back = malloc(XT_COL_SEGMENT_MAX);
	assert_non_null(form);
	assert_non_null(back);
	unsigned segs = 0;
	for (size_t off = 0, took = 0; off < len; off += took, segs++) {
		size_t n = xt_columns_split(plain + off, len - off, nargs, &ws, form, &took);
		assert_true(n > took && took > 0 && n <= XT_COL_FORM_MAX);
		/* the head alone is not enough to say how long the segment is only when cut */
		assert_int_equal(xt_columns_segment_size(form, n, &ws), (long)n);
		assert_int_equal(xt_columns_segment_size(form, 1, &ws), 0);
		const char *why = NULL;
		size_t got = xt_columns_join(form, n, &ws, back, XT_COL_SEGMENT_MAX, &why);
		if (!got)
			fail_msg("segment %u does not join: %s", segs, why);
		assert_int_equal(got, took);
		assert_memory_equal(back, plain + off, took);
	}
	free(form);
	free(back);
	return segs;
}

static void test_round_trip(void **state)
{
	(void)state;
	size_t len;
	uint8_t *plain = one_gen(0, &len);
	assert_int_equal(round_trip(plain, len), 1);
	free(plain);
	/* 600 batches of 2000 events: several segments, each whole batches */
	plain = one_gen(600, &len);
	assert_true(len > 3 * XT_COL_SEGMENT);
	assert_true(round_trip(plain, len) > 3);
	free(plain);
}

/* One generation's plain bytes, the built-in argument counts and room for a segment's form. */
struct gen1 {
	uint8_t *plain, *form, nargs[256];
	size_t len;
};

static struct gen1 gen1_open(void)
{
	struct gen1 g;
	g.plain = one_gen(0, &g.len);
	builtin_nargs(g.nargs);
	g.form = malloc(XT_COL_SPLIT_ROOM);
	assert_non_null(g.form);
	return g;
}

static void gen1_close(struct gen1 *g)
{
	free(g->form);
	free(g->plain);
}

/* The form groups a type's arguments: the columns are the type bytes, the times and one per
 * argument of each type that occurs; the directory says so. */
static void test_directory(void **state)
{
	(void)state;
	struct gen1 g = gen1_open();
	size_t took, n = xt_columns_split(g.plain, g.len, g.nargs, &ws, g.form, &took);
	assert_true(n > 0);
	const uint8_t *p = g.form, *end = g.form + n;
	uint64_t ncols = 0, key = 0, size = 0;
	assert_int_equal(xt_get_uvarint(&p, end, &ncols), 0);
	const unsigned want[] = {XT_COL_TYPES, XT_COL_DT, XT_COL_ARG(XT_EV_ProcessEnd, 0),
				 XT_COL_ARG(XT_EV_ProcessEnd, 1), XT_COL_ARG(XT_EV_ObjectAlloc, 0),
				 XT_COL_ARG(XT_EV_ObjectAlloc, 1), XT_COL_ARG(XT_EV_ObjectAlloc, 2),
				 XT_COL_ARG(XT_EV_ObjectFree, 0)};
	/* three events; the allocation's address a delta of three bytes, every other field one */
	const uint64_t sizes[] = {3, 3, 1, 1, 3, 1, 1, 1};
	assert_int_equal(ncols, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < ncols; i++) {
		assert_int_equal(xt_get_uvarint(&p, end, &key), 0);
		assert_int_equal(xt_get_uvarint(&p, end, &size), 0);
		assert_int_equal(key, want[i]);
		assert_int_equal(size, sizes[i]);
	}
	gen1_close(&g);
}

/* The writer refuses what it cannot split: an event of a type it does not know, an event or a
 * batch cut short. */
static void test_split_refuses(void **state)
{
	(void)state;
	struct gen1 g = gen1_open();
	size_t took;
	g.nargs[XT_EV_ProcessEnd] = XT_COL_NO_TYPE;
	assert_int_equal(xt_columns_split(g.plain, g.len, g.nargs, &ws, g.form, &took), 0);
	builtin_nargs(g.nargs);
	g.nargs[XT_EV_ObjectFree] = 3; /* the event would run past its batch */
	assert_int_equal(xt_columns_split(g.plain, g.len, g.nargs, &ws, g.form, &took), 0);
	builtin_nargs(g.nargs);
	assert_int_equal(xt_columns_split(g.plain, g.len - 1, g.nargs, &ws, g.form, &took), 0);
	gen1_close(&g);
	/* the workspace of a refused split splits and joins the next generation right */
	size_t len;
	uint8_t *plain = one_gen(0, &len);
	assert_int_equal(round_trip(plain, len), 1);
	free(plain);
}

/* form_of builds a segment from its parts: directory entries (key, size pairs), the skeleton
 * and the columns' bytes; returns its length. */
static size_t form_of(uint8_t *out, const uint64_t *dir, size_t ndir, const uint8_t *skel,
		      size_t nskel, const uint8_t *cols, size_t ncols)
{
	uint8_t *o = xt_put_uvarint(out, ndir);
	for (size_t i = 0; i < ndir; i++) {
		o = xt_put_uvarint(o, dir[2 * i]);
		o = xt_put_uvarint(o, dir[2 * i + 1]);
	}
	o = xt_put_uvarint(o, nskel);
	if (nskel) /* no copy from a NULL part */
		memcpy(o, skel, nskel);
	o += nskel;
	if (ncols)
		memcpy(o, cols, ncols);
	return (size_t)(o - out) + ncols;
}

/* expect_refused: the segment does not join, saying msg; its size is what it says, or -1 (size
 * -1) when its head is refused already. */
static void expect_refused(const uint8_t *form, size_t n, long size, const char *msg)
{
	uint8_t out[256];
	assert_int_equal(xt_columns_segment_size(form, n, &ws), size);
	const char *why = NULL;
	assert_int_equal(xt_columns_join(form, n, &ws, out, sizeof out, &why), 0);
	assert_non_null(why);
	if (!strstr(why, msg))
		fail_msg("\"%s\" does not say \"%s\"", why, msg);
}

static void test_join_refuses(void **state)
{
	(void)state;
	uint8_t f[512];
	/* one Events batch (gen 1, thread 7, time 0) of two bytes: a type-4 event (ProcessEnd,
	 * two arguments) would need four */
	const uint8_t ev_head[] = {XT_BATCH_EVENTS, 1, 7, 0, 4};
	const uint8_t ok_cols[] = {XT_EV_ProcessEnd, 0, 1, 2};
	const uint64_t ok_dir[] = {XT_COL_TYPES, 1, XT_COL_DT, 1, XT_COL_ARG(XT_EV_ProcessEnd, 0), 1,
				   XT_COL_ARG(XT_EV_ProcessEnd, 1), 1};
	size_t n = form_of(f, ok_dir, 4, ev_head, sizeof ev_head, ok_cols, sizeof ok_cols);
	uint8_t out[64];
	const char *why = NULL;
	assert_int_equal(xt_columns_join(f, n, &ws, out, sizeof out, &why), 9);
	assert_memory_equal(out, ((const uint8_t[]){XT_BATCH_EVENTS, 1, 7, 0, 4, XT_EV_ProcessEnd, 0, 1, 2}), 9);
	/* no room for the plain bytes */
	assert_int_equal(xt_columns_join(f, n, &ws, out, 8, &why), 0);
	assert_non_null(strstr(why, "room"));

	/* keys out of order, an argument's column without the one before, an empty column */
	const uint64_t swapped[] = {XT_COL_DT, 1, XT_COL_TYPES, 1};
	n = form_of(f, swapped, 2, ev_head, sizeof ev_head, ok_cols, 2);
	expect_refused(f, n, -1, "head");
	const uint64_t gap[] = {XT_COL_TYPES, 1, XT_COL_DT, 1, XT_COL_ARG(XT_EV_ProcessEnd, 1), 2};
	n = form_of(f, gap, 3, ev_head, sizeof ev_head, ok_cols, 4);
	expect_refused(f, n, -1, "head");
	const uint64_t empty[] = {XT_COL_TYPES, 0};
	n = form_of(f, empty, 1, ev_head, sizeof ev_head, NULL, 0);
	expect_refused(f, n, -1, "head");
	const uint64_t far[] = {XT_COL_COUNT, 1};
	n = form_of(f, far, 1, ev_head, sizeof ev_head, ok_cols, 1);
	expect_refused(f, n, -1, "head");
	/* an empty segment: no batch, no column */
	n = form_of(f, NULL, 0, NULL, 0, NULL, 0);
	expect_refused(f, n, -1, "head");
	/* a column larger than a segment may be */
	const uint64_t huge[] = {XT_COL_TYPES, XT_COL_SEGMENT_MAX + 1};
	n = form_of(f, huge, 1, ev_head, sizeof ev_head, ok_cols, 1);
	expect_refused(f, n, -1, "head");

	/* the events need more than the columns hold: the type column, an argument's */
	const uint8_t ev8[] = {XT_BATCH_EVENTS, 1, 7, 0, 8};
	n = form_of(f, ok_dir, 4, ev8, sizeof ev8, ok_cols, sizeof ok_cols);
	expect_refused(f, n, (long)n, "larger than its columns");
	const uint8_t ev5[] = {XT_BATCH_EVENTS, 1, 7, 0, 5};
	const uint8_t two_types[] = {XT_EV_ProcessEnd, XT_EV_ProcessEnd, 0, 0, 1, 2};
	const uint64_t dir2[] = {XT_COL_TYPES, 2, XT_COL_DT, 2, XT_COL_ARG(XT_EV_ProcessEnd, 0), 1,
				 XT_COL_ARG(XT_EV_ProcessEnd, 1), 1};
	n = form_of(f, dir2, 4, ev5, sizeof ev5, two_types, sizeof two_types);
	expect_refused(f, n, (long)n, "past its batch's end");
	/* an event ends past its batch: the batch says 3 bytes, the event is 4 */
	const uint8_t ev3[] = {XT_BATCH_EVENTS, 1, 7, 0, 3};
	n = form_of(f, ok_dir, 4, ev3, sizeof ev3, ok_cols, sizeof ok_cols);
	expect_refused(f, n, (long)n, "past its batch's end");
	/* bytes left in a column, a type column that ends before the batch does */
	const uint8_t extra[] = {XT_EV_ProcessEnd, 0, 1, 2, 3};
	const uint64_t dir_extra[] = {XT_COL_TYPES, 1, XT_COL_DT, 1, XT_COL_ARG(XT_EV_ProcessEnd, 0), 1,
				      XT_COL_ARG(XT_EV_ProcessEnd, 1), 2};
	n = form_of(f, dir_extra, 4, ev_head, sizeof ev_head, extra, sizeof extra);
	expect_refused(f, n, (long)n, "no event takes");
	const uint8_t short_types[] = {XT_EV_ProcessEnd, 0, 0, 1, 2, 1, 2};
	const uint64_t dir_short[] = {XT_COL_TYPES, 1, XT_COL_DT, 2, XT_COL_ARG(XT_EV_ProcessEnd, 0), 2,
				      XT_COL_ARG(XT_EV_ProcessEnd, 1), 2};
	const uint8_t ev8b[] = {XT_BATCH_EVENTS, 1, 7, 0, 7};
	n = form_of(f, dir_short, 4, ev8b, sizeof ev8b, short_types, sizeof short_types);
	expect_refused(f, n, (long)n, "type column ends");
	/* a uvarint longer than ten bytes in a column */
	uint8_t long_dt[14] = {XT_EV_ProcessEnd};
	memset(long_dt + 1, 0x80, 11);
	long_dt[12] = 1, long_dt[13] = 2;
	const uint64_t dir_long[] = {XT_COL_TYPES, 1, XT_COL_DT, 11, XT_COL_ARG(XT_EV_ProcessEnd, 0), 1,
				     XT_COL_ARG(XT_EV_ProcessEnd, 1), 1};
	const uint8_t ev14[] = {XT_BATCH_EVENTS, 1, 7, 0, 14};
	n = form_of(f, dir_long, 4, ev14, sizeof ev14, long_dt, sizeof long_dt);
	expect_refused(f, n, (long)n, "cut short");
	/* a skeleton whose batch header or payload is cut */
	const uint8_t cut_head[] = {XT_BATCH_STRINGS, 1, 0};
	n = form_of(f, NULL, 0, cut_head, sizeof cut_head, NULL, 0);
	expect_refused(f, n, (long)n, "header cut short");
	const uint8_t cut_payload[] = {XT_BATCH_STRINGS, 1, 0, 0, 9, 1, 2};
	n = form_of(f, NULL, 0, cut_payload, sizeof cut_payload, NULL, 0);
	expect_refused(f, n, (long)n, "batch cut short");
	/* a length other than the head says */
	n = form_of(f, ok_dir, 4, ev_head, sizeof ev_head, ok_cols, sizeof ok_cols);
	assert_int_equal(xt_columns_join(f, n - 1, &ws, out, sizeof out, &why), 0);
	assert_int_equal(xt_columns_join(f, n + 1, &ws, out, sizeof out, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_split_refuses),
		cmocka_unit_test(test_join_refuses),
	};
	return cmocka_run_group_tests_name("columns", tests, NULL, NULL);
}
