/* loop.h: the malloc/free loop shared by the benchmark workloads (tests/bench/).
 * Each thread keeps a small ring of live blocks; every iteration frees the oldest block and
 * allocates a new one of a varying size, so the allocator reuses addresses and the live set
 * stays small. Allocations and frees go through call chains 3-4 noinline frames deep, with a
 * few distinct call sites, so the unwinders have real frames to walk and the trace has more
 * than one stack. Built -O2 -g -fno-omit-frame-pointer (the frame-pointer unwinder needs them
 * in the program; Debian's libc has none, so its frames end that walk). */
#ifndef XT_BENCH_LOOP_H
#define XT_BENCH_LOOP_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 64 /* live blocks per thread: a power of two */

/* Keeps the compiler from eliding a malloc/free pair or turning a call into a tail call. */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

struct worker {
	long iterations;
	int levels; /* recursive frames the loop runs under */
	unsigned seed;
	void *ring[RING];
};

static inline unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Sizes 8..1031 bytes, mostly small, now and then a larger one. */
static inline size_t pick_size(unsigned r)
{
	return (r & 7) == 0 ? 256 + (r >> 3) % 776 : 8 + (r >> 3) % 120;
}

__attribute__((noinline)) static void *alloc_leaf_a(size_t n)
{
	void *p = malloc(n);
	KEEP(p);
	if (p)
		*(volatile char *)p = 1;
	return p;
}

__attribute__((noinline)) static void *alloc_leaf_b(size_t n)
{
	void *p = malloc(n);
	KEEP(p);
	if (p)
		*(volatile char *)p = 2;
	return p;
}

__attribute__((noinline)) static void *alloc_mid(size_t n, unsigned r)
{
	void *p = (r & 16) ? alloc_leaf_a(n) : alloc_leaf_b(n);
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *alloc_top(size_t n, unsigned r)
{
	void *p = alloc_mid(n, r);
	KEEP(p);
	return p;
}

__attribute__((noinline)) static void release_leaf(void *p)
{
	free(p);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
}

__attribute__((noinline)) static void release_top(void *p)
{
	release_leaf(p);
	KEEP(p);
}

__attribute__((noinline)) static void run_loop(struct worker *w)
{
	unsigned s = w->seed;
	for (long i = 0; i < w->iterations; i++) {
		unsigned r = next_rand(&s);
		void **slot = &w->ring[i & (RING - 1)];
		if (*slot)
			release_top(*slot);
		*slot = alloc_top(pick_size(r), r);
	}
	for (int i = 0; i < RING; i++) {
		if (w->ring[i])
			release_top(w->ring[i]);
		w->ring[i] = NULL;
	}
}

/* run_deep runs the loop under levels more frames of its own. */
__attribute__((noinline)) static void run_deep(struct worker *w, int levels)
{
	if (levels)
		run_deep(w, levels - 1);
	else
		run_loop(w);
	KEEP(w);
}

/* run_worker adds no frame of its own: at 0 levels the loop's caller is the thread's first. */
__attribute__((always_inline)) static inline void run_worker(struct worker *w)
{
	if (w->levels)
		run_deep(w, w->levels);
	else
		run_loop(w);
}

static void *worker_main(void *arg)
{
	run_worker(arg);
	return NULL;
}

/* run_threads runs `threads` workers of `iterations` each, their loops under `levels` more
 * frames: thread 0 is the calling thread, so one thread means no pthread_create at all.
 * Returns 0, or 1 if a thread could not start. */
static int run_threads(int threads, long iterations, int levels)
{
	struct worker *w = calloc((size_t)threads, sizeof *w);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!w || !tid)
		return 1;
	for (int t = 0; t < threads; t++) {
		w[t].iterations = iterations;
		w[t].levels = levels;
		w[t].seed = 0x9e3779b9u * (unsigned)(t + 1);
	}
	for (int t = 1; t < threads; t++)
		if (pthread_create(&tid[t], NULL, worker_main, &w[t]) != 0)
			return 1;
	run_worker(&w[0]);
	for (int t = 1; t < threads; t++)
		pthread_join(tid[t], NULL);
	free(tid);
	free(w);
	return 0;
}

#endif
