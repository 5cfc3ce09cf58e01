/* generation.h: the generation advance protocol, cold side. */
#ifndef XT_GENERATION_H
#define XT_GENERATION_H

#include <stdbool.h>
#include <stdint.h>

#include "shim.h"

enum xt_advance_mode {
	XT_ADVANCE_NEXT,  /* close the generation, tracing goes on in the next */
	XT_ADVANCE_FINAL, /* close it and stop tracing (exit, exec) */
	XT_ADVANCE_CRASH, /* as FINAL, from a fatal signal: bounded waits, this thread may be mid-event */
};

/* xt_gen_begin starts generation 1 of a freshly opened file, and the advancer thread if asked
 * (a fork child that starts tracing only to end at once, at exit or exec, needs none). */
XT_HIDDEN bool xt_gen_begin(bool advancer);
XT_HIDDEN void xt_advance(enum xt_advance_mode mode);
/* xt_gen_resume restarts tracing after a FINAL advance that turned out not to be (failed exec). */
XT_HIDDEN void xt_gen_resume(void);
/* Around fork: the parent holds the advance and file locks over the fork; the child forgets the
 * parent's threads and buffers (async-signal-safe), and its tables once it starts tracing
 * (xt_gen_fork_tables). */
XT_HIDDEN void xt_gen_fork_prepare(void);
XT_HIDDEN void xt_gen_fork_parent(void);
XT_HIDDEN void xt_gen_fork_child(void);
XT_HIDDEN void xt_gen_fork_tables(void);
/* Recording switched on and off from outside (control.c): xt_gen_switch closes the current
 * generation and records nothing more (off), or begins the next generation, whose Sync says
 * recording was off before it (on); it returns whether recording is on now. Exit, exec and a
 * fatal signal of an image switched off first switch on (xt_gen_switch_on_to_end), so the trace
 * still ends with how the image ended. xt_gen_snapshot closes the current generation now and
 * writes the trace's path into reply; xt_gen_status says what the shim is doing. */
XT_HIDDEN bool xt_gen_switch(bool on);
XT_HIDDEN void xt_gen_switch_on_to_end(bool crash);
XT_HIDDEN bool xt_gen_snapshot(char *reply, size_t cap);
XT_HIDDEN void xt_gen_status(char *reply, size_t cap);
/* xt_gen_wake wakes the advancer: a thread ran its exit destructor, its slot may be recycled. */
XT_HIDDEN void xt_gen_wake(void);
/* xt_gen_advance_soon asks the advancer to end the generation now: it gathered much. */
XT_HIDDEN void xt_gen_advance_soon(void);

#endif
