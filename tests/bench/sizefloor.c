/* sizefloor.c: the size floor of a trace: how few bytes per event what every event must carry
 * takes, coded as the file codes it and compressed as the shim compresses (each generation one
 * zstd frame at XT_ZSTD_LEVEL; a generation that would not shrink counts plain).
 *   sizefloor TRACE...
 * reads the traces with libxtrace-reader and rebuilds, per generation and per thread batch (in
 * file order), the events' fields layer by layer; each layer adds to the one before:
 *   time    each event's dt, a uvarint of ticks since the thread's previous event (the first of
 *           a generation: since its Sync), as Events batches carry it
 *   kind    + the type byte of what the event means (ObjectAlloc, ObjectFree, ...)
 *   addr    + the address, as the file codes it: the type byte as written (a reference form or
 *           not), then a zigzag delta from the batch's previous address or the reference's
 *           back_value
 *   events  + every other argument (type and stack IDs, values): the Events batches' payloads
 * Prints "events N", then one line per layer: "NAME RAW_BYTES ZSTD_BYTES", summed over the
 * traces. What the file holds beyond the events layer is its tables (stacks, strings, modules,
 * types), batch headers and each generation's Sync, End and Specs. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "allocfree.h"
#include "spec.h"
#include "varint.h"
#include "xtrace-reader.h"

enum layer { TIME, KIND, ADDR, EVENTS, NLAYERS };
static const char *const layer_names[NLAYERS] = {"time", "kind", "addr", "events"};

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void *oom(void)
{
	fprintf(stderr, "sizefloor: out of memory\n");
	exit(1);
}

/* grow returns p (an array of *cap elements of size bytes) with room for need of them. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (!p)
		return oom();
	*cap = n;
	return p;
}

static void put(struct buf *b, const uint8_t *src, size_t n)
{
	b->p = grow(b->p, &b->cap, b->len + n, 1);
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

/* A thread batch's bytes, one buffer per layer. */
struct batch {
	uint64_t offset;
	struct buf layer[NLAYERS];
};

/* A thread of the current generation: its batch being rebuilt and what its events are coded
 * against (the previous tick; the previous address and the recent allocations and frees, which
 * reference forms name, reset with each batch as the writer's are). */
struct thread {
	uint64_t tid;
	size_t batch; /* index in batches */
	int64_t tick;
	uint64_t prev_addr;
	uint64_t allocs[XT_ALLOCREF_WINDOW], frees[XT_ALLOCREF_WINDOW];
	uint64_t nallocs, nfrees;
};

static struct batch *batches;
static size_t nbatches, batches_cap;
static struct thread **threads;
static size_t nthreads, threads_cap;
static uint64_t raw[NLAYERS], packed[NLAYERS];
static ZSTD_CCtx *cctx;
static struct buf gen_bytes, zbuf;

static int by_offset(const void *a, const void *b)
{
	uint64_t x = ((const struct batch *)a)->offset, y = ((const struct batch *)b)->offset;
	return (x > y) - (x < y);
}

/* end_generation compresses each layer of the generation's batches, in file order, as the
 * shim compresses a generation, and forgets the generation. */
static void end_generation(void)
{
	qsort(batches, nbatches, sizeof *batches, by_offset);
	for (int l = 0; l < NLAYERS; l++) {
		gen_bytes.len = 0;
		for (size_t i = 0; i < nbatches; i++)
			put(&gen_bytes, batches[i].layer[l].p, batches[i].layer[l].len);
		if (!gen_bytes.len)
			continue;
		size_t bound = ZSTD_compressBound(gen_bytes.len);
		zbuf.p = grow(zbuf.p, &zbuf.cap, bound, 1);
		size_t z = ZSTD_compressCCtx(cctx, zbuf.p, bound, gen_bytes.p, gen_bytes.len,
					     XT_ZSTD_LEVEL);
		raw[l] += gen_bytes.len;
		packed[l] += ZSTD_isError(z) || z >= gen_bytes.len ? gen_bytes.len : z;
	}
	for (size_t i = 0; i < nbatches; i++)
		for (int l = 0; l < NLAYERS; l++)
			free(batches[i].layer[l].p);
	nbatches = 0;
	for (size_t i = 0; i < nthreads; i++)
		free(threads[i]);
	nthreads = 0;
}

static struct thread *thread_of(uint64_t tid)
{
	for (size_t i = 0; i < nthreads; i++) /* a generation has few threads */
		if (threads[i]->tid == tid)
			return threads[i];
	threads = grow(threads, &threads_cap, nthreads + 1, sizeof *threads);
	struct thread *t = calloc(1, sizeof *t);
	if (!t)
		return oom();
	t->tid = tid;
	t->batch = SIZE_MAX;
	threads[nthreads++] = t;
	return t;
}

/* back_of is how many entries of list (n of them, a ring of the last XT_ALLOCREF_WINDOW) lie
 * after the latest one holding addr: the back_value a reference form names it by. */
