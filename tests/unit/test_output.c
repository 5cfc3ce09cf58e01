/* test_output.c: the CLI's output helpers: buffered writer, numbers, JSON escaping, units,
 * tables. Output goes to a temporary file and is read back, or stays in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/output.h"

/* capture runs fn with a writer of buffer size cap on a temporary file and returns what it wrote
 * (malloc'd). */
static char *capture(void (*fn)(struct xt_out *), size_t cap)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	struct xt_out o;
	assert_int_equal(xt_out_open(&o, fileno(f), cap), 0);
	fn(&o);
	assert_int_equal(xt_out_close(&o), 0);
	off_t n = lseek(fileno(f), 0, SEEK_END);
	assert_true(n >= 0);
	char *s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(pread(fileno(f), s, (size_t)n, 0), n);
	fclose(f);
	return s;
}

static void write_numbers(struct xt_out *o)
{
	xt_out_u64(o, 0);
	xt_out_char(o, ' ');
	xt_out_u64(o, UINT64_MAX);
	xt_out_char(o, ' ');
	xt_out_hex(o, 0);
	xt_out_char(o, ' ');
	xt_out_hex(o, 0x55d0c0a012a0);
	xt_out_char(o, ' ');
	xt_out_offset_ms(o, 0, 12345678);
	xt_out_char(o, ' ');
	xt_out_offset_ms(o, 1, 5);
	xt_out_char(o, ' ');
	xt_out_printf(o, "%s=%d", "k", 7);
}

static void test_numbers(void **state)
{
	/* A 7-byte buffer makes every write cross a flush. */
	for (size_t cap = 7; cap <= 4096; cap *= 16) {
		char *s = capture(write_numbers, cap);
		assert_string_equal(s, "0 18446744073709551615 0x0 0x55d0c0a012a0 +12.345678ms -0.000005ms k=7");
		free(s);
	}
}

/* An in-memory writer (fd -1) keeps everything, its buffer growing past its first size, also
 * through the in-place path; xt_out_take hands it out NUL-terminated. */
static void test_in_memory(void **state)
{
	for (size_t cap = 7; cap <= 4096; cap *= 16) {
		struct xt_out o;
		assert_int_equal(xt_out_open(&o, -1, cap), 0);
		write_numbers(&o);
		char *p = xt_out_reserve(&o, 20);
		assert_non_null(p);
		xt_out_commit(&o, xt_put_hex(p, 0xabc));
		char *s = xt_out_take(&o);
		assert_non_null(s);
		assert_string_equal(s, "0 18446744073709551615 0x0 0x55d0c0a012a0 +12.345678ms -0.000005ms k=70xabc");
		assert_null(o.buf);
		free(s);
	}
}

static void write_json(struct xt_out *o)
{
	static const char s[] = "a\"b\\c\nd\te\x01\x7f\xc3\xa9z";
	xt_out_json_str(o, s, sizeof s - 1);
	xt_out_json_str(o, "x\0y", 3); /* an embedded NUL is escaped, not a terminator */
}

/* The in-place formatters against printf, at every digit-count boundary and in between. */
static void check_in_place(uint64_t v)
{
	char got[64], want[64];
	memset(got, 'x', sizeof got);
	char *end = xt_put_dec(got, v, 1);
	*end = 0;
	snprintf(want, sizeof want, "%llu", (unsigned long long)v);
	assert_string_equal(got, want);
	end = xt_put_dec(got, v, 7);
	*end = 0;
	snprintf(want, sizeof want, "%07llu", (unsigned long long)v);
	assert_string_equal(got, want);
	end = xt_put_hex(got, v);
	*end = 0;
	snprintf(want, sizeof want, "0x%llx", (unsigned long long)v);
	assert_string_equal(got, want);
	if (v < 1000000) {
		end = xt_put_6digits(got, v);
		*end = 0;
		snprintf(want, sizeof want, "%06llu", (unsigned long long)v);
		assert_string_equal(got, want);
	}
}

static void test_numbers_in_place(void **state)
{
	check_in_place(0);
	check_in_place(UINT64_MAX);
	for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
		check_in_place(p - 1);
		check_in_place(p);
		check_in_place(p + 1);
		check_in_place(p * 9 + (p - 1));
	}
	for (unsigned b = 0; b < 64; b++) {
		check_in_place((uint64_t)1 << b);
		check_in_place(((uint64_t)1 << b) - 1);
	}
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		check_in_place(x >> (x & 63));
	}
}

static void test_json_escape(void **state)
{
	char *s = capture(write_json, 64);
	assert_string_equal(s, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\xc3\xa9z\"\"x\\u0000y\"");
	free(s);
}

static void test_units(void **state)
{
	char b[32];
	assert_string_equal(xt_fmt_bytes(b, sizeof b, 0), "0 B");
	assert_string_equal(xt_fmt_bytes(b, sizeof b, 1023), "1023 B");
	assert_string_equal(xt_fmt_bytes(b, sizeof b, 1024), "1.00 KiB");
	assert_string_equal(xt_fmt_bytes(b, sizeof b, 1536), "1.50 KiB");
	assert_string_equal(xt_fmt_bytes(b, sizeof b, (1 << 20) - 1), "1023.99 KiB");
	assert_string_equal(xt_fmt_bytes(b, sizeof b, 3u << 20), "3.00 MiB");
	assert_string_equal(xt_fmt_bytes(b, sizeof b, UINT64_MAX), "15.99 EiB");
	assert_string_equal(xt_fmt_duration(b, sizeof b, 0), "0ns");
	assert_string_equal(xt_fmt_duration(b, sizeof b, 999), "999ns");
	assert_string_equal(xt_fmt_duration(b, sizeof b, 1500), "1.500us");
	assert_string_equal(xt_fmt_duration(b, sizeof b, 12345678), "12.345ms");
	assert_string_equal(xt_fmt_duration(b, sizeof b, 2000000000), "2.000s");
}

static void write_table(struct xt_out *o)
{
	struct xt_table t = {0};
	xt_table_cell(&t, "api"), xt_table_cell(&t, "calls"), xt_table_row(&t);
	xt_table_cell(&t, "malloc"), xt_table_cell(&t, "%d", 12345), xt_table_row(&t);
	xt_table_row(&t);
	xt_table_cell(&t, "free"), xt_table_row(&t);
	xt_table_print(&t, o);
}

static void test_table(void **state)
{
	char *s = capture(write_table, 256);
	assert_string_equal(s, "api     calls\n"
			       "malloc  12345\n"
			       "\n"
			       "free\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_numbers_in_place),
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
