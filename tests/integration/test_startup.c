/* test_startup.c: what the shim costs a process before it records anything. Every shared library
 * the shim needs is loaded into every traced process, with its relocations and page faults: the
 * shim needs none but libunwind (and the C library, and a sanitizer's runtime). And a traced
 * process reads no /proc/self/maps on its way (pthread_getattr_np does for the main thread), and
 * a fork child empties the tables it inherited with one madvise. */
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

/* strace_traced runs argv traced, its system calls in filter logged by strace (the shim preloaded
 * into the program alone), and returns the log; dir gets the trace. */
static char *strace_traced(struct h_run *r, const char *filter, char *const argv[])
{
	const char *dir = h_tmpdir();
	char log[PATH_MAX], preload[PATH_MAX + 16], out[PATH_MAX + 16];
	h_fmt(log, sizeof log, "%s/strace.log", dir);
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());
	h_fmt(out, sizeof out, "XTRACE_OUT=%s/t.%%p.xt", dir);
	char *args[32] = { "/usr/bin/strace", "-f", "-qq", "-e", (char *)filter, "-o", log, "-E",
			   preload };
	size_t n = 9;
	for (size_t i = 0; argv[i] && n < 31; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	const char *const env[] = { out, NULL };
	assert_int_equal(h_spawn(r, dir, args, env), 0);
	h_expect_exit(r, 0);
	size_t len;
	char *text = h_track(h_read_file(log, &len));
	assert_non_null(text);
	return text;
}

/* A traced /bin/true opens no /proc/self/maps. */
static void test_start_reads_no_maps(void **state)
{
	struct h_run r;
	char *opens = strace_traced(&r, "trace=open,openat", H_ARGV("/bin/true"));
	char trace[PATH_MAX];
	h_one_trace(&r, trace); /* it was traced */
	assert_non_null(strstr(opens, "/proc/self/statm")); /* the log holds the shim's opens */
	if (strstr(opens, "/proc/self/maps"))
		fail_msg("a traced /bin/true read /proc/self/maps:\n%s", opens);
	h_free(opens);
	h_run_free(&r);
}

/* A fork child empties the tables it inherited (stacks, types, user strings) with one madvise,
 * not one an array: each flushes the TLB. */
static void test_fork_child_forgets_tables_at_once(void **state)
{
	struct h_run r;
	char *calls = strace_traced(&r, "trace=madvise",
				    H_ARGV((char *)h_workload("forkwait"), "0", "1", "10"));
	char paths[4][PATH_MAX];
	assert_int_equal(h_find_traces(r.dir, paths, 4), 2); /* the parent's and the child's */
	size_t n = h_count_substr(calls, "MADV_DONTNEED");
	if (n != 1)
		fail_msg("%zu madvise(MADV_DONTNEED) calls, expected the fork child's one:\n%s", n,
			 calls);
	h_free(calls);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shim_needs_no_libm_or_libzstd),
		cmocka_unit_test(test_start_reads_no_maps),
		cmocka_unit_test(test_fork_child_forgets_tables_at_once),
	};
	return h_finish(cmocka_run_group_tests_name("startup", tests, NULL, NULL));
}
