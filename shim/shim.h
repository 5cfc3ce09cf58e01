/* shim.h: what the shim's parts share: per-thread state, the recording section, encoders,
 * stacks, tables and configuration. Everything here is hidden inside libxtrace.so.
 *
 * Recording an event, from any interposed entry point:
 *   struct xt_thread *t = xt_enter();      // NULL: not tracing now, pass through
 *   ... call the real function ...
 *   xt_emit_Foo(t, xt_now(), args...);     // generated from experiments/events.def
 *   xt_leave(t);
 * Between xt_enter and xt_leave the thread's generation cannot advance. The hot path never
 * locks, never calls malloc and makes no syscall (a full batch is handed to the writer, which
 * costs one lock per 64 KiB). */
#ifndef XT_SHIM_H
#define XT_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "allocfree.h"
#include "format.h"
#include "spec.h"
#include "varint.h"

#define XT_HIDDEN __attribute__((visibility("hidden")))
/* XT_EXPORT marks an interposed entry point: the only symbols libxtrace.so exports. */
#define XT_EXPORT __attribute__((visibility("default")))
/* XT_CALLER is an interposed function's return address: where the program called it. */
#define XT_CALLER __builtin_return_address(0)
/* XT_REAL makes a call to a real function with the in_real guard up: what libc calls through
 * the PLT meanwhile is its own doing, not the program's, and is not recorded again. */
#define XT_REAL(call)                            \
	({                                           \
		xt_tl.in_real++;                         \
		__typeof__(call) xt_r_ = (call);          \
		xt_tl.in_real--;                         \
		xt_r_;                                   \
	})
#define XT_TLS __thread __attribute__((tls_model("initial-exec")))
#define xt_likely(x) __builtin_expect(!!(x), 1)
#define xt_unlikely(x) __builtin_expect(!!(x), 0)

/* One thread's event buffer for one generation parity. */
struct xt_buf {
	uint64_t gen;       /* generation the bytes belong to, 0 when empty */
	uint64_t base_ts;   /* batch time */
	uint64_t last_ts;   /* for dt */
	uint64_t last_addr; /* for addr deltas */
	/* the thread's ref_serial of each list when the batch began: the batch's events of the
	 * list have the serials above */
	uint64_t base_serial[XT_REFS_LISTS];
	uint32_t len;       /* committed payload bytes */
	/* committed events: what is lost if the batch is never written (read by the advancer) */
	_Atomic uint32_t events;
	uint8_t data[XT_MAX_BATCH_SIZE];
};

#define XT_UNW_CACHE_BITS 10

/* The DWARF walk's frame rules by return address, valid for code epoch epoch, and the memo of
 * its last walk: its steps outermost first, s[base] the last and s[top] the first, with room
 * above for the next walk's new steps (see unwind.c). A thread borrows one for each walk from
 * a pool until it is busy, then keeps one (writer.c): threads that record a few stacks share a
 * few caches. */
struct xt_unw_cache {
	unsigned epoch;
	struct { uint64_t key, rule; } e[1u << XT_UNW_CACHE_BITS];
	struct xt_unw_memo {
		/* s before the counters: -fsanitize=bounds checks indices into s, which it does not
		 * in a struct's last array */
		struct xt_unw_step {
			uint64_t ip, sp, bp; /* the state at this frame */
			uint64_t hash; /* polynomial of the return addresses outward (unwind.h) */
			/* where unwinding read, from sp: the return address, and RBP (plus one; 0: not
			 * read) */
			uint32_t ra_off, bp_off;
		} s[2 * (XT_MAX_FRAMES + 16)];
		unsigned base, top;
		unsigned end;   /* how the walk ended at s[base]: XT_WALK_* (unwind.h) */
		unsigned match; /* a walk may take its steps (not through a signal frame) */
	} memo;
};

/* AllocFree types seen lately: the exact request, its generation and ID (alloctypes.c). */
struct xt_type_memo {
	uint64_t elem_size, count, align, gen_api, id; /* gen_api: generation << 8 | API */
};
/* The latest AllocFree event of each list at an address hashing to this slot (xt_recent_slot). */
struct xt_recent {
	uint64_t addr, serial;
};

/* A thread starts with small memos of types and recent addresses, in the first page of its
 * state, and batches of XT_BATCH_SMALL bytes; at the first batch it begins after recording
 * XT_THREAD_BUSY AllocFree events, it moves to the full-size ones: a short thread touches a
 * few pages, whatever addresses and types it uses. */
