/* thread.h: per-thread state: the registry's slot of each thread (its batches, memos and
 * counters, shared with the advancer) and the thread-local flags that say what the thread is
 * doing inside the shim. */
#ifndef XT_THREAD_H
#define XT_THREAD_H

#include "allocfree.h"
#include "format.h"
#include "shim.h"

/* XT_REAL makes a call to a real function with the in_real guard up: what libc calls through
 * the PLT meanwhile is its own doing, not the program's, and is not recorded again. */
#define XT_REAL(call)                            \
	({                                           \
		xt_tl.in_real++;                         \
		__typeof__(call) xt_r_ = (call);          \
		xt_tl.in_real--;                         \
		xt_r_;                                   \
	})

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

/* An interpreter's eval loop alone has thousands of return addresses, each rule a run of the
 * loop's long CFA program: 1024 rules missed 65000 times in a python3 run, 4096 4500 times. */
#define XT_UNW_CACHE_BITS 12
/* Rules are looked for among the first 2^XT_UNW_CACHE_SMALL_BITS entries until the cache has
 * missed twice as many times (unwind.c), for the reason the kids memo below starts small. */
#define XT_UNW_CACHE_SMALL_BITS 7
#define XT_UNW_KIDS 4096
/* A cache's kids are looked for among its first XT_UNW_KIDS_SMALL until it has missed twice as
 * many times (stacks.c): a process's first stacks touch a page of the table, not a page a frame
 * (a page fault each, in every short process), and a busy walker gets the whole table. */
#define XT_UNW_KIDS_SMALL 128

/* xt_small_first_bits is how many bits of a hash index a table of 2^bits slots that starts with
 * its first 2^small_bits, and grows to all once it has missed twice that many times; the caller
 * counts a miss while the table is small. Entries are found by their keys wherever they lie, so
 * growing needs no reset. */
static inline unsigned xt_small_first_bits(uint32_t misses, unsigned small_bits, unsigned bits)
{
	return misses < 2u << small_bits ? small_bits : bits;
}

/* The DWARF walk's frame rules by return address, each valid while the code epoch is the one
 * it was cached in (part of its key, unwind.c; a cache whose epoch is of another block of
 * XT_UNW_EPOCHS clears them all), and the memo of its last walk: its steps outermost first,
 * s[base] the last and s[top] the first, with room above for the next walk's new steps (see
 * unwind.c). A thread borrows one for each walk from a pool until it is busy, then keeps one
 * (writer.c): threads that record a few stacks share a few caches. */
struct xt_unw_cache {
	unsigned epoch;
	uint32_t rule_misses; /* up to 2 << XT_UNW_CACHE_SMALL_BITS: the small table's, then all */
	struct { uint64_t key, rule; } e[1u << XT_UNW_CACHE_BITS];
	struct xt_unw_memo {
		/* s before the counters: -fsanitize=bounds checks indices into s, which it does not
		 * in a struct's last array */
		struct xt_unw_step {
			uint64_t ip, sp, bp; /* the state at this frame */
			/* the stack tree's node of the return addresses outward, to the memo's
			 * node_base (stacks.c): valid from node_base up to node_top */
			uint64_t node;
			/* where unwinding read, from sp: the return address, and RBP (plus one; 0: not
			 * read) */
			uint32_t ra_off, bp_off;
		} s[2 * (XT_MAX_FRAMES + 16)];
		unsigned base, top;
		unsigned end;   /* how the walk ended at s[base]: XT_WALK_* (unwind.h) */
		unsigned match; /* a walk may take its steps (not through a signal frame) */
		/* the steps s[node_base..node_top] hold nodes of the tree of serial node_serial
		 * (stacktree.h), s[node_base]'s the root; a walk keeps them where it keeps the steps
		 * they name (unwind.c), so a stack costs the nodes of the frames that changed */
		unsigned nodes; /* 0: none valid */
		unsigned node_base, node_top;
		uint64_t node_serial;
	} memo;
	/* nodes of the stack tree these walks looked up lately, by a hash of parent and pc
	 * (stacks.c): a frame that changed back costs no lookup in the tree. Enough of them for
	 * an interpreter's working set of frames (a kid's miss is a probe of the shared tree, cache
	 * misses); an entry counts while its epoch is kids_epoch, the tree of serial kids_serial
	 * (a new tree bumps it instead of clearing the table: only the entries used are touched) */
	struct { uint64_t parent, pc; uint32_t node, epoch; } kids[XT_UNW_KIDS];
	uint64_t kids_serial;
	uint32_t kids_epoch;
	uint32_t kids_misses; /* up to 2 * XT_UNW_KIDS_SMALL: the small table's, then the whole */
};

/* AllocFree types seen lately: the exact request, its generation and ID (alloctypes.c). */
struct xt_type_memo {
	uint64_t elem_size, count, align, gen_api, id; /* gen_api: generation << 8 | API */
};
/* A busy thread's types of plain malloc calls (one object, no alignment) by their exact size,
 * below XT_TYPES_BY_SIZE bytes: the ID and the low bits of its generation. Most calls are
 * these; looked up without a hash, they never evict one another, nor the memo's other types. */
#define XT_TYPES_BY_SIZE 2048
struct xt_size_type {
	uint32_t gen, id;
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
	/* Per batch (by the generation's parity, as buf): a generation whose section the
	 * advancer stopped waiting for, and the events of it counted lost then; the rest of that
	 * batch is counted when the thread drops it. Per batch, since the thread may be given up
	 * on again in the next generation before it drops this one. */
	_Atomic uint64_t abandoned_gen[2];
	uint32_t abandoned_events[2];
	/* the thread's own: a generation given up on in which it began its batch again (its
	 * section filled the batch after the advancer counted it), none of whose events since
	 * are counted */
	uint64_t restarted_gen[2];
	uint64_t abandoned_seq; /* seq of the last section given up on */
	/* the thread is handing a full batch over (writer.c flush_full): if it sleeps, it sleeps
	 * on the stage's lock, whose holder is only copying, so the advancer waits for it as for
	 * a thread waiting for a CPU */
	_Atomic int handing_over;
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
	struct xt_size_type malloc_types[XT_TYPES_BY_SIZE]; /* used with types_big */
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
	 * may be held, or the thread is inside pthread_getattr_np (writer.c): nothing may
	 * allocate (registration leaves what allocates for later) */
	unsigned no_alloc;
	unsigned registering; /* inside xt_thread_register */
	unsigned setup_pending; /* registered; stack bounds and exit hook still to do */
	/* the calling frame when xt_enter opened the section (or registration began): a later
	 * call from a frame at or above it on the thread's stack means the frame that left depth,
	 * sect or enc up is gone (a handler's siglongjmp left it), see xt_enter */
	uintptr_t sect_fp, reg_fp;
};
extern XT_TLS struct xt_tl xt_tl;

/* xt_abandoned: the advancer gave up on t's section in generation g (and so on its batch). */
static inline bool xt_abandoned(const struct xt_thread *t, uint64_t g)
{
	return g && atomic_load_explicit(&t->abandoned_gen[g & 1], memory_order_acquire) == g;
}

/* xt_uncounted_lost: of the n events of t's batch of generation bgen, dropped unwritten, those
 * nobody counted lost yet. */
static inline uint64_t xt_uncounted_lost(const struct xt_thread *t, uint64_t bgen, uint32_t n)
{
	if (!xt_abandoned(t, bgen) || bgen == t->restarted_gen[bgen & 1])
		return n;
	return n > t->abandoned_events[bgen & 1] ? n - t->abandoned_events[bgen & 1] : 0;
}

#endif
