/* test_specs.c: self-describing traces. Generations carry Specs batches (experiments/README.md
 * "Specs batch"); the reader decodes an experiment it does not know from its spec, decodes one
 * that disagrees with its built-in spec the same way, keeps its own code for one that agrees,
 * and rejects every malformed Specs batch as corrupt, with its offset, after handing out the
 * generations before it. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "allocfree.h"
#include "traceopen.h"

/* A run-time experiment no reader is built with: ID 20, two events and a batch table. */
#define WIDGET 20
#define WIDGET_MAKE 200
#define WIDGET_DROP 201
static const char *const make_args[] = {"obj_addr", "size_value", "site_stack", "label_string"};
static const char *const drop_args[] = {"obj_addr"};

/* entry starts an experiment's Specs entry without batch tables, claiming nevents events. */
static void entry(struct tg *t, uint64_t id, const char *name, uint64_t version, uint64_t nevents)
{
	tg_spec_experiment(t, id, name, version);
	tg_uvarint(t, 0);
	tg_uvarint(t, nevents);
}

static void widget_entry(struct tg *t, const char *name)
{
	tg_spec_experiment(t, WIDGET, name, 3);
	tg_uvarint(t, 1);
	tg_spec_table(t, 0, "widgets");
	tg_uvarint(t, 2);
	tg_spec_event(t, WIDGET_MAKE, "WidgetMake", 0, 0, 4, make_args);
	tg_spec_event(t, WIDGET_DROP, "WidgetDrop", WIDGET_MAKE, 0, 1, drop_args);
}

/* Strings and stacks every generation below has. */
static void tables(struct tg *t, uint64_t time)
{
	tg_batch(t, XT_BATCH_STRINGS, 0, time);
	tg_string(t, 1, "blue");
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, time);
	tg_stack(t, 1, 2, (const uint64_t[]){0x401234, 0x401100});
	tg_batch_end(t);
}

static void widget_specs(struct tg *t, uint64_t time, const char *name)
{
	tg_batch(t, XT_BATCH_SPECS, 0, time);
	widget_entry(t, name);
	tg_batch_end(t);
}

/* A generation of Widget events, described by its Specs batch, before its events or (last) after
 * them, as a writer may (tg_event codes the addr arguments by a spec t described before). */
static void widget_gen(struct tg *t, uint64_t gen, const char *name, int last)
{
	uint64_t time = 1000 * gen;
	tg_gen(t, gen);
	tg_sync(t, time, 1000000000, 1700000000 + gen, 0);
	tables(t, time);
	if (!last)
		widget_specs(t, time, name);
	tg_batch(t, XT_BATCH_EVENTS, 7, time);
	tg_event(t, WIDGET_MAKE, 1, 0x7000, 48, 1, 1);
	tg_event(t, WIDGET_MAKE, 1, 0x6000, 16, 0, 0);
	tg_event(t, WIDGET_DROP, 1, 0x7000);
	tg_batch_end(t);
	tg_exp_batch(t, WIDGET, time);
	tg_u8(t, 0);
	tg_bytes(t, "raw", 3);
	tg_batch_end(t);
	if (last)
		widget_specs(t, time, name);
	tg_end(t, 0);
}

static void next_event(xtrace_reader *r, struct xtrace_event *ev)
{
	assert_int_equal(xtrace_next(r, ev), 1);
	if (ev->kind == XTRACE_EVENT_SYNC)
		assert_int_equal(xtrace_next(r, ev), 1);
}

