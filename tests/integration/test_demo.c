/* test_demo.c: the path of a new experiment, end to end. tests/demo/demo.def defines the Demo
 * experiment only here; the shim and the CLI built with it (build/demo/) must carry its events
 * from a test program to `xtrace dump`, decoded generically from the spec (names, addr deltas,
 * symbolized stacks) with its per-generation batch handed out at Sync, written and reset by
 * its hooks (also in a forked child, whose trace counts its own). The stock CLI, built without
 * the experiment, must read the same trace by the spec each generation carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "rawtrace.h"
#include "varint.h"

#define TICKS 40

static const char *demo_path(const char *name)
{
	static char p[2][PATH_MAX];
	static unsigned k;
	char *out = p[k++ & 1];
	h_fmt(out, PATH_MAX, "%s/%s", h_build_dir(), name);
	return out;
}

static void run_demo(struct h_run *r, char trace[PATH_MAX])
{
	static char preload[PATH_MAX + 16], outpat[PATH_MAX + 16];
	const char *dir = h_tmpdir();
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", demo_path("demo/libxtrace-demo.so"));
	h_fmt(outpat, sizeof outpat, "XTRACE_OUT=%s/t.%%p.xt", dir);
	const char *env[] = {preload, outpat, NULL};
	char n[16];
	h_fmt(n, sizeof n, "%d", TICKS);
	if (h_spawn(r, dir, H_ARGV((char *)demo_path("workloads/demo_prog"), n), env) != 0)
		fail_msg("cannot run demo_prog");
	h_expect_exit(r, 0);
	assert_non_null(strstr(r->out, "ticks 40"));
	h_one_trace(r, trace);
}

static void test_demo_events_decode_generically(void **state)
{
	struct h_run r, d;
	char trace[PATH_MAX];
	run_demo(&r, trace);
	const char *dir = h_tmpdir();
	if (h_spawn(&d, dir, H_ARGV((char *)demo_path("demo/xtrace-demo"), "dump", "--stacks", trace),
		    NULL) != 0)
		fail_msg("cannot run xtrace-demo");
	h_expect_exit(&d, 0);
	assert_int_equal(h_count_substr(d.out, " DemoTick "), TICKS);
	assert_int_equal(h_count_substr(d.out, " DemoObject "), TICKS);
	/* Every tick in order with its argument, each followed by its object's length. */
	const char *p = d.out;
	for (int i = 0; i < TICKS; i++) {
		char tick[64], len[32];
		h_fmt(tick, sizeof tick, "DemoTick seq_value=%d site_stack=", i);
		h_fmt(len, sizeof len, " len_value=%d\n", 32 + i);
		p = strstr(p, tick);
		if (!p)
			fail_msg("tick %d missing or out of order", i);
		const char *obj = strstr(p, "DemoObject obj_addr=0x");
		const char *eol = obj ? strchr(obj, '\n') : NULL;
		size_t l = strlen(len);
		if (!eol || (size_t)(eol + 1 - obj) < l || strncmp(eol + 1 - l, len, l) != 0)
			fail_msg("object %d has the wrong length argument", i);
	}
	/* The site's stack symbolizes to the function that made the call. */
	assert_true(h_count_substr(d.out, " demo_site ") >= TICKS);
	/* The experimental batch arrives with Sync: subtype byte and two uvarints (the ticks of the
	 * generation and of the process). */
	assert_non_null(strstr(d.out, "Demo=1 (3 bytes)"));
	h_run_free(&r);
	h_run_free(&d);
}

/* demo_totals checks the Demo batches of the trace at path against its DemoTick events: each
 * generation's batch counts the ticks recorded in it (the batches hook writes them, the reset
 * hook starts the next count), and the process's running total adds them up. Returns the
 * total; *with_ticks: the generations that had ticks. */
static uint64_t demo_totals(const char *path, int *with_ticks)
{
	struct sb_trace t;
	char err[256];
	if (sb_read_trace(path, &t, err, sizeof err) != 0)
		fail_msg("%s: %s", path, err);
	uint64_t running = 0;
	*with_ticks = 0;
	/* the IDs as the trace describes them (this test is built without demo.def) */
	const struct sb_experiment *demo = sb_find(&t.gens[0], "Demo");
	assert_non_null(demo);
	const struct sb_event *tick = sb_event_named(demo, "DemoTick");
	assert_non_null(tick);
	for (size_t i = 0; i < t.nexp; i++) {
		const struct sb_exp_batch *x = &t.exp[i];
		if (x->exp != demo->id)
			continue;
		const uint8_t *p = x->data + 1, *end = x->data + x->len;
		uint64_t in_gen = 0, so_far = 0, events = 0;
		assert_int_equal(x->data[0], 0);
		assert_int_equal(xt_get_uvarint(&p, end, &in_gen), 0);
		assert_int_equal(xt_get_uvarint(&p, end, &so_far), 0);
		for (size_t e = 0; e < t.nevents; e++)
			events += t.events[e].gen == x->gen && t.events[e].type == tick->type;
		assert_int_equal(in_gen, events);
		running += in_gen;
		assert_int_equal(so_far, running);
		*with_ticks += in_gen > 0;
	}
	sb_trace_free(&t);
	return running;
}

