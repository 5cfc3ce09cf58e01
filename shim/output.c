/* output.c: the trace file. Naming (XTRACE_OUT with %p and %e, or <pid>.<n>.xt in the run
 * directory XTRACE_DIR; O_EXCL and O_NOFOLLOW, so an existing file or a symlink is never written
 * through: the next free numbered name is taken), the header, and generations: their batches
 * gathered in memory, then compressed and written whole (put_generation). Cold path: a lock
 * and a copy per batch, a compression and a write per generation.
 *
 * The trace descriptor is the shim's alone (the interposers of shim/fds.c hide it from the
 * program and move it off a number the program duplicates onto), but a system call made past
 * libc can still close it or put another file on its number. So each batch is written only
 * after fstat shows the descriptor still is the trace file (device and inode); if it is not,
 * the file is opened again by its absolute path (appending, never creating, never through a
 * symlink, and only if it is that same file), and if that fails tracing stops with one line on
 * stderr. Nothing is ever written to a descriptor not checked to be the trace file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY /* a context in memory of our own */
#include <zstd.h>

#include "columns.h"
#include "fds.h"
#include "flight.h"
#include "generation.h"
#include "format.h"
#include "lifecycle.h"
#include "output.h"
#include "pathjoin.h"
#include "real.h"
#include "runtime.h"
#include "varint.h"

static _Atomic int fd = -1;  /* the trace descriptor; -1: to be opened again before a write */
static bool opened;          /* a trace file was created for this process */
static dev_t file_dev;       /* the trace file's identity, from fstat at creation */
static ino_t file_ino;
static pid_t file_pid;       /* the process whose trace it is */
/* The executable's path, the trace's path as opened and from the root (to reopen it after a
 * chdir), and the header (kept for the flight recorder's snapshots, which are traces of their
 * own), one after another in names as xt_out_open makes them: their few hundred bytes are one
 * page a process touches, not a page each. */
#define PATH_CAP 4096
#define ABS_PATH_CAP 8192
#define HDR_CAP (XT_MAGIC_LEN + XT_MAX_VARINT + 13 * XT_MAX_VARINT + 2 * PATH_CAP)
static char names[PATH_CAP + PATH_CAP + ABS_PATH_CAP + HDR_CAP];
static char *exe = names, *path = names, *abs_path = names;
static uint8_t *hdr;
static size_t hdr_len;
/* Error-checking: a signal handler that finds its own thread holding it is told so (EDEADLK)
 * instead of waiting for ever (xt_out_vacate). */
static pthread_mutex_t lock = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static _Atomic int failed; /* a write failed: tracing stopped */

const char *xt_out_path(void)
{
	return abs_path;
}

/* A generation's batches are gathered in memory, in a stage by generation parity as the
 * threads' buffers are, and go to the file whole when the generation ends: compressed by the
 * thread that ends it (the advancer; at exit or a fatal signal the thread ending the process).
 * A program thread's full buffer is copied in under the stage's own lock, held for that copy
 * alone: it never waits for the file, for compression or for the generation's end. So a cut
 * file holds every generation that ended, and a reader needs one generation in memory. */
#define STAGE_RESERVE (128u << 20)    /* address space of a stage, pages taken as filled */
#define STAGE_PROGRAM_MAX (64u << 20) /* a program thread's batch past this is lost, counted */
#define STAGE_EARLY (4u << 20)        /* past this the advancer ends the generation early */
#define STAGE_KEEP (8u << 20)         /* pages a stage keeps after its generation is written */
#define FLIGHT_SHARE 16 /* with the flight recorder, a generation ends early at 1/16 of its ring */
#define RECORD_HEAD (1 + 3 * XT_MAX_VARINT)
_Static_assert(STAGE_RESERVE <= XT_MAX_GEN_SIZE, "a reader must accept every generation");
struct stage {
	pthread_mutex_t lock;
	uint64_t gen;       /* the generation gathered here; 0: none (a late batch is lost) */
	uint64_t nbatches;  /* batches gathered, for End */
	size_t len, touched;
	uint8_t *buf;       /* STAGE_RESERVE bytes, mapped at open */
	bool sealed;        /* the advancer is writing gen: program threads' batches are lost */
	bool early;         /* the advancer was asked to end gen early */
};
static struct stage stages[2] = {{.lock = PTHREAD_MUTEX_INITIALIZER},
				 {.lock = PTHREAD_MUTEX_INITIALIZER}};
