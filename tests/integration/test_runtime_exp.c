/* test_runtime_exp.c: experiments a program defines at run time through include/xtrace.h
 * (tests/workloads/runtime_exp.c). The trace must describe the experiment in every generation's
 * Specs batch and carry its events, from two threads and from a forked child that kept the
 * definitions, decodable from those Specs alone: strings interned in the generation's table,
 * the caller's stack recorded, addresses delta-coded. The trace is read here by the letter of
 * experiments/README.md (tests/unit/support/rawtrace.c), not by the reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "rawtrace.h"

#define N 200

struct ids {
	unsigned exp, fill, evict;
};

/* forking: ThreadSanitizer does not follow a process that had threads into a fork child that
 * starts one (the shim's), so its run makes no child. */
static bool forking(void)
{
	const char *s = getenv("XTRACE_TEST_SANITIZED");
	return !s || strcmp(s, "tsan") != 0;
}

static struct ids run_traced(struct h_run *r, char traces[2][PATH_MAX])
{
	h_traced(r, NULL, H_ARGV((char *)h_workload("runtime_exp"), "200", forking() ? "1" : "0"));
	h_expect_exit(r, 0);
	struct ids ids = {0, 0, 0};
	const char *line = strstr(r->err, "exp=");
	if (!line || sscanf(line, "exp=%u fill=%u evict=%u", &ids.exp, &ids.fill, &ids.evict) != 3)
		fail_msg("no IDs on stderr: %s", r->err);
	assert_true(ids.exp >= XT_FIRST_RUNTIME_EXPERIMENT && ids.exp < XT_MAX_EXPERIMENTS);
	assert_true(ids.fill >= XT_FIRST_EXPERIMENTAL_EVENT && !xt_specs[ids.fill].name);
	assert_true(ids.evict >= XT_FIRST_EXPERIMENTAL_EVENT && !xt_specs[ids.evict].name);
	size_t want = forking() ? 2 : 1;
	if (h_find_traces(r->dir, traces, 2) != want)
		fail_msg("expected %zu traces (the parent's, the child's) in %s", want, r->dir);
	if (!forking())
		memcpy(traces[1], traces[0], PATH_MAX); /* no child: the parent's twice */
	return ids;
}

static void read_trace(const char *path, struct sb_trace *t)
{
	char err[256];
	if (sb_read_trace(path, t, err, sizeof err) != 0)
		fail_msg("%s: %s", path, err);
	assert_true(t->ngens >= 1);
}

/* expect_described: every generation of t describes the experiment as defined. */
static void expect_described(const struct sb_trace *t, struct ids ids)
{
	static const char *const fill_args[] = {"key_string", "entry_addr", "size_value", "stack"};
	static const char *const evict_args[] = {"key_string", "entry_addr", "age_ns"};
	for (int g = 0; g < t->ngens; g++) {
		const struct sb_experiment *x = sb_find(&t->gens[g], "Cache");
		assert_non_null(x);
		assert_int_equal(x->id, ids.exp);
		assert_int_equal(x->version, 3);
		assert_int_equal(x->nbatches, 0);
		assert_int_equal(x->nevents, 2);
		const struct sb_event *f = sb_event_named(x, "CacheFill");
		const struct sb_event *v = sb_event_named(x, "CacheEvict");
		assert_non_null(f);
		assert_non_null(v);
		assert_int_equal(f->type, ids.fill);
		assert_int_equal(v->type, ids.evict);
		assert_int_equal(f->nargs, 4);
		assert_int_equal(v->nargs, 3);
		for (unsigned a = 0; a < 4; a++)
			assert_string_equal(f->args[a], fill_args[a]);
		for (unsigned a = 0; a < 3; a++)
			assert_string_equal(v->args[a], evict_args[a]);
		assert_int_equal(f->start + f->form_of + v->start + v->form_of, 0);
		/* the built-in experiments are described too */
		assert_non_null(sb_find(&t->gens[g], "AllocFree"));
		assert_non_null(sb_find(&t->gens[g], "Timers"));
	}
}

static const char *string_arg(const struct sb_trace *t, const struct sb_decoded *d)
{
	const struct sb_entry *s = sb_entry_of(t, d->gen, XT_BATCH_STRINGS, d->args[0]);
	if (!s)
		fail_msg("string %llu of generation %llu missing", (unsigned long long)d->args[0],
			 (unsigned long long)d->gen);
	return s->text;
}

