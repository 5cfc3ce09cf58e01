/* internal.h: the reader's private types (file map, batches, one generation's tables, the
 * per-thread cursors) and the helpers every step shares (base.c, file.c, demangle.c). Not
 * installed. The steps themselves (generation.h, check.h, order.h) are declared in their own
 * headers, which only reader.c and its helper thread's prefetch.c include, so no step calls
 * another. */
#ifndef XT_READER_INTERNAL_H
#define XT_READER_INTERNAL_H

#include <endian.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "allocfree.h"
#include "format.h"
#include "spec.h"
#include "varint.h"
#include "xtrace-reader.h"

#define XT_ERRLEN 256

/* The public arg-kind enum mirrors spec.h's, so spec arrays are handed out as they are. */
#define XT_SAME_KIND(pub, k) ((int)(pub) == (int)XT_KIND_##k)
_Static_assert(XT_SAME_KIND(XTRACE_ARG_VALUE, value) && XT_SAME_KIND(XTRACE_ARG_ADDR, addr) &&
		       XT_SAME_KIND(XTRACE_ARG_STRING, string) &&
		       XT_SAME_KIND(XTRACE_ARG_STACK, stack) && XT_SAME_KIND(XTRACE_ARG_TYPE, type) &&
		       XT_SAME_KIND(XTRACE_ARG_NS, ns) && XT_SAME_KIND(XTRACE_ARG_TIMER, timer),
	       "xtrace_arg_kind and xt_arg_kind disagree");
#undef XT_SAME_KIND
_Static_assert(XTRACE_MAX_ARGS == XT_MAX_ARGS, "XTRACE_MAX_ARGS and XT_MAX_ARGS disagree");
_Static_assert(XTRACE_MAX_NAME == XT_MAX_SPEC_NAME, "XTRACE_MAX_NAME and XT_MAX_SPEC_NAME disagree");

/* XT_ALWAYS_INLINE marks the decoding steps that the code generated per event type from
 * events.def is made of: inlined into every case, however large the switch grows (a call per
 * argument costs more than decoding it). */
#define XT_ALWAYS_INLINE inline __attribute__((always_inline))

/* Where the bytes are known to be there, events are decoded eight bytes at a time: XT_FAST_ROOM
 * bytes at hand hold any event plus what an eight-byte load at its last varint reads beyond. */
#define XT_FAST_ROOM (XT_MAX_EVENT_SIZE + 8)

/* xt_word_uvarint decodes a uvarint of at most 8 bytes from the 8 bytes at *pp, with one branch
 * on its length (two bytes or more): 0, or -1 (nothing consumed) when it is longer. Up to 8 bytes every encoding is
 * valid, so this accepts nothing xt_uvarint rejects. */
static XT_ALWAYS_INLINE int xt_word_uvarint(const uint8_t **pp, uint64_t *out)
{
	uint64_t w;
	memcpy(&w, *pp, sizeof w);
	w = le64toh(w);
	/* Most values (IDs, back references, small deltas) end within two bytes: those need one
	 * shift, not the packing below (a branch each call site predicts well). */
	if ((w & 0x8080) != 0x8080) {
		uint64_t two = (w >> 7) & 1;
		*out = (w & 0x7f) | ((w >> 1) & 0x3f80 & -two);
		*pp += 1 + two;
		return 0;
	}
	uint64_t stop = ~w & UINT64_C(0x8080808080808080);
	if (!stop)
		return -1;
	/* Keep the bytes up to the first without a continuation bit, then pack the 7-bit groups:
	 * pairs of bytes, then pairs of 14-bit halves, then of 28-bit ones. */
	uint64_t x = w & (stop ^ (stop - 1)) & UINT64_C(0x7f7f7f7f7f7f7f7f);
	x = (x & UINT64_C(0x007f007f007f007f)) | ((x & UINT64_C(0x7f007f007f007f00)) >> 1);
	x = (x & UINT64_C(0x00003fff00003fff)) | ((x & UINT64_C(0x3fff00003fff0000)) >> 2);
	x = (x & UINT64_C(0x000000000fffffff)) | ((x & UINT64_C(0x0fffffff00000000)) >> 4);
	*pp += (__builtin_ctzll(stop) >> 3) + 1;
	*out = x;
	return 0;
}

/* One batch header and where its payload lies in the map. */
struct xt_batch {
	uint64_t off; /* file offset of the batch's kind byte */
	uint64_t gen, thread, time;
	const uint8_t *data;
	uint32_t len;
	uint32_t nevents; /* Events batches: counted by the check pass */
	/* how far back its references reach into each list (allocfree.h): largest back_value + 1 */
	uint32_t reach[XT_REFS_LISTS];
	uint8_t kind, experiment;
	uint8_t hlen; /* bytes of its framing: data is at off + hlen */
};

