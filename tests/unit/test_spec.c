/* test_spec.c: the spec table built from events.def: every event is named, belongs to an
 * existing experiment, sits in its ID range, and names each argument for its kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "allocfree.h"
#include "spec.h"
#include "xtrace-reader.h"

/* The list of events, straight from events.def, to compare the table against. */
static const struct {
	const char *name;
	int id, exp, nargs;
} defined[] = {
#define XT_EXPERIMENT(ident, id, name, version)
#define XT_EVENT(name, id, exp, start, form, nargs, ...) {#name, id, XT_EXP_##exp, nargs},
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};
#define NDEFINED (sizeof defined / sizeof defined[0])

static void test_every_event_is_in_the_table(void **state)
{
	assert_true(NDEFINED > 0);
	for (size_t i = 0; i < NDEFINED; i++) {
		const struct xt_event_spec *s = &xt_specs[defined[i].id];
		assert_non_null(s->name);
		assert_string_equal(s->name, defined[i].name);
		assert_int_equal(s->experiment, defined[i].exp);
		assert_int_equal(s->nargs, defined[i].nargs);
		assert_true(s->nargs <= XT_MAX_ARGS);
		/* Names are unique. */
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(defined[j].id, defined[i].id);
			assert_true(strcmp(defined[j].name, defined[i].name) != 0);
		}
	}
	/* And nothing else is. */
	size_t named = 0;
	for (int t = 0; t < XT_MAX_EVENT_TYPES; t++)
		named += xt_specs[t].name != NULL;
	assert_int_equal(named, NDEFINED);
	assert_null(xt_specs[XT_EV_NONE].name);
}

/* The meaning columns: begin/end pairs and reference forms, and the experiments' batch tables. */
static void test_meaning_columns(void **state)
{
	(void)state;
	assert_int_equal(xt_specs[XT_EV_SleepEnd].start, XT_EV_SleepBegin);
	assert_int_equal(xt_specs[XT_EV_UserRegionEnd].start, XT_EV_UserRegionBegin);
	assert_int_equal(xt_specs[XT_EV_SleepBegin].start, 0);
	assert_int_equal(xt_specs[XT_EV_ObjectFreeRecent].form_of, XT_EV_ObjectFree);
	assert_int_equal(xt_specs[XT_EV_ObjectReallocFreeRecent].form_of, XT_EV_ObjectReallocFree);
	assert_int_equal(xt_specs[XT_EV_ObjectAllocReused].form_of, XT_EV_ObjectAlloc);
	assert_int_equal(xt_specs[XT_EV_ObjectAlloc].form_of, 0);
	for (int t = 0; t < XT_MAX_EVENT_TYPES; t++) {
		const struct xt_event_spec *s = &xt_specs[t];
		if (!s->name)
			continue;
		/* A pair's begin and a form's plain event are real events of the same experiment. */
		if (s->start) {
			assert_non_null(xt_specs[s->start].name);
			assert_int_equal(xt_specs[s->start].experiment, s->experiment);
		}
		if (s->form_of) {
			assert_non_null(xt_specs[s->form_of].name);
			assert_int_equal(xt_specs[s->form_of].experiment, s->experiment);
			assert_int_equal(xt_specs[s->form_of].form_of, 0);
		}
	}
	assert_string_equal(xt_experiments[XT_EXP_ALLOCFREE].batches[0], "types");
	assert_string_equal(xt_experiments[XT_EXP_TIMERS].batches[0], "timers");
	assert_null(xt_experiments[XT_EXP_TIMERS].batches[1]);
	assert_int_equal(xt_experiments[XT_EXP_ALLOCFREE].version, 1);
}

static void test_experiments_and_id_ranges(void **state)
{
	for (int t = 0; t < XT_MAX_EVENT_TYPES; t++) {
		const struct xt_event_spec *s = &xt_specs[t];
		if (!s->name)
			continue;
		assert_true(t > 0);
		assert_true(s->experiment < XT_MAX_EXPERIMENTS);
		assert_non_null(xt_experiments[s->experiment].name);
		if (s->experiment != XT_EXP_NONE)
			assert_true(t >= XT_FIRST_EXPERIMENTAL_EVENT);
		else
			assert_true(t < XT_FIRST_EXPERIMENTAL_EVENT);
	}
	assert_string_equal(xt_experiments[XT_EXP_NONE].name, "Core");
	assert_string_equal(xt_experiments[XT_EXP_ALLOCFREE].name, "AllocFree");
	assert_string_equal(xtrace_experiment_name(XT_EXP_ALLOCFREE), "AllocFree");
}

