/* test_addrspace.c: integration tests of the AddrSpace experiment. A workload that maps,
 * remaps, unmaps, moves the break, fails some of those calls, starts threads and allocates 64
 * MiB with malloc (tests/workloads/addrspace.c) prints the same and exits the same traced as
 * untraced (errno of the failed calls included), and its trace holds exactly its own calls with
 * their addresses and lengths (none for the failed calls, none for the mapping malloc made),
 * each thread's stack, and once a generation a memory sample within what /proc reported to the
 * program meanwhile. python3 mapping memory with its mmap module runs unchanged and is seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "addrspace.h"
#include "harness.h"
#include "spec.h"
#include "varint.h"

#define MAX_EVENTS 64
#define MAX_SAMPLES 256

struct addr_event {
	uint8_t type;
	uint64_t thread, args[XTRACE_MAX_ARGS];
	bool in_workload; /* its stack's innermost frame is in the workload */
};

struct sample {
	uint64_t time, resident, mapped;
};

struct addr_trace {
	struct addr_event ev[MAX_EVENTS];
	size_t nev;
	struct sample samples[MAX_SAMPLES];
	size_t nsamples;
	uint64_t gens, big_allocs; /* big_allocs: ObjectAllocs at the address big_addr */
};

static void read_samples(struct addr_trace *t, const struct xtrace_exp_batch *b)
{
	const uint8_t *p = b->data, *end = b->data + b->len;
	if (p == end || *p++ != XT_ADDRSPACE_BATCH_MEMORY)
		fail_msg("AddrSpace batch of an unknown subtype");
	while (p < end) {
		struct sample s = {0};
		if (xt_get_uvarint(&p, end, &s.time) || xt_get_uvarint(&p, end, &s.resident) ||
		    xt_get_uvarint(&p, end, &s.mapped))
			fail_msg("memory sample cut short");
		if (t->nsamples == MAX_SAMPLES)
			fail_msg("more than %d memory samples", MAX_SAMPLES);
		t->samples[t->nsamples++] = s;
	}
}

/* read_trace gathers the AddrSpace events and samples of trace, and counts the ObjectAllocs at
 * big_addr. */
static void read_trace(const char *trace, uint64_t big_addr, struct addr_trace *t)
{
	char err[256] = "";
	xtrace_reader *rd = xtrace_open(trace, err, sizeof err);
	if (!rd)
		fail_msg("xtrace_open %s: %s", trace, err);
	struct xtrace_event ev;
	int rc;
	while ((rc = xtrace_next(rd, &ev)) == 1) {
		if (ev.kind == XTRACE_EVENT_SYNC) {
			const struct xtrace_sync *sy = xtrace_get_sync(rd);
			t->gens++;
			for (size_t i = 0; i < sy->nbatches; i++)
				if (sy->batches[i].experiment == XT_EXP_ADDRSPACE)
					read_samples(t, &sy->batches[i]);
			continue;
		}
		if (ev.type == XT_EV_ObjectAlloc && ev.args[0] == big_addr)
			t->big_allocs++;
		if (ev.experiment != XT_EXP_ADDRSPACE)
			continue;
		if (t->nev == MAX_EVENTS)
			fail_msg("more than %d AddrSpace events", MAX_EVENTS);
		struct addr_event *a = &t->ev[t->nev++];
		a->type = ev.type;
		a->thread = ev.thread;
		memcpy(a->args, ev.args, sizeof a->args);
		for (unsigned i = 0; i < ev.nargs; i++) {
			const uint64_t *pcs;
			if (ev.arg_kinds[i] != XTRACE_ARG_STACK || !xtrace_stack(rd, ev.args[i], &pcs))
				continue;
			const struct xtrace_module *m = xtrace_module_of(rd, pcs[0] - 1);
			a->in_workload = m && !strcmp(h_basename(m->path), "addrspace");
		}
	}
	if (rc != 0)
		fail_msg("%s: %s", trace, xtrace_error(rd));
	xtrace_close(rd);
}

