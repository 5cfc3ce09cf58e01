/* temporaries.c: the cases that decide what counts as a temporary allocation, one function
 * each, so heaptrack and xtrace can be compared on them (test_oracles). heaptrack's rule: a
 * free is temporary when the process's heap event just before it, on any thread, allocated
 * from the same stack with the same size; realloc is a free of the old block and an allocation
 * of the new one.
 *   realloc_then_free  1000 x (malloc, realloc, free)          2000 temporary
 *   malloc_free        1000 x (malloc, free)                   1000
 *   older_first        100 x two alike, the older freed first    100 (the newer is not)
 *   sizes_differ       100 x the same, of two sizes                0
 *   realloc_chain      100 x (malloc, realloc x 3, free)         400
 *   handed_over        100 x allocated here, freed next by a second thread       100
 *   interleaved        100 x a second thread allocates between an allocation and its free  0
 * It prints "temporary=3600", the sum. */
#include <pthread.h>
#include <stdlib.h>

#include "workload.h"

static void *volatile sink;

__attribute__((noinline)) static void realloc_then_free(void)
{
	for (int i = 0; i < 1000; i++) {
		void *p = malloc(16);
		p = realloc(p, 32);
		free(p);
	}
}

__attribute__((noinline)) static void malloc_free(void)
{
	for (int i = 0; i < 1000; i++) {
		sink = malloc(24);
		free(sink);
	}
}

/* Both blocks come from one call in the loop: one stack, so one allocation info. */
__attribute__((noinline)) static void older_first(void)
{
	for (int i = 0; i < 100; i++) {
		void *p[2];
		for (int j = 0; j < 2; j++)
			p[j] = malloc(48);
		free(p[0]);
		free(p[1]);
	}
}

__attribute__((noinline)) static void sizes_differ(void)
{
	for (int i = 0; i < 100; i++) {
		void *p[2];
		for (int j = 0; j < 2; j++)
			p[j] = malloc(56 + 8 * (size_t)j);
		free(p[0]);
		free(p[1]);
	}
}

__attribute__((noinline)) static void realloc_chain(void)
{
	for (int i = 0; i < 100; i++) {
		void *p = malloc(8);
		p = realloc(p, 16);
		p = realloc(p, 4000);
		p = realloc(p, 100000);
		free(p);
	}
}

static pthread_barrier_t step;
static void *volatile handed;

static void *free_handed(void *arg)
{
	for (int i = 0; i < 100; i++) {
		pthread_barrier_wait(&step); /* handed is allocated */
		free(handed);
		pthread_barrier_wait(&step);
	}
	return arg;
}

__attribute__((noinline)) static void handed_over(void)
{
	pthread_t t;
	pthread_create(&t, NULL, free_handed, NULL);
	for (int i = 0; i < 100; i++) {
		handed = malloc(40);
		pthread_barrier_wait(&step);
		pthread_barrier_wait(&step); /* freed */
	}
	pthread_join(t, NULL);
}

static void *alloc_between(void *arg)
{
	for (int i = 0; i < 100; i++) {
		pthread_barrier_wait(&step); /* the main thread allocated q */
		void *p = malloc(72);
		pthread_barrier_wait(&step);
		pthread_barrier_wait(&step); /* q is freed */
		free(p);
		pthread_barrier_wait(&step);
	}
	return arg;
}

__attribute__((noinline)) static void interleaved(void)
{
	pthread_t t;
	pthread_create(&t, NULL, alloc_between, NULL);
	for (int i = 0; i < 100; i++) {
		void *q = malloc(72);
		pthread_barrier_wait(&step);
		pthread_barrier_wait(&step); /* p is allocated */
		free(q);
		pthread_barrier_wait(&step);
		pthread_barrier_wait(&step); /* p is freed */
	}
	pthread_join(t, NULL);
}

int main(void)
{
	pthread_barrier_init(&step, NULL, 2);
	realloc_then_free();
	malloc_free();
	older_first();
	sizes_differ();
	realloc_chain();
	handed_over();
	interleaved();
	say("temporary=%d\n", 2000 + 1000 + 100 + 0 + 400 + 100 + 0);
	return 0;
}
