/* test_protobuf.c: the protocol-buffers encoder of the pprof export, byte for byte against the
 * encoding's definition (https://protobuf.dev/programming-guides/encoding/): varints at their
 * length boundaries, zero fields left out, empty strings kept, packed fields, nesting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/protobuf.h"

static void expect_bytes(const struct xt_pb *b, const uint8_t *want, size_t n)
{
	assert_false(b->failed);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->p, want, n);
}

static void test_varints(void **state)
{
	struct xt_pb b = {0};
	xt_pb_uint(&b, 1, 150);
	expect_bytes(&b, (const uint8_t[]){0x08, 0x96, 0x01}, 3);
	xt_pb_clear(&b);
	xt_pb_uint(&b, 2, 0); /* the default: not written */
	xt_pb_uint(&b, 2, 127);
	xt_pb_uint(&b, 2, 128);
	xt_pb_uint(&b, 16, 1); /* a field number past 15 takes a two-byte key */
	expect_bytes(&b, (const uint8_t[]){0x10, 0x7f, 0x10, 0x80, 0x01, 0x80, 0x01, 0x01}, 8);
	xt_pb_clear(&b);
	xt_pb_uint(&b, 1, UINT64_MAX);
	expect_bytes(&b, (const uint8_t[]){0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0x01}, 11);
	xt_pb_free(&b);
}

static void test_strings_packed_nested(void **state)
{
	struct xt_pb b = {0}, m = {0};
	xt_pb_bytes(&b, 6, "", 0); /* pprof's string table starts with an empty string */
	xt_pb_bytes(&b, 6, "testing", 7);
	expect_bytes(&b, (const uint8_t[]){0x32, 0x00, 0x32, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'},
		     11);
	xt_pb_clear(&b);
	xt_pb_packed(&b, 4, (const uint64_t[]){3, 270, 86942}, 3);
	xt_pb_packed(&b, 5, NULL, 0); /* nothing at all */
	expect_bytes(&b, (const uint8_t[]){0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}, 8);
	xt_pb_clear(&b);
	xt_pb_uint(&m, 1, 150);
	xt_pb_msg(&b, 3, &m);
	expect_bytes(&b, (const uint8_t[]){0x1a, 0x03, 0x08, 0x96, 0x01}, 5);
	/* a nested message that ran out of memory spoils its parent */
	m.failed = 1;
	xt_pb_msg(&b, 3, &m);
	assert_true(b.failed);
	xt_pb_free(&b);
	xt_pb_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_strings_packed_nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
