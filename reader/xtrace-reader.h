/* xtrace-reader.h: the public API of libxtrace-reader.
 *
 * A trace is read generation by generation. xtrace_next() hands out, for each complete
 * generation, one Sync event (carrying the generation's experimental batches, tables and clock)
 * followed by the generation's timed events from every thread, merged in time order. A
 * generation is handed out only once all of it has been read and checked, so a cut or damaged
 * file yields every complete generation before the damage and then stops with an error that
 * names the file offset. Memory is bounded by two generations: the one handed out, and the next,
 * which a helper thread gathers and checks while the current one is read (a trace of more than
 * one generation; the thread ends with the reader). */
#ifndef XTRACE_READER_H
#define XTRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xtrace_reader xtrace_reader;

/* The file header: who wrote the trace. */
struct xtrace_header {
	uint32_t version;
	/* What the file's events carry: 1e9, CLOCK_MONOTONIC ns; 0, TSC ticks at the rate each
	 * generation's Sync gives. Every time the reader hands out is in ns either way. */
	uint64_t ticks_per_sec;
	uint64_t pid, ppid;
	uint64_t fork_parent_pid; /* pid of the parent when this process began as its fork, else 0 */
	uint64_t fork_ts;         /* the fork's time (CLOCK_MONOTONIC ns, as events), else 0 */
	uint64_t start_ts;        /* trace start, CLOCK_MONOTONIC ns */
	uint64_t start_wall_sec, start_wall_nsec;
	const char *exe;          /* program path, NUL-terminated */
	const char *cmdline;      /* arguments, each NUL-terminated, cmdline_len bytes in all */
	size_t cmdline_len;
	/* XTRACE_SAMPLE: the mean bytes between sampled allocations; 0, every call was recorded.
	 * A sampled trace's heap figures are estimates (reader/analysis/sampling.h). */
	uint64_t sample_bytes;
};

enum xtrace_event_kind {
	XTRACE_EVENT_SYNC = 1,         /* start of a generation */
	XTRACE_EVENT_CORE = 2,         /* a core timed event (type < 127) */
	XTRACE_EVENT_EXPERIMENTAL = 3, /* an experiment's timed event (type >= 127) */
};

/* Argument kinds, named by an argument's suffix (see experiments/spec.h). */
enum xtrace_arg_kind {
	XTRACE_ARG_VALUE, XTRACE_ARG_ADDR, XTRACE_ARG_STRING, XTRACE_ARG_STACK,
	XTRACE_ARG_TYPE, XTRACE_ARG_NS, XTRACE_ARG_TIMER,
};

#define XTRACE_MAX_ARGS 5
#define XTRACE_MAX_NAME 64 /* bytes of an experiment's, event's or argument's name, at most */

struct xtrace_event {
	enum xtrace_event_kind kind;
	uint64_t gen;
	uint64_t ts;        /* CLOCK_MONOTONIC ns (see header.start_ts) */
	uint64_t thread;    /* OS thread ID; 0 for Sync */
	uint8_t type;       /* event type ID; 0 for Sync */
	uint8_t experiment; /* experiment ID (0: core) */
	/* The type as written, when the file has a compact form of this event (a free by
	 * reference, ObjectFreeRecent, is handed out as the ObjectFree it stands for, an
	 * allocation by reference, ObjectAllocReused, as the ObjectAlloc, with its address); else
	 * type. */
	uint8_t wire_type;
	const char *name;   /* "Sync" or the spec's event name */
	const char *experiment_name;
	uint8_t nargs;
	const char *const *arg_names;    /* nargs names, from the spec */
	const uint8_t *arg_kinds;        /* nargs enum xtrace_arg_kind values */
	uint64_t args[XTRACE_MAX_ARGS];  /* decoded values (addr args are absolute) */
	uint64_t offset;                 /* file offset of the batch the event came from */
	/* 1: an event of an experiment this reader does not know as the trace describes it (built
	 * without it, defined by the program at run time, or another version of one it knows; see
	 * "Experiments a trace describes" below): kind XTRACE_EVENT_EXPERIMENTAL, decoded from the
	 * generation's spec alone, with name, experiment_name, arg_names and arg_kinds from it (valid
	 * until the next Sync). Its type IDs may be those of a built-in event of another meaning: a
	 * consumer that knows events by type must look at built-in events (0) only. */
	uint8_t generic;
};

