/* test_symbolize.c: offline symbolization (reader/symbolize.c) of this test binary's own code,
 * from a module table built with dl_iterate_phdr. */
#include <elf.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "traceopen.h"

static __attribute__((noinline, noclone, used)) int xt_test_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

/* The running program's module: load bias, PT_LOAD span, build ID. */
struct self {
	char path[4096];
	uint64_t base, lo, hi;
	uint8_t build_id[64];
	size_t build_id_len;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self *s = arg;
	/* The first object is the program itself. */
	s->base = info->dlpi_addr;
	s->lo = UINT64_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD) {
			uint64_t a = info->dlpi_addr + ph->p_vaddr;
			if (a < s->lo)
				s->lo = a;
			if (a + ph->p_memsz > s->hi)
				s->hi = a + ph->p_memsz;
		}
		if (ph->p_type == PT_NOTE) {
			const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
			const uint8_t *end = p + ph->p_memsz;
			while (p + sizeof(ElfW(Nhdr)) <= end) {
				const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
				const uint8_t *name = p + sizeof *n;
				const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
				if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
				    memcmp(name, "GNU", 4) == 0 && n->n_descsz <= sizeof s->build_id) {
					memcpy(s->build_id, desc, n->n_descsz);
					s->build_id_len = n->n_descsz;
				}
				p = desc + ((n->n_descsz + 3) & ~3u);
			}
		}
	}
	return 1;
}

static void get_self(struct self *s)
{
	memset(s, 0, sizeof *s);
	ssize_t n = readlink("/proc/self/exe", s->path, sizeof s->path - 1);
	assert_true(n > 0);
	dl_iterate_phdr(find_self, s);
	assert_true(s->lo < s->hi);
}

/* trace_of writes a trace of ngens generations whose module table holds the program, with
 * build ID bid (NULL: none) and returns an open reader. */
static xtrace_reader *trace_of(const struct self *s, const uint8_t *bid, size_t bidlen, int ngens)
{
	struct tg *t = tg_new(NULL);
	for (int g = 1; g <= ngens; g++) {
		tg_gen(t, g);
		tg_sync(t, 10 * g, 1000000000, 0, 0);
		tg_batch(t, XT_BATCH_STRINGS, 0, 10 * g);
		tg_string(t, 1, s->path);
		tg_batch_end(t);
		tg_batch(t, XT_BATCH_MODULES, 0, 10 * g);
		tg_module(t, 1, 1, s->base, s->lo, s->hi, bid, bidlen);
		tg_batch_end(t);
		tg_end(t, 0);
	}
	xtrace_reader *r = tg_open_trace(t);
	tg_free(t);
	return r;
}

static void test_symbolize_self(void **state)
{
	struct self s;
	get_self(&s);
	assert_int_equal(xt_test_target(1), 4);
	xtrace_reader *r = trace_of(&s, s.build_id, s.build_id_len, 2);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	xtrace_symbolizer *sym = xtrace_symbolizer_new();
	assert_non_null(sym);

	/* A "return address" just past the function's first byte looks up the function. */
	uint64_t pc = (uint64_t)(uintptr_t)&xt_test_target + 1;
	struct xtrace_frame f;
	for (int gen = 1; gen <= 2; gen++) {
		xtrace_symbolize(sym, r, pc, &f);
		assert_int_equal(f.pc, pc);
		assert_non_null(f.function);
		assert_string_equal(f.function, "xt_test_target");
		assert_non_null(f.module);
		assert_string_equal(f.module, s.path);
		assert_int_equal(f.module_offset, pc - s.base);
		assert_non_null(f.file);
		assert_non_null(strstr(f.file, "test_symbolize.c"));
		assert_true(f.line > 0);
		/* The next generation has the same module: the symbolizer reuses it. */
		if (gen == 1) {
			assert_int_equal(xtrace_next(r, &ev), 1);
			assert_int_equal(ev.kind, XTRACE_EVENT_SYNC);
		}
	}
	assert_int_equal(xtrace_next(r, &ev), 0);

	/* An address in no module. */
	xtrace_symbolize(sym, r, 0x10, &f);
	assert_null(f.module);
	assert_null(f.function);
	assert_int_equal(f.line, 0);

	xtrace_symbolizer_free(sym);
	xtrace_close(r);
}

static void test_build_id_mismatch(void **state)
{
	struct self s;
	get_self(&s);
	if (!s.build_id_len)
		skip();
	uint8_t wrong[64];
	memcpy(wrong, s.build_id, s.build_id_len);
	wrong[0] ^= 0xff;
	xtrace_reader *r = trace_of(&s, wrong, s.build_id_len, 1);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	xtrace_symbolizer *sym = xtrace_symbolizer_new();
	struct xtrace_frame f;
	uint64_t pc = (uint64_t)(uintptr_t)&xt_test_target + 1;
	xtrace_symbolize(sym, r, pc, &f);
	/* The file on disk is not the one traced: no symbols, but the module is known. */
	assert_null(f.function);
	assert_null(f.file);
	assert_string_equal(f.module, s.path);
	xtrace_symbolizer_free(sym);
	xtrace_close(r);
}

static void test_missing_file(void **state)
{
	struct self s;
	get_self(&s);
	strcpy(s.path, "/nonexistent/xtrace/program");
	xtrace_reader *r = trace_of(&s, NULL, 0, 1);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	xtrace_symbolizer *sym = xtrace_symbolizer_new();
	struct xtrace_frame f;
	xtrace_symbolize(sym, r, s.lo + 1, &f);
	assert_null(f.function);
	assert_string_equal(f.module, "/nonexistent/xtrace/program");
	xtrace_symbolizer_free(sym);
	xtrace_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbolize_self),
		cmocka_unit_test(test_build_id_mismatch),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
