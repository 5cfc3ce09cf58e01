/* test_startup.c: what the shim costs a process before it records anything. Every shared library
 * the shim needs is loaded into every traced process, with its relocations and page faults: the
 * shim needs none but libunwind (and the C library, and a sanitizer's runtime). */
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* needs reports whether the shared object at path names lib (a soname prefix) as NEEDED. */
static bool needs(const char *path, const char *lib)
{
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	bool found = false, dynamic = false;
	for (Elf_Scn *scn = elf_nextscn(e, NULL); scn; scn = elf_nextscn(e, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		dynamic = true;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag != DT_NEEDED)
				continue;
			const char *name = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
			if (name && strncmp(name, lib, strlen(lib)) == 0)
				found = true;
		}
	}
	elf_end(e);
	close(fd);
	assert_true(dynamic);
	return found;
}

static void test_shim_needs_no_libm_or_libzstd(void **state)
{
	const char *shim = h_shim_path();
	assert_true(needs(shim, "libc.so")); /* the reading works */
	assert_false(needs(shim, "libm.so"));
	assert_false(needs(shim, "libzstd.so"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shim_needs_no_libm_or_libzstd),
	};
	return h_finish(cmocka_run_group_tests_name("startup", tests, NULL, NULL));
}
