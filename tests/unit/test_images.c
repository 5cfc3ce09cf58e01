/* test_images.c: the process images of a run directory (reader/analysis/images.c): links by
 * exec, fork and parent pid, tree order, selection, the tree's peak, place keys, and what a
 * crafted directory cannot make of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "allocfree.h"
#include "analysis/images.h"
#include "tracegen.h"

enum { T_BYTE = 1 }; /* type: malloc of 1 byte x count in the element size */

/* One image: header fields, then events at absolute times, then how it ended. */
struct ev {
	uint64_t ts;
	int alloc; /* 1 alloc, 0 free */
	uint64_t addr, bytes;
};

struct img {
	const char *name;
	uint64_t pid, ppid, fork_parent_pid, fork_ts, start_ts;
	const char *exe;
	struct ev ev[4];
	size_t nev;
	uint64_t end_how, end_status, end_ts; /* end_how 0: none */
};

static char dir[64];

static void write_image(const struct img *im)
{
	struct tg_header h = tg_default_header;
	h.pid = im->pid;
	h.ppid = im->ppid;
	h.fork_parent_pid = im->fork_parent_pid;
	h.fork_ts = im->fork_ts;
	h.start_ts = im->start_ts;
	h.exe = im->exe;
	const char *slash = strrchr(im->exe, '/');
	h.cmdline = slash + 1;
	h.cmdline_len = strlen(slash + 1) + 1;
	struct tg *t = tg_new(&h);
	tg_gen(t, 1);
	tg_sync(t, im->start_ts, XT_TICKS_PER_SEC, 1700000000, 0);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, im->start_ts);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	/* a type per size used: element size = bytes */
	for (size_t i = 0; i < im->nev; i++)
		if (im->ev[i].alloc)
			tg_alloc_type(t, 10 + i, XT_API_MALLOC, im->ev[i].bytes, 1, 0);
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_EVENTS, im->pid, im->start_ts);
	uint64_t now = im->start_ts;
	for (size_t i = 0; i < im->nev; i++) {
		const struct ev *e = &im->ev[i];
		if (e->alloc)
			tg_event(t, XT_EV_ObjectAlloc, e->ts - now, e->addr, 10 + i, 0);
		else
			tg_event(t, XT_EV_ObjectFree, e->ts - now, e->addr);
		now = e->ts;
	}
	if (im->end_how)
		tg_event(t, XT_EV_ProcessEnd, im->end_ts - now, im->end_how, im->end_status);
	tg_batch_end(t);
	tg_end(t, 1);
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, im->name);
	assert_int_equal(tg_write(t, path, TG_ALL), 0);
	tg_free(t);
}

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/xtrace-images.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* find returns the run index of the image in file name. */
static long find(const struct xt_run *run, const char *name)
{
	for (size_t i = 0; i < run->count; i++)
		if (!strcmp(run->img[i].name, name))
			return (long)i;
	fail_msg("no image %s", name);
	return -1;
}

/* A launcher (bash, exec env, exec prog), a forked child, a spawned tool (no fork parent: its
 * parent is its ppid's image then), and a later process that got the forked child's pid again. */
static const struct img tree[] = {
	{"100.0.xt", 100, 1, 0, 0, 1000, "/bin/bash", {{0}}, 0, XT_END_EXEC, 0, 1500},
	{"100.1.xt", 100, 1, 0, 0, 2000, "/usr/bin/env", {{0}}, 0, XT_END_EXEC, 0, 2500},
	{"100.2.xt", 100, 1, 0, 0, 3000, "/x/prog",
	 {{3100, 1, 0x10, 100}, {8000, 0, 0x10, 0}}, 2, XT_END_EXIT, 0, 9000},
	{"200.0.xt", 200, 100, 100, 4000, 4000, "/x/prog", {{4100, 1, 0x20, 1000}}, 1,
	 XT_END_EXIT, 3, 5000},
	{"300.0.xt", 300, 100, 0, 0, 6000, "/x/tool", {{6100, 1, 0x30, 2000}}, 1, XT_END_EXIT, 0,
	 6500},
	{"200.1.xt", 200, 100, 0, 0, 7000, "/x/tool", {{7100, 1, 0x40, 300}}, 1, XT_END_SIGNAL, 9,
	 7200},
};