static uint64_t back_of(const uint64_t *list, uint64_t n, uint64_t addr)
{
	uint64_t k = n < XT_ALLOCREF_WINDOW ? n : XT_ALLOCREF_WINDOW;
	for (uint64_t back = 0; back < k; back++)
		if (list[(n - 1 - back) % XT_ALLOCREF_WINDOW] == addr)
			return back;
	return 0; /* the writer named an entry the reader resolved: not reached */
}

static void add(struct thread *t, const struct xtrace_event *ev, int64_t tick)
{
	if (t->batch == SIZE_MAX || batches[t->batch].offset != ev->offset) {
		batches = grow(batches, &batches_cap, nbatches + 1, sizeof *batches);
		memset(&batches[nbatches], 0, sizeof batches[nbatches]);
		batches[nbatches].offset = ev->offset;
		t->batch = nbatches++;
		t->prev_addr = 0;
		t->nallocs = t->nfrees = 0;
	}
	struct buf *out = batches[t->batch].layer;
	uint8_t dt[XT_MAX_VARINT], type = ev->type, wire = ev->wire_type;
	size_t dtlen = (size_t)(xt_put_uvarint(dt, (uint64_t)(tick > t->tick ? tick - t->tick : 0)) - dt);
	t->tick = tick > t->tick ? tick : t->tick;
	bool is_alloc = !ev->generic && type == XT_EV_ObjectAlloc;
	bool is_free = !ev->generic && (type == XT_EV_ObjectFree || type == XT_EV_ObjectReallocFree);
	bool by_ref = !ev->generic && wire != type;
	for (int l = TIME; l < NLAYERS; l++) {
		if (l >= KIND)
			put(&out[l], l == KIND ? &type : &wire, 1);
		put(&out[l], dt, dtlen);
	}
	for (unsigned i = 0; i < ev->nargs; i++) {
		uint8_t v[XT_MAX_VARINT], *end;
		bool addr = ev->arg_kinds[i] == XTRACE_ARG_ADDR;
		if (addr && by_ref) { /* the address of the first argument, named by reference */
			end = xt_put_uvarint(v, is_free ? back_of(t->allocs, t->nallocs, ev->args[i])
							: back_of(t->frees, t->nfrees, ev->args[i]));
		} else if (addr) {
			end = xt_put_uvarint(v, xt_zigzag((int64_t)(ev->args[i] - t->prev_addr)));
		} else {
			end = xt_put_uvarint(v, ev->args[i]);
		}
		if (addr)
			t->prev_addr = ev->args[i];
		for (int l = addr ? ADDR : EVENTS; l < NLAYERS; l++)
			put(&out[l], v, (size_t)(end - v));
	}
	if (is_alloc)
		t->allocs[t->nallocs++ % XT_ALLOCREF_WINDOW] = ev->args[0];
	else if (is_free)
		t->frees[t->nfrees++ % XT_ALLOCREF_WINDOW] = ev->args[0];
}

/* read_trace adds the events of path; false when it cannot be read to its end. */
static bool read_trace(const char *path, uint64_t *events)
{
	char err[256];
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	if (!r) {
		fprintf(stderr, "sizefloor: %s\n", err);
		return false;
	}
	struct xtrace_event ev;
	uint64_t sync_ts = 0, tps = 1000000000;
	int rc;
	while ((rc = xtrace_next(r, &ev)) > 0) {
		if (ev.kind == XTRACE_EVENT_SYNC) {
			end_generation();
			sync_ts = xtrace_get_sync(r)->ts;
			tps = xtrace_get_sync(r)->ticks_per_sec;
			continue;
		}
		/* The reader hands out nanoseconds; a tick is longer than one, so the tick each
		 * came from is the nearest to its time since the Sync. */
		__int128 ns = (__int128)ev.ts - (__int128)sync_ts;
		__int128 tick = (ns * (__int128)tps + (ns < 0 ? -500000000 : 500000000)) / 1000000000;
		add(thread_of(ev.thread), &ev, (int64_t)tick);
		++*events;
	}
	end_generation();
	if (rc < 0)
		fprintf(stderr, "sizefloor: %s: %s\n", path, xtrace_error(r));
	xtrace_close(r);
	return rc == 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sizefloor TRACE...\n");
		return 2;
	}
	cctx = ZSTD_createCCtx();
	if (!cctx)
		return 1;
	uint64_t events = 0;
	bool ok = true;
	for (int i = 1; i < argc; i++)
		ok &= read_trace(argv[i], &events);
	printf("events %llu\n", (unsigned long long)events);
	for (int l = 0; l < NLAYERS; l++)
		printf("%s %llu %llu\n", layer_names[l], (unsigned long long)raw[l],
		       (unsigned long long)packed[l]);
	ZSTD_freeCCtx(cctx);
	free(batches);
	free(threads);
	free(gen_bytes.p);
	free(zbuf.p);
	return ok ? 0 : 1;
}
