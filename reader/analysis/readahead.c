/* readahead.c: events decoded on a helper thread (see readahead.h). The helper fills blocks of
 * events in a small ring and the caller's thread takes them in: one lock round trip per block,
 * not per event. Before the helper reads on into the next generation it waits until the
 * caller has let go of every event of the current one, since reading on replaces the tables
 * those events name.
 *
 * Every line of a block moves from one processor's cache to the other's and back (written by
 * the helper, read by the caller, written again a turn of the ring later), which costs more than
 * decoding what it holds: so an event of the built-in table goes packed (its time, thread, batch
 * offset, types and arguments; the caller rebuilds the rest from the table), any other (a
 * Sync, a generic event) whole, and each thread asks for the lines ahead of use. */
#include "readahead.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* Bytes per block, and blocks in the ring: big enough that the threads seldom wait on each
 * other, small enough that the ring stays in the processors' caches. */
#define XT_RA_BYTES 16384
#define XT_RA_BLOCKS 8
/* A thread that would wait polls this many times first: waking a sleeping thread takes longer
 * than the other one needs to fill or read a block. */
#define XT_RA_SPINS 20000
/* How many bytes ahead of its writes (the helper) or reads (the caller) a thread asks for the
 * lines of the block. */
#define XT_RA_AHEAD 2048

/* prefetch_for_write asks for the line at p to be made this processor's own, ahead of a write
 * to it: PREFETCHW on x86 (what __builtin_prefetch(p, 1) compiles to only where the target
 * claims it; older processors run it as a no-op). */
static inline void prefetch_for_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/* A packed event: these words, then nargs argument words. */
struct packed {
	uint64_t ts, thread, offset;
	uint8_t type, wire_type, nargs, whole; /* whole: a struct xtrace_event follows instead */
	uint32_t pad;
};
#define XT_RA_WHOLE_WORDS ((sizeof(struct packed) + sizeof(struct xtrace_event) + 7) / 8)
/* the most a record takes */
#define XT_RA_MAX_WORDS (XT_RA_WHOLE_WORDS > sizeof(struct packed) / 8 + XTRACE_MAX_ARGS ? \
			 XT_RA_WHOLE_WORDS : sizeof(struct packed) / 8 + XTRACE_MAX_ARGS)

struct block {
	size_t n; /* words written */
	uint64_t w[XT_RA_BYTES / 8];
};

struct xt_readahead {
	xtrace_reader *r;
	struct block *blocks; /* XT_RA_BLOCKS, once a helper starts */
	uint64_t min_events;
	/* 0: no helper (yet), xt_readahead_next runs xtrace_next itself; 1: a helper runs;
	 * -1: none could be started */
	int threaded;
	int want_helper; /* the Sync just handed out opens a generation worth a helper */
	pthread_t helper;
	pthread_mutex_t lock;
	pthread_cond_t filled, freed; /* a block was published; a block was let go */
	/* Changed under lock, polled without: blocks published by the helper and blocks let go by
	 * the caller (it reads block taken % XT_RA_BLOCKS while taken < published), the end
	 * (its code in rc) and a stop asked by the caller. */
	atomic_size_t published, taken;
	atomic_int done, stop;
	int rc;
	/* The caller's thread only, on a cache line of its own: it changes with every event and
	 * must not share a line with the counters the helper polls. */
	struct {
		size_t pos; /* the next record's word in the block held */
		int holding;
		struct xtrace_event one; /* the event handed out, unpacked or read unthreaded */
	} at __attribute__((aligned(64)));
	/* The helper's event before packing, last: nothing the caller reads shares its lines. */
	struct xtrace_event scratch __attribute__((aligned(64)));
};

/* wait_until returns once ready(ra) holds: it polls a while, then sleeps on cond, which the
 * other thread signals under the lock whenever it changes what ready reads. */
