/* generation.c: the advance protocol, after Go's traceAdvance.
 *
 * Every XTRACE_GEN_MS the advancer thread closes generation g:
 *   1. sample the clocks for g + 1's Sync, then store xt_gen = g + 1 (0 to stop tracing);
 *   2. wait until every section that began in g has ended (a thread's seq leaves the odd
 *      value it had), so no thread writes g's buffers any more;
 *   3. under the file lock: write every thread's g buffer, idle threads included, then g's
 *      stack, string and module tables, the Specs of every experiment the shim knows, the
 *      experiments' tables, its Sync, and End; the file then moves on to g + 1, whose full
 *      buffers may have been waiting. Then each experiment resets what g used.
 * Exit and exec run the same steps with FINAL; a fatal signal with CRASH, whose waits are
 * bounded and which writes this thread's buffer up to its last complete event. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "experiment.h"
#include "flight.h"
#include "generation.h"
#include "intern.h"
#include "modules.h"
#include "output.h"
#include "stacks.h"
#include "unwlib.h"
#include "user.h"
#include "varint.h"
#include "writer.h"


_Atomic uint64_t xt_gen;

static pthread_mutex_t advance_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t stopped_gen;     /* the generation a FINAL advance closed */
/* Recording switched off (XTRACE_START=stopped, xtrace ctl stop): xt_gen stays 0, the file
 * stays open, the generation thread keeps serving the control channel. -1 until the first
 * generation begins (from the environment; a fork child inherits its parent's). */
static int paused = -1;
static bool paused_at_end;       /* the final generation was switched on only to end the image */
static bool after_gap;           /* recording was off right before the current generation */
static uint64_t lost_unthreaded_reported;

/* A generation's clocks at its start: its anchor, and the wall clock. */
struct sync_sample {
	struct xt_clock_pair at;
	uint64_t wall_sec, wall_nsec;
};
static struct sync_sample gen_sync; /* the current generation's */

static struct sync_sample wall_with(struct xt_clock_pair at)
{
	struct timespec w;
	clock_gettime(CLOCK_REALTIME, &w);
	return (struct sync_sample){at, (uint64_t)w.tv_sec, (uint64_t)w.tv_nsec};
}

static struct sync_sample sample(void)
{
	return wall_with(xt_clock_sample());
}

/* sleep_us sleeps with the system call glibc's own sleeps make (a seccomp filter written for
 * the program allows it), never a cancellation point. */
static void sleep_us(long us)
{
	struct timespec d = {us / 1000000, (us % 1000000) * 1000};
	syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &d, NULL);
}

/* How long an advance waits for the sections of the generation it closes: a thread whose
 * section stays open longer (stopped, or left by a signal handler's siglongjmp) loses that
 * generation's events of it, counted. A thread that is only waiting for a CPU (preempted in
 * its section on a loaded machine) is waited for up to SECTION_WAIT_RUNNABLE_MS. */
#define SECTION_WAIT_MS 100
#define SECTION_WAIT_RUNNABLE_MS 1000

/* The advancer's own, under advance_lock: slots of threads that ran their exit destructor but
 * were not yet gone, and events lost that the next End counts (abandoned sections, recycled
 * slots). */
static struct xt_thread *exit_waiting;
static uint64_t lost_pending;

/* abandon stops waiting for t's section (seq s) of generation g: its batch of g is not
 * written, its events so far are counted lost now, and the thread counts the rest when it
 * next uses that buffer (xt_new_batch). */
static void abandon(struct xt_thread *t, uint64_t g, uint64_t s)
{
	/* No full batch of g goes in after this: the one a thread was handing over when given
	 * up on is either in (its count zeroed) or refused (the thread counts the rest). */
	xt_out_seal(g);
	uint32_t n = atomic_load_explicit(&t->buf[g & 1]->events, memory_order_relaxed);
	if (t->buf[g & 1]->gen != g)
		n = 0;
	t->abandoned_seq = s;
	t->abandoned_events[g & 1] = n;
	atomic_store_explicit(&t->abandoned_gen[g & 1], g, memory_order_release);
	lost_pending += n;
}

