/* test_spec_entry.c: the shim's Specs batch entries (shim/specwrite.c), parsed back by the letter of
 * experiments/README.md (tests/unit/support/rawtrace.c): every built-in experiment with its
 * batch tables and events as the spec table has them, and the largest entry the format allows
 * within one batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rawtrace.h"
#include "specwrite.h"

/* entry_of encodes built-in experiment e at out; returns its length. */
static size_t entry_of(uint8_t *out, unsigned e)
{
	uint8_t types[XT_MAX_EVENT_TYPES];
	unsigned n = 0;
	for (unsigned t = XT_FIRST_EXPERIMENTAL_EVENT; t < XT_MAX_EVENT_TYPES; t++)
		if (xt_specs[t].name && xt_specs[t].experiment == e)
			types[n++] = (uint8_t)t;
	return (size_t)(xt_spec_entry(out, e, &xt_experiments[e], types, n, xt_specs) - out);
}

static struct sb_generation *parse_ok(const uint8_t *p, size_t len)
{
	struct sb_generation *g = calloc(1, sizeof *g);
	char err[256] = "";
	assert_non_null(g);
	if (sb_parse(p, len, g, err, sizeof err) != 0)
		fail_msg("entry does not parse: %s", err);
	return g;
}

static void test_builtin_experiments_described_as_the_table_has_them(void **state)
{
	uint8_t *buf = malloc(XT_MAX_SPEC_ENTRY);
	assert_non_null(buf);
	unsigned described = 0;
	for (unsigned e = 1; e < XT_FIRST_RUNTIME_EXPERIMENT; e++) {
		if (!xt_experiments[e].name)
			continue;
		size_t len = entry_of(buf, e);
		assert_true(len <= XT_MAX_SPEC_ENTRY);
		struct sb_generation *g = parse_ok(buf, len);
		assert_int_equal(g->n, 1);
		const struct sb_experiment *x = &g->exp[0];
		assert_int_equal(x->id, e);
		assert_string_equal(x->name, xt_experiments[e].name);
		assert_int_equal(x->version, xt_experiments[e].version);
		unsigned nb = 0;
		for (unsigned s = 0; s < XT_MAX_BATCH_SUBTYPES; s++) {
			if (!xt_experiments[e].batches[s])
				continue;
			assert_true(nb < x->nbatches);
			assert_int_equal(x->subtypes[nb], s);
			assert_string_equal(x->batches[nb], xt_experiments[e].batches[s]);
			nb++;
		}
		assert_int_equal(x->nbatches, nb);
		unsigned ne = 0;
		for (unsigned t = XT_FIRST_EXPERIMENTAL_EVENT; t < XT_MAX_EVENT_TYPES; t++) {
			const struct xt_event_spec *s = &xt_specs[t];
			if (!s->name || s->experiment != e)
				continue;
			const struct sb_event *ev = sb_event_named(x, s->name);
			assert_non_null(ev);
			assert_int_equal(ev->type, t);
			assert_int_equal(ev->start, s->start);
			assert_int_equal(ev->form_of, s->form_of);
			assert_int_equal(ev->nargs, s->nargs);
			for (unsigned a = 0; a < s->nargs; a++)
				assert_string_equal(ev->args[a], s->arg_names[a]);
			ne++;
		}
		assert_int_equal(x->nevents, ne);
		described++;
		free(g);
	}
	/* AllocFree, Timers, Heaps, AddrSpace at least */
	assert_true(described >= 4);
	free(buf);
}

