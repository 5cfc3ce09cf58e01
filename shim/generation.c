/* generation.c: the advance protocol, after Go's traceAdvance.
 *
 * Every XTRACE_GEN_MS the advancer thread closes generation g:
 *   1. sample the clocks for g + 1's Sync, then store xt_gen = g + 1 (0 to stop tracing);
 *   2. wait until every section that began in g has ended (a thread's seq leaves the odd
 *      value it had), so no thread writes g's buffers any more;
 *   3. under the file lock: write every thread's g buffer, idle threads included, then g's
 *      stack, string, module and experimental tables, its Sync, and End; the file then moves
 *      on to g + 1, whose full buffers may have been waiting.
 * Exit and exec run the same steps with FINAL; a fatal signal with CRASH, whose waits are
 * bounded and which writes this thread's buffer up to its last complete event. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloctypes.h"
#include "generation.h"
#include "modules.h"
#include "output.h"
#include "stacks.h"
#include "timertab.h"
#include "user.h"


_Atomic uint64_t xt_gen;

static pthread_mutex_t advance_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t stopped_gen;     /* the generation a FINAL advance closed */
static uint64_t lost_unthreaded_reported;

struct sync_sample {
	uint64_t ts, wall_sec, wall_nsec;
};
static struct sync_sample gen_sync; /* the current generation's */

static struct sync_sample sample(void)
{
	struct timespec w;
	clock_gettime(CLOCK_REALTIME, &w);
	return (struct sync_sample){xt_now(), (uint64_t)w.tv_sec, (uint64_t)w.tv_nsec};
}

static void sleep_us(long us)
{
	struct timespec d = {us / 1000000, (us % 1000000) * 1000};
	syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &d, NULL);
}

/* An experimental-batch writer is a table-batch writer of kind Experimental. */
struct xt_expw {
	struct xt_tablew w;
};

uint64_t xt_expw_gen(const struct xt_expw *w)
{
	return w->w.gen;
}

void xt_expw_subtype(struct xt_expw *w, uint8_t subtype)
{
	xt_tablew_flush(&w->w);
	w->w.subtype = subtype;
}

void xt_expw_put(struct xt_expw *w, const void *bytes, size_t n)
{
	if (n + 1 > sizeof(w->w.buf))
		return; /* an entry larger than a batch cannot be written */
	uint8_t *p = xt_tablew_room(&w->w, n);
	__builtin_memcpy(p, bytes, n);
	xt_tablew_commit(&w->w, p + n);
}

void xt_expw_uvarint(struct xt_expw *w, uint64_t v)
{
	uint8_t b[XT_MAX_VARINT];
	xt_expw_put(w, b, (size_t)(xt_put_uvarint(b, v) - b));
}

/* Weak references: an experiment that defines no batch writer leaves its slot NULL. */
typedef void (*batch_writer)(struct xt_expw *);
static const batch_writer batch_writers[XT_MAX_EXPERIMENTS] = {
#define XT_EXPERIMENT(ident, id, name) [id] = xt_exp_batches_##name,
#define XT_EVENT(...)
#include "events.def"
#undef XT_EXPERIMENT
#undef XT_EVENT
};

static void write_experimental(uint64_t g)
{
	static struct xt_expw w; /* the advancer's, under the advance lock */
	for (unsigned e = 0; e < XT_MAX_EXPERIMENTS; e++) {
		batch_writer fn = batch_writers[e];
		if (!fn)
			continue;
		xt_tablew_begin(&w.w, XT_BATCH_EXPERIMENTAL, (uint8_t)e, g, gen_sync.ts);
		w.w.subtype = 0;
		fn(&w);
		xt_tablew_flush(&w.w);
	}
}

/* wait_sections waits for every section of generation g to end; with a timeout (ms) it gives
 * up on a thread after that long, and never waits for the calling thread. A section that began
 * after the bump (it stores next into t->gen right after reading xt_gen) is not waited for: it
 * may itself be waiting for the file to reach next. */
static void wait_sections(struct xt_thread *self, uint64_t next, long timeout_ms)
{
	for (struct xt_thread *t = atomic_load(&xt_threads); t; t = t->next) {
		if (t == self || atomic_load(&t->state) == XT_THREAD_FREE)
			continue;
		uint64_t s = atomic_load(&t->seq);
		for (long spins = 0; (s & 1) && atomic_load(&t->seq) == s; spins++) {
			if (next && atomic_load(&t->gen) == next)
				break;
			if (spins < 100)
				sched_yield();
			else
				sleep_us(50);
			if (timeout_ms >= 0 && spins > 100 + timeout_ms * 20)
				break;
		}
	}
}

static int thread_gone(uint64_t tid)
{
	return syscall(SYS_tgkill, getpid(), (pid_t)tid, 0) != 0 && errno == ESRCH;
}

