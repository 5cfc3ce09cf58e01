/* spec.h: the event spec table built from events.def, and the argument-kind convention.
 * Shim encoders, reader decoders, `xtrace dump` and the tests all come from this one table.
 *
 * An argument's name ends in its kind, after the last '_' (or is the kind itself):
 *   value   a plain number                   addr    an address, coded as zigzag delta
 *   string  a string-table ID                         from the batch's previous addr argument
 *   stack   a stack-table ID                 type    an ID in the experiment's own type table
 *   ns      a duration in nanoseconds        timer   a timer ID, stable within the trace
 * Only addr changes the bytes on the wire; the others tell a generic reader how to show and
 * check a value. */
#ifndef XT_SPEC_H
#define XT_SPEC_H

#include <stdint.h>

#include "format.h"

#define XT_ARG_KINDS(X) X(value) X(addr) X(string) X(stack) X(type) X(ns) X(timer)

enum xt_arg_kind {
#define XT_KIND_ENUM(k) XT_KIND_##k,
	XT_ARG_KINDS(XT_KIND_ENUM)
#undef XT_KIND_ENUM
	XT_KIND_COUNT
};

enum xt_experiment {
#define XT_EXPERIMENT(ident, id, name, version) XT_EXP_##ident = id,
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

/* Experiment IDs are below XT_MAX_EXPERIMENTS (spec.c checks each one): built-in experiments
 * take IDs below XT_FIRST_RUNTIME_EXPERIMENT, experiments a program defines at run time the
 * others. */
#define XT_MAX_EXPERIMENTS 64
#define XT_FIRST_RUNTIME_EXPERIMENT 16
/* Experimental-batch subtypes an experiment may name (the first byte of its batches). */
#define XT_MAX_BATCH_SUBTYPES 8

enum xt_event_type {
	XT_EV_NONE = 0,
#define XT_EXPERIMENT(ident, id, name, version)
#define XT_EVENT(name, id, exp, start, form, nargs, ...) XT_EV_##name = id,
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

/* xt_event_spec describes one event type; name is NULL for an undefined type. The columns after
 * the arguments give the event's meaning where it is generic: start pairs an end event with the
 * begin event it closes (Go's StartEv), form_of marks a compact reference form of another event
 * (a reader hands it out as that event). */
struct xt_event_spec {
	const char *name;
	uint8_t experiment;
	uint8_t nargs; /* arguments after dt */
	const char *arg_names[XT_MAX_ARGS];
	uint8_t arg_kinds[XT_MAX_ARGS];
	uint8_t start;   /* an end event: the type of the begin event it closes; else 0 */
	uint8_t form_of; /* a reference form: the type of the event it stands for; else 0 */
};

/* xt_experiment_spec describes one experiment; name is NULL where no experiment has the ID. */
struct xt_experiment_spec {
	const char *name;
	unsigned version; /* changes whenever the meaning of its events or batches does */
	/* batches[subtype], XT_MAX_BATCH_SUBTYPES of them: the name of its experimental-batch table
	 * with that first byte, or NULL */
	const char *const *batches;
};

extern const struct xt_event_spec xt_specs[XT_MAX_EVENT_TYPES];
extern const struct xt_experiment_spec xt_experiments[XT_MAX_EXPERIMENTS];
extern const char *const xt_arg_kind_names[XT_KIND_COUNT];

/* xt_arg_kind_of returns the kind an argument name declares by its suffix, or -1. */
int xt_arg_kind_of(const char *arg_name);

/* Pair iteration over an event's (name, kind) argument list, for the X-macro consumers. */
#define XT_CAT_(a, b) a##b
#define XT_CAT(a, b) XT_CAT_(a, b)
#define XT_PAIRS_0(M)
#define XT_PAIRS_1(M, n1, k1) M(n1, k1)
#define XT_PAIRS_2(M, n1, k1, ...) M(n1, k1) XT_PAIRS_1(M, __VA_ARGS__)
#define XT_PAIRS_3(M, n1, k1, ...) M(n1, k1) XT_PAIRS_2(M, __VA_ARGS__)
#define XT_PAIRS_4(M, n1, k1, ...) M(n1, k1) XT_PAIRS_3(M, __VA_ARGS__)
#define XT_PAIRS_5(M, n1, k1, ...) M(n1, k1) XT_PAIRS_4(M, __VA_ARGS__)
/* XT_PAIRS(nargs, M, args...) expands M(name, kind) for each pair. */
#define XT_PAIRS(nargs, M, ...) XT_CAT(XT_PAIRS_, nargs)(M, ##__VA_ARGS__)

#endif