static void test_parent_events_from_two_threads(void **state)
{
	struct h_run r;
	char traces[2][PATH_MAX];
	struct ids ids = run_traced(&r, traces);
	assert_non_null(strstr(r.out, "threads 2 events 800 child status 0"));
	struct sb_trace t[2];
	read_trace(traces[0], &t[0]);
	read_trace(traces[1], &t[1]);
	struct sb_trace *parent = t[0].nevents > t[1].nevents ? &t[0] : &t[1];
	expect_described(parent, ids);
	uint64_t threads[2] = {0, 0}, fills[2] = {0, 0}, evicts[2] = {0, 0}, base[2] = {0, 0};
	for (size_t i = 0; i < parent->nevents; i++) {
		const struct sb_decoded *d = &parent->events[i];
		if (d->type != ids.fill && d->type != ids.evict)
			continue;
		int k = d->thread == threads[0] ? 0 : d->thread == threads[1] ? 1 : threads[0] ? 1 : 0;
		if (!threads[k])
			threads[k] = d->thread;
		assert_int_equal(d->thread, threads[k]);
		/* in order, each fill followed by its eviction: the worker's own arguments */
		const char *key = string_arg(parent, d);
		if (d->type == ids.fill) {
			uint64_t i_ = fills[k]++;
			assert_int_equal(evicts[k], i_);
			assert_int_equal(d->args[2], i_);
			if (i_ == 0)
				base[k] = d->args[1];
			assert_int_equal(d->args[1] - base[k], i_ % 64);
			assert_non_null(sb_entry_of(parent, d->gen, XT_BATCH_STACKS, d->args[3]));
			char want[32];
			snprintf(want, sizeof want, "-%llu", (unsigned long long)(i_ % 8));
			assert_true(key[0] == 't' && strcmp(key + 2, want) == 0);
		} else {
			uint64_t i_ = evicts[k]++;
			assert_int_equal(fills[k], i_ + 1);
			assert_int_equal(d->args[1] - base[k], i_ % 64);
			assert_int_equal(d->args[2], 1000 * i_);
		}
	}
	assert_true(threads[0] && threads[1] && threads[0] != threads[1]);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(fills[k], N);
		assert_int_equal(evicts[k], N);
	}
	assert_int_not_equal(base[0], base[1]);
	sb_trace_free(&t[0]);
	sb_trace_free(&t[1]);
	h_run_free(&r);
}

/* The stock CLI shows the program's own events by the names it gave them: dump with each named
 * argument (strings resolved), stats counting them by experiment and name. */
static void test_stock_cli_shows_them(void **state)
{
	struct h_run r, d;
	char traces[2][PATH_MAX];
	run_traced(&r, traces);
	size_t fills = 0, evicts = 0;
	for (int i = 0; i < (forking() ? 2 : 1); i++) {
		assert_int_equal(h_cli(&d, H_ARGV("dump", traces[i])), 0);
		fills += h_count_substr(d.out, " CacheFill key_string=");
		evicts += h_count_substr(d.out, " CacheEvict key_string=");
		if (h_count_substr(d.out, " CacheEvict key_string=") > 0)
			assert_non_null(strstr(d.out, " age_ns="));
		size_t fills_here = h_count_substr(d.out, " CacheFill key_string=");
		h_run_free(&d);
		char want[128];
		snprintf(want, sizeof want, "{\"experiment\": \"Cache\", \"event\": \"CacheFill\", "
			 "\"count\": %zu}", fills_here);
		assert_int_equal(h_cli(&d, H_ARGV("stats", "--json", traces[i])), 0);
		if (!strstr(d.out, want))
			fail_msg("stats --json of %s lacks %s:\n%s", traces[i], want, d.out);
		h_run_free(&d);
	}
	/* two threads of N each in the parent, N / 2 fills in the child (none under TSan, which
	 * cannot follow a fork) */
	assert_int_equal(fills, 2 * N + (forking() ? N / 2 : 0));
	assert_int_equal(evicts, 2 * N);
	h_run_free(&r);
}

static void test_forked_child_keeps_definitions(void **state)
{
	struct h_run r;
	char traces[2][PATH_MAX];
	if (!forking())
		skip();
	struct ids ids = run_traced(&r, traces);
	struct sb_trace t[2];
	read_trace(traces[0], &t[0]);
	read_trace(traces[1], &t[1]);
	struct sb_trace *child = t[0].nevents > t[1].nevents ? &t[1] : &t[0];
	expect_described(child, ids);
	unsigned fills = 0;
	for (size_t i = 0; i < child->nevents; i++) {
		const struct sb_decoded *d = &child->events[i];
		assert_int_not_equal(d->type, ids.evict);
		if (d->type != ids.fill)
			continue;
		assert_string_equal(string_arg(child, d), "child");
		assert_int_equal(d->args[2], fills);
		assert_non_null(sb_entry_of(child, d->gen, XT_BATCH_STACKS, d->args[3]));
		fills++;
	}
	assert_int_equal(fills, N / 2);
	sb_trace_free(&t[0]);
	sb_trace_free(&t[1]);
	h_run_free(&r);
}

static void test_behaves_as_untraced(void **state)
{
	struct h_run r, plain;
	char traces[2][PATH_MAX];
	run_traced(&r, traces);
	h_plain(&plain, H_ARGV((char *)h_workload("runtime_exp"), "200", forking() ? "1" : "0"));
	h_same_as_untraced(&r, &plain, "runtime_exp");
	assert_non_null(strstr(plain.err, "exp=0 fill=0 evict=0"));
	h_run_free(&r);
	h_run_free(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_events_from_two_threads),
		cmocka_unit_test(test_forked_child_keeps_definitions),
		cmocka_unit_test(test_stock_cli_shows_them),
		cmocka_unit_test(test_behaves_as_untraced),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
