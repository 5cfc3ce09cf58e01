/* test_truncated.c: integration test on a cut trace: a real trace of several generations
 * (XTRACE_GEN_MS=20) is cut in the middle of one generation; `xtrace stats` must exit 3 and
 * report exactly the generations that were complete before the cut, and the reader library
 * must hand out exactly those and then stop with XTRACE_ERR_TRUNCATED. By default every
 * generation of XT_COMPRESS_MIN plain bytes or more is one compressed record; with
 * XTRACE_COMPRESS=0 none is.
 * Where each generation ends is found here by walking the batch framing directly (see
 * experiments/README.md), independently of the reader under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "format.h"
#include "harness.h"
#include "varint.h"

/* gen_ends walks the file's batches and compressed generations and stores the file offset just
 * past each End batch or record; *zrecords counts the records, *plain_max is the size of the
 * largest generation written as plain batches. */
static size_t gen_ends(const uint8_t *data, size_t len, uint64_t *ends, size_t max,
		       uint64_t *header_end, size_t *zrecords, uint64_t *plain_max)
{
	const uint8_t *p = data + XT_MAGIC_LEN, *end = data + len;
	uint64_t hsize = 0;
	if (len < XT_MAGIC_LEN || memcmp(data, XT_MAGIC, XT_MAGIC_LEN) != 0 ||
	    xt_get_uvarint(&p, end, &hsize) != 0 || hsize > (uint64_t)(end - p))
		fail_msg("not a trace: bad magic or header");
	p += hsize;
	*header_end = (uint64_t)(p - data);
	size_t n = 0;
	uint64_t expect_gen = 1;
	*zrecords = 0;
	*plain_max = 0;
	const uint8_t *gen_start = p;
	while (p < end) {
		uint8_t kind = *p++;
		if (kind == XT_RECORD_ZSTD || kind == XT_RECORD_ZSTD_COLUMNS) {
			uint64_t gen = 0, plain = 0, zsize = 0;
			if (xt_get_uvarint(&p, end, &gen) || xt_get_uvarint(&p, end, &plain) ||
			    xt_get_uvarint(&p, end, &zsize) || zsize > (uint64_t)(end - p) ||
			    gen != expect_gen)
				fail_msg("compressed generation broken at offset %zu", (size_t)(p - data));
			p += zsize;
			if (n < max)
				ends[n] = (uint64_t)(p - data);
			n++;
			expect_gen++;
			++*zrecords;
			gen_start = p;
			continue;
		}
		if (kind == XT_BATCH_EXPERIMENTAL)
			p++;
		uint64_t gen = 0, thread = 0, time = 0, size = 0;
		if (xt_get_uvarint(&p, end, &gen) || xt_get_uvarint(&p, end, &thread) ||
		    xt_get_uvarint(&p, end, &time) || xt_get_uvarint(&p, end, &size) ||
		    size > (uint64_t)(end - p))
			fail_msg("batch framing broken at offset %zu", (size_t)(p - data));
		if (gen != expect_gen)
			fail_msg("batch of generation %llu where %llu was expected",
				 (unsigned long long)gen, (unsigned long long)expect_gen);
		p += size;
		if (kind == XT_BATCH_END) {
			if ((uint64_t)(p - gen_start) > *plain_max)
				*plain_max = (uint64_t)(p - gen_start);
			gen_start = p;
			if (n < max)
				ends[n] = (uint64_t)(p - data);
			n++;
			expect_gen++;
		}
	}
	return n;
}

/* read_trace runs argv traced with env, then reads its one trace file, whose path goes to
 * trace, into memory (tracked) of *len bytes. */
static uint8_t *read_trace(struct h_run *r, const char *const *env, char *const argv[],
			   char trace[PATH_MAX], size_t *len)
{
	h_traced(r, env, argv);
	h_expect_exit(r, 0);
	h_one_trace(r, trace);
	uint8_t *data = h_track(h_read_file(trace, len));
	assert_non_null(data);
	return data;
}

/* cut_trace runs the check on a trace written with env; compressed: whether every generation
 * of XT_COMPRESS_MIN plain bytes or more must be a compressed record (else none may be). */
