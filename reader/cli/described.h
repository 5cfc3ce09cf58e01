/* described.h: counting the events of experiments a trace describes but this reader does not
 * know (generic events: xtrace_event.generic), by experiment and event name, for the commands
 * that list them (report). */
#ifndef XT_CLI_DESCRIBED_H
#define XT_CLI_DESCRIBED_H

#include <stddef.h>
#include <stdint.h>

#include "xtrace-reader.h"

struct cli_described_count {
	char experiment[XTRACE_MAX_NAME + 1], event[XTRACE_MAX_NAME + 1];
	uint64_t count;
};

struct cli_described {
	struct cli_described_count *c; /* one per event type and generation it was seen in */
	size_t n, cap;
	size_t slot[256]; /* the current generation's entry of each type, + 1; 0: none yet */
};

/* cli_described_event takes in every event: a Sync starts a generation (its names are new), a
 * generic event is counted. 0, or -1 without memory. */
int cli_described_event(struct cli_described *d, const struct xtrace_event *ev);
/* cli_described_merge sorts the counts by experiment and event, each pair of names once. */
void cli_described_merge(struct cli_described *d);
void cli_described_free(struct cli_described *d);

#endif
