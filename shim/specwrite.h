/* specwrite.h: the entries of the Specs batch (experiments/README.md, "Specs batch"): how the shim
 * describes one experiment, its batch tables and its events, so a reader built without it
 * decodes its events by name. Pure encoding (specwrite.c); the advance writes the batches
 * (experiment.c). */
#ifndef XT_SPECWRITE_H
#define XT_SPECWRITE_H

#include <stdint.h>

#include "format.h"
#include "shim.h"
#include "spec.h"

/* The longest entry: a name, a version, every batch table, and every experimental event type
 * with the longest names and every argument. An entry is never split across batches. */
#define XT_SPEC_NAME_BYTES (XT_MAX_VARINT + XT_MAX_SPEC_NAME)
#define XT_MAX_SPEC_ENTRY                                                                    \
	(XT_MAX_VARINT + XT_SPEC_NAME_BYTES + 2 * XT_MAX_VARINT +                            \
	 XT_MAX_BATCH_SUBTYPES * (1 + XT_SPEC_NAME_BYTES) + XT_MAX_VARINT +                  \
	 (XT_MAX_EVENT_TYPES - XT_FIRST_EXPERIMENTAL_EVENT) *                                \
		 (1 + XT_SPEC_NAME_BYTES + 2 * XT_MAX_VARINT + 1 + XT_MAX_ARGS * XT_SPEC_NAME_BYTES))
_Static_assert(XT_MAX_SPEC_ENTRY <= XT_MAX_BATCH_SIZE, "a Specs entry must fit one batch");

/* xt_spec_entry writes at out (room for XT_MAX_SPEC_ENTRY bytes) the entry of experiment id,
 * described by x, with the events types[0..ntypes) whose specs are events[type], and returns
 * its end. Names longer than the format allows are cut to XT_MAX_SPEC_NAME bytes (callers
 * refuse them before they get here). */
XT_HIDDEN uint8_t *xt_spec_entry(uint8_t *out, unsigned id, const struct xt_experiment_spec *x,
				 const uint8_t *types, unsigned ntypes,
				 const struct xt_event_spec events[XT_MAX_EVENT_TYPES]);

#endif