#define XT_RECENT_SMALL 64
#define XT_TYPES_SMALL 16
#define XT_TYPES_BIG 1024
#define XT_THREAD_BUSY 512
#define XT_BATCH_SMALL 4096

/* Per-thread state shared with the advancer, in the registry list. Slots are never unmapped:
 * a slot whose thread is gone and whose buffers are written goes on the free list
 * (writer.c) for the next new thread. One mapping each, laid out so that what a short
 * thread uses lies in its first pages and the big tables are touched only when needed. */
struct xt_thread {
	/* written by the thread on every event */
	_Atomic uint64_t seq;   /* odd while the thread is inside a section */
	_Atomic uint64_t gen;   /* generation the current section writes */
	struct xt_recent (*recent)[XT_REFS_LISTS]; /* recent_small or recent_big */
	unsigned recent_shift;  /* 64 - log2 of recent's length */
	unsigned types_mask;    /* types' length - 1 */
	struct xt_type_memo *types; /* types_small or types_big */
	struct xt_buf *buf[2];  /* the batches by generation parity: &buf0, &buf1 */
	uint32_t batch_room;    /* a batch with more bytes than this is written out */
	/* The AllocFree events this thread encoded, by list (allocfree.h): counted (ref_serial,
	 * never reset: an event's serial is the count with it, from 1, so a slot never written is in
	 * no batch), and the latest remembered by address, direct-mapped on a hash of it, so a later
	 * event of the batch at that address names it instead of coding the address
	 * (xt_emit_by_ref). The lists share a slot: an event's lookup in one list and its entry in
	 * the other touch one cache line. Only encoders touch them, while a signal handler's events
	 * wait. */
	uint64_t ref_serial[XT_REFS_LISTS];
	unsigned pend_head, pend_tail;
	/* per-thread caches of the stack and type tables, valid for generation cache_gen */
	uint64_t cache_gen;
	uint64_t stack_lo, stack_hi; /* this thread's stack: the walks read no frame outside it */
	struct xt_unw_cache *unw; /* during a walk, or the thread's own once busy (writer.c) */
	bool unw_owned;

	/* the registry's, on a line of its own: registration and the advancer write it */
	_Atomic int state __attribute__((aligned(64))); /* XT_THREAD_FREE / LIVE / EXITED */
	uint64_t tid;
	struct xt_thread *next; /* registry list, append-only */
	_Atomic(void *) free_next; /* free or exited list (writer.c) */
	uint64_t reg_serial;    /* which registration of the slot: whose walks a cache holds */
	_Atomic uint64_t lost;  /* events this thread could not record, ever */
	uint64_t lost_reported; /* the advancer's share of lost already written */
	/* a generation whose section the advancer stopped waiting for, and the events of it
	 * counted lost then: the rest of that batch is counted when the thread drops it */
	_Atomic uint64_t abandoned_gen;
	uint64_t abandoned_seq; /* seq of the section given up on */
	uint32_t abandoned_events;
	uint64_t busy_from;     /* ref_serial[0] + [1] when the thread took the slot */

	uint64_t stack_cache_hash[32] __attribute__((aligned(64))), stack_cache_id[32];
	struct xt_type_memo types_small[XT_TYPES_SMALL];
	struct xt_recent recent_small[XT_RECENT_SMALL][XT_REFS_LISTS] __attribute__((aligned(64)));
	/* Batches, indexed by gen % 2: the first begins in the first page, which is all of it a
	 * thread with few events in a generation touches. */
	struct xt_buf buf0;
	/* Events of signal handlers that interrupted this thread's own encoding: they wait here
	 * and are written right after the interrupted event (a ring: tail is the handler's, head
	 * the thread's). */
	struct xt_pending {
		uint8_t type;
		uint64_t ts;
		uint64_t args[XT_MAX_ARGS];
	} pending[32];
	/* from here on, pages a busy thread touches: the full-size memos, the other batch */
	struct xt_type_memo types_big[XT_TYPES_BIG] __attribute__((aligned(4096)));
	struct xt_recent recent_big[XT_ALLOCREF_WINDOW][XT_REFS_LISTS] __attribute__((aligned(64)));
	struct xt_buf buf1;
};

enum { XT_THREAD_FREE = 0, XT_THREAD_LIVE = 1, XT_THREAD_EXITED = 2 };

/* The registry of every thread's state (writer.c), and events lost before a thread had one. */
extern _Atomic(struct xt_thread *) xt_threads;
extern _Atomic uint64_t xt_lost_unthreaded;

