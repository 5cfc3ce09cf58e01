/* test_demo.c: the path of a new experiment, end to end. tests/demo/demo.def defines the Demo
 * experiment only here; the shim and the CLI built with it (build/demo/) must carry its events
 * from a test program to `xtrace dump`, decoded generically from the spec (names, addr deltas,
 * symbolized stacks) with its per-generation batch handed out at Sync. The stock CLI, which
 * does not know the experiment, must refuse the trace as corrupt rather than misread it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "tracegen.h"

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
	/* The experimental batch arrives with Sync: subtype byte and one uvarint (the total). */
	assert_non_null(strstr(d.out, "Demo=1 (2 bytes)"));
	h_run_free(&r);
	h_run_free(&d);
}

static void test_stock_reader_refuses_unknown_experiment(void **state)
{
	struct h_run r, c;
	char trace[PATH_MAX];
	run_demo(&r, trace);
	int code = h_cli(&c, H_ARGV("dump", trace));
	assert_int_equal(code, 1);
	assert_non_null(strstr(c.err, "unknown event type 250"));
	h_run_free(&r);
	h_run_free(&c);
}

/* The demo experiment as tests/demo/demo.def defines it, for a Specs entry like the one a writer
 * built with it puts in each generation. */
#define XT_BATCH(ident, subtype, name)
#define XT_EVENT(...)
#define XT_EXPERIMENT(ident, id, name, version) {id, #name, version}
static const struct {
	uint8_t id;
	const char *name;
	unsigned version;
} demo_exp =
#include "../demo/demo.def"
;
#undef XT_EXPERIMENT
#undef XT_EVENT
#define XT_EXPERIMENT(ident, id, name, version)
#define DEMO_ARG_NAME(n, k) #n,
#define XT_EVENT(name, id, exp, start, form, nargs, ...) \
	{id, #name, XT_EV_##start, XT_EV_##form, nargs, {XT_PAIRS(nargs, DEMO_ARG_NAME, __VA_ARGS__)}},
static const struct {
	uint8_t type;
	const char *name;
	uint8_t start, form_of, nargs;
	const char *args[XT_MAX_ARGS];
} demo_events[] = {
#include "../demo/demo.def"
};
#undef XT_EXPERIMENT
#undef XT_EVENT
#undef XT_BATCH
#undef DEMO_ARG_NAME
#define NDEMO (sizeof demo_events / sizeof demo_events[0])

/* write_demo_trace writes what the demo shim records for TICKS ticks of demo_prog (DemoTick
 * with the site's stack, then DemoObject, and the Demo batch), with the generation's Specs
 * batch describing the experiment. */
static void write_demo_trace(const char *path)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 1000, 1000000000, 1700000000, 0);
	tg_batch(t, XT_BATCH_SPECS, 0, 1000);
	tg_spec_experiment(t, demo_exp.id, demo_exp.name, demo_exp.version);
	tg_uvarint(t, 0);
	tg_uvarint(t, NDEMO);
	for (size_t i = 0; i < NDEMO; i++)
		tg_spec_event(t, demo_events[i].type, demo_events[i].name, demo_events[i].start,
			      demo_events[i].form_of, demo_events[i].nargs, demo_events[i].args);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, 1000);
	tg_stack(t, 1, 2, (const uint64_t[]){0x401234, 0x401100});
	tg_batch_end(t);
	tg_exp_batch(t, demo_exp.id, 1000);
	tg_u8(t, 0);
	tg_uvarint(t, TICKS);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 1000);
	for (uint64_t i = 0; i < TICKS; i++) {
		tg_event(t, 250, 10, i, 1);
		tg_event(t, 251, 1, 0x10000 + 64 * i, 32 + i);
	}
	tg_batch_end(t);
	tg_end(t, 0);
	if (tg_write(t, path, TG_ALL) < 0)
		fail_msg("cannot write %s", path);
	tg_free(t);
}

/* The stock CLI, built without the demo experiment, reads a demo trace that describes it: dump
 * with names and named arguments, export csv with a row per event, report with a count per
 * event. (Once the shim writes Specs batches, the trace comes from run_demo.) */
static void test_demo_trace_read_by_stock_xtrace(void **state)
{
	char trace[PATH_MAX], csv[PATH_MAX], html[PATH_MAX], chrome[PATH_MAX];
	h_fmt(trace, sizeof trace, "%s/demo.xt", h_tmpdir());
	h_fmt(csv, sizeof csv, "%s/demo.csv", h_tmpdir());
	h_fmt(html, sizeof html, "%s/demo.html", h_tmpdir());
	h_fmt(chrome, sizeof chrome, "%s/demo.json", h_tmpdir());
	write_demo_trace(trace);
	struct h_run d;
	assert_int_equal(h_cli(&d, H_ARGV("dump", trace)), 0);
	assert_int_equal(h_count_substr(d.out, " DemoTick seq_value="), TICKS);
	assert_int_equal(h_count_substr(d.out, " DemoObject obj_addr=0x"), TICKS);
	assert_non_null(strstr(d.out, " DemoTick seq_value=39 site_stack=1\n"));
	assert_non_null(strstr(d.out, " DemoObject obj_addr=0x109c0 len_value=71\n"));
	assert_non_null(strstr(d.out, "Demo=1 (2 bytes)"));
	h_run_free(&d);

	assert_int_equal(h_cli(&d, H_ARGV("export", "--format", "csv", "-o", csv, trace)), 0);
	char *c = h_track(h_read_file(csv, NULL));
	assert_int_equal(h_count_substr(c, ",DemoTick,"), TICKS);
	assert_int_equal(h_count_substr(c, ",DemoObject,"), TICKS);
	assert_non_null(strstr(c, ",DemoObject,,,,,\"obj_addr=65536 len_value=32\"\n"));
	h_run_free(&d);

	assert_int_equal(h_cli(&d, H_ARGV("export", "--format", "chrome", "-o", chrome, trace)), 0);
	char *j = h_track(h_read_file(chrome, NULL));
	assert_int_equal(h_count_substr(j, "{\"name\": \"DemoTick\", \"cat\": \"Demo\", \"ph\": \"i\""),
			 TICKS);
	assert_non_null(strstr(j, "\"args\": {\"seq_value\": 0, \"site_stack\": 1}"));
	h_run_free(&d);

	assert_int_equal(h_cli(&d, H_ARGV("report", "-o", html, trace)), 0);
	char *page = h_track(h_read_file(html, NULL));
	assert_non_null(strstr(page, "<tr><td>Demo</td><td>DemoObject</td><td>40</td></tr>"));
	assert_non_null(strstr(page, "<tr><td>Demo</td><td>DemoTick</td><td>40</td></tr>"));
	h_run_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_events_decode_generically),
		cmocka_unit_test(test_stock_reader_refuses_unknown_experiment),
		cmocka_unit_test(test_demo_trace_read_by_stock_xtrace),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
