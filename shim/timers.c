/* timers.c: the Timers experiment: timer, itimer, timerfd and sleep calls, and the expirations
 * the program sees (SIGEV_THREAD notify runs, timer signals, timerfd reads), with the timer
 * table that gives every timer a trace ID stable for the whole trace.
 *
 * The table is static (no malloc) and lock-free: slots are claimed by compare-and-swap and
 * looked up by plain scans, so everything here may run in a signal handler. A slot lives on
 * two generations after its timer was deleted, because a SIGEV_THREAD run already on its way
 * still finds the program's function in it. Each call is recorded after the real call, with
 * the in_real guard up around it; errno is what the real call left. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "experiment.h"
#include "fds.h"
#include "lifecycle.h"
#include "real.h"
#include "stacks.h"
#include "timers.h"
#include "varint.h"
#include "writer.h"


#define XT_TIMER_SLOTS 1024
#define XT_TIMER_FDS 65536 /* timerfds on higher descriptors are created and set, never read */
#define XT_NITIMERS 3

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_ALIVE, SLOT_DELETED };

struct slot {
	_Atomic int state;
	uint8_t kind, notify;
	uint32_t clock;
	int signo;
	int kid;                        /* kernel timer ID an SI_TIMER signal carries, -1: none */
	uint64_t id, handle, created_ts;
	uint64_t created_gen, deleted_gen; /* 0: while not tracing */
	_Atomic unsigned fds;           /* timerfd: descriptors that refer to it */
	void (*fn)(union sigval);       /* SIGEV_THREAD: the program's notify function and value */
	union sigval value;
};

static struct slot slots[XT_TIMER_SLOTS];
static _Atomic unsigned used; /* slots at and above this index were never claimed */
static _Atomic uint64_t next_id;
static _Atomic uint32_t fd_slot[XT_TIMER_FDS];   /* descriptor -> slot index + 1 */
/* A timerfd was ever made: until then read and close leave fd_slot alone, whose first look at a
 * page of it is a page fault (the zero page mapped) in every process that reads. */
static _Atomic bool fd_slot_used;
static _Atomic uint32_t itimer_slot[XT_NITIMERS]; /* which -> slot index + 1 */

static uint64_t id_of(const struct slot *s)
{
	return s ? s->id : 0;
}

/* gen_of is the generation a slot change belongs to: the section's, else the current one. */
static uint64_t gen_of(struct xt_thread *t)
{
	return t ? atomic_load_explicit(&t->gen, memory_order_relaxed) : atomic_load(&xt_gen);
}

/* claim takes a free slot and gives it a new ID; NULL when all are taken. */
static struct slot *claim(uint8_t kind, uint32_t clock, uint8_t notify, int signo)
{
	for (unsigned i = 0; i < XT_TIMER_SLOTS; i++) {
		int expect = SLOT_FREE;
		if (!atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_CLAIMED))
			continue;
		unsigned u = atomic_load(&used);
		while (u <= i && !atomic_compare_exchange_weak(&used, &u, i + 1))
			;
		struct slot *s = &slots[i];
		s->kind = kind;
		s->clock = clock;
		s->notify = notify;
		s->signo = signo;
		s->kid = -1;
		s->handle = 0;
		s->deleted_gen = 0;
		atomic_store(&s->fds, 0);
		s->id = atomic_fetch_add(&next_id, 1) + 1;
		return s;
	}
	return NULL;
}

/* publish makes a claimed slot visible to lookups and to generation t's table: called inside
 * the section that records the creation, so the table of that generation cannot miss it. */
static void publish(struct slot *s, struct xt_thread *t, uint64_t handle, int kid)
{
	s->handle = handle;
	s->kid = kid;
	s->created_ts = xt_mono_ns(); /* the timer table's times are CLOCK_MONOTONIC ns */
	s->created_gen = gen_of(t);
	atomic_store_explicit(&s->state, SLOT_ALIVE, memory_order_release);
}

