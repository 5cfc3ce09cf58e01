/* writer.c: per-thread state, recording sections and event encoding. This is the hot path:
 * no locks shared between threads, no malloc, no syscall per event. A thread's buffer that
 * fills up is written out through output.c (one lock and one write per 64 KiB batch).
 *
 * Invariants (after Go's runtime/trace.go):
 * - A buffer is written only by its thread inside a section, or by the advancer once every
 *   section of that buffer's generation has ended.
 * - A section reads xt_gen after making its seq odd; the advancer bumps xt_gen before
 *   reading seqs. So a section either sees the new generation or is waited for. */
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "output.h"
#include "shim.h"
#include "unwind.h"

XT_TLS struct xt_tl xt_tl;
_Atomic(struct xt_thread *) xt_threads;
_Atomic uint64_t xt_lost_unthreaded;

static pthread_key_t exit_key;

/* With membarrier, the advancer's side of the seq/gen handshake carries the full fence, so a
 * section's entry needs only a compiler barrier (the asymmetric-fence pattern). */
int xt_asym_fence;

/* on_thread_exit runs as the thread's key destructor. The thread keeps its slot (frees made
 * by later destructors are still recorded); the advancer flushes it and recycles the slot once
 * the thread is gone. */
static void on_thread_exit(void *arg)
{
	struct xt_thread *t = arg;
	xt_tl.exiting = 1;
	atomic_store(&t->state, XT_THREAD_EXITED);
}

void xt_writer_register_fence(void)
{
	xt_asym_fence = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
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

static void stack_bounds(struct xt_thread *t)
{
	pthread_attr_t attr;
	void *lo;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
		t->stack_lo = (uintptr_t)lo;
		t->stack_hi = (uintptr_t)lo + size;
	}
	pthread_attr_destroy(&attr);
}

struct xt_thread *xt_thread_register(void)
{
	if (xt_tl.exiting)
		return NULL;
	xt_tl.internal++;
	struct xt_thread *t = NULL;
	for (struct xt_thread *s = atomic_load(&xt_threads); s; s = s->next) {
		int expect = XT_THREAD_FREE;
		if (atomic_compare_exchange_strong(&s->state, &expect, XT_THREAD_LIVE)) {
			t = s;
			break;
		}
	}
	if (!t) {
		void *m = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (m == MAP_FAILED) {
			atomic_fetch_add(&xt_lost_unthreaded, 1);
			xt_tl.internal--;
			return NULL;
		}
		t = m;
		atomic_store(&t->state, XT_THREAD_LIVE);
		struct xt_thread *head = atomic_load(&xt_threads);
		do
			t->next = head;
		while (!atomic_compare_exchange_weak(&xt_threads, &head, t));
	}
	t->tid = (uint64_t)syscall(SYS_gettid);
	t->cache_gen = 0;
	t->stack_lo = t->stack_hi = 0;
	if (xt_config.unwind == XT_UNWIND_FP || xt_config.unwind == XT_UNWIND_DWARF)
		stack_bounds(t);
	xt_unwind_thread_start(t);
	/* glibc's own threads block its internal signals (the SIGEV_THREAD timer helper waits for
	 * __SIGRTMIN, signal 32, that way). The unwinder saves and restores the signal mask through
	 * glibc, which leaves those signals unblocked, and the next timer signal would then kill
	 * the process: such a thread never calls libunwind (xt_tl.mask_bound). */
	sigset_t mask;
	if (pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, __SIGRTMIN))
		xt_tl.mask_bound = 1;
	pthread_setspecific(exit_key, t);
	xt_tl.t = t;
	xt_tl.internal--;
	return t;
}

/* count_lost counts one event this thread could not record. */
static void count_lost(struct xt_thread *t)
{
	atomic_store_explicit(&t->lost, atomic_load_explicit(&t->lost, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

struct xt_thread *xt_enter(void)
{
	if (xt_tl.in_real | xt_tl.internal)
		return NULL;
	struct xt_thread *t = xt_tl.t;
	if (xt_tl.depth) {
		xt_tl.depth++;
		return t;
	}
	if (xt_unlikely(xt_clone_unadopted())) {
		/* the first event of a copy made past the fork handlers: its buffers are the traced
		 * process's, which writes them; the copy's events go to a trace of its own */
		xt_clone_adopt();
		t = xt_tl.t;
	}
	if (xt_unlikely(!t)) {
		if (!atomic_load_explicit(&xt_gen, memory_order_relaxed))
			return NULL;
		t = xt_thread_register();
		if (!t)
			return NULL;
	}
	if (xt_unlikely(xt_tl.sect)) {
		/* A signal handler interrupted this thread opening or closing its section (seq odd,
		 * depth not yet saying so): a section of its own would make seq even under the
		 * outer one. Drop, and say so. */
		count_lost(t);
		return NULL;
	}
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

void xt_new_batch(struct xt_thread *t, struct xt_buf *b, uint64_t g, uint64_t ts)
{
	if (b->gen == g && b->len)
		xt_out_events_batch(g, t->tid, b->base_ts, b->data, b->len);
	b->gen = g;
	b->len = 0;
	b->base_ts = ts;
	b->last_ts = ts;
	b->last_addr = 0;
	memcpy(b->base_serial, t->ref_serial, sizeof b->base_serial);
}

/* Each event type's argument kinds (addresses are delta-coded): the pending events of signal
 * handlers are encoded from these. */
static const struct {
	uint8_t nargs;
	uint8_t kinds[XT_MAX_ARGS];
} arg_shape[XT_MAX_EVENT_TYPES] = {
#define XT_EXPERIMENT(ident, id, name)
#define XT_ARG_KIND(n, k) XT_KIND_##k,
#define XT_EVENT(name, id, exp, nargs, ...) [id] = {nargs, {XT_PAIRS(nargs, XT_ARG_KIND, ##__VA_ARGS__)}},
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
#undef XT_ARG_KIND
};

bool xt_event_defer(struct xt_thread *t, uint8_t type, uint64_t ts, const uint64_t *args)
{
	if (!xt_tl.enc || t->pend_tail - t->pend_head >= sizeof(t->pending) / sizeof(t->pending[0])) {
		count_lost(t);
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
		struct xt_buf *b = &t->buf[atomic_load_explicit(&t->gen, memory_order_relaxed) & 1];
		for (unsigned i = 0; i < arg_shape[p->type].nargs; i++) {
			if (arg_shape[p->type].kinds[i] == XT_KIND_addr)
				XT_ENC_addr(q, b, p->args[i]);
			else
				q = xt_put_uvarint(q, p->args[i]);
		}
		xt_event_encoded(t, p->type, p->args[0]);
		t->pend_head++;
		xt_event_commit(t, q);
	}
}

struct xt_signal_save xt_signal_enter(void)
{
	struct xt_signal_save s = {xt_tl.in_real, xt_tl.internal};
	xt_tl.in_real = 0;
	xt_tl.internal = 0;
	return s;
}

void xt_signal_leave(struct xt_signal_save s)
{
	xt_tl.in_real = s.in_real;
	xt_tl.internal = s.internal;
}
