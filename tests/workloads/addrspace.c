/* addrspace.c: the address-space calls AddrSpace records, each once, then a quiet spell.
 * Maps 1 MiB anonymous (mmap) and its own executable's first page (mmap64), grows the first to
 * 3 MiB (mremap, may move), unmaps both; moves the break up 64 KiB and back (sbrk) and sets it
 * again (brk); makes calls that fail (munmap of an unaligned address, mmap of 0 bytes, mremap
 * of an unaligned address) and prints their results and errno; runs two threads, which each
 * allocate once and print their stack; allocates 64 MiB with malloc (glibc maps it) and frees
 * it. Then sleeps QUIET_MS (default 200) in 5 ms steps, reading /proc/self/statm at each, and
 * prints the least and most resident and mapped bytes it saw and when the spell began
 * (CLOCK_MONOTONIC ns).
 * stdout holds what does not depend on addresses (the same traced and untraced); the
 * addresses and the statm range go to stderr as "key=value" lines.
 *   addrspace [QUIET_MS] */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "workload.h"

static void statm(uint64_t *mapped, uint64_t *resident)
{
	char buf[128] = "";
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	unsigned long long size = 0, res = 0;
	sscanf(buf, "%llu %llu", &size, &res);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	*mapped = size * page;
	*resident = res * page;
}

static void *thread_main(void *arg)
{
	long i = (long)arg;
	free(malloc(16)); /* the thread's first event: its stack is seen then */
	pthread_attr_t attr;
	void *lo;
	size_t size;
	pthread_getattr_np(pthread_self(), &attr);
	pthread_attr_getstack(&attr, &lo, &size);
	pthread_attr_destroy(&attr);
	say_err("thread%ld tid=%ld stack=%p len=%zu\n", i, workload_tid(), lo, size);
	return NULL;
}

int main(int argc, char **argv)
{
	int quiet_ms = argc > 1 ? atoi(argv[1]) : 200;
	say_err("main tid=%ld\n", workload_tid());

	char *anon = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(anon, 1, 1 << 20);
	say_err("anon addr=%p\n", (void *)anon);
	int fd = open("/proc/self/exe", O_RDONLY);
	void *file = mmap64(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	say_err("file addr=%p\n", file);
	char *grown = mremap(anon, 1 << 20, 3 << 20, MREMAP_MAYMOVE);
	say_err("grown addr=%p\n", (void *)grown);
	say("mmap %s mmap64 %s mremap %s\n", anon != MAP_FAILED ? "ok" : "failed",
	    file != MAP_FAILED ? "ok" : "failed", grown != MAP_FAILED ? "ok" : "failed");
	say("munmap file=%d\n", munmap(file, 4096));
	say("munmap grown=%d\n", munmap(grown, 3 << 20));

	char *base = sbrk(0);
	char *up = sbrk(64 << 10);
	char *down = sbrk(-(64 << 10));
	int set = brk(base);
	say_err("brk base=%p\n", (void *)base);
	say("sbrk up=%d down=%d brk=%d\n", up == base, down == base + (64 << 10), set);

	errno = 0;
	int r = munmap(anon + 1, 4096);
	say("bad munmap=%d errno=%d\n", r, errno);
	errno = 0;
	void *m = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say("bad mmap=%d errno=%d\n", m == MAP_FAILED, errno);
	errno = 0;
	m = mremap(anon + 1, 4096, 8192, MREMAP_MAYMOVE);
	say("bad mremap=%d errno=%d\n", m == MAP_FAILED, errno);

	pthread_t th[2];
	for (long i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, thread_main, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	char *big = malloc(64 << 20);
	say_err("big addr=%p\n", (void *)big);
	memset(big, 1, 1 << 20);
	free(big);
	say("threads and malloc done\n");

	struct timespec now, step = {0, 5000000};
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t min_res = UINT64_MAX, max_res = 0, min_map = UINT64_MAX, max_map = 0;
	say_err("quiet from=%llu\n", (unsigned long long)now.tv_sec * 1000000000ull +
					  (unsigned long long)now.tv_nsec);
	for (int t = 0; t <= quiet_ms; t += 5) {
		uint64_t mapped, resident;
		statm(&mapped, &resident);
		min_res = resident < min_res ? resident : min_res;
		max_res = resident > max_res ? resident : max_res;
		min_map = mapped < min_map ? mapped : min_map;
		max_map = mapped > max_map ? mapped : max_map;
		nanosleep(&step, NULL);
	}
	say_err("resident min=%llu max=%llu\n", (unsigned long long)min_res, (unsigned long long)max_res);
	say_err("mapped min=%llu max=%llu\n", (unsigned long long)min_map, (unsigned long long)max_map);
	return 0;
}
