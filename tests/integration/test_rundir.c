/* test_rundir.c: `xtrace run` of a process tree into one run directory, and every analysis on
 * the directory. The tree: a launcher script (bash) that execs env, which execs the proctree
 * workload; its root forks child A (allocates, exits 3) and child B, which execs proctree again
 * (allocates, returns 4). Three processes, six process images, each with known heap use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "harness.h"

struct tree {
	char dir[PATH_MAX];    /* the run directory */
	struct h_run run;      /* xtrace run's own output and status */
	uint64_t root, a, b;   /* the pids: launcher/env/root, child A, child B */
	char *index;           /* index.json */
};

/* run_tree traces the tree under a launcher script into a new run directory. */
static void run_tree(struct tree *t)
{
	const char *tmp = h_tmpdir();
	char launch[PATH_MAX], script[PATH_MAX + 64];
	h_fmt(launch, sizeof launch, "%s/launch", tmp);
	h_fmt(script, sizeof script, "#!/bin/bash\nexec env %s \"$@\"\n", h_workload("proctree"));
	if (h_write_file(launch, script, strlen(script)) != 0 || chmod(launch, 0755) != 0)
		fail_msg("cannot write %s", launch);
	h_fmt(t->dir, sizeof t->dir, "%s/run", tmp);
	int rc = h_cli(&t->run, H_ARGV("run", "-o", t->dir, "--", launch));
	if (rc != 0)
		fail_msg("xtrace run exited %d; stderr: %s", rc, t->run.err);
	t->root = h_out_u64(t->run.out, "root pid=", "pid");
	t->a = h_out_u64(t->run.out, "child a pid=", "pid");
	t->b = h_out_u64(t->run.out, "again pid=", "pid");
	assert_non_null(strstr(t->run.out, "root a=3 b=4\n"));
	char path[PATH_MAX + 16];
	h_fmt(path, sizeof path, "%s/index.json", t->dir);
	t->index = h_track(h_read_file(path, NULL));
	if (!t->index)
		fail_msg("no index.json in %s", t->dir);
}

/* index_line returns the line of index.json that describes file (NUL-terminated copy). */
static char *index_line(const struct tree *t, uint64_t pid, int n)
{
	char key[64];
	h_fmt(key, sizeof key, "{\"file\": \"%llu.%d.xt\"", (unsigned long long)pid, n);
	const char *p = strstr(t->index, key);
	if (!p)
		fail_msg("index.json has no %s: %s", key, t->index);
	const char *e = strchr(p, '\n');
	size_t len = e ? (size_t)(e - p) : strlen(p);
	if (len && p[len - 1] == ',')
		len--;
	return h_track(strndup(p, len));
}

static void expect_has(const char *s, const char *what)
{
	if (!strstr(s, what))
		fail_msg("expected '%s' in: %s", what, s);
}

/* One trace file per process image, named <pid>.<n>.xt, and the index; nothing printed while
 * the tree ran, then the summary: one line, then the five largest images by events. */
