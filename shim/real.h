/* real.h: pointers to the real functions the shim interposes, and the bootstrap pool. The
 * shim's own mappings call xt_real.mmap and xt_real.munmap: AddrSpace records the program's. */
#ifndef XT_REAL_H
#define XT_REAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* X(return type, name, parameter list) for every function whose real version the shim calls. */
#define XT_REAL_FUNCTIONS(X)                                                          \
	X(void *, malloc, (size_t))                                                       \
	X(void, free, (void *))                                                           \
	X(void *, calloc, (size_t, size_t))                                               \
	X(void *, realloc, (void *, size_t))                                              \
	X(void *, reallocarray, (void *, size_t, size_t))                                 \
	X(int, posix_memalign, (void **, size_t, size_t))                                 \
	X(void *, aligned_alloc, (size_t, size_t))                                        \
	X(void *, memalign, (size_t, size_t))                                             \
	X(void *, valloc, (size_t))                                                       \
	X(void *, pvalloc, (size_t))                                                      \
	X(int, execve, (const char *, char *const[], char *const[]))                      \
	X(int, execv, (const char *, char *const[]))                                      \
	X(int, execvp, (const char *, char *const[]))                                     \
	X(int, execvpe, (const char *, char *const[], char *const[]))                     \
	X(int, fexecve, (int, char *const[], char *const[]))                              \
	X(int, execveat, (int, const char *, char *const[], char *const[], int))          \
	X(void, _exit, (int))                                                             \
	X(void, _Exit, (int))                                                             \
	X(int, sigaction, (int, const struct sigaction *, struct sigaction *))            \
	X(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *)) \
	X(int, pthread_getattr_np, (pthread_t, pthread_attr_t *))                         \
	X(int, dlclose, (void *))                                                         \
	X(int, timer_create, (clockid_t, struct sigevent *, timer_t *))                   \
	X(int, timer_settime, (timer_t, int, const struct itimerspec *, struct itimerspec *)) \
	X(int, timer_gettime, (timer_t, struct itimerspec *))                             \
	X(int, timer_getoverrun, (timer_t))                                               \
	X(int, timer_delete, (timer_t))                                                   \
	X(int, setitimer, (__itimer_which_t, const struct itimerval *, struct itimerval *)) \
	X(int, getitimer, (__itimer_which_t, struct itimerval *))                         \
	X(unsigned, alarm, (unsigned))                                                    \
	X(int, timerfd_create, (int, int))                                                \
	X(int, timerfd_settime, (int, int, const struct itimerspec *, struct itimerspec *)) \
	X(int, timerfd_gettime, (int, struct itimerspec *))                               \
	X(int, nanosleep, (const struct timespec *, struct timespec *))                   \
	X(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *)) \
	X(int, usleep, (useconds_t))                                                      \
	X(unsigned, sleep, (unsigned))                                                    \
	X(ssize_t, read, (int, void *, size_t))                                           \
	X(ssize_t, __read_chk, (int, void *, size_t, size_t))                             \
	X(int, close, (int))                                                              \
	X(int, dup, (int))                                                                \
	X(int, dup2, (int, int))                                                          \
	X(int, dup3, (int, int, int))                                                     \
	X(int, close_range, (unsigned, unsigned, int))                                    \
	X(void, closefrom, (int))                                                         \
	X(int, fcntl, (int, int, ...))                                                    \
	X(int, fcntl64, (int, int, ...))                                                  \
	X(int, pipe2, (int *, int))                                                       \
	X(void *, mmap, (void *, size_t, int, int, int, off_t))                           \
	X(void *, mmap64, (void *, size_t, int, int, int, off_t)) /* off64_t is off_t */  \
	X(int, munmap, (void *, size_t))                                                  \
	X(void *, mremap, (void *, size_t, size_t, int, ...))                             \
	X(int, brk, (void *))                                                             \
	X(void *, sbrk, (intptr_t))

struct xt_real {
#define XT_REAL_FIELD(ret, name, params) ret(*name) params;
	XT_REAL_FUNCTIONS(XT_REAL_FIELD)
#undef XT_REAL_FIELD
};
extern struct xt_real xt_real;

/* xt_real_resolve fills xt_real (idempotent; concurrent callers wait for the first). */
XT_HIDDEN void xt_real_resolve(void);

/* The pool: static memory the shim serves allocations from where the real allocator is not
 * the one to use, recognised by address wherever they are freed (free() asks every time).
 * Its first XT_BOOT_SIZE bytes serve the dlsym window, before the real functions are known
 * (xt_pool_alloc: a bump, never freed; well under a kilobyte; 64 KiB leaves room for odd
 * libcs). The rest, the inner blocks, serve the shim's own allocations (made while
 * xt_tl.internal: libunwind's thread-local block on each thread it walks, the loader's when
 * it loads libunwind, glibc's inside the shim's calls), which glibc may free anywhere later:
 * a thread's thread-local blocks when another thread reuses its stack. Such a free is then
 * known as the shim's and not recorded; from the real allocator it would be the free of a
 * block the trace never saw. */
#define XT_BOOT_SIZE (64u << 10)
#ifdef XT_SANITIZED_THREADS
/* none under TSan: it cannot see a block pass from the thread that freed it to the next one,
 * the stacks' atomics being in code built without it */
#define XT_INNER_SIZE 0u
#else
#define XT_INNER_SIZE (448u << 10)
#endif
#define XT_POOL_SIZE (XT_BOOT_SIZE + XT_INNER_SIZE)
extern XT_HIDDEN unsigned char xt_pool[XT_POOL_SIZE];
XT_HIDDEN void *xt_pool_alloc(size_t n, size_t align);
/* xt_pool_owns: p is a pool block. Inline: every free asks. */
static inline bool xt_pool_owns(const void *p)
{
	return (const unsigned char *)p >= xt_pool && (const unsigned char *)p < xt_pool + XT_POOL_SIZE;
}
/* xt_pool_size_from: bytes a pool block may hold from p (a bound for copying it). */
XT_HIDDEN size_t xt_pool_size_from(const void *p);
/* xt_inner_owns: the pool block p is an inner block. */
static inline bool xt_inner_owns(const void *p)
{
	return (const unsigned char *)p >= xt_pool + XT_BOOT_SIZE;
}
/* xt_inner_alloc: an inner block of n bytes, 16-aligned, or NULL (over 4 KiB, or none left:
 * the real allocator serves it). Lock-free, async-signal-safe. */
XT_HIDDEN void *xt_inner_alloc(size_t n);
/* xt_inner_free: the inner block p is free again. */
XT_HIDDEN void xt_inner_free(void *p);

#endif
