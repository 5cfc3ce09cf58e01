/* writer.c: per-thread state, recording sections and event encoding. This is the hot path:
 * no locks shared between threads, no malloc, no syscall per event. A thread's buffer that
 * fills up is written out through output.c (one lock and one write per 64 KiB batch).
 *
 * Invariants (after Go's runtime/trace.go):
 * - A buffer is written only by its thread inside a section, or by the advancer once every
 *   section of that buffer's generation has ended.
 * - A section reads xt_gen after making its seq odd; the advancer bumps xt_gen before
 *   reading seqs. So a section either sees the new generation or is waited for. */
#include <limits.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allocemit.h"
#include "experiment.h"
#include "generation.h"
#include "lifecycle.h"
#include "output.h"
#include "runtime.h"
#include "unwind.h"
#include "writer.h"

XT_TLS struct xt_tl xt_tl;
_Atomic(struct xt_thread *) xt_threads;
_Atomic uint64_t xt_lost_unthreaded;

static pthread_key_t exit_key;

/* With membarrier, the advancer's side of the seq/gen handshake carries the full fence, so a
 * section's entry needs only a compiler barrier (the asymmetric-fence pattern). */
int xt_asym_fence;

/* A lock-free LIFO of nodes that are never unmapped, linked through an _Atomic(void *) at
 * link_off. The top holds a node's address and, in its high 16 bits, a count of pops: a pop
 * that read a top which has since been popped and pushed back fails its exchange. */
#define LIFO_ADDR_MASK ((1ull << 48) - 1)

static _Atomic(void *) *lifo_link(void *node, size_t link_off)
{
	return (_Atomic(void *) *)((char *)node + link_off);
}

static void *lifo_pop(_Atomic uint64_t *top, size_t link_off)
{
	uint64_t v = atomic_load(top);
	for (;;) {
		void *node = (void *)(uintptr_t)(v & LIFO_ADDR_MASK);
		if (!node)
			return NULL;
		uint64_t next = (uint64_t)(uintptr_t)atomic_load_explicit(lifo_link(node, link_off),
									  memory_order_relaxed) |
				((v & ~LIFO_ADDR_MASK) + (LIFO_ADDR_MASK + 1));
		if (atomic_compare_exchange_weak(top, &v, next))
			return node;
	}
}

static void lifo_push(_Atomic uint64_t *top, void *node, size_t link_off)
{
	uint64_t v = atomic_load(top), mine;
	do {
		atomic_store_explicit(lifo_link(node, link_off), (void *)(uintptr_t)(v & LIFO_ADDR_MASK),
				      memory_order_relaxed);
		mine = (uint64_t)(uintptr_t)node | (v & ~LIFO_ADDR_MASK);
	} while (!atomic_compare_exchange_weak(top, &v, mine));
}

/* Slots whose threads are gone, for the next new thread: popped by registering threads,
 * pushed by the advancer. */
static _Atomic uint64_t free_slots;
/* Slots whose threads ran their exit destructor: pushed by those threads, taken whole by the
 * advancer (xt_threads_take_exited), which recycles each once its thread is gone. */
static _Atomic(struct xt_thread *) exited;
static _Atomic uint64_t registrations;

/* Unwinder caches: a thread that is not busy borrows one for each walk, so that threads which
 * record a few stacks each share as many caches as walk at once. */
struct unw_node {
	struct xt_unw_cache c; /* first: t->unw is the node */
	_Atomic(void *) next;
	const struct xt_thread *user; /* whose walks the memo holds: user's registration */
	uint64_t user_reg;
};
static _Atomic uint64_t unw_pool;

/* thread_busy: the thread has recorded enough to be given the full-size memos and a cache of
 * its own. */
static bool thread_busy(const struct xt_thread *t)
{
	return t->ref_serial[0] + t->ref_serial[1] - t->busy_from >= XT_THREAD_BUSY;
}

