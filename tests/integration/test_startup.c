/* test_startup.c: what the shim costs a process before it records anything. Every shared library
 * the shim needs is loaded into every traced process, with its relocations and page faults: the
 * shim needs none but the C library (and a sanitizer's runtime); libunwind is opened when a stack
 * first needs it, not in a process that never needs it, like /bin/true. Each page of its
 * zero-initialised data a process touches is a page fault too (a copy in a fork child): its
 * small state lies in a few pages, apart from its arrays, of which a process touches a few. And
 * a traced process reads no /proc/self/maps on its way (pthread_getattr_np does for the main
 * thread), and a fork child gets its parent's tables empty. */
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static void test_shim_needs_no_libm_libzstd_or_libunwind(void **state)
{
	const char *shim = h_shim_path();
	assert_true(needs(shim, "libc.so")); /* the reading works */
	assert_false(needs(shim, "libm.so"));
	assert_false(needs(shim, "libzstd.so"));
	assert_false(needs(shim, "libunwind"));
}

/* section_span finds the section name of the shared object at path: its address and size. */
static bool section_span(const char *path, const char *name, uint64_t *addr, uint64_t *size)
{
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	size_t shstr;
	assert_int_equal(elf_getshdrstrndx(e, &shstr), 0);
	bool found = false;
	for (Elf_Scn *scn = elf_nextscn(e, NULL); scn && !found; scn = elf_nextscn(e, scn)) {
		GElf_Shdr sh;
		const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(e, shstr, sh.sh_name) : NULL;
		if (n && strcmp(n, name) == 0) {
			*addr = sh.sh_addr;
			*size = sh.sh_size;
			found = true;
		}
	}
	elf_end(e);
	close(fd);
	return found;
}

/* The shim's .bss holds its small state alone, a few pages: every array of a page or more is
 * in .bss.bulk after it (scripts/bulk-ld.sh). */
static void test_small_state_in_few_pages(void **state)
{
	uint64_t addr, size;
	assert_true(section_span(h_shim_path(), ".bss", &addr, &size));
	if (size > 16384)
		fail_msg("the shim's .bss is %llu bytes: an array of a page or more is among its small "
			 "state", (unsigned long long)size);
	assert_true(section_span(h_shim_path(), ".bss.bulk", &addr, &size));
}

/* resident_pages counts the pages of [lo, hi) that process pid has touched. */
static size_t resident_pages(pid_t pid, uint64_t lo, uint64_t hi)
{
	char p[64];
	h_fmt(p, sizeof p, "/proc/%ld/pagemap", (long)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	size_t n = 0;
	for (uint64_t a = lo & ~4095ull; a < hi; a += 4096) {
		uint64_t e = 0;
		assert_int_equal(pread(fd, &e, sizeof e, (off_t)(a / 4096 * 8)), (ssize_t)sizeof e);
		n += e >> 63;
	}
	close(fd);
	return n;
}

/* load_base finds where process pid mapped the shared object at path (its mapping at offset 0). */
static uint64_t load_base(pid_t pid, const char *path)
{
	char p[64], line[PATH_MAX + 128];
	h_fmt(p, sizeof p, "/proc/%ld/maps", (long)pid);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	uint64_t base = 0;
	while (!base && fgets(line, sizeof line, f)) {
		unsigned long long lo, off;
		int name = 0;
		if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %n", &lo, &off, &name) == 2 && name &&
		    off == 0 && strncmp(line + name, path, strlen(path)) == 0 &&
		    line[name + strlen(path)] == '\n')
			base = lo;
	}
	fclose(f);
	return base;
}

/* A traced process that has written a few generations has touched a few pages of the shim's
 * zero-initialised data: its small state, a page of each table writer and module set, one for
 * the trace's names and header; not a page of every array (it was 23 pages). */
static void test_few_data_pages_touched(void **state)
{
	const char *dir = h_tmpdir();
	char shim[PATH_MAX], gen_ms[] = "XTRACE_GEN_MS=20";
	assert_non_null(realpath(h_shim_path(), shim));
	const char *const extra[] = {gen_ms, NULL};
	char *envp[512];
	h_child_env(envp, h_trace_env(dir, extra));
	char *argv[] = {"/bin/sleep", "5", NULL};
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL, argv, envp), 0);
	/* a few generations written: the trace grows past its first */
	char paths[4][PATH_MAX];
	off_t first = 0;
	for (int i = 0; i < 1000; i++) {
		struct stat st;
		if (h_find_traces(dir, paths, 4) == 1 && stat(paths[0], &st) == 0 && st.st_size) {
			if (!first)
				first = st.st_size;
			else if (st.st_size > first)
				break;
		}
		usleep(10000);
	}
	usleep(100000);
	uint64_t base = load_base(pid, shim), bss, bss_size, bulk, bulk_size;
	assert_true(base != 0);
	assert_true(section_span(shim, ".bss", &bss, &bss_size));
	uint64_t end = bss + bss_size;
	if (section_span(shim, ".bss.bulk", &bulk, &bulk_size) && bulk + bulk_size > end)
		end = bulk + bulk_size;
	size_t n = resident_pages(pid, base + bss, base + end);
	kill(pid, SIGKILL);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (n > 16)
		fail_msg("a traced process touched %zu pages of the shim's zero-initialised data", n);
}