/* The Sync event's contents; valid until the next Sync. */
struct xtrace_exp_batch {
	uint8_t experiment;
	uint64_t thread;
	const uint8_t *data;
	size_t len;
};

struct xtrace_sync {
	uint64_t gen;
	uint64_t ts;                  /* CLOCK_MONOTONIC ns when wall time was sampled */
	uint64_t ticks_per_sec;       /* the rate of the file's ticks in this generation */
	uint64_t wall_sec, wall_nsec;
	uint64_t lost;                /* events the writer could not record in this generation */
	uint64_t nevents;             /* timed events in this generation */
	uint64_t nthreads;            /* threads with events in this generation */
	const struct xtrace_exp_batch *batches;
	size_t nbatches;
	/* Recording was switched off right before this generation (XTRACE_START=stopped, xtrace
	 * ctl stop then start): allocations and frees of that time are not in the trace. */
	int after_gap;
	/* Where the ticks are the TSC's: how far it was shifted right to make them (a tick is
	 * 2^tsc_shift TSC ticks; ticks_per_sec is already the shifted ticks' rate). */
	unsigned tsc_shift;
};

struct xtrace_module {
	uint64_t id;
	const char *path;
	uint64_t base;      /* load bias */
	uint64_t lo, hi;    /* [lo, hi): absolute addresses of its loaded segments */
	const uint8_t *build_id;
	size_t build_id_len;
};

enum xtrace_status {
	XTRACE_OK = 0,
	XTRACE_ERR_IO = 1,        /* cannot open or read the file */
	XTRACE_ERR_CORRUPT = 2,   /* bytes that cannot be a trace */
	XTRACE_ERR_TRUNCATED = 3, /* the file ends inside a generation */
	XTRACE_ERR_NOMEM = 4,
};

/* xtrace_open opens path. On failure it returns NULL and, if err is not NULL, writes a message. */
xtrace_reader *xtrace_open(const char *path, char *err, size_t errlen);
void xtrace_close(xtrace_reader *r);
const struct xtrace_header *xtrace_get_header(const xtrace_reader *r);

/* xtrace_next fills ev with the next event: 1 on success, 0 at the clean end of the trace,
 * -1 when reading stopped at bad input (see xtrace_status/xtrace_error/xtrace_error_offset). */
int xtrace_next(xtrace_reader *r, struct xtrace_event *ev);
/* xtrace_generation_done is 1 when every event of the current generation has been handed out
 * (or none was yet): the next xtrace_next reads on, into the next generation, and replaces the
 * tables the accessors below read. Until then they stay as they are, so a program may hand the
 * events to another thread and let it read the tables while this one decodes. */
int xtrace_generation_done(const xtrace_reader *r);
enum xtrace_status xtrace_status(const xtrace_reader *r);
const char *xtrace_error(const xtrace_reader *r);
uint64_t xtrace_error_offset(const xtrace_reader *r);

/* Tables of the current generation (the one whose Sync was handed out last). */
const struct xtrace_sync *xtrace_get_sync(const xtrace_reader *r);
/* xtrace_stack returns the number of frames of stack id (0 for ID 0 or an unknown ID) and
 * points *pcs at them, innermost first; each is a return address. */
size_t xtrace_stack(const xtrace_reader *r, uint64_t id, const uint64_t **pcs);
/* xtrace_string returns string id (NULL if unknown), NUL-terminated; *len gets its length. */
const char *xtrace_string(const xtrace_reader *r, uint64_t id, size_t *len);
size_t xtrace_modules(const xtrace_reader *r, const struct xtrace_module **mods);
/* xtrace_module_of returns the module of the current generation that holds pc, or NULL. */
const struct xtrace_module *xtrace_module_of(const xtrace_reader *r, uint64_t pc);

/* Spec lookups: the names of experiments, events and arguments kinds. */
const char *xtrace_experiment_name(uint8_t experiment); /* as built in */
const char *xtrace_arg_kind_name(uint8_t kind);

