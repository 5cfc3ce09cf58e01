/* clirun.c: running a subcommand in-process (see clirun.h). */
#include "clirun.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

int run_argv(int (*fn)(int, char **, const struct xt_command *), char **argv, char **out)
{
	/* a run directory runs the command again per image, through cmd.fn */
	const struct xt_command cmd = {"test", "", fn, "test\n"};
	int argc = 0;
	while (argv[argc])
		argc++;
	FILE *f = tmpfile();
	assert_non_null(f);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	dup2(fileno(f), STDOUT_FILENO);
	dup2(fileno(f), STDERR_FILENO);
	int code = fn(argc, argv, &cmd);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	off_t n = lseek(fileno(f), 0, SEEK_END);
	*out = calloc(1, (size_t)n + 1);
	assert_non_null(*out);
	assert_int_equal(pread(fileno(f), *out, (size_t)n, 0), n);
	fclose(f);
	return code;
}

int run_cmd(int (*fn)(int, char **, const struct xt_command *), const char *name,
	    const char *opt, const char *path, char **out)
{
	char *argv[] = {(char *)name, (char *)(opt ? opt : path), (char *)(opt ? path : NULL), NULL};
	return run_argv(fn, argv, out);
}


void tmp_output(char *template)
{
	int fd = mkstemp(template);
	assert_true(fd >= 0);
	close(fd);
}

char *read_output(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}
