/* test_real_programs.c: programs the project did not write, traced: python3 running a
 * multithreaded script, perl, sort on a large file, gcc compiling a file, git on the project's
 * repository, a bash pipeline. Each must print the same and exit the same with the shim as
 * without it, and every trace file of its process tree (forks and execs included) must read
 * back complete and validate clean. A program that is not installed fails the test: deps.sh
 * installs them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* check_traces validates every trace in dir and returns how many there are. */
static size_t check_traces(const char *dir)
{
	char (*paths)[PATH_MAX] = h_track(malloc(256 * PATH_MAX));
	size_t n = h_find_traces(dir, paths, 256);
	if (n == 0 || n > 256)
		fail_msg("%zu trace files in %s", n, dir);
	for (size_t i = 0; i < n; i++) {
		struct h_summary s = { 0 };
		h_summarize_clean(paths[i], &s);
		struct h_run c;
		int rc = h_cli(&c, H_ARGV("validate", paths[i]));
		if (rc != 0)
			fail_msg("xtrace validate %s (%s): exit %d\n%s%s", paths[i], s.exe, rc, c.out,
				 c.err);
		h_run_free(&c);
	}
	h_free(paths);
	return n;
}

/* same_run runs argv untraced and traced and asserts the same stdout and wait status and
 * nothing from the shim on stderr; returns the number of trace files the traced run left. */
static size_t same_run(char *const argv[], int want_exit)
{
	struct h_run plain, r;
	h_plain(&plain, argv);
	h_traced(&r, NULL, argv);
	if (!WIFEXITED(plain.status) || WEXITSTATUS(plain.status) != want_exit)
		fail_msg("%s untraced: wait status 0x%x, expected exit %d; stderr: %s", argv[0],
			 plain.status, want_exit, plain.err);
	if (r.status != plain.status)
		fail_msg("%s: wait status 0x%x traced, 0x%x untraced; stderr: %s", argv[0], r.status,
			 plain.status, r.err);
	if (r.out_len != plain.out_len || memcmp(r.out, plain.out, r.out_len) != 0)
		fail_msg("%s: stdout differs traced (%zu bytes) and untraced (%zu bytes)", argv[0],
			 r.out_len, plain.out_len);
	if (strstr(r.err, "xtrace:"))
		fail_msg("%s: the shim complained: %s", argv[0], r.err);
	size_t n = check_traces(r.dir);
	h_run_free(&r);
	h_run_free(&plain);
	return n;
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(h_write_file(path, text, strlen(text)), 0);
}

static void test_python_threads(void **state)
{
	const char *dir = h_tmpdir();
	char script[PATH_MAX];
	h_fmt(script, sizeof script, "%s/threads.py", dir);
	write_text(script,
		   "import hashlib, json, threading\n"
		   "results = {}\n"
		   "lock = threading.Lock()\n"
		   "def work(i):\n"
		   "    d = {str(k): [k] * (k % 50) for k in range(3000 + i)}\n"
		   "    h = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()\n"
		   "    with lock:\n"
		   "        results[i] = h[:16]\n"
		   "ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
		   "for t in ts: t.start()\n"
		   "for t in ts: t.join()\n"
		   "for i in sorted(results): print(i, results[i])\n");
	same_run(H_ARGV("/usr/bin/python3", script), 0);
}

static void test_perl(void **state)
{
	same_run(H_ARGV("/usr/bin/perl", "-e",
			"my %h; $h{$_} = 'x' x ($_ % 97) for 1 .. 100000; my $s = 0;"
			"$s += length $h{$_} for keys %h; my @k = sort { $a <=> $b } keys %h;"
			"print \"$s @k[0 .. 9]\\n\"; exit 5;"),
		 5);
}

/* sort on a 300,000-line file, with a small buffer so it spills to temporary files and
 * merges, on two threads. */
static void test_sort_large_file(void **state)
{
	const char *dir = h_tmpdir();
	char path[PATH_MAX];
	h_fmt(path, sizeof path, "%s/input.txt", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 300000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		fprintf(f, "%llu line %d\n", (unsigned long long)(x % 1000000007), i);
	}
	fclose(f);
	char tmp[PATH_MAX + 8];
	h_fmt(tmp, sizeof tmp, "-T%s", dir);
	same_run(H_ARGV("/usr/bin/sort", "-n", "-S", "1M", "--parallel=2", tmp, path), 0);
}