static void test_run_directory(void **state)
{
	struct tree t;
	run_tree(&t);
	char paths[16][PATH_MAX], want[6][PATH_MAX];
	size_t n = h_find_traces(t.dir, paths, 16);
	assert_int_equal(n, 6);
	uint64_t pid[6] = {t.root, t.root, t.root, t.a, t.b, t.b};
	int num[6] = {0, 1, 2, 0, 0, 1};
	for (int i = 0; i < 6; i++)
		h_fmt(want[i], PATH_MAX, "%s/%llu.%d.xt", t.dir, (unsigned long long)pid[i], num[i]);
	for (int i = 0; i < 6; i++) {
		bool found = false;
		for (size_t k = 0; k < n; k++)
			found |= !strcmp(paths[k], want[i]);
		if (!found)
			fail_msg("no trace %s", want[i]);
	}
	/* stderr is the summary alone */
	assert_int_equal(h_count_lines(t.run.err), 6);
	char head[PATH_MAX + 64];
	h_fmt(head, sizeof head, "xtrace: run %s: 3 processes, 6 images, ", t.dir);
	if (strncmp(t.run.err, head, strlen(head)) != 0)
		fail_msg("summary starts '%s', not: %s", head, t.run.err);
	struct h_run s;
	assert_int_equal(h_cli(&s, H_ARGV("stats", "--json", t.dir)), 0);
	char events[64];
	h_fmt(events, sizeof events, "%llu events; largest:\n",
	      (unsigned long long)h_json_u64(s.out, "events"));
	expect_has(t.run.err, events);
	/* the largest by events is the launcher's bash; the smallest of all (B before its exec, one
	 * event: its ProcessEnd) is left out */
	char row[128];
	h_fmt(row, sizeof row, "\n  %llu ", (unsigned long long)t.root);
	expect_has(t.run.err, row);
	expect_has(t.run.err, "exec    /bin/bash ");
	expect_has(t.run.err, "exit 3  ");
	expect_has(t.run.err, "exit 4  proctree again\n");
	assert_null(strstr(t.run.err, " 1 events"));
	h_run_free(&s);

	/* a run directory is never mixed with another run: one that holds traces is refused, as
	 * is a file */
	assert_int_equal(h_cli(&s, H_ARGV("run", "-o", t.dir, "--", "/bin/true")), 1);
	expect_has(s.err, "already holds traces; name a new directory");
	assert_int_equal(h_find_traces(t.dir, paths, 16), 6);
	h_run_free(&s);
	char file[PATH_MAX + 16];
	h_fmt(file, sizeof file, "%s/index.json", t.dir);
	assert_int_equal(h_cli(&s, H_ARGV("run", "-o", file, "--", "/bin/true")), 1);
	expect_has(s.err, "is not a directory");
	h_run_free(&s);
}

/* The index: each image's process, parent, the image it was exec'd from, program, arguments,
 * how it ended and its own counts. */
static void test_run_index(void **state)
{
	struct tree t;
	run_tree(&t);
	char *bash = index_line(&t, t.root, 0), *env = index_line(&t, t.root, 1);
	char *root = index_line(&t, t.root, 2), *a = index_line(&t, t.a, 0);
	char *b0 = index_line(&t, t.b, 0), *b1 = index_line(&t, t.b, 1);
	expect_has(bash, "\"parent\": null, \"exec_from\": null, \"exe\": \"/usr/bin/bash\"");
	expect_has(bash, "\"end\": \"exec\", \"status\": 0");
	expect_has(env, "\"exec_from\": \"");
	char link[64];
	h_fmt(link, sizeof link, "\"exec_from\": \"%llu.0.xt\"", (unsigned long long)t.root);
	expect_has(env, link);
	expect_has(env, "\"end\": \"exec\"");
	h_fmt(link, sizeof link, "\"exec_from\": \"%llu.1.xt\"", (unsigned long long)t.root);
	expect_has(root, link);
	expect_has(root, "\"end\": \"exit\", \"status\": 0");
	h_fmt(link, sizeof link, "\"parent\": \"%llu.2.xt\", \"exec_from\": null",
	      (unsigned long long)t.root);
	expect_has(a, link);
	expect_has(b0, link);
	expect_has(a, "\"end\": \"exit\", \"status\": 3");
	expect_has(b0, "\"end\": \"exec\"");
	h_fmt(link, sizeof link, "\"exec_from\": \"%llu.0.xt\"", (unsigned long long)t.b);
	expect_has(b1, link);
	expect_has(b1, "\"argv\": [\"proctree\", \"again\"]");
	expect_has(b1, "\"end\": \"exit\", \"status\": 4");
	assert_int_equal(h_json_u64(root, "allocs"), 4);
	assert_int_equal(h_json_u64(root, "frees"), 4);
	assert_int_equal(h_json_u64(root, "peak_live_bytes"), 400);
	assert_int_equal(h_json_u64(a, "allocs"), 6);
	assert_int_equal(h_json_u64(a, "frees"), 4);
	assert_int_equal(h_json_u64(a, "live_bytes_at_end"), 2000);
	assert_int_equal(h_json_u64(b0, "allocs"), 0);
	assert_int_equal(h_json_u64(b0, "events"), 1);
	assert_int_equal(h_json_u64(b1, "alloc_bytes"), 10000);
	assert_int_equal(h_json_u64(b1, "peak_live_bytes"), 10000);
	assert_int_equal(h_json_u64(b1, "ppid"), t.root);
}