/* Experiments a trace describes. Each generation of a version 2 trace carries the spec of every
 * experiment it uses (experiments/README.md, "Specs batch"). An experiment whose spec agrees with
 * the reader's built-in one (ID, name, version, every event's type, name and arguments) is read
 * by the reader's own code: its events as always, generic 0. Any other, an experiment the
 * reader was built without, one a program defined at run time, or another version, is read
 * from its spec alone, like Go's ExperimentalEvent: its events come out generic, with names and
 * named arguments (addr arguments decoded, string and stack IDs checked to exist), and its
 * experimental batches raw in the Sync's batches. The lookups below answer for the current
 * generation (the one whose Sync was handed out last; before the first Sync, the built-in
 * table); the names they return stay valid until the next Sync. */
struct xtrace_event_spec {
	uint8_t type;
	uint8_t experiment;   /* 0 for a core event */
	const char *name;
	/* the end of a begin/end pair: the type of the begin event it closes (Go's StartEv) */
	uint8_t start;
	uint8_t form_of;      /* a compact reference form: the type of the event it stands for */
	uint8_t nargs;
	const char *const *arg_names;
	const uint8_t *arg_kinds; /* enum xtrace_arg_kind values */
	int builtin;          /* 1: the reader's own spec and code read it; 0: the trace's spec */
};
/* xtrace_event_spec fills out with the spec event type has in the current generation: 1, or 0
 * when the generation has no such event type. */
int xtrace_event_spec(const xtrace_reader *r, uint8_t type, struct xtrace_event_spec *out);

#define XTRACE_MAX_BATCH_SUBTYPES 8
struct xtrace_experiment_spec {
	uint8_t id;
	const char *name;
	unsigned version;
	/* XTRACE_MAX_BATCH_SUBTYPES names, by the subtype byte that starts its experimental batches:
	 * the name of the table those batches hold, or NULL */
	const char *const *batches;
	int builtin;   /* 1: the reader's own code reads it (its events are not generic) */
	int described; /* 1: the current generation carries its spec */
};
/* xtrace_experiment_spec fills out with experiment id as the current generation has it: 1, or 0
 * when there is no such experiment (neither described nor built in). */
int xtrace_experiment_spec(const xtrace_reader *r, uint8_t id, struct xtrace_experiment_spec *out);

/* Offline symbolization with elfutils' libdw, from the module table of the current
 * generation. Strings and frames returned stay valid until xtrace_symbolizer_free. */
typedef struct xtrace_symbolizer xtrace_symbolizer;
struct xtrace_frame {
	uint64_t pc;
	/* as people read it: demangled (C++, Rust) without parameters, ABI tags, symbol version or
	 * clone suffix ("app::build", "__libc_start_main"); NULL if unknown */
	const char *function;
	const char *file;     /* NULL if unknown */
	int line;             /* 0 if unknown */
	const char *module;   /* NULL if pc is in no known module */
	uint64_t module_offset;
	/* the name as the object file spells it ("_ZN3app5buildB5cxx11Ei",
	 * "__libc_start_main@@GLIBC_2.34"); NULL if unknown */
	const char *symbol;
	int inlined;          /* 1: this function's code was inlined into the next frame's */
};
xtrace_symbolizer *xtrace_symbolizer_new(void);
void xtrace_symbolizer_free(xtrace_symbolizer *s);
/* xtrace_symbolize_inlined points *frames at what return address pc (looked up at pc - 1,
 * inside the call) stands for: the chain of calls inlined there, innermost first, each inlined
 * into the next, and last the function whose code holds pc. Each frame has its own file:line:
 * the first pc's own, each later one the line of the call into the frame before it. All share
 * pc, module and module_offset. Returns their number (1 when nothing was inlined or nothing is
 * known), or 0 without memory. Each address is looked up once per symbolizer. */
size_t xtrace_symbolize_inlined(xtrace_symbolizer *s, const xtrace_reader *r, uint64_t pc,
				const struct xtrace_frame **frames);
/* xtrace_symbolize copies the first (innermost) of those frames into out. */
void xtrace_symbolize(xtrace_symbolizer *s, const xtrace_reader *r, uint64_t pc,
		      struct xtrace_frame *out);

/* AllocFree's type table of the current generation: type id -> API and request. */
struct xtrace_alloc_type {
	uint64_t id;
	uint8_t api;        /* index into xtrace_alloc_api_name */
	uint64_t elem_size, count, align;
};
const struct xtrace_alloc_type *xtrace_alloc_type(const xtrace_reader *r, uint64_t id);
const char *xtrace_alloc_api_name(uint8_t api);

#ifdef __cplusplus
}
#endif
#endif
