/* prefetch.c: the next generation readied on a helper thread. Gathering a generation
 * (decompressing it, parsing its tables) and checking its events is a third of what reading
 * costs; on a second processor it overlaps the caller's ordering and analysis of the current
 * one. The helper has a reader of its own over the same mapped file: it readies one generation
 * into that reader's tables and waits; the caller, at its next generation, swaps the readied
 * tables (and the plain bytes their batches point into) for its spent ones and lets the helper
 * go on into those. So the two threads share nothing but the hand-over, four times a second of
 * trace, and memory holds two generations, the one read and the next. The outcome is the same
 * as readying each generation on the caller's thread: the same events, the same error at the
 * same place, reported only once the generations before it have been handed out. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "generation.h"
#include "internal.h"
#include "prefetch.h"

struct xt_prefetch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	xtrace_reader *next; /* the helper's reader: the caller's file, its own tables */
	int ready;           /* next holds an outcome the caller has not taken */
	int rc;              /* that outcome, as xt_rd_ready_gen returned it */
	int stop;            /* the caller is closing */
	pid_t pid;           /* the process the helper runs in: a fork child has no helper */
};

int xt_rd_ready_gen(xtrace_reader *r)
{
	int rc = xt_rd_gen_load(r);
	if (rc <= 0)
		return rc;
	if (xt_rd_check(r, &r->g) < 0)
		return -1;
	r->last_gen = r->g.gen;
	return 1;
}

static void *xt_helper(void *arg)
{
	struct xt_prefetch *pf = arg;
	for (;;) {
		int rc = xt_rd_ready_gen(pf->next);
		pthread_mutex_lock(&pf->lock);
		pf->rc = rc;
		pf->ready = 1;
		pthread_cond_broadcast(&pf->cond);
		/* the end or an error is the last outcome: nothing follows it */
		while (rc > 0 && pf->ready && !pf->stop)
			pthread_cond_wait(&pf->cond, &pf->lock);
		int done = rc <= 0 || pf->stop;
		pthread_mutex_unlock(&pf->lock);
		if (done)
			return NULL;
	}
}

/* xt_next_free frees the helper's reader, which shares the caller's mapping and header. */
static void xt_next_free(xtrace_reader *next)
{
	next->data = NULL;
	next->size = 0;
	xtrace_close(next);
}

int xt_rd_prefetch_start(xtrace_reader *r)
{
	if (r->next_off >= r->size)
		return -1; /* the generation read is the file's last */
	/* XTRACE_READ_AHEAD=0: on one thread (a processor shared with other work gains nothing from
	 * a second thread, and waits for it at each generation) */
	const char *ahead = getenv("XTRACE_READ_AHEAD");
	if (ahead && strcmp(ahead, "0") == 0)
		return -1;
	struct xt_prefetch *pf = calloc(1, sizeof *pf);
	xtrace_reader *next = calloc(1, sizeof *next);
	if (!pf || !next) {
		free(pf);
		free(next);
		return -1;
	}
	next->fd = -1;
	next->data = r->data;
	next->size = r->size;
	next->hdr = r->hdr;
	next->clock_per_gen = r->clock_per_gen;
	next->next_off = r->next_off;
	next->last_gen = r->last_gen;
	pf->next = next;
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->cond, NULL);
	/* A library's thread takes none of the program's signals. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&pf->thread, NULL, xt_helper, pf);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_mutex_destroy(&pf->lock);
		pthread_cond_destroy(&pf->cond);
		xt_next_free(next);
		free(pf);
		return -1;
	}
	pf->pid = getpid();
	r->pf = pf;
	return 0;
}

/* xt_forked tells whether r's helper was started by another process, of which this one is a fork
 * child: the thread did not come along, and its lock may have been held at the fork. Then the
 * helper is let go, and this process readies its generations itself from where it is. */
static int xt_forked(xtrace_reader *r)
{
	struct xt_prefetch *pf = r->pf;
	if (pf->pid == getpid())
		return 0;
	/* What the helper held is a copy at the fork: its allocations are whole, its lock is
	 * never touched. */
	xt_next_free(pf->next);
	free(pf);
	r->pf = NULL;
	return 1;
}

int xt_rd_prefetch_take(xtrace_reader *r)
{
	r->have_gen = 0;
	if (xt_forked(r))
		return xt_rd_ready_gen(r);
	struct xt_prefetch *pf = r->pf;
	pthread_mutex_lock(&pf->lock);
	while (!pf->ready)
		pthread_cond_wait(&pf->cond, &pf->lock);
	int rc = pf->rc;
	xtrace_reader *next = pf->next;
	if (rc > 0) {
		/* The batches of a compressed generation point into its plain bytes: they go along. */
		struct xt_gen g = r->g;
		struct xt_vec plain = r->plain;
		r->g = next->g;
		r->plain = next->plain;
		next->g = g;
		next->plain = plain;
		/* where this process goes on from, should it be forked and lose its helper */
		r->next_off = next->next_off;
		r->last_gen = next->last_gen;
	} else if (rc < 0) {
		r->status = next->status;
		r->err_off = next->err_off;
		memcpy(r->err, next->err, sizeof r->err);
	}
	pf->ready = 0;
	pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	return rc;
}

void xt_rd_prefetch_stop(xtrace_reader *r)
{
	if (!r->pf || xt_forked(r))
		return;
	struct xt_prefetch *pf = r->pf;
	pthread_mutex_lock(&pf->lock);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	pthread_mutex_destroy(&pf->lock);
	pthread_cond_destroy(&pf->cond);
	xt_next_free(pf->next);
	free(pf);
	r->pf = NULL;
}