/* runnable: the kernel has thread tid ready to run, waiting for a CPU. */
static bool runnable(uint64_t tid)
{
	char path[64], stat[256];
	snprintf(path, sizeof path, "/proc/self/task/%llu/stat", (unsigned long long)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, stat, sizeof stat - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = 0;
	const char *p = strrchr(stat, ')'); /* the name before it may hold anything */
	return p && p[1] == ' ' && p[2] == 'R';
}

/* wait_sections waits for every section of generation g to end, at most timeout_ms in all
 * (longer, up to runnable_ms, for threads waiting for a CPU); never for the calling thread,
 * nor for a section it gave up on before. A section that began after the bump (it stores next
 * into t->gen right after reading xt_gen) is not waited for: it may itself be waiting for the
 * file to reach next. */
static void wait_sections(struct xt_thread *self, uint64_t g, uint64_t next, long timeout_ms,
			  long runnable_ms)
{
	uint64_t start = xt_mono_ns(), deadline = start + (uint64_t)timeout_ms * 1000000u,
		 last = start + (uint64_t)runnable_ms * 1000000u;
	for (struct xt_thread *t = atomic_load(&xt_threads); t; t = t->next) {
		if (t == self || atomic_load(&t->state) == XT_THREAD_FREE)
			continue;
		uint64_t s = atomic_load(&t->seq);
		if (!(s & 1) || s == t->abandoned_seq)
			continue;
		for (long spins = 0; atomic_load(&t->seq) == s; spins++) {
			if (next && atomic_load(&t->gen) == next)
				break;
			uint64_t now = xt_mono_ns();
			if (now >= deadline && now < last &&
			    (atomic_load_explicit(&t->handing_over, memory_order_relaxed) ||
			     runnable(t->tid))) {
				deadline = now + 10000000u; /* look again in 10 ms */
			} else if (now >= deadline) {
				abandon(t, g, s);
				break;
			}
			if (spins < 100)
				sched_yield();
			else
				sleep_us(50);
		}
	}
}

static int thread_gone(uint64_t tid)
{
	return syscall(SYS_tgkill, getpid(), (pid_t)tid, 0) != 0 && errno == ESRCH;
}

/* unwritten_events counts what of batch b is lost when it is dropped unwritten. */
static uint64_t unwritten_events(const struct xt_thread *t, const struct xt_buf *b)
{
	if (!b->len)
		return 0;
	return xt_uncounted_lost(t, b->gen, atomic_load_explicit(&b->events, memory_order_relaxed));
}

/* flush_threads writes each thread's buffer of generation g; returns the lost events. */
static uint64_t flush_threads(uint64_t g)
{
	uint64_t lost = 0;
	for (struct xt_thread *t = atomic_load(&xt_threads); t; t = t->next) {
		if (atomic_load(&t->state) == XT_THREAD_FREE)
			continue;
		struct xt_buf *b = t->buf[g & 1];
		if (!xt_abandoned(t, g)) { /* else the thread may still write it */
			if (b->gen == g && b->len)
				xt_out_batch(XT_BATCH_EVENTS, 0, g, t->tid, b->base_ts, b->data, b->len);
			if (b->gen == g) {
				b->len = 0;
				b->gen = 0;
				atomic_store_explicit(&b->events, 0, memory_order_relaxed);
			}
		}
		uint64_t l = atomic_load_explicit(&t->lost, memory_order_relaxed);
		lost += l - t->lost_reported;
		t->lost_reported = l;
	}
	uint64_t u = atomic_load(&xt_lost_unthreaded);
	lost += u - lost_unthreaded_reported;
	lost_unthreaded_reported = u;
	lost += lost_pending;
	lost_pending = 0;
	return lost;
}

/* reclaim recycles the slots of exited threads that are gone, after writing their batch of
 * the current generation g (a thread's other batch was written by the last advance). Under
 * advance_lock, with tracing on. */
static void reclaim(uint64_t g)
{
	struct xt_thread *t = xt_threads_take_exited(), *keep = NULL, *next;
	if (!t) {
		t = exit_waiting;
	} else if (exit_waiting) {
		struct xt_thread *last = t;
		while (atomic_load_explicit(&last->free_next, memory_order_relaxed))
			last = atomic_load_explicit(&last->free_next, memory_order_relaxed);
		atomic_store_explicit(&last->free_next, exit_waiting, memory_order_relaxed);
	}
	bool locked = false;
	for (; t; t = next) {
		next = atomic_load_explicit(&t->free_next, memory_order_relaxed);
		if (!thread_gone(t->tid)) {
			atomic_store_explicit(&t->free_next, keep, memory_order_relaxed);
			keep = t;
			continue;
		}
		for (int i = 0; i < 2; i++) {
			struct xt_buf *b = t->buf[i];
			if (b->gen == g && b->len && !xt_abandoned(t, g)) {
				if (!locked)
					xt_out_lock();
				locked = true;
				xt_out_batch(XT_BATCH_EVENTS, 0, g, t->tid, b->base_ts, b->data, b->len);
			} else {
				lost_pending += unwritten_events(t, b);
			}
		}
		uint64_t l = atomic_load_explicit(&t->lost, memory_order_relaxed);
		lost_pending += l - t->lost_reported;
		t->lost_reported = l;
		xt_thread_recycle(t);
	}
	if (locked)
		xt_out_unlock();
	exit_waiting = keep;
}

/* write_generation writes generation g, which ends at the anchor end (the next one's start). */
static void write_generation(uint64_t g, const struct xt_clock_pair *end)
{
	xt_out_seal(g);
	uint64_t lost = flush_threads(g);
	xt_stacks_dump(g);
	xt_modules_dump(g, xt_user_strings_dump(g));
	xt_experiments_specs(g, gen_sync.at.ticks);
	xt_experiments_batches(g, gen_sync.at.ticks);
	uint8_t sync[6 * XT_MAX_VARINT], *p = sync;
	p = xt_put_uvarint(p, xt_clock_rate(&gen_sync.at, end));
	p = xt_put_uvarint(p, gen_sync.wall_sec);
	p = xt_put_uvarint(p, gen_sync.wall_nsec);
	p = xt_put_uvarint(p, gen_sync.at.ns);
	p = xt_put_uvarint(p, after_gap);
	p = xt_put_uvarint(p, xt_clock.use_tsc ? XT_TIME_SHIFT : 0);
	xt_out_batch(XT_BATCH_SYNC, 0, g, 0, gen_sync.at.ticks, sync, (size_t)(p - sync));
	xt_out_end(g, lost);
}

/* advance_locked closes the current generation (advance_lock held). */
static void advance_locked(enum xt_advance_mode mode)
{
	int crash = mode == XT_ADVANCE_CRASH;
	uint64_t g = atomic_load(&xt_gen);
	if (!g || !xt_out_ok())
		return;
	/* The end of g's calibration span and the start of the next generation's. */
	struct sync_sample next = wall_with(xt_clock_sample_after(&gen_sync.at));
	uint64_t next_gen = mode == XT_ADVANCE_NEXT ? g + 1 : 0;
	if (next_gen)
		xt_out_open_gen(next_gen);
	atomic_store(&xt_gen, next_gen);
	xt_writer_fence_all();
	if (crash)
		wait_sections(xt_tl.t, g, next_gen, 300, 300);
	else
		wait_sections(xt_tl.t, g, next_gen, SECTION_WAIT_MS, SECTION_WAIT_RUNNABLE_MS);
	if (crash) {
		/* This thread may be inside a section: its committed events are complete. */
		if (!xt_out_trylock(300))
			return;
	} else {
		xt_out_lock();
	}
	write_generation(g, &next.at);
	xt_out_unlock();
	xt_experiments_reset(g);
	gen_sync = next;
	after_gap = false;
	if (mode != XT_ADVANCE_NEXT)
		stopped_gen = g;
	else
		reclaim(next_gen);
}

/* lock_advance takes advance_lock; from a fatal signal, waiting a bounded time (false: not
 * taken): longer than an advance waits for a runnable thread's section, which may be this
 * thread's, interrupted by the signal. */
static bool lock_advance(bool crash)
{
	if (!crash) {
		pthread_mutex_lock(&advance_lock);
		return true;
	}
	for (int i = 0; pthread_mutex_trylock(&advance_lock) != 0; i++) {
		if (i > SECTION_WAIT_RUNNABLE_MS + 500)
			return false;
		sleep_us(1000);
	}
	return true;
}

void xt_advance(enum xt_advance_mode mode)
{
	if (!lock_advance(mode == XT_ADVANCE_CRASH))
		return;
	advance_locked(mode);
	pthread_mutex_unlock(&advance_lock);
}

/* resume_locked starts generation stopped_gen + 1 (advance_lock held). */
static void resume_locked(void)
{
	gen_sync = sample();
	xt_out_open_gen(stopped_gen + 1);
	atomic_store(&xt_gen, stopped_gen + 1);
	stopped_gen = 0;
}

void xt_gen_resume(void)
{
	pthread_mutex_lock(&advance_lock);
	if (paused_at_end) {
		/* the image goes on switched off, as it was */
		paused = 1;
		paused_at_end = false;
	} else if (stopped_gen && !atomic_load(&xt_gen) && xt_out_ok()) {
		resume_locked();
	}
	pthread_mutex_unlock(&advance_lock);
	xt_ctl_resume();
}

bool xt_gen_switch(bool on)
{
	pthread_mutex_lock(&advance_lock);
	if (on && paused == 1 && xt_out_ok()) {
		resume_locked();
		after_gap = true;
		paused = 0;
	} else if (!on && paused == 0 && atomic_load(&xt_gen)) {
		advance_locked(XT_ADVANCE_FINAL);
		paused = 1;
	}
	bool recording = atomic_load(&xt_gen) != 0;
	pthread_mutex_unlock(&advance_lock);
	return recording;
}

void xt_gen_switch_on_to_end(bool crash)
{
	if (!lock_advance(crash))
		return;
	if (paused == 1 && xt_out_ok()) {
		resume_locked();
		after_gap = true;
		paused = 0;
		paused_at_end = true;
	}
	pthread_mutex_unlock(&advance_lock);
}

bool xt_gen_snapshot(char *reply, size_t cap)
{
	pthread_mutex_lock(&advance_lock);
	bool ok = xt_out_ok();
	if (ok && atomic_load(&xt_gen))
		advance_locked(XT_ADVANCE_NEXT);
	pthread_mutex_unlock(&advance_lock);
	if (!ok)
		snprintf(reply, cap, "no trace is being written\n");
	else if (xt_config.flight_mib)
		return xt_out_flight_snapshot(reply, cap);
	else
		snprintf(reply, cap, "%s\n", xt_out_path());
	return ok;
}

void xt_gen_status(char *reply, size_t cap)
{
	pthread_mutex_lock(&advance_lock);
	uint64_t g = atomic_load(&xt_gen);
	int n = snprintf(reply, cap, "pid %ld: %s, generation %llu\ntrace %s\n", (long)getpid(),
			 g ? "recording" : paused == 1 ? "stopped" : "not tracing",
			 (unsigned long long)(g ? g : stopped_gen),
			 xt_out_ok() ? xt_out_path() : "(none)");
	pthread_mutex_unlock(&advance_lock);
	if (n > 0 && (size_t)n < cap)
		xt_out_flight_status(reply + n, cap - (size_t)n);
}

/* The advancer sleeps until the generation's end, or until a thread's exit destructor wakes
 * it to recycle that thread's slot (xt_gen_wake), serving the control channel meanwhile
 * (control.c). */
void xt_gen_wake(void)
{
	xt_ctl_wake();
}

static _Atomic bool advance_soon; /* the generation gathered much: end it now */

void xt_gen_advance_soon(void)
{
	atomic_store(&advance_soon, true);
	xt_gen_wake();
}

static void *advancer_main(void *arg)
{
	xt_tl.internal = 1; /* nothing this thread does is the program's */
	uint64_t gen_end = xt_mono_ns() + (uint64_t)xt_config.gen_ms * 1000000u;
	for (;;) {
		/* a thread that ran its destructor is gone a moment later: look again soon */
		uint64_t until = exit_waiting ? xt_mono_ns() + 1000000u : gen_end;
		bool w = xt_ctl_wait(until < gen_end ? until : gen_end);
		/* a stack needed libunwind where it could not be loaded (a signal handler) */
		if (xt_unwlib_wanted())
			xt_unwlib_load();
		/* the generation gathered much (output.c): it ends now */
		bool soon = atomic_exchange(&advance_soon, false);
		if (soon || xt_mono_ns() >= gen_end) {
			if (atomic_load(&xt_gen))
				xt_advance(XT_ADVANCE_NEXT);
			gen_end = xt_mono_ns() + (uint64_t)xt_config.gen_ms * 1000000u;
		} else if (w || exit_waiting) {
			pthread_mutex_lock(&advance_lock);
			uint64_t g = atomic_load(&xt_gen);
			if (g && xt_out_ok())
				reclaim(g);
			pthread_mutex_unlock(&advance_lock);
		}
	}
	return arg;
}

static bool start_advancer(void)
{
	pthread_t th;
	pthread_attr_t attr;
	sigset_t all;
	/* The advancer must never take the program's signals: it starts with all blocked (set in
	 * its attributes, not by blocking them around its creation: two system calls fewer). */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_attr_setsigmask_np(&attr, &all);
	if (r == 0)
		r = pthread_create(&th, &attr, advancer_main, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		xt_say("cannot start the generation thread: error %d; the program runs untraced", r);
		return false;
	}
	return true;
}

bool xt_gen_begin(bool advancer)
{
	gen_sync = sample();
	stopped_gen = 0;
	after_gap = false;
	if (paused < 0)
		paused = xt_config.start_stopped;
	lost_unthreaded_reported = atomic_load(&xt_lost_unthreaded);
	if (advancer && !start_advancer())
		return false;
	/* Switched off, the first generation begins when recording is switched on. */
	if (!paused)
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
	/* Async-signal-safe: stores alone (the parent's lock states are meaningless here). The
	 * tables are emptied when the child starts tracing (xt_gen_fork_tables). */
	atomic_store(&xt_gen, 0);
	advance_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	advance_soon = false;
	xt_out_reinit_locks();
	exit_waiting = NULL;
	lost_pending = 0;
	stopped_gen = 0;
	paused_at_end = false;
	xt_ctl_fork_child();
	xt_writer_fork_child();
}

void xt_gen_fork_tables(void)
{
	xt_tables_forget_all();
	xt_stacks_reset_all();
	xt_experiments_fork_child();
	xt_user_reset_all();
	xt_modules_reset_all();
}