/* Thread-local flags, initial-exec TLS (no allocation on first access). */
struct xt_tl {
	struct xt_thread *t; /* registered state, NULL until this thread's first event */
	unsigned depth;      /* section nesting (a signal handler inside a section) */
	/* What a signal handler that interrupts this thread finds it doing, and does about it: */
	unsigned sect;       /* opening or closing a section: the handler's events are dropped */
	unsigned enc;        /* encoding into the buffer: the handler's events wait in pending */
	unsigned tabling;    /* using the stack and type memos: the handler goes past them */
	unsigned in_real;    /* inside a real allocator call: nested calls are libc's own */
	unsigned internal;   /* inside the shim's own code: its allocations are not the program's */
	unsigned unwinding;  /* inside the unwinder: a nested event records only its caller */
	unsigned mask_bound; /* a glibc thread whose signal mask libunwind would break */
	unsigned exiting;    /* the thread ran its exit destructor */
	/* a signal handler runs over a real allocator call or the shim's own code, whose locks
	 * may be held: nothing may allocate (registration leaves what allocates for later) */
	unsigned no_alloc;
	unsigned registering; /* inside xt_thread_register */
	unsigned setup_pending; /* registered; stack bounds and exit hook still to do */
	/* the calling frame when xt_enter opened the section (or registration began): a later
	 * call from a frame at or above it on the thread's stack means the frame that left depth,
	 * sect or enc up is gone (a handler's siglongjmp left it), see xt_enter */
	uintptr_t sect_fp, reg_fp;
};
extern XT_TLS struct xt_tl xt_tl;

/* --- config.c: the XTRACE_* environment, read once at init ------------------------------- */
enum xt_unwind_mode { XT_UNWIND_DWARF, XT_UNWIND_LIBUNWIND, XT_UNWIND_FP, XT_UNWIND_NONE };
struct xt_config {
	char out_pattern[1024]; /* XTRACE_OUT, default "xtrace.%e.%p.xt" */
	char out_dir[1024];     /* XTRACE_DIR (set by xtrace run): "" or the run directory */
	unsigned stack_depth;   /* XTRACE_STACK_DEPTH, 1..128, default 64 */
	enum xt_unwind_mode unwind; /* XTRACE_UNWIND */
	unsigned gen_ms;        /* XTRACE_GEN_MS, default 1000 */
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
/* xt_clone_shares_memory: this process, not the traced one, shares the traced one's memory
 * (false when the kernel cannot tell copies apart: such a process then never writes). */
XT_HIDDEN bool xt_clone_shares_memory(void);
/* xt_clone_adopt gives an unadopted copy a trace of its own, as a fork child gets one
 * (lifecycle.c; cold: the copy's first event, exit or exec). */
XT_HIDDEN void xt_clone_adopt(void);

/* --- writer.c: sections and encoding (hot path) ------------------------------------------ */
/* The trace clock (clock.c): raw TSC ticks where the TSC is invariant, else CLOCK_MONOTONIC
 * nanoseconds. Chosen once at init, before any thread records, and inherited across fork. */
struct xt_clock {
	int use_tsc;
};
extern struct xt_clock xt_clock;
XT_HIDDEN void xt_clock_init(void);
/* A trace-clock reading and CLOCK_MONOTONIC ns taken together: a generation's anchor. */
struct xt_clock_pair {
	uint64_t ticks, ns;
};
XT_HIDDEN struct xt_clock_pair xt_clock_sample(void);
/* xt_clock_sample_after samples at least the minimum calibration span after from. */
XT_HIDDEN struct xt_clock_pair xt_clock_sample_after(const struct xt_clock_pair *from);
/* xt_clock_rate is the trace clock's ticks per second between two samples. */
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
		return __builtin_ia32_rdtsc();
	return xt_mono_ns();
}

/* xt_enter opens a recording section on this thread, or returns NULL when this call must not
 * be recorded (not tracing, the shim's own allocation, libc calling itself). Out of line: its
 * atomics must be in writer.c, which ThreadSanitizer builds instrument (malloc.c they do not). */
XT_HIDDEN struct xt_thread *xt_enter(void);
XT_HIDDEN void xt_leave(struct xt_thread *t);
/* Cold paths of the inline event reservation below (writer.c). */
__attribute__((cold)) XT_HIDDEN void xt_new_batch(struct xt_thread *t, struct xt_buf *b,
						   uint64_t g, uint64_t ts);
