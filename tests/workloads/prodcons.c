/* prodcons.c: a producer thread mallocs N blocks and hands them through a small mutex-guarded
 * queue to a consumer thread that frees them: every free happens on another thread than its
 * malloc, and the tiny queue makes the allocator hand freed addresses straight back.
 *   prodcons [N]   N blocks (default 200000) */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define QCAP 16

static void *queue[QCAP];
static unsigned qhead, qtail; /* qtail - qhead items are queued */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qnotfull = PTHREAD_COND_INITIALIZER, qnotempty = PTHREAD_COND_INITIALIZER;
static long n = 200000;
static unsigned long long produced_bytes, consumed, bad;
static long producer_tid, consumer_tid;

static void *producer(void *arg)
{
	producer_tid = workload_tid();
	for (long i = 0; i < n; i++) {
		size_t sz = 16 + (size_t)(i % 48);
		long *p = malloc(sz);
		if (!p)
			abort();
		p[0] = i; /* the consumer checks the order */
		produced_bytes += sz;
		pthread_mutex_lock(&qlock);
		while (qtail - qhead == QCAP)
			pthread_cond_wait(&qnotfull, &qlock);
		queue[qtail++ % QCAP] = p;
		pthread_cond_signal(&qnotempty);
		pthread_mutex_unlock(&qlock);
	}
	return arg;
}

static void *consumer(void *arg)
{
	consumer_tid = workload_tid();
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&qlock);
		while (qtail == qhead)
			pthread_cond_wait(&qnotempty, &qlock);
		long *p = queue[qhead++ % QCAP];
		pthread_cond_signal(&qnotfull);
		pthread_mutex_unlock(&qlock);
		if (p[0] != i)
			bad++;
		free(p);
		consumed++;
	}
	return arg;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		n = atol(argv[1]);
	pthread_t tp, tc;
	if (pthread_create(&tp, NULL, producer, NULL) || pthread_create(&tc, NULL, consumer, NULL))
		return 2;
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	say("produced=%ld bytes=%llu consumed=%llu out_of_order=%llu\n", n, produced_bytes, consumed,
	    bad);
	say("producer_tid=%ld consumer_tid=%ld\n", producer_tid, consumer_tid);
	return bad ? 1 : 0;
}
