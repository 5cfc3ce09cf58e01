/* columns.c: a generation's column form and back (columns.h), the shim writing it and the
 * reader taking it apart with the same reading of a batch's header. */
#include "columns.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "varint.h"

/* batch_head reads the header of the batch at p: its length, its payload's size and whether it
 * is an Events batch; -1 when the header is cut or not well formed. */
static int batch_head(const uint8_t *p, const uint8_t *end, size_t *hlen, uint64_t *size,
		      int *events)
{
	const uint8_t *q = p;
	if (q >= end)
		return -1;
	uint8_t kind = *q++;
	if (kind == XT_BATCH_EXPERIMENTAL && q++ >= end)
		return -1;
	uint64_t v = 0;
	for (int i = 0; i < 4; i++) /* gen, thread, time, size */
		if (xt_get_uvarint(&q, end, &v))
			return -1;
	*hlen = (size_t)(q - p);
	*size = v;
	*events = kind == XT_BATCH_EVENTS;
	return 0;
}

/* varint_len is the length of the uvarint at p, 0 when it does not end before end. */
static size_t varint_len(const uint8_t *p, const uint8_t *end)
{
	for (size_t n = 0; n < XT_MAX_VARINT && p + n < end;)
		if (!(p[n++] & 0x80))
			return n;
	return 0;
}

/* An event's fields (dt and its arguments, after its type byte) are found at once where they
 * all end within the 16 bytes after the type byte, as they nearly always do: a vector compare
 * gives where each uvarint ends. Then each field is copied as 16 bytes (the columns are laid
 * out 16 bytes apart, closed up after), so the batch needs FAST_ROOM bytes after the type
 * byte. Other events go a byte at a time. */
#define SPAN 16
#define FAST_ROOM (2 * SPAN)

/* field_ends: bit i set where byte i after d ends a uvarint (no continuation bit). */
static inline unsigned field_ends(const uint8_t *d)
{
#ifdef __SSE2__
	return ~(unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)d)) & 0xffff;
#else
	unsigned m = 0;
	for (unsigned i = 0; i < SPAN; i++)
		m |= (unsigned)!(d[i] & 0x80) << i;
	return m;
#endif
}

/* The number of bits set in a byte: whether the span holds an event's every field is two
 * lookups (no popcount instruction is assumed). */
static const uint8_t ones[256] = {
#define B2(n) n, n + 1, n + 1, n + 2
#define B4(n) B2(n), B2(n + 1), B2(n + 1), B2(n + 2)
#define B6(n) B4(n), B4(n + 1), B4(n + 1), B4(n + 2)
	B6(0), B6(1), B6(1), B6(2)
#undef B2
#undef B4
#undef B6
};

/* span_holds: the span whose uvarint ends are m holds n + 1 whole fields. */
static inline int span_holds(unsigned m, unsigned n)
{
	return ones[m & 0xff] + ones[m >> 8] > n;
}

/* slow_fields puts into len[] the lengths of the n + 1 fields (dt, then the arguments) at d,
 * a byte at a time: their total, or 0 when one does not end before end or is longer than a
 * uvarint can be. */
static size_t slow_fields(const uint8_t *d, const uint8_t *end, unsigned n,
			  size_t len[XT_MAX_ARGS + 1])
{
	size_t at = 0;
	for (unsigned f = 0; f <= n; f++) {
		len[f] = varint_len(d + at, end);
		if (!len[f])
			return 0;
		at += len[f];
	}
	return at;
}

/* size_events adds the bytes of each field of the events of one Events batch [d, end) to its
 * column's size: false when an event is cut or of an unknown type. */