enum xt_read { XT_READ_OK, XT_READ_EOF, XT_READ_TRUNC, XT_READ_CORRUPT };

struct xt_columns;

/* A growable array; it keeps its capacity from one generation to the next. */
struct xt_vec {
	void *p;
	size_t n, cap;
};

/* ID -> index into a table. Dense (an array indexed by ID) when the IDs are, which is the
 * normal case; a sorted array of pairs when a table's IDs are too sparse for that. */
struct xt_idpair {
	uint64_t id;
	uint32_t idx;
};
struct xt_idx {
	uint32_t *dense; /* dense[id] = index + 1, 0 when absent */
	size_t ndense, capdense;
	struct xt_vec sparse; /* of struct xt_idpair, sorted by id */
};

struct xt_str {
	uint64_t id;
	size_t off; /* into the arena; NUL-terminated there */
	size_t len;
	uint64_t boff; /* offset of the batch it came from, for messages */
};

struct xt_stk {
	uint64_t id;
	size_t off; /* into the pc pool */
	size_t n;
	uint64_t boff;
};

/* A module's wire fields that struct xtrace_module does not keep; parallel to xt_gen.mods. */
struct xt_modx {
	uint64_t path_id;
	uint64_t boff;
};

/* A stretch of addresses [lo, hi) and the module that holds it (index into xt_gen.mods): the
 * generation's module ranges, cut where they overlap, the latest module in the table winning. */
struct xt_modseg {
	uint64_t lo, hi;
	size_t mod;
};

/* What a generation's Specs batches described (specs.c): names copied out of the batches, each
 * at most XT_MAX_SPEC_NAME bytes. Allocated at the first Specs batch a reader meets (a fixed
 * size, whatever a batch claims), overwritten by the next generation's. */
typedef char xt_spec_name[XT_MAX_SPEC_NAME + 1];
struct xt_described {
	uint8_t has_event[XT_MAX_EVENT_TYPES], has_exp[XT_MAX_EXPERIMENTS];
	struct xt_event_spec ev[XT_MAX_EVENT_TYPES];
	struct xt_experiment_spec exp[XT_MAX_EXPERIMENTS];
	const char *batches[XT_MAX_EXPERIMENTS][XT_MAX_BATCH_SUBTYPES];
	xt_spec_name ev_name[XT_MAX_EVENT_TYPES], arg_name[XT_MAX_EVENT_TYPES][XT_MAX_ARGS];
	xt_spec_name exp_name[XT_MAX_EXPERIMENTS], batch_name[XT_MAX_EXPERIMENTS][XT_MAX_BATCH_SUBTYPES];
};

/* A generation's map from its ticks to CLOCK_MONOTONIC nanoseconds, from its Sync:
 * ns = ns0 + (ticks - ticks0) * 1e9 / ticks_per_sec, signed, saturating at 0 and UINT64_MAX
 * (mult is 1e9 / ticks_per_sec in 24.40 fixed point; 1e9 ticks/s maps exactly). span is the
 * largest ticks - ticks0 that maps below the saturation (xt_clock_span): every event's, but
 * in a corrupt trace. */
struct xt_clockmap {
	uint64_t ticks0, ns0, mult, span;
};
#define XT_CLOCK_FRAC 40

static inline void xt_clock_span(struct xt_clockmap *m)
{
	/* ns0 + ((d * mult) >> FRAC) <= UINT64_MAX  <=>  d * mult < (UINT64_MAX - ns0 + 1) << FRAC */
	unsigned __int128 lim = ((unsigned __int128)(UINT64_MAX - m->ns0) + 1) << XT_CLOCK_FRAC;
	unsigned __int128 d = m->mult ? (lim - 1) / m->mult : UINT64_MAX;
	m->span = d > UINT64_MAX ? UINT64_MAX : (uint64_t)d;
}

static inline uint64_t xt_clock_ns(const struct xt_clockmap *m, uint64_t t)
{
	if (t >= m->ticks0 && t - m->ticks0 <= m->span)
		return m->ns0 + (uint64_t)(((unsigned __int128)(t - m->ticks0) * m->mult) >> XT_CLOCK_FRAC);
	if (t >= m->ticks0)
		return UINT64_MAX;
	unsigned __int128 d = ((unsigned __int128)(m->ticks0 - t) * m->mult) >> XT_CLOCK_FRAC;
	return d > m->ns0 ? 0 : m->ns0 - (uint64_t)d;
}

