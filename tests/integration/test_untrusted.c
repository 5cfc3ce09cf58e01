/* test_untrusted.c: reading a trace nobody should trust. Its module table names a FIFO, a
 * device, a directory and a path that does not exist: every command that symbolizes must finish
 * without hanging or crashing; with --no-symbols no command opens any path the trace names
 * (checked with strace), while without it the symbolizer does open them (so the check can
 * fail). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "allocfree.h"
#include "harness.h"
#include "tracegen.h"

#define NMODS 4
static char mod_paths[NMODS][PATH_MAX];
static char exe_path[PATH_MAX];
static char trace_path[PATH_MAX];
static const char *work_dir;

/* make_trace writes a one-generation trace whose 4 modules are the paths above, with one
 * allocation whose stack has a frame in each. */
static void make_trace(void)
{
	work_dir = h_tmpdir();
	h_fmt(mod_paths[0], PATH_MAX, "%s/fifo.so", work_dir);
	h_fmt(mod_paths[1], PATH_MAX, "/dev/zero");
	h_fmt(mod_paths[2], PATH_MAX, "%s", work_dir);
	h_fmt(mod_paths[3], PATH_MAX, "%s/missing.so", work_dir);
	h_fmt(exe_path, PATH_MAX, "%s/exe-named-in-header", work_dir);
	h_fmt(trace_path, PATH_MAX, "%s/untrusted.xt", work_dir);
	if (mkfifo(mod_paths[0], 0600) != 0)
		fail_msg("mkfifo: %s", strerror(errno));
	struct tg_header h = tg_default_header;
	h.exe = exe_path;
	struct tg *t = tg_new(&h);
	tg_gen(t, 1);
	tg_batch(t, XT_BATCH_STRINGS, 0, 10);
	for (int i = 0; i < NMODS; i++)
		tg_string(t, (uint64_t)i + 1, mod_paths[i]);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_MODULES, 0, 10);
	uint64_t pcs[NMODS];
	for (int i = 0; i < NMODS; i++) {
		uint64_t base = 0x100000 * (uint64_t)(i + 1);
		tg_module(t, (uint64_t)i + 1, (uint64_t)i + 1, base, base, base + 0x10000, NULL, 0);
		pcs[i] = base + 0x123;
	}
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, 10);
	tg_stack(t, 1, NMODS, pcs);
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, 10);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, XT_API_MALLOC, 100, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, 7, 20);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, 1, 1);
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x6000, 1, 1);
	tg_event(t, XT_EV_ObjectFree, 1, 0x5000);
	tg_batch_end(t);
	tg_sync(t, 10, XT_TICKS_PER_SEC, 1700000000, 0);
	tg_end(t, 0);
	assert_int_equal(tg_write(t, trace_path, TG_ALL), 0);
	tg_free(t);
}

/* The commands that read a trace, each with what it needs besides the file. */
static const char *const commands[][5] = {
	{ "dump", "--stacks", NULL }, { "stats", NULL }, { "validate", NULL },
	{ "timers", NULL }, { "top", "--group", "stack", NULL }, { "leaks", NULL },
	{ "peak", NULL }, { "flame", NULL }, { "export", "--format", "csv", "-o", "-" },
	{ "report", "-o", "/dev/null", NULL }, { "diff", NULL },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* run_cmd runs command i on the trace (twice for diff) under timeout 30, optionally under
 * strace writing to log; returns the exit code. */
static int run_cmd(size_t i, bool no_symbols, const char *log, struct h_run *r)
{
	char *argv[32];
	size_t n = 0;
	if (log) {
		argv[n++] = "/usr/bin/strace";
		argv[n++] = "-f";
		argv[n++] = "-qq";
		/* whole paths: strace cuts strings at 32 bytes, and a cut path can look like one the
		 * trace names */
		argv[n++] = "-s";
		argv[n++] = "4096";
		argv[n++] = "-e";
		argv[n++] = "trace=open,openat,openat2,creat,execve,mknod,mknodat";
		argv[n++] = "-o";
		argv[n++] = (char *)log;
	}
	argv[n++] = "/usr/bin/timeout";
	argv[n++] = "30";
	argv[n++] = (char *)h_cli_path();
	for (int k = 0; k < 5 && commands[i][k]; k++)
		argv[n++] = (char *)commands[i][k];
	if (no_symbols)
		argv[n++] = "--no-symbols";
	argv[n++] = trace_path;
	if (!strcmp(commands[i][0], "diff"))
		argv[n++] = trace_path;
	argv[n] = NULL;
	if (h_spawn(r, work_dir, argv, NULL) != 0)
		fail_msg("cannot run %s", argv[0]);
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

/* opened_named counts the lines of the strace log that name a path the trace names. */
static size_t opened_named(const char *log)
{
	size_t len, n = 0;
	char *text = h_track(h_read_file(log, &len));
	if (!text)
		fail_msg("no strace log %s", log);
	for (char *line = text; line && *line;) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = 0;
		for (int m = 0; m < NMODS; m++) {
			char quoted[PATH_MAX + 2];
			h_fmt(quoted, sizeof quoted, "\"%s\"", mod_paths[m]);
			n += strstr(line, quoted) != NULL;
		}
		n += strstr(line, exe_path) != NULL;
		line = eol ? eol + 1 : NULL;
	}
	h_free(text);
	return n;
}

/* Symbolizing against a FIFO, a device, a directory and a missing file: every command ends,
 * with the trace's own verdict (validate finds the heap fine; all exit 0). */
static void test_hostile_module_paths_do_not_hang(void **state)
{
	make_trace();
	for (size_t i = 0; i < NCOMMANDS; i++) {
		struct h_run r;
		int rc = run_cmd(i, false, NULL, &r);
		if (rc != 0)
			fail_msg("xtrace %s on a trace naming a FIFO and a device: exit %d\n%s", commands[i][0],
				 rc, r.err);
		h_run_free(&r);
	}
}

/* With --no-symbols, no command opens a path the trace names; without it, the symbolizing
 * commands do, which shows the strace check sees such opens. */
static void test_no_symbols_opens_no_named_path(void **state)
{
	make_trace();
	char log[PATH_MAX];
	h_fmt(log, sizeof log, "%s/strace.log", work_dir);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		struct h_run r;
		int rc = run_cmd(i, true, log, &r);
		if (rc != 0)
			fail_msg("xtrace %s --no-symbols: exit %d\n%s", commands[i][0], rc, r.err);
		size_t n = opened_named(log);
		if (n)
			fail_msg("xtrace %s --no-symbols opened %zu paths the trace names (see %s)",
				 commands[i][0], n, log);
		h_run_free(&r);
	}
	struct h_run r;
	assert_int_equal(run_cmd(0, false, log, &r), 0); /* dump --stacks, symbolizing */
	assert_true(opened_named(log) > 0);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_module_paths_do_not_hang),
		cmocka_unit_test(test_no_symbols_opens_no_named_path),
	};
	return h_finish(cmocka_run_group_tests_name("untrusted", tests, NULL, NULL));
}