static void test_demo_hooks_per_generation_and_fork(void **state)
{
	/* 40 ticks 2 ms apart over 20 ms generations, then 25 in a forked child, whose trace
	 * counts its own. */
	static char preload[PATH_MAX + 16], outpat[PATH_MAX + 16];
	const char *dir = h_tmpdir();
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", demo_path("demo/libxtrace-demo.so"));
	h_fmt(outpat, sizeof outpat, "XTRACE_OUT=%s/t.%%p.xt", dir);
	const char *env[] = {preload, outpat, "XTRACE_GEN_MS=20", NULL};
	struct h_run r;
	if (h_spawn(&r, dir, H_ARGV((char *)demo_path("workloads/demo_prog"), "40", "25", "2000"),
		    env) != 0)
		fail_msg("cannot run demo_prog");
	h_expect_exit(&r, 0);
	char traces[2][PATH_MAX];
	if (h_find_traces(r.dir, traces, 2) != 2)
		fail_msg("expected the parent's and the child's trace; stderr: %s", r.err);
	int gens[2];
	uint64_t a = demo_totals(traces[0], &gens[0]), b = demo_totals(traces[1], &gens[1]);
	int parent = a == 40 ? 0 : 1;
	assert_int_equal(parent ? b : a, 40);
	assert_int_equal(parent ? a : b, 25);
	assert_true(gens[parent] >= 2);
	h_run_free(&r);
}

/* The stock CLI, built without the demo experiment, reads the demo shim's trace by the Specs batch
 * each generation carries: dump with names and named arguments, export csv with a row per event,
 * chrome with an instant event per event, report with a count per event. */
static void test_demo_trace_read_by_stock_xtrace(void **state)
{
	char trace[PATH_MAX], csv[PATH_MAX], html[PATH_MAX], chrome[PATH_MAX];
	struct h_run r;
	run_demo(&r, trace);
	h_run_free(&r);
	h_fmt(csv, sizeof csv, "%s/demo.csv", h_tmpdir());
	h_fmt(html, sizeof html, "%s/demo.html", h_tmpdir());
	h_fmt(chrome, sizeof chrome, "%s/demo.json", h_tmpdir());
	struct h_run d;
	assert_int_equal(h_cli(&d, H_ARGV("dump", trace)), 0);
	assert_int_equal(h_count_substr(d.out, " DemoTick seq_value="), TICKS);
	assert_int_equal(h_count_substr(d.out, " DemoObject obj_addr=0x"), TICKS);
	assert_non_null(strstr(d.out, " DemoTick seq_value=39 site_stack="));
	assert_non_null(strstr(d.out, " len_value=71\n"));
	assert_non_null(strstr(d.out, "Demo=1 (3 bytes)"));
	h_run_free(&d);

	assert_int_equal(h_cli(&d, H_ARGV("export", "--format", "csv", "-o", csv, trace)), 0);
	char *c = h_track(h_read_file(csv, NULL));
	assert_int_equal(h_count_substr(c, ",DemoTick,"), TICKS);
	assert_int_equal(h_count_substr(c, ",DemoObject,"), TICKS);
	assert_non_null(strstr(c, " len_value=32\"\n"));
	h_run_free(&d);

	assert_int_equal(h_cli(&d, H_ARGV("export", "--format", "chrome", "-o", chrome, trace)), 0);
	char *j = h_track(h_read_file(chrome, NULL));
	assert_int_equal(h_count_substr(j, "{\"name\": \"DemoTick\", \"cat\": \"Demo\", \"ph\": \"i\""),
			 TICKS);
	assert_non_null(strstr(j, "\"args\": {\"seq_value\": 0, \"site_stack\": "));
	h_run_free(&d);

	assert_int_equal(h_cli(&d, H_ARGV("report", "-o", html, trace)), 0);
	char *page = h_track(h_read_file(html, NULL));
	/* the page's data counts them with the built-in experiments' events: event, experiment */
	assert_non_null(strstr(page, "[\"DemoObject\",\"Demo\",40]"));
	assert_non_null(strstr(page, "[\"DemoTick\",\"Demo\",40]"));
	h_run_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_events_decode_generically),
		cmocka_unit_test(test_demo_hooks_per_generation_and_fork),
		cmocka_unit_test(test_demo_trace_read_by_stock_xtrace),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