static void test_unknown_experiment_decoded_by_name(void **state)
{
	struct tg *t = tg_new(NULL);
	widget_gen(t, 1, "Widget", 0);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	assert_int_equal(ev.kind, XTRACE_EVENT_SYNC);
	/* Its batch, raw, with the Sync. */
	const struct xtrace_sync *sy = xtrace_get_sync(r);
	assert_int_equal(sy->nbatches, 1);
	assert_int_equal(sy->batches[0].experiment, WIDGET);
	assert_int_equal(sy->batches[0].len, 4);
	assert_memory_equal(sy->batches[0].data, "\0raw", 4);

	next_event(r, &ev);
	assert_int_equal(ev.kind, XTRACE_EVENT_EXPERIMENTAL);
	assert_int_equal(ev.generic, 1);
	assert_int_equal(ev.type, WIDGET_MAKE);
	assert_int_equal(ev.experiment, WIDGET);
	assert_string_equal(ev.experiment_name, "Widget");
	assert_string_equal(ev.name, "WidgetMake");
	assert_int_equal(ev.nargs, 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(ev.arg_names[i], make_args[i]);
	assert_int_equal(ev.arg_kinds[0], XTRACE_ARG_ADDR);
	assert_int_equal(ev.arg_kinds[2], XTRACE_ARG_STACK);
	assert_int_equal(ev.arg_kinds[3], XTRACE_ARG_STRING);
	assert_int_equal(ev.args[0], 0x7000);
	assert_int_equal(ev.args[1], 48);
	assert_string_equal(xtrace_string(r, ev.args[3], NULL), "blue");
	next_event(r, &ev);
	assert_int_equal(ev.args[0], 0x6000); /* a negative delta */
	next_event(r, &ev);
	assert_string_equal(ev.name, "WidgetDrop");
	assert_int_equal(ev.args[0], 0x7000);

	struct xtrace_event_spec es;
	assert_int_equal(xtrace_event_spec(r, WIDGET_DROP, &es), 1);
	assert_int_equal(es.start, WIDGET_MAKE);
	assert_int_equal(es.builtin, 0);
	assert_string_equal(es.arg_names[0], "obj_addr");
	assert_int_equal(xtrace_event_spec(r, 202, &es), 0);
	assert_int_equal(xtrace_event_spec(r, XT_EV_ObjectAlloc, &es), 1);
	assert_int_equal(es.builtin, 1);
	struct xtrace_experiment_spec xs;
	assert_int_equal(xtrace_experiment_spec(r, WIDGET, &xs), 1);
	assert_string_equal(xs.name, "Widget");
	assert_int_equal(xs.version, 3);
	assert_int_equal(xs.builtin, 0);
	assert_int_equal(xs.described, 1);
	assert_string_equal(xs.batches[0], "widgets");
	assert_null(xs.batches[1]);
	assert_int_equal(xtrace_experiment_spec(r, XT_EXP_ALLOCFREE, &xs), 1);
	assert_int_equal(xs.builtin, 1);
	assert_int_equal(xs.described, 0);
	assert_int_equal(xtrace_experiment_spec(r, 21, &xs), 0);
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);
}

/* Each generation's specs replace the previous ones: the same ID may name another experiment.
 * The second generation's Specs batch comes after its events. */
static void test_specs_replaced_each_generation(void **state)
{
	struct tg *t = tg_new(NULL);
	widget_gen(t, 1, "Widget", 0);
	widget_gen(t, 2, "Gadget", 1);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	next_event(r, &ev);
	assert_string_equal(ev.experiment_name, "Widget");
	while (xtrace_next(r, &ev) == 1 && ev.kind != XTRACE_EVENT_SYNC)
		;
	assert_int_equal(ev.gen, 2);
	next_event(r, &ev);
	assert_string_equal(ev.experiment_name, "Gadget");
	xtrace_close(r);
	tg_free(t);
}

/* An experiment described otherwise than the reader's built-in one (AllocFree at another
 * version, another argument list) is decoded from its description: generic events, its type
 * table not read by AllocFree's code. */
static void test_conflicting_experiment_decoded_generically(void **state)
{
	static const char *const args[] = {"obj_addr", "size_value"};
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 100, 1000000000, 1700000000, 0);
	tg_batch(t, XT_BATCH_SPECS, 0, 100);
	entry(t, XT_EXP_ALLOCFREE, "AllocFree", 99, 1);
	tg_spec_event(t, XT_EV_ObjectAlloc, "ObjectAlloc", 0, 0, 2, args);
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 100);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_MALLOC, 32, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 100);
	/* size_value 5 names no alloc type: as a type argument it would be corrupt. */
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, 5);
	tg_batch_end(t);
	tg_end(t, 0);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	next_event(r, &ev);
	assert_int_equal(ev.generic, 1);
	assert_int_equal(ev.type, XT_EV_ObjectAlloc);
	assert_int_equal(ev.nargs, 2);
	assert_string_equal(ev.arg_names[1], "size_value");
	assert_int_equal(ev.args[0], 0x5000);
	assert_int_equal(ev.args[1], 5);
	assert_null(xtrace_alloc_type(r, 1));
	struct xtrace_experiment_spec xs;
	assert_int_equal(xtrace_experiment_spec(r, XT_EXP_ALLOCFREE, &xs), 1);
	assert_int_equal(xs.builtin, 0);
	assert_int_equal(xs.version, 99);
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);
}