static void wait_until(struct xt_readahead *ra, int (*ready)(struct xt_readahead *),
		       pthread_cond_t *cond)
{
	for (int i = 0; i < XT_RA_SPINS && !ready(ra); i++) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause(); /* lets the other hyperthread run meanwhile */
#endif
	}
	pthread_mutex_lock(&ra->lock);
	while (!ready(ra))
		pthread_cond_wait(cond, &ra->lock);
	pthread_mutex_unlock(&ra->lock);
}

static int block_free(struct xt_readahead *ra)
{
	return ra->stop || ra->published - ra->taken < XT_RA_BLOCKS;
}

static int all_taken(struct xt_readahead *ra)
{
	return ra->stop || ra->taken == ra->published;
}

static int block_ready(struct xt_readahead *ra)
{
	return ra->done || ra->taken != ra->published;
}

/* publish hands the helper's current block over (n events, maybe 0 at the end) and, unless it
 * is the last, waits for a free block to fill next: 0, or -1 when the caller asked to stop. */
static int publish(struct xt_readahead *ra, size_t n, int last, int rc)
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
	wait_until(ra, block_free, &ra->freed);
	return ra->stop ? -1 : 0;
}

/* drained waits until the caller has let go of every block published: 0, or -1 on stop. */
static int drained(struct xt_readahead *ra)
{
	wait_until(ra, all_taken, &ra->freed);
	return ra->stop ? -1 : 0;
}

/* let_go hands the block the caller read back to the helper. */
static void let_go(struct xt_readahead *ra)
{
	pthread_mutex_lock(&ra->lock);
	ra->taken++;
	pthread_cond_signal(&ra->freed);
	pthread_mutex_unlock(&ra->lock);
}

/* pack writes ev at w as the record the caller unpacks (unpack) and returns the words taken. */
static size_t pack(uint64_t *w, const struct xtrace_event *ev)
{
	struct packed h = {.ts = ev->ts, .thread = ev->thread, .offset = ev->offset,
			   .type = ev->type, .wire_type = ev->wire_type, .nargs = ev->nargs};
	/* only what the table says again on the other side goes packed */
	h.whole = ev->kind == XTRACE_EVENT_SYNC || ev->generic || ev->nargs > XTRACE_MAX_ARGS ||
		  ev->name != xt_specs[ev->type].name;
	memcpy(w, &h, sizeof h);
	w += sizeof h / 8;
	if (h.whole) {
		memcpy(w, ev, sizeof *ev);
		return XT_RA_WHOLE_WORDS;
	}
	memcpy(w, ev->args, ev->nargs * sizeof *w);
	return sizeof h / 8 + ev->nargs;
}

/* unpack rebuilds at *ev the event of the record at w (packed by pack) and returns its words. */
static size_t unpack(struct xtrace_event *ev, const uint64_t *w, const xtrace_reader *r)
{
	struct packed h;
	memcpy(&h, w, sizeof h);
	w += sizeof h / 8;
	if (h.whole) {
		memcpy(ev, w, sizeof *ev);
		return XT_RA_WHOLE_WORDS;
	}
	/* as the reader fills a built-in event (reader/order.h), from the spec table */
	const struct xt_event_spec *s = &xt_specs[h.type];
	ev->kind = s->experiment ? XTRACE_EVENT_EXPERIMENTAL : XTRACE_EVENT_CORE;
	ev->gen = xtrace_get_sync(r)->gen;
	ev->ts = h.ts;
	ev->thread = h.thread;
	ev->type = h.type;
	ev->experiment = s->experiment;
	ev->wire_type = h.wire_type;
	ev->name = s->name;
	ev->experiment_name = xt_experiments[s->experiment].name;
	ev->nargs = h.nargs;
	ev->arg_names = s->arg_names;
	ev->arg_kinds = s->arg_kinds;
	memcpy(ev->args, w, h.nargs * sizeof *w);
	ev->offset = h.offset;
	ev->generic = 0;
	return sizeof h / 8 + h.nargs;
}

