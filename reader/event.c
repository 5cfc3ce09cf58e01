/* event.c: the public accessors: open/close, status and errors, and lookups into the tables of
 * the generation whose Sync was handed out last. xtrace_next lives in order.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocfree.h"
#include "internal.h"

int xt_rd_fail(xtrace_reader *r, enum xtrace_status st, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	r->status = st;
	r->err_off = off;
	return -1;
}

xtrace_reader *xtrace_open(const char *path, char *err, size_t errlen)
{
	char buf[XT_ERRLEN];
	xtrace_reader *r = calloc(1, sizeof *r);
	if (!r) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->fd = -1;
	if (xt_rd_open_file(r, path, buf, sizeof buf) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", buf);
		xtrace_close(r);
		return NULL;
	}
	r->state = XT_ST_NEED_GEN;
	return r;
}

void xtrace_close(xtrace_reader *r)
{
	if (!r)
		return;
	xt_rd_close_file(r);
	xt_rd_gen_free(&r->g);
	xt_rd_order_free(r);
	free(r);
}

const struct xtrace_header *xtrace_get_header(const xtrace_reader *r)
{
	return &r->hdr;
}

enum xtrace_status xtrace_status(const xtrace_reader *r)
{
	return r->status;
}

const char *xtrace_error(const xtrace_reader *r)
{
	return r->status == XTRACE_OK ? "" : r->err;
}

uint64_t xtrace_error_offset(const xtrace_reader *r)
{
	return r->err_off;
}

const struct xtrace_sync *xtrace_get_sync(const xtrace_reader *r)
{
	return r->have_gen ? &r->g.sync : NULL;
}

size_t xtrace_stack(const xtrace_reader *r, uint64_t id, const uint64_t **pcs)
{
	*pcs = NULL;
	if (!r->have_gen || id == XT_NO_ID)
		return 0;
	int64_t i = xt_idx_get(&r->g.stki, id);
	if (i < 0)
		return 0;
	const struct xt_stk *s = (const struct xt_stk *)r->g.stks.p + i;
	*pcs = (const uint64_t *)r->g.pcs.p + s->off;
	return s->n;
}

const char *xtrace_string(const xtrace_reader *r, uint64_t id, size_t *len)
{
	if (len)
		*len = 0;
	if (!r->have_gen || id == XT_NO_ID)
		return NULL;
	int64_t i = xt_idx_get(&r->g.stri, id);
	if (i < 0)
		return NULL;
	const struct xt_str *s = (const struct xt_str *)r->g.strs.p + i;
	if (len)
		*len = s->len;
	return (const char *)r->g.arena.p + s->off;
}

size_t xtrace_modules(const xtrace_reader *r, const struct xtrace_module **mods)
{
	if (!r->have_gen) {
		*mods = NULL;
		return 0;
	}
	*mods = r->g.mods.p;
	return r->g.mods.n;
}

const struct xtrace_module *xtrace_module_of(const xtrace_reader *r, uint64_t pc)
{
	if (!r->have_gen)
		return NULL;
	/* The module map (generation.c): disjoint stretches by address, the latest module of an
	 * overlap holding it, so an object loaded over a dlclose'd one's range is preferred. */
	const struct xt_modseg *sg = r->g.modmap.p;
	size_t lo = 0, hi = r->g.modmap.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sg[mid].hi <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->g.modmap.n || pc < sg[lo].lo)
		return NULL;
	return (const struct xtrace_module *)r->g.mods.p + sg[lo].mod;
}

const char *xtrace_experiment_name(uint8_t experiment)
{
	return experiment < XT_MAX_EXPERIMENTS ? xt_experiments[experiment].name : NULL;
}

const char *xtrace_arg_kind_name(uint8_t kind)
{
	return kind < XT_KIND_COUNT ? xt_arg_kind_names[kind] : NULL;
}

const struct xtrace_alloc_type *xtrace_alloc_type(const xtrace_reader *r, uint64_t id)
{
	if (!r->have_gen || id == XT_NO_ID)
		return NULL;
	int64_t i = xt_idx_get(&r->g.atypei, id);
	return i < 0 ? NULL : &((const struct xt_atype *)r->g.atypes.p)[i].t;
}

const char *xtrace_alloc_api_name(uint8_t api)
{
	static const char *const names[] = {
#define XT_API_NAME(ident, name) name,
		XT_ALLOC_APIS(XT_API_NAME)
#undef XT_API_NAME
	};
	return api < XT_API_COUNT ? names[api] : NULL;
}
