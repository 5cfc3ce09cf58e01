/* test_bench.c: `make bench`'s table. The report's arithmetic on measurements made up so that
 * every figure is known (medians of per-round ratios and differences, the floor line, which
 * targets are met), and one short run of scripts/bench.sh end to end: every row of the table
 * is there, with numbers in it. No timing is asserted: only what the table says about the
 * measurements it was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "tracegen.h"
#include "varint.h"

/* line_of returns a copy (h_track'ed) of the first line of out that starts with prefix after
 * any spaces, or fails the test. */
static char *line_of(const char *out, const char *prefix)
{
	for (const char *p = out; *p;) {
		size_t len = strcspn(p, "\n");
		const char *s = p + strspn(p, " ");
		if (!strncmp(s, prefix, strlen(prefix))) {
			char *line = h_track(malloc(len + 1));
			memcpy(line, p, len);
			line[len] = 0;
			return line;
		}
		p += len + (p[len] == '\n');
	}
	fail_msg("no line starting \"%s\" in:\n%s", prefix, out);
	return NULL;
}

/* has_cell asserts that line holds cell as a whole space-separated word. */
static void has_cell(const char *line, const char *cell)
{
	size_t n = strlen(cell);
	for (const char *p = strstr(line, cell); p; p = strstr(p + 1, cell))
		if ((p == line || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return;
	fail_msg("no cell \"%s\" in \"%s\"", cell, line);
}

/* Three rounds of made-up measurements, one "KEY<TAB>VALUE" line each, as bench.sh writes them.
 * Per round: dwarf wall ratios 3.0, 2.5, 4.0 (median 3.00, at the <= 3 target); +CPU ns/event
 * 100, 100, 125 (median 100); none 2.0 each; 4 B/event raw, 2 through zstd; heaptrack 1.5
 * B/event; stats 5x and dump 2.5x heaptrack_print; a 10 ns clock read against 50, 100, 50 ns
 * of untraced CPU per event (median 50: floor 1.20). perl: 1.2, 1.5, 1.3 x untraced (median
 * 1.30, at its target), heaptrack 4x; /bin/true 1.0 ms untraced, +1.5, +0.5, +2.0 ms traced
 * (median +1.500, missed), +0.2 ms with the shim loaded but not recording; a fork child +1.5 ms
 * traced, +0.5 ms not recording. perl not recording 1.1x, with no walk 1.2x. Size floors (zstd
 * bytes): mtloop's times 0.25 B/event, + kinds 0.40, + addresses 1.20, all its events' fields
 * 1.90; perl's 1000000 events 0.60, 0.70, 1.50 and 1.55 against a file of 1.60 and heaptrack's
 * 0.31 (missed). The reader alone: 10x heaptrack_print. */
static const char report_tsv[] =
	"meta.threads\t2\nmeta.iters\t1000000\nmeta.rounds\t3\nmeta.big\t0\nmeta.scale\t0\n"
	"main.untraced.wall\t0.10\nmain.untraced.cpu\t0.2\nmain.untraced.rss\t1024\n"
	"main.untraced.wall\t0.20\nmain.untraced.cpu\t0.4\nmain.untraced.rss\t1024\n"
	"main.untraced.wall\t0.10\nmain.untraced.cpu\t0.2\nmain.untraced.rss\t1024\n"
	"main.dwarf.wall\t0.30\nmain.dwarf.cpu\t0.6\nmain.dwarf.rss\t3072\n"
	"main.dwarf.wall\t0.50\nmain.dwarf.cpu\t0.8\nmain.dwarf.rss\t3072\n"
	"main.dwarf.wall\t0.40\nmain.dwarf.cpu\t0.7\nmain.dwarf.rss\t3072\n"
	"main.dwarf.events\t4000000\nmain.dwarf.events\t4000000\nmain.dwarf.events\t4000000\n"
	"main.dwarf.bytes\t16000000\nmain.dwarf.bytes\t16000000\nmain.dwarf.bytes\t16000000\n"
	"main.dwarf.zbytes\t8000000\nmain.dwarf.zbytes\t8000000\nmain.dwarf.zbytes\t8000000\n"
	"main.none.wall\t0.20\nmain.none.cpu\t0.3\nmain.none.rss\t2048\n"
	"main.none.wall\t0.40\nmain.none.cpu\t0.5\nmain.none.rss\t2048\n"
	"main.none.wall\t0.20\nmain.none.cpu\t0.3\nmain.none.rss\t2048\n"
	"main.none.events\t4000000\nmain.none.events\t4000000\nmain.none.events\t4000000\n"
	"main.none.bytes\t16000000\nmain.none.bytes\t16000000\nmain.none.bytes\t16000000\n"
	"main.none.zbytes\t8000000\nmain.none.zbytes\t8000000\nmain.none.zbytes\t8000000\n"
	"main.heaptrack.wall\t2.0\nmain.heaptrack.wall\t2.0\nmain.heaptrack.wall\t2.0\n"
	"main.heaptrack.cpu\t3.0\nmain.heaptrack.cpu\t3.0\nmain.heaptrack.cpu\t3.0\n"
	"main.heaptrack.app.cpu\t1.0\nmain.heaptrack.app.cpu\t1.0\nmain.heaptrack.app.cpu\t1.0\n"
	"main.heaptrack.app.rss\t4096\nmain.heaptrack.app.rss\t4096\nmain.heaptrack.app.rss\t4096\n"
	"main.heaptrack.interp.rss\t102400\nmain.heaptrack.interp.rss\t102400\n"
	"main.heaptrack.interp.rss\t102400\n"
	"main.heaptrack.bytes\t6000000\nmain.heaptrack.bytes\t6000000\nmain.heaptrack.bytes\t6000000\n"
	"main.heaptrack.rawbytes\t20000000\nmain.heaptrack.rawbytes\t20000000\n"
	"main.heaptrack.rawbytes\t20000000\n"
	"floor.clock_ns\t10\nfloor.clock_ns\t10\nfloor.clock_ns\t10\n"
	"main.xtstats.wall\t0.1\nmain.xtstats.rss\t20480\nmain.xtstats.wall\t0.1\n"
	"main.xtstats.rss\t20480\nmain.xtstats.wall\t0.1\nmain.xtstats.rss\t20480\n"
	"main.xtdump.wall\t0.2\nmain.xtdump.rss\t20480\nmain.xtdump.wall\t0.2\n"
	"main.xtdump.rss\t20480\nmain.xtdump.wall\t0.2\nmain.xtdump.rss\t20480\n"
	"main.htprint.wall\t0.5\nmain.htprint.rss\t51200\nmain.htprint.wall\t0.5\n"
	"main.htprint.rss\t51200\nmain.htprint.wall\t0.5\nmain.htprint.rss\t51200\n"
	"prog.perl.untraced.wall\t1.0\nprog.perl.untraced.wall\t1.0\nprog.perl.untraced.wall\t1.0\n"
	"prog.perl.dwarf.wall\t1.2\nprog.perl.dwarf.wall\t1.5\nprog.perl.dwarf.wall\t1.3\n"
	"prog.perl.heaptrack.wall\t4.0\nprog.perl.heaptrack.wall\t4.0\nprog.perl.heaptrack.wall\t4.0\n"
	"start.true.untraced.wall\t0.001\nstart.true.untraced.wall\t0.001\n"
	"start.true.untraced.wall\t0.001\nstart.true.dwarf.wall\t0.0025\n"
	"start.true.dwarf.wall\t0.0015\nstart.true.dwarf.wall\t0.003\n"
	"start.true.interposed.wall\t0.0012\nstart.true.interposed.wall\t0.0012\n"
	"start.true.interposed.wall\t0.0012\n"
	"start.fork.untraced.wall\t0.001\nstart.fork.dwarf.wall\t0.0025\n"
	"start.fork.interposed.wall\t0.0015\n"
	"prog.perl.interposed.wall\t1.1\nprog.perl.interposed.wall\t1.1\nprog.perl.interposed.wall\t1.1\n"
	"prog.perl.none.wall\t1.2\nprog.perl.none.wall\t1.2\nprog.perl.none.wall\t1.2\n"
	"main.dwarf.floor.time\t1000000\nmain.dwarf.floor.kind\t1600000\n"
	"main.dwarf.floor.addr\t4800000\nmain.dwarf.floor.events\t7600000\n"
	"prog.perl.dwarf.events\t1000000\nprog.perl.dwarf.bytes\t1600000\n"
	"prog.perl.heaptrack.bytes\t310000\nprog.perl.dwarf.floor.time\t600000\n"
	"prog.perl.dwarf.floor.kind\t700000\nprog.perl.dwarf.floor.addr\t1500000\n"
	"prog.perl.dwarf.floor.events\t1550000\n"
	"main.xtread.wall\t0.05\nmain.xtread.wall\t0.05\nmain.xtread.wall\t0.05\n"
	"main.xtread.rss\t10240\nmain.xtread.rss\t10240\nmain.xtread.rss\t10240\n";

static void test_report_arithmetic(void **state)
{
	char tsv[PATH_MAX], report[PATH_MAX];
	h_fmt(tsv, sizeof tsv, "%s/bench.tsv", h_tmpdir());
	assert_int_equal(h_write_file(tsv, report_tsv, sizeof report_tsv - 1), 0);
	if (!realpath("scripts/bench-report.py", report))
		fail_msg("run from the repository root: no scripts/bench-report.py");
	struct h_run r;
	if (h_spawn(&r, h_tmpdir(), H_ARGV("/usr/bin/python3", report, tsv), NULL) != 0)
		fail_msg("cannot run %s", report);
	h_expect_exit(&r, 0);

	char *dwarf = line_of(r.out, "xtrace dwarf");
	has_cell(dwarf, "3.00"); /* x untraced: the median of the per-round ratios */
	has_cell(dwarf, "100");  /* +CPU ns/event */
	has_cell(dwarf, "+2.0"); /* +RSS MiB */
	has_cell(dwarf, "4.00*");
	has_cell(dwarf, "2.00");
	has_cell(line_of(r.out, "xtrace none"), "2.00");
	char *ht = line_of(r.out, "heaptrack (traced process)");
	has_cell(ht, "20.00");
	has_cell(ht, "1.50*");
	has_cell(line_of(r.out, "+ heaptrack_interpret|zstd"), "500"); /* (3.0 - 1.0) s / 4e6 */
	has_cell(line_of(r.out, "xtrace stats"), "5.00");
	has_cell(line_of(r.out, "xtrace dump"), "2.50");
	has_cell(line_of(r.out, "one clock read"), "10.0");
	has_cell(line_of(r.out, "untraced loop, CPU per heap event"), "50.0");
	has_cell(line_of(r.out, "wall x untraced with only a timestamp"), "1.20");
	/* the targets: at the limit is met */
	assert_non_null(strstr(line_of(r.out, "met"), "dwarf (full stacks) <= 3"));
	assert_non_null(strstr(line_of(r.out, "NOT met"), "none <= 1.3"));
	assert_non_null(strstr(r.out, "NOT met  B/event (default) <= heaptrack compressed"));
	assert_non_null(strstr(r.out, "met      xtrace stats >= 5x heaptrack_print"));
	assert_non_null(strstr(r.out, "met      xtrace dump >= 2x heaptrack_print"));
	char *perl = line_of(r.out, "perl ");
	has_cell(perl, "1.30");
	has_cell(perl, "4.00");
	assert_non_null(strstr(r.out, "met      perl wall x untraced, full stacks <= 1.3"));
	has_cell(line_of(r.out, "/bin/true "), "+1.500");
	assert_non_null(strstr(r.out, "NOT met  /bin/true traced +wall ms <= 1"));
	has_cell(line_of(r.out, "shim loaded, not recording: /bin/true"), "+0.200");
	/* the floors of the programs, the fork child and the sizes */
	has_cell(line_of(r.out, "shim loaded, not recording: fork child"), "+0.500");
	has_cell(line_of(r.out, "shim loaded, not recording: perl"), "1.10");
	has_cell(perl, "1.10");
	has_cell(perl, "1.20");
	has_cell(line_of(r.out, "size floor, mtloop"), "0.25");
	has_cell(line_of(r.out, "size floor, perl"), "0.60");
	const char *sizes = strstr(r.out, "\nSize floors:");
	assert_non_null(sizes);
	char *main_sizes = line_of(sizes, "mtloop");
	static const char *const main_cells[] = {"0.25", "0.40", "1.20", "1.90", "4.00", "1.50"};
	for (size_t i = 0; i < sizeof main_cells / sizeof main_cells[0]; i++)
		has_cell(main_sizes, main_cells[i]);
	char *perl_sizes = line_of(sizes, "perl");
	static const char *const perl_cells[] = {"0.60", "0.70", "1.50", "1.55", "1.60", "0.31"};
	for (size_t i = 0; i < sizeof perl_cells / sizeof perl_cells[0]; i++)
		has_cell(perl_sizes, perl_cells[i]);
	/* every target names its floors */
	assert_non_null(strstr(line_of(r.out, "met      wall x untraced, dwarf"),
			       "none 2.00, timestamp 1.20"));
	assert_non_null(strstr(line_of(r.out, "NOT met  B/event (default) <= heaptrack compressed"),
			       "time alone 0.25, + address 1.20"));
	assert_non_null(strstr(line_of(r.out, "NOT met  B/event (default) <= heaptrack's, perl"),
			       "time alone 0.60, + address 1.50"));
	assert_non_null(strstr(line_of(r.out, "met      perl wall x untraced"),
			       "none 1.20, not recording 1.10"));
	assert_non_null(strstr(line_of(r.out, "NOT met  /bin/true traced"), "not recording +0.200"));
	assert_non_null(strstr(line_of(r.out, "NOT met  fork child traced"), "not recording +0.500"));
	assert_non_null(strstr(line_of(r.out, "met      xtrace stats >= 5x"), "reader alone 10.00"));
}

/* A synthetic trace for sizefloor: what each layer holds is known from the events written. */
struct floor_trace {
	struct tg *t;
	uint64_t events, allocs, dt_bytes, payload;
	uint64_t batch, thread, time; /* the open batch's offset, thread and base time */
};

static void floor_batch(struct floor_trace *f, uint64_t thread, uint64_t time)
{
	f->batch = tg_batch(f->t, XT_BATCH_EVENTS, thread, time);
	f->thread = thread;
	f->time = time;
}

/* floor_batch_end closes the batch and counts its payload: what follows its header. */
static void floor_batch_end(struct floor_trace *f)
{
	uint64_t rest = tg_batch_end(f->t) - f->batch - 1 - xt_uvarint_len(1) -
			xt_uvarint_len(f->thread) - xt_uvarint_len(f->time);
	uint64_t size = rest - 1;
	while (size + xt_uvarint_len(size) > rest)
		size--;
	assert_int_equal(size + xt_uvarint_len(size), rest);
	f->payload += size;
}

/* floor_event writes one AllocFree event (an allocation's type and stack are 0: a byte each). */
#define floor_event(f, type, dt, ...)                                                          \
	do {                                                                                   \
		tg_event((f)->t, (type), (dt), __VA_ARGS__);                                   \
		(f)->events++;                                                                 \
		(f)->dt_bytes += xt_uvarint_len(dt);                                           \
		(f)->allocs += (type) == XT_EV_ObjectAlloc || (type) == XT_EV_ObjectAllocReused; \
	} while (0)

/* sizefloor on a trace whose two threads' batches interleave in time, with frees and
 * allocations by address and by reference, and a thread's second batch: each layer holds what
 * the file holds for it, the events layer exactly the Events batches' payloads (the first event
 * of each batch is coded from the thread's previous event, or the Sync, as its batch time is
 * here). */
static void test_size_floor(void **state)
{
	struct floor_trace f = {.t = tg_new(NULL)};
	tg_gen(f.t, 1);
	tg_sync(f.t, 100, 1000000000, 1700000001, 0);
	floor_batch(&f, 7, 100);
	floor_event(&f, XT_EV_ObjectAlloc, 5, 0x7f0000001000, 0, 0);      /* 105 */
	floor_event(&f, XT_EV_ObjectAlloc, 300, 0x7f0000001040, 0, 0);    /* 405 */
	floor_event(&f, XT_EV_ObjectFreeRecent, 1, 1);                    /* 406: 0x...1000 */
	floor_event(&f, XT_EV_ObjectAllocReused, 2, 0, 0, 0);             /* 408: 0x...1000 */
	floor_event(&f, XT_EV_ObjectReallocFree, 1, 0x7f0000001040);      /* 409 */
	floor_event(&f, XT_EV_ObjectAlloc, 100000, 0x7f0000090000, 0, 0); /* 100409 */
	floor_batch_end(&f);
	floor_batch(&f, 8, 100);
	floor_event(&f, XT_EV_ObjectAlloc, 2, 0x5000, 0, 0);   /* 102 */
	floor_event(&f, XT_EV_ObjectFree, 98, 0x5000);         /* 200 */
	floor_event(&f, XT_EV_ObjectAllocReused, 207, 0, 0, 0); /* 407 */
	floor_event(&f, XT_EV_ObjectFreeRecent, 70000, 0);      /* 70407 */
	floor_batch_end(&f);
	floor_batch(&f, 7, 100409);
	floor_event(&f, XT_EV_ObjectFree, 3, 0x7f0000090000); /* by address: a batch of its own */
	floor_event(&f, XT_EV_ObjectAlloc, 1, 0x7f0000090000, 0, 0);
	floor_batch_end(&f);
	tg_end(f.t, 0);
	char *path = h_track(tg_tmpfile(f.t, TG_ALL));
	tg_free(f.t);

	struct h_run r;
	char tool[PATH_MAX + 32];
	h_fmt(tool, sizeof tool, "%s/bench/sizefloor", h_build_dir());
	if (h_spawn(&r, h_tmpdir(), H_ARGV(tool, path), NULL) != 0)
		fail_msg("cannot run %s", tool);
	unlink(path);
	h_expect_exit(&r, 0);
	unsigned long long n, raw[4], packed[4];
	char name[4][16];
	if (sscanf(r.out, "events %llu\n%15s %llu %llu\n%15s %llu %llu\n%15s %llu %llu\n%15s %llu %llu", &n,
		   name[0], &raw[0], &packed[0], name[1], &raw[1], &packed[1], name[2], &raw[2],
		   &packed[2], name[3], &raw[3], &packed[3]) != 13)
		fail_msg("sizefloor printed:\n%s", r.out);
	assert_int_equal(n, f.events);
	static const char *const layers[] = {"time", "kind", "addr", "events"};
	for (int i = 0; i < 4; i++) {
		assert_string_equal(name[i], layers[i]);
		/* too little to compress: a layer counts plain */
		assert_int_equal(packed[i], raw[i]);
	}
	assert_int_equal(raw[0], f.dt_bytes);
	assert_int_equal(raw[1], f.dt_bytes + f.events);
	assert_int_equal(raw[3], f.payload);
	assert_int_equal(raw[2], f.payload - 2 * f.allocs);
}

/* One round of the real thing, small: every row is measured and printed. */
static void test_bench_runs(void **state)
{
	char bench[PATH_MAX], build[PATH_MAX + 16], lib[PATH_MAX + 16], bin[PATH_MAX + 16],
		dir[PATH_MAX + 16], lib_dir[PATH_MAX], bin_dir[PATH_MAX];
	if (!realpath("scripts/bench.sh", bench))
		fail_msg("run from the repository root: no scripts/bench.sh");
	h_fmt(lib_dir, sizeof lib_dir, "%s", h_shim_path());
	*strrchr(lib_dir, '/') = 0;
	h_fmt(bin_dir, sizeof bin_dir, "%s", h_cli_path());
	*strrchr(bin_dir, '/') = 0;
	h_fmt(build, sizeof build, "XTRACE_BUILD=%s", h_build_dir());
	h_fmt(lib, sizeof lib, "XTRACE_LIB=%s", lib_dir);
	h_fmt(bin, sizeof bin, "XTRACE_BIN=%s", bin_dir);
	h_fmt(dir, sizeof dir, "BENCH_DIR=%s/run", h_tmpdir());
	const char *const env[] = {build, lib, bin, dir, "BENCH_ROUNDS=1", "BENCH_ITERS=20000",
				   "BENCH_SCALE=0", "BENCH_PROGRAMS=0", "BENCH_STARTS=3", NULL};
	struct h_run r;
	if (h_spawn(&r, h_tmpdir(), H_ARGV(bench), env) != 0)
		fail_msg("cannot run %s", bench);
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		fail_msg("bench.sh failed\nstdout: %s\nstderr: %s", r.out, r.err);
	has_cell(line_of(r.out, "untraced"), "1.00");
	line_of(r.out, "interposed, not recording");
	static const char *const rows[] = {"xtrace dwarf", "xtrace libunwind", "xtrace fp",
					   "xtrace none"};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *row = line_of(r.out, rows[i]);
		/* wall, ratio, ns, RSS, +RSS, B/event raw (written: starred), B/event zstd */
		assert_true(strchr(row, '*') != NULL);
		assert_null(strstr(row + strlen(rows[i]), " - "));
	}
	/* measured: no "-" but the last cell's (no zstd column of its own) */
	assert_null(strstr(line_of(r.out, "xtrace dwarf, written plain"), " - "));
	line_of(r.out, "heaptrack (traced process)");
	line_of(r.out, "xtrace stats");
	assert_null(strstr(line_of(r.out, "xtrace stats, one thread"), " - "));
	line_of(r.out, "xtrace dump");
	line_of(r.out, "heaptrack_print");
	line_of(r.out, "one clock read as the shim takes it");
	line_of(r.out, "shim loaded, not recording: fork child");
	line_of(r.out, "size floor, mtloop");
	const char *sizes = strstr(r.out, "\nSize floors:");
	assert_non_null(sizes);
	assert_null(strstr(line_of(sizes, "mtloop"), " - ")); /* every layer, both files */
	const char *production = strstr(r.out, "\nProduction settings");
	assert_non_null(production);
	assert_null(strstr(line_of(production, "mtloop "), " - ")); /* sampled, stopped: measured */
	assert_null(strstr(line_of(r.out, "/bin/true "), " - "));
	assert_null(strstr(line_of(r.out, "a fork child"), " - "));
	assert_non_null(strstr(r.out, "Targets"));
	assert_true(h_count_substr(r.out, "met ") >= 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_arithmetic),
		cmocka_unit_test(test_size_floor),
		cmocka_unit_test(test_bench_runs),
	};
	return h_finish(cmocka_run_group_tests_name("bench", tests, NULL, NULL));
}
