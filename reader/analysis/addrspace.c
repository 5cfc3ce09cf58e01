/* addrspace.c: the AddrSpace experiment's analysis (see addrspace.h). Per event a few adds; a
 * stack's start and end are one hash operation each. */
#include "addrspace.h"

#include <stdlib.h>
#include <string.h>

#include "heapview.h"
#include "spec.h"
#include "summary.h"
#include "varint.h"

/* Argument positions, in the order addrspace.def gives them. */
enum { MAP_ADDR = 0, MAP_LEN = 1, MAP_STACK = 4, MOVE_OLD = 0, MOVE_NEW = 2, MOVE_NEWLEN = 3,
       MOVE_STACK = 4, BRK_TOP = 0, STACK_ADDR = 0, STACK_LEN = 1 };

/* The memory table's batch subtype (addrspace.def's XT_BATCH line). */
enum { MEMORY_TABLE = 0 };

static void level_add(struct xt_level *l, uint64_t v, uint64_t ts)
{
	if (__builtin_add_overflow(l->now, v, &l->now))
		l->now = UINT64_MAX;
	if (l->now > l->peak) {
		l->peak = l->now;
		l->peak_ts = ts;
	}
}

/* level_sub: a release of more than the level holds (a munmap of memory the program did not
 * map itself) empties it. */
static void level_sub(struct xt_level *l, uint64_t v)
{
	l->now = l->now > v ? l->now - v : 0;
}

static void level_set(struct xt_level *l, uint64_t v, uint64_t ts)
{
	l->now = v;
	if (v > l->peak) {
		l->peak = v;
		l->peak_ts = ts;
	}
}

/* close_points gives the points of the generation that just ended its levels. */
static void close_points(struct xt_summary *s)
{
	struct xt_addrspace *m = &s->mem;
	for (size_t i = m->pending; i < m->npt; i++) {
		m->pt[i].heap_bytes = s->selected->live_bytes;
		m->pt[i].maps_bytes = m->maps.live_bytes;
	}
	m->pending = m->npt;
}

static int add_point(struct xt_addrspace *m, const struct xt_mem_point *p)
{
	if (!m->pt && !(m->pt = malloc(XT_MEM_POINTS * sizeof *m->pt)))
		return -1;
	if (m->npt == XT_MEM_POINTS) {
		/* keep the later point of each pair; a pending point stays pending */
		for (size_t j = 0; 2 * j < m->npt; j++)
			m->pt[j] = m->pt[2 * j + 1 < m->npt ? 2 * j + 1 : 2 * j];
		m->npt = (m->npt + 1) / 2;
		m->pending /= 2;
	}
	m->pt[m->npt++] = *p;
	return 0;
}

/* take_table takes one memory table: {uvarint time, uvarint resident_bytes, uvarint
 * mapped_bytes} each; a damaged entry ends it. 0, or -1 without memory. */
static int take_table(struct xt_addrspace *m, const uint8_t *p, const uint8_t *end)
{
	struct xt_mem_point pt = {0};
	while (p < end) {
		if (xt_get_uvarint(&p, end, &pt.ts) || xt_get_uvarint(&p, end, &pt.resident_bytes) ||
		    xt_get_uvarint(&p, end, &pt.mapped_bytes))
			return 0;
		m->samples++;
		level_set(&m->resident, pt.resident_bytes, pt.ts);
		level_set(&m->mapped, pt.mapped_bytes, pt.ts);
		if (add_point(m, &pt) < 0)
			return -1;
	}
	return 0;
}

static int init(struct xt_summary *s, const xtrace_reader *r, const struct xt_pass *p)
{
	(void)p;
	memset(&s->mem, 0, sizeof s->mem);
	if (xt_heap_init(&s->mem.maps, xtrace_get_header(r)->fork_parent_pid != 0) < 0)
		return -1;
	if (xt_liveset_init(&s->mem.stack_len, 16) < 0) {
		xt_heap_destroy(&s->mem.maps);
		return -1;
	}
	if (strcmp(s->heap_name, XT_MAPS_HEAP_NAME) == 0)
		s->selected = &s->mem.maps;
	return 0;
}