static int size_events(const uint8_t *d, const uint8_t *end, const uint8_t nargs[256],
		       struct xt_columns *ws)
{
	size_t *size = ws->size, len[XT_MAX_ARGS + 1];
	while (d < end) {
		int fast = end - d > FAST_ROOM;
		unsigned t = *d++, n = nargs[t];
		if (n > XT_MAX_ARGS)
			return 0;
		size[XT_COL_TYPES]++;
		size_t *arg = &size[XT_COL_ARG(t, 0)];
		unsigned m = fast ? field_ends(d) : 0;
		if (fast && span_holds(m, n)) {
			unsigned e = (unsigned)__builtin_ctz(m) + 1, prev;
			size[XT_COL_DT] += e;
			for (unsigned i = 0; i < n; i++) {
				m &= m - 1;
				prev = e;
				e = (unsigned)__builtin_ctz(m) + 1;
				arg[i] += e - prev;
			}
			d += e;
			continue;
		}
		size_t all = slow_fields(d, end, n, len);
		if (!all)
			return 0;
		size[XT_COL_DT] += len[0];
		for (unsigned i = 0; i < n; i++)
			arg[i] += len[i + 1];
		d += all;
	}
	return 1;
}

/* scatter_events copies each field of the events of one Events batch [d, end), sized before,
 * to its column's place in form: where the span holds them all, SPAN bytes at once each (the
 * columns are laid out SPAN bytes apart, closed up after). */
static void scatter_events(const uint8_t *d, const uint8_t *end, const uint8_t nargs[256],
			   struct xt_columns *ws, uint8_t *form)
{
	size_t *at = ws->at, len[XT_MAX_ARGS + 1];
	while (d < end) {
		int fast = end - d > FAST_ROOM;
		unsigned t = *d++, n = nargs[t];
		form[at[XT_COL_TYPES]++] = (uint8_t)t;
		size_t *arg = &at[XT_COL_ARG(t, 0)];
		unsigned m = fast ? field_ends(d) : 0;
		if (fast && span_holds(m, n)) {
			unsigned e = (unsigned)__builtin_ctz(m) + 1, prev;
			memcpy(form + at[XT_COL_DT], d, SPAN);
			at[XT_COL_DT] += e;
			for (unsigned i = 0; i < n; i++) {
				m &= m - 1;
				prev = e;
				e = (unsigned)__builtin_ctz(m) + 1;
				memcpy(form + arg[i], d + prev, SPAN);
				arg[i] += e - prev;
			}
			d += e;
			continue;
		}
		slow_fields(d, end, n, len);
		memcpy(form + at[XT_COL_DT], d, len[0]);
		at[XT_COL_DT] += len[0];
		d += len[0];
		for (unsigned i = 0; i < n; i++) {
			memcpy(form + arg[i], d, len[i + 1]);
			arg[i] += len[i + 1];
			d += len[i + 1];
		}
	}
}

/* forget zeroes the sizes the last segment left: ws's sizes are zero but for its keys, split
and join alike. */
static void forget(struct xt_columns *ws)
{
	for (unsigned i = 0; i < ws->nkeys; i++)
		ws->size[ws->keys[i]] = 0;
	ws->nkeys = 0;
}

/* walk_batches goes through the whole batches src[0..len): with form NULL it sizes the
 * skeleton (returned) and the columns, else writes the skeleton at form + at and the events
 * into their columns. SIZE_MAX when an event is cut or of an unknown type. */
static size_t walk_batches(const uint8_t *src, size_t len, const uint8_t nargs[256],
			   struct xt_columns *ws, uint8_t *form, size_t at)
{
	const uint8_t *p = src, *end = src + len;
	size_t skel = 0;
	while (p < end) {
		size_t hl;
		uint64_t size;
		int events;
		batch_head(p, end, &hl, &size, &events); /* the caller found whole batches */
		size_t keep = events ? hl : hl + (size_t)size;
		if (form)
			memcpy(form + at + skel, p, keep);
		skel += keep;
		if (events && form)
			scatter_events(p + hl, p + hl + size, nargs, ws, form);
		else if (events && !size_events(p + hl, p + hl + size, nargs, ws))
			return SIZE_MAX;
		p += hl + size;
	}
	return skel;
}

