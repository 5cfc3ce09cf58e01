/* tracegen.c: the test trace builder declared in tracegen.h. */
#include "tracegen.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "allocfree.h"
#include "columns.h"
#include "spec.h"
#include "varint.h"

struct tg_buf {
	uint8_t *p;
	size_t n, cap;
};

struct tg {
	struct tg_buf out;     /* the file */
	struct tg_buf payload; /* the open batch's payload */
	int open;
	uint8_t kind, experiment;
	uint64_t gen, batch_gen, thread, time, off;
	uint64_t nbatches;  /* batches of the current generation, for tg_end */
	uint64_t prev_addr; /* addr delta base of the open Events batch */
	/* its addresses of each list (allocfree.h; uint64_t each), for the references */
	struct tg_buf lists[XT_REFS_LISTS];
	/* the argument kinds of the event types a Specs entry described, for tg_event */
	uint8_t described[XT_MAX_EVENT_TYPES], dnargs[XT_MAX_EVENT_TYPES];
	uint8_t dkinds[XT_MAX_EVENT_TYPES][XT_MAX_ARGS];
};

const struct tg_header tg_default_header = {
	.version = XT_FORMAT_VERSION,
	.ticks_per_sec = XT_TICKS_PER_SEC,
	.pid = 4242,
	.ppid = 1,
	.start_ts = 1000,
	.wall_sec = 1700000000,
	.wall_nsec = 500,
	.exe = "/usr/bin/xtrace-test",
	.cmdline = "xtrace-test\0-v\0",
	.cmdline_len = 15,
};