static void test_every_builtin_in_one_payload(void **state)
{
	/* As a generation carries them: each experiment once, each type once. */
	uint8_t *buf = malloc(XT_MAX_BATCH_SIZE);
	assert_non_null(buf);
	size_t len = 0;
	unsigned n = 0;
	for (unsigned e = 1; e < XT_FIRST_RUNTIME_EXPERIMENT; e++) {
		if (!xt_experiments[e].name)
			continue;
		len += entry_of(buf + len, e);
		n++;
	}
	assert_true(len <= XT_MAX_BATCH_SIZE);
	struct sb_generation *g = parse_ok(buf, len);
	assert_int_equal(g->n, n);
	assert_non_null(sb_find(g, "AllocFree"));
	assert_int_equal(sb_event_named(sb_find(g, "AllocFree"), "ObjectFreeRecent")->form_of,
			 XT_EV_ObjectFree);
	assert_int_equal(sb_event_named(sb_find(g, "Timers"), "SleepEnd")->start, XT_EV_SleepBegin);
	free(g);
	free(buf);
}

static void test_largest_entry_fits_one_batch(void **state)
{
	/* Every experimental type in one experiment, every name at the limit: the bound holds. */
	static char name[XT_MAX_SPEC_NAME + 1], arg[XT_MAX_SPEC_NAME + 1];
	memset(name, 'n', XT_MAX_SPEC_NAME);
	memset(arg, 'a', XT_MAX_SPEC_NAME - 6);
	memcpy(arg + XT_MAX_SPEC_NAME - 6, "_value", 6);
	static const char *batch_names[XT_MAX_BATCH_SUBTYPES];
	for (unsigned s = 0; s < XT_MAX_BATCH_SUBTYPES; s++)
		batch_names[s] = name;
	struct xt_experiment_spec x = {name, UINT32_MAX, batch_names};
	static struct xt_event_spec events[XT_MAX_EVENT_TYPES];
	uint8_t types[XT_MAX_EVENT_TYPES];
	unsigned n = 0;
	for (unsigned t = XT_FIRST_EXPERIMENTAL_EVENT; t < XT_MAX_EVENT_TYPES; t++) {
		events[t] = (struct xt_event_spec){.name = name, .experiment = 63, .nargs = XT_MAX_ARGS,
						   .start = 255, .form_of = 255};
		for (unsigned a = 0; a < XT_MAX_ARGS; a++)
			events[t].arg_names[a] = arg;
		types[n++] = (uint8_t)t;
	}
	uint8_t *buf = malloc(XT_MAX_SPEC_ENTRY);
	assert_non_null(buf);
	size_t len = (size_t)(xt_spec_entry(buf, 63, &x, types, n, events) - buf);
	assert_true(len <= XT_MAX_SPEC_ENTRY);
	struct sb_generation *g = parse_ok(buf, len);
	assert_int_equal(g->exp[0].nevents, n);
	assert_int_equal(g->exp[0].nbatches, XT_MAX_BATCH_SUBTYPES);
	assert_string_equal(g->exp[0].events[n - 1].args[XT_MAX_ARGS - 1], arg);
	free(g);
	free(buf);
}

static void test_parser_refuses_what_the_format_forbids(void **state)
{
	/* The checks the tests rely on do fail: a start naming no event, an argument of no kind. */
	uint8_t buf[256], *p = buf;
	struct sb_generation *g = calloc(1, sizeof *g);
	char err[256];
	assert_non_null(g);
	const char *bad_args[] = {"x_nokind"};
	struct xt_event_spec ev[XT_MAX_EVENT_TYPES] = {[200] = {.name = "E", .nargs = 1}};
	ev[200].arg_names[0] = bad_args[0];
	struct xt_experiment_spec x = {"X", 1, NULL};
	uint8_t t = 200;
	p = xt_spec_entry(buf, 20, &x, &t, 1, ev);
	assert_int_equal(sb_parse(buf, (size_t)(p - buf), g, err, sizeof err), -1);
	ev[200].arg_names[0] = "x_value";
	ev[200].start = 201;
	p = xt_spec_entry(buf, 20, &x, &t, 1, ev);
	assert_int_equal(sb_parse(buf, (size_t)(p - buf), g, err, sizeof err), -1);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_experiments_described_as_the_table_has_them),
		cmocka_unit_test(test_every_builtin_in_one_payload),
		cmocka_unit_test(test_largest_entry_fits_one_batch),
		cmocka_unit_test(test_parser_refuses_what_the_format_forbids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
