/* fderows.h: the frame rules of long FDEs, worked out once per process and kept as rows
 * (fderows.c), so that the rule of a pc in a huge function costs a binary search instead of a
 * run of its CFA program up to the pc. */
#ifndef XT_FDEROWS_H
#define XT_FDEROWS_H

#include "shim.h"

/* One FDE's rows: rule[i] holds for the code from start + loc[i] up to the next row's location
 * (loc[0] is 0, the locations rise), each row where the rule changes. */
struct xt_fde_rows {
	const uint8_t *fde;
	uintptr_t start, range; /* the code the FDE covers */
	unsigned epoch;         /* the code epoch the rows were worked out in (unwind.c) */
	uint32_t n;
	uint64_t rule[];        /* then uint32_t loc[n] */
};

static inline uint32_t *xt_fde_rows_loc(const struct xt_fde_rows *r)
{
	return (uint32_t *)(r->rule + r->n);
}

/* xt_fde_rows_find returns the rows of fde worked out in code epoch epoch, or NULL. */
XT_HIDDEN const struct xt_fde_rows *xt_fde_rows_find(const uint8_t *fde, unsigned epoch);

/* xt_fde_rows_new gives room for n rows, or NULL when the rows' memory is used up (the caller
 * then runs the FDE's program for each pc, as for a short one). */
XT_HIDDEN struct xt_fde_rows *xt_fde_rows_new(uint32_t n);

/* xt_fde_rows_publish makes r, filled in, what xt_fde_rows_find returns for its FDE and epoch,
 * when a slot is free for it (when not, r stays the caller's alone). */
XT_HIDDEN void xt_fde_rows_publish(struct xt_fde_rows *r);

/* xt_fde_rows_rule is the rule of the code at start + off (off < range). */
XT_HIDDEN uint64_t xt_fde_rows_rule(const struct xt_fde_rows *r, uintptr_t off);

#endif
