/* writer.h: recording sections and event encoding (writer.c), and the encoders generated from
 * experiments/events.def. Recording an event, from any interposed entry point:
 *   struct xt_thread *t = xt_enter();      // NULL: not tracing now, pass through
 *   ... call the real function ...
 *   xt_emit_Foo(t, xt_now(), args...);     // generated from experiments/events.def
 *   xt_leave(t);
 * Between xt_enter and xt_leave the thread's generation cannot advance. The hot path never
 * locks, never calls malloc and makes no syscall (a full batch is handed to the writer, which
 * costs one lock per 64 KiB). */
#ifndef XT_WRITER_H
#define XT_WRITER_H

#include "spec.h"
#include "thread.h"
#include "varint.h"

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
/* xt_give_up_section closes the section a fatal signal interrupted on this thread, whose code
 * never resumes: an advance waiting for it writes its complete events, where it would give
 * them up (lost) while this thread waits for that advance to end the trace. */
XT_HIDDEN void xt_give_up_section(void);

/* xt_event_begin reserves room for one event in the section's buffer and returns where to
 * write, or NULL when a signal handler interrupted this thread's own encoding: the event is
 * then handed to xt_event_defer. xt_event_end commits it, then writes what handlers left. */
XT_HIDDEN bool xt_event_defer(struct xt_thread *t, uint8_t type, uint64_t ts, const uint64_t *args);
XT_HIDDEN void xt_event_drain(struct xt_thread *t);

/* xt_emit_spec records event type, whose spec is s, with arguments args (s->nargs of them):
 * the encoder of events the shim learns while it runs. False if the event was lost. */
XT_HIDDEN bool xt_emit_spec(struct xt_thread *t, uint8_t type, uint64_t ts,
			    const struct xt_event_spec *s, const uint64_t args[XT_MAX_ARGS]);

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

/* xt_emit_<Name>(t, ts, args...) for every event of events.def; false if the event was lost.
 * AllocFree's events go through xt_emit_alloc and xt_emit_free (allocemit.h) instead: only they
 * keep the lists a later event of the batch names by reference. */
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
		xt_event_end(t, p);                                                            \
		return true;                                                                   \
	}
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT

#endif
