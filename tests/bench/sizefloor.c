/* sizefloor.c: the size floor of a trace: how few bytes per event what every event must carry
 * takes, coded as the file codes it and compressed as the shim compresses (each generation one
 * zstd frame at XT_ZSTD_LEVEL of its column form, experiments/columns.h; a generation that
 * would not shrink counts plain).
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
 * Each layer is laid out as the writer lays out its events, in columns (the type bytes, the
 * dts, each argument of each type), segment by segment (batches up to XT_COL_SEGMENT bytes),
 * and compressed as one frame.
 * Prints "events N", then one line per layer: "NAME RAW_BYTES ZSTD_BYTES", summed over the
 * traces. What the file holds beyond the events layer is its tables (stacks, strings, modules,
 * types), batch headers and each generation's Sync, End and Specs. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "allocfree.h"
#include "columns.h"
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

/* A column of a thread batch's layer: the bytes of one key (columns.h). */
struct col {
	unsigned key;
	struct buf b;
};

/* A thread batch's bytes: its layers' columns, and its payload's size (the segments' measure). */
struct batch {
	uint64_t offset;
	size_t len;
	struct col *cols[NLAYERS];
	size_t ncols[NLAYERS];
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

/* put_col appends n bytes of column key to layer l of batch b. */
static void put_col(struct batch *b, int l, unsigned key, const uint8_t *src, size_t n)
{
	size_t i = 0;
	while (i < b->ncols[l] && b->cols[l][i].key != key) /* a batch has few columns */
		i++;
	if (i == b->ncols[l]) {
		size_t cap = b->ncols[l];
		b->cols[l] = grow(b->cols[l], &cap, i + 1, sizeof *b->cols[l]);
		b->cols[l][i] = (struct col){.key = key};
		b->ncols[l]++;
	}
	put(&b->cols[l][i].b, src, n);
}

/* layer_bytes lays layer l of the generation's batches out in gen_bytes as the writer does: per
 * segment of batches (file order, up to XT_COL_SEGMENT bytes), each column in key order. */
static void layer_bytes(int l)
{
	static bool used[XT_COL_COUNT];
	gen_bytes.len = 0;
	for (size_t first = 0, end; first < nbatches; first = end) {
		size_t seg = 0;
		for (end = first; end < nbatches && (end == first || seg < XT_COL_SEGMENT); end++)
			seg += batches[end].len;
		memset(used, 0, sizeof used);
		for (size_t i = first; i < end; i++)
			for (size_t c = 0; c < batches[i].ncols[l]; c++)
				used[batches[i].cols[l][c].key] = true;
		for (unsigned k = 0; k < XT_COL_COUNT; k++)
			for (size_t i = first; used[k] && i < end; i++)
				for (size_t c = 0; c < batches[i].ncols[l]; c++)
					if (batches[i].cols[l][c].key == k)
						put(&gen_bytes, batches[i].cols[l][c].b.p,
						    batches[i].cols[l][c].b.len);
	}
}

/* end_generation compresses each layer of the generation's batches, laid out as the writer
 * lays them out, as the shim compresses a generation, and forgets the generation. */
static void end_generation(void)
{
	qsort(batches, nbatches, sizeof *batches, by_offset);
	for (int l = 0; l < NLAYERS; l++) {
		layer_bytes(l);
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
		for (int l = 0; l < NLAYERS; l++) {
			for (size_t c = 0; c < batches[i].ncols[l]; c++)
				free(batches[i].cols[l][c].b.p);
			free(batches[i].cols[l]);
		}
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
	struct batch *out = &batches[t->batch];
	uint8_t dt[XT_MAX_VARINT], type = ev->type, wire = ev->wire_type;
	size_t dtlen = (size_t)(xt_put_uvarint(dt, (uint64_t)(tick > t->tick ? tick - t->tick : 0)) - dt);
	t->tick = tick > t->tick ? tick : t->tick;
	bool is_alloc = !ev->generic && type == XT_EV_ObjectAlloc;
	bool is_free = !ev->generic && (type == XT_EV_ObjectFree || type == XT_EV_ObjectReallocFree);
	bool by_ref = !ev->generic && wire != type;
	size_t len = 1 + dtlen;
	for (int l = TIME; l < NLAYERS; l++) {
		if (l >= KIND)
			put_col(out, l, XT_COL_TYPES, l == KIND ? &type : &wire, 1);
		put_col(out, l, XT_COL_DT, dt, dtlen);
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
			put_col(out, l, XT_COL_ARG(wire, i), v, (size_t)(end - v));
		len += (size_t)(end - v);
	}
	out->len += len;
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