/* One generation: its batches and its parsed tables. */
struct xt_gen {
	uint64_t gen;
	uint64_t off; /* first batch */
	struct xt_vec batches; /* struct xt_batch: Events batches, sorted by (thread, off) once read */
	struct xt_vec strs, arena; /* struct xt_str; char */
	struct xt_vec stks, pcs;   /* struct xt_stk; uint64_t */
	struct xt_vec mods, modx;  /* struct xtrace_module (id first: the index reads it); xt_modx */
	struct xt_vec modmap;      /* struct xt_modseg: which module holds each address, by lo */
	struct xt_vec expb;        /* struct xtrace_exp_batch */
	struct xt_vec expraw;      /* struct xt_batch: the experimental batches, for their code */
	struct xt_idx stri, stki, modi;
	/* Each experiment's own tables, parsed by its code (struct xt_rd_experiment): entries of its
	 * own layout, and where typed[e] is set the index of its type table, which the check pass
	 * looks up its events' type arguments in. */
	struct xt_vec exptab[XT_MAX_EXPERIMENTS];
	struct xt_idx typei[XT_MAX_EXPERIMENTS];
	uint8_t typed[XT_MAX_EXPERIMENTS];
	/* What each event type and experiment decodes by in this generation (specs.c): spec[t] is
	 * the built-in spec (fast[t] set: the generated paths and the experiment's code apply) or the
	 * generation's description, NULL for a type it has no events of; likewise exp[e], builtin[e]
	 * set where the experiment's built-in code applies. */
	struct xt_described *desc;
	const struct xt_event_spec *spec[XT_MAX_EVENT_TYPES];
	uint8_t fast[XT_MAX_EVENT_TYPES];
	const struct xt_experiment_spec *exp[XT_MAX_EXPERIMENTS];
	uint8_t builtin[XT_MAX_EXPERIMENTS];
	struct xtrace_sync sync;
	uint64_t sync_off;
	struct xt_clockmap clock;
};

/* A thread's place in the merged stream: its Events batches in file order, and the event it
 * hands out next, of which only the timestamp is decoded yet. */
struct xt_cursor {
	uint64_t ts;
	uint64_t thread;
	uint64_t prev_addr;     /* the batch's last addr argument handed out */
	/* The latest addresses of each list (allocfree.h), for the references: a ring of mask + 1
	 * (the reach of the thread's batches into the list at least), n written so far. A reference
	 * counts back from the latest, and the check pass made sure it stays inside its batch. */
	struct xt_ring {
		uint64_t *addr;
		uint32_t mask, n;
	} ring[XT_REFS_LISTS];
	const uint8_t *ev;      /* the next event (its type byte) */
	uint8_t releases;       /* it gives an address back (xt_releases): first among equal times */
	const uint8_t *args;    /* its arguments, after dt */
	const struct xt_batch *b, *bend;
};

enum xt_state { XT_ST_NEED_GEN, XT_ST_EVENTS, XT_ST_DONE, XT_ST_ERROR };

struct xtrace_reader {
	int fd;
	const uint8_t *data;
	size_t size;
	struct xtrace_header hdr;
	int clock_per_gen;   /* the events carry ticks each Sync maps (header ticks_per_sec 0) */
	char *exe, *cmdline;

	uint64_t next_off; /* where the next generation starts */
	void *zctx;           /* ZSTD_DCtx, made at the first compressed generation */
	struct xt_vec plain;  /* the plain bytes of the current compressed generation */
	struct xt_vec packed; /* the column form of the segment being joined onto plain */
	struct xt_columns *cols; /* the join's workspace, made at the first column record */
	uint64_t last_gen; /* 0 before the first generation */
	enum xt_state state;
	int have_gen; /* g holds a delivered generation: the accessors may read it */
	struct xt_gen g;

	struct xt_cursor *cur;
	size_t ncur, capcur;
	struct xt_cursor **heap;
	size_t nheap, capheap;
	uint64_t *rings; /* the cursors' rings, one after another */
	size_t caprings;
	struct xt_prefetch *pf; /* the helper readying the next generation (prefetch.c), or NULL */

	enum xtrace_status status;
	uint64_t err_off;
	char err[XT_ERRLEN];
};

/* What the core asks of an experiment's reader code (reader/<experiment>.c defines
 * xt_rd_exp_<Name>); a NULL field: nothing to do. */