/* With the flight recorder the memory gathering and compressing a generation stays small beside
 * the ring, so the whole stays near the setting: generations end early at a sixteenth of the
 * ring, and the stages and the compressed copy keep twice that (XTRACE_FLIGHT=16: 1 and 2 MiB). */
static size_t early_at = STAGE_EARLY, keep_at = STAGE_KEEP;
static ZSTD_CCtx *cctx;       /* made in cctx_mem at the first compression of each trace */
static uint8_t *cctx_mem;     /* then the column workspace and one segment's column form */
static struct xt_columns *colws;
static uint8_t *colform;
static uint8_t *zbuf;
static size_t zbuf_touched;

const char *xt_out_exe_path(void)
{
	return exe;
}

bool xt_out_ok(void)
{
	return opened && !atomic_load(&failed);
}

int xt_out_fd(void)
{
	return atomic_load_explicit(&fd, memory_order_relaxed);
}

/* expand writes the pattern with %p, %e and %% replaced; false if it does not fit. */
static bool expand(char *out, size_t cap, const char *pattern, const char *name, long pid)
{
	size_t n = 0;
	for (const char *p = pattern; *p; p++) {
		char tmp[32];
		const char *piece = tmp;
		if (*p == '%' && p[1] == 'p') {
			xt_decimal(tmp, (unsigned long long)pid);
			p++;
		} else if (*p == '%' && p[1] == 'e') {
			piece = name;
			p++;
		} else if (*p == '%' && p[1] == '%') {
			tmp[0] = '%', tmp[1] = 0;
			p++;
		} else {
			tmp[0] = *p, tmp[1] = 0;
		}
		size_t l = strlen(piece);
		if (n + l >= cap)
			return false;
		memcpy(out + n, piece, l);
		n += l;
	}
	out[n] = 0;
	return true;
}

/* numbered makes "base.N.xt" from "base.xt" (or "name.N" without the extension). */
static bool numbered(char *out, size_t cap, const char *name, unsigned n)
{
	size_t l = strlen(name);
	bool xt = l > 3 && strcmp(name + l - 3, ".xt") == 0;
	char num[XT_DECIMAL_CAP];
	const char *tail[] = {".", xt_decimal(num, n), xt ? ".xt" : ""};
	if (xt)
		l -= 3;
	if (l >= cap)
		return false;
	memcpy(out, name, l);
	return xt_join(out + l, cap - l, tail, 3);
}

