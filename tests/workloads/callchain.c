/* callchain.c: allocates through a known call chain main -> level_one -> level_two ->
 * level_three -> malloc, so a test can check that stacks symbolize to exactly those names.
 * The functions are noinline and the build uses -O0 with frame pointers, so each is a real frame.
 *   callchain [N]   N allocations of 777 bytes (default 5) */
#include <stdlib.h>

#include "workload.h"

#define CHAIN_SIZE 777

static void *blocks[1024];
static int malloc_line;

__attribute__((noinline)) void *level_three(void)
{
	void *p = malloc(CHAIN_SIZE); malloc_line = __LINE__; /* one line: the test checks it */
	/* keep the call from being a tail call, whatever the flags */
	__asm__ volatile("" ::: "memory");
	return p;
}

__attribute__((noinline)) void *level_two(void)
{
	void *p = level_three();
	__asm__ volatile("" ::: "memory");
	return p;
}

__attribute__((noinline)) void *level_one(void)
{
	void *p = level_two();
	__asm__ volatile("" ::: "memory");
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5;
	if (n < 0 || n > 1024)
		return 2;
	for (long i = 0; i < n; i++)
		blocks[i] = level_one();
	for (long i = 0; i < n; i++)
		free(blocks[i]);
	say("chain allocs=%ld size=%d malloc_line=%d\n", n, CHAIN_SIZE, malloc_line);
	return 0;
}