/* child_faults runs forkwait (5 children, each allocating 10 blocks), traced or not, and returns
 * the fewest page faults a child took. */
static uint64_t child_faults(bool traced)
{
	struct h_run r;
	char *const argv[] = {(char *)h_workload("forkwait"), "0", "5", "10", NULL};
	if (traced)
		h_traced(&r, NULL, argv);
	else
		h_plain(&r, argv);
	h_expect_exit(&r, 0);
	uint64_t n = h_out_u64(r.out, "threads=", "child_faults");
	h_run_free(&r);
	return n;
}

/* A fork child's trace costs it few page faults beyond the fork's own (its generation thread's
 * included): each page of the shim's data it writes is a copy of its parent's, or a new one.
 * Here 50 to 59 more than untraced (bound with a little room for a busy machine); it was 87, 9 of them the heap table's, written whole in
 * every child, and 5 binding functions no fork child had called before; then 59 to 63, 5 of
 * them printf's code (the trace's name), 3 table writers and 3 pages of small state copied one
 * by one (the kernel counts a page madvise makes writable as a fault too). */
static void test_fork_child_few_faults(void **state)
{
	uint64_t plain = child_faults(false), traced = child_faults(true);
	if (traced > plain + 62)
		fail_msg("a traced fork child took %llu page faults, %llu untraced",
			 (unsigned long long)traced, (unsigned long long)plain);
}

/* run_faults runs argv, traced or not, a few times, and returns the fewest page faults a run
 * took (the kernel's count: a page made writable by madvise counts as one too). */
static long run_faults(char *const argv[], bool traced)
{
	long fewest = -1;
	for (int i = 0; i < 5; i++) {
		char *envp[512];
		h_child_env(envp, traced ? h_trace_env(h_tmpdir(), NULL) : NULL);
		pid_t pid;
		assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL, argv, envp), 0);
		int st;
		struct rusage ru;
		assert_int_equal(wait4(pid, &st, 0, &ru), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (fewest < 0 || ru.ru_minflt < fewest)
			fewest = ru.ru_minflt;
	}
	return fewest;
}

/* A traced /bin/true takes few page faults beyond the untraced one's (each costs about 10 us on
 * a VM; the kernel counts a page madvise makes writable as one too): here 30 more; it was 39,
 * five of them printf's code faulted in to make the trace's name, three those of a table writer
 * each instead of one, and pages read before they were written (two faults each). */
static void test_true_few_faults(void **state)
{
	char *argv[] = {"/bin/true", NULL};
	long plain = run_faults(argv, false), traced = run_faults(argv, true);
	if (traced > plain + 33)
		fail_msg("a traced /bin/true took %ld page faults, %ld untraced", traced, plain);
}

/* A short process that records a few stacks (cat's allocations at start) takes few page faults
 * beyond the untraced one's: here 58 more. It was 134, 45 of them the walk's table of tree
 * nodes, a page a frame (the table is small until it misses), 29 its table of frame rules (the
 * same), and 2 the first look at the timerfd table by read and close. */
static void test_short_stacks_few_faults(void **state)
{
	char *argv[] = {"/bin/cat", "/dev/null", NULL};
	long plain = run_faults(argv, false), traced = run_faults(argv, true);
	if (traced > plain + 70)
		fail_msg("a traced cat took %ld page faults, %ld untraced", traced, plain);
}

/* strace_run runs argv, traced or not, its system calls in filter logged by strace (the shim
 * preloaded into the program alone; its threads too if follow), and returns the log; dir gets
 * the trace. */
static char *strace_run(struct h_run *r, bool traced, bool follow, const char *filter,
			char *const argv[])
{
	const char *dir = h_tmpdir();
	char log[PATH_MAX], preload[PATH_MAX + 16], out[PATH_MAX + 16];
	h_fmt(log, sizeof log, "%s/strace.log", dir);
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());
	h_fmt(out, sizeof out, "XTRACE_OUT=%s/t.%%p.xt", dir);
	char *args[32] = { "/usr/bin/strace", "-qq", "-e", (char *)filter, "-o", log };
	size_t n = 6;
	if (follow)
		args[n++] = "-f";
	if (traced) {
		args[n++] = "-E";
		args[n++] = preload;
	}
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

/* strace_traced runs argv traced, its system calls in filter logged (strace_run), threads and
 * children too. */
static char *strace_traced(struct h_run *r, const char *filter, char *const argv[])
{
	return strace_run(r, true, true, filter, argv);
}

