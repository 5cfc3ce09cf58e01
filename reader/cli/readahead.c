/* readahead.c: events decoded on a helper thread (see readahead.h). The helper fills blocks of
 * events in a small ring and the command's thread formats them: one lock round trip per block,
 * not per event. Before the helper reads on into the next generation it waits until the
 * command has let go of every event of the current one, since reading on replaces the tables
 * those events name. */
#include "readahead.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Events per block, and blocks in the ring: big enough that the threads seldom wait on each
 * other, small enough that the ring stays in the processors' caches. */
#define XT_RA_EVENTS 1024
#define XT_RA_BLOCKS 8
/* A thread that would wait polls this many times first: waking a sleeping thread takes longer
 * than the other one needs to fill or read a block. */
#define XT_RA_SPINS 20000

struct block {
	size_t n;
	struct xtrace_event ev[XT_RA_EVENTS];
};

struct cli_readahead {
	xtrace_reader *r;
	int threaded; /* 0: no helper, cli_readahead_next runs xtrace_next itself */
	pthread_t helper;
	pthread_mutex_t lock;
	pthread_cond_t filled, freed; /* a block was published; a block was let go */
	/* Changed under lock, polled without: blocks published by the helper and blocks let go by
	 * the command (it reads block taken % XT_RA_BLOCKS while taken < published), the end
	 * (its code in rc) and a stop asked by the command. */
	atomic_size_t published, taken;
	atomic_int done, stop;
	int rc;
	/* The command's thread only, on a cache line of its own: it changes with every event and
	 * must not share a line with the counters the helper polls. */
	struct {
		size_t pos;
		int holding;
	} at __attribute__((aligned(64)));
	struct xtrace_event one; /* the event of the unthreaded path */
	struct block blocks[XT_RA_BLOCKS];
};

/* spin polls ready(ra) a while before the caller sleeps on a condition. */
static void spin(struct cli_readahead *ra, int (*ready)(struct cli_readahead *))
{
	for (int i = 0; i < XT_RA_SPINS && !ready(ra); i++)
		__builtin_ia32_pause();
}

static int block_free(struct cli_readahead *ra)
{
	return ra->stop || ra->published - ra->taken < XT_RA_BLOCKS;
}

static int all_taken(struct cli_readahead *ra)
{
	return ra->stop || ra->taken == ra->published;
}

static int block_ready(struct cli_readahead *ra)
{
	return ra->done || ra->taken != ra->published;
}

/* publish hands the helper's current block over (n events, maybe 0 at the end) and, unless it
 * is the last, waits for a free block to fill next: 0, or -1 when the command asked to stop. */
static int publish(struct cli_readahead *ra, size_t n, int last, int rc)
{
	pthread_mutex_lock(&ra->lock);
	ra->blocks[ra->published % XT_RA_BLOCKS].n = n;
	ra->published++;
	if (last) {
		ra->rc = rc;
		ra->done = 1;
	}
	pthread_cond_signal(&ra->filled);
	pthread_mutex_unlock(&ra->lock);
	if (last)
		return 0;
	spin(ra, block_free);
	pthread_mutex_lock(&ra->lock);
	while (!block_free(ra))
		pthread_cond_wait(&ra->freed, &ra->lock);
	pthread_mutex_unlock(&ra->lock);
	return ra->stop ? -1 : 0;
}

/* drained waits until the command has let go of every block published: 0, or -1 on stop. */
static int drained(struct cli_readahead *ra)
{
	spin(ra, all_taken);
	pthread_mutex_lock(&ra->lock);
	while (!all_taken(ra))
		pthread_cond_wait(&ra->freed, &ra->lock);
	pthread_mutex_unlock(&ra->lock);
	return ra->stop ? -1 : 0;
}

static void *helper_main(void *arg)
{
	struct cli_readahead *ra = arg;
	size_t n = 0;
	for (;;) {
		if (xtrace_generation_done(ra->r)) {
			/* the next event may be the next generation's Sync */
			if (n && publish(ra, n, 0, 0) < 0)
				return NULL;
			n = 0;
			if (drained(ra) < 0)
				return NULL;
		}
		struct block *b = &ra->blocks[ra->published % XT_RA_BLOCKS];
		int rc = xtrace_next(ra->r, &b->ev[n]);
		if (rc <= 0) {
			publish(ra, n, 1, rc);
			return NULL;
		}
		if (++n == XT_RA_EVENTS) {
			if (publish(ra, n, 0, 0) < 0)
				return NULL;
			n = 0;
		}
	}
}

struct cli_readahead *cli_readahead_start(xtrace_reader *r)
{
	/* aligned as its members ask: the command's line apart from the helper's */
	struct cli_readahead *ra = aligned_alloc(_Alignof(struct cli_readahead), sizeof *ra);
	if (!ra)
		return NULL;
	memset(ra, 0, sizeof *ra);
	ra->r = r;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->filled, NULL);
	pthread_cond_init(&ra->freed, NULL);
	ra->threaded = pthread_create(&ra->helper, NULL, helper_main, ra) == 0;
	return ra;
}

const struct xtrace_event *cli_readahead_next(struct cli_readahead *ra, int *rc)
{
	if (!ra->threaded) {
		*rc = xtrace_next(ra->r, &ra->one);
		return *rc > 0 ? &ra->one : NULL;
	}
	if (ra->at.holding) {
		const struct block *b = &ra->blocks[ra->taken % XT_RA_BLOCKS];
		if (ra->at.pos < b->n) {
			/* the helper's processor wrote them: ask for the lines ahead of use */
			__builtin_prefetch(&b->ev[ra->at.pos + 8]);
			__builtin_prefetch((const char *)&b->ev[ra->at.pos + 8] + 64);
			return &b->ev[ra->at.pos++];
		}
		pthread_mutex_lock(&ra->lock);
		ra->taken++;
		ra->at.holding = 0;
		pthread_cond_signal(&ra->freed);
		pthread_mutex_unlock(&ra->lock);
	}
	spin(ra, block_ready);
	pthread_mutex_lock(&ra->lock);
	for (;;) {
		while (!block_ready(ra))
			pthread_cond_wait(&ra->filled, &ra->lock);
		if (ra->taken == ra->published) { /* done, and every block read */
			*rc = ra->rc;
			pthread_mutex_unlock(&ra->lock);
			return NULL;
		}
		const struct block *b = &ra->blocks[ra->taken % XT_RA_BLOCKS];
		if (b->n) {
			pthread_mutex_unlock(&ra->lock);
			ra->at.holding = 1;
			ra->at.pos = 1;
			return &b->ev[0];
		}
		ra->taken++; /* the empty last block */
		pthread_cond_signal(&ra->freed);
	}
}

void cli_readahead_stop(struct cli_readahead *ra)
{
	if (!ra)
		return;
	if (ra->threaded) {
		pthread_mutex_lock(&ra->lock);
		ra->stop = 1;
		pthread_cond_signal(&ra->freed);
		pthread_mutex_unlock(&ra->lock);
		pthread_join(ra->helper, NULL);
	}
	pthread_cond_destroy(&ra->filled);
	pthread_cond_destroy(&ra->freed);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
}
