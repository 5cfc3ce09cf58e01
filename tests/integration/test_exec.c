/* test_exec.c: every exec function completes the trace before the image is replaced, and a
 * failed call leaves tracing on (workload tests/workloads/exec_paths.c): execve, execv,
 * execvp, execvpe, execl, execlp, execle, fexecve, execveat by name and by descriptor. Each
 * runs untraced and traced with the same status and output; the first image's trace holds
 * every allocation it made, those after the failed exec included, and the new image writes
 * the next numbered trace of the same pid: one trace per image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

struct exec_case {
	const char *mode;
	int fail_errno; /* the errno of the failing call */
};

static const struct exec_case cases[] = {
	{"execve", ENOENT},   {"execv", ENOENT},    {"execvp", ENOENT},  {"execvpe", ENOENT},
	{"execl", ENOENT},    {"execlp", ENOENT},   {"execle", ENOENT},  {"fexecve", EACCES},
	{"execveat", ENOENT}, {"execveat_fd", EACCES},
};

/* summarize_image asserts path is a complete, valid trace of pid and summarizes it. */
static void summarize_image(const char *path, uint64_t pid, struct h_summary *s)
{
	memset(s, 0, sizeof *s);
	s->focus = "exec_paths";
	h_summarize_clean(path, s);
	assert_int_equal(s->pid, pid);
	h_validate(path);
}

static void test_exec(void **state)
{
	const struct exec_case *c = *state;
	char *const argv[] = {(char *)h_workload("exec_paths"), (char *)c->mode, NULL};
	struct h_run plain, r;
	h_plain(&plain, argv);
	h_traced(&r, NULL, argv);
	h_same_as_untraced(&r, &plain, c->mode);
	h_expect_exit(&r, 0);
	char line[128];
	h_fmt(line, sizeof line, "%s failed errno=%d\nchild allocs=4 frees=4\n", c->mode,
	      c->fail_errno);
	assert_string_equal(r.out, line);

	assert_int_equal(h_find_traces(r.dir, NULL, 0), 2);
	char first[PATH_MAX], second[PATH_MAX];
	h_fmt(first, sizeof first, "%s/t.%d.xt", r.dir, (int)r.pid);
	h_fmt(second, sizeof second, "%s/t.%d.1.xt", r.dir, (int)r.pid);
	struct h_summary a, b;
	summarize_image(first, (uint64_t)r.pid, &a);
	summarize_image(second, (uint64_t)r.pid, &b);
	if (a.my_allocs != 8 || a.my_frees != 3)
		fail_msg("%s: the first image's trace has %llu allocations and %llu frees; expected 8, 3",
			 c->mode, (unsigned long long)a.my_allocs, (unsigned long long)a.my_frees);
	assert_int_equal(b.my_allocs, 4);
	assert_int_equal(b.my_frees, 4);
	h_run_free(&plain);
	h_run_free(&r);
}

int main(void)
{
	enum { N = sizeof cases / sizeof cases[0] };
	struct CMUnitTest tests[N];
	for (size_t i = 0; i < N; i++)
		tests[i] = (struct CMUnitTest){cases[i].mode, test_exec, NULL, NULL, (void *)&cases[i]};
	return h_finish(_cmocka_run_group_tests("exec", tests, N, NULL, NULL));
}