/* retire marks a timer deleted (once, whoever gets there first). */
static void retire(struct slot *s, struct xt_thread *t)
{
	int expect = SLOT_ALIVE;
	s->deleted_gen = gen_of(t);
	atomic_compare_exchange_strong_explicit(&s->state, &expect, SLOT_DELETED,
						memory_order_release, memory_order_relaxed);
}

static struct slot *find(int (*match)(const struct slot *, uint64_t), uint64_t key)
{
	unsigned n = atomic_load_explicit(&used, memory_order_acquire);
	for (unsigned i = 0; i < n; i++) {
		struct slot *s = &slots[i];
		if (atomic_load_explicit(&s->state, memory_order_acquire) == SLOT_ALIVE && match(s, key))
			return s;
	}
	return NULL;
}

static int is_handle(const struct slot *s, uint64_t h)
{
	return s->kind == XT_TKIND_POSIX && s->handle == h;
}

static int is_kid(const struct slot *s, uint64_t kid)
{
	return s->kind == XT_TKIND_POSIX && s->kid >= 0 && (uint64_t)s->kid == kid;
}

static struct slot *posix_timer(timer_t tid)
{
	return find(is_handle, (uintptr_t)tid);
}

static struct slot *fd_timer(int fd)
{
	if (fd < 0 || fd >= XT_TIMER_FDS || !atomic_load_explicit(&fd_slot_used, memory_order_relaxed))
		return NULL;
	uint32_t i = atomic_load_explicit(&fd_slot[fd], memory_order_acquire);
	return i ? &slots[i - 1] : NULL;
}

/* itimer returns which's timer, creating its slot on first use (the process always has it). */
static struct slot *itimer(int which, struct xt_thread *t)
{
	static const int signo[XT_NITIMERS] = {SIGALRM, SIGVTALRM, SIGPROF};
	if (which < 0 || which >= XT_NITIMERS)
		return NULL;
	uint32_t i = atomic_load_explicit(&itimer_slot[which], memory_order_acquire);
	if (i)
		return &slots[i - 1];
	struct slot *s = claim(XT_TKIND_ITIMER, (uint32_t)which, XT_TNOTIFY_SIGNAL, signo[which]);
	if (!s)
		return NULL;
	uint32_t expect = 0;
	if (!atomic_compare_exchange_strong(&itimer_slot[which], &expect, (uint32_t)(s - slots) + 1)) {
		atomic_store(&s->state, SLOT_FREE); /* another thread created it first */
		return &slots[expect - 1];
	}
	publish(s, t, (uint64_t)which, -1);
	return s;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec < 0 || ts->tv_nsec < 0)
		return 0;
	if ((uint64_t)ts->tv_sec >= UINT64_MAX / 1000000000u)
		return UINT64_MAX;
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	struct timespec ts = {tv->tv_sec, tv->tv_usec * 1000};
	return ts_ns(&ts);
}

static uint64_t call_of(unsigned api, int flags)
{
	return api | (uint64_t)(unsigned)flags << XT_TIMER_CALL_FLAGS_SHIFT;
}

/* begin opens a recording section and saves errno in *e; NULL: this call is not recorded. */
static struct xt_thread *begin(int *e)
{
	struct xt_thread *t = xt_enter();
	*e = errno;
	return t;
}

static void end(struct xt_thread *t, int e)
{
	xt_leave(t);
	errno = e;
}

/* --- POSIX timers ------------------------------------------------------------------------- */

static uint8_t notify_of(const struct sigevent *sev)
{
	switch (sev ? sev->sigev_notify : SIGEV_SIGNAL) {
	case SIGEV_NONE: return XT_TNOTIFY_NONE;
	case SIGEV_THREAD: return XT_TNOTIFY_THREAD;
	case SIGEV_THREAD_ID: return XT_TNOTIFY_THREAD_ID;
	default: return XT_TNOTIFY_SIGNAL;
	}
}

