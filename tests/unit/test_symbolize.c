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

#include "internal.h"
#include "traceopen.h"

static __attribute__((noinline, noclone, used)) int xt_test_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

/* An inlined call: xt_test_inline_outer calls xt_test_inlined, inlined into it, which calls
 * xt_test_where; the return address in xt_test_inline_outer stands for both functions. */
static int inlined_call_line, outer_call_line;

static __attribute__((noinline, noclone)) uint64_t xt_test_where(void)
{
	__asm__ volatile("" ::: "memory");
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static inline __attribute__((always_inline)) uint64_t xt_test_inlined(void)
{
	uint64_t pc = xt_test_where(); inlined_call_line = __LINE__;
	return pc;
}

static __attribute__((noinline, noclone, used)) uint64_t xt_test_inline_outer(void)
{
	uint64_t pc = xt_test_inlined(); outer_call_line = __LINE__;
	__asm__ volatile("" ::: "memory");
	return pc;
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

/* A return address inside inlined code expands into the inlined call and the function holding
 * it, each with its own line; the chain is looked up once and kept. */
static void test_inlined_frames(void **state)
{
	struct self s;
	get_self(&s);
	uint64_t pc = xt_test_inline_outer();
	xtrace_reader *r = trace_of(&s, s.build_id, s.build_id_len, 1);
	struct xtrace_event ev;
	assert_int_equal(xtrace_next(r, &ev), 1);
	xtrace_symbolizer *sym = xtrace_symbolizer_new();
	const struct xtrace_frame *f;
	assert_int_equal(xtrace_symbolize_inlined(sym, r, pc, &f), 2);
	assert_string_equal(f[0].function, "xt_test_inlined");
	assert_true(f[0].inlined);
	assert_int_equal(f[0].line, inlined_call_line);
	assert_non_null(strstr(f[0].file, "test_symbolize.c"));
	assert_string_equal(f[1].function, "xt_test_inline_outer");
	assert_string_equal(f[1].symbol, "xt_test_inline_outer");
	assert_false(f[1].inlined);
	assert_int_equal(f[1].line, outer_call_line);
	assert_non_null(strstr(f[1].file, "test_symbolize.c"));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f[i].pc, pc);
		assert_string_equal(f[i].module, s.path);
		assert_int_equal(f[i].module_offset, pc - s.base);
	}
	const struct xtrace_frame *again;
	assert_int_equal(xtrace_symbolize_inlined(sym, r, pc, &again), 2);
	assert_ptr_equal(again, f);
	/* xtrace_symbolize gives the innermost */
	struct xtrace_frame one;
	xtrace_symbolize(sym, r, pc, &one);
	assert_string_equal(one.function, "xt_test_inlined");
	assert_int_equal(one.line, inlined_call_line);
	xtrace_symbolizer_free(sym);
	xtrace_close(r);
}

/* Names as people read them: demangled without parameters or ABI tags, without the symbol
 * version or compiler clone suffix; what is not a mangled name stays as it is. */
static void test_readable_names(void **state)
{
	static const char *const cases[][2] = {
		{"main", "main"},
		{"__libc_start_main@@GLIBC_2.34", "__libc_start_main"},
		{"memcpy@GLIBC_2.2.5", "memcpy"},
		{"call_init.part.0", "call_init"},
		{"_ZN3app5buildB5cxx11Ei", "app::build"},
		{"_ZN3app5buildEi.constprop.0", "app::build"},
		{"_Znwm", "operator new"},
		{"_ZnwmSt11align_val_tRKSt9nothrow_t", "operator new"},
		{"_Znam", "operator new[]"},
		{"_ZNSt6vectorIiSaIiEE17_M_default_appendEm",
		 "std::vector<int, std::allocator<int> >::_M_default_append"},
		{"_ZSt11make_uniqueIN3app4NodeEJEENSt9_MakeUniqIT_E15__single_objectEDpOT0_",
		 "std::make_unique<app::Node>"},
		{"_ZN9__gnu_cxx13new_allocatorIcE8allocateEmPKv",
		 "__gnu_cxx::new_allocator<char>::allocate"},
		{"_ZN12_GLOBAL__N_13fooEv", "(anonymous namespace)::foo"},
		{"_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write"}, /* Rust, legacy */
		{"_RNvCs1234_7mycrate3foo", "mycrate::foo"},                      /* Rust, v0 */
		{"_Zbogus", "_Zbogus"},
		{"_R", "_R"},
		{"", ""},
	};
	struct xt_namebuf b = {0};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = xt_readable_name(cases[i][0], &b);
		assert_non_null(got);
		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("%s reads as '%s', want '%s'", cases[i][0], got, cases[i][1]);
	}
	/* A name too deep for the demangler's stack budget stays mangled, and nothing breaks. */
	char deep[8192] = "_Z1f";
	for (size_t n = strlen(deep); n + 8 < sizeof deep; n += 1)
		deep[n] = 'P', deep[n + 1] = 'i', deep[n + 2] = 0;
	assert_string_equal(xt_readable_name(deep, &b), deep);
	free(b.p);
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
		cmocka_unit_test(test_inlined_frames),
		cmocka_unit_test(test_readable_names),
		cmocka_unit_test(test_build_id_mismatch),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