/* A description that agrees with the built-in spec keeps the reader's own code. */
static void test_matching_experiment_keeps_builtin_code(void **state)
{
	struct tg *t = tg_new(NULL);
	tg_gen(t, 1);
	tg_sync(t, 100, 1000000000, 1700000000, 0);
	tables(t, 100);
	tg_batch(t, XT_BATCH_SPECS, 0, 100);
	tg_spec_builtin(t, XT_EXP_ALLOCFREE);
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 100);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_MALLOC, 32, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 100);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, 1, 1);
	tg_event(t, XT_EV_ObjectFreeRecent, 1, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	next_event(r, &ev);
	assert_int_equal(ev.generic, 0);
	assert_non_null(xtrace_alloc_type(r, ev.args[1]));
	next_event(r, &ev);
	/* The reference form handed out as the free it stands for, by AllocFree's code. */
	assert_int_equal(ev.type, XT_EV_ObjectFree);
	assert_int_equal(ev.args[0], 0x5000);
	struct xtrace_experiment_spec xs;
	assert_int_equal(xtrace_experiment_spec(r, XT_EXP_ALLOCFREE, &xs), 1);
	assert_int_equal(xs.builtin, 1);
	assert_int_equal(xs.described, 1);
	assert_int_equal(xtrace_next(r, &ev), 0);
	xtrace_close(r);
	tg_free(t);
}

/* ---- malformed Specs batches ---- */

/* stop_after_gen1 reads t and expects it to hand out generation 1 and then stop at generation 2
 * as corrupt, at offset off; it returns the error message (the reader closed: a copy). */
static const char *stop_after_gen1(const struct tg *t, uint64_t off)
{
	static char msg[256];
	xtrace_reader *r = tg_open_trace(t);
	struct xtrace_event ev;
	int rc, gens = 0;
	while ((rc = xtrace_next(r, &ev)) > 0)
		gens += ev.kind == XTRACE_EVENT_SYNC;
	assert_int_equal(rc, -1);
	assert_int_equal(gens, 1);
	assert_int_equal(xtrace_status(r), XTRACE_ERR_CORRUPT);
	assert_int_equal(xtrace_error_offset(r), off);
	snprintf(msg, sizeof msg, "%s", xtrace_error(r));
	xtrace_close(r);
	return msg;
}

/* bad_specs writes a good generation 1, then generation 2 whose Specs batch payload bad()
 * writes, and expects the reader to hand out generation 1 and stop at generation 2 as corrupt,
 * naming the Specs batch's offset and the entry's, with want in the message. */
static void expect_bad_specs(void (*bad)(struct tg *), const char *want)
{
	struct tg *t = tg_new(NULL);
	widget_gen(t, 1, "Widget", 0);
	tg_gen(t, 2);
	tg_sync(t, 2000, 1000000000, 1700000002, 0);
	uint64_t off = tg_batch(t, XT_BATCH_SPECS, 0, 2000);
	bad(t);
	tg_batch_end(t);
	tg_end(t, 0);
	const char *msg = stop_after_gen1(t, off);
	char where[64];
	snprintf(where, sizeof where, "specs batch at offset %" PRIu64 ": ", off);
	if (strncmp(msg, where, strlen(where)) != 0 || !strstr(msg, want) ||
	    !strstr(msg + strlen(where), " at offset "))
		fail_msg("error \"%s\": want \"%s...%s... at offset\"", msg, where, want);
	tg_free(t);
}

static void bad_kind_suffix(struct tg *t)
{
	static const char *const args[] = {"obj_addr", "count_bogus"};
	entry(t, WIDGET, "Widget", 1, 1);
	tg_spec_event(t, WIDGET_MAKE, "WidgetMake", 0, 0, 2, args);
}

static void dup_experiment(struct tg *t)
{
	widget_entry(t, "Widget");
	entry(t, WIDGET, "Widget2", 1, 0);
}

static void dup_type(struct tg *t)
{
	widget_entry(t, "Widget");
	entry(t, WIDGET + 1, "Other", 1, 1);
	tg_spec_event(t, WIDGET_DROP, "OtherDrop", 0, 0, 1, drop_args);
}

static void start_names_nothing(struct tg *t)
{
	entry(t, WIDGET, "Widget", 1, 1);
	tg_spec_event(t, WIDGET_DROP, "WidgetDrop", WIDGET_MAKE, 0, 1, drop_args);
}

static void form_of_names_other_entry(struct tg *t)
{
	/* ObjectAlloc is a built-in event, but no event of this entry. */
	entry(t, WIDGET, "Widget", 1, 1);
	tg_spec_event(t, WIDGET_DROP, "WidgetDrop", 0, XT_EV_ObjectAlloc, 1, drop_args);
}

static void name_too_long(struct tg *t)
{
	char name[XT_MAX_SPEC_NAME + 2];
	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = 0;
	const char *args[] = {name};
	entry(t, WIDGET, "Widget", 1, 1);
	tg_spec_event(t, WIDGET_MAKE, "WidgetMake", 0, 0, 1, args);
}

static void experiment_name_too_long(struct tg *t)
{
	char name[XT_MAX_SPEC_NAME + 2];
	memset(name, 'W', sizeof name - 1);
	name[sizeof name - 1] = 0;
	entry(t, WIDGET, name, 1, 0);
}