/* notify_trampoline runs in place of a SIGEV_THREAD timer's function: it records the run, then
 * calls the program's function, so what the function allocates carries its own stack. */
static void notify_trampoline(union sigval v)
{
	struct slot *s = v.sival_ptr;
	int e;
	struct xt_thread *t = begin(&e);
	if (t) {
		xt_emit_TimerFire(t, xt_now(), s->id, XT_TVIA_THREAD, 1, 0);
		end(t, e);
	}
	s->fn(s->value);
}

XT_EXPORT int timer_create(clockid_t clock, struct sigevent *sev, timer_t *out)
{
	xt_ensure_init();
	uint8_t notify = notify_of(sev);
	/* A NULL sevp means SIGEV_SIGNAL with SIGALRM. */
	int signo = !sev ? SIGALRM : notify == XT_TNOTIFY_SIGNAL || notify == XT_TNOTIFY_THREAD_ID ?
		    sev->sigev_signo : 0;
	struct slot *s = claim(XT_TKIND_POSIX, (uint32_t)clock, notify, signo);
	struct sigevent wrapped;
	if (s && notify == XT_TNOTIFY_THREAD) {
		s->fn = sev->sigev_notify_function;
		s->value = sev->sigev_value;
		wrapped = *sev;
		wrapped.sigev_notify_function = notify_trampoline;
		wrapped.sigev_value.sival_ptr = s;
		sev = &wrapped;
	}
	int r = XT_REAL(xt_real.timer_create(clock, sev, out));
	int e;
	struct xt_thread *t = begin(&e);
	if (s && r == 0) {
		/* glibc hands out the kernel's ID as the timer_t of every non-SIGEV_THREAD timer */
		int kid = notify == XT_TNOTIFY_THREAD ? -1 : (int)(intptr_t)*out;
		publish(s, t, (uintptr_t)*out, kid);
	} else if (s) {
		atomic_store(&s->state, SLOT_FREE);
		s = NULL;
	}
	if (t) {
		uint64_t ts = xt_now();
		xt_emit_TimerCreate(t, ts, id_of(s), call_of(XT_TAPI_TIMER_CREATE, 0), (uint32_t)clock,
				    notify, xt_stack_here(t, XT_CALLER));
		end(t, e);
	}
	return r;
}

/* record_set and record_get record a call that set or read a timer: value and interval (0 when
 * the call failed: then what the pointers hold is not known to be readable). */
static void record_set(struct slot *s, uint64_t call, uint64_t value, uint64_t interval, void *ra)
{
	int e;
	struct xt_thread *t = begin(&e);
	if (!t)
		return;
	uint64_t ts = xt_now();
	xt_emit_TimerSet(t, ts, id_of(s), call, value, interval, xt_stack_here(t, ra));
	end(t, e);
}

static void record_get(struct slot *s, uint64_t call, uint64_t value, uint64_t interval, void *ra)
{
	int e;
	struct xt_thread *t = begin(&e);
	if (!t)
		return;
	uint64_t ts = xt_now();
	xt_emit_TimerGet(t, ts, id_of(s), call, value, interval, xt_stack_here(t, ra));
	end(t, e);
}

XT_EXPORT int timer_settime(timer_t tid, int flags, const struct itimerspec *nv,
			    struct itimerspec *ov)
{
	xt_ensure_init();
	int r = XT_REAL(xt_real.timer_settime(tid, flags, nv, ov));
	record_set(posix_timer(tid), call_of(XT_TAPI_TIMER_SETTIME, flags),
		   r == 0 ? ts_ns(&nv->it_value) : 0, r == 0 ? ts_ns(&nv->it_interval) : 0, XT_CALLER);
	return r;
}

XT_EXPORT int timer_gettime(timer_t tid, struct itimerspec *cur)
{
	xt_ensure_init();
	int r = XT_REAL(xt_real.timer_gettime(tid, cur));
	record_get(posix_timer(tid), call_of(XT_TAPI_TIMER_GETTIME, 0),
		   r == 0 ? ts_ns(&cur->it_value) : 0, r == 0 ? ts_ns(&cur->it_interval) : 0, XT_CALLER);
	return r;
}

