/* test_timers.c: integration tests of the Timers experiment: every timer and sleep API counted
 * exactly as strace counts the same run's syscalls, expirations as the program counted them, a
 * SIGALRM handler that allocates against a main thread that allocates (every loss reported), and
 * signal actions read back by the program exactly as it set them. */
#include <cpuid.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* The APIs a traced call of which is exactly one syscall of the same name (the sleeps all
 * become clock_nanosleep). */
static const char *const same_name[] = {"timer_create", "timer_settime", "timer_gettime",
	"timer_getoverrun", "timer_delete", "setitimer", "getitimer", "alarm", "timerfd_create",
	"timerfd_settime", "timerfd_gettime"};
static const char *const sleeps[] = {"nanosleep", "clock_nanosleep", "usleep", "sleep"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* strace_calls returns the calls column of syscall name in a `strace -c` summary (0 if absent). */
static uint64_t strace_calls(const char *summary, const char *name)
{
	for (const char *line = summary; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[256], tok[6][64];
		h_fmt(buf, sizeof buf, "%.*s", (int)(len < 255 ? len : 255), line);
		line += len + (eol != NULL);
		int n = sscanf(buf, "%63s %63s %63s %63s %63s %63s", tok[0], tok[1], tok[2], tok[3],
			       tok[4], tok[5]);
		if (n >= 5 && !strcmp(tok[n - 1], name) && tok[0][0] >= '0' && tok[0][0] <= '9')
			return strtoull(tok[3], NULL, 10);
	}
	return 0;
}

static char *timers_json(const char *trace)
{
	struct h_run c;
	int rc = h_cli(&c, H_ARGV("timers", (char *)trace, "--json"));
	if (rc != 0)
		fail_msg("xtrace timers %s --json: exit %d\nstderr: %s", trace, rc, c.err);
	char *out = c.out;
	c.out = NULL;
	h_run_free(&c);
	return out;
}

static void test_every_api_matches_strace(void **state)
{
	const char *dir = h_tmpdir();
	char summary_path[PATH_MAX], preload[PATH_MAX + 16], out[PATH_MAX + 16];
	h_fmt(summary_path, sizeof summary_path, "%s/strace.txt", dir);
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());
	h_fmt(out, sizeof out, "XTRACE_OUT=%s/t.%%p.xt", dir);
	struct h_run r;
	if (h_spawn(&r, dir, H_ARGV("/usr/bin/strace", "-f", "-c", "-o", summary_path, "-E", preload,
				     "-E", out, (char *)h_workload("timers_all")), NULL) != 0)
		fail_msg("cannot run strace (scripts/deps.sh installs it)");
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	char *summary = h_read_file(summary_path, NULL);
	assert_non_null(summary);
	char *json = timers_json(trace);
	char key[64];
	for (size_t i = 0; i < NELEM(same_name); i++) {
		h_fmt(key, sizeof key, "calls.%s", same_name[i]);
		uint64_t traced = h_json_u64(json, key), program = h_out_u64(r.out, "calls ", same_name[i]);
		uint64_t sys = strace_calls(summary, same_name[i]);
		if (traced != sys || traced != program)
			fail_msg("%s: trace %llu, strace %llu, program %llu\n%s", same_name[i],
				 (unsigned long long)traced, (unsigned long long)sys,
				 (unsigned long long)program, summary);
	}
	uint64_t traced_sleeps = 0, program_sleeps = 0;
	for (size_t i = 0; i < NELEM(sleeps); i++) {
		h_fmt(key, sizeof key, "calls.%s", sleeps[i]);
		uint64_t traced = h_json_u64(json, key), program = h_out_u64(r.out, "calls ", sleeps[i]);
		assert_int_equal(traced, program);
		traced_sleeps += traced;
		program_sleeps += program;
	}
	assert_int_equal(traced_sleeps, strace_calls(summary, "clock_nanosleep"));
	assert_int_equal(traced_sleeps, program_sleeps);

	/* expirations: as the program counted them */
	assert_int_equal(h_json_u64(json, "fires.thread"), h_out_u64(r.out, "fires ", "thread"));
	assert_int_equal(h_json_u64(json, "fires.signal"), h_out_u64(r.out, "fires ", "signal"));
	assert_int_equal(h_json_u64(json, "fires.timerfd"), h_out_u64(r.out, "fires ", "timerfd"));
	/* four timers, each linked from creation to its end: thread, signal, itimer, timerfd */
	assert_int_equal(h_count_substr(json, "\"kind\": \"posix\""), 2);
	assert_int_equal(h_count_substr(json, "\"kind\": \"itimer\""), 1);
	assert_int_equal(h_count_substr(json, "\"kind\": \"timerfd\""), 1);
	assert_int_equal(h_count_substr(json, "\"deleted\": true"), 3);
	assert_int_equal(h_count_substr(json, "\"created_at\": \"main "), 3);

	/* stats carries the same counts */
	char *stats = h_stats_json(trace, 0);
	assert_int_equal(h_json_u64(stats, "timers.calls.timer_create"), 2);
	assert_int_equal(h_json_u64(stats, "timers.fires.thread"), h_json_u64(json, "fires.thread"));
	assert_int_equal(h_json_u64(stats, "timers.fires.signal"), h_json_u64(json, "fires.signal"));
	assert_int_equal(h_json_u64(stats, "timers.fires.timerfd"), h_json_u64(json, "fires.timerfd"));
	assert_int_equal(h_json_u64(stats, "lost_events"), 0);
	h_validate(trace);
	h_free(stats);
	h_free(json);
	h_free(summary);
	h_run_free(&r);
}