/* count returns how many events of type t holds with the given first arguments (nargs of them). */
static size_t count(const struct addr_trace *t, uint8_t type, unsigned nargs, const uint64_t *args)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nev; i++)
		n += t->ev[i].type == type && !memcmp(t->ev[i].args, args, nargs * sizeof args[0]);
	return n;
}

static size_t count_type(const struct addr_trace *t, uint8_t type)
{
	return count(t, type, 0, NULL);
}

#define COUNT(t, type, ...) \
	count(t, type, sizeof((uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t), (uint64_t[]){__VA_ARGS__})

static void test_workload_calls(void **state)
{
	struct h_run plain, r;
	char *const argv[] = {(char *)h_workload("addrspace"), "150", NULL};
	const char *const env[] = {"XTRACE_GEN_MS=20", NULL};
	h_plain(&plain, argv);
	h_traced(&r, env, argv);
	h_expect_exit(&r, 0);
	/* the same output, the failed calls' results and errno included */
	h_same_as_untraced(&r, &plain, "addrspace");
	assert_non_null(strstr(r.out, "bad munmap=-1 errno=22\n"));

	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	static struct addr_trace t;
	memset(&t, 0, sizeof t);
	uint64_t big = h_out_u64(r.err, "big ", "addr");
	read_trace(trace, big, &t);

	uint64_t anon = h_out_u64(r.err, "anon ", "addr"), file = h_out_u64(r.err, "file ", "addr");
	uint64_t grown = h_out_u64(r.err, "grown ", "addr"), base = h_out_u64(r.err, "brk ", "base");
	uint64_t main_tid = h_out_u64(r.err, "main ", "tid");
	/* exactly the workload's successful calls: not the failed ones, not malloc's mapping */
	assert_int_equal(count_type(&t, XT_EV_MapCreate), 2);
	assert_int_equal(COUNT(&t, XT_EV_MapCreate, anon, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS), 1);
	assert_int_equal(COUNT(&t, XT_EV_MapCreate, file, 4096, PROT_READ, MAP_PRIVATE), 1);
	assert_int_equal(count_type(&t, XT_EV_MapMove), 1);
	assert_int_equal(COUNT(&t, XT_EV_MapMove, anon, 1 << 20, grown, 3 << 20), 1);
	assert_int_equal(count_type(&t, XT_EV_MapFree), 2);
	assert_int_equal(COUNT(&t, XT_EV_MapFree, file, 4096), 1);
	assert_int_equal(COUNT(&t, XT_EV_MapFree, grown, 3 << 20), 1);
	assert_int_equal(count_type(&t, XT_EV_BrkMove), 3);
	assert_int_equal(COUNT(&t, XT_EV_BrkMove, base + (64 << 10)), 1);
	assert_int_equal(COUNT(&t, XT_EV_BrkMove, base), 2);
	for (size_t i = 0; i < t.nev; i++)
		if (t.ev[i].type >= XT_EV_MapCreate && t.ev[i].type <= XT_EV_BrkMove) {
			assert_true(t.ev[i].in_workload);
			assert_int_equal(t.ev[i].thread, main_tid);
		}
	/* the 64 MiB glibc mapped for malloc is an allocation, and no mapping */
	assert_int_equal(t.big_allocs, 1);
	for (size_t i = 0; i < t.nev; i++)
		if (t.ev[i].type == XT_EV_MapCreate)
			assert_false(big >= t.ev[i].args[0] && big < t.ev[i].args[0] + t.ev[i].args[1]);

	/* stacks: the main thread's once, each thread's when it starts and ends */
	assert_int_equal(count_type(&t, XT_EV_StackAlloc), 3);
	assert_int_equal(count_type(&t, XT_EV_StackFree), 2);
	for (int i = 0; i < 2; i++) {
		char key[16];
		h_fmt(key, sizeof key, "thread%d ", i);
		uint64_t tid = h_out_u64(r.err, key, "tid"), lo = h_out_u64(r.err, key, "stack");
		uint64_t len = h_out_u64(r.err, key, "len");
		size_t alloc = 0, freed = 0;
		for (size_t k = 0; k < t.nev; k++) {
			const struct addr_event *a = &t.ev[k];
			alloc += a->type == XT_EV_StackAlloc && a->thread == tid && a->args[0] == lo &&
				 a->args[1] == len;
			freed += a->type == XT_EV_StackFree && a->thread == tid && a->args[0] == lo;
		}
		assert_int_equal(alloc, 1);
		assert_int_equal(freed, 1);
	}
	size_t main_stacks = 0;
	for (size_t k = 0; k < t.nev; k++)
		main_stacks += t.ev[k].type == XT_EV_StackAlloc && t.ev[k].thread == main_tid;
	assert_int_equal(main_stacks, 1);

	/* one memory sample a generation; in the quiet spell, within what the program read from
	 * /proc itself (the shim's own pages may move the count a little) */
	assert_true(t.gens >= 4);
	assert_int_equal(t.nsamples, t.gens);
	uint64_t from = h_out_u64(r.err, "quiet ", "from"), slack = 1 << 20;
	uint64_t rmin = h_out_u64(r.err, "resident ", "min"), rmax = h_out_u64(r.err, "resident ", "max");
	uint64_t mmin = h_out_u64(r.err, "mapped ", "min"), mmax = h_out_u64(r.err, "mapped ", "max");
	size_t quiet = 0;
	for (size_t i = 0; i < t.nsamples; i++) {
		const struct sample *s = &t.samples[i];
		assert_true(s->resident > 0 && s->resident <= s->mapped);
		if (s->time < from)
			continue;
		quiet++;
		if (s->resident + slack < rmin || s->resident > rmax + slack ||
		    s->mapped + slack < mmin || s->mapped > mmax + slack)
			fail_msg("sample %zu: resident %llu, mapped %llu; the program saw resident "
				 "%llu..%llu, mapped %llu..%llu", i, (unsigned long long)s->resident,
				 (unsigned long long)s->mapped, (unsigned long long)rmin,
				 (unsigned long long)rmax, (unsigned long long)mmin,
				 (unsigned long long)mmax);
	}
	assert_true(quiet >= 3);
	h_run_free(&plain);
	h_run_free(&r);
}

/* python3's mmap module maps through mmap: seen, and the program runs as untraced. */
static void test_python_mmap(void **state)
{
	char *const argv[] = {"/usr/bin/python3", "-c",
		"import mmap\n"
		"m = mmap.mmap(-1, 3 << 20)\n"
		"m[:5] = b'hello'\n"
		"m.resize(5 << 20)\n"
		"print(m[:5].decode(), len(m))\n"
		"m.close()\n",
		NULL};
	const char *const env[] = {"PYTHONMALLOC=malloc", NULL};
	struct h_run plain, r;
	h_plain(&plain, argv);
	h_traced(&r, env, argv);
	h_expect_exit(&plain, 0);
	h_same_as_untraced(&r, &plain, "python3 mmap");
	assert_string_equal(r.out, "hello 5242880\n");
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	static struct addr_trace t;
	memset(&t, 0, sizeof t);
	read_trace(trace, 0, &t);
	size_t created = 0, moved = 0, freed = 0;
	for (size_t i = 0; i < t.nev; i++) {
		const struct addr_event *a = &t.ev[i];
		created += a->type == XT_EV_MapCreate && a->args[1] == 3 << 20;
		moved += a->type == XT_EV_MapMove && a->args[1] == 3 << 20 && a->args[3] == 5 << 20;
		freed += a->type == XT_EV_MapFree && a->args[1] == 5 << 20;
	}
	assert_int_equal(created, 1);
	assert_int_equal(moved, 1);
	assert_int_equal(freed, 1);
	h_run_free(&plain);
	h_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workload_calls),
		cmocka_unit_test(test_python_mmap),
	};
	return h_finish(cmocka_run_group_tests(tests, NULL, NULL));
}