/* gcc runs cc1 and as: each writes its own trace; the object files must be identical. */
static void test_gcc_compiles(void **state)
{
	const char *dir = h_tmpdir();
	char src[PATH_MAX];
	h_fmt(src, sizeof src, "%s/prog.c", dir);
	write_text(src, "#include <stdio.h>\n#include <stdlib.h>\n"
			"struct node { int v; struct node *next; };\n"
			"int main(int argc, char **argv) {\n"
			"  struct node *h = NULL;\n"
			"  for (int i = 0; i < argc * 10; i++) {\n"
			"    struct node *n = malloc(sizeof *n); n->v = i; n->next = h; h = n; }\n"
			"  int s = 0; while (h) { struct node *n = h->next; s += h->v; free(h); h = n; }\n"
			"  printf(\"%d %s\\n\", s, argv[0]); return 0; }\n");
	/* the assembly on stdout: compared byte for byte by same_run */
	size_t n = same_run(H_ARGV("/usr/bin/gcc", "-O2", "-S", "-o", "-", src), 0);
	assert_true(n >= 2); /* gcc and cc1 at least */
}

/* git on the project's repository (the tests run from its root); if there is none here, on a
 * small repository made for the test. */
static void test_git(void **state)
{
	char repo[PATH_MAX];
	struct stat st;
	if (stat(".git", &st) == 0) {
		if (!getcwd(repo, sizeof repo))
			fail_msg("getcwd: %s", strerror(errno));
	} else {
		h_fmt(repo, sizeof repo, "%s", h_tmpdir());
		char cmd[PATH_MAX * 2];
		h_fmt(cmd, sizeof cmd,
		      "cd '%s' && git init -q && echo hello > a && git add a && "
		      "git -c user.name=t -c user.email=t@t commit -qm one && echo more >> a && "
		      "git -c user.name=t -c user.email=t@t commit -qam two",
		      repo);
		assert_int_equal(system(cmd), 0);
	}
	/* A fixed commit: the repository may move on while the test runs. */
	struct h_run head;
	h_plain(&head, H_ARGV("/usr/bin/git", "-C", repo, "rev-parse", "HEAD"));
	h_expect_exit(&head, 0);
	char sha[64];
	h_fmt(sha, sizeof sha, "%.40s", head.out);
	h_run_free(&head);
	same_run(H_ARGV("/usr/bin/git", "-C", repo, "log", "-n", "30", "--stat", "--format=%H %an %s",
			sha),
		 0);
	same_run(H_ARGV("/usr/bin/git", "-C", repo, "ls-tree", "-r", "--long", sha), 0);
}

/* A pipeline with a subshell and a command substitution: bash forks and execs; the exit
 * status is the last command's. */
static void test_bash_pipeline(void **state)
{
	size_t n = same_run(H_ARGV("/usr/bin/bash", "-c",
				   "seq 1 20000 | awk '{ s += $1 } END { print s }' | tr 0-9 a-j; "
				   "x=$(printf '%s\\n' c b a | sort | (read l; echo \"first $l\")); "
				   "echo \"$x\"; exit 7"),
			    7);
	assert_true(n >= 4);
}

/* The shortest programs, whose start-up the shim's own is cut to fit: /bin/true and /bin/false
 * exec'd by a shell, and fork children that exit at once, with a status and by a signal. Each
 * is as untraced, and each process leaves a trace that validates. */
static void test_short_lived(void **state)
{
	size_t n = same_run(H_ARGV("/bin/sh", "-c",
				   "/bin/true; echo \"true $?\"; /bin/false; echo \"false $?\"; "
				   "(exit 3); echo \"child $?\"; (kill -TERM $(exec sh -c 'echo $PPID'));"
				   " echo \"killed $?\"; exec /bin/true"),
			    0);
	assert_true(n >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_python_threads),
		cmocka_unit_test(test_perl),
		cmocka_unit_test(test_sort_large_file),
		cmocka_unit_test(test_gcc_compiles),
		cmocka_unit_test(test_git),
		cmocka_unit_test(test_bash_pipeline),
		cmocka_unit_test(test_short_lived),
	};
	return h_finish(cmocka_run_group_tests_name("real_programs", tests, NULL, NULL));
}
