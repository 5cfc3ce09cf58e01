/* shim.h: what every part of the shim shares: symbol visibility, configuration, whether tracing
 * runs, the trace clock and copies of the process. Everything here is hidden inside libxtrace.so.
 * The rest is split by concern: thread.h (per-thread state), writer.h (recording sections and
 * the event encoders generated from experiments/events.def), allocemit.h (AllocFree's events by
 * reference), experiment.h (what an experiment's code plugs into). */
#ifndef XT_SHIM_H
#define XT_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define XT_HIDDEN __attribute__((visibility("hidden")))
/* XT_EXPORT marks an interposed entry point: the only symbols libxtrace.so exports. */
#define XT_EXPORT __attribute__((visibility("default")))
/* XT_CALLER is an interposed function's return address: where the program called it. */
#define XT_CALLER __builtin_return_address(0)
/* The interposed function's own frame: its return address above its saved frame pointer (the
 * shim keeps frame pointers), where a stack walk can begin. */
#define XT_FRAME __builtin_frame_address(0)
#define XT_TLS __thread __attribute__((tls_model("initial-exec")))
#define xt_likely(x) __builtin_expect(!!(x), 1)
#define xt_unlikely(x) __builtin_expect(!!(x), 0)

/* --- config.c: the XTRACE_* environment, read once at init ------------------------------- */
enum xt_unwind_mode { XT_UNWIND_DWARF, XT_UNWIND_LIBUNWIND, XT_UNWIND_FP, XT_UNWIND_NONE };
struct xt_config {
	char out_pattern[1024]; /* XTRACE_OUT, default "xtrace.%e.%p.xt" */
	char out_dir[1024];     /* XTRACE_DIR (set by xtrace run): "" or the run directory */
	unsigned stack_depth;   /* XTRACE_STACK_DEPTH, 1..128, default 64 */
	enum xt_unwind_mode unwind; /* XTRACE_UNWIND */
	unsigned gen_ms;        /* XTRACE_GEN_MS, default 1000 */
	unsigned sample_bytes;  /* XTRACE_SAMPLE: mean bytes between samples; 0 (default): all */
	unsigned sample_seed;   /* XTRACE_SAMPLE_SEED: 0 (default), a seed from the clock */
	int start_stopped;      /* XTRACE_START=stopped: recording off until switched on */
	unsigned flight_mib;    /* XTRACE_FLIGHT: the flight recorder's MiB; 0: write as it goes */
	char ctl_dir[108];      /* the control socket's directory (ctlproto.h); "": too long */
	bool compress;          /* XTRACE_COMPRESS, default 1: generations written through zstd */
};
extern struct xt_config xt_config;
XT_HIDDEN void xt_config_load(void);

/* --- global tracing state (lifecycle.c) ---------------------------------------------------- */
/* xt_gen is the current generation; 0 while not tracing (before init, after the final flush,
 * or when the output could not be opened). */
extern _Atomic uint64_t xt_gen;
/* xt_say prints one line on stderr, prefixed "xtrace: ", with no allocation. */
XT_HIDDEN void xt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- clones.c: a copy of the traced process made past the fork handlers -------------------- */
/* A raw clone, clone3 or fork system call (or _Fork) copies the process without running the
 * fork handlers: the copy holds the traced process's buffers and file. The mark is a word in a
 * page the kernel gives every such copy empty (MADV_WIPEONFORK), nonzero in the traced process
 * and in children that share its memory (vfork, CLONE_VM): a zero mark tells a copy that has not
 * yet got a trace of its own, with one load and no system call. */
extern _Atomic(_Atomic uint64_t *) xt_process_mark;
static inline bool xt_clone_unadopted(void)
{
	return !atomic_load_explicit(atomic_load_explicit(&xt_process_mark, memory_order_relaxed),
				     memory_order_relaxed);
}
/* xt_clone_mark_init maps the mark once tracing has started; xt_clone_mark_set sets it in a
 * child that got a trace of its own. */
XT_HIDDEN void xt_clone_mark_init(void);
XT_HIDDEN void xt_clone_mark_set(void);
/* xt_clone_shares_memory: this process is the traced one or shares its memory (false when the
 * kernel cannot tell copies apart: the process ID then tells the traced one). */
XT_HIDDEN bool xt_clone_shares_memory(void);
/* xt_clone_adopt gives an unadopted copy a trace of its own, as a fork child gets one
 * (lifecycle.c; cold: the copy's first event, exit or exec). */
XT_HIDDEN void xt_clone_adopt(void);

/* --- clock.c: the trace clock ------------------------------------------------------------- */
/* The trace clock (clock.c): TSC ticks in units where the TSC is invariant, else CLOCK_MONOTONIC
 * nanoseconds. Chosen once at init, before any thread records, and inherited across fork. */
struct xt_clock {
	int use_tsc;
};
/* With the TSC, the trace clock counts units of 2^XT_TIME_SHIFT ticks (clock.c says why). */
#define XT_TIME_SHIFT 6
extern struct xt_clock xt_clock;
XT_HIDDEN void xt_clock_init(void);
/* A trace-clock reading and CLOCK_MONOTONIC ns taken together: a generation's anchor. */
struct xt_clock_pair {
	uint64_t ticks, ns; /* ticks in the trace clock's unit */
	uint64_t raw;       /* the TSC itself (ns without it): the rate is measured in its ticks */
};
XT_HIDDEN struct xt_clock_pair xt_clock_sample(void);
/* xt_clock_sample_after samples at least the minimum calibration span after from. */
XT_HIDDEN struct xt_clock_pair xt_clock_sample_after(const struct xt_clock_pair *from);
/* xt_clock_rate is the trace clock's units per second between two samples. */
XT_HIDDEN uint64_t xt_clock_rate(const struct xt_clock_pair *a, const struct xt_clock_pair *b);
static inline uint64_t xt_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A TSC read on a CPU a few cycles behind the last one may go back a little: the encoder
 * (xt_reserve_held) keeps a batch's times from going back, and readers convert signed
 * differences from each generation's anchor, so a tick before it is fine. */
static inline uint64_t xt_now(void)
{
	if (xt_likely(xt_clock.use_tsc))
		return __builtin_ia32_rdtsc() >> XT_TIME_SHIFT;
	return xt_mono_ns();
}

#endif