XT_EXPORT int timer_getoverrun(timer_t tid)
{
	xt_ensure_init();
	int r = XT_REAL(xt_real.timer_getoverrun(tid));
	int e;
	struct xt_thread *t = begin(&e);
	if (t) {
		uint64_t ts = xt_now();
		xt_emit_TimerGetOverrun(t, ts, id_of(posix_timer(tid)),
					call_of(XT_TAPI_TIMER_GETOVERRUN, 0), r > 0 ? (uint64_t)r : 0,
					xt_stack_here(t, XT_CALLER));
		end(t, e);
	}
	return r;
}

XT_EXPORT int timer_delete(timer_t tid)
{
	xt_ensure_init();
	/* The slot is retired before the kernel can hand the same ID to another timer; the section
	 * spans the real call so the deletion belongs to the generation it was recorded in. */
	int e;
	struct xt_thread *t = begin(&e);
	struct slot *s = posix_timer(tid);
	if (s)
		retire(s, t);
	int r = XT_REAL(xt_real.timer_delete(tid));
	if (t) {
		e = errno;
		uint64_t ts = xt_now();
		xt_emit_TimerDelete(t, ts, id_of(s), call_of(XT_TAPI_TIMER_DELETE, 0),
				    xt_stack_here(t, XT_CALLER));
		end(t, e);
	}
	return r;
}

/* --- itimers and alarm ------------------------------------------------------------------------ */

/* itimer_record records a setitimer, getitimer or alarm call on which's timer. */
static void itimer_record(int which, int set, uint64_t call, uint64_t value, uint64_t interval,
			  void *ra)
{
	int e;
	struct xt_thread *t = begin(&e);
	if (!t)
		return;
	struct slot *s = itimer(which, t);
	uint64_t ts = xt_now();
	uint64_t stack = xt_stack_here(t, ra);
	if (set)
		xt_emit_TimerSet(t, ts, id_of(s), call, value, interval, stack);
	else
		xt_emit_TimerGet(t, ts, id_of(s), call, value, interval, stack);
	end(t, e);
}

XT_EXPORT int setitimer(__itimer_which_t which, const struct itimerval *nv, struct itimerval *ov)
{
	xt_ensure_init();
	int r = XT_REAL(xt_real.setitimer(which, nv, ov));
	int ok = r == 0 && nv;
	itimer_record((int)which, 1, call_of(XT_TAPI_SETITIMER, 0), ok ? tv_ns(&nv->it_value) : 0,
		      ok ? tv_ns(&nv->it_interval) : 0, XT_CALLER);
	return r;
}

XT_EXPORT int getitimer(__itimer_which_t which, struct itimerval *cur)
{
	xt_ensure_init();
	int r = XT_REAL(xt_real.getitimer(which, cur));
	itimer_record((int)which, 0, call_of(XT_TAPI_GETITIMER, 0), r == 0 ? tv_ns(&cur->it_value) : 0,
		      r == 0 ? tv_ns(&cur->it_interval) : 0, XT_CALLER);
	return r;
}

XT_EXPORT unsigned alarm(unsigned seconds)
{
	xt_ensure_init();
	unsigned r = XT_REAL(xt_real.alarm(seconds));
	itimer_record(ITIMER_REAL, 1, call_of(XT_TAPI_ALARM, 0), (uint64_t)seconds * 1000000000u, 0,
		      XT_CALLER);
	return r;
}

/* --- timerfd ------------------------------------------------------------------------------ */

/* fd_map makes descriptor fd refer to timer s. */
static void fd_map(int fd, struct slot *s)
{
	if (fd < 0 || fd >= XT_TIMER_FDS)
		return;
	atomic_fetch_add(&s->fds, 1);
	atomic_store_explicit(&fd_slot_used, true, memory_order_relaxed);
	atomic_store_explicit(&fd_slot[fd], (uint32_t)(s - slots) + 1, memory_order_release);
}

