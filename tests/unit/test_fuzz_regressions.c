/* test_fuzz_regressions.c: replays the fuzz corpus (tests/fuzz/corpus) and every input the
 * fuzzer once crashed on (tests/fuzz/regressions) through both fuzz targets' bodies, the reader
 * library and every analysis command, under the normal build (and the sanitizer builds, where
 * the tests run too). Each input runs in a child process, so a crash or a hang names its file. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuzz_targets.h"

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				buf = NULL;
			}
			buf = b;
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

/* replay runs both targets on path in a child; returns its wait status. */
static int replay(const char *path)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		alarm(60);
		size_t len;
		uint8_t *data = read_all(path, &len);
		if (!data)
			_exit(3);
		xt_fuzz_reader(data, len);
		xt_fuzz_cli(data, len);
		free(data);
		_exit(0);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	return st;
}

/* replay_dir replays every file of dir and returns how many there were. */
static size_t replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s (tests run from the repository root)", dir);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		int st = replay(path);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			closedir(d);
			fail_msg("%s: wait status 0x%x (signal %d)", path, st,
				 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		}
		n++;
	}
	closedir(d);
	return n;
}

static void test_corpus(void **state)
{
	(void)state;
	assert_true(replay_dir("tests/fuzz/corpus") >= 14);
}

static void test_regressions(void **state)
{
	(void)state;
	assert_true(replay_dir("tests/fuzz/regressions") >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_regressions),
	};
	return cmocka_run_group_tests_name("fuzz_regressions", tests, NULL, NULL);
}
