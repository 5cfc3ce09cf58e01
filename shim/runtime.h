/* runtime.h: experiments a program defines while it runs, through include/xtrace.h (runtime.c):
 * the registry of their specs, which the Specs batch describes and the writer encodes from. */
#ifndef XT_RUNTIME_H
#define XT_RUNTIME_H

#include <stdint.h>

#include "shim.h"
#include "spec.h"

/* xt_runtime_experiment is run-time experiment id's spec, NULL if the program defined none
 * with that ID; xt_runtime_events is the table of run-time events' specs, whose entry of a
 * type is valid once xt_runtime_event_defined says so. A spec never changes once defined. */
XT_HIDDEN const struct xt_experiment_spec *xt_runtime_experiment(unsigned id);
XT_HIDDEN bool xt_runtime_event_defined(unsigned type);
extern const struct xt_event_spec *const xt_runtime_events;

/* xt_event_spec_of is the spec of event type: the built-in table's, else the run-time one's. */
static inline const struct xt_event_spec *xt_event_spec_of(uint8_t type)
{
	return xt_specs[type].name ? &xt_specs[type] : &xt_runtime_events[type];
}

/* Around fork: the registry's lock is held over the fork; a copy of the process (fork child,
 * or a copy made past the fork handlers) starts with it free, and keeps every definition. */
XT_HIDDEN void xt_runtime_fork_prepare(void);
XT_HIDDEN void xt_runtime_fork_parent(void);
XT_HIDDEN void xt_runtime_fork_child(void);

#endif
