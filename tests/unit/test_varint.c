/* test_varint.c: uvarint and zigzag coding (experiments/varint.h) and the reader's variant that
 * tells a cut varint from a bad one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "varint.h"

static const uint64_t boundaries[] = {
	0, 1, 127, 128, 255, 256, 16383, 16384, (1ull << 21) - 1, 1ull << 21, (1ull << 28) - 1,
	1ull << 28, (1ull << 35) - 1, 1ull << 35, (1ull << 42) - 1, 1ull << 42, (1ull << 49) - 1,
	1ull << 49, (1ull << 56) - 1, 1ull << 56, (1ull << 63) - 1, 1ull << 63, UINT64_MAX,
};

static void test_round_trip_boundaries(void **state)
{
	for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
		uint64_t v = boundaries[i];
		uint8_t buf[XT_MAX_VARINT + 1];
		memset(buf, 0xee, sizeof buf);
		uint8_t *end = xt_put_uvarint(buf, v);
		size_t n = (size_t)(end - buf);
		assert_int_equal(n, xt_uvarint_len(v));
		assert_true(n >= 1 && n <= XT_MAX_VARINT);
		/* 7 bits per byte: the length is exactly what the value needs. */
		size_t want = 1;
		for (uint64_t x = v; x >= 0x80; x >>= 7)
			want++;
		assert_int_equal(n, want);
		assert_int_equal(buf[n], 0xee); /* nothing written past the end */
		for (size_t k = 0; k + 1 < n; k++)
			assert_true(buf[k] & 0x80);
		assert_false(buf[n - 1] & 0x80);

		const uint8_t *p = buf;
		uint64_t out = 0;
		assert_int_equal(xt_get_uvarint(&p, buf + n, &out), 0);
		assert_int_equal(out, v);
		assert_ptr_equal(p, buf + n);
		p = buf;
		assert_int_equal(xt_uvarint(&p, buf + n, &out), 0);
		assert_int_equal(out, v);

		/* One byte short: an error, and the cursor does not move. */
		p = buf;
		assert_int_equal(xt_get_uvarint(&p, buf + n - 1, &out), -1);
		assert_ptr_equal(p, buf);
		assert_int_equal(xt_uvarint(&p, buf + n - 1, &out), 1);
		assert_ptr_equal(p, buf);
	}
}

static void test_round_trip_random(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t buf[64 * XT_MAX_VARINT];
	for (int round = 0; round < 2000; round++) {
		uint64_t vals[64];
		uint8_t *w = buf;
		for (int i = 0; i < 64; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			vals[i] = x >> (x % 64); /* every length */
			w = xt_put_uvarint(w, vals[i]);
		}
		const uint8_t *p = buf;
		for (int i = 0; i < 64; i++) {
			uint64_t out;
			assert_int_equal(xt_get_uvarint(&p, w, &out), 0);
			assert_int_equal(out, vals[i]);
		}
		assert_ptr_equal(p, w);
	}
}

static void test_ten_byte_max(void **state)
{
	const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	uint8_t buf[XT_MAX_VARINT];
	assert_int_equal(xt_put_uvarint(buf, UINT64_MAX) - buf, 10);
	assert_memory_equal(buf, max, 10);
	const uint8_t *p = max;
	uint64_t out;
	assert_int_equal(xt_get_uvarint(&p, max + 10, &out), 0);
	assert_int_equal(out, UINT64_MAX);
	assert_int_equal(xt_uvarint_len(UINT64_MAX), XT_MAX_VARINT);
}

static void test_overflow_rejected(void **state)
{
	uint64_t out = 7;
	/* The 10th byte may carry only bit 63. */
	const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
	const uint8_t *p = over;
	assert_int_equal(xt_get_uvarint(&p, over + sizeof over, &out), -1);
	assert_ptr_equal(p, over);
	assert_int_equal(out, 7);
	assert_int_equal(xt_uvarint(&p, over + sizeof over, &out), -1);
	/* Eleven bytes, even padded ones, are too long. */
	const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	p = eleven;
	assert_int_equal(xt_get_uvarint(&p, eleven + sizeof eleven, &out), -1);
	assert_int_equal(xt_uvarint(&p, eleven + sizeof eleven, &out), -1);
	/* A 10th byte with its continuation bit set. */
	const uint8_t cont[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00};
	p = cont;
	assert_int_equal(xt_get_uvarint(&p, cont + sizeof cont, &out), -1);
	assert_int_equal(xt_uvarint(&p, cont + sizeof cont, &out), -1);
	/* Nothing to read. */
	p = over;
	assert_int_equal(xt_get_uvarint(&p, over, &out), -1);
	assert_int_equal(xt_uvarint(&p, over, &out), 1);
}