bool xt_unw_borrow(struct xt_thread *t)
{
	if (t->unw)
		return true; /* its own, or one a walk left by siglongjmp kept */
	struct unw_node *n = lifo_pop(&unw_pool, offsetof(struct unw_node, next));
	if (!n) {
		void *m = xt_real.mmap(NULL, sizeof(*n), PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return false;
		n = m;
	}
	t->unw = &n->c;
	if (n->user != t || n->user_reg != t->reg_serial) {
		n->user = t;
		n->user_reg = t->reg_serial;
		xt_unwind_thread_start(t); /* the memo holds another stack's walks */
	}
	return true;
}

void xt_unw_return(struct xt_thread *t)
{
	if (t->unw_owned)
		return;
	if (thread_busy(t)) {
		t->unw_owned = true;
		return;
	}
	lifo_push(&unw_pool, t->unw, offsetof(struct unw_node, next));
	t->unw = NULL;
}

/* on_thread_exit runs as the thread's key destructor. The thread keeps its slot (frees made
 * by later destructors are still recorded); the advancer, woken, writes its buffers and
 * recycles the slot once the thread is gone. */
static void on_thread_exit(void *arg)
{
	struct xt_thread *t = arg;
	xt_experiments_thread_end(t);
	xt_tl.exiting = 1;
	atomic_store(&t->state, XT_THREAD_EXITED);
	struct xt_thread *head = atomic_load(&exited);
	do
		atomic_store_explicit(&t->free_next, (void *)head, memory_order_relaxed);
	while (!atomic_compare_exchange_weak(&exited, &head, t));
	if (!head)
		xt_gen_wake();
}

struct xt_thread *xt_threads_take_exited(void)
{
	return atomic_exchange(&exited, NULL);
}

/* forget_types empties the thread's type memos (their IDs are of a table that is gone). */
static void forget_types(struct xt_thread *t)
{
	memset(t->types, 0, (t->types_mask + 1) * sizeof(t->types[0]));
	if (t->types == t->types_big)
		memset(t->malloc_types, 0, sizeof(t->malloc_types));
}

/* use_small_memos points the thread's memos at the small tables in its first pages. */
static void use_small_memos(struct xt_thread *t)
{
	t->recent = t->recent_small;
	t->recent_shift = 64 - __builtin_ctz(XT_RECENT_SMALL);
	t->types = t->types_small;
	t->types_mask = XT_TYPES_SMALL - 1;
	t->batch_room = XT_BATCH_SMALL - XT_MAX_EVENT_SIZE;
}

/* release gives back the whole pages between from and to. */
static void release(void *from, void *to)
{
	uintptr_t page = 4096, a = ((uintptr_t)from + page - 1) & ~(page - 1),
		  b = (uintptr_t)to & ~(page - 1);
	if (a < b)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* empty_batches drops both of the slot's batches (written, or another process's). */
static void empty_batches(struct xt_thread *t)
{
	for (int i = 0; i < 2; i++) {
		t->buf[i]->gen = 0;
		t->buf[i]->len = 0;
		atomic_store_explicit(&t->buf[i]->events, 0, memory_order_relaxed);
	}
}

void xt_thread_recycle(struct xt_thread *t)
{
	empty_batches(t);
	if (t->recent != t->recent_small) {
		/* A busy thread's pages go back: the next thread starts small. */
		release(t->buf0.data, &t->buf0 + 1);
		release(t->types_big, t + 1);
		use_small_memos(t);
	}
	if (t->unw)
		lifo_push(&unw_pool, t->unw, offsetof(struct unw_node, next));
	t->unw = NULL;
	t->unw_owned = false;
	for (int i = 0; i < 2; i++) {
		atomic_store(&t->abandoned_gen[i], 0);
		t->restarted_gen[i] = 0;
	}
	t->abandoned_seq = 0;
	atomic_store(&t->seq, 0);
	atomic_store(&t->state, XT_THREAD_FREE);
	lifo_push(&free_slots, t, offsetof(struct xt_thread, free_next));
}

void xt_writer_register_fence(void)
{
#ifdef XT_SANITIZED_THREADS
	/* ThreadSanitizer sees no order in a membarrier: the handshake uses plain atomics, so that
	 * what a thread reads of a table before its section ends comes before the advancer's reset,
	 * and the reset before what threads of later generations write. */
	xt_asym_fence = 0;
#else
	xt_asym_fence = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

void xt_writer_fence_all(void)
{
	if (xt_asym_fence)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}

void xt_writer_init(void)
{
	pthread_key_create(&exit_key, on_thread_exit);
	xt_writer_register_fence();
}

void xt_writer_fork_child(void)
{
	struct xt_thread *t = xt_tl.t;
	/* The parent's other threads do not exist here: the child's registry holds this thread's
	 * slot alone (the others stay mapped, untouched). Every buffered event is the parent's. */
	atomic_store(&free_slots, 0);
	atomic_store(&exited, NULL);
	atomic_store(&xt_threads, t);
	if (!t)
		return;
	/* the slot's head and its batches' heads, the parent's: copied in a call each */
	xt_prefault(t, offsetof(struct xt_thread, buf0.data));
	xt_prefault(&t->buf1, offsetof(struct xt_buf, data));
	t->next = NULL;
	t->tid = (uint64_t)syscall(SYS_gettid);
	empty_batches(t);
	t->lost_reported = atomic_load(&t->lost);
	for (int i = 0; i < 2; i++) {
		atomic_store(&t->abandoned_gen[i], 0);
		t->restarted_gen[i] = 0;
	}
	t->abandoned_seq = 0;
	t->cache_gen = 0;
	/* The child's trace starts again at generation 1 with empty tables: a type memo of the
	 * parent's generation 1 would name IDs the child's table never had. */
	forget_types(t);
	xt_writer_register_fence();
}

extern void *__libc_stack_end;

/* main_stack_bounds sets the main thread's stack, if this is the main thread, as the span it
 * may grow to: from the page above __libc_stack_end down by RLIMIT_STACK. pthread_getattr_np
 * finds nearly the same (a page or two of the arguments less) by reading /proc/self/maps,
 * which costs a traced process about 300 us at start. Only under a limit below the kernel's
 * least gap under the stack (128 MiB), where no mapping can be in that span; false elsewhere,
 * and on any other thread (its stack is not in that span). */
static bool main_stack_bounds(struct xt_thread *t)
{
	struct rlimit rl;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t hi = ((uintptr_t)__libc_stack_end & -page) + page;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur >= (128u << 20) || here >= hi ||
	    here < hi - rl.rlim_cur)
		return false;
	t->stack_lo = hi - rl.rlim_cur;
	t->stack_hi = hi;
	return true;
}

static void stack_bounds(struct xt_thread *t)
{
	if (main_stack_bounds(t))
		return;
	pthread_attr_t attr;
	void *lo;
	size_t size;
	if (xt_real.pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
		t->stack_lo = (uintptr_t)lo;
		t->stack_hi = (uintptr_t)lo + size;
	}
	pthread_attr_destroy(&attr);
}

/* finish_setup does what registration leaves while nothing may allocate: the stack bounds
 * (pthread_getattr_np allocates) and the exit destructor (pthread_setspecific may). */
static void finish_setup(struct xt_thread *t)
{
	xt_tl.internal++;
	stack_bounds(t);
	pthread_setspecific(exit_key, t);
	xt_tl.setup_pending = 0;
	xt_tl.internal--;
	xt_experiments_thread_start(t); /* outside internal: its hooks may record */
}

static struct xt_thread *new_slot(void)
{
	void *m = xt_real.mmap(NULL, sizeof(struct xt_thread), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct xt_thread *t = m;
	/* registration writes the slot's head, the first event the head of its generation's batch
	 * (read first: two faults) */
	xt_prefault(t, offsetof(struct xt_thread, buf0.data));
	xt_prefault(atomic_load(&xt_gen) & 1 ? &t->buf1 : &t->buf0, offsetof(struct xt_buf, data) + 64);
	t->buf[0] = &t->buf0;
	t->buf[1] = &t->buf1;
	use_small_memos(t);
	struct xt_thread *head = atomic_load(&xt_threads);
	do
		t->next = head;
	while (!atomic_compare_exchange_weak(&xt_threads, &head, t));
	return t;
}

/* on_stack: a is inside this thread's own stack. */
static bool on_stack(const struct xt_thread *t, uintptr_t a)
{
	return a >= t->stack_lo && a < t->stack_hi;
}

/* frame_gone says whether the shim frame that was at fp is gone, this call's frame being at
 * here: a signal handler's call, which alone may come while that frame is live, runs below it.
 * Only judged on the thread's own stack; elsewhere (a signal stack) the frame is taken as
 * live, and the advancer's bound is what limits the harm. */
static bool frame_gone(const struct xt_thread *t, uintptr_t fp, uintptr_t here)
{
	return t && on_stack(t, here) && on_stack(t, fp) && here >= fp;
}

struct xt_thread *xt_thread_register(uintptr_t here)
{
	if (xt_tl.exiting)
		return NULL;
	if (xt_tl.registering && here < xt_tl.reg_fp) {
		/* a signal handler interrupted this thread's registration */
		atomic_fetch_add(&xt_lost_unthreaded, 1);
		return NULL;
	}
	xt_tl.registering = 1;
	xt_tl.reg_fp = here;
	xt_tl.internal++;
	struct xt_thread *t = lifo_pop(&free_slots, offsetof(struct xt_thread, free_next));
	if (!t)
		t = new_slot();
	if (!t) {
		atomic_fetch_add(&xt_lost_unthreaded, 1);
		xt_tl.internal--;
		xt_tl.registering = 0;
		return NULL;
	}
	t->tid = (uint64_t)syscall(SYS_gettid);
	t->cache_gen = 0;
	t->stack_lo = t->stack_hi = 0;
	t->busy_from = t->ref_serial[0] + t->ref_serial[1];
	t->reg_serial = atomic_fetch_add(&registrations, 1) + 1;
	atomic_store(&t->state, XT_THREAD_LIVE);
	/* glibc's own threads block its internal signals (the SIGEV_THREAD timer helper waits for
	 * __SIGRTMIN, signal 32, that way). The unwinder saves and restores the signal mask through
	 * glibc, which leaves those signals unblocked, and the next timer signal would then kill
	 * the process: such a thread never calls libunwind (xt_tl.mask_bound). */
	sigset_t mask;
	if (pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, __SIGRTMIN))
		xt_tl.mask_bound = 1;
	xt_tl.t = t;
	xt_tl.setup_pending = 1;
	xt_tl.internal--;
	xt_tl.registering = 0;
	if (!xt_tl.no_alloc)
		finish_setup(t);
	return t;
}

/* count_lost counts n events this thread could not record. */
static void count_lost(struct xt_thread *t, uint64_t n)
{
	atomic_store_explicit(&t->lost, atomic_load_explicit(&t->lost, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* recover puts the thread's state back as it is outside the shim, after a signal handler
 * left a frame of the shim with siglongjmp: its section is closed, and the memos it may have
 * been writing are dropped. The section's batch is written by the advancer, or, if the advancer
 * stopped waiting for it, counted lost when the thread next uses that buffer. */
static __attribute__((cold, noinline)) void recover(struct xt_thread *t)
{
	/* Until seq is even the thread is still opening or closing its section (sect): a handler
	 * calling in meanwhile drops its event, and a jump out of here leaves the next call to
	 * recover again. Cleared first, sect would let that call open a section over the odd seq,
	 * turning it even: the advancer would write the batch the thread is writing. */
	xt_tl.sect = 1;
	atomic_signal_fence(memory_order_seq_cst);
	xt_tl.depth = xt_tl.enc = xt_tl.tabling = xt_tl.unwinding = 0;
	xt_tl.no_alloc = 0; /* what the handler found, gone with the frame it interrupted */
	/* The frame may have left an event half encoded: its bytes lie past the committed length,
	 * but the batch's last time and address (the deltas' bases) and the AllocFree counts may
	 * be its. The batch starts over: an empty one at once, one with events at the next event,
	 * which writes it out first (xt_new_batch). Before the section closes: then the advancer
	 * may write the batch. */
	struct xt_buf *b = t->buf[atomic_load_explicit(&t->gen, memory_order_relaxed) & 1];
	if (b->len) {
		t->batch_room = 0;
	} else {
		b->last_ts = b->base_ts;
		b->last_addr = 0;
		memcpy(b->base_serial, t->ref_serial, sizeof b->base_serial);
	}
	t->cache_gen = 0;
	forget_types(t);
	if (t->unw) {
		xt_unwind_thread_start(t);
		/* a rule half written: the walk clears the rules of another block of epochs */
		t->unw->epoch = UINT_MAX;
	}
	uint64_t s = atomic_load_explicit(&t->seq, memory_order_relaxed);
	if (s & 1)
		atomic_store_explicit(&t->seq, s + 1, memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	xt_tl.sect = 0;
}

struct xt_thread *xt_enter(void)
{
	if (xt_tl.in_real | xt_tl.internal)
		return NULL;
	struct xt_thread *t = xt_tl.t;
	/* The frame of the interposed function that called: the program's stack pointer at the
	 * call, whichever function it is (its saved frame pointer, the shim keeping them). */
	uintptr_t here = *(const uintptr_t *)__builtin_frame_address(0);
	if (xt_tl.depth) {
		if (xt_likely(!frame_gone(t, xt_tl.sect_fp, here))) {
			xt_tl.depth++;
			return t;
		}
		recover(t);
	}
	if (xt_unlikely(xt_clone_unadopted())) {
		/* the first event of a copy made past the fork handlers: its buffers are the traced
		 * process's, which writes them; the copy's events go to a trace of its own */
		xt_clone_adopt();
		t = xt_tl.t;
	}
	if (xt_unlikely(!t || xt_tl.setup_pending)) {
		if (!t && !atomic_load_explicit(&xt_gen, memory_order_relaxed) &&
		    (!xt_fork_child_pending() || !xt_fork_child_start(true)))
			return NULL;
		if (!t)
			t = xt_thread_register(here);
		else if (!xt_tl.no_alloc)
			finish_setup(t);
		if (!t)
			return NULL;
	}
	if (xt_unlikely(xt_tl.sect)) {
		/* A signal handler interrupted this thread opening or closing its section (seq odd,
		 * depth not yet saying so): a section of its own would make seq even under the
		 * outer one. Drop, and say so; unless that frame is gone. */
		if (!frame_gone(t, xt_tl.sect_fp, here)) {
			count_lost(t, 1);
			return NULL;
		}
		recover(t);
	}
	xt_tl.sect_fp = here;
	xt_tl.sect++;
	atomic_signal_fence(memory_order_seq_cst);
	uint64_t s = atomic_load_explicit(&t->seq, memory_order_relaxed), g;
	if (xt_likely(xt_asym_fence)) {
		atomic_store_explicit(&t->seq, s + 1, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		g = atomic_load_explicit(&xt_gen, memory_order_relaxed);
	} else {
		atomic_store(&t->seq, s + 1);
		g = atomic_load(&xt_gen);
	}
	if (xt_unlikely(!g)) {
		atomic_store_explicit(&t->seq, s + 2, memory_order_release);
	} else {
		atomic_store_explicit(&t->gen, g, memory_order_relaxed);
		xt_tl.depth = 1;
	}
	atomic_signal_fence(memory_order_seq_cst);
	xt_tl.sect--;
	if (xt_unlikely(!g) && xt_fork_child_pending())
		return xt_fork_child_start(true) ? xt_enter() : NULL;
	return g ? t : NULL;
}

void xt_leave(struct xt_thread *t)
{
	if (xt_tl.depth > 1) {
		xt_tl.depth--;
		return;
	}
	xt_tl.sect++; /* as in xt_enter: no section of a signal handler while seq is odd */
	atomic_signal_fence(memory_order_seq_cst);
	xt_tl.depth = 0;
	atomic_store_explicit(&t->seq, atomic_load_explicit(&t->seq, memory_order_relaxed) + 1,
			      memory_order_release);
	atomic_signal_fence(memory_order_seq_cst);
	xt_tl.sect--;
}

/* flush_full hands the thread's full batch b of generation g to the output and empties it,
 * with the thread's signals blocked: a handler that left with siglongjmp would leave the
 * stage's lock held, or the batch handed over but not emptied, to be handed over again. */
static void flush_full(struct xt_thread *t, struct xt_buf *b, uint64_t g)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	atomic_store_explicit(&t->handing_over, 1, memory_order_relaxed);
	bool put = xt_out_events_batch(g, t->tid, b->base_ts, b->data, b->len, &b->events);
	atomic_store_explicit(&t->handing_over, 0, memory_order_relaxed);
	if (!put) {
		count_lost(t, xt_uncounted_lost(t, g, atomic_load_explicit(&b->events,
									    memory_order_relaxed)));
		/* refused: given up on, its count was taken; what follows in g is counted whole */
		if (xt_abandoned(t, g))
			t->restarted_gen[g & 1] = g;
	}
	b->len = 0;
	atomic_store_explicit(&b->events, 0, memory_order_relaxed);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void xt_new_batch(struct xt_thread *t, struct xt_buf *b, uint64_t g, uint64_t ts)
{
	if (b->len) {
		uint32_t n = atomic_load_explicit(&b->events, memory_order_relaxed);
		if (xt_abandoned(t, b->gen)) {
			/* the advancer gave up on this batch */
			count_lost(t, xt_uncounted_lost(t, b->gen, n));
			if (b->gen == g)
				t->restarted_gen[g & 1] = g;
		} else if (b->gen == g) {
			flush_full(t, b, g);
		} else {
			count_lost(t, n); /* a batch of a generation no longer being written */
		}
	}
	b->gen = g;
	b->len = 0;
	atomic_store_explicit(&b->events, 0, memory_order_relaxed);
	b->base_ts = ts;
	b->last_ts = ts;
	b->last_addr = 0;
	memcpy(b->base_serial, t->ref_serial, sizeof b->base_serial);
	t->batch_room = t->recent == t->recent_small ? XT_BATCH_SMALL - XT_MAX_EVENT_SIZE
						     : XT_MAX_BATCH_SIZE - XT_MAX_EVENT_SIZE;
	/* A busy thread moves to the full-size memos, here where the batch begins (its references
	 * start over) and a signal handler's events wait; the type memo unless a handler
	 * interrupted the thread using it. */
	if (xt_unlikely(t->types == t->types_small) && thread_busy(t)) {
		t->recent = t->recent_big;
		t->recent_shift = 64 - __builtin_ctz(XT_ALLOCREF_WINDOW);
		t->batch_room = XT_MAX_BATCH_SIZE - XT_MAX_EVENT_SIZE;
		if (!xt_tl.tabling) {
			t->types = t->types_big;
			t->types_mask = XT_TYPES_BIG - 1;
		}
	}
}

/* encode_args writes an event's arguments at p as its spec s gives their wire forms (addresses
 * are delta-coded) and returns their end. */
static uint8_t *encode_args(struct xt_thread *t, uint8_t *p, const struct xt_event_spec *s,
			    const uint64_t *args)
{
	struct xt_buf *b = t->buf[atomic_load_explicit(&t->gen, memory_order_relaxed) & 1];
	for (unsigned i = 0; i < s->nargs; i++) {
		if (s->arg_kinds[i] == XT_KIND_addr)
			XT_ENC_addr(p, b, args[i]);
		else
			p = xt_put_uvarint(p, args[i]);
	}
	return p;
}

bool xt_emit_spec(struct xt_thread *t, uint8_t type, uint64_t ts, const struct xt_event_spec *s,
		  const uint64_t args[XT_MAX_ARGS])
{
	uint8_t *p = xt_event_begin(t, type, ts);
	if (!p)
		return xt_event_defer(t, type, ts, args);
	xt_event_end(t, encode_args(t, p, s, args));
	return true;
}

bool xt_event_defer(struct xt_thread *t, uint8_t type, uint64_t ts, const uint64_t *args)
{
	if (!xt_tl.enc || t->pend_tail - t->pend_head >= sizeof(t->pending) / sizeof(t->pending[0])) {
		count_lost(t, 1);
		return false;
	}
	struct xt_pending *p = &t->pending[t->pend_tail % (sizeof(t->pending) / sizeof(t->pending[0]))];
	p->type = type;
	p->ts = ts;
	for (unsigned i = 0; i < XT_MAX_ARGS; i++)
		p->args[i] = args[i];
	atomic_signal_fence(memory_order_seq_cst);
	t->pend_tail++;
	return true;
}

void xt_event_drain(struct xt_thread *t)
{
	while (t->pend_head != t->pend_tail) {
		if (xt_tl.enc)
			return;
		xt_tl.enc++;
		atomic_signal_fence(memory_order_seq_cst);
		/* A handler that came before enc went up wrote the pending events itself. */
		if (t->pend_head == t->pend_tail) {
			atomic_signal_fence(memory_order_seq_cst);
			xt_tl.enc--;
			return;
		}
		const struct xt_pending *p =
			&t->pending[t->pend_head % (sizeof(t->pending) / sizeof(t->pending[0]))];
		uint8_t *q = xt_reserve_held(t, p->type, p->ts);
		q = encode_args(t, q, xt_event_spec_of(p->type), p->args);
		xt_event_encoded(t, p->type, p->args[0]);
		t->pend_head++;
		xt_event_commit(t, q);
	}
}

void xt_give_up_section(void)
{
	if (!xt_tl.t || !(xt_tl.depth || xt_tl.sect))
		return;
	/* unlike a jump's, the frames below stay: an allocator call they hold still forbids */
	unsigned no_alloc = xt_tl.no_alloc;
	recover(xt_tl.t);
	xt_tl.no_alloc = no_alloc;
}

struct xt_signal_save xt_signal_enter(void)
{
	struct xt_signal_save s = {xt_tl.in_real, xt_tl.internal, xt_tl.no_alloc};
	xt_tl.no_alloc |= s.in_real | s.internal;
	xt_tl.in_real = 0;
	xt_tl.internal = 0;
	return s;
}

void xt_signal_leave(struct xt_signal_save s)
{
	xt_tl.in_real = s.in_real;
	xt_tl.internal = s.internal;
	xt_tl.no_alloc = s.no_alloc;
}