/* fd_forget is called before descriptor fd is closed (or replaced by dup2/dup3): the last
 * descriptor of a timerfd going away deletes its timer. */
static void fd_forget(int fd, void *ra)
{
	if (fd < 0 || fd >= XT_TIMER_FDS || !atomic_load_explicit(&fd_slot_used, memory_order_relaxed) ||
	    !atomic_load_explicit(&fd_slot[fd], memory_order_relaxed))
		return;
	uint32_t i = atomic_exchange(&fd_slot[fd], 0);
	if (!i)
		return;
	struct slot *s = &slots[i - 1];
	if (atomic_fetch_sub(&s->fds, 1) != 1)
		return;
	int e;
	struct xt_thread *t = begin(&e);
	retire(s, t);
	if (t) {
		uint64_t ts = xt_now();
		xt_emit_TimerDelete(t, ts, s->id, call_of(XT_TAPI_CLOSE, 0), xt_stack_here(t, ra));
		end(t, e);
	}
}

XT_EXPORT int timerfd_create(int clock, int flags)
{
	xt_ensure_init();
	int fd = XT_REAL(xt_real.timerfd_create(clock, flags));
	int e;
	struct xt_thread *t = begin(&e);
	struct slot *s = fd >= 0 ? claim(XT_TKIND_TIMERFD, (uint32_t)clock, XT_TNOTIFY_READ, 0) : NULL;
	if (s) {
		fd_map(fd, s);
		publish(s, t, (uint64_t)fd, -1);
	}
	if (t) {
		uint64_t ts = xt_now();
		xt_emit_TimerCreate(t, ts, id_of(s), call_of(XT_TAPI_TIMERFD_CREATE, flags),
				    (uint32_t)clock, XT_TNOTIFY_READ, xt_stack_here(t, XT_CALLER));
		end(t, e);
	}
	return fd;
}

XT_EXPORT int timerfd_settime(int fd, int flags, const struct itimerspec *nv, struct itimerspec *ov)
{
	xt_ensure_init();
	int r = XT_REAL(xt_real.timerfd_settime(fd, flags, nv, ov));
	record_set(fd_timer(fd), call_of(XT_TAPI_TIMERFD_SETTIME, flags),
		   r == 0 ? ts_ns(&nv->it_value) : 0, r == 0 ? ts_ns(&nv->it_interval) : 0, XT_CALLER);
	return r;
}

XT_EXPORT int timerfd_gettime(int fd, struct itimerspec *cur)
{
	xt_ensure_init();
	int r = XT_REAL(xt_real.timerfd_gettime(fd, cur));
	record_get(fd_timer(fd), call_of(XT_TAPI_TIMERFD_GETTIME, 0),
		   r == 0 ? ts_ns(&cur->it_value) : 0, r == 0 ? ts_ns(&cur->it_interval) : 0, XT_CALLER);
	return r;
}

/* fd_fire records the expirations one read of timerfd s returned. */
static void fd_fire(struct slot *s, const void *buf)
{
	uint64_t count;
	memcpy(&count, buf, sizeof count);
	int e;
	struct xt_thread *t = begin(&e);
	if (t) {
		xt_emit_TimerFire(t, xt_now(), s->id, XT_TVIA_TIMERFD, count, 0);
		end(t, e);
	}
}

/* unwinder_stale: the unwinder reading its pipe at a number the program has taken since. */
static bool unwinder_stale(int fd)
{
	if (xt_likely(!xt_tl.internal) || !xt_fds_unwinder_stale(fd))
		return false;
	errno = EBADF;
	return true;
}

/* read and __read_chk cost a flag's load for a descriptor that is not a timerfd (and a table
 * load once the process has made one). */
