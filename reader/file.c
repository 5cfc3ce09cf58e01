/* file.c: mapping a trace file, parsing its header, framing one batch at an offset, and
 * decompressing a compressed generation. Every length read from the file is checked against
 * the bytes actually mapped. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "columns.h"

#include "internal.h"

/* xt_take_bytes copies n bytes at *pp (already checked to be present) into a NUL-terminated
 * heap string. */
static char *xt_take_bytes(const uint8_t **pp, uint64_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, *pp, n);
	s[n] = 0;
	*pp += n;
	return s;
}

static int xt_parse_header(xtrace_reader *r, const char *path, char *err, size_t errlen)
{
	const uint8_t *d = r->data, *end = d + r->size;
	if (r->size < XT_MAGIC_LEN || memcmp(d, XT_MAGIC, XT_MAGIC_LEN) != 0) {
		snprintf(err, errlen, "%s: not an xtrace trace (bad magic)", path);
		return -1;
	}
	const uint8_t *p = d + XT_MAGIC_LEN;
	uint64_t hsize;
	int rc = xt_uvarint(&p, end, &hsize);
	if (rc) {
		snprintf(err, errlen, "%s: %s header size at offset %d", path,
			 rc > 0 ? "truncated" : "bad", XT_MAGIC_LEN);
		return -1;
	}
	if (hsize > XT_MAX_HEADER_SIZE) {
		snprintf(err, errlen, "%s: header size %" PRIu64 " exceeds limit %d", path, hsize,
			 XT_MAX_HEADER_SIZE);
		return -1;
	}
	if ((uint64_t)(end - p) < hsize) {
		snprintf(err, errlen, "%s: truncated header: size %" PRIu64 ", file ends at %zu",
			 path, hsize, r->size);
		return -1;
	}
	const uint8_t *hend = p + hsize;
	uint64_t f[10];
	const char *names[10] = {"version", "ticks_per_sec", "pid", "ppid", "fork_parent_pid",
				 "fork_ts", "start_ts", "start_wall_sec", "start_wall_nsec",
				 "exe length"};
	for (int i = 0; i < 10; i++) {
		if (xt_uvarint(&p, hend, &f[i])) {
			snprintf(err, errlen, "%s: bad header: field %s at offset %zu", path,
				 names[i], (size_t)(p - d));
			return -1;
		}
		if (i == 0 && (f[0] < XT_MIN_FORMAT_VERSION || f[0] > XT_FORMAT_VERSION)) {
			snprintf(err, errlen, "%s: unsupported trace version %" PRIu64 " (want %d..%d)",
				 path, f[0], XT_MIN_FORMAT_VERSION, XT_FORMAT_VERSION);
			return -1;
		}
	}
	/* Versions 1 and 2 always carry nanoseconds, whatever the field says (it was 1e9). */
	if (f[0] >= 3 && f[1] != XT_TICKS_PER_SEC && f[1] != XT_TICKS_PER_GEN) {
		snprintf(err, errlen, "%s: bad header: ticks_per_sec %" PRIu64 " (want %llu, or %d: per generation)",
			 path, f[1], XT_TICKS_PER_SEC, XT_TICKS_PER_GEN);
		return -1;
	}
	r->clock_per_gen = f[0] >= 3 && f[1] == XT_TICKS_PER_GEN;
	if (f[9] > XT_MAX_STRING || (uint64_t)(hend - p) < f[9]) {
		snprintf(err, errlen, "%s: bad header: exe length %" PRIu64 " at offset %zu", path,
			 f[9], (size_t)(p - d));
		return -1;
	}
	r->exe = xt_take_bytes(&p, f[9]);
	uint64_t clen;
	if (r->exe && (xt_uvarint(&p, hend, &clen) || clen > XT_MAX_STRING ||
		       (uint64_t)(hend - p) < clen)) {
		snprintf(err, errlen, "%s: bad header: cmdline at offset %zu", path, (size_t)(p - d));
		return -1;
	}
	if (r->exe)
		r->cmdline = xt_take_bytes(&p, clen);
	if (!r->exe || !r->cmdline) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	struct xtrace_header *h = &r->hdr;
	h->version = (uint32_t)f[0];
	h->ticks_per_sec = f[1];
	h->pid = f[2];
	h->ppid = f[3];
	h->fork_parent_pid = f[4];
	h->fork_ts = f[5];
	h->start_ts = f[6];
	h->start_wall_sec = f[7];
	h->start_wall_nsec = f[8];
	h->exe = r->exe;
	h->cmdline = r->cmdline;
	h->cmdline_len = clen;
	/* Optional: older writers end the header at the cmdline (not sampled). */
	h->sample_bytes = 0;
	if (p < hend && xt_uvarint(&p, hend, &h->sample_bytes)) {
		snprintf(err, errlen, "%s: bad header: sample_bytes at offset %zu", path,
			 (size_t)(p - d));
		return -1;
	}
	/* Bytes after the known fields are for newer readers. */
	r->next_off = (uint64_t)(hend - d);
	return 0;
}