static void *helper_main(void *arg)
{
	struct xt_readahead *ra = arg;
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
		int rc = xtrace_next(ra->r, &ra->scratch);
		if (rc <= 0) {
			publish(ra, n, 1, rc);
			return NULL;
		}
		/* The caller's processor read these lines last: ask for them ahead of the writes,
		 * which would otherwise wait for each line in turn. */
		if (n + XT_RA_AHEAD / 8 < sizeof b->w / 8)
			prefetch_for_write(&b->w[n + XT_RA_AHEAD / 8]);
		n += pack(&b->w[n], &ra->scratch);
		if (n > sizeof b->w / 8 - XT_RA_MAX_WORDS) {
			if (publish(ra, n, 0, 0) < 0)
				return NULL;
			n = 0;
		}
	}
}

struct xt_readahead *xt_readahead_start(xtrace_reader *r, uint64_t min_events)
{
	/* aligned as its members ask: the caller's line apart from the helper's */
	struct xt_readahead *ra = aligned_alloc(_Alignof(struct xt_readahead), sizeof *ra);
	if (!ra)
		return NULL;
	memset(ra, 0, sizeof *ra);
	ra->r = r;
	ra->min_events = min_events;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->filled, NULL);
	pthread_cond_init(&ra->freed, NULL);
	return ra;
}

/* start_helper sets up the ring and the helper thread, which reads on from where the caller
 * is: 1, or -1 when it could not (the caller then reads on by itself). */
static int start_helper(struct xt_readahead *ra)
{
	/* not zeroed: a block's events are written before they are read */
	ra->blocks = aligned_alloc(64, XT_RA_BLOCKS * sizeof *ra->blocks);
	if (ra->blocks && pthread_create(&ra->helper, NULL, helper_main, ra) == 0)
		return 1;
	free(ra->blocks);
	ra->blocks = NULL;
	return -1;
}

const struct xtrace_event *xt_readahead_next(struct xt_readahead *ra, int *rc)
{
	if (ra->threaded == 0 && ra->want_helper)
		ra->threaded = start_helper(ra);
	if (ra->threaded <= 0) {
		*rc = xtrace_next(ra->r, &ra->at.one);
		if (*rc <= 0)
			return NULL;
		/* A helper pays off on a big generation only: start one once a Sync says so, when
		 * the caller has let go of that Sync (the next call). */
		ra->want_helper = ra->threaded == 0 && ra->at.one.kind == XTRACE_EVENT_SYNC &&
				  xtrace_get_sync(ra->r)->nevents >= ra->min_events;
		return &ra->at.one;
	}
	if (ra->at.holding) {
		const struct block *b = &ra->blocks[ra->taken % XT_RA_BLOCKS];
		if (ra->at.pos < b->n) {
			/* the helper's processor wrote them: ask for the lines ahead of use */
			if (ra->at.pos + XT_RA_AHEAD / 8 < b->n)
				__builtin_prefetch(&b->w[ra->at.pos + XT_RA_AHEAD / 8]);
			ra->at.pos += unpack(&ra->at.one, &b->w[ra->at.pos], ra->r);
			return &ra->at.one;
		}
		let_go(ra);
		ra->at.holding = 0;
	}
	for (;;) {
		wait_until(ra, block_ready, &ra->filled);
		if (ra->taken == ra->published) { /* done, and every block read */
			*rc = ra->rc;
			return NULL;
		}
		const struct block *b = &ra->blocks[ra->taken % XT_RA_BLOCKS];
		if (b->n) {
			ra->at.holding = 1;
			ra->at.pos = unpack(&ra->at.one, b->w, ra->r);
			return &ra->at.one;
		}
		let_go(ra); /* the empty last block */
	}
}

void xt_readahead_stop(struct xt_readahead *ra)
{
	if (!ra)
		return;
	if (ra->threaded > 0) {
		pthread_mutex_lock(&ra->lock);
		ra->stop = 1;
		pthread_cond_signal(&ra->freed);
		pthread_mutex_unlock(&ra->lock);
		pthread_join(ra->helper, NULL);
	}
	pthread_cond_destroy(&ra->filled);
	pthread_cond_destroy(&ra->freed);
	pthread_mutex_destroy(&ra->lock);
	free(ra->blocks);
	free(ra);
}