/* flush_threads writes each thread's buffer of generation g; returns the lost events. */
static uint64_t flush_threads(uint64_t g)
{
	uint64_t lost = 0;
	for (struct xt_thread *t = atomic_load(&xt_threads); t; t = t->next) {
		int st = atomic_load(&t->state);
		if (st == XT_THREAD_FREE)
			continue;
		struct xt_buf *b = &t->buf[g & 1];
		if (b->gen == g && b->len)
			xt_out_batch(XT_BATCH_EVENTS, 0, g, t->tid, b->base_ts, b->data, b->len);
		if (b->gen == g) {
			b->len = 0;
			b->gen = 0;
		}
		uint64_t l = atomic_load_explicit(&t->lost, memory_order_relaxed);
		lost += l - t->lost_reported;
		t->lost_reported = l;
		/* A thread that is gone and has nothing buffered gives its slot back. */
		if (st == XT_THREAD_EXITED && !t->buf[0].len && !t->buf[1].len && thread_gone(t->tid)) {
			atomic_store(&t->seq, 0);
			atomic_store(&t->state, XT_THREAD_FREE);
		}
	}
	uint64_t u = atomic_load(&xt_lost_unthreaded);
	lost += u - lost_unthreaded_reported;
	lost_unthreaded_reported = u;
	return lost;
}

static void write_generation(uint64_t g)
{
	uint64_t lost = flush_threads(g);
	xt_stacks_dump(g);
	xt_modules_dump(g, xt_user_strings_dump(g));
	write_experimental(g);
	uint8_t sync[3 * XT_MAX_VARINT], *p = sync;
	p = xt_put_uvarint(p, XT_TICKS_PER_SEC);
	p = xt_put_uvarint(p, gen_sync.wall_sec);
	p = xt_put_uvarint(p, gen_sync.wall_nsec);
	xt_out_batch(XT_BATCH_SYNC, 0, g, 0, gen_sync.ts, sync, (size_t)(p - sync));
	xt_out_end(g, lost);
}

void xt_advance(enum xt_advance_mode mode)
{
	int crash = mode == XT_ADVANCE_CRASH;
	if (crash) {
		for (int i = 0; pthread_mutex_trylock(&advance_lock) != 0; i++) {
			if (i > 500)
				return;
			sleep_us(1000);
		}
	} else {
		pthread_mutex_lock(&advance_lock);
	}
	uint64_t g = atomic_load(&xt_gen);
	if (!g || !xt_out_ok()) {
		pthread_mutex_unlock(&advance_lock);
		return;
	}
	struct sync_sample next = sample();
	uint64_t next_gen = mode == XT_ADVANCE_NEXT ? g + 1 : 0;
	atomic_store(&xt_gen, next_gen);
	xt_writer_fence_all();
	wait_sections(xt_tl.t, next_gen, crash ? 300 : -1);
	if (crash) {
		/* This thread may be inside a section: its committed events are complete. */
		if (!xt_out_trylock(300)) {
			pthread_mutex_unlock(&advance_lock);
			return;
		}
	} else {
		xt_out_lock();
	}
	write_generation(g);
	xt_out_unlock();
	gen_sync = next;
	if (mode != XT_ADVANCE_NEXT)
		stopped_gen = g;
	pthread_mutex_unlock(&advance_lock);
}

void xt_gen_resume(void)
{
	pthread_mutex_lock(&advance_lock);
	if (stopped_gen && !atomic_load(&xt_gen) && xt_out_ok()) {
		gen_sync = sample();
		atomic_store(&xt_gen, stopped_gen + 1);
		stopped_gen = 0;
	}
	pthread_mutex_unlock(&advance_lock);
}

static void *advancer_main(void *arg)
{
	xt_tl.internal = 1; /* nothing this thread does is the program's */
	for (;;) {
		sleep_us((long)xt_config.gen_ms * 1000);
		if (atomic_load(&xt_gen))
			xt_advance(XT_ADVANCE_NEXT);
	}
	return arg;
}

static bool start_advancer(void)
{
	pthread_t th;
	pthread_attr_t attr;
	sigset_t all, old;
	/* The advancer must never take the program's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&th, &attr, advancer_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		xt_say("cannot start the generation thread: error %d; the program runs untraced", r);
		return false;
	}
	return true;
}

bool xt_gen_begin(void)
{
	gen_sync = sample();
	stopped_gen = 0;
	lost_unthreaded_reported = atomic_load(&xt_lost_unthreaded);
	if (!start_advancer())
		return false;
	atomic_store(&xt_gen, 1);
	return true;
}

void xt_gen_fork_prepare(void)
{
	pthread_mutex_lock(&advance_lock);
	xt_out_lock();
}

void xt_gen_fork_parent(void)
{
	xt_out_unlock();
	pthread_mutex_unlock(&advance_lock);
}

void xt_gen_fork_child(void)
{
	atomic_store(&xt_gen, 0);
	pthread_mutex_init(&advance_lock, NULL);
	xt_out_reinit_locks();
	/* The parent's other threads do not exist here, and every buffered event is the parent's
	 * (the parent writes them): start from empty. */
	for (struct xt_thread *t = atomic_load(&xt_threads); t; t = t->next) {
		t->buf[0].len = t->buf[1].len = 0;
		t->buf[0].gen = t->buf[1].gen = 0;
		t->lost_reported = atomic_load(&t->lost);
		t->cache_gen = 0;
		/* The child's trace starts again at generation 1 with empty tables: a type memo of
		 * the parent's generation 1 would name IDs the child's table never had. */
		memset(t->types, 0, sizeof t->types);
		if (t != xt_tl.t) {
			atomic_store(&t->seq, 0);
			atomic_store(&t->state, XT_THREAD_FREE);
		}
	}
	if (xt_tl.t)
		xt_tl.t->tid = (uint64_t)syscall(SYS_gettid);
	xt_writer_register_fence();
	xt_stacks_reset_all();
	xt_alloctypes_reset_all();
	xt_timers_fork_child();
	xt_user_reset_all();
	xt_modules_reset_all();
}