/* stats of the run: the tree's totals (the peak is the largest sum of live heaps at one time)
 * and a row per image; --exe and --pid choose images. */
static void test_run_stats(void **state)
{
	struct tree t;
	run_tree(&t);
	struct h_run s;
	assert_int_equal(h_cli(&s, H_ARGV("stats", "--json", "--exe", "proctree", t.dir)), 0);
	assert_int_equal(h_json_u64(s.out, "images"), 4);
	assert_int_equal(h_json_u64(s.out, "process_count"), 3);
	assert_int_equal(h_json_u64(s.out, "allocs"), 12);
	assert_int_equal(h_json_u64(s.out, "frees"), 10);
	assert_int_equal(h_json_u64(s.out, "alloc_bytes"), 16400);
	/* the root's 300 B beside the exec'd image's 10,000 (child A's 6,000 had only 300) */
	assert_int_equal(h_json_u64(s.out, "peak_live_bytes"), 10300);
	assert_int_equal(h_json_u64(s.out, "live_bytes_at_end"), 2000);
	assert_int_equal(h_json_u64(s.out, "by_api.malloc.calls"), 12);
	/* and the main thread's stack (StackAlloc) of the two images that did not begin at a fork */
	assert_int_equal(h_json_u64(s.out, "events"), 12 + 10 + 4 + 2);
	h_run_free(&s);

	char pid[32];
	h_fmt(pid, sizeof pid, "%llu", (unsigned long long)t.a);
	assert_int_equal(h_cli(&s, H_ARGV("stats", "--json", "--pid", pid, t.dir)), 0);
	assert_int_equal(h_json_u64(s.out, "allocs"), 6);
	assert_int_equal(h_json_u64(s.out, "peak_live_bytes"), 6000);
	h_run_free(&s);

	/* all six: the totals are the rows' sums */
	assert_int_equal(h_cli(&s, H_ARGV("stats", "--json", t.dir)), 0);
	assert_int_equal(h_json_u64(s.out, "images"), 6);
	uint64_t allocs = 0, events = 0;
	for (const char *p = s.out; (p = strstr(p, "\n    {\"file\"")); p++) {
		allocs += h_json_u64(p + 5, "allocs");
		events += h_json_u64(p + 5, "events");
	}
	assert_int_equal(allocs, h_json_u64(s.out, "allocs"));
	assert_int_equal(events, h_json_u64(s.out, "events"));
	h_run_free(&s);

	/* text: the tree, each image under its parent */
	assert_int_equal(h_cli(&s, H_ARGV("stats", t.dir)), 0);
	expect_has(s.out, "run      ");
	expect_has(s.out, "(3 processes, 6 images)");
	/* two spaces a level: bash, env, the root, B before its exec, B's exec'd image */
	expect_has(s.out, "exit 4          proctree again\n");
	expect_has(s.out, "exit 3        /");
	h_run_free(&s);
}

/* count_sections counts the lines that open an image's section. */
static size_t count_sections(const char *out)
{
	return h_count_substr(out, "== pid ");
}