/* xt_thread_register creates this thread's state (cold: first event of a thread), from a slot
 * of a thread that is gone when there is one. */
XT_HIDDEN struct xt_thread *xt_thread_register(uintptr_t caller_frame);
/* For the advancer: the slots whose threads ran their exit destructor since the last call
 * (linked by free_next), and giving a slot whose thread is gone and whose buffers are written
 * back for reuse. */
XT_HIDDEN struct xt_thread *xt_threads_take_exited(void);
XT_HIDDEN void xt_thread_recycle(struct xt_thread *t);
/* In a fork child: this thread's slot alone, emptied. */
XT_HIDDEN void xt_writer_fork_child(void);
/* xt_unw_borrow points t->unw at a cache for one walk (false if none can be had);
 * xt_unw_return ends the walk: a busy thread keeps the cache. */
XT_HIDDEN bool xt_unw_borrow(struct xt_thread *t);
XT_HIDDEN void xt_unw_return(struct xt_thread *t);
XT_HIDDEN void xt_writer_init(void);
/* The asymmetric fence: registered at init (again in a fork child); the advancer calls
 * xt_writer_fence_all between bumping xt_gen and reading the threads' seqs. */
XT_HIDDEN void xt_writer_register_fence(void);
XT_HIDDEN void xt_writer_fence_all(void);

/* Signal handlers wrapped by the shim bracket the program's handler with these, so the
 * handler's own calls are recorded even when it interrupted a real allocator call. */
struct xt_signal_save { unsigned in_real, internal, no_alloc; };
XT_HIDDEN struct xt_signal_save xt_signal_enter(void);
XT_HIDDEN void xt_signal_leave(struct xt_signal_save s);

/* xt_event_begin reserves room for one event in the section's buffer and returns where to
 * write, or NULL when a signal handler interrupted this thread's own encoding: the event is
 * then handed to xt_event_defer. xt_event_end commits it, then writes what handlers left. */
XT_HIDDEN bool xt_event_defer(struct xt_thread *t, uint8_t type, uint64_t ts, const uint64_t *args);
XT_HIDDEN void xt_event_drain(struct xt_thread *t);

/* xt_reserve_held writes an event's type and dt into the section's buffer, once xt_tl.enc is
 * up (a handler's events then wait), and returns where its arguments go. */
static inline uint8_t *xt_reserve_held(struct xt_thread *t, uint8_t type, uint64_t ts)
{
	uint64_t g = atomic_load_explicit(&t->gen, memory_order_relaxed);
	struct xt_buf *b = t->buf[g & 1];
	if (xt_unlikely(b->gen != g || b->len > t->batch_room))
		xt_new_batch(t, b, g, ts);
	if (ts < b->last_ts)
		ts = b->last_ts;
	uint8_t *p = b->data + b->len;
	*p++ = type;
	p = xt_put_uvarint(p, ts - b->last_ts);
	b->last_ts = ts;
	return p;
}

