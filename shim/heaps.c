/* heaps.c: the Heaps experiment: a program's own allocators (pools, arenas, slabs), named and
 * annotated through include/xtrace.h (xtrace_heap, xtrace_heap_alloc, xtrace_heap_free), and
 * the heap table every generation carries.
 *
 * Recording is the hot path, as malloc's is: a section of the calling thread, no lock. Naming a
 * heap is cold: the table is static (no malloc) and lock-free, slots claimed in order by
 * compare-and-swap, so the same name always finds the same slot and any thread (a signal
 * handler too) may name one. It holds XT_HEAPS_MAX heaps for the whole process (a fork child
 * keeps its parent's): past that, xtrace_heap says so once on stderr and returns 0, and that
 * heap's blocks are not recorded. */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "experiment.h"
#include "heaps.h"
#include "stacks.h"
#include "writer.h"

/* A slot is claimed (NAMING), then NAMED; ABANDONED is one a fork child found being named by
 * another thread of its parent, which the child does not have. */
enum { HEAP_FREE, HEAP_NAMING, HEAP_NAMED, HEAP_ABANDONED };

static struct heap {
	_Atomic int state;
	uint32_t len;
	char name[XT_HEAPS_NAME_MAX];
} heaps[XT_HEAPS_MAX];

/* named waits for another thread to finish naming heap h, a matter of a copy; true once it
 * has. The wait is bounded: a handler that interrupted this thread's own naming, or a fork
 * child whose parent was naming on another thread (until it starts tracing, below), goes past
 * the slot (the name may then get a second ID). */
static bool named(struct heap *h)
{
	for (int i = 0; i < 1000; i++) {
		if (atomic_load_explicit(&h->state, memory_order_acquire) == HEAP_NAMED)
			return true;
		sched_yield();
	}
	return false;
}

XT_EXPORT unsigned xtrace_heap_create(const char *name)
{
	if (!name || !*name)
		return 0;
	uint32_t len = (uint32_t)strnlen(name, XT_HEAPS_NAME_MAX);
	for (unsigned i = 0; i < XT_HEAPS_MAX; i++) {
		struct heap *h = &heaps[i];
		int s = atomic_load_explicit(&h->state, memory_order_acquire);
		if (s == HEAP_FREE) {
			if (atomic_compare_exchange_strong(&h->state, &s, HEAP_NAMING)) {
				memcpy(h->name, name, len);
				h->len = len;
				atomic_store_explicit(&h->state, HEAP_NAMED, memory_order_release);
				return i + 1;
			}
		}
		if ((s == HEAP_NAMED || (s == HEAP_NAMING && named(h))) && h->len == len &&
		    !memcmp(h->name, name, len))
			return i + 1;
	}
	static _Atomic int said;
	if (!atomic_exchange(&said, 1))
		xt_say("more than %d heaps named; heap \"%.*s\" and later ones are not recorded",
		       XT_HEAPS_MAX, (int)len, name);
	return 0;
}

/* known: h is an ID xtrace_heap gave. */
static bool known(unsigned h)
{
	return h - 1 < XT_HEAPS_MAX &&
	       atomic_load_explicit(&heaps[h - 1].state, memory_order_relaxed) == HEAP_NAMED;
}

/* record records heap h's allocation of the size bytes at ptr, with the stack from where the
 * program called (ra), or, ra NULL, its free of ptr. */
static inline __attribute__((always_inline)) void record(unsigned h, const void *ptr, size_t size,
							 void *ra)
{
	if (!known(h))
		return;
	struct xt_thread *t = xt_enter();
	if (!t)
		return;
	int e = errno;
	uint64_t ts = xt_now();
	if (ra)
		xt_emit_HeapAlloc(t, ts, h, (uintptr_t)ptr, size, xt_stack_here(t, ra));
	else
		xt_emit_HeapFree(t, ts, h, (uintptr_t)ptr);
	xt_leave(t);
	errno = e;
}

XT_EXPORT void xtrace_heap_record_alloc(unsigned h, const void *ptr, size_t size)
{
	record(h, ptr, size, XT_CALLER);
}

XT_EXPORT void xtrace_heap_record_free(unsigned h, const void *ptr)
{
	record(h, ptr, 0, NULL);
}

/* The heap table: every heap named so far, whatever generation named it. A heap a section of
 * this generation recorded was named before that section ended, so before the advance that
 * writes the table. */
static void batches(struct xt_expw *w)
{
	xt_expw_subtype(w, XT_HEAPS_BATCH_TABLE);
	for (unsigned i = 0; i < XT_HEAPS_MAX; i++) {
		struct heap *h = &heaps[i];
		int s = atomic_load_explicit(&h->state, memory_order_acquire);
		if (s == HEAP_FREE)
			break; /* slots are claimed in order */
		if (s != HEAP_NAMED)
			continue;
		uint8_t e[2 * XT_MAX_VARINT + XT_HEAPS_NAME_MAX], *p = e;
		p = xt_put_uvarint(p, i + 1);
		p = xt_put_uvarint(p, h->len);
		memcpy(p, h->name, h->len);
		xt_expw_put(w, e, (size_t)(p + h->len - e));
	}
}

/* A fork child's heaps keep their IDs (the program holds them); one its parent was naming on
 * another thread will never be named. Only the slots claimed are looked at, and only one being
 * named is written: a compare-and-swap writes its page even when it fails, and every page of
 * the table written is a page fault of every fork child. */
static void fork_child(void)
{
	for (unsigned i = 0; i < XT_HEAPS_MAX; i++) {
		int s = atomic_load_explicit(&heaps[i].state, memory_order_relaxed);
		if (s == HEAP_FREE)
			break; /* slots are claimed in order */
		if (s == HEAP_NAMING)
			atomic_compare_exchange_strong(&heaps[i].state, &s, HEAP_ABANDONED);
	}
}

const struct xt_experiment_hooks xt_hooks_Heaps = {
	.fork_child = fork_child,
	.batches = batches,
};
