/* modules.c: the module table of each generation: every object mapped during it (path, load
 * bias, address span, GNU build ID), and the string table that holds their paths.
 *
 * The advancer takes a snapshot at the end of each generation; dlopen and dlclose add one too
 * (after loading, before unloading), so a library that came and went within a generation is
 * still in its table. Cold path, under one mutex; no allocation. */
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "modules.h"
#include "output.h"
#include "varint.h"

#define MAX_MODULES 2048
#define PATHS_BYTES (512u << 10)

/* A module's record: this, then its path, then padding to the next record. */
struct module {
	uint64_t base, lo, hi;
	uint32_t path_len;
	uint8_t build_id_len;
	uint8_t build_id[XT_MAX_BUILDID];
};
#define REC_ALIGN _Alignof(struct module)

/* The records lie one after another: a process with a few modules touches one page or two of
 * a set, not one for the modules and one for their paths. A set's counts lie apart, in the
 * shim's small state: a fork child empties both sets, and counts beside the records would be
 * a page copied for each. */
#define RECS_BYTES (MAX_MODULES * (sizeof(struct module) + REC_ALIGN) + PATHS_BYTES)
struct modset {
	unsigned n;
	size_t used; /* bytes of recs */
	uint8_t *recs;
};

static _Alignas(REC_ALIGN) uint8_t recs[2][RECS_BYTES];
static struct modset sets[2] = {{.recs = recs[0]}, {.recs = recs[1]}};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t rec_size(size_t path_len)
{
	return (sizeof(struct module) + path_len + REC_ALIGN - 1) & ~(REC_ALIGN - 1);
}

static const char *path_of(const struct module *m)
{
	return (const char *)(m + 1);
}

/* next_rec returns the record after m, or NULL after the last of s. */
static struct module *next_rec(struct modset *s, struct module *m)
{
	size_t off = m ? (size_t)((uint8_t *)m - s->recs) + rec_size(m->path_len) : 0;
	return off < s->used ? (struct module *)(s->recs + off) : NULL;
}

static void build_id_of(const struct dl_phdr_info *info, struct module *m)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const uint8_t *name = p + sizeof(*nh);
			const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
			const uint8_t *next = desc + ((nh->n_descsz + 3) & ~3u);
			if (next > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= XT_MAX_BUILDID) {
				memcpy(m->build_id, desc, nh->n_descsz);
				m->build_id_len = (uint8_t)nh->n_descsz;
				return;
			}
			p = next;
		}
	}
}

static int note_one(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct modset *s = ctx;
	const char *path = info->dlpi_name;
	if (!path || !*path)
		path = xt_out_exe_path(); /* the executable itself */
	size_t plen = strnlen(path, XT_MAX_STRING);
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	for (struct module *m = next_rec(s, NULL); m; m = next_rec(s, m))
		if (m->base == info->dlpi_addr && m->lo == lo && m->path_len == plen &&
		    memcmp(path_of(m), path, plen) == 0)
			return 0;
	if (s->n == MAX_MODULES || s->used + rec_size(plen) > RECS_BYTES)
		return 0;
	struct module *m = (struct module *)(s->recs + s->used);
	memset(m, 0, sizeof(*m));
	m->base = info->dlpi_addr;
	m->lo = lo;
	m->hi = hi;
	m->path_len = (uint32_t)plen;
	memcpy(m + 1, path, plen);
	s->used += rec_size(plen);
	s->n++;
	build_id_of(info, m);
	return 0;
}

void xt_modules_note(void)
{
	uint64_t g = atomic_load(&xt_gen);
	if (!g)
		return;
	pthread_mutex_lock(&lock);
	dl_iterate_phdr(note_one, &sets[g & 1]);
	pthread_mutex_unlock(&lock);
}

/* The paths go out as Strings first, then the modules. */
void xt_modules_dump(uint64_t gen, uint64_t string_base)
{
	struct xt_tablew *w = xt_tablew_shared();
	pthread_mutex_lock(&lock);
	struct modset *s = &sets[gen & 1];
	dl_iterate_phdr(note_one, s);
	xt_tablew_begin(w, XT_BATCH_STRINGS, 0, gen, 0);
	uint64_t id = 0;
	for (struct module *m = next_rec(s, NULL); m; m = next_rec(s, m))
		xt_tablew_string(w, string_base + ++id, path_of(m), m->path_len);
	xt_tablew_flush(w);
	xt_tablew_begin(w, XT_BATCH_MODULES, 0, gen, 0);
	id = 0;
	for (struct module *m = next_rec(s, NULL); m; m = next_rec(s, m)) {
		id++;
		uint8_t *p = xt_tablew_room(w, 7 * XT_MAX_VARINT + m->build_id_len);
		p = xt_put_uvarint(p, id);
		p = xt_put_uvarint(p, string_base + id);
		p = xt_put_uvarint(p, m->base);
		p = xt_put_uvarint(p, m->lo);
		p = xt_put_uvarint(p, m->hi);
		p = xt_put_uvarint(p, m->build_id_len);
		memcpy(p, m->build_id, m->build_id_len);
		xt_tablew_commit(w, p + m->build_id_len);
	}
	xt_tablew_flush(w);
	s->n = 0;
	s->used = 0;
	pthread_mutex_unlock(&lock);
}

void xt_modules_reset_all(void)
{
	pthread_mutex_init(&lock, NULL);
	sets[0].n = sets[1].n = 0;
	sets[0].used = sets[1].used = 0;
}