/* Every analysis takes the run: once per image, or over the tree. */
static void test_run_commands(void **state)
{
	struct tree t;
	run_tree(&t);
	struct h_run c;
	char *const per_image[][3] = {{"top", NULL}, {"leaks", NULL}, {"timers", NULL},
				      {"validate", NULL}, {"dump", NULL}};
	for (size_t i = 0; i < sizeof per_image / sizeof per_image[0]; i++) {
		assert_int_equal(h_cli(&c, H_ARGV(per_image[i][0], t.dir)), 0);
		assert_int_equal(count_sections(c.out), 6);
		h_run_free(&c);
		assert_int_equal(h_cli(&c, H_ARGV(per_image[i][0], "--exe", "proctree", t.dir)), 0);
		assert_int_equal(count_sections(c.out), 4);
		h_run_free(&c);
	}
	char pid[32];
	h_fmt(pid, sizeof pid, "%llu", (unsigned long long)t.a);
	assert_int_equal(h_cli(&c, H_ARGV("leaks", "--pid", pid, t.dir)), 0);
	assert_int_equal(count_sections(c.out), 1);
	expect_has(c.out, "2 objects (1.95 KiB) live at the end, from 1 sites");
	h_run_free(&c);
	assert_int_equal(h_cli(&c, H_ARGV("top", "--json", "--exe", "proctree", t.dir)), 0);
	assert_int_equal(h_count_substr(c.out, "\"output\":"), 4);
	h_run_free(&c);

	/* peak: the tree's, with each process's share, then each image's own */
	assert_int_equal(h_cli(&c, H_ARGV("peak", "--json", "--exe", "proctree", t.dir)), 0);
	assert_int_equal(h_json_u64(c.out, "peak_bytes"), 10300);
	char part[96];
	h_fmt(part, sizeof part, "{\"file\": \"%llu.2.xt\", \"pid\": %llu", (unsigned long long)t.root,
	      (unsigned long long)t.root);
	expect_has(c.out, part);
	expect_has(c.out, "\"bytes\": 300}");
	expect_has(c.out, "\"bytes\": 10000}");
	assert_int_equal(h_count_substr(c.out, "\"output\":"), 4);
	h_run_free(&c);
	assert_int_equal(h_cli(&c, H_ARGV("peak", "--exe", "proctree", t.dir)), 0);
	expect_has(c.out, "peak 10.05 KiB at ");
	expect_has(c.out, "  97.1%  proctree again\n");
	h_run_free(&c);

	/* flame: the program's name is the root frame; the values add up to the bytes */
	assert_int_equal(h_cli(&c, H_ARGV("flame", "--exe", "proctree", t.dir)), 0);
	uint64_t sum = 0;
	size_t lines = 0;
	for (const char *p = c.out; *p; lines++) {
		if (strncmp(p, "proctree;", 9) != 0)
			fail_msg("a flame line without the program's root frame: %s", p);
		const char *e = strchr(p, '\n');
		const char *sp = e;
		while (sp > p && sp[-1] != ' ')
			sp--;
		sum += strtoull(sp, NULL, 10);
		p = e + 1;
	}
	assert_int_equal(sum, 16400);
	/* the root's and child A's allocations share a stack in one program: one line */
	assert_int_equal(lines, 2);
	expect_has(c.out, ";main 6400\n");
	expect_has(c.out, ";main;again 10000\n");
	h_run_free(&c);

	/* export: one output; csv rows carry the pid, one per event */
	assert_int_equal(h_cli(&c, H_ARGV("export", "--format", "csv", "-o", "-", "--exe", "proctree",
					  t.dir)), 0);
	assert_int_equal(h_count_lines(c.out), 1 + 28);
	h_fmt(part, sizeof part, "\n%llu,1,", (unsigned long long)t.a);
	expect_has(c.out, part);
	h_run_free(&c);
	char out[PATH_MAX + 16];
	h_fmt(out, sizeof out, "%s/../chrome.json", t.dir);
	assert_int_equal(h_cli(&c, H_ARGV("export", "--format", "chrome", "-o", out, t.dir)), 0);
	char *json = h_track(h_read_file(out, NULL));
	assert_int_equal(h_count_substr(json, "\"process_name\""), 6);
	h_run_free(&c);

	/* report: every image of the tree in the page's data */
	h_fmt(out, sizeof out, "%s/../report.html", t.dir);
	assert_int_equal(h_cli(&c, H_ARGV("report", "-o", out, t.dir)), 0);
	char *html = h_track(h_read_file(out, NULL));
	assert_int_equal(h_count_substr(html, "{\"pid\": "), 6);
	assert_int_equal(h_count_substr(html, ", \"program\": \"proctree\""), 4);
	h_run_free(&c);
	/* in the page: every process, then child A alone (6 x 1000 B), then none of its threads */
	char apid[32], shots[PATH_MAX];
	h_fmt(apid, sizeof apid, "%llu", (unsigned long long)t.a);
	h_fmt(shots, sizeof shots, "%s/report-screenshots", h_build_dir());
	char *seen = h_browse(H_ARGV("--select", out, shots, apid));
	expect_has(seen, "\"errors\": []");
	assert_true(h_json_u64(seen, "all.bytes") > 6000);
	assert_true(h_json_u64(seen, "all.threads") > 1);
	assert_int_equal(h_json_u64(seen, "one.bytes"), 6000);
	assert_int_equal(h_json_u64(seen, "one.flame"), 6000);
	assert_int_equal(h_json_u64(seen, "one.threads"), 1);
	expect_has(seen, "\"programs\": [\n   \"proctree\"\n  ]");
	assert_int_equal(h_json_u64(seen, "no_thread.bytes"), 0);
	assert_int_equal(h_json_u64(seen, "no_thread.flame"), 0);

	/* diff: the processes of two runs matched by place in the tree */
	struct tree t2;
	run_tree(&t2);
	assert_int_equal(h_cli(&c, H_ARGV("diff", "--exe", "proctree", t.dir, t2.dir)), 0);
	assert_int_equal(h_count_substr(c.out, "== pid "), 4);
	h_fmt(part, sizeof part, "== pid %llu vs %llu proctree again", (unsigned long long)t.b,
	      (unsigned long long)t2.b);
	expect_has(c.out, part);
	assert_null(strstr(c.out, "only in"));
	h_run_free(&c);
}