static void empty_name(struct tg *t)
{
	entry(t, WIDGET, "", 1, 0);
}

static void events_past_batch(struct tg *t)
{
	entry(t, WIDGET, "Widget", 1, 1000000);
	tg_spec_event(t, WIDGET_DROP, "WidgetDrop", 0, 0, 1, drop_args);
}

/* Two events claimed, as many bytes as two take at least, but the first's name takes them all. */
static void events_past_batch_by_names(struct tg *t)
{
	entry(t, WIDGET, "Widget", 1, 2);
	tg_spec_event(t, WIDGET_DROP, "WidgetDropWithALongName", 0, 0, 0, NULL);
}

static void tables_past_batch(struct tg *t)
{
	tg_spec_experiment(t, WIDGET, "Widget", 1);
	tg_uvarint(t, 7);
	tg_spec_table(t, 0, "widgets");
}

static void args_past_batch(struct tg *t)
{
	entry(t, WIDGET, "Widget", 1, 1);
	/* WidgetDrop claims 3 arguments and the batch ends after the first. */
	tg_u8(t, WIDGET_DROP);
	tg_uvarint(t, 10);
	tg_bytes(t, "WidgetDrop", 10);
	tg_uvarint(t, 0);
	tg_uvarint(t, 0);
	tg_u8(t, 3);
	tg_uvarint(t, 8);
	tg_bytes(t, "obj_addr", 8);
}

static void too_many_args(struct tg *t)
{
	static const char *const args[] = {"a_value", "b_value", "c_value", "d_value", "e_value",
					   "f_value"};
	entry(t, WIDGET, "Widget", 1, 1);
	tg_spec_event(t, WIDGET_MAKE, "WidgetMake", 0, 0, 6, args);
}

static void core_type(struct tg *t)
{
	entry(t, WIDGET, "Widget", 1, 1);
	tg_spec_event(t, XT_EV_UserLog, "NotCore", 0, 0, 1, drop_args);
}

static void experiment_zero(struct tg *t)
{
	entry(t, 0, "Core", 1, 0);
}

static void experiment_too_large(struct tg *t)
{
	entry(t, XT_MAX_EXPERIMENTS, "Big", 1, 0);
}

static void test_malformed_specs_rejected(void **state)
{
	expect_bad_specs(bad_kind_suffix, "argument count_bogus has no known kind");
	expect_bad_specs(dup_experiment, "experiment 20 described twice");
	expect_bad_specs(dup_type, "event type 201 described twice");
	expect_bad_specs(start_names_nothing, "start or form_of names no event of Widget");
	expect_bad_specs(form_of_names_other_entry, "start or form_of names no event of Widget");
	expect_bad_specs(name_too_long, "argument 0: bad name");
	expect_bad_specs(experiment_name_too_long, "bad name");
	expect_bad_specs(empty_name, "bad name");
	expect_bad_specs(events_past_batch, "1000000 events run past the batch");
	expect_bad_specs(events_past_batch_by_names, "2 events run past the batch");
	expect_bad_specs(tables_past_batch, "7 batch tables run past the batch");
	expect_bad_specs(args_past_batch, "argument 1: bad name");
	expect_bad_specs(too_many_args, "6 arguments");
	expect_bad_specs(core_type, "event type 3 out of range");
	expect_bad_specs(experiment_zero, "experiment 0 out of range");
	expect_bad_specs(experiment_too_large, "experiment 64 out of range");
}

/* In a generation with Specs, an event neither described nor built in is corrupt; so is a
 * built-in event of an experiment the generation describes otherwise. */
static void test_undescribed_event_rejected(void **state)
{
	struct tg *t = tg_new(NULL);
	widget_gen(t, 1, "Widget", 0);
	tg_gen(t, 2);
	tg_sync(t, 2000, 1000000000, 1700000002, 0);
	tg_batch(t, XT_BATCH_SPECS, 0, 2000);
	entry(t, XT_EXP_TIMERS, "Timers", 7, 0);
	tg_batch_end(t);
	uint64_t off = tg_batch(t, XT_BATCH_EVENTS, 7, 2000);
	tg_event(t, XT_EV_TimerFire, 1, 0, 0, 1, 0);
	tg_batch_end(t);
	tg_end(t, 0);
	assert_non_null(strstr(stop_after_gen1(t, off), "unknown event type 137"));
	tg_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_experiment_decoded_by_name),
		cmocka_unit_test(test_specs_replaced_each_generation),
		cmocka_unit_test(test_conflicting_experiment_decoded_generically),
		cmocka_unit_test(test_matching_experiment_keeps_builtin_code),
		cmocka_unit_test(test_malformed_specs_rejected),
		cmocka_unit_test(test_undescribed_event_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
