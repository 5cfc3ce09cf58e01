/* unwind.c: the default stack walk, DWARF call-frame information read straight from the
 * .eh_frame of the code being unwound, with each return address's frame rule cached per thread.
 *
 * Why not libunwind for every stack: its unw_backtrace costs ~8 ns a frame here, while a frame
 * whose rule is cached costs a hash probe and two loads. The rule of a return address says how
 * to find the caller's frame: the CFA (the stack pointer before the call) is RSP or RBP plus an
 * offset, the return address sits at CFA-8, and RBP is either unchanged or saved at CFA plus an
 * offset. A signal frame is followed through the registers the kernel saved. Code whose rule is
 * anything else (stack realignment, expressions), a frame outside the thread's stack (a signal
 * stack), or code without unwind tables makes the walk give up, and the caller falls back to
 * libunwind for that stack.
 *
 * The rule of a pc is found as libgcc's unwinder finds it: _dl_find_object gives the object's
 * .eh_frame_hdr without a lock, its sorted table gives the FDE, and the CIE's and FDE's CFA
 * instructions are run up to the pc; a long FDE's rules are worked out once for the process, as
 * rows (fderows.h). A rule depends only on the code at that address, so the cache stays valid
 * until code is unmapped: dlclose bumps xt_code_epoch, which clears every thread's cache at its
 * next walk and makes the rows of older epochs misses. */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

#include "fderows.h"
#include "unwind.h"

_Atomic unsigned xt_code_epoch = 1;

/* A frame rule packed in 64 bits: kind, RBP saved, RBP's offset from the CFA, CFA offset. */
enum { RULE_SP = 1, RULE_BP = 2, RULE_END = 3, RULE_GIVE_UP = 4, RULE_SIGNAL = 5 };
#define RULE_KIND(r) ((unsigned)(r) & 7)
#define RULE_BP_SAVED(r) (((r) >> 3) & 1)
#define RULE_BP_OFF(r) ((int64_t)(int16_t)((r) >> 16))
#define RULE_CFA_OFF(r) ((int64_t)(int32_t)((r) >> 32))

static uint64_t make_rule(unsigned kind, int64_t cfa_off, int bp_saved, int64_t bp_off)
{
	return kind | (uint64_t)(bp_saved != 0) << 3 | (uint64_t)(uint16_t)(int16_t)bp_off << 16 |
	       (uint64_t)(uint32_t)(int32_t)cfa_off << 32;
}

/* --- reading .eh_frame ----------------------------------------------------------------------- */

enum {
	DW_EH_PE_absptr = 0x00, DW_EH_PE_uleb128 = 0x01, DW_EH_PE_udata2 = 0x02,
	DW_EH_PE_udata4 = 0x03, DW_EH_PE_udata8 = 0x04, DW_EH_PE_sleb128 = 0x09,
	DW_EH_PE_sdata2 = 0x0a, DW_EH_PE_sdata4 = 0x0b, DW_EH_PE_sdata8 = 0x0c,
	DW_EH_PE_pcrel = 0x10, DW_EH_PE_datarel = 0x30, DW_EH_PE_omit = 0xff,
};

/* DWARF register numbers of x86-64 that matter here. */
enum { DW_RBP = 6, DW_RSP = 7, DW_RA = 16 };

struct cursor {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t uleb(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; c->p < c->end; shift += 7) {
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

static int64_t sleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	while (c->p < c->end) {
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= ~0ull << shift;
			return (int64_t)v;
		}
	}
	c->bad = 1;
	return 0;
}

static uint64_t fixed(struct cursor *c, unsigned size)
{
	if ((size_t)(c->end - c->p) < size) {
		c->bad = 1;
		return 0;
	}
	uint64_t v = 0;
	memcpy(&v, c->p, size); /* little-endian */
	c->p += size;
	return v;
}