/* A process killed by SIGKILL leaves a trace without its end; the run's index is written all
 * the same, and a root killed so makes xtrace run die the same way. */
static void test_run_killed(void **state)
{
	char dir[PATH_MAX];
	h_fmt(dir, sizeof dir, "%s/run", h_tmpdir());
	struct h_run c;
	int rc = h_cli(&c, H_ARGV("run", "-o", dir, "--", "/bin/bash", "-c",
				  "/bin/sh -c 'kill -9 $$'; exit 5"));
	assert_int_equal(rc, 5);
	char path[PATH_MAX + 16];
	h_fmt(path, sizeof path, "%s/index.json", dir);
	char *index = h_track(h_read_file(path, NULL));
	assert_non_null(index);
	expect_has(index, "\"end\": null, \"status\": null");
	expect_has(index, "\"end\": \"exit\", \"status\": 5");
	h_run_free(&c);

	h_fmt(dir, sizeof dir, "%s/run", h_tmpdir());
	rc = h_cli(&c, H_ARGV("run", "-o", dir, "--", "/bin/sh", "-c", "kill -9 $$"));
	assert_int_equal(rc, 128 + 9);
	h_fmt(path, sizeof path, "%s/index.json", dir);
	index = h_track(h_read_file(path, NULL));
	assert_non_null(index);
	expect_has(index, "\"end\": \"signal\", \"status\": 9");
	h_run_free(&c);
	/* its trace was cut: stats reads what there is and says so */
	assert_int_equal(h_cli(&c, H_ARGV("stats", dir)), 3);
	h_run_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_directory),
		cmocka_unit_test(test_run_index),
		cmocka_unit_test(test_run_stats),
		cmocka_unit_test(test_run_commands),
		cmocka_unit_test(test_run_killed),
	};
	return h_finish(cmocka_run_group_tests_name("rundir", tests, NULL, NULL));
}