static void test_padded_forms(void **state)
{
	struct {
		uint8_t b[XT_MAX_VARINT];
		size_t n;
		uint64_t v;
	} cases[] = {
		{{0x80, 0x00}, 2, 0},
		{{0x81, 0x80, 0x00}, 3, 1},
		{{0xff, 0x80, 0x80, 0x00}, 4, 127},
		{{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 10, 0},
		{{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 10, 1ull << 63},
		{{0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 10, 5},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const uint8_t *p = cases[i].b;
		uint64_t out;
		assert_int_equal(xt_get_uvarint(&p, cases[i].b + cases[i].n, &out), 0);
		assert_int_equal(out, cases[i].v);
		assert_ptr_equal(p, cases[i].b + cases[i].n);
		p = cases[i].b;
		assert_int_equal(xt_uvarint(&p, cases[i].b + cases[i].n, &out), 0);
		assert_int_equal(out, cases[i].v);
	}
}

/* xt_word_uvarint (the checked decoders' eight-bytes-at-a-time form) reads what xt_uvarint reads
 * for every encoding of up to 8 bytes, whatever bytes follow it, and refuses longer ones without
 * moving. */
static void test_word_form(void **state)
{
	static const uint8_t fills[] = {0x00, 0x7f, 0x80, 0xff};
	uint8_t padded[][XT_MAX_VARINT] = {
		{0x80, 0x00}, {0x81, 0x80, 0x00}, {0xff, 0x80, 0x80, 0x00}, {0x80, 0x81, 0x01},
	};
	for (size_t f = 0; f < sizeof fills; f++) {
		for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0] + 4; i++) {
			uint8_t buf[XT_MAX_VARINT + 8];
			memset(buf, fills[f], sizeof buf);
			size_t n;
			if (i < sizeof boundaries / sizeof boundaries[0]) {
				n = (size_t)(xt_put_uvarint(buf, boundaries[i]) - buf);
			} else {
				const uint8_t *q = padded[i - sizeof boundaries / sizeof boundaries[0]];
				for (n = 0; q[n] & 0x80; n++)
					buf[n] = q[n];
				buf[n] = q[n];
				n++;
			}
			const uint8_t *p = buf, *w = buf;
			uint64_t want = 0, got = 0;
			assert_int_equal(xt_uvarint(&p, buf + n, &want), 0);
			if (n > 8) {
				assert_int_equal(xt_word_uvarint(&w, &got), -1);
				assert_ptr_equal(w, buf);
				continue;
			}
			assert_int_equal(xt_word_uvarint(&w, &got), 0);
			assert_int_equal(got, want);
			assert_ptr_equal(w, buf + n);
		}
	}
}

static void test_zigzag(void **state)
{
	assert_int_equal(xt_zigzag(0), 0);
	assert_int_equal(xt_zigzag(-1), 1);
	assert_int_equal(xt_zigzag(1), 2);
	assert_int_equal(xt_zigzag(-2), 3);
	assert_int_equal(xt_zigzag(INT64_MAX), UINT64_MAX - 1);
	assert_int_equal(xt_zigzag(INT64_MIN), UINT64_MAX);
	const int64_t vals[] = {0, 1, -1, 63, -64, 64, -65, 1000000, -1000000, INT64_MAX, INT64_MIN,
				INT64_MIN + 1};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		assert_int_equal(xt_unzigzag(xt_zigzag(vals[i])), vals[i]);
	/* Small magnitudes stay short on the wire, which is the point of the addr deltas. */
	assert_int_equal(xt_uvarint_len(xt_zigzag(-64)), 1);
	assert_int_equal(xt_uvarint_len(xt_zigzag(-65)), 2);
	/* Address deltas wrap: any two addresses round-trip through a zigzag delta. */
	const uint64_t a[] = {0, 0x7fffffffffff, 0xffffffffffff0000ull, UINT64_MAX, 0x10};
	for (size_t i = 0; i < 5; i++)
		for (size_t j = 0; j < 5; j++)
			assert_int_equal(a[i] + (uint64_t)xt_unzigzag(xt_zigzag((int64_t)(a[j] - a[i]))),
					 a[j]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_boundaries),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_ten_byte_max),
		cmocka_unit_test(test_overflow_rejected),
		cmocka_unit_test(test_padded_forms),
		cmocka_unit_test(test_zigzag),
		cmocka_unit_test(test_word_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