int xt_rd_open_file(xtrace_reader *r, const char *path, char *err, size_t errlen)
{
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(r->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file, not an xtrace trace", path);
		return -1;
	}
	r->size = (size_t)st.st_size;
	void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, r->fd, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		r->size = 0;
		return -1;
	}
	r->data = m;
	/* Batches are read front to back, each once or twice. */
	madvise(m, r->size, MADV_SEQUENTIAL);
	return xt_parse_header(r, path, err, errlen);
}

void xt_rd_close_file(xtrace_reader *r)
{
	if (r->data)
		munmap((void *)r->data, r->size);
	if (r->fd >= 0)
		close(r->fd);
	free(r->exe);
	free(r->cmdline);
	ZSTD_freeDCtx(r->zctx);
	free(r->packed.p);
	free(r->cols);
	r->packed = (struct xt_vec){0};
	r->cols = NULL;
	if (r->plain.p)
		munmap(r->plain.p, r->plain.cap);
	r->plain = (struct xt_vec){0};
}

/* A buffer of plain bytes at least this big asks for huge pages. */
#define XT_PLAIN_HUGE (4u << 20)

/* xt_plain_grow makes the buffer of a generation's plain bytes (p, cap bytes; NULL: none yet)
 * want bytes: mapped on its own, it grows by remapping, never copying. A big one asks for huge
 * pages: its megabytes are written once front to back, and a page fault per 2 MiB rather than
 * per 4 KiB (each about 10 us on a VM) saves a tenth of the time of reading the generation. A
 * small one does not: a huge page is zeroed whole at its first touch, and a trace of small
 * generations would pay that for a few KiB. NULL without memory. */
static void *xt_plain_grow(void *p, size_t cap, size_t want)
{
	void *np = p ? mremap(p, cap, want, MREMAP_MAYMOVE)
		     : mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (np == MAP_FAILED)
		return NULL;
	if (want >= XT_PLAIN_HUGE)
		(void)madvise(np, want, MADV_HUGEPAGE); /* a hint: the buffer works without it */
	return np;
}

enum xt_read xt_rd_batch(const struct xt_window *w, uint64_t off, struct xt_batch *b,
			   uint64_t *next, char *err, size_t errlen)
{
	if (off >= w->size)
		return XT_READ_EOF;
	const uint8_t *end = w->data + w->size;
	const uint8_t *p = w->data + off;
	off += w->base;
	b->off = off;
	b->kind = *p++;
	b->experiment = 0;
	b->nevents = 0;
	if (b->kind == 0 || b->kind > XT_BATCH_KIND_MAX) {
		snprintf(err, errlen, "batch at offset %" PRIu64 ": bad kind %u", off, b->kind);
		return XT_READ_CORRUPT;
	}
	if (b->kind == XT_BATCH_EXPERIMENTAL) {
		if (p >= end)
			return XT_READ_TRUNC;
		b->experiment = *p++;
		if (b->experiment >= XT_MAX_EXPERIMENTS) {
			snprintf(err, errlen,
				 "batch at offset %" PRIu64 ": experiment %u exceeds limit %d", off,
				 b->experiment, XT_MAX_EXPERIMENTS - 1);
			return XT_READ_CORRUPT;
		}
	}
	uint64_t v[4];
	static const char *const names[4] = {"gen", "thread", "time", "size"};
	for (int i = 0; i < 4; i++) {
		int rc = xt_uvarint(&p, end, &v[i]);
		if (rc > 0)
			return XT_READ_TRUNC;
		if (rc < 0) {
			snprintf(err, errlen, "batch at offset %" PRIu64 ": bad varint for %s", off,
				 names[i]);
			return XT_READ_CORRUPT;
		}
	}
	b->gen = v[0];
	b->thread = v[1];
	b->time = v[2];
	if (v[3] > XT_MAX_BATCH_SIZE) {
		snprintf(err, errlen, "batch at offset %" PRIu64 ": size %" PRIu64
			 " exceeds limit %u", off, v[3], XT_MAX_BATCH_SIZE);
		return XT_READ_CORRUPT;
	}
	if ((uint64_t)(end - p) < v[3])
		return XT_READ_TRUNC;
	b->data = p;
	b->len = (uint32_t)v[3];
	b->hlen = (uint8_t)(p - (w->data + (off - w->base)));
	*next = (uint64_t)(p - w->data) + v[3];
	return XT_READ_OK;
}

