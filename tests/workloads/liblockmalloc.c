/* liblockmalloc.c: an allocator in front of glibc's that holds a lock of its own during every
 * call, as many allocators do, preloaded after the shim (so it is what the shim calls the real
 * malloc). A thread that calls lockmalloc_signal_next gets SIGUSR1 sent to itself from inside
 * its next malloc, while the lock is held: a handler that allocates then would deadlock. */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int signal_inside;

void lockmalloc_signal_next(void)
{
	signal_inside = 1;
}

void *malloc(size_t n)
{
	pthread_mutex_lock(&lock);
	void *p = __libc_malloc(n);
	if (signal_inside) {
		signal_inside = 0;
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	}
	pthread_mutex_unlock(&lock);
	return p;
}

void *calloc(size_t n, size_t size)
{
	pthread_mutex_lock(&lock);
	void *p = __libc_calloc(n, size);
	pthread_mutex_unlock(&lock);
	return p;
}

void *realloc(void *p, size_t n)
{
	pthread_mutex_lock(&lock);
	void *q = __libc_realloc(p, n);
	pthread_mutex_unlock(&lock);
	return q;
}

void free(void *p)
{
	pthread_mutex_lock(&lock);
	__libc_free(p);
	pthread_mutex_unlock(&lock);
}