XT_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	xt_ensure_init();
	if (xt_unlikely(!xt_real.read)) /* inside dlsym, before the real one is known */
		return syscall(SYS_read, fd, buf, n);
	if (unwinder_stale(fd))
		return -1;
	struct slot *s = fd_timer(fd);
	ssize_t r = xt_real.read(fd, buf, n);
	if (xt_unlikely(s) && r == 8)
		fd_fire(s, buf);
	return r;
}

XT_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	xt_ensure_init();
	if (unwinder_stale(fd))
		return -1;
	struct slot *s = fd_timer(fd);
	ssize_t r = xt_real.__read_chk(fd, buf, n, buflen);
	if (xt_unlikely(s) && r == 8)
		fd_fire(s, buf);
	return r;
}

static void fds_closing(unsigned first, unsigned last, void *ra)
{
	for (unsigned fd = first; fd <= last && fd < XT_TIMER_FDS; fd++)
		fd_forget((int)fd, ra);
}

static void fd_copied(int oldfd, int newfd, void *ra)
{
	fd_forget(newfd, ra);
	struct slot *s = fd_timer(oldfd);
	if (s)
		fd_map(newfd, s);
}

/* --- sleeps ------------------------------------------------------------------------------- */

/* sleep_begin records a SleepBegin and returns its CLOCK_MONOTONIC time (slept_ns is in ns
 * whatever the trace clock), or 0 when the sleep is not recorded (the shim's own threads, not
 * tracing): then neither is its end. The section is closed before the sleep, which must not
 * hold a generation open. */
static uint64_t sleep_begin(uint64_t call, uint32_t clock, uint64_t req, void *ra)
{
	int e;
	struct xt_thread *t = begin(&e);
	if (!t)
		return 0;
	xt_emit_SleepBegin(t, xt_now(), call, clock, req, xt_stack_here(t, ra));
	end(t, e);
	return xt_mono_ns();
}

static void sleep_end(uint64_t t0, uint64_t call, uint64_t left, int err)
{
	int e;
	struct xt_thread *t = t0 ? begin(&e) : NULL;
	if (!t)
		return;
	uint64_t ns = xt_mono_ns();
	xt_emit_SleepEnd(t, xt_now(), call, ns > t0 ? ns - t0 : 0, left, (uint64_t)err);
	end(t, e);
}

XT_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	xt_ensure_init();
	uint64_t call = call_of(XT_TAPI_NANOSLEEP, 0);
	uint64_t t0 = sleep_begin(call, CLOCK_REALTIME, ts_ns(req), XT_CALLER);
	struct timespec mine; /* the time left, also when the program does not ask for it */
	int r = XT_REAL(xt_real.nanosleep(req, rem ? rem : &mine));
	int e = errno;
	sleep_end(t0, call, r != 0 && e == EINTR ? ts_ns(rem ? rem : &mine) : 0, r ? e : 0);
	return r;
}

XT_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
			      struct timespec *rem)
{
	xt_ensure_init();
	uint64_t call = call_of(XT_TAPI_CLOCK_NANOSLEEP, flags);
	uint64_t t0 = sleep_begin(call, (uint32_t)clock, ts_ns(req), XT_CALLER);
	struct timespec mine;
	int r = XT_REAL(xt_real.clock_nanosleep(clock, flags, req, rem ? rem : &mine));
	/* clock_nanosleep returns the error; the time left is written only for a relative sleep */
	int rel = !(flags & TIMER_ABSTIME);
	sleep_end(t0, call, r == EINTR && rel ? ts_ns(rem ? rem : &mine) : 0, r);
	return r;
}

XT_EXPORT int usleep(useconds_t us)
{
	xt_ensure_init();
	uint64_t call = call_of(XT_TAPI_USLEEP, 0);
	uint64_t t0 = sleep_begin(call, CLOCK_REALTIME, (uint64_t)us * 1000u, XT_CALLER);
	int r = XT_REAL(xt_real.usleep(us));
	sleep_end(t0, call, 0, r ? errno : 0);
	return r;
}