/* encoded reads a pointer in encoding enc; datarel is relative to data (the .eh_frame_hdr). */
static uint64_t encoded(struct cursor *c, uint8_t enc, uintptr_t data)
{
	uintptr_t here = (uintptr_t)c->p;
	uint64_t v;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: v = fixed(c, 8); break;
	case DW_EH_PE_uleb128: v = uleb(c); break;
	case DW_EH_PE_udata2: v = fixed(c, 2); break;
	case DW_EH_PE_udata4: v = fixed(c, 4); break;
	case DW_EH_PE_udata8: v = fixed(c, 8); break;
	case DW_EH_PE_sleb128: v = (uint64_t)sleb(c); break;
	case DW_EH_PE_sdata2: v = (uint64_t)(int64_t)(int16_t)fixed(c, 2); break;
	case DW_EH_PE_sdata4: v = (uint64_t)(int64_t)(int32_t)fixed(c, 4); break;
	case DW_EH_PE_sdata8: v = fixed(c, 8); break;
	default: c->bad = 1; return 0;
	}
	switch (enc & 0x70) {
	case 0: break;
	case DW_EH_PE_pcrel: v += here; break;
	case DW_EH_PE_datarel: v += data; break;
	default: c->bad = 1;
	}
	return v;
}

static int32_t table_word(const uint8_t *table, uint64_t i)
{
	int32_t v;
	memcpy(&v, table + 4 * i, 4);
	return v;
}

