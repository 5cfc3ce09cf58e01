/* rawtrace.h: Specs batches (kind 8) parsed by the letter of experiments/README.md ("Specs
 * batch"), for tests that check what the shim writes without the reader: the payload of one
 * batch, or every Specs batch of a trace file by generation. */
#ifndef XT_RAWTRACE_H
#define XT_RAWTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "spec.h"

struct sb_event {
	uint8_t type;
	char name[XT_MAX_SPEC_NAME + 1];
	uint64_t start, form_of;
	uint8_t nargs;
	char args[XT_MAX_ARGS][XT_MAX_SPEC_NAME + 1];
};

struct sb_experiment {
	uint64_t id, version;
	char name[XT_MAX_SPEC_NAME + 1];
	unsigned nbatches;
	uint8_t subtypes[XT_MAX_BATCH_SUBTYPES];
	char batches[XT_MAX_BATCH_SUBTYPES][XT_MAX_SPEC_NAME + 1];
	unsigned nevents;
	struct sb_event events[XT_MAX_EVENT_TYPES - XT_FIRST_EXPERIMENTAL_EVENT];
};

/* Every experiment one generation's Specs batches describe. */
struct sb_generation {
	uint64_t gen;
	unsigned nbatches; /* Specs batches */
	unsigned n;
	struct sb_experiment exp[XT_MAX_EXPERIMENTS];
};

/* sb_parse appends the entries of one Specs payload to g; 0, or -1 with a message in err when
 * the payload breaks a rule of the format (an entry cut short, a name of no kind, a start or
 * form_of naming no event of its entry, an experiment or type described twice in g). */
int sb_parse(const uint8_t *p, size_t len, struct sb_generation *g, char *err, size_t errlen);

/* sb_read_file parses every Specs batch of the trace at path, into gens[0..max) by generation
 * in file order; returns the number of generations, or -1 with a message in err. */
int sb_read_file(const char *path, struct sb_generation *gens, int max, char *err, size_t errlen);

/* A trace's Specs by generation, its events decoded with them (addresses absolute, AllocFree's
 * reference forms resolved to the address they name), its string and stack entries, and its
 * experimental batches. */
#define SB_MAX_GENERATIONS 16
struct sb_decoded {
	uint64_t gen, thread;
	uint8_t type, nargs;
	uint64_t args[XT_MAX_ARGS];
};
struct sb_entry {
	uint64_t gen;
	uint8_t kind; /* XT_BATCH_STRINGS or XT_BATCH_STACKS */
	uint64_t id;
	char *text;   /* a string's */
};
/* An experimental batch: its experiment and payload (subtype byte first). */
struct sb_exp_batch {
	uint64_t gen;
	uint8_t exp;
	size_t len;
	uint8_t *data;
};
struct sb_trace {
	int ngens;
	struct sb_generation *gens;
	size_t nevents, nentries, nexp;
	struct sb_decoded *events;
	struct sb_entry *entries;
	struct sb_exp_batch *exp;
};

/* sb_read_trace reads the trace at path into t: 0, or -1 with a message in err (an event of a
 * type its generation describes nowhere, framing or an entry cut short, ...). */
int sb_read_trace(const char *path, struct sb_trace *t, char *err, size_t errlen);
void sb_trace_free(struct sb_trace *t);
/* sb_entry_of returns t's string or stack entry id of generation gen, or NULL. */
const struct sb_entry *sb_entry_of(const struct sb_trace *t, uint64_t gen, uint8_t kind,
				   uint64_t id);

/* sb_find returns g's experiment named name, or NULL; sb_event_named its event named name. */
const struct sb_experiment *sb_find(const struct sb_generation *g, const char *name);
const struct sb_event *sb_event_named(const struct sb_experiment *x, const char *name);

#endif