size_t xt_columns_split(const uint8_t *src, size_t len, const uint8_t nargs[256],
			struct xt_columns *ws, uint8_t *out, size_t *took)
{
	const uint8_t *p = src, *end = src + len;
	while (p < end && (size_t)(p - src) < XT_COL_SEGMENT) {
		size_t hl;
		uint64_t size;
		int events;
		if (batch_head(p, end, &hl, &size, &events) < 0 || size > (uint64_t)(end - p) - hl)
			return 0;
		p += hl + size;
	}
	size_t seg = (size_t)(p - src);
	if (!seg || seg > XT_COL_SEGMENT_MAX)
		return 0;
	forget(ws);
	size_t skel = walk_batches(src, seg, nargs, ws, NULL, 0);
	if (skel == SIZE_MAX) {
		/* sizes of keys not listed: all go, which a refused generation may cost */
		memset(ws->size, 0, sizeof ws->size);
		return 0;
	}
	for (unsigned k = 0; k < XT_COL_COUNT; k++)
		if (ws->size[k])
			ws->keys[ws->nkeys++] = (uint16_t)k;
	uint8_t *o = xt_put_uvarint(out, ws->nkeys);
	for (unsigned i = 0; i < ws->nkeys; i++) {
		o = xt_put_uvarint(o, ws->keys[i]);
		o = xt_put_uvarint(o, ws->size[ws->keys[i]]);
	}
	o = xt_put_uvarint(o, skel);
	/* The columns go SPAN bytes apart first, for the wide copies, then close up. */
	size_t head = (size_t)(o - out), at = head + skel;
	for (unsigned i = 0; i < ws->nkeys; i++) {
		ws->at[ws->keys[i]] = at;
		at += ws->size[ws->keys[i]] + SPAN;
	}
	walk_batches(src, seg, nargs, ws, out, head);
	at = head + skel;
	for (unsigned i = 0; i < ws->nkeys; i++) {
		unsigned k = ws->keys[i];
		memmove(out + at, out + ws->at[k] - ws->size[k], ws->size[k]);
		at += ws->size[k];
	}
	*took = seg;
	return head + seg;
}

/* read_head reads a segment's head from in[0..len) into ws (each column's size, and the keys)
 * and nargs: the head's length, 0 when in ends first, -1 when it is not well formed. *skel and
 * *total: the skeleton's and the columns' bytes. The work is the head's, not every key's: a
 * run of tiny segments costs what its bytes do. */
static long read_head(const uint8_t *in, size_t len, struct xt_columns *ws, uint8_t nargs[256],
		      uint64_t *skel, uint64_t *total)
{
	const uint8_t *p = in, *end = in + len;
	uint64_t ncols;
	int rc = xt_uvarint(&p, end, &ncols);
	if (rc)
		return rc > 0 ? 0 : -1;
	if (ncols > XT_COL_COUNT)
		return -1;
	forget(ws);
	*total = 0;
	for (uint64_t i = 0, prev = 0; i < ncols; i++) {
		uint64_t key, size;
		if ((rc = xt_uvarint(&p, end, &key)) || (rc = xt_uvarint(&p, end, &size)))
			return rc > 0 ? 0 : -1;
		if (key >= XT_COL_COUNT || (i && key <= prev) || !size || size > XT_COL_SEGMENT_MAX)
			return -1;
		if (key >= XT_COL_ARG(0, 0)) {
			unsigned a = (unsigned)(key - XT_COL_ARG(0, 0)) % XT_MAX_ARGS;
			if (a && (!i || prev != key - 1))
				return -1; /* an argument's column without the one before it */
			nargs[(key - XT_COL_ARG(0, 0)) / XT_MAX_ARGS] = (uint8_t)(a + 1);
		}
		ws->size[key] = size;
		ws->keys[ws->nkeys++] = (uint16_t)key;
		*total += size;
		prev = key;
	}
	if ((rc = xt_uvarint(&p, end, skel)))
		return rc > 0 ? 0 : -1;
	/* a segment holds at least a batch: an empty one would join to nothing, for ever */
	if (*total > XT_COL_SEGMENT_MAX || *skel > XT_COL_SEGMENT_MAX - *total || !(*skel + *total))
		return -1;
	return (long)(p - in);
}

long xt_columns_segment_size(const uint8_t *in, size_t len, struct xt_columns *ws)
{
	uint8_t nargs[256];
	uint64_t skel, total;
	long head = read_head(in, len, ws, nargs, &skel, &total);
	return head <= 0 ? head : head + (long)skel + (long)total;
}