/* find_fde returns the FDE covering pc from the object's .eh_frame_hdr search table. */
static const uint8_t *find_fde(uintptr_t pc)
{
	struct dl_find_object dlfo;
	if (_dl_find_object((void *)pc, &dlfo) != 0 || !dlfo.dlfo_eh_frame)
		return NULL;
	const uint8_t *hdr = dlfo.dlfo_eh_frame;
	/* version 1, then the encodings of eh_frame_ptr, fde_count and the table; the table must
	 * be the sorted datarel sdata4 pairs every linker writes. */
	if (hdr[0] != 1 || hdr[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return NULL;
	struct cursor c = {hdr + 4, hdr + 4 + 16, 0};
	encoded(&c, hdr[1], (uintptr_t)hdr);
	uint64_t count = encoded(&c, hdr[2], (uintptr_t)hdr);
	if (c.bad || count == 0 || count > (1u << 28))
		return NULL;
	const uint8_t *table = c.p;
	uint64_t lo = 0, hi = count;
	while (hi - lo > 1) { /* the last entry whose start is <= pc */
		uint64_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)hdr + (intptr_t)table_word(table, 2 * mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	if ((uintptr_t)hdr + (intptr_t)table_word(table, 2 * lo) > pc)
		return NULL;
	return hdr + table_word(table, 2 * lo + 1);
}

/* The register rules the walk needs, while CFA instructions run. */
struct cfa_state {
	unsigned cfa_reg;
	int64_t cfa_off;
	int bp_saved, bp_other; /* RBP saved at CFA+bp_off; RBP given by a rule the walk lacks */
	int64_t bp_off;
	int ra_at, ra_undefined, ra_other; /* RA at CFA+ra_off; undefined (outermost); other */
	int64_t ra_off;
	int cfa_other; /* CFA from an expression or a register other than RSP/RBP */
};

struct cie_info {
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	int has_aug_len, signal_frame;
	const uint8_t *insns, *insns_end;
};

static void set_offset(struct cfa_state *s, uint64_t reg, int64_t off)
{
	if (reg == DW_RBP) {
		s->bp_saved = 1;
		s->bp_other = 0;
		s->bp_off = off;
	} else if (reg == DW_RA) {
		s->ra_at = 1;
		s->ra_undefined = s->ra_other = 0;
		s->ra_off = off;
	}
}

static void set_other(struct cfa_state *s, uint64_t reg)
{
	if (reg == DW_RBP) {
		s->bp_saved = 0;
		s->bp_other = 1;
	} else if (reg == DW_RA) {
		s->ra_at = s->ra_undefined = 0;
		s->ra_other = 1;
	}
}

static void restore_reg(struct cfa_state *s, const struct cfa_state *init, uint64_t reg)
{
	if (reg == DW_RBP) {
		s->bp_saved = init->bp_saved;
		s->bp_other = init->bp_other;
		s->bp_off = init->bp_off;
	} else if (reg == DW_RA) {
		s->ra_at = init->ra_at;
		s->ra_undefined = init->ra_undefined;
		s->ra_other = init->ra_other;
		s->ra_off = init->ra_off;
	}
}

/* state_rule packs the rule of a state, RULE_GIVE_UP when the walk cannot follow it. */
static uint64_t state_rule(const struct cfa_state *s)
{
	if (s->ra_undefined)
		return RULE_END;
	if (s->cfa_other || s->bp_other || !s->ra_at || s->ra_off != -8 ||
	    (s->cfa_reg != DW_RSP && s->cfa_reg != DW_RBP) || s->cfa_off < 8 ||
	    s->cfa_off > INT32_MAX || (s->bp_saved && (s->bp_off < -32768 || s->bp_off > 32767)))
		return RULE_GIVE_UP;
	return make_rule(s->cfa_reg == DW_RSP ? RULE_SP : RULE_BP, s->cfa_off, s->bp_saved,
			 s->bp_off);
}

/* The rows of a long FDE as its program runs once (fderows.h): counted while r is NULL, then
 * written into r. */
struct rows_out {
	struct xt_fde_rows *r;
	uintptr_t start;
	uint32_t n;
	uint64_t last;  /* the last row's rule */
	int unordered;  /* a location went back, or out of reach of a row's: no rows */
};

static void add_row(struct rows_out *rows, uintptr_t loc, uint64_t rule)
{
	if (rows->n && rows->last == rule)
		return;
	if (rows->r && rows->n < rows->r->n) {
		rows->r->rule[rows->n] = rule;
		xt_fde_rows_loc(rows->r)[rows->n] = (uint32_t)(loc - rows->start);
	}
	rows->last = rule;
	rows->n++;
}

/* to_loc moves the location of the instructions to next: 1 when that is past target (the
 * state is the target's), -1 when rows cannot be kept, else 0. Rows being worked out get the
 * state of the location left. */
static int to_loc(uintptr_t *loc, uintptr_t next, uintptr_t target, struct rows_out *rows,
		  const struct cfa_state *s)
{
	if (rows && next != *loc) {
		if (next < *loc || next - rows->start > UINT32_MAX) {
			rows->unordered = 1;
			return -1;
		}
		add_row(rows, *loc, state_rule(s));
	}
	*loc = next;
	return next > target;
}

/* run_cfa runs CFA instructions while the location *loc stays <= target (it starts at the FDE's
 * first address); init is the state after the CIE's instructions (for DW_CFA_restore). Rows,
 * when not NULL, get the state at each location passed. Returns 0, or -1 on an instruction it
 * cannot follow (at *loc). */
static int run_cfa(struct cursor *c, const struct cie_info *ci, struct cfa_state *s,
		   const struct cfa_state *init, uintptr_t *loc, uintptr_t target,
		   struct rows_out *rows)
{
	struct cfa_state stack[8];
	unsigned depth = 0;
	int moved;
	while (c->p < c->end && !c->bad) {
		uint8_t op = *c->p++;
		uint64_t reg, delta;
		switch (op & 0xc0) {
		case 0x40: /* DW_CFA_advance_loc */
			moved = to_loc(loc, *loc + (op & 0x3f) * ci->code_align, target, rows, s);
			if (moved)
				return moved > 0 ? 0 : -1;
			continue;
		case 0x80: /* DW_CFA_offset */
			set_offset(s, op & 0x3f, (int64_t)uleb(c) * ci->data_align);
			continue;
		case 0xc0: /* DW_CFA_restore */
			restore_reg(s, init, op & 0x3f);
			continue;
		}
		switch (op) {
		case 0x00: /* nop */
			break;
		case 0x01: /* set_loc */
			moved = to_loc(loc, encoded(c, ci->fde_enc, 0), target, rows, s);
			if (moved)
				return moved > 0 ? 0 : -1;
			break;
		case 0x02: case 0x03: case 0x04: /* advance_loc1/2/4 */
			delta = fixed(c, op == 0x02 ? 1 : op == 0x03 ? 2 : 4);
			moved = to_loc(loc, *loc + delta * ci->code_align, target, rows, s);
			if (moved)
				return moved > 0 ? 0 : -1;
			break;
		case 0x05: /* offset_extended */
			reg = uleb(c);
			set_offset(s, reg, (int64_t)uleb(c) * ci->data_align);
			break;
		case 0x06: /* restore_extended */
			restore_reg(s, init, uleb(c));
			break;
		case 0x07: /* undefined */
			reg = uleb(c);
			if (reg == DW_RA) {
				s->ra_at = s->ra_other = 0;
				s->ra_undefined = 1;
			} else {
				set_other(s, reg);
			}
			break;
		case 0x08: /* same_value */
			reg = uleb(c);
			if (reg == DW_RBP)
				s->bp_saved = s->bp_other = 0;
			else if (reg == DW_RA)
				set_other(s, reg);
			break;
		case 0x09: /* register */
			set_other(s, uleb(c));
			uleb(c);
			break;
		case 0x0a: /* remember_state */
			if (depth == sizeof stack / sizeof stack[0])
				return -1;
			stack[depth++] = *s;
			break;
		case 0x0b: /* restore_state */
			if (depth == 0)
				return -1;
			*s = stack[--depth];
			break;
		case 0x0c: /* def_cfa */
			s->cfa_reg = (unsigned)uleb(c);
			s->cfa_off = (int64_t)uleb(c);
			s->cfa_other = 0;
			break;
		case 0x0d: /* def_cfa_register */
			s->cfa_reg = (unsigned)uleb(c);
			s->cfa_other = 0;
			break;
		case 0x0e: /* def_cfa_offset */
			s->cfa_off = (int64_t)uleb(c);
			break;
		case 0x0f: /* def_cfa_expression */
			delta = uleb(c);
			if (delta > (uint64_t)(c->end - c->p))
				return -1;
			c->p += delta;
			s->cfa_other = 1;
			break;
		case 0x10: /* expression */
		case 0x16: /* val_expression */
			set_other(s, uleb(c));
			delta = uleb(c);
			if (delta > (uint64_t)(c->end - c->p))
				return -1;
			c->p += delta;
			break;
		case 0x11: /* offset_extended_sf */
			reg = uleb(c);
			set_offset(s, reg, sleb(c) * ci->data_align);
			break;
		case 0x12: /* def_cfa_sf */
			s->cfa_reg = (unsigned)uleb(c);
			s->cfa_off = sleb(c) * ci->data_align;
			s->cfa_other = 0;
			break;
		case 0x13: /* def_cfa_offset_sf */
			s->cfa_off = sleb(c) * ci->data_align;
			break;
		case 0x14: /* val_offset */
			set_other(s, uleb(c));
			uleb(c);
			break;
		case 0x15: /* val_offset_sf */
			set_other(s, uleb(c));
			sleb(c);
			break;
		case 0x2e: /* GNU_args_size */
			uleb(c);
			break;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = uleb(c);
			set_offset(s, reg, -(int64_t)uleb(c) * ci->data_align);
			break;
		default:
			return -1;
		}
	}
	return c->bad ? -1 : 0;
}

/* parse_cie reads the CIE at cie (its length field) into ci. */
static int parse_cie(const uint8_t *cie, struct cie_info *ci)
{
	uint32_t len;
	memcpy(&len, cie, 4);
	if (len == 0 || len == 0xffffffffu)
		return -1;
	struct cursor c = {cie + 4, cie + 4 + len, 0};
	if (fixed(&c, 4) != 0) /* CIE id */
		return -1;
	unsigned version = (unsigned)fixed(&c, 1);
	if (version != 1 && version != 3)
		return -1;
	const char *aug = (const char *)c.p;
	size_t alen = strnlen(aug, (size_t)(c.end - c.p));
	if (alen == (size_t)(c.end - c.p))
		return -1;
	c.p += alen + 1;
	ci->code_align = uleb(&c);
	ci->data_align = sleb(&c);
	uint64_t ra = version == 1 ? fixed(&c, 1) : uleb(&c);
	if (ra != DW_RA)
		return -1;
	ci->fde_enc = DW_EH_PE_absptr;
	ci->has_aug_len = ci->signal_frame = 0;
	const uint8_t *aug_end = NULL;
	for (const char *a = aug; *a; a++) {
		if (a == aug && *a == 'z') {
			uint64_t n = uleb(&c);
			if (n > (uint64_t)(c.end - c.p))
				return -1;
			aug_end = c.p + n;
			ci->has_aug_len = 1;
		} else if (*a == 'R') {
			ci->fde_enc = (uint8_t)fixed(&c, 1);
		} else if (*a == 'P') {
			uint8_t enc = (uint8_t)fixed(&c, 1);
			encoded(&c, enc & 0x7f, 0); /* the personality routine: skipped */
		} else if (*a == 'L') {
			fixed(&c, 1);
		} else if (*a == 'S') {
			ci->signal_frame = 1;
		} else if (!aug_end) {
			return -1; /* an augmentation whose data cannot be skipped */
		}
	}
	if (aug_end)
		c.p = aug_end;
	if (c.bad || ci->fde_enc == DW_EH_PE_omit)
		return -1;
	ci->insns = c.p;
	ci->insns_end = c.end;
	return 0;
}

/* is_sigreturn says whether pc is the signal trampoline a handler returns to (libc's restorer:
 * mov $15, %rax; syscall), below which the kernel left the interrupted registers. */
static int is_sigreturn(uintptr_t pc)
{
	static const uint8_t code[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
	return memcmp((const void *)pc, code, sizeof code) == 0;
}

/* keep_rows works out the rows of the FDE whose program c holds (init the state after the
 * CIE's), in two runs of it: one counts them, the other writes them where they are kept.
 * NULL when they cannot be kept. */
static const struct xt_fde_rows *keep_rows(const uint8_t *fde, const struct cie_info *ci,
					   const struct cursor *c, const struct cfa_state *init,
					   uintptr_t start, uintptr_t range, unsigned epoch)
{
	struct rows_out rows = {.start = start};
	for (int pass = 0; pass < 2; pass++) {
		struct cursor cc = *c;
		struct cfa_state s = *init;
		uintptr_t loc = start;
		rows.n = 0;
		int failed = run_cfa(&cc, ci, &s, init, &loc, UINTPTR_MAX, &rows);
		if (rows.unordered)
			return NULL;
		/* an instruction it cannot follow: so are the pcs from there on */
		add_row(&rows, loc, failed ? RULE_GIVE_UP : state_rule(&s));
		if (pass == 0 && !(rows.r = xt_fde_rows_new(rows.n)))
			return NULL;
	}
	if (rows.n != rows.r->n)
		return NULL; /* the tables changed between the runs: rows of neither are kept */
	rows.r->fde = fde;
	rows.r->start = start;
	rows.r->range = range;
	rows.r->epoch = epoch;
	xt_fde_rows_publish(rows.r);
	return rows.r;
}

/* An FDE whose program is this long has its rows kept: a pc in it then costs a binary search
 * instead of a run of the program up to the pc, which in a function of thousands of lines
 * (cc1's largest: 20 KB of CFA instructions) costs more than the rest of the walk. */
#define ROWS_MIN_BYTES 256

/* compute_rule works out the rule for pc from the unwind tables. exact: pc is the walk's first
 * frame (the instruction itself); otherwise pc is a return address and the call before it is
 * looked up. */
static uint64_t compute_rule(uintptr_t pc, int exact)
{
	unsigned epoch = atomic_load_explicit(&xt_code_epoch, memory_order_acquire);
	const uint8_t *fde = find_fde(exact ? pc : pc - 1);
	if (!fde)
		return RULE_GIVE_UP;
	uint32_t len;
	memcpy(&len, fde, 4);
	return xt_unwind_fde_rule(fde, pc, exact, len >= ROWS_MIN_BYTES ? epoch : 0);
}

uint64_t xt_unwind_fde_rule(const uint8_t *fde, uintptr_t pc, int exact, unsigned rows_epoch)
{
	uintptr_t target = exact ? pc : pc - 1;
	if (rows_epoch) {
		const struct xt_fde_rows *r = xt_fde_rows_find(fde, rows_epoch);
		if (r)
			return target >= r->start && target - r->start < r->range
				       ? xt_fde_rows_rule(r, target - r->start)
				       : RULE_GIVE_UP;
	}
	uint32_t len, cie_off;
	memcpy(&len, fde, 4);
	if (len == 0 || len == 0xffffffffu)
		return RULE_GIVE_UP;
	memcpy(&cie_off, fde + 4, 4);
	if (cie_off == 0)
		return RULE_GIVE_UP; /* a CIE where an FDE should be */
	struct cie_info ci;
	if (parse_cie(fde + 4 - cie_off, &ci) != 0)
		return RULE_GIVE_UP;
	if (ci.signal_frame)
		return is_sigreturn(pc) ? RULE_SIGNAL : RULE_GIVE_UP;
	struct cursor c = {fde + 8, fde + 4 + len, 0};
	uintptr_t start = encoded(&c, ci.fde_enc, 0);
	uintptr_t range = encoded(&c, ci.fde_enc & 0x0f, 0);
	if (ci.has_aug_len) {
		uint64_t n = uleb(&c);
		if (n > (uint64_t)(c.end - c.p))
			return RULE_GIVE_UP;
		c.p += n;
	}
	if (c.bad || target < start || target - start >= range)
		return RULE_GIVE_UP;
	struct cfa_state s = {0}, init;
	struct cursor cc = {ci.insns, ci.insns_end, 0};
	uintptr_t loc = 0;
	if (run_cfa(&cc, &ci, &s, &s, &loc, UINTPTR_MAX, NULL) != 0)
		return RULE_GIVE_UP;
	init = s;
	const struct xt_fde_rows *r;
	if (rows_epoch && (r = keep_rows(fde, &ci, &c, &init, start, range, rows_epoch)))
		return xt_fde_rows_rule(r, target - start);
	loc = start;
	if (run_cfa(&c, &ci, &s, &init, &loc, target, NULL) != 0)
		return RULE_GIVE_UP;
	return state_rule(&s);
}

/* --- the walk ---------------------------------------------------------------------------- */

/* A rule's key in the cache: the code epoch it was cached in, modulo XT_UNW_EPOCHS, above the
 * pc (no code lies above 2^51: what would is not cached). */
#define KEY_EPOCH_SHIFT 52
_Static_assert(XT_UNW_EPOCHS == 1u << (64 - KEY_EPOCH_SHIFT), "the epoch fills the key's top");

static inline uint64_t rule_of(struct xt_unw_cache *uc, uintptr_t pc, int exact,
			       uint64_t key_epoch)
{
	/* The walk's first pc and one a signal interrupted are instructions, the others return
	 * addresses (looked up at pc - 1): their rules differ for the same address, so an exact
	 * pc's key carries a low bit of its own (pc is shifted left). */
	if (xt_unlikely(pc >= (uintptr_t)1 << (KEY_EPOCH_SHIFT - 1)))
		return compute_rule(pc, exact);
	uint64_t key = ((uint64_t)pc << 1 | (unsigned)exact) | key_epoch;
	unsigned bits = xt_small_first_bits(uc->rule_misses, XT_UNW_CACHE_SMALL_BITS,
					    XT_UNW_CACHE_BITS);
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits));
	if (xt_likely(uc->e[i].key == key))
		return uc->e[i].rule;
	uc->rule_misses += bits != XT_UNW_CACHE_BITS;
	uint64_t r = compute_rule(pc, exact);
	uc->e[i].key = key;
	uc->e[i].rule = r;
	return r;
}

enum { STEPS = sizeof(((struct xt_unw_memo *)0)->s) / sizeof(struct xt_unw_step) };

/* A frame with the frame pointer's layout: the CFA 16 above RBP, the caller's RBP saved at RBP.
 * Its step's pc is 0, which no code has, so no other step matches it. */
#define FP_FRAME_IP 0
#define FP_FRAME_RULE make_rule(RULE_BP, 16, 1, -16)

/* verify returns the first of the memo's steps p, p-1, ..., p-take+1 whose memory reads would
 * now read otherwise, or UINT_MAX when a walk from step p's state would repeat the memo's steps
 * down to p-take (and the memo's end, when that is its outermost step). Every address was
 * inside this thread's stack at or above step p's stack pointer, which equals the current
 * walk's: live stack, so the loads are safe. */
static unsigned verify(const struct xt_unw_memo *m, unsigned p, unsigned take)
{
	const struct xt_unw_step *last = &m->s[p - take];
	for (const struct xt_unw_step *s = &m->s[p]; s != last; s--) {
		if (*(const uintptr_t *)(s->sp + s->ra_off) != s[-1].ip ||
		    (s->bp_off && *(const uintptr_t *)(s->sp + s->bp_off - 1) != s[-1].bp))
			return (unsigned)(s - m->s);
	}
	if (p - take == m->base && m->end == XT_WALK_ZERO &&
	    *(const uintptr_t *)(last->sp + last->ra_off) != 0)
		return p - take;
	return UINT_MAX;
}

/* walk_done makes the memo the walk whose n steps after its first are at the top of the array
 * (s[STEPS-1] its first) and whose last step is there too; returns n. */
static int walk_done(struct xt_unw_memo *m, unsigned n, unsigned end, int through_signal)
{
	memmove(&m->s[0], &m->s[STEPS - 1 - n], (n + 1) * sizeof(m->s[0]));
	m->base = 0;
	m->top = n;
	m->end = end;
	m->match = !through_signal;
	m->nodes = 0;
	return (int)n;
}

/* walk_joined makes the memo the walk whose first n steps are at the top of the array and
 * whose steps from there on are the memo's s[lo..p] (s[p] the state the walk reached). Only
 * the steps that changed are moved. The nodes of the kept
 * steps stay, and so does that of s[p+1], which names s[p]'s frame and those outward. */
static void walk_joined(struct xt_unw_memo *m, unsigned lo, unsigned p, unsigned n, unsigned end)
{
	unsigned keep = p + (n > 0);
	uint64_t next = m->s[p + 1].node;
	if (m->nodes && m->node_base >= lo && m->node_base <= p) {
		if (m->node_top > keep)
			m->node_top = keep;
	} else {
		m->nodes = 0;
	}
	memmove(&m->s[p + 1], &m->s[STEPS - n], n * sizeof(m->s[0]));
	if (m->nodes && m->node_top > p)
		m->s[p + 1].node = next;
	m->base = lo;
	m->top = p + n;
	m->end = end;
	m->match = 1;
}

/* A walk is a function of its state (pc, RSP, RBP) and of the stack words it reads. The memo
 * keeps the last walk's state at each frame, outermost first, and where it read: when a walk
 * reaches a state the last one had and those words still hold the same values, the rest of
 * the walk is the last one's, kept where it is (a caller's frames stay unchanged while the
 * program allocates further down). The new steps are written from the array's other end and
 * moved next to the kept ones, so a walk costs the frames that changed and the reads that
 * check the others. Each step carries the stack tree's node of the frames outward of it
 * (stacks.c), kept with the step, so the stack's node costs the changed frames too. A walk
 * unwinds at most max steps after its first, however deep the stack: a walk cut there records
 * where it stopped, and a later walk that needs more frames than the memo has goes on
 * unwinding from that state. A walk that joins the memo keeps the memo's steps beyond max
 * (up to half the array), unchecked: the memo's last step stays where it is. */
__attribute__((noinline)) int xt_unwind_dwarf(struct xt_thread *t, unsigned max, uintptr_t fp)
{
	struct xt_unw_cache *uc = t->unw;
	struct xt_unw_memo *m = &uc->memo;
	unsigned epoch = atomic_load_explicit(&xt_code_epoch, memory_order_acquire);
	if (xt_unlikely(uc->epoch != epoch)) {
		/* Rules of another epoch of the block no longer match their key; only a new block
		 * clears the cache (a new cache is of block 0 already: it touches what it uses). */
		if (uc->epoch / XT_UNW_EPOCHS != epoch / XT_UNW_EPOCHS)
			memset(uc->e, 0, sizeof(uc->e));
		m->match = 0;
		uc->epoch = epoch;
	}
	const uint64_t key_epoch = (uint64_t)(epoch % XT_UNW_EPOCHS) << KEY_EPOCH_SHIFT;
	if (max > STEPS / 2 - 1)
		max = STEPS / 2 - 1; /* the memo and a walk's new steps fit side by side */
	uintptr_t lo = t->stack_lo, hi = t->stack_hi, ip, sp, bp;
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			 : "=r"(ip), "=r"(sp), "=r"(bp));
	if (sp < lo || sp >= hi)
		return -1; /* no bounds, or on another stack (a signal stack, a coroutine) */
	/* From the frame at fp the walk's first step is that frame (at a pc no code has), its
	 * rule the frame pointer's: the shim's own frames below it are neither unwound nor
	 * checked. */
	int from_fp = fp > sp && fp <= hi - 16 && !(fp & 7);
	if (from_fp) {
		ip = FP_FRAME_IP;
		sp = bp = fp;
	}
	int usable = m->match;
	if (usable && m->top + max + 2 > STEPS) {
		/* make room above the memo for this walk's steps */
		memmove(&m->s[0], &m->s[m->base], (m->top - m->base + 1) * sizeof(m->s[0]));
		m->top -= m->base;
		m->node_base -= m->base;
		m->node_top -= m->base;
		m->base = 0;
	}
	/* the memo's step j (from its first) is s[top - j]; this walk's step n is s[STEPS-1-n] */
	const unsigned top = m->top, last = usable ? m->top - m->base : 0;
	unsigned n = 0, j = 0, from = 0; /* the memo's step at or above sp; no match tried below from */
	int exact = 1, through_signal = 0;
	for (;;) {
		if (usable) {
			while (j <= last && m->s[top - j].sp < sp)
				j++;
			if (j > last) {
				usable = 0;
			} else if (j >= from && m->s[top - j].sp == sp && m->s[top - j].ip == ip &&
				   m->s[top - j].bp == bp) {
				/* The memo's steps after j, as many as the array has room for, stay in
				 * the memo, so that its last step, where the nodes are rooted, stays
				 * too; of those only the ones this walk gives are checked (a memo step
				 * outward of them is checked by the walk that gives it). */
				unsigned take = last - j < STEPS / 2 - 1 - n ? last - j : STEPS / 2 - 1 - n;
				unsigned give = take < max - n ? take : max - n;
				unsigned f = verify(m, top - j, give);
				if (f == UINT_MAX) {
					unsigned end = j + take < last ? XT_WALK_CUT : m->end;
					if (end != XT_WALK_CUT || n + take >= max) {
						walk_joined(m, top - j - take, top - j, n, end);
						return (int)(n + give);
					}
					/* the memo was cut shorter than this walk goes: its steps join this
					 * walk's, which unwinds on from the last of them */
					memmove(&m->s[STEPS - 1 - n - take], &m->s[top - j - take],
						(take + 1) * sizeof(m->s[0]));
					n += take;
					ip = m->s[STEPS - 1 - n].ip;
					sp = m->s[STEPS - 1 - n].sp;
					bp = m->s[STEPS - 1 - n].bp;
					exact = exact && take == 0;
					usable = 0;
					continue;
				}
				from = top - f + 1; /* a match below f would read the changed word too */
			}
		}
		struct xt_unw_step *st = &m->s[STEPS - 1 - n];
		st->ip = ip;
		st->sp = sp;
		st->bp = bp;
		st->ra_off = st->bp_off = 0;
		if (n == max)
			return walk_done(m, n, XT_WALK_CUT, through_signal);
		uint64_t r = n == 0 && from_fp ? FP_FRAME_RULE : rule_of(uc, ip, exact, key_epoch);
		uintptr_t cfa;
		switch (RULE_KIND(r)) {
		case RULE_SP: cfa = sp + (uintptr_t)RULE_CFA_OFF(r); break;
		case RULE_BP: cfa = bp + (uintptr_t)RULE_CFA_OFF(r); break;
		case RULE_END: return walk_done(m, n, XT_WALK_END, through_signal);
		case RULE_SIGNAL: {
			/* The kernel's signal frame: the handler returned to the trampoline with RSP at
			 * the ucontext, which holds the interrupted registers. The next pc is an
			 * instruction, not a return address. Such a walk is not a memo: its reads are
			 * not the two slots a memo checks. */
			const uintptr_t at = sp + offsetof(ucontext_t, uc_mcontext.gregs);
			if (at + (REG_RIP + 1) * 8 > hi)
				return -1;
			const greg_t *g = (const greg_t *)at;
			uintptr_t nsp = (uintptr_t)g[REG_RSP];
			if (nsp <= sp || nsp >= hi || !g[REG_RIP])
				return -1;
			ip = (uintptr_t)g[REG_RIP];
			bp = (uintptr_t)g[REG_RBP];
			sp = nsp;
			n++;
			exact = 1;
			through_signal = 1;
			usable = 0;
			continue;
		}
		default: return -1;
		}
		if (cfa <= sp || cfa > hi || (cfa & 7) || cfa - sp > UINT32_MAX)
			return -1;
		st->ra_off = (uint32_t)(cfa - 8 - sp);
		uintptr_t ra = *(const uintptr_t *)(cfa - 8);
		if (RULE_BP_SAVED(r)) {
			uintptr_t at = cfa + (uintptr_t)RULE_BP_OFF(r);
			if (at < sp || at + 8 > hi || (at & 7) || at - sp >= UINT32_MAX)
				return -1;
			st->bp_off = (uint32_t)(at - sp + 1);
			bp = *(const uintptr_t *)at;
		}
		if (!ra)
			return walk_done(m, n, XT_WALK_ZERO, through_signal);
		n++;
		sp = cfa;
		ip = ra;
		exact = 0;
	}
}

void xt_unwind_thread_start(struct xt_thread *t)
{
	t->unw->memo.match = 0;
	t->unw->memo.nodes = 0;
}

void xt_unwind_code_unmapped(void)
{
	atomic_fetch_add(&xt_code_epoch, 1);
}