static void test_argument_names_match_kinds(void **state)
{
	for (int t = 0; t < XT_MAX_EVENT_TYPES; t++) {
		const struct xt_event_spec *s = &xt_specs[t];
		if (!s->name)
			continue;
		for (int i = 0; i < s->nargs; i++) {
			assert_non_null(s->arg_names[i]);
			int k = xt_arg_kind_of(s->arg_names[i]);
			if (k != s->arg_kinds[i])
				fail_msg("%s argument %s: its name says kind %d, declared %s", s->name,
					 s->arg_names[i], k, xt_arg_kind_names[s->arg_kinds[i]]);
			assert_string_equal(xtrace_arg_kind_name(s->arg_kinds[i]),
					    xt_arg_kind_names[k]);
			for (int j = 0; j < i; j++)
				assert_true(strcmp(s->arg_names[i], s->arg_names[j]) != 0);
		}
		for (int i = s->nargs; i < XT_MAX_ARGS; i++)
			assert_null(s->arg_names[i]);
	}
}

static void test_arg_kind_of(void **state)
{
	assert_int_equal(xt_arg_kind_of("value"), XT_KIND_value);
	assert_int_equal(xt_arg_kind_of("obj_addr"), XT_KIND_addr);
	assert_int_equal(xt_arg_kind_of("reason_string"), XT_KIND_string);
	assert_int_equal(xt_arg_kind_of("stack"), XT_KIND_stack);
	assert_int_equal(xt_arg_kind_of("new_stack"), XT_KIND_stack);
	assert_int_equal(xt_arg_kind_of("type"), XT_KIND_type);
	assert_int_equal(xt_arg_kind_of("req_ns"), XT_KIND_ns);
	assert_int_equal(xt_arg_kind_of("a_b_timer"), XT_KIND_timer);
	assert_int_equal(xt_arg_kind_of("stacks"), -1);
	assert_int_equal(xt_arg_kind_of("addr_x"), -1);
	assert_int_equal(xt_arg_kind_of(""), -1);
	assert_int_equal(xt_arg_kind_of("size_"), -1);
}

/* The AllocFree events the README documents. */
static void test_allocfree_events(void **state)
{
	const struct xt_event_spec *s = &xt_specs[127];
	assert_string_equal(s->name, "ObjectAlloc");
	assert_int_equal(s->nargs, 3);
	assert_int_equal(s->arg_kinds[0], XT_KIND_addr);
	assert_int_equal(s->arg_kinds[1], XT_KIND_type);
	assert_int_equal(s->arg_kinds[2], XT_KIND_stack);
	assert_string_equal(xt_specs[128].name, "ObjectFree");
	assert_string_equal(xt_specs[129].name, "ObjectReallocFree");
	assert_int_equal(xt_specs[128].nargs, 1);
	assert_int_equal(xt_specs[129].arg_kinds[0], XT_KIND_addr);
	/* the frees by reference */
	assert_string_equal(xt_specs[138].name, "ObjectFreeRecent");
	assert_string_equal(xt_specs[139].name, "ObjectReallocFreeRecent");
	for (int id = 138; id <= 139; id++) {
		assert_int_equal(xt_specs[id].experiment, XT_EXP_ALLOCFREE);
		assert_int_equal(xt_specs[id].nargs, 1);
		assert_string_equal(xt_specs[id].arg_names[0], "back_value");
		assert_int_equal(xt_specs[id].arg_kinds[0], XT_KIND_value);
	}
	/* the allocation by reference: ObjectAlloc's arguments, back_value for the address */
	s = &xt_specs[140];
	assert_string_equal(s->name, "ObjectAllocReused");
	assert_int_equal(s->experiment, XT_EXP_ALLOCFREE);
	assert_int_equal(s->nargs, 3);
	assert_string_equal(s->arg_names[0], "back_value");
	assert_int_equal(s->arg_kinds[0], XT_KIND_value);
	for (int i = 1; i < 3; i++) {
		assert_string_equal(s->arg_names[i], xt_specs[127].arg_names[i]);
		assert_int_equal(s->arg_kinds[i], xt_specs[127].arg_kinds[i]);
	}
	/* what each reference form stands for and names, and which events fill the lists */
	static const struct {
		uint8_t by_address;
		int names, list;
	} want[XT_MAX_EVENT_TYPES] = {
		[127] = {XT_EV_NONE, -1, XT_REFS_ALLOCS},
		[128] = {XT_EV_NONE, -1, XT_REFS_FREES},
		[129] = {XT_EV_NONE, -1, XT_REFS_FREES},
		[138] = {128, XT_REFS_ALLOCS, XT_REFS_FREES},
		[139] = {129, XT_REFS_ALLOCS, XT_REFS_FREES},
		[140] = {127, XT_REFS_FREES, XT_REFS_ALLOCS},
	};
	for (int id = 0; id < XT_MAX_EVENT_TYPES; id++) {
		int known = id == 127 || id == 128 || id == 129 || (id >= 138 && id <= 140);
		assert_int_equal(xt_allocref_by_address((uint8_t)id), want[id].by_address);
		assert_int_equal(xt_allocref_names((uint8_t)id), known ? want[id].names : -1);
		assert_int_equal(xt_allocref_list((uint8_t)id), known ? want[id].list : -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_event_is_in_the_table),
		cmocka_unit_test(test_experiments_and_id_ranges),
		cmocka_unit_test(test_meaning_columns),
		cmocka_unit_test(test_argument_names_match_kinds),
		cmocka_unit_test(test_arg_kind_of),
		cmocka_unit_test(test_allocfree_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