/* plain_room makes r->plain hold want bytes, doubling it up to limit (the record's claim, which
 * the caller checked against XT_MAX_GEN_SIZE; want is at most that): -1 without memory. */
static int plain_room(xtrace_reader *r, size_t want, size_t limit, char *err, size_t errlen)
{
	struct xt_vec *o = &r->plain;
	if (want <= o->cap)
		return 0;
	size_t cap = o->cap ? 2 * o->cap : (2u << 20);
	if (cap < want)
		cap = want;
	if (cap > limit)
		cap = limit;
	void *np = xt_plain_grow(o->p, o->cap, cap);
	if (!np) {
		snprintf(err, errlen, "out of memory for a generation of %zu bytes", cap);
		return -1;
	}
	o->p = np;
	o->cap = cap;
	return 0;
}

/* inflate_step decompresses what fits of in into v (its n bytes kept, cap in all): 1 when a
 * frame ended, 0 when it did not, -1 (err said) when the frame is bad or made no progress. */
static int inflate_step(xtrace_reader *r, uint64_t off, ZSTD_inBuffer *in, struct xt_vec *v,
			char *err, size_t errlen)
{
	ZSTD_outBuffer out = {v->p, v->cap, v->n};
	size_t was_in = in->pos, was_out = out.pos;
	size_t rc = ZSTD_decompressStream(r->zctx, &out, in);
	v->n = out.pos;
	if (ZSTD_isError(rc)) {
		snprintf(err, errlen, "compressed generation at offset %" PRIu64 ": %s", off,
			 ZSTD_getErrorName(rc));
		return -1;
	}
	if (rc && in->pos == was_in && out.pos == was_out) {
		snprintf(err, errlen, "compressed generation at offset %" PRIu64 ": %s", off,
			 in->pos == in->size ? "its frame is cut short" : "more bytes than its plain size");
		return -1;
	}
	return rc == 0;
}

/* inflate_plain decompresses a plain record's frame (in) into r->plain, growing it with the
 * bytes that come out, never by the size the record claims (plain). */
static enum xt_read inflate_plain(xtrace_reader *r, uint64_t off, ZSTD_inBuffer *in,
				  uint64_t plain, char *err, size_t errlen)
{
	struct xt_vec *o = &r->plain;
	for (;;) {
		if (o->n == o->cap && o->cap < plain &&
		    plain_room(r, o->cap + 1, plain, err, errlen) < 0)
			return XT_READ_CORRUPT;
		int rc = inflate_step(r, off, in, o, err, errlen);
		if (rc)
			return rc > 0 ? XT_READ_OK : XT_READ_CORRUPT;
	}
}

/* inflate_columns decompresses a column record's frames (in) into r->packed and joins each
 * segment's plain bytes onto r->plain (columns.h) as soon as it is whole: the reader holds one
 * segment's column form besides the generation, and grows either only by bytes that came out
 * of the frames. */