/* take copies the next uvarint of column key from in (len bytes) to *o (before oend); 0 when
 * the column ends first, the value is longer than a uvarint can be, or the output is full.
 * A value of one byte is copied as such; a longer one, where SPAN bytes can be read and
 * written, has its end found at once and SPAN bytes copied (the output's bytes past it are
 * written again next). */
static inline int take(const uint8_t *in, size_t len, struct xt_columns *ws, unsigned key,
		       uint8_t **o, const uint8_t *oend)
{
	size_t at = ws->at[key];
	if (ws->size[key] && *o < oend && in[at] < 0x80) { /* most values are a byte */
		*(*o)++ = in[at];
		ws->at[key]++;
		ws->size[key]--;
		return 1;
	}
	if (len - at >= SPAN && oend - *o >= SPAN) {
		unsigned m = field_ends(in + at);
		size_t l = m ? (size_t)__builtin_ctz(m) + 1 : SPAN + 1;
		if (l > XT_MAX_VARINT || l > ws->size[key])
			return 0;
		memcpy(*o, in + at, SPAN);
		*o += l;
		ws->at[key] += l;
		ws->size[key] -= l;
		return 1;
	}
	for (unsigned n = 0; n < XT_MAX_VARINT && ws->size[key] && *o < oend; n++) {
		uint8_t b = in[ws->at[key]++];
		ws->size[key]--;
		*(*o)++ = b;
		if (!(b & 0x80))
			return 1;
	}
	return 0;
}

size_t xt_columns_join(const uint8_t *in, size_t len, struct xt_columns *ws, uint8_t *out,
		       size_t cap, const char **why)
{
	uint8_t nargs[256] = {0};
	uint64_t skel, total;
	long head = read_head(in, len, ws, nargs, &skel, &total);
	if (head <= 0 || (uint64_t)head + skel + total != len) {
		*why = "a column segment's head is not well formed, or does not match its length";
		return 0;
	}
	size_t plain = (size_t)(skel + total);
	if (plain > cap) {
		*why = "more plain bytes than room for them";
		return 0;
	}
	size_t at = (size_t)head + (size_t)skel;
	for (unsigned i = 0; i < ws->nkeys; i++) {
		ws->at[ws->keys[i]] = at;
		at += ws->size[ws->keys[i]];
	}
	const uint8_t *s = in + head, *send = s + skel;
	uint8_t *o = out, *oend = out + plain;
	while (s < send) {
		size_t hl;
		uint64_t size;
		int events;
		if (batch_head(s, send, &hl, &size, &events) < 0) {
			*why = "a batch's header cut short in a column segment's skeleton";
			return 0;
		}
		memcpy(o, s, hl); /* o + hl <= oend: the skeleton is part of the plain bytes */
		o += hl;
		s += hl;
		if (!events) {
			if (size > (uint64_t)(send - s)) {
				*why = "a batch cut short in a column segment's skeleton";
				return 0;
			}
			memcpy(o, s, (size_t)size);
			o += size;
			s += size;
			continue;
		}
		if (size > (uint64_t)(oend - o)) {
			*why = "an Events batch larger than its columns";
			return 0;
		}
		const uint8_t *bend = o + size;
		while (o < bend) {
			if (!ws->size[XT_COL_TYPES]) {
				*why = "the type column ends before the events";
				return 0;
			}
			uint8_t t = in[ws->at[XT_COL_TYPES]++];
			ws->size[XT_COL_TYPES]--;
			*o++ = t;
			int ok = take(in, len, ws, XT_COL_DT, &o, oend);
			for (unsigned a = 0; ok && a < nargs[t]; a++)
				ok = take(in, len, ws, XT_COL_ARG(t, a), &o, oend);
			if (!ok || o > bend) {
				*why = "an event cut short, or past its batch's end";
				return 0;
			}
		}
	}
	for (unsigned i = 0; i < ws->nkeys; i++)
		if (ws->size[ws->keys[i]]) {
			*why = "column bytes no event takes";
			return 0;
		}
	return plain;
}