static void tg_put(struct tg_buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void tg_put_uvarint(struct tg_buf *b, uint64_t v)
{
	uint8_t tmp[XT_MAX_VARINT];
	tg_put(b, tmp, (size_t)(xt_put_uvarint(tmp, v) - tmp));
}

struct tg *tg_new_raw(void)
{
	struct tg *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	return t;
}

struct tg *tg_new(const struct tg_header *h)
{
	if (!h)
		h = &tg_default_header;
	struct tg *t = tg_new_raw();
	struct tg_buf hb = {0};
	uint64_t f[] = {h->version, h->ticks_per_sec, h->pid, h->ppid, h->fork_parent_pid,
			h->fork_ts, h->start_ts, h->wall_sec, h->wall_nsec};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		tg_put_uvarint(&hb, f[i]);
	size_t elen = h->exe ? strlen(h->exe) : 0;
	tg_put_uvarint(&hb, elen);
	tg_put(&hb, h->exe, elen);
	tg_put_uvarint(&hb, h->cmdline_len);
	tg_put(&hb, h->cmdline, h->cmdline_len);
	tg_put(&t->out, XT_MAGIC, XT_MAGIC_LEN);
	tg_put_uvarint(&t->out, hb.n);
	tg_put(&t->out, hb.p, hb.n);
	free(hb.p);
	return t;
}

void tg_free(struct tg *t)
{
	if (!t)
		return;
	free(t->out.p);
	free(t->payload.p);
	for (int l = 0; l < XT_REFS_LISTS; l++)
		free(t->lists[l].p);
	free(t);
}

uint64_t tg_offset(const struct tg *t)
{
	return t->out.n;
}

void tg_raw(struct tg *t, const void *p, size_t n)
{
	tg_put(&t->out, p, n);
}

/* record replaces the bytes from file offset from on by a compressed generation record of
 * kind, whose frame holds body (n bytes), claiming plain_claim plain bytes (0: the true count);
 * returns the offset of its zstd frame. */
static uint64_t record(struct tg *t, uint64_t from, uint64_t plain_claim, uint8_t kind,
		       const uint8_t *body, size_t n)
{
	size_t plain = t->out.n - from, bound = ZSTD_compressBound(n);
	uint8_t *z = malloc(bound);
	if (!z)
		abort();
	size_t zn = ZSTD_compress(z, bound, body, n, 1);
	if (ZSTD_isError(zn))
		abort();
	t->out.n = from;
	uint8_t head[1 + 3 * XT_MAX_VARINT], *h = head;
	*h++ = kind;
	h = xt_put_uvarint(h, t->gen);
	h = xt_put_uvarint(h, plain_claim ? plain_claim : plain);
	h = xt_put_uvarint(h, zn);
	tg_put(&t->out, head, (size_t)(h - head));
	uint64_t frame = t->out.n;
	tg_put(&t->out, z, zn);
	free(z);
	return frame;
}

uint64_t tg_zstd_raw(struct tg *t, uint8_t kind, const void *body, size_t n, uint64_t plain_claim)
{
	return record(t, t->out.n, plain_claim, kind, body, n);
}

uint64_t tg_zstd(struct tg *t, uint64_t from, uint64_t plain_claim)
{
	size_t n = t->out.n - from;
	uint8_t *plain = malloc(n ? n : 1);
	if (!plain)
		abort();
	memcpy(plain, t->out.p + from, n);
	uint64_t frame = record(t, from, plain_claim, XT_RECORD_ZSTD, plain, n);
	free(plain);
	return frame;
}

uint64_t tg_zstd_columns(struct tg *t, uint64_t from, uint64_t plain_claim)
{
	uint8_t nargs[256];
	for (unsigned k = 0; k < 256; k++)
		nargs[k] = xt_specs[k].name ? xt_specs[k].nargs
			   : t->described[k] ? t->dnargs[k] : XT_COL_NO_TYPE;
	const uint8_t *src = t->out.p + from;
	size_t len = t->out.n - from;
	struct tg_buf form = {0};
	struct xt_columns *ws = calloc(1, sizeof *ws);
	uint8_t *seg = malloc(XT_COL_SPLIT_ROOM);
	if (!ws || !seg)
		abort();
	for (size_t off = 0, took; off < len; off += took) {
		size_t n = xt_columns_split(src + off, len - off, nargs, ws, seg, &took);
		if (!n)
			abort(); /* not whole batches of whole events of known types */
		tg_put(&form, seg, n);
	}
	free(seg);
	free(ws);
	uint64_t frame = record(t, from, plain_claim, XT_RECORD_ZSTD_COLUMNS, form.p, form.n);
	free(form.p);
	return frame;
}

void tg_gen(struct tg *t, uint64_t gen)
{
	t->gen = gen;
	t->nbatches = 0;
}

static uint64_t tg_open(struct tg *t, uint8_t kind, uint8_t experiment, uint64_t thread,
			uint64_t time)
{
	if (t->open)
		abort(); /* one batch at a time */
	t->open = 1;
	t->kind = kind;
	t->experiment = experiment;
	t->batch_gen = t->gen;
	t->thread = thread;
	t->time = time;
	t->off = t->out.n;
	t->payload.n = 0;
	t->prev_addr = 0;
	for (int l = 0; l < XT_REFS_LISTS; l++)
		t->lists[l].n = 0;
	return t->off;
}

uint64_t tg_batch(struct tg *t, uint8_t kind, uint64_t thread, uint64_t time)
{
	return tg_open(t, kind, 0, thread, time);
}

uint64_t tg_exp_batch(struct tg *t, uint8_t experiment, uint64_t time)
{
	return tg_open(t, XT_BATCH_EXPERIMENTAL, experiment, 0, time);
}

void tg_batch_gen(struct tg *t, uint64_t gen)
{
	t->batch_gen = gen;
}

uint64_t tg_batch_end_size(struct tg *t, uint64_t size)
{
	if (!t->open)
		abort();
	t->open = 0;
	tg_put(&t->out, &t->kind, 1);
	if (t->kind == XT_BATCH_EXPERIMENTAL)
		tg_put(&t->out, &t->experiment, 1);
	tg_put_uvarint(&t->out, t->batch_gen);
	tg_put_uvarint(&t->out, t->thread);
	tg_put_uvarint(&t->out, t->time);
	tg_put_uvarint(&t->out, size);
	tg_put(&t->out, t->payload.p, t->payload.n);
	if (t->kind != XT_BATCH_END)
		t->nbatches++;
	return t->out.n;
}

uint64_t tg_batch_end(struct tg *t)
{
	return tg_batch_end_size(t, t->payload.n);
}

void tg_u8(struct tg *t, uint8_t v)
{
	tg_put(&t->payload, &v, 1);
}

void tg_uvarint(struct tg *t, uint64_t v)
{
	tg_put_uvarint(&t->payload, v);
}

void tg_bytes(struct tg *t, const void *p, size_t n)
{
	tg_put(&t->payload, p, n);
}

void tg_event_n(struct tg *t, uint8_t type, uint64_t dt, const uint64_t *args, size_t nargs)
{
	const struct xt_event_spec *s = &xt_specs[type];
	const uint8_t *kinds = t->described[type] ? t->dkinds[type] : s->arg_kinds;
	size_t nk = t->described[type] ? t->dnargs[type] : s->name ? s->nargs : 0;
	tg_u8(t, type);
	tg_uvarint(t, dt);
	for (size_t i = 0; i < nargs; i++) {
		if (i < nk && kinds[i] == XT_KIND_addr) {
			tg_uvarint(t, xt_zigzag((int64_t)(args[i] - t->prev_addr)));
			t->prev_addr = args[i];
		} else {
			tg_uvarint(t, args[i]);
		}
	}
	/* A reference form makes the address it names the next delta's base; an AllocFree event's
	 * address, named or written, joins its list. A reference naming nothing (a test of bad
	 * input) does neither. */
	if (!nargs)
		return;
	int named = xt_allocref_names(type), list = xt_allocref_list(type);
	uint64_t addr = args[0];
	if (named >= 0) {
		const uint64_t *a = (const uint64_t *)t->lists[named].p;
		size_t n = t->lists[named].n / sizeof *a;
		if (args[0] >= n)
			return;
		addr = t->prev_addr = a[n - 1 - args[0]];
	}
	if (list >= 0)
		tg_put(&t->lists[list], &addr, sizeof addr);
}

void tg_string(struct tg *t, uint64_t id, const char *s)
{
	size_t n = strlen(s);
	tg_uvarint(t, id);
	tg_uvarint(t, n);
	tg_bytes(t, s, n);
}

void tg_stack(struct tg *t, uint64_t id, size_t n, const uint64_t *pcs)
{
	tg_uvarint(t, id);
	tg_uvarint(t, n);
	for (size_t i = 0; i < n; i++)
		tg_uvarint(t, i ? xt_zigzag((int64_t)(pcs[i] - pcs[i - 1])) : pcs[0]);
}

void tg_module(struct tg *t, uint64_t id, uint64_t path_string, uint64_t base, uint64_t lo,
	       uint64_t hi, const uint8_t *build_id, size_t build_id_len)
{
	uint64_t v[] = {id, path_string, base, lo, hi, build_id_len};
	for (size_t i = 0; i < 6; i++)
		tg_uvarint(t, v[i]);
	tg_bytes(t, build_id, build_id_len);
}

void tg_alloc_type(struct tg *t, uint64_t id, uint8_t api, uint64_t elem_size, uint64_t count,
		   uint64_t align)
{
	tg_uvarint(t, id);
	tg_u8(t, api);
	tg_uvarint(t, elem_size);
	tg_uvarint(t, count);
	tg_uvarint(t, align);
}

static void tg_spec_name(struct tg *t, const char *name)
{
	tg_uvarint(t, strlen(name));
	tg_bytes(t, name, strlen(name));
}

void tg_spec_experiment(struct tg *t, uint64_t id, const char *name, uint64_t version)
{
	tg_uvarint(t, id);
	tg_spec_name(t, name);
	tg_uvarint(t, version);
}

void tg_spec_table(struct tg *t, uint8_t subtype, const char *name)
{
	tg_u8(t, subtype);
	tg_spec_name(t, name);
}

void tg_spec_event(struct tg *t, uint8_t type, const char *name, uint64_t start, uint64_t form_of,
		   uint8_t nargs, const char *const *arg_names)
{
	tg_u8(t, type);
	tg_spec_name(t, name);
	tg_uvarint(t, start);
	tg_uvarint(t, form_of);
	tg_u8(t, nargs);
	t->described[type] = 1;
	t->dnargs[type] = nargs;
	for (uint8_t i = 0; i < nargs; i++) {
		tg_spec_name(t, arg_names[i]);
		if (i < XT_MAX_ARGS)
			t->dkinds[type][i] = (uint8_t)xt_arg_kind_of(arg_names[i]);
	}
}

void tg_spec_builtin(struct tg *t, uint8_t id)
{
	const struct xt_experiment_spec *x = &xt_experiments[id];
	tg_spec_experiment(t, id, x->name, x->version);
	uint64_t nb = 0, ne = 0;
	for (int s = 0; s < XT_MAX_BATCH_SUBTYPES; s++)
		nb += x->batches[s] != NULL;
	tg_uvarint(t, nb);
	for (int s = 0; s < XT_MAX_BATCH_SUBTYPES; s++)
		if (x->batches[s])
			tg_spec_table(t, (uint8_t)s, x->batches[s]);
	for (int e = XT_FIRST_EXPERIMENTAL_EVENT; e < XT_MAX_EVENT_TYPES; e++)
		ne += xt_specs[e].name && xt_specs[e].experiment == id;
	tg_uvarint(t, ne);
	for (int e = XT_FIRST_EXPERIMENTAL_EVENT; e < XT_MAX_EVENT_TYPES; e++) {
		const struct xt_event_spec *s = &xt_specs[e];
		if (s->name && s->experiment == id)
			tg_spec_event(t, (uint8_t)e, s->name, s->start, s->form_of, s->nargs,
				      s->arg_names);
	}
}

void tg_heap_name(struct tg *t, uint64_t id, const char *name)
{
	tg_uvarint(t, id);
	tg_spec_name(t, name);
}

void tg_memory_sample(struct tg *t, uint64_t time, uint64_t resident_bytes, uint64_t mapped_bytes)
{
	tg_uvarint(t, time);
	tg_uvarint(t, resident_bytes);
	tg_uvarint(t, mapped_bytes);
}

uint64_t tg_sync(struct tg *t, uint64_t time, uint64_t ticks_per_sec, uint64_t wall_sec,
		 uint64_t wall_nsec)
{
	uint64_t off = tg_batch(t, XT_BATCH_SYNC, 0, time);
	tg_uvarint(t, ticks_per_sec);
	tg_uvarint(t, wall_sec);
	tg_uvarint(t, wall_nsec);
	tg_batch_end(t);
	return off;
}

uint64_t tg_sync_mono(struct tg *t, uint64_t time, uint64_t ticks_per_sec, uint64_t mono_ns)
{
	uint64_t off = tg_batch(t, XT_BATCH_SYNC, 0, time);
	tg_uvarint(t, ticks_per_sec);
	tg_uvarint(t, 1700000000);
	tg_uvarint(t, 0);
	tg_uvarint(t, mono_ns);
	tg_batch_end(t);
	return off;
}

uint64_t tg_end_n(struct tg *t, uint64_t nbatches, uint64_t lost)
{
	uint64_t off = tg_batch(t, XT_BATCH_END, 0, 0);
	tg_uvarint(t, nbatches);
	tg_uvarint(t, lost);
	tg_batch_end(t);
	return off;
}

uint64_t tg_end(struct tg *t, uint64_t lost)
{
	return tg_end_n(t, t->nbatches, lost);
}

uint8_t *tg_data(struct tg *t, size_t *len)
{
	if (len)
		*len = t->out.n;
	return t->out.p;
}

int tg_write(const struct tg *t, const char *path, size_t len)
{
	if (len > t->out.n)
		len = t->out.n;
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(t->out.p, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

char *tg_tmpfile(const struct tg *t, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	if (asprintf(&path, "%s/xtrace-tg-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
		abort();
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	if (tg_write(t, path, len) < 0)
		abort();
	return path;
}
