/* allocemit.h: AllocFree's emit path: the per-thread memo of recent addresses by which a free
 * names an earlier allocation of its batch (or an allocation an earlier free), and the emitters
 * that choose between an event's plain and reference forms. */
#ifndef XT_ALLOCEMIT_H
#define XT_ALLOCEMIT_H

#include "allocfree.h"
#include "writer.h"

/* xt_recent_slot is addr's slot in recent[], one entry per list: the top bits of a
 * multiplicative hash, which mixes the middle bits where nearby heap addresses differ. */
_Static_assert((XT_ALLOCREF_WINDOW & (XT_ALLOCREF_WINDOW - 1)) == 0 &&
		       (XT_RECENT_SMALL & (XT_RECENT_SMALL - 1)) == 0,
	       "recent[] is indexed by the top bits of a hash");
static inline struct xt_recent *xt_recent_slot(struct xt_thread *t, uint64_t addr)
{
	return t->recent[(addr * 0x9e3779b97f4a7c15ull) >> t->recent_shift];
}

/* xt_recent_prefetch starts loading addr's slot for thread t (NULL: none yet) before the event
 * is encoded: where the program's live set is large the slot is a cache miss, which then
 * overlaps the work before the encoding (the stack walk, for an allocation). */
static inline void xt_recent_prefetch(struct xt_thread *t, uint64_t addr)
{
	if (t)
		__builtin_prefetch(xt_recent_slot(t, addr), 1);
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

/* xt_event_encoded follows the encoding of a signal handler's event that waited
 * (xt_event_drain; arg0: its first argument, 0 if none; type: the form by address): an
 * AllocFree event joins its list, where a later event may name it. A failed ObjectAlloc counts too, as it does for the reader; it is remembered at
 * address 0, which no free looks up (and no free is at, so no allocation names one there). */
static inline void xt_event_encoded(struct xt_thread *t, uint8_t type, uint64_t arg0)
{
	int list = xt_allocref_list(type);
	if (list >= 0)
		xt_ref_note(t, xt_recent_slot(t, arg0), list, arg0);
}

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

#endif