static inline uint8_t *xt_event_begin(struct xt_thread *t, uint8_t type, uint64_t ts)
{
	/* Handlers' events from before this one come first, in time order. */
	if (xt_unlikely(t->pend_head != t->pend_tail) && !xt_tl.enc)
		xt_event_drain(t);
	if (xt_unlikely(xt_tl.enc))
		return NULL; /* a signal handler interrupted this thread's own encoding */
	xt_tl.enc++;
	atomic_signal_fence(memory_order_seq_cst); /* a handler sees enc before any buffer change */
	return xt_reserve_held(t, type, ts);
}
static inline void xt_event_commit(struct xt_thread *t, uint8_t *end)
{
	struct xt_buf *b = t->buf[atomic_load_explicit(&t->gen, memory_order_relaxed) & 1];
	b->len = (uint32_t)(end - b->data);
	atomic_store_explicit(&b->events, atomic_load_explicit(&b->events, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst); /* the event is whole before a handler may write */
	xt_tl.enc--;
}
static inline void xt_event_end(struct xt_thread *t, uint8_t *end)
{
	xt_event_commit(t, end);
	atomic_signal_fence(memory_order_seq_cst);
	if (xt_unlikely(t->pend_head != t->pend_tail))
		xt_event_drain(t);
}

#define XT_ENC_PARAM(n, k) , uint64_t n
#define XT_ENC_value(p, b, v) p = xt_put_uvarint(p, v)
#define XT_ENC_string XT_ENC_value
#define XT_ENC_stack XT_ENC_value
#define XT_ENC_type XT_ENC_value
#define XT_ENC_ns XT_ENC_value
#define XT_ENC_timer XT_ENC_value
#define XT_ENC_addr(p, b, v)                                              \
	do {                                                                  \
		p = xt_put_uvarint(p, xt_zigzag((int64_t)((v) - (b)->last_addr))); \
		(b)->last_addr = (v);                                             \
	} while (0)
#define XT_ENC_ARG(n, k) XT_ENC_##k(p, b, n);
#define XT_ENC_LIST(n, k) n,

/* xt_recent_slot is addr's slot in recent[], one entry per list: the top bits of a
 * multiplicative hash, which mixes the middle bits where nearby heap addresses differ. */
_Static_assert((XT_ALLOCREF_WINDOW & (XT_ALLOCREF_WINDOW - 1)) == 0 &&
		       (XT_RECENT_SMALL & (XT_RECENT_SMALL - 1)) == 0,
	       "recent[] is indexed by the top bits of a hash");
static inline struct xt_recent *xt_recent_slot(struct xt_thread *t, uint64_t addr)
{
	return t->recent[(addr * 0x9e3779b97f4a7c15ull) >> t->recent_shift];
}

/* xt_ref_note makes the event just encoded at addr (slot: addr's) the latest of list. */
static inline void xt_ref_note(struct xt_thread *t, struct xt_recent *slot, int list, uint64_t addr)
{
	slot[list] = (struct xt_recent){addr, ++t->ref_serial[list]};
}

/* xt_ref_back returns how many events of list lie in batch b after the latest one at addr (slot:
 * addr's), or XT_ALLOCREF_WINDOW when the table knows none among the batch's last
 * XT_ALLOCREF_WINDOW. */
static inline uint64_t xt_ref_back(const struct xt_thread *t, const struct xt_buf *b,
				   const struct xt_recent *slot, int list, uint64_t addr)
{
	const struct xt_recent *e = &slot[list];
	uint64_t back = t->ref_serial[list] - e->serial;
	return e->addr == addr && e->serial > b->base_serial[list] && back < XT_ALLOCREF_WINDOW
		       ? back
		       : XT_ALLOCREF_WINDOW;
}

/* xt_event_encoded follows the encoding of every event into its batch (arg0: its first argument,
 * 0 if none; type: the form by address): an AllocFree event joins its list, where a later event
 * may name it. A failed ObjectAlloc counts too, as it does for the reader; it is remembered at
 * address 0, which no free looks up (and no free is at, so no allocation names one there). */
static inline void xt_event_encoded(struct xt_thread *t, uint8_t type, uint64_t arg0)
{
	int list = xt_allocref_list(type);
	if (list >= 0)
		xt_ref_note(t, xt_recent_slot(t, arg0), list, arg0);
}

/* xt_emit_<Name>(t, ts, args...) for every event of events.def; false if the event was lost.
 * AllocFree's events go through xt_emit_alloc and xt_emit_free: only they know when the
 * reference forms may be used. */
#define XT_EXPERIMENT(ident, id, name, version)
#define XT_EVENT(name, id, exp, start, form, nargs, ...)                                               \
	static inline bool xt_emit_##name(struct xt_thread *t, uint64_t ts                     \
						  XT_PAIRS(nargs, XT_ENC_PARAM, ##__VA_ARGS__))         \
	{                                                                                  \
		uint8_t *p = xt_event_begin(t, id, ts);                                        \
		if (!p) {                                                                      \
			const uint64_t a_[XT_MAX_ARGS + 1] = {XT_PAIRS(nargs, XT_ENC_LIST, ##__VA_ARGS__) 0}; \
			return xt_event_defer(t, id, ts, a_);                                      \
		}                                                                              \
		struct xt_buf *b __attribute__((unused)) =                                     \
			t->buf[atomic_load_explicit(&t->gen, memory_order_relaxed) & 1];          \
		XT_PAIRS(nargs, XT_ENC_ARG, ##__VA_ARGS__)                                     \
		xt_event_encoded(t, id,                                                        \
				 (const uint64_t[]){XT_PAIRS(nargs, XT_ENC_LIST, ##__VA_ARGS__) 0}[0]); \
		xt_event_end(t, p);                                                            \
		return true;                                                                   \
	}
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT

/* xt_emit_by_ref records the AllocFree event plain, whose first argument is the address args[0]
 * and whose nargs - 1 others are plain numbers, or, when args[0] is that of one of the batch's
 * last XT_ALLOCREF_WINDOW events of the list ref names, its reference form ref naming that one.
 * The form is chosen once the event's room is reserved: from then on a signal handler's events
 * wait, so the batch and its lists cannot change under the lookup. A handler's event that has to
 * wait is written later in the plain form (xt_event_drain). Either form joins plain's list.
 * Always inlined: with each caller's constant types and nargs the list choice and the argument
 * loop fold away. */
static inline __attribute__((always_inline)) bool
xt_emit_by_ref(struct xt_thread *t, uint64_t ts, uint8_t plain, uint8_t ref,
	       const uint64_t args[XT_MAX_ARGS], unsigned nargs)
{
	uint8_t *p = xt_event_begin(t, plain, ts);
	if (!p) {
		/* a copy made here only: the hot path keeps the arguments in registers */
		uint64_t a[XT_MAX_ARGS] = {0};
		for (unsigned i = 0; i < nargs; i++)
			a[i] = args[i];
		return xt_event_defer(t, plain, ts, a);
	}
	struct xt_buf *b = t->buf[atomic_load_explicit(&t->gen, memory_order_relaxed) & 1];
	struct xt_recent *slot = xt_recent_slot(t, args[0]);
	uint64_t back = xt_ref_back(t, b, slot, xt_allocref_names(ref), args[0]);
	if (back < XT_ALLOCREF_WINDOW) {
		b->data[b->len] = ref; /* the type byte reserve wrote */
		p = xt_put_uvarint(p, back);
		b->last_addr = args[0];
	} else {
		XT_ENC_addr(p, b, args[0]);
	}
	for (unsigned i = 1; i < nargs; i++)
		p = xt_put_uvarint(p, args[i]);
	xt_ref_note(t, slot, xt_allocref_list(plain), args[0]);
	xt_event_end(t, p);
	return true;
}

/* xt_emit_free records the free of addr: plain is ObjectFree or ObjectReallocFree, ref its
 * Recent form, which names an ObjectAlloc of the batch. */
static inline bool xt_emit_free(struct xt_thread *t, uint64_t ts, uint64_t addr, uint8_t plain,
				uint8_t ref)
{
	return xt_emit_by_ref(t, ts, plain, ref, (const uint64_t[XT_MAX_ARGS]){addr}, 1);
}

/* xt_emit_alloc records an ObjectAlloc, as ObjectAllocReused when addr is that of a free of the
 * batch (realloc keeping its address names the ObjectReallocFree just before). */
static inline bool xt_emit_alloc(struct xt_thread *t, uint64_t ts, uint64_t addr, uint64_t type,
				 uint64_t stack)
{
	return xt_emit_by_ref(t, ts, XT_EV_ObjectAlloc, XT_EV_ObjectAllocReused,
			      (const uint64_t[XT_MAX_ARGS]){addr, type, stack}, 3);
}

/* --- stacks.c: unwinding and the stack table ----------------------------------------------- */
/* xt_stack_here captures the current stack, starting at the frame that returns to caller_ra
 * (the interposed function's return address), interns it in the generation's stack table and
 * returns its ID (0 when it cannot). */
XT_HIDDEN uint64_t xt_stack_here(struct xt_thread *t, void *caller_ra);

/* --- tables.c: per-generation string and module tables ------------------------------------ */
XT_HIDDEN void xt_modules_note(void); /* before dlclose: remember what is mapped */

/* --- allocfree types (malloc.c) ----------------------------------------------------------- */
XT_HIDDEN uint64_t xt_alloc_type(struct xt_thread *t, unsigned api, uint64_t elem_size,
				 uint64_t count, uint64_t align);

/* --- experimental batches: written at each advance for experiments that define them ------ */
struct xt_expw; /* an experimental-batch writer for one experiment and generation */
/* xt_expw_put appends bytes; a batch that would exceed the limit is closed and a new one begun
 * with the same first (subtype) byte. */
XT_HIDDEN void xt_expw_put(struct xt_expw *w, const void *bytes, size_t n);
XT_HIDDEN void xt_expw_uvarint(struct xt_expw *w, uint64_t v);
XT_HIDDEN void xt_expw_subtype(struct xt_expw *w, uint8_t subtype);
XT_HIDDEN uint64_t xt_expw_gen(const struct xt_expw *w);

#define XT_EXPERIMENT(ident, id, name, version) \
	extern void xt_exp_batches_##name(struct xt_expw *w) __attribute__((weak, visibility("hidden")));
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT

#endif
