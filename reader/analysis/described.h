/* described.h: counting the events of experiments a trace describes but this reader does not
 * know (generic events: xtrace_event.generic), by experiment and event name: the summary's
 * (summary.h), which stats and report list. */
#ifndef XT_DESCRIBED_H
#define XT_DESCRIBED_H

#include <stddef.h>
#include <stdint.h>

#include "xtrace-reader.h"

struct xt_described_count {
	char experiment[XTRACE_MAX_NAME + 1], event[XTRACE_MAX_NAME + 1];
	uint64_t count;
};

struct xt_described {
	struct xt_described_count *c; /* one per event type and generation it was seen in */
	size_t n, cap;
	size_t slot[256]; /* the current generation's entry of each type, + 1; 0: none yet */
};

/* xt_described_event takes in every event: a Sync starts a generation (its names are new), a
 * generic event is counted. 0, or -1 without memory. */
int xt_described_event(struct xt_described *d, const struct xtrace_event *ev);
/* xt_described_merge sorts the counts by experiment and event, each pair of names once. */
void xt_described_merge(struct xt_described *d);
void xt_described_free(struct xt_described *d);

#endif