XT_EXPORT unsigned sleep(unsigned seconds)
{
	xt_ensure_init();
	uint64_t call = call_of(XT_TAPI_SLEEP, 0);
	uint64_t t0 = sleep_begin(call, CLOCK_REALTIME, (uint64_t)seconds * 1000000000u, XT_CALLER);
	unsigned r = XT_REAL(xt_real.sleep(seconds));
	/* sleep returns the seconds left: only a signal ends it early */
	sleep_end(t0, call, (uint64_t)r * 1000000000u, r ? EINTR : 0);
	return r;
}

/* --- expirations by signal, fork, the table batch -------------------------------------------- */

/* timer_signal records a timer-caused signal delivery (si_code SI_TIMER, or an itimer's
 * SIGALRM, SIGVTALRM or SIGPROF sent by the kernel) about to run the program's handler; the
 * dispatcher calls it inside xt_signal_enter/leave. Async-signal-safe. */
static void timer_signal(int sig, const siginfo_t *si)
{
	int which = sig == SIGALRM ? ITIMER_REAL : sig == SIGVTALRM ? ITIMER_VIRTUAL :
		    sig == SIGPROF ? ITIMER_PROF : -1;
	if (si->si_code != SI_TIMER && !(si->si_code == SI_KERNEL && which >= 0))
		return;
	int e;
	struct xt_thread *t = begin(&e);
	if (!t)
		return;
	struct slot *s;
	uint64_t overrun = 0;
	if (si->si_code == SI_TIMER) {
		s = find(is_kid, (uint64_t)(unsigned)si->si_timerid);
		overrun = si->si_overrun > 0 ? (uint64_t)si->si_overrun : 0;
	} else {
		s = itimer(which, t);
	}
	xt_emit_TimerFire(t, xt_now(), id_of(s), XT_TVIA_SIGNAL, 1, overrun);
	end(t, e);
}

static void fork_child(void)
{
	/* The child has its parent's descriptors, so its timerfds, but no POSIX timer or itimer;
	 * its trace starts at generation 1 again. */
	unsigned n = atomic_load(&used);
	for (unsigned i = 0; i < n; i++) {
		struct slot *s = &slots[i];
		if (atomic_load(&s->state) == SLOT_ALIVE && s->kind == XT_TKIND_TIMERFD)
			s->created_gen = 0;
		else
			atomic_store(&s->state, SLOT_FREE);
	}
	for (int w = 0; w < XT_NITIMERS; w++)
		atomic_store(&itimer_slot[w], 0);
}

static void batches(struct xt_expw *w)
{
	uint64_t g = xt_expw_gen(w);
	xt_expw_subtype(w, XT_TIMERS_BATCH_TABLE);
	unsigned n = atomic_load(&used);
	for (unsigned i = 0; i < n; i++) {
		struct slot *s = &slots[i];
		int st = atomic_load_explicit(&s->state, memory_order_acquire);
		if ((st != SLOT_ALIVE && st != SLOT_DELETED) || s->created_gen > g)
			continue;
		if (st == SLOT_DELETED && s->deleted_gen < g) {
			if (s->deleted_gen + 2 <= g)
				atomic_store(&s->state, SLOT_FREE);
			continue;
		}
		uint8_t e[2 + 5 * XT_MAX_VARINT], *p = e;
		p = xt_put_uvarint(p, s->id);
		*p++ = s->kind;
		p = xt_put_uvarint(p, s->clock);
		*p++ = s->notify;
		p = xt_put_uvarint(p, (uint64_t)s->signo);
		p = xt_put_uvarint(p, s->handle);
		p = xt_put_uvarint(p, s->created_ts);
		xt_expw_put(w, e, (size_t)(p - e));
	}
}

const struct xt_experiment_hooks xt_hooks_Timers = {
	.fork_child = fork_child,
	.signal = timer_signal,
	.batches = batches,
	.fds_closing = fds_closing,
	.fd_copied = fd_copied,
};
