/* test_fderows.c: the rows kept of a long FDE (shim/fderows.c, worked out in shim/unwind.c)
 * give every pc the rule a run of the FDE's program up to it gives, whatever the program does
 * (advances of each size and of none, set_loc, remember and restore, an instruction the walk
 * cannot follow); rows of an older code epoch are not used (other code may be mapped there
 * now); once their memory is used up, long FDEs are run for each pc and their rules stay
 * right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "fderows.h"
#include "real.h"
#include "unwind.h"

struct xt_real xt_real;

/* Where the made-up FDEs' code starts: nothing is read there (their CIE is no signal frame's). */
#define CODE 0x10000000ul

struct prog {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct prog *g, const void *b, size_t n)
{
	assert_true(g->len + n <= g->cap);
	memcpy(g->p + g->len, b, n);
	g->len += n;
}

static void put1(struct prog *g, uint8_t b)
{
	put(g, &b, 1);
}

static void put_uleb(struct prog *g, uint64_t v)
{
	do {
		put1(g, (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void put_sleb(struct prog *g, int64_t v)
{
	for (;;) {
		uint8_t b = v & 0x7f;
		v >>= 7;
		if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
			put1(g, b);
			return;
		}
		put1(g, b | 0x80);
	}
}

static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* An FDE as compilers write them, at the end of g after its CIE (absolute pointers, code
 * alignment 1, data alignment -8, the CFA RSP+8 and the return address at CFA-8 to begin
 * with), covering CODE up to *range. Its program changes the rule at nearly each of steps
 * locations, as seed picks; broken_at, when not 0, is the step with an instruction the walk
 * cannot follow. */
static const uint8_t *make_fde(struct prog *g, unsigned steps, uint64_t seed, unsigned broken_at,
			       uint64_t *range)
{
	size_t cie = g->len;
	static const uint8_t cie_head[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16,
					   1, 0x00, 0x0c, 7, 8, 0x90, 1};
	put(g, cie_head, sizeof cie_head);
	uint32_t n = (uint32_t)(g->len - cie - 4);
	memcpy(g->p + cie, &n, 4);

	size_t fde = g->len;
	uint32_t cie_off = (uint32_t)(fde + 4 - cie);
	put(g, "\0\0\0\0", 4);
	put(g, &cie_off, 4);
	uint64_t start = CODE, range_at = 0;
	put(g, &start, 8);
	range_at = g->len;
	put(g, &start, 8);
	put_uleb(g, 0);
	uint64_t loc = 0;
	unsigned depth = 0;
	for (unsigned i = 1; i <= steps; i++) {
		uint64_t r = mix(seed * 1000003 + i);
		if (i == broken_at) {
			put1(g, 0x3f); /* no such CFA instruction */
		}
		switch (r % 9) {
		case 0: put1(g, 0x0e); put_uleb(g, 8 * (1 + (r >> 8) % 60)); break; /* def_cfa_offset */
		case 1: put1(g, 0x86); put_uleb(g, 2 + (r >> 8) % 3); break;      /* offset rbp */
		case 2: put1(g, 0xc6); break;                                      /* restore rbp */
		case 3:
			if (depth < 6) {
				put1(g, 0x0a); /* remember_state */
				depth++;
			}
			put1(g, 0x0e);
			put_uleb(g, 16 + 8 * ((r >> 8) % 9));
			break;
		case 4:
			if (depth > 0) {
				put1(g, 0x0b); /* restore_state */
				depth--;
			}
			break;
		case 5: put1(g, 0x0d); put_uleb(g, (r >> 8) & 1 ? 6 : 7); break;  /* def_cfa_register */
		case 6: put1(g, 0x13); put_sleb(g, -(int64_t)(2 + (r >> 8) % 40)); break; /* def_cfa_offset_sf */
		case 7: put1(g, 0x2e); put_uleb(g, (r >> 8) % 5); break;           /* GNU_args_size */
		case 8: put1(g, 0x08); put_uleb(g, 6); break;                      /* same_value rbp */
		}
		uint64_t delta = (r >> 20) % 7;
		switch ((r >> 32) % 6) {
		case 0: case 1: case 2: put1(g, (uint8_t)(0x40 | delta)); break; /* advance_loc */
		case 3: put1(g, 0x02); put1(g, (uint8_t)(delta + 3)); delta += 3; break;
		case 4: put1(g, 0x03); put(g, &(uint16_t){(uint16_t)delta}, 2); break;
		case 5: /* set_loc */
			put1(g, 0x01);
			put(g, &(uint64_t){CODE + loc + delta}, 8);
			break;
		}
		loc += delta;
	}
	*range = loc + 16;
	memcpy(g->p + range_at, range, 8);
	n = (uint32_t)(g->len - fde - 4);
	memcpy(g->p + fde, &n, 4);
	put(g, "\0\0\0\0", 4); /* the terminator */
	return g->p + fde;
}

static struct prog new_prog(size_t cap)
{
	struct prog g = {malloc(cap), 0, cap};
	assert_non_null(g.p);
	return g;
}

/* unmap frees a program's memory as dlclose unmaps code: later FDEs there are other code. */
static void unmap(void *p)
{
	free(p);
	xt_unwind_code_unmapped();
}

static unsigned epoch_now(void)
{
	return atomic_load(&xt_code_epoch);
}

/* assert_rows_agree checks the FDE's rule at every pc-th pc, its code's and one each side, from
 * its rows (kept at the first) against a run of its program. */
static void assert_rows_agree(const uint8_t *fde, uint64_t range, uint64_t every)
{
	unsigned epoch = epoch_now();
	for (uint64_t pc = CODE - 1; pc <= CODE + range; pc += every) {
		uint64_t direct = xt_unwind_fde_rule(fde, pc, 1, 0);
		assert_int_equal(xt_unwind_fde_rule(fde, pc, 1, epoch), direct);
		/* a return address: the call before it */
		assert_int_equal(xt_unwind_fde_rule(fde, pc + 1, 0, epoch),
				 xt_unwind_fde_rule(fde, pc + 1, 0, 0));
	}
}

static void test_rows_give_every_pc_its_rule(void **state)
{
	for (unsigned seed = 1; seed <= 4; seed++) {
		struct prog g = new_prog(64 << 10);
		uint64_t range;
		const uint8_t *fde = make_fde(&g, 1200, seed, seed == 4 ? 900 : 0, &range);
		assert_null(xt_fde_rows_find(fde, epoch_now()));
		assert_rows_agree(fde, range, 1);
		const struct xt_fde_rows *r = xt_fde_rows_find(fde, epoch_now());
		assert_non_null(r);
		assert_true(r->n > 300); /* a row where the rule changes, not one a location */
		assert_true(r->n < 1200);
		unmap(g.p);
	}
}

static void test_rows_of_unmapped_code_are_not_used(void **state)
{
	struct prog g = new_prog(64 << 10);
	uint64_t range;
	const uint8_t *fde = make_fde(&g, 2000, 11, 0, &range);
	assert_rows_agree(fde, range, 3);
	unsigned before = epoch_now();
	assert_non_null(xt_fde_rows_find(fde, before));

	/* dlclose: other code, with other unwind tables, may now lie where that FDE was */
	xt_unwind_code_unmapped();
	assert_null(xt_fde_rows_find(fde, epoch_now()));
	g.len = 0;
	const uint8_t *other = make_fde(&g, 2000, 12, 0, &range);
	assert_ptr_equal(other, fde);
	assert_rows_agree(other, range, 1);
	assert_non_null(xt_fde_rows_find(fde, epoch_now()));
	unmap(g.p);
}

static void test_rows_memory_used_up(void **state)
{
	/* copies of one long FDE at other addresses, each with its rows kept, until there is no
	 * room for more: the first whose rows are not kept still gives every rule */
	struct prog g = new_prog(512 << 10);
	uint64_t range;
	size_t fde_at = (size_t)(make_fde(&g, 20000, 21, 0, &range) - g.p);
	uint8_t *copies[64];
	unsigned kept = 0;
	for (;;) {
		assert_true(kept < 64); /* the memory is bounded */
		uint8_t *copy = copies[kept] = malloc(g.len);
		memcpy(copy, g.p, g.len);
		const uint8_t *fde = copy + fde_at;
		assert_int_equal(xt_unwind_fde_rule(fde, CODE + range / 2, 1, epoch_now()),
				 xt_unwind_fde_rule(fde, CODE + range / 2, 1, 0));
		if (!xt_fde_rows_find(fde, epoch_now())) {
			assert_rows_agree(fde, range, 991);
			break;
		}
		kept++;
	}
	assert_true(kept >= 8);
	for (unsigned i = 0; i <= kept; i++)
		unmap(copies[i]);
	free(g.p);
}

int main(void)
{
	xt_real.mmap = mmap;
	xt_real.munmap = munmap;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_give_every_pc_its_rule),
		cmocka_unit_test(test_rows_of_unmapped_code_are_not_used),
		cmocka_unit_test(test_rows_memory_used_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