static void cut_trace(const char *const *env, bool compressed)
{
	struct h_run r;
	char trace[PATH_MAX];
	size_t len;
	uint8_t *data =
		read_trace(&r, env, H_ARGV((char *)h_workload("longrun"), "400"), trace, &len);
	uint64_t ends[4096], hend;
	size_t zrecords;
	uint64_t plain_max;
	size_t g = gen_ends(data, len, ends, 4096, &hend, &zrecords, &plain_max);
	if (compressed) {
		assert_true(zrecords > 0);
		assert_true(plain_max < XT_COMPRESS_MIN);
	} else {
		assert_int_equal(zrecords, 0);
	}
	/* 400 ms at one generation per 20 ms: far more than the 3 this test needs */
	if (g < 3 || g > 4096)
		fail_msg("expected at least 3 generations with XTRACE_GEN_MS=20, found %zu", g);
	assert_int_equal(ends[g - 1], len); /* the complete file ends with an End batch */

	/* the whole trace: every generation, not truncated */
	char *js = h_stats_json(trace, 0);
	assert_int_equal(h_json_u64(js, "generations"), g);
	assert_false(h_json_bool(js, "truncated"));
	h_free(js);

	/* cut in the middle of generation k (1-based): generations 1..k-1 stay complete */
	size_t k = g / 2 + 1;
	uint64_t from = ends[k - 2], to = ends[k - 1];
	uint64_t cut = from + (to - from) / 2;
	assert_true(cut > from && cut < to);
	char cutpath[PATH_MAX + 8];
	h_fmt(cutpath, sizeof cutpath, "%s.cut", trace);
	assert_int_equal(h_write_file(cutpath, data, cut), 0);
	h_free(data);

	js = h_stats_json(cutpath, 3);
	assert_int_equal(h_json_u64(js, "generations"), k - 1);
	assert_true(h_json_bool(js, "truncated"));
	h_free(js);
	struct h_run c;
	assert_int_equal(h_cli(&c, H_ARGV("stats", cutpath)), 3);
	assert_true(c.out_len > 0); /* the complete generations are still reported */
	h_run_free(&c);

	struct h_summary s = { 0 };
	assert_int_equal(h_summarize(cutpath, &s), -1);
	assert_int_equal(s.status, XTRACE_ERR_TRUNCATED);
	assert_int_equal(s.gens, k - 1);
	h_run_free(&r);
}

static void test_truncated_keeps_complete_generations(void **state)
{
	cut_trace((const char *const[]){ "XTRACE_GEN_MS=20", NULL }, true);
}

static void test_truncated_plain_generations(void **state)
{
	cut_trace((const char *const[]){ "XTRACE_GEN_MS=20", "XTRACE_COMPRESS=0", NULL }, false);
}

/* A short program's one small generation is written plain: compressing it would cost the
 * process more than its whole start-up otherwise does. */
static void test_small_generation_plain(void **state)
{
	struct h_run r;
	char trace[PATH_MAX];
	size_t len;
	uint8_t *data = read_trace(&r, NULL, H_ARGV("/bin/true"), trace, &len);
	uint64_t ends[8], hend, plain_max;
	size_t zrecords;
	assert_int_equal(gen_ends(data, len, ends, 8, &hend, &zrecords, &plain_max), 1);
	assert_int_equal(zrecords, 0);
	assert_true(plain_max > 0 && plain_max < XT_COMPRESS_MIN);
	assert_int_equal(ends[0], len);
	h_free(data);
	h_run_free(&r);
}

/* A generation that gathers 4 MiB of batches ends early, whatever XTRACE_GEN_MS says: the
 * shim's memory and a reader's stay bounded (about 15 MiB of batches here). */
static void test_big_generation_ends_early(void **state)
{
	struct h_run r;
	h_traced(&r, (const char *const[]){ "XTRACE_GEN_MS=3600000", NULL },
		 H_ARGV((char *)h_workload("faults"), "churn", "15000"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	char *js = h_stats_json(trace, 0);
	if (h_json_u64(js, "generations") < 3)
		fail_msg("%llu generations in an hour-long generation's time",
			 (unsigned long long)h_json_u64(js, "generations"));
	assert_false(h_json_bool(js, "truncated"));
	h_free(js);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_keeps_complete_generations),
		cmocka_unit_test(test_truncated_plain_generations),
		cmocka_unit_test(test_small_generation_plain),
		cmocka_unit_test(test_big_generation_ends_early),
	};
	return h_finish(cmocka_run_group_tests_name("truncated", tests, NULL, NULL));
}