static size_t read_small_file(const char *p, char *buf, size_t cap)
{
	int f = open(p, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	size_t n = 0;
	while (n < cap) {
		ssize_t r = xt_real.read(f, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	xt_real.close(f);
	return n;
}

/* earlier_image tells whether p is the trace of an earlier image of this process (exec keeps
 * the pid): taking the next name is then expected, not worth a line on stderr. */
static bool earlier_image(const char *p)
{
	int f = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (f < 0)
		return false;
	uint8_t h[XT_MAGIC_LEN + 4 * XT_MAX_VARINT];
	ssize_t n = xt_real.read(f, h, sizeof(h));
	xt_real.close(f);
	const uint8_t *q = h + XT_MAGIC_LEN, *end = h + (n > 0 ? n : 0);
	uint64_t size, version, ticks, pid;
	return n > XT_MAGIC_LEN && memcmp(h, XT_MAGIC, XT_MAGIC_LEN) == 0 &&
	       xt_get_uvarint(&q, end, &size) == 0 && xt_get_uvarint(&q, end, &version) == 0 &&
	       xt_get_uvarint(&q, end, &ticks) == 0 && xt_get_uvarint(&q, end, &pid) == 0 &&
	       pid == (uint64_t)getpid();
}

static bool write_all(int f, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(f, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

/* map_rw maps len bytes of address space, its pages taken only as they are touched. What it
 * holds is this process's generations alone: a fork child gets it empty (MADV_WIPEONFORK), so
 * the fork copies none of its pages' entries and the parent's next writes to them are no
 * copies. */
static uint8_t *map_rw(size_t len)
{
	void *m = xt_real.mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	madvise(m, len, MADV_WIPEONFORK);
	return m;
}

/* A buffer that gathers generations (a stage, the compressed copy) takes its first HUGE_AFTER
 * bytes in small pages and the rest in huge pages where the kernel gives them: filling
 * megabytes then costs a page fault per 2 MiB, not one per 4 KiB (a program thread copying its
 * batch in took thousands), while a process that writes little keeps small pages. Not with the
 * flight recorder, whose generations stay small and whose memory stays near its setting. */
#define HUGE_PAGE (2u << 20)
#define HUGE_AFTER (256u << 10)

static uintptr_t huge_up(uintptr_t a)
{
	return (a + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
}

/* map_gather maps len bytes for gathering, HUGE_AFTER bytes before a huge page boundary. */
static uint8_t *map_gather(size_t len)
{
	uint8_t *m = map_rw(len + HUGE_PAGE);
	if (!m)
		return NULL;
	uint8_t *buf = (uint8_t *)(huge_up((uintptr_t)m + HUGE_AFTER) - HUGE_AFTER);
	if (!xt_config.flight_mib)
		madvise(buf + HUGE_AFTER, len - HUGE_AFTER, MADV_HUGEPAGE); /* without THP: small */
	return buf;
}

static void fail(const char *what, const char *why)
{
	if (atomic_exchange(&failed, 1))
		return;
	xt_say("cannot %s trace file %s: %s; tracing stops, the program goes on", what, path, why);
	atomic_store(&xt_gen, 0);
}

/* adopt_fd makes f, the trace file just created as path for process pid, the trace
 * descriptor. */
static bool adopt_fd(int f, pid_t pid)
{
	struct stat st;
	if (fstat(f, &st) != 0) {
		xt_say("cannot stat trace file %s: %s; the program runs untraced", path, strerror(errno));
		xt_real.close(f);
		return false;
	}
	file_dev = st.st_dev;
	file_ino = st.st_ino;
	file_pid = pid;
	size_t pl = strlen(path), al = 0;
	abs_path = path + pl + 1;
	if (path[0] != '/' && getcwd(abs_path, ABS_PATH_CAP - PATH_CAP - 1)) {
		al = strlen(abs_path);
		abs_path[al++] = '/';
	}
	memcpy(abs_path + al, path, pl + 1);
	int old = atomic_exchange(&fd, xt_fds_move_high(f));
	if (old >= 0)
		xt_real.close(old);
	opened = true;
	atomic_store(&failed, 0);
	return true;
}

bool xt_out_open(const struct xt_origin *origin)
{
	/* A fork child runs its parent's executable, whose path names holds already; its context
	 * came to it wiped (map_rw). */
	exe = names;
	if (!origin->fork_parent_pid) {
		ssize_t el = readlink("/proc/self/exe", exe, PATH_CAP - 1);
		exe[el > 0 ? el : 0] = 0;
	}
	cctx = NULL;
	path = exe + strlen(exe) + 1;
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	long pid = (long)getpid();

	char want[PATH_CAP];
	/* In a run directory every image of every process has a file: <pid>.0.xt first, the next
	 * number after an exec (or a reused pid), and nothing on stderr about it. */
	int in_dir = xt_config.out_dir[0] != 0;
	char num[XT_DECIMAL_CAP];
	const char *in_dir_name[] = {xt_config.out_dir, "/", xt_decimal(num, (unsigned long long)pid),
				     ".xt"};
	if (in_dir && !xt_join(want, sizeof(want), in_dir_name, 4)) {
		xt_say("XTRACE_DIR=%s is too long; not tracing", xt_config.out_dir);
		return false;
	}
	if (!in_dir && !expand(want, sizeof(want), xt_config.out_pattern, base, pid)) {
		xt_say("XTRACE_OUT=%s expands to a path that is too long; not tracing",
		       xt_config.out_pattern);
		return false;
	}
	int f = -1, err = 0;
	const char *taken = NULL; /* why the name asked for was not used, if worth saying */
	for (unsigned n = 0; n < 1000; n++) {
		if (n == 0 && !in_dir)
			strcpy(path, want);
		else if (!numbered(path, PATH_CAP, want, n))
			break;
		f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f >= 0 || errno != EEXIST) {
			err = errno;
			break;
		}
		struct stat st;
		if (in_dir)
			continue;
		if (n == 0 && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			taken = "is a symlink, not written through";
		else if (n == 0 && !earlier_image(path))
			taken = "exists, not overwritten";
	}
	if (f < 0) {
		xt_say("cannot create trace file %s: %s; the program runs untraced", path,
		       strerror(err ? err : EEXIST));
		return false;
	}
	if (taken)
		xt_say("%s %s; tracing to %s", want, taken, path);
	if (!adopt_fd(f, (pid_t)pid))
		return false;

	char cmdline[4096];
	size_t cl = read_small_file("/proc/self/cmdline", cmdline, sizeof(cmdline));
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	size_t exl = strlen(exe);

	uint8_t fields[12 * XT_MAX_VARINT], *p = fields;
	p = xt_put_uvarint(p, XT_FORMAT_VERSION);
	p = xt_put_uvarint(p, xt_clock.use_tsc ? XT_TICKS_PER_GEN : XT_TICKS_PER_SEC);
	p = xt_put_uvarint(p, (uint64_t)pid);
	p = xt_put_uvarint(p, (uint64_t)getppid());
	p = xt_put_uvarint(p, origin->fork_parent_pid);
	p = xt_put_uvarint(p, origin->fork_ts);
	p = xt_put_uvarint(p, xt_mono_ns());
	p = xt_put_uvarint(p, (uint64_t)wall.tv_sec);
	p = xt_put_uvarint(p, (uint64_t)wall.tv_nsec);
	size_t flen = (size_t)(p - fields);
	size_t size = flen + xt_uvarint_len(exl) + exl + xt_uvarint_len(cl) + cl +
		      xt_uvarint_len(xt_config.sample_bytes);

	hdr = (uint8_t *)abs_path + strlen(abs_path) + 1;
	uint8_t *h = hdr;
	memcpy(h, XT_MAGIC, XT_MAGIC_LEN);
	h = xt_put_uvarint(h + XT_MAGIC_LEN, size);
	memcpy(h, fields, flen);
	h = xt_put_uvarint(h + flen, exl);
	memcpy(h, exe, exl);
	h = xt_put_uvarint(h + exl, cl);
	memcpy(h, cmdline, cl);
	h = xt_put_uvarint(h + cl, xt_config.sample_bytes);

	hdr_len = (size_t)(h - hdr);
	for (int i = 0; i < 2; i++) {
		if (!stages[i].buf)
			stages[i].buf = map_gather(STAGE_RESERVE);
		if (!stages[i].buf) {
			xt_say("cannot map memory for the trace; the program runs untraced");
			return false;
		}
		stages[i].gen = 0; /* a fork child's stages held its parent's generations */
	}
	xt_out_open_gen(1);
	xt_prefault(stages[1].buf, 1); /* generation 1's first batch goes there */
	if (!write_all(fd, hdr, hdr_len)) {
		fail("write", strerror(errno));
		return false;
	}
	/* The file the recorder writes is the header and the ring: at most XTRACE_FLIGHT MiB. */
	if (xt_config.flight_mib &&
	    !xt_flight_reset(((size_t)xt_config.flight_mib << 20) - HDR_CAP))
		xt_say("cannot map XTRACE_FLIGHT=%u MiB; the trace is written as it goes",
		       xt_config.flight_mib);
	if (xt_flight_on() && ((size_t)xt_config.flight_mib << 20) / FLIGHT_SHARE < STAGE_EARLY) {
		early_at = ((size_t)xt_config.flight_mib << 20) / FLIGHT_SHARE;
		keep_at = 2 * early_at;
	}
	return true;
}

void xt_out_close(void)
{
	int f = atomic_exchange(&fd, -1);
	if (f >= 0)
		xt_real.close(f);
	opened = false;
}

void xt_out_lock(void)
{
	pthread_mutex_lock(&lock);
}

bool xt_out_trylock(unsigned timeout_ms)
{
	for (unsigned i = 0; i <= timeout_ms; i++) {
		if (pthread_mutex_trylock(&lock) == 0)
			return true;
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	return false;
}

void xt_out_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

/* may_write: only the process the trace belongs to writes it, and a child sharing its memory
 * (vfork, CLONE_VM), whose buffers are that process's. A copy made past the fork handlers that
 * has not got a trace of its own holds the traced process's buffers, which that one writes.
 * The mark first: it tells both with a load, sparing a system call a batch (about 1.6 us on a
 * VM, some ten of them in the generation a short process writes). */
static bool may_write(void)
{
	return xt_clone_shares_memory() || getpid() == file_pid;
}

/* usable_fd returns the descriptor to write with, checked to be the trace file; -1 if there is
 * none. A child sharing the traced process's memory does not change the descriptor they share
 * the number of: what it reopens is for this write only (*temp). Lock held, signals blocked. */
static int usable_fd(int *temp)
{
	*temp = -1;
	int f = atomic_load(&fd);
	struct stat st;
	if (f >= 0 && fstat(f, &st) == 0 && st.st_dev == file_dev && st.st_ino == file_ino)
		return f;
	/* O_NONBLOCK: a FIFO put in the file's place must not block the open; the regular file
	 * the identity check accepts ignores it. */
	int r = open(abs_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	const char *why = r < 0 ? strerror(errno) : NULL;
	if (r >= 0 && (fstat(r, &st) != 0 || st.st_dev != file_dev || st.st_ino != file_ino)) {
		xt_real.close(r);
		r = -1;
		why = "another file has its name now";
	}
	if (r < 0) {
		if (getpid() == file_pid)
			fail("reopen", why);
		return -1;
	}
	r = xt_fds_move_high(r);
	if (getpid() == file_pid)
		atomic_store(&fd, r);
	else
		*temp = r;
	return r;
}

void xt_out_vacate(int n)
{
	/* A signal handler on top of this thread's own use of the file cannot wait for the lock
	 * its thread holds (EDEADLK); signals are blocked while a write uses the descriptor, so it
	 * may move it. */
	bool take = pthread_mutex_lock(&lock) == 0;
	if (n == atomic_load(&fd) && getpid() == file_pid) {
		int moved = xt_fds_high(n);
		/* no number free: the next write opens the file again, if one is free then */
		atomic_store(&fd, moved);
		xt_real.close(n);
	}
	if (take)
		pthread_mutex_unlock(&lock);
}

/* put_generation writes one generation's bytes, whole: the one place they go to the file. */
static void put_generation(const uint8_t *bytes, size_t len)
{
	/* No signal handler may move the descriptor between its check and the write, nor find
	 * the flight recorder's ring half written (a fatal signal's handler writes it). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (xt_flight_on()) {
		/* kept in memory; written when the recorder is asked to (xt_out_flight_write) */
		struct iovec iov = {(void *)bytes, len};
		xt_flight_put(&iov, 1);
		xt_flight_end_gen();
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return;
	}
	int temp, f = usable_fd(&temp);
	bool ok = f >= 0 && write_all(f, bytes, len);
	int err = errno;
	if (temp >= 0)
		xt_real.close(temp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (f >= 0 && !ok)
		fail("write", strerror(err)); /* f < 0: said so when it could not reopen */
}

/* stage_put appends one batch to stage s (its lock held); false if it does not fit in cap. */
static bool stage_put(struct stage *s, size_t cap, uint8_t kind, uint8_t exp, uint64_t thread,
		      uint64_t time, const void *data, size_t len)
{
	uint8_t head[2 + 4 * XT_MAX_VARINT], *p = head;
	*p++ = kind;
	if (kind == XT_BATCH_EXPERIMENTAL)
		*p++ = exp;
	p = xt_put_uvarint(p, s->gen);
	p = xt_put_uvarint(p, thread);
	p = xt_put_uvarint(p, time);
	p = xt_put_uvarint(p, len);
	size_t hl = (size_t)(p - head);
	if (!s->buf || s->len + hl + len > cap)
		return false;
	memcpy(s->buf + s->len, head, hl);
	memcpy(s->buf + s->len + hl, data, len);
	s->len += hl + len;
	if (s->len > s->touched)
		s->touched = s->len;
	s->nbatches++;
	return true;
}

void xt_out_batch(uint8_t kind, uint8_t exp, uint64_t gen, uint64_t thread, uint64_t time,
		  const void *data, size_t len)
{
	if (!opened || atomic_load(&failed) || !may_write())
		return;
	struct stage *s = &stages[gen & 1];
	pthread_mutex_lock(&s->lock);
	bool put = s->gen == gen && stage_put(s, STAGE_RESERVE, kind, exp, thread, time, data, len);
	pthread_mutex_unlock(&s->lock);
	if (!put && s->buf)
		fail("stage", "a generation outgrew its memory");
}

struct xt_tablew *xt_tablew_shared(void)
{
	/* its head and the start of its buffer in one page */
	static _Alignas(4096) struct xt_tablew w;
	return &w;
}

void xt_tablew_begin(struct xt_tablew *w, uint8_t kind, uint8_t exp, uint64_t gen, uint64_t time)
{
	w->kind = kind;
	w->exp = exp;
	w->subtype = -1;
	w->gen = gen;
	w->time = time;
	w->len = 0;
}

void xt_tablew_flush(struct xt_tablew *w)
{
	if (w->len > (w->subtype >= 0 ? 1u : 0u))
		xt_out_batch(w->kind, w->exp, w->gen, 0, w->time, w->buf, w->len);
	w->len = 0;
}

uint8_t *xt_tablew_room(struct xt_tablew *w, size_t need)
{
	if (w->len + need > sizeof(w->buf))
		xt_tablew_flush(w);
	if (w->len == 0 && w->subtype >= 0)
		w->buf[w->len++] = (uint8_t)w->subtype;
	return w->buf + w->len;
}

void xt_tablew_commit(struct xt_tablew *w, const uint8_t *end)
{
	w->len = (size_t)(end - w->buf);
}

void xt_tablew_string(struct xt_tablew *w, uint64_t id, const void *s, size_t len)
{
	uint8_t *p = xt_tablew_room(w, 2 * XT_MAX_VARINT + len);
	p = xt_put_uvarint(p, id);
	p = xt_put_uvarint(p, len);
	memcpy(p, s, len);
	xt_tablew_commit(w, p + len);
}

bool xt_out_events_batch(uint64_t gen, uint64_t thread, uint64_t time, const void *data, size_t len,
			 _Atomic uint32_t *events)
{
	if (!may_write())
		return false; /* its lock may be a copy of one held when the process was copied */
	struct stage *s = &stages[gen & 1];
	pthread_mutex_lock(&s->lock);
	bool put = s->gen == gen && !s->sealed &&
		   stage_put(s, STAGE_PROGRAM_MAX, XT_BATCH_EVENTS, 0, thread, time, data, len);
	if (put)
		atomic_store_explicit(events, 0, memory_order_relaxed);
	bool early = put && s->len > early_at && !s->early;
	if (early)
		s->early = true;
	pthread_mutex_unlock(&s->lock);
	if (early)
		xt_gen_advance_soon();
	return put;
}

void xt_out_open_gen(uint64_t gen)
{
	struct stage *s = &stages[gen & 1];
	pthread_mutex_lock(&s->lock);
	s->gen = gen;
	s->len = 0;
	s->nbatches = 0;
	s->sealed = false;
	s->early = false;
	pthread_mutex_unlock(&s->lock);
}

void xt_out_seal(uint64_t gen)
{
	struct stage *s = &stages[gen & 1];
	pthread_mutex_lock(&s->lock);
	if (s->gen == gen)
		s->sealed = true;
	pthread_mutex_unlock(&s->lock);
}

/* event_nargs fills nargs with each event type's argument count, XT_COL_NO_TYPE for a type
 * neither built in nor defined by the program. */
static void event_nargs(uint8_t nargs[256])
{
	for (unsigned t = 0; t < 256; t++)
		nargs[t] = xt_specs[t].name || xt_runtime_event_defined(t)
				   ? xt_event_spec_of((uint8_t)t)->nargs
				   : XT_COL_NO_TYPE;
}

/* compress_columns writes into out (cap bytes) the column form of the plain generation bytes
 * src (columns.h), a zstd frame per segment: its length, or 0 if it cannot. A frame of each
 * segment alone, its size known, takes zstd's plain path and tables fit to it. */
static size_t compress_columns(const uint8_t *src, size_t len, uint8_t *out, size_t cap)
{
	uint8_t nargs[256];
	event_nargs(nargs);
	size_t z = 0;
	for (size_t off = 0, took = 0; off < len; off += took) {
		size_t n = xt_columns_split(src + off, len - off, nargs, colws, colform, &took);
		size_t f = n ? ZSTD_compressCCtx(cctx, out + z, cap - z, colform, n, XT_ZSTD_LEVEL) : 0;
		if (!n || ZSTD_isError(f))
			return 0;
		z += f;
	}
	return z;
}

/* compress writes the zstd record of the plain generation bytes src into zbuf, returning where
 * the record begins and its length in *rlen; NULL if it cannot (the generation goes plain). The
 * record holds the generation's column form, or its plain bytes: should src not split, or when
 * the generation gathered more than twice what ends one early. That one the program filled
 * faster than this thread writes generations, and the split costs about what zstd does: so
 * a program that allocates flat out on every processor loses no events to the smaller file. */
static const uint8_t *compress(uint64_t gen, const uint8_t *src, size_t len, size_t *rlen)
{
	if (!cctx) {
		/* A static context in memory of the shim's own: zstd allocates nothing. */
		size_t ws = ZSTD_estimateCCtxSize(XT_ZSTD_LEVEL);
		ws = (ws + 63) & ~(size_t)63;
		if (!cctx_mem) {
			cctx_mem = map_rw(ws + sizeof *colws + XT_COL_SPLIT_ROOM);
			zbuf = map_gather(RECORD_HEAD + ZSTD_compressBound(STAGE_RESERVE));
		}
		cctx = cctx_mem && zbuf ? ZSTD_initStaticCCtx(cctx_mem, ws) : NULL;
		if (!cctx)
			return NULL;
		colws = (struct xt_columns *)(cctx_mem + ws);
		colform = (uint8_t *)(colws + 1);
	}
	uint8_t kind = XT_RECORD_ZSTD_COLUMNS;
	size_t cap = ZSTD_compressBound(STAGE_RESERVE);
	size_t z = len <= 2 * early_at ? compress_columns(src, len, zbuf + RECORD_HEAD, cap) : 0;
	if (!z) {
		kind = XT_RECORD_ZSTD;
		z = ZSTD_compressCCtx(cctx, zbuf + RECORD_HEAD, cap, src, len, XT_ZSTD_LEVEL);
		if (ZSTD_isError(z))
			return NULL;
	}
	if (RECORD_HEAD + z > zbuf_touched)
		zbuf_touched = RECORD_HEAD + z;
	uint8_t head[RECORD_HEAD], *p = head;
	*p++ = kind;
	p = xt_put_uvarint(p, gen);
	p = xt_put_uvarint(p, len);
	p = xt_put_uvarint(p, z);
	size_t hl = (size_t)(p - head);
	memcpy(zbuf + RECORD_HEAD - hl, head, hl);
	*rlen = hl + z;
	return zbuf + RECORD_HEAD - hl;
}

/* trim gives back the pages of buf (map_gather's) touched past keep_at, from a huge page's
 * boundary (a huge page is not split). */
static void trim(uint8_t *buf, size_t *touched)
{
	size_t keep = keep_at <= HUGE_AFTER ? (keep_at + 4095) & ~(size_t)4095
					    : huge_up((uintptr_t)buf + keep_at) - (uintptr_t)buf;
	if (*touched > keep) {
		madvise(buf + keep, *touched - keep, MADV_DONTNEED);
		*touched = keep;
	}
}

void xt_out_end(uint64_t gen, uint64_t lost)
{
	struct stage *s = &stages[gen & 1];
	uint8_t payload[2 * XT_MAX_VARINT], *p = payload;
	p = xt_put_uvarint(p, s->nbatches);
	p = xt_put_uvarint(p, lost);
	xt_out_batch(XT_BATCH_END, 0, gen, 0, xt_now(), payload, (size_t)(p - payload));
	if (!opened || atomic_load(&failed) || !may_write())
		return;
	/* Every section of gen has ended and the stage is sealed: only this thread touches it. */
	size_t rlen = 0;
	const uint8_t *rec = xt_config.compress && s->len >= XT_COMPRESS_MIN
				     ? compress(gen, s->buf, s->len, &rlen)
				     : NULL;
	if (!rec || rlen >= s->len) /* a generation too small to shrink goes plain */
		rec = s->buf, rlen = s->len;
	put_generation(rec, rlen);
	pthread_mutex_lock(&s->lock);
	s->gen = 0;
	s->len = 0;
	/* a burst's pages go back to the system */
	trim(s->buf, &s->touched);
	pthread_mutex_unlock(&s->lock);
	trim(zbuf, &zbuf_touched);
}

/* write_kept writes the flight recorder's complete generations to f; false on an error. */
static bool write_kept(int f)
{
	struct iovec kept[2];
	int n = xt_flight_kept(kept);
	for (int i = 0; i < n; i++)
		if (!write_all(f, kept[i].iov_base, kept[i].iov_len))
			return false;
	return true;
}

void xt_out_flight_write(bool crash)
{
	if (!xt_flight_on() || !opened || atomic_load(&failed) || !may_write())
		return;
	if (crash && !xt_out_trylock(300))
		return;
	if (!crash)
		xt_out_lock();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int temp, f = usable_fd(&temp);
	bool ok = f < 0 || write_kept(f); /* f < 0: said so when it could not reopen */
	if (ok)
		xt_flight_drain();
	int err = errno;
	if (temp >= 0)
		xt_real.close(temp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok)
		fail("write", strerror(err));
	xt_out_unlock();
}

bool xt_out_flight_snapshot(char *reply, size_t cap)
{
	xt_out_lock();
	/* <trace name>.snapshot.<n>.xt, next to the trace */
	char want[ABS_PATH_CAP + 16], name[sizeof want + 16];
	size_t l = strlen(abs_path);
	if (l > 3 && strcmp(abs_path + l - 3, ".xt") == 0)
		l -= 3;
	snprintf(want, sizeof want, "%.*s.snapshot.xt", (int)l, abs_path);
	int f = -1, err = EEXIST;
	for (unsigned n = 1; f < 0 && err == EEXIST && n < 100000; n++) {
		if (!numbered(name, sizeof name, want, n))
			break;
		f = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		err = f < 0 ? errno : 0;
	}
	bool ok = f >= 0;
	if (ok) {
		f = xt_fds_move_high(f);
		ok = write_all(f, hdr, hdr_len) && write_kept(f);
		err = errno;
		xt_real.close(f);
	}
	xt_out_unlock();
	if (ok)
		snprintf(reply, cap, "%s\n", name);
	else
		snprintf(reply, cap, "cannot write a snapshot next to %s: %s\n", abs_path,
			 strerror(err));
	return ok;
}

void xt_out_flight_status(char *reply, size_t cap)
{
	xt_out_lock();
	if (xt_flight_on())
		xt_flight_status(reply, cap);
	else if (cap)
		reply[0] = 0;
	xt_out_unlock();
}

void xt_out_reinit_locks(void)
{
	/* Stores, not pthread_mutex_init: functions this process has not called yet would be bound
	 * now, in every fork child (a lookup, and a copy of the page their addresses go in). */
	lock = (pthread_mutex_t)PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
	for (int i = 0; i < 2; i++)
		stages[i].lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}