/* map and unmap apply a map's start and end to the maps heap; an unmap of what is not a map's
 * start (part of one, or memory the program did not map) leaves it as it is. */
static int map(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
	       const struct xt_pass *p, uint64_t addr, uint64_t len, uint64_t stack)
{
	struct xt_heap_op op = {.kind = XT_OP_ALLOC, .api = XT_API_NONE, .addr = addr, .bytes = len,
				.stack = stack};
	return xt_heapview_apply(s, &s->mem.maps, r, ev, &op, p);
}

static int unmap(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		 const struct xt_pass *p, uint64_t addr)
{
	if (!xt_liveset_find(&s->mem.maps.live, addr))
		return 0;
	struct xt_heap_op op = {.kind = XT_OP_FREE, .addr = addr};
	return xt_heapview_apply(s, &s->mem.maps, r, ev, &op, p);
}

static int sync(struct xt_summary *s, const xtrace_reader *r)
{
	close_points(s);
	const struct xtrace_sync *sy = xtrace_get_sync(r);
	for (size_t i = 0; i < sy->nbatches; i++) {
		const struct xtrace_exp_batch *b = &sy->batches[i];
		if (b->experiment == XT_EXP_ADDRSPACE && b->len > 0 && b->data[0] == MEMORY_TABLE &&
		    take_table(&s->mem, b->data + 1, b->data + b->len) < 0)
			return -1;
	}
	return 0;
}

static int event(struct xt_summary *s, const xtrace_reader *r, const struct xtrace_event *ev,
		 const struct xt_pass *p)
{
	struct xt_addrspace *m = &s->mem;
	const uint64_t *a = ev->args;
	struct xt_live old;
	int added, rc = 0;
	m->events++;
	switch (ev->type) {
	case XT_EV_MapCreate:
		m->map_calls++;
		rc = map(s, r, ev, p, a[MAP_ADDR], a[MAP_LEN], a[MAP_STACK]);
		break;
	case XT_EV_MapFree:
		m->unmap_calls++;
		rc = unmap(s, r, ev, p, a[MAP_ADDR]);
		break;
	case XT_EV_MapMove:
		m->move_calls++;
		rc = unmap(s, r, ev, p, a[MOVE_OLD]);
		if (rc == 0)
			rc = map(s, r, ev, p, a[MOVE_NEW], a[MOVE_NEWLEN], a[MOVE_STACK]);
		break;
	case XT_EV_BrkMove:
		m->brk_calls++;
		if (!m->brk_low || a[BRK_TOP] < m->brk_low)
			m->brk_low = a[BRK_TOP];
		m->brk_top = a[BRK_TOP];
		break;
	case XT_EV_StackAlloc: {
		if (!a[STACK_ADDR])
			break;
		struct xt_live *e = xt_liveset_put(&m->stack_len, a[STACK_ADDR], &added);
		if (!e)
			return -1;
		if (added)
			m->stacks++;
		else /* a stack reused without its end seen */
			level_sub(&m->stack_bytes, e->bytes);
		e->bytes = a[STACK_LEN] < XT_LIVE_MAX_BYTES ? a[STACK_LEN] : XT_LIVE_MAX_BYTES;
		level_add(&m->stack_bytes, e->bytes, ev->ts);
		break;
	}
	case XT_EV_StackFree:
		if (xt_liveset_remove(&m->stack_len, a[STACK_ADDR], &old)) {
			m->stacks--;
			level_sub(&m->stack_bytes, old.bytes);
		}
		break;
	default:
		break;
	}
	return rc;
}

static void finish(struct xt_summary *s)
{
	close_points(s);
}

static void destroy(struct xt_summary *s)
{
	xt_heap_destroy(&s->mem.maps);
	xt_liveset_destroy(&s->mem.stack_len);
	free(s->mem.pt);
}

const struct xt_analysis xt_analysis_addrspace = {
	.name = "address space",
	.experiment = XT_EXP_ADDRSPACE,
	.init = init,
	.sync = sync,
	.event = event,
	.finish = finish,
	.destroy = destroy,
};