/* The handler's three events (the expiration, its malloc and free) are either all recorded or
 * all dropped while the main thread was writing an event of its own: the drops are all counted. */
static void test_alarm_handler_allocating(void **state)
{
	struct h_run r;
	h_traced(&r, NULL, H_ARGV((char *)h_workload("alarm_alloc"), "1000000"));
	h_expect_exit(&r, 0);
	uint64_t runs = h_out_u64(r.out, "loop=", "handler_allocs");
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	h_validate(trace);
	char *stats = h_stats_json(trace, 0);
	uint64_t fires = h_json_u64(stats, "timers.fires.signal");
	uint64_t lost = h_json_u64(stats, "lost_events");
	assert_true(runs > 0);
	assert_true(fires <= runs);
	assert_int_equal(lost, 3 * (runs - fires));
	/* main's loop and the recorded handler runs, each one malloc and one free; plus warm-up */
	assert_int_equal(h_json_u64(stats, "invalid_events"), 0);
	assert_true(h_json_u64(stats, "allocs") >= 1000000 + fires);
	h_free(stats);
	h_run_free(&r);
}

/* A 200 ms sleep spread over several 50 ms generations comes out in nanoseconds: the trace's
 * own times around it agree with the time asleep the shim measured on CLOCK_MONOTONIC, and
 * the header's start with the events. Where the TSC is invariant the events carry its ticks
 * in units of 64, each generation mapping its own. */
static void test_durations_in_ns(void **state)
{
	struct h_run r;
	h_traced(&r, (const char *const[]){"XTRACE_GEN_MS=50", NULL},
		 H_ARGV("/bin/sleep", "0.2"));
	h_expect_exit(&r, 0);
	char trace[PATH_MAX], err[256];
	h_one_trace(&r, trace);
	xtrace_reader *rd = xtrace_open(trace, err, sizeof err);
	if (!rd)
		fail_msg("xtrace_open %s: %s", trace, err);
	unsigned a, b, c, d;
	bool invariant = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
	const struct xtrace_header *hd = xtrace_get_header(rd);
	assert_int_equal(hd->ticks_per_sec, invariant ? 0 : 1000000000);
	struct xtrace_event ev;
	uint64_t begin = 0, end = 0, slept = 0, first = 0, gens = 0;
	int rc;
	while ((rc = xtrace_next(rd, &ev)) > 0) {
		gens += ev.kind == XTRACE_EVENT_SYNC;
		/* the TSC's ticks are counted in units of 64 */
		if (ev.kind == XTRACE_EVENT_SYNC)
			assert_int_equal(xtrace_get_sync(rd)->tsc_shift, invariant ? 6 : 0);
		if (ev.kind != XTRACE_EVENT_SYNC && !first)
			first = ev.ts;
		if (ev.name && !strcmp(ev.name, "SleepBegin"))
			begin = ev.ts;
		if (ev.name && !strcmp(ev.name, "SleepEnd")) {
			end = ev.ts;
			slept = ev.args[1];
		}
	}
	assert_int_equal(rc, 0);
	xtrace_close(rd);
	assert_true(gens >= 3);
	assert_true(begin && end > begin);
	assert_true(slept >= 200000000);
	/* the two clocks read a few instructions apart, but for a preemption */
	uint64_t span = end - begin, diff = span > slept ? span - slept : slept - span;
	if (diff > slept / 20)
		fail_msg("sleep: %llu ns between its events, %llu ns asleep", (unsigned long long)span,
			 (unsigned long long)slept);
	assert_true(first >= hd->start_ts && first - hd->start_ts < 10000000000ull);
	h_run_free(&r);
}

static void test_signal_actions_unchanged(void **state)
{
	struct h_run plain, traced;
	h_plain(&plain, H_ARGV((char *)h_workload("sigquery")));
	h_traced(&traced, NULL, H_ARGV((char *)h_workload("sigquery")));
	h_expect_exit(&plain, 0);
	h_expect_exit(&traced, 0);
	assert_true(h_count_lines(plain.out) > 10);
	assert_string_equal(traced.out, plain.out);
	h_run_free(&plain);
	h_run_free(&traced);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_api_matches_strace),
		cmocka_unit_test(test_alarm_handler_allocating),
		cmocka_unit_test(test_signal_actions_unchanged),
		cmocka_unit_test(test_durations_in_ns),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