struct xt_rd_experiment {
	/* parses one of its experimental batches into g->exptab[b->experiment]: 0, or -1 with the
	 * error set */
	int (*batch)(xtrace_reader *r, struct xt_gen *g, const struct xt_batch *b);
	/* once every batch of g is parsed: indexes what batch kept, setting g->typei[exp] and
	 * g->typed[exp] when its events' type arguments name entries of it; 0 or -1 */
	int (*index)(xtrace_reader *r, struct xt_gen *g, uint8_t exp);
};

/* Shared between the reader's files only: not exported from the shared library. */
#pragma GCC visibility push(hidden)

/* base.c */
int xt_rd_fail(xtrace_reader *r, enum xtrace_status st, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* xt_rd_kind_name names a batch's kind, for messages. */
const char *xt_rd_kind_name(const struct xt_batch *b);
void *xt_vec_push(struct xt_vec *v, size_t elsz);
/* xt_vec_grow makes room for n more elements and returns where they go; n is bounded by bytes
 * present in the file. */
void *xt_vec_grow(struct xt_vec *v, size_t elsz, size_t n);
void xt_vec_free(struct xt_vec *v);
void xt_idx_free(struct xt_idx *x);
/* xt_rd_index indexes the entries of v (each stride bytes, its uint64_t id first) into x; a
 * duplicate ID is reported with the offset boff gives for the entry that repeats it. */
int xt_rd_index(xtrace_reader *r, struct xt_idx *x, const struct xt_vec *v, size_t stride,
		const char *what, uint64_t (*boff)(const struct xt_gen *, size_t));
/* xt_idx_get returns the table index of id, or -1. */
static inline int64_t xt_idx_get(const struct xt_idx *x, uint64_t id)
{
	if (x->dense)
		return id < x->ndense ? (int64_t)x->dense[id] - 1 : -1;
	const struct xt_idpair *a = x->sparse.p;
	size_t lo = 0, hi = x->sparse.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->sparse.n && a[lo].id == id ? (int64_t)a[lo].idx : -1;
}

#define XT_NOMEM(r) xt_rd_fail(r, XTRACE_ERR_NOMEM, 0, "out of memory")

/* XT_BAD reports malformed bytes in a batch: what, the batch, and the offset of the entry or
 * event at fault. The error offset is the batch's. */
#define XT_BAD(r, b, p, what, ...)                                                            \
	xt_rd_fail(r, XTRACE_ERR_CORRUPT, (b)->off,                                           \
		   "%s batch at offset %" PRIu64 ": " what " at offset %" PRIu64,             \
		   xt_rd_kind_name(b), (b)->off, ##__VA_ARGS__,                                    \
		   (b)->off + (b)->hlen + (uint64_t)((p) - (b)->data))

/* file.c */
int xt_rd_open_file(xtrace_reader *r, const char *path, char *err, size_t errlen);
void xt_rd_close_file(xtrace_reader *r);
/* xt_rd_batch frames the batch at off of the bytes of w (the file, or a compressed
 * generation's plain bytes, whose batches' offsets count from w's record). */
struct xt_window {
	const uint8_t *data;
	size_t size;
	uint64_t base; /* file offset of the record the bytes came from (0: the file itself) */
};
enum xt_read xt_rd_batch(const struct xt_window *w, uint64_t off, struct xt_batch *b,
			   uint64_t *next, char *err, size_t errlen);
/* xt_rd_inflate decompresses the compressed generation record at file offset off (either
 * kind; a column record's form is joined back, columns.h) into r->plain, growing it as the
 * bytes come (up to XT_MAX_GEN_SIZE, never to what the record claims first); *gen is the
 * record's generation, *next the offset after it. */
enum xt_read xt_rd_inflate(xtrace_reader *r, uint64_t off, uint64_t *gen, uint64_t *next,
			     char *err, size_t errlen);

/* demangle.c */
/* A growable name buffer; failed is set once memory ran out. */
struct xt_namebuf {
	char *p;
	size_t len, cap;
	int failed;
};
/* xt_namebuf_put appends n bytes of s, keeping b->p NUL-terminated: 0, or -1 (failed set). */
int xt_namebuf_put(struct xt_namebuf *b, const char *s, size_t n);
/* xt_readable_name writes into b the name people read for symbol raw (as the object file spells
 * it): demangled (C++, Rust) without parameters or ABI tags, without the symbol version or a
 * compiler clone suffix: "_ZN3app5buildB5cxx11Ei" -> "app::build",
 * "__libc_start_main@@GLIBC_2.34" -> "__libc_start_main", "foo.part.0" -> "foo". Returns b->p,
 * or NULL without memory. */
const char *xt_readable_name(const char *raw, struct xt_namebuf *b);

#pragma GCC visibility pop

#endif