static void write_tree(void)
{
	make_dir();
	for (size_t i = 0; i < sizeof tree / sizeof tree[0]; i++)
		write_image(&tree[i]);
}

static void test_links(void **state)
{
	write_tree();
	struct xt_run run;
	char err[256];
	assert_int_equal(xt_run_open(&run, dir, err, sizeof err), 0);
	assert_int_equal(run.count, 6);
	assert_int_equal(run.unreadable, 0);
	long bash = find(&run, "100.0.xt"), env = find(&run, "100.1.xt"), prog = find(&run, "100.2.xt");
	long kid = find(&run, "200.0.xt"), tool = find(&run, "300.0.xt"), again = find(&run, "200.1.xt");
	/* in start order */
	assert_true(bash < env && env < prog && prog < kid && kid < tool && tool < again);
	/* before the scan, a later image of a pid that did not begin as a fork continues it */
	assert_int_equal(run.img[again].exec_from, kid);
	assert_int_equal(xt_run_scan(&run, NULL, NULL), XTRACE_OK);
	assert_int_equal(run.img[env].exec_from, bash);
	assert_int_equal(run.img[prog].exec_from, env);
	assert_int_equal(run.img[prog].parent, env);
	assert_int_equal(run.img[kid].exec_from, -1);
	assert_int_equal(run.img[kid].parent, prog);
	assert_int_equal(run.img[tool].parent, prog);
	/* the first 200 exited: the second is a new process of its parent pid, 100 */
	assert_int_equal(run.img[again].exec_from, -1);
	assert_int_equal(run.img[again].parent, prog);
	assert_int_equal(run.img[prog].depth, 2);
	assert_int_equal(run.img[again].depth, 3);
	assert_int_equal(run.img[kid].end, XT_END_EXIT);
	assert_int_equal(run.img[kid].end_status, 3);
	assert_int_equal(run.img[again].end, XT_END_SIGNAL);
	assert_int_equal(run.img[prog].t.allocs, 1);
	/* tree order: each after its parent, children in start order */
	const long want[] = {bash, env, prog, kid, tool, again};
	for (size_t k = 0; k < 6; k++)
		assert_int_equal(run.order[k], want[k]);
	assert_int_equal(xt_run_select(&run, 0, "prog"), 2);
	assert_int_equal(xt_run_select(&run, 200, NULL), 2);
	assert_int_equal(xt_run_select(&run, 200, "/x/tool"), 1);
	assert_int_equal(xt_run_select(&run, 4242, NULL), 0);
	xt_run_free(&run);
	remove_dir();
}

/* The tree's peak: C's 100 B with the tool's 2000 B; the forked child's 1000 B stopped counting
 * when it ended, so 3100 B never were live at once. */
static void test_tree_peak(void **state)
{
	write_tree();
	struct xt_run run;
	char err[256];
	assert_int_equal(xt_run_open(&run, dir, err, sizeof err), 0);
	struct xt_run_peak pk;
	assert_int_equal(xt_run_peak_read(&run, NULL, &pk), XTRACE_OK);
	assert_int_equal(pk.bytes, 2100);
	assert_int_equal(pk.ts, 6100);
	assert_int_equal(pk.live[find(&run, "100.2.xt")], 100);
	assert_int_equal(pk.live[find(&run, "300.0.xt")], 2000);
	assert_int_equal(pk.live[find(&run, "200.0.xt")], 0);
	free(pk.live);
	/* without the tool: the child's 1000 B beside C's 100 */
	xt_run_select(&run, 0, "prog");
	assert_int_equal(xt_run_peak_read(&run, NULL, &pk), XTRACE_OK);
	assert_int_equal(pk.bytes, 1100);
	assert_int_equal(pk.ts, 4100);
	free(pk.live);
	xt_run_free(&run);
	remove_dir();
}