static enum xt_read inflate_columns(xtrace_reader *r, uint64_t off, ZSTD_inBuffer *in,
				    uint64_t plain, char *err, size_t errlen)
{
	struct xt_vec *o = &r->plain, *k = &r->packed;
	size_t at = 0; /* where the next segment begins in k: compacted before each refill */
	k->n = 0;
	if (!r->cols && !(r->cols = calloc(1, sizeof *r->cols))) {
		snprintf(err, errlen, "out of memory for decompression");
		return XT_READ_CORRUPT;
	}
	for (int ended = 0;;) {
		uint8_t *seg = k->n > at ? (uint8_t *)k->p + at : NULL; /* NULL: none begun */
		long need = seg ? xt_columns_segment_size(seg, k->n - at, r->cols) : 0;
		const char *why = NULL;
		if (need < 0) {
			why = "a column segment's head is not well formed";
		} else if (need > 0 && k->n - at >= (size_t)need) {
			/* a segment's plain bytes are fewer than its form's */
			size_t room = plain - o->n < (size_t)need ? plain - o->n : (size_t)need;
			if (plain_room(r, o->n + room, plain, err, errlen) < 0)
				return XT_READ_CORRUPT;
			size_t got = xt_columns_join(seg, (size_t)need, r->cols, (uint8_t *)o->p + o->n,
						     room, &why);
			if (got) {
				o->n += got;
				at += (size_t)need;
				continue;
			}
		} else if (ended) {
			if (k->n == at)
				return XT_READ_OK;
			why = "its frame ends inside a column segment";
		}
		if (why) {
			snprintf(err, errlen, "compressed generation at offset %" PRIu64 ": %s", off, why);
			return XT_READ_CORRUPT;
		}
		/* the segment begun goes to the front: each byte moves at most once, since a refill
		 * makes room for the whole segment */
		if (at) {
			if (seg)
				memmove(k->p, seg, k->n - at);
			k->n -= at;
			at = 0;
		}
		if (k->n == k->cap || (size_t)need > k->cap) {
			size_t cap = k->cap ? 2 * k->cap : (256u << 10);
			if (cap < (size_t)need)
				cap = (size_t)need;
			if (cap > XT_COL_FORM_MAX)
				cap = XT_COL_FORM_MAX;
			void *np = cap > k->cap ? realloc(k->p, cap) : NULL;
			if (!np) {
				snprintf(err, errlen, "out of memory for decompression");
				return XT_READ_CORRUPT;
			}
			k->p = np;
			k->cap = cap;
		}
		int rc = inflate_step(r, off, in, k, err, errlen);
		if (rc < 0)
			return XT_READ_CORRUPT;
		ended = rc > 0 && in->pos == in->size; /* a frame ended, and no other follows */
	}
}

enum xt_read xt_rd_inflate(xtrace_reader *r, uint64_t off, uint64_t *gen, uint64_t *next,
			     char *err, size_t errlen)
{
	const uint8_t *p = r->data + off + 1, *end = r->data + r->size;
	uint64_t v[3];
	static const char *const names[3] = {"gen", "plain size", "compressed size"};
	for (int i = 0; i < 3; i++) {
		int rc = xt_uvarint(&p, end, &v[i]);
		if (rc > 0)
			return XT_READ_TRUNC;
		if (rc < 0) {
			snprintf(err, errlen, "compressed generation at offset %" PRIu64
				 ": bad varint for %s", off, names[i]);
			return XT_READ_CORRUPT;
		}
	}
	if (v[1] == 0 || v[1] > XT_MAX_GEN_SIZE) {
		snprintf(err, errlen, "compressed generation at offset %" PRIu64 ": plain size %"
			 PRIu64 " outside 1..%u", off, v[1], XT_MAX_GEN_SIZE);
		return XT_READ_CORRUPT;
	}
	if ((uint64_t)(end - p) < v[2])
		return XT_READ_TRUNC;
	*gen = v[0];
	*next = (uint64_t)(p - r->data) + v[2];
	if (!r->zctx) {
		r->zctx = ZSTD_createDCtx();
		/* the window a frame may ask for is bounded, whatever its header says */
		if (!r->zctx ||
		    ZSTD_isError(ZSTD_DCtx_setParameter(r->zctx, ZSTD_d_windowLogMax,
							XT_MAX_ZSTD_WINDOW_LOG))) {
			snprintf(err, errlen, "out of memory for decompression");
			return XT_READ_CORRUPT;
		}
	}
	ZSTD_DCtx_reset(r->zctx, ZSTD_reset_session_only);
	r->plain.n = 0;
	ZSTD_inBuffer in = {p, v[2], 0};
	enum xt_read rc = r->data[off] == XT_RECORD_ZSTD_COLUMNS
				  ? inflate_columns(r, off, &in, v[1], err, errlen)
				  : inflate_plain(r, off, &in, v[1], err, errlen);
	if (rc != XT_READ_OK)
		return rc;
	if (in.pos != in.size || r->plain.n != v[1]) {
		snprintf(err, errlen, "compressed generation at offset %" PRIu64 ": %s", off,
			 in.pos != in.size ? "bytes after its frame" : "plain size differs from its claim");
		return XT_READ_CORRUPT;
	}
	return XT_READ_OK;
}
