/* order.c: setting up the merged event stream of a checked generation (its steps are inline in
 * order.h). One cursor per thread walks that thread's Events batches in file order; a min-heap
 * keyed by (timestamp, what the event means, thread) picks the next event.
 *
 * Times are coarse (64 TSC ticks, as in Go's tracer), so events of two threads often share one.
 * Then, as Go's order.go orders by what events mean, an event that gives an address back (a
 * free, an unmap) comes first: a thread reusing an address another thread freed in the same
 * tick records its allocation after that free (the shim reads the clock before the real free
 * and after the real allocation returns), so the free must be handed out first or the
 * allocation would find the address still live. The other way round is not told apart (that
 * would take a live set here): an address allocated on one thread reaches another's free only
 * after the allocating thread has recorded the event (unwound its stack, encoded it) and the
 * program has passed the address over, which takes longer than a tick but for a few pairs in
 * 10^5 on a lock-free handoff, no more than the TSC reads' own reordering puts out of order at
 * full resolution (experiments/README.md, "Time"). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "order.h"

/* xt_ring_size is the ring of list a thread with batches [b, end) needs: a power of two at least
 * the reach of each batch's references into it, and one entry without any. */
static uint32_t xt_ring_size(const struct xt_batch *b, const struct xt_batch *end, int list)
{
	uint32_t need = 1, size = 1;
	for (; b < end; b++)
		if (b->reach[list] > need)
			need = b->reach[list];
	while (size < need)
		size <<= 1;
	return size;
}

static int xt_batch_cmp(const void *a, const void *b)
{
	const struct xt_batch *x = a, *y = b;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

const uint8_t xt_releases[256] = {
	[XT_EV_ObjectFree] = 1,     [XT_EV_ObjectFreeRecent] = 1, [XT_EV_ObjectReallocFree] = 1,
	[XT_EV_ObjectReallocFreeRecent] = 1, [XT_EV_HeapFree] = 1,    [XT_EV_MapFree] = 1,
	[XT_EV_StackFree] = 1,
};

/* xt_rd_order_start sets up the cursors of the generation just checked. */
int xt_rd_order_start(xtrace_reader *r)
{
	struct xt_batch *bs = r->g.batches.p;
	size_t nb = r->g.batches.n, nring = 0;
	/* A thread's batches stay in file order: that is its time order. */
	if (nb > 1)
		qsort(bs, nb, sizeof *bs, xt_batch_cmp);
	/* Threads with at least one event, over runs of the same thread. */
	for (size_t i = 0, j; i < nb; i = j) {
		int any = 0;
		for (j = i; j < nb && bs[j].thread == bs[i].thread; j++)
			any |= bs[j].nevents != 0;
		r->g.sync.nthreads += any;
	}
	r->ncur = r->nheap = 0;
	/* One cursor per thread at most: size both arrays for the batch count. */
	if (nb > r->capcur) {
		struct xt_cursor *c = realloc(r->cur, nb * sizeof *c);
		if (!c)
			return xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory");
		r->cur = c;
		struct xt_cursor **h = realloc(r->heap, nb * sizeof *h);
		if (!h)
			return xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory");
		r->heap = h;
		r->capcur = nb;
	}
	/* A cursor per thread, its rings sized by what the check pass saw the thread's references
	 * reach: at most XT_ALLOCREF_WINDOW addresses each, one for a list no reference names. */
	for (size_t i = 0, j; i < nb; i = j) {
		for (j = i; j < nb && bs[j].thread == bs[i].thread; j++)
			;
		struct xt_cursor *c = &r->cur[r->ncur++];
		c->thread = bs[i].thread;
		c->b = &bs[i];
		c->bend = bs + j;
		for (int l = 0; l < XT_REFS_LISTS; l++) {
			uint32_t size = xt_ring_size(&bs[i], &bs[j], l);
			c->ring[l] = (struct xt_ring){NULL, size - 1, 0};
			nring += size;
		}
	}
	if (nring > r->caprings) {
		uint64_t *p = realloc(r->rings, nring * sizeof *p);
		if (!p)
			return xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory");
		r->rings = p;
		r->caprings = nring;
	}
	uint64_t *ring = r->rings;
	for (size_t k = 0; k < r->ncur; k++) {
		struct xt_cursor *c = &r->cur[k];
		for (int l = 0; l < XT_REFS_LISTS; l++) {
			c->ring[l].addr = ring;
			ring += c->ring[l].mask + 1;
		}
		xt_cursor_batch(c, c->b);
		if (xt_cursor_next(c))
			r->heap[r->nheap++] = c;
	}
	for (size_t i = r->nheap / 2; i-- > 0;)
		xt_sift_down(r->heap, r->nheap, i);
	return 0;
}

void xt_rd_order_free(xtrace_reader *r)
{
	free(r->cur);
	free(r->heap);
	free(r->rings);
	r->cur = NULL;
	r->heap = NULL;
	r->rings = NULL;
	r->ncur = r->nheap = r->capcur = r->caprings = 0;
}