/* Place keys: the same tree written twice matches image for image; two siblings of one program
 * differ by their rank. */
static void test_place_keys(void **state)
{
	write_tree();
	struct xt_run run;
	char err[256];
	assert_int_equal(xt_run_open(&run, dir, err, sizeof err), 0);
	assert_int_equal(xt_run_scan(&run, NULL, NULL), XTRACE_OK);
	uint64_t keys[6];
	assert_int_equal(xt_run_place_keys(&run, keys), 0);
	for (size_t i = 0; i < 6; i++)
		for (size_t j = 0; j < i; j++)
			assert_true(keys[i] != keys[j]);
	/* the tool and the second 200 are both /x/tool children of prog: told apart by rank */
	long tool = find(&run, "300.0.xt"), again = find(&run, "200.1.xt");
	assert_int_equal(run.img[tool].parent, run.img[again].parent);
	xt_run_free(&run);
	remove_dir();
	write_tree();
	struct xt_run run2;
	assert_int_equal(xt_run_open(&run2, dir, err, sizeof err), 0);
	assert_int_equal(xt_run_scan(&run2, NULL, NULL), XTRACE_OK);
	uint64_t keys2[6];
	assert_int_equal(xt_run_place_keys(&run2, keys2), 0);
	assert_memory_equal(keys, keys2, sizeof keys);
	xt_run_free(&run2);
	remove_dir();
}

/* Crafted headers: a fork that claims a time before its parent's image began, and a parent
 * that starts after its child, make roots, never a cycle; a *.xt file that is no trace is
 * counted and left out; an empty directory is an error. */
static void test_crafted(void **state)
{
	make_dir();
	const struct img bad[] = {
		{"1.0.xt", 1, 2, 0, 0, 5000, "/a", {{0}}, 0, 0, 0, 0},
		{"2.0.xt", 2, 1, 1, 100, 6000, "/b", {{0}}, 0, 0, 0, 0},
		{"3.0.xt", 3, 4, 4, 7000, 7000, "/c", {{0}}, 0, 0, 0, 0},
		{"4.0.xt", 4, 3, 0, 0, 8000, "/d", {{0}}, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < 4; i++)
		write_image(&bad[i]);
	char path[128];
	snprintf(path, sizeof path, "%s/junk.xt", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a trace", f);
	fclose(f);
	struct xt_run run;
	char err[256];
	assert_int_equal(xt_run_open(&run, dir, err, sizeof err), 0);
	assert_int_equal(run.count, 4);
	assert_int_equal(run.unreadable, 1);
	assert_int_equal(xt_run_scan(&run, NULL, NULL), XTRACE_OK);
	/* 1's parent pid 2 started later; 2 forked from 1 before 1 began; 3's fork parent 4 started
	 * later; 4's ppid 3 did start before it */
	assert_int_equal(run.img[find(&run, "1.0.xt")].parent, -1);
	assert_int_equal(run.img[find(&run, "2.0.xt")].parent, -1);
	assert_int_equal(run.img[find(&run, "3.0.xt")].parent, -1);
	assert_int_equal(run.img[find(&run, "4.0.xt")].parent, find(&run, "3.0.xt"));
	for (size_t i = 0; i < run.count; i++)
		assert_true(run.img[i].parent < (long)i);
	xt_run_free(&run);
	remove_dir();
	make_dir();
	assert_int_equal(xt_run_open(&run, dir, err, sizeof err), -1);
	assert_non_null(strstr(err, "no trace files"));
	remove_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_tree_peak),
		cmocka_unit_test(test_place_keys),
		cmocka_unit_test(test_crafted),
	};
	return cmocka_run_group_tests_name("images", tests, NULL, NULL);
}