/* A traced /bin/true opens no /proc/self/maps, and does not load libunwind. */
static void test_start_reads_no_maps(void **state)
{
	struct h_run r;
	char *opens = strace_traced(&r, "trace=open,openat", H_ARGV("/bin/true"));
	char trace[PATH_MAX];
	h_one_trace(&r, trace); /* it was traced */
	assert_non_null(strstr(opens, "/proc/self/statm")); /* the log holds the shim's opens */
	if (strstr(opens, "/proc/self/maps"))
		fail_msg("a traced /bin/true read /proc/self/maps:\n%s", opens);
	if (strstr(opens, "libunwind"))
		fail_msg("a traced /bin/true loaded libunwind:\n%s", opens);
	h_free(opens);
	h_run_free(&r);
}

/* main_thread_syscalls counts the system calls /bin/true's one thread makes, traced or not. */
static size_t main_thread_syscalls(bool traced)
{
	struct h_run r;
	char *calls = strace_run(&r, traced, false, "trace=all", H_ARGV("/bin/true"));
	size_t n = h_count_substr(calls, "\n") - h_count_substr(calls, "+++ exited");
	h_free(calls);
	h_run_free(&r);
	return n;
}

/* A traced /bin/true makes few system calls beyond the untraced one's, on its own thread (each
 * about 1.6 us on a VM): here 123 more, 55 of them giving the fatal signals the dispatcher, 10
 * starting the generation thread; it was 131, 9 of them getpid (8 at each batch the exit wrote),
 * 2 blocking signals around the thread's start. */
static void test_true_few_syscalls(void **state)
{
	size_t plain = main_thread_syscalls(false), traced = main_thread_syscalls(true);
	if (traced > plain + 126)
		fail_msg("a traced /bin/true made %zu system calls, %zu untraced", traced, plain);
}

/* A process that ends within a moment of starting (here 30 ms) makes no control socket, whose
 * file's creation and removal would cost it more than the rest of its tracing's start. */
static void test_short_process_makes_no_socket(void **state)
{
	struct h_run r;
	char *calls = strace_traced(&r, "trace=socket,bind,unlink", H_ARGV("/bin/sleep", "0.03"));
	char trace[PATH_MAX];
	h_one_trace(&r, trace); /* it was traced */
	if (strstr(calls, "AF_UNIX") || strstr(calls, ".sock"))
		fail_msg("a traced sleep of 30 ms made a control socket:\n%s", calls);
	h_free(calls);
	h_run_free(&r);
}

/* strace_fork_child runs forkwait with one child traced, its system calls in filter logged
 * (strace_traced), and returns the log. */
static char *strace_fork_child(struct h_run *r, const char *filter)
{
	char *calls = strace_traced(r, filter, H_ARGV((char *)h_workload("forkwait"), "0", "1", "10"));
	char paths[4][PATH_MAX];
	assert_int_equal(h_find_traces(r->dir, paths, 4), 2); /* the parent's and the child's */
	return calls;
}

/* A fork child gets the tables (stacks, types, user strings) and the gathered generations of
 * its parent empty (MADV_WIPEONFORK): the fork copies none of their pages' entries, and the
 * child gives none back (a madvise flushes the TLB; it was one, and one an array before). */
static void test_fork_child_gets_tables_empty(void **state)
{
	struct h_run r;
	char *calls = strace_fork_child(&r, "trace=madvise");
	assert_non_null(strstr(calls, "MADV_WIPEONFORK"));
	size_t n = h_count_substr(calls, "MADV_DONTNEED");
	if (n != 0)
		fail_msg("%zu madvise(MADV_DONTNEED) calls, expected none:\n%s", n, calls);
	h_free(calls);
	h_run_free(&r);
}

/* A fork child runs its parent's executable: its trace names it without reading the link
 * /proc/self/exe again (a path lookup in /proc, about 20 us). */
static void test_fork_child_reads_no_exe_link(void **state)
{
	struct h_run r;
	char *calls = strace_fork_child(&r, "trace=readlink,readlinkat");
	size_t n = h_count_substr(calls, "/proc/self/exe");
	if (n != 1)
		fail_msg("/proc/self/exe read %zu times, expected the parent's once:\n%s", n, calls);
	h_free(calls);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shim_needs_no_libm_libzstd_or_libunwind),
		cmocka_unit_test(test_small_state_in_few_pages),
		cmocka_unit_test(test_few_data_pages_touched),
		cmocka_unit_test(test_start_reads_no_maps),
		cmocka_unit_test(test_short_process_makes_no_socket),
		cmocka_unit_test(test_fork_child_gets_tables_empty),
		cmocka_unit_test(test_fork_child_reads_no_exe_link),
		cmocka_unit_test(test_fork_child_few_faults),
		cmocka_unit_test(test_true_few_faults),
		cmocka_unit_test(test_true_few_syscalls),
		cmocka_unit_test(test_short_stacks_few_faults),
	};
	return h_finish(cmocka_run_group_tests_name("startup", tests, NULL, NULL));
}
