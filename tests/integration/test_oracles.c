/* test_oracles.c: xtrace's numbers against two other tools on the same programs: heaptrack
 * (heaptrack_print's flame-graph costs: exact integers per stack) and valgrind (memcheck's heap
 * summary and its xtree of bytes per call stack). The programs: perl and python3
 * (PYTHONMALLOC=malloc), which nobody here wrote, with small workloads, and our workload of
 * heaptrack's temporary cases. Hash seeds are fixed so that the three runs of a program do the
 * same work.
 *
 * The measures, and the difference each comparison allows (README, "Agreeing with heaptrack
 * and valgrind"):
 *   allocation calls, frees, leaked objects: early. Allocations made before the shim's
 *            constructor runs (by the dynamic loader and library initializers) pass through
 *            unrecorded; valgrind records them all, heaptrack those after its own start, and a
 *            program under valgrind sees a slightly different environment. All three count a
 *            realloc as one allocation and, when it moves or frees the block, one free.
 *   peak (heaptrack), leaked bytes: early_bytes, for the same early allocations, many of which
 *            stay live; plus tls_slack per thread the program started: a thread's DTV (one
 *            slot per TLS module, kept with its cached stack) grows with the TLS of the tool's
 *            preloaded library. valgrind runs without its freeres at exit, which would free
 *            libc's buffers that the other tools report as live.
 *   temporary (heaptrack): twice the difference in allocation calls. xtrace follows heaptrack's
 *            rule (sites.h); an allocation one tool saw and the other did not can break the
 *            "next heap event" pair it falls inside and make one of its own. Plus, for
 *            python3, the count's own spread: it varies between runs of one tool with the
 *            hash seed fixed and address randomization off (heaptrack 10,259-10,263 in 8
 *            runs, xtrace 10,262-10,268 in 14).
 *   top sites by allocations (heaptrack) and by bytes (valgrind), matched by the innermost
 *            symbolized function: for each of xtrace's three largest named sites, the other
 *            tool's number within early (allocations) or early_bytes (bytes). Sites named only
 *            by module+offset are skipped: each tool labels unnamed code its own way.
 * heaptrack's own allocations are left out of its numbers: those made while shared libraries'
 * constructors run (_dl_init), among them the 72,704-byte emergency pool of its libstdc++,
 * which a C program does not otherwise have. For our workloads early and early_bytes are 0:
 * every number but the threads' DTVs must agree exactly. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/statvfs.h>
#include <cmocka.h>

#include "harness.h"

#define NTOP 3
#define FN_MAX 128

struct fn_count {
	char fn[FN_MAX];
	uint64_t n;
};

/* What a tool says about one run. A count of UINT64_MAX: the tool does not tell. */
struct numbers {
	uint64_t allocs, frees, temporary, peak, leaked_bytes, leaked_objects;
	struct fn_count *by_fn; /* allocations (heaptrack) or bytes (valgrind) per function */
	size_t nfn;
};

struct program {
	const char *name;
	char *const *argv;
	const char *const *env;
	uint64_t early, early_bytes, tls_slack, threads;
	int heaptrack_names; /* 0: heaptrack_print misnames its code, compare sites with valgrind only */
	uint64_t temporary_noise; /* how much the temporary count varies between runs of one tool */
};

static void fn_add(struct numbers *x, const char *fn, size_t len, uint64_t n)
{
	if (len >= FN_MAX)
		len = FN_MAX - 1;
	for (size_t i = 0; i < x->nfn; i++)
		if (strlen(x->by_fn[i].fn) == len && !strncmp(x->by_fn[i].fn, fn, len)) {
			x->by_fn[i].n += n;
			return;
		}
	if (x->nfn % 256 == 0) {
		struct fn_count *a = realloc(x->by_fn, (x->nfn + 256) * sizeof *a);
		assert_non_null(a);
		x->by_fn = a;
	}
	memcpy(x->by_fn[x->nfn].fn, fn, len);
	x->by_fn[x->nfn].fn[len] = 0;
	x->by_fn[x->nfn++].n = n;
}

static uint64_t fn_get(const struct numbers *x, const char *fn)
{
	for (size_t i = 0; i < x->nfn; i++)
		if (!strcmp(x->by_fn[i].fn, fn))
			return x->by_fn[i].n;
	return 0;
}

/* with_env makes the environment of a run: the program's own, then extra (NULL-terminated). */
static const char *const *with_env(const struct program *p, const char *const extra[])
{
	static const char *env[32];
	size_t n = 0;
	for (size_t i = 0; p->env && p->env[i] && n < 24; i++)
		env[n++] = p->env[i];
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	return env;
}

/* under runs the program's argv behind the tool's arguments (NULL-terminated) in dir. */
static void under(const struct program *p, const char *dir, const char *const tool[],
		  const char *const extra_env[])
{
	char *argv[64];
	size_t n = 0;
	for (size_t i = 0; tool && tool[i]; i++)
		argv[n++] = (char *)tool[i];
	for (size_t i = 0; p->argv[i] && n < 63; i++)
		argv[n++] = p->argv[i];
	argv[n] = NULL;
	struct h_run r;
	if (h_spawn(&r, dir, argv, with_env(p, extra_env)) != 0)
		fail_msg("cannot run %s", argv[0]);
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		fail_msg("%s under %s: wait status 0x%x; stderr: %s", p->name, argv[0], r.status, r.err);
	h_run_free(&r);
}

/* ---- xtrace ---- */

/* tsv_named_top reads xtrace top --tsv rows into by_fn, the named sites only. */
static void tsv_named_top(const char *out, int col, struct numbers *x)
{
	for (const char *l = strchr(out, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
		const char *f = l + 1, *site = f;
		uint64_t v = 0;
		for (int c = 0; c < 7; c++) {
			if (c == col)
				v = strtoull(site, NULL, 10);
			site = strchr(site, '\t');
			if (!site)
				fail_msg("short row in: %s", out);
			site++;
		}
		size_t len = strcspn(site, "\n");
		if (!memchr(site, '+', len) && strncmp(site, "0x", 2))
			fn_add(x, site, len, v);
	}
}

/* xtrace_numbers traces the program once: x gets the numbers and the named sites by
 * allocations, by_bytes the named sites by bytes. */
static void xtrace_numbers(const struct program *p, struct numbers *x, struct numbers *by_bytes)
{
	const char *dir = h_tmpdir();
	struct h_run r;
	if (h_spawn(&r, dir, p->argv, h_trace_env(dir, p->env)) != 0)
		fail_msg("cannot run %s", p->argv[0]);
	h_expect_exit(&r, 0);
	char trace[PATH_MAX];
	h_one_trace(&r, trace);
	h_run_free(&r);
	char *stats = h_stats_json(trace, 0);
	x->allocs = h_json_u64(stats, "allocs");
	x->frees = h_json_u64(stats, "frees");
	x->peak = h_json_u64(stats, "peak_live_bytes");
	x->leaked_bytes = h_json_u64(stats, "live_bytes_at_end");
	x->leaked_objects = h_json_u64(stats, "live_objects_at_end");
	h_free(stats);
	struct h_run c;
	if (h_cli(&c, H_ARGV("top", "--json", "-n", "1", trace)) != 0)
		fail_msg("xtrace top: %s", c.err);
	x->temporary = h_json_u64(c.out, "totals.temporary");
	h_run_free(&c);
	if (h_cli(&c, H_ARGV("top", "--tsv", "--by", "allocs", "-n", "20", trace)) != 0)
		fail_msg("xtrace top: %s", c.err);
	tsv_named_top(c.out, 1, x);
	h_run_free(&c);
	if (h_cli(&c, H_ARGV("top", "--tsv", "--by", "bytes", "-n", "20", trace)) != 0)
		fail_msg("xtrace top: %s", c.err);
	tsv_named_top(c.out, 2, by_bytes);
	h_run_free(&c);
}

/* ---- heaptrack ---- */

/* heaptrack_cost sums one flame-graph cost of heaptrack_print over every stack that does not
 * pass through a shared library's constructor (_dl_init); with by_fn, per innermost function.
 * A line is "outer;...;inner; COUNT", a frame "function (file)". */
static uint64_t heaptrack_cost(const char *data, const char *cost, struct numbers *by_fn)
{
	char out[PATH_MAX];
	h_fmt(out, sizeof out, "%s.%s", data, cost);
	struct h_run r;
	char *argv[] = {"/usr/bin/heaptrack_print", "--disable-builtin-suppressions",
			"--flamegraph-cost-type", (char *)cost, "-F", out, (char *)data, NULL};
	if (h_spawn(&r, h_tmpdir(), argv, NULL) != 0 || r.status != 0)
		fail_msg("heaptrack_print %s: %s", data, r.err);
	h_run_free(&r);
	char *text = h_track(h_read_file(out, NULL));
	assert_non_null(text);
	uint64_t sum = 0;
	for (char *l = text, *eol; *l; l = eol + (*eol != 0)) {
		eol = l + strcspn(l, "\n");
		char *sp = eol;
		while (sp > l && sp[-1] != ' ')
			sp--;
		if (sp == l)
			continue;
		uint64_t n = strtoull(sp, NULL, 10);
		if (memmem(l, (size_t)(sp - l), "_dl_init", 8))
			continue;
		sum += n;
		if (!by_fn)
			continue;
		char *end = sp - 1; /* the space */
		while (end > l && end[-1] == ';')
			end--;
		char *inner = end;
		while (inner > l && inner[-1] != ';')
			inner--;
		size_t len = strcspn(inner, " ;");
		fn_add(by_fn, inner, len < (size_t)(end - inner) ? len : (size_t)(end - inner), n);
	}
	h_free(text);
	return sum;
}

static void heaptrack_numbers(const struct program *p, struct numbers *x)
{
	const char *dir = h_tmpdir();
	char prefix[PATH_MAX], pattern[PATH_MAX + 8];
	h_fmt(prefix, sizeof prefix, "%s/ht", dir);
	under(p, dir, (const char *const[]){"/usr/bin/heaptrack", "-o", prefix, NULL}, NULL);
	h_fmt(pattern, sizeof pattern, "%s.*", prefix);
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc != 1)
		fail_msg("no heaptrack data in %s", dir);
	const char *data = g.gl_pathv[0];
	*x = (struct numbers){.frees = UINT64_MAX, .leaked_objects = UINT64_MAX};
	x->allocs = heaptrack_cost(data, "allocations", x);
	x->temporary = heaptrack_cost(data, "temporary", NULL);
	x->peak = heaptrack_cost(data, "peak", NULL);
	x->leaked_bytes = heaptrack_cost(data, "leaked", NULL);
	globfree(&g);
}

/* ---- valgrind ---- */

/* number_after reads the number (with thousands separators) after label in text. */
static uint64_t number_after(const char *text, const char *label)
{
	const char *p = strstr(text, label);
	if (!p)
		fail_msg("no '%s' in valgrind's output: %s", label, text);
	p += strlen(label);
	while (*p == ' ')
		p++;
	uint64_t v = 0;
	for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
		if (*p != ',')
			v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

/* xtree_by_function adds the bytes each function allocated itself (its self cost "totB" in
 * memcheck's xtree, callgrind format: "fn=(id) name", then "line curB curBk totB ..." lines; a
 * line after "calls=" is a callee's inclusive cost and is skipped) and returns their sum. */
static uint64_t xtree_by_function(char *kcg, struct numbers *x)
{
	static char names[1 << 16][FN_MAX];
	const char *fn = NULL;
	int skip = 0;
	uint64_t sum = 0;
	for (char *l = strtok(kcg, "\n"); l; l = strtok(NULL, "\n")) {
		int cfn = !strncmp(l, "cfn=(", 5);
		if (cfn || !strncmp(l, "fn=(", 4)) {
			unsigned id = (unsigned)strtoul(strchr(l, '(') + 1, NULL, 10) % (1 << 16);
			const char *name = strchr(l, ')') + 1;
			if (*name == ' ')
				h_fmt(names[id], FN_MAX, "%.*s", FN_MAX - 1, name + 1);
			if (!cfn)
				fn = names[id];
		} else if (!strncmp(l, "calls=", 6)) {
			skip = 1;
		} else if (*l >= '0' && *l <= '9') {
			if (!skip && fn) {
				uint64_t v[4] = {0};
				char *q = l;
				for (int i = 0; i < 4; i++)
					v[i] = strtoull(q, &q, 10);
				fn_add(x, fn, strlen(fn), v[3]);
				sum += v[3];
			}
			skip = 0;
		}
	}
	return sum;
}

/* valgrind_run runs the program under memcheck once. Its xtree must account for every byte
 * its heap summary counts: 0 when it does not (a file cut short, as when its disk fills, adds
 * up to less), with why in why. */
static int valgrind_run(const struct program *p, struct numbers *x, char *why, size_t why_size)
{
	const char *dir = h_tmpdir();
	char kcg[PATH_MAX], opt[PATH_MAX + 32];
	h_fmt(kcg, sizeof kcg, "%s/xtmemory.kcg", dir);
	h_fmt(opt, sizeof opt, "--xtree-memory-file=%s", kcg);
	free(x->by_fn);
	*x = (struct numbers){.temporary = UINT64_MAX, .peak = UINT64_MAX};
	struct h_run r;
	char *argv[64] = {"/usr/bin/valgrind", "--leak-check=no", "--run-libc-freeres=no",
			  "--run-cxx-freeres=no", "--xtree-memory=full", opt};
	size_t n = 6;
	for (size_t i = 0; p->argv[i] && n < 63; i++)
		argv[n++] = p->argv[i];
	if (h_spawn(&r, dir, argv, with_env(p, NULL)) != 0 || r.status != 0)
		fail_msg("valgrind %s: %s", p->name, r.err);
	x->leaked_bytes = number_after(r.err, "in use at exit:");
	x->leaked_objects = number_after(strstr(r.err, "in use at exit:"), "bytes in");
	x->allocs = number_after(r.err, "total heap usage:");
	x->frees = number_after(strstr(r.err, "total heap usage:"), "allocs,");
	uint64_t bytes = number_after(strstr(r.err, "total heap usage:"), "frees,");
	h_run_free(&r);
	size_t size = 0;
	char *text = h_track(h_read_file(kcg, &size));
	assert_non_null(text);
	uint64_t sum = xtree_by_function(text, x);
	h_free(text);
	struct statvfs fs;
	if (sum == bytes)
		return 1;
	h_fmt(why, why_size,
	      "valgrind's xtree %s (%zu bytes) adds up to %llu of the %llu bytes allocated; "
	      "%llu MiB free there",
	      kcg, size, (unsigned long long)sum, (unsigned long long)bytes,
	      statvfs(dir, &fs) == 0 ? (unsigned long long)fs.f_bavail * fs.f_frsize >> 20 : 0ULL);
	return 0;
}

/* valgrind_numbers: an xtree that does not add up is valgrind's failure, not xtrace's: said,
 * and valgrind runs once more. */
static void valgrind_numbers(const struct program *p, struct numbers *x)
{
	char why[PATH_MAX + 256];
	*x = (struct numbers){0};
	if (valgrind_run(p, x, why, sizeof why))
		return;
	print_message("%s; running it again\n", why);
	if (!valgrind_run(p, x, why, sizeof why))
		fail_msg("%s", why);
}

/* ---- the comparison ---- */

static void within(const struct program *p, const char *tool, const char *measure, uint64_t xt,
		   uint64_t other, uint64_t slack)
{
	if (other == UINT64_MAX)
		return;
	uint64_t d = xt > other ? xt - other : other - xt;
	if (d > slack)
		fail_msg("%s, %s: xtrace %llu, %s %llu (allowed difference %llu)", p->name, measure,
			 (unsigned long long)xt, tool, (unsigned long long)other,
			 (unsigned long long)slack);
	print_message("%-11s %-16s xtrace %12llu  %-9s %12llu\n", p->name, measure,
		      (unsigned long long)xt, tool, (unsigned long long)other);
}

/* largest lists the tool's three largest functions, to tell a name that differs from a site
 * that is missing (a static buffer). */
static const char *largest(const struct numbers *x)
{
	static char out[4 * (FN_MAX + 32)];
	size_t len = 0, done[NTOP];
	out[0] = 0;
	for (size_t k = 0; k < NTOP && k < x->nfn; k++) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < x->nfn; i++) {
			int taken = 0;
			for (size_t j = 0; j < k; j++)
				taken |= done[j] == i;
			if (!taken && (best == SIZE_MAX || x->by_fn[i].n > x->by_fn[best].n))
				best = i;
		}
		done[k] = best;
		len += (size_t)snprintf(out + len, sizeof out - len, "%s%s %llu", k ? ", " : "",
					x->by_fn[best].fn, (unsigned long long)x->by_fn[best].n);
	}
	return x->nfn ? out : "(none)";
}

static void top_sites(const struct program *p, const char *tool, const char *measure,
		      const struct numbers *xt, const struct numbers *other, uint64_t slack)
{
	size_t shown = 0;
	for (size_t i = 0; i < xt->nfn && shown < NTOP; i++) {
		uint64_t o = fn_get(other, xt->by_fn[i].fn);
		char what[FN_MAX + 32];
		h_fmt(what, sizeof what, "%s %s", measure, xt->by_fn[i].fn);
		if (o == 0)
			print_message("%s names no function %s; its largest: %s\n", tool,
				      xt->by_fn[i].fn, largest(other));
		within(p, tool, what, xt->by_fn[i].n, o, slack);
		shown++;
	}
	if (shown == 0)
		fail_msg("%s: no named site to compare by %s", p->name, measure);
}

static void compare(const struct program *p)
{
	struct numbers xt = {0}, ht, vg, xtb = {0};
	xtrace_numbers(p, &xt, &xtb);
	heaptrack_numbers(p, &ht);
	valgrind_numbers(p, &vg);
	uint64_t leak_slack = p->early_bytes + p->tls_slack * p->threads;
	within(p, "valgrind", "allocation calls", xt.allocs, vg.allocs, p->early);
	within(p, "heaptrack", "allocation calls", xt.allocs, ht.allocs, p->early);
	within(p, "valgrind", "frees", xt.frees, vg.frees, p->early);
	within(p, "heaptrack", "peak", xt.peak, ht.peak, leak_slack);
	within(p, "valgrind", "leaked bytes", xt.leaked_bytes, vg.leaked_bytes, leak_slack);
	within(p, "heaptrack", "leaked bytes", xt.leaked_bytes, ht.leaked_bytes, leak_slack);
	within(p, "valgrind", "leaked objects", xt.leaked_objects, vg.leaked_objects, p->early);
	/* an allocation one tool saw and the other did not can break the pair it falls inside
	 * and make one of its own: two temporaries each */
	uint64_t unseen = xt.allocs > ht.allocs ? xt.allocs - ht.allocs : ht.allocs - xt.allocs;
	within(p, "heaptrack", "temporary", xt.temporary, ht.temporary,
	       2 * unseen + p->temporary_noise);
	if (p->heaptrack_names)
		top_sites(p, "heaptrack", "allocs", &xt, &ht, p->early);
	top_sites(p, "valgrind", "bytes", &xtb, &vg, p->early_bytes);
	free(xt.by_fn);
	free(xtb.by_fn);
	free(ht.by_fn);
	free(vg.by_fn);
}

/* Programs nobody here wrote: a handful of allocations before the shim starts. */
#define EARLY 32
#define EARLY_BYTES (64 * 1024)
#define TLS_SLACK 64

static void test_perl(void **state)
{
	static const char *const env[] = {"PERL_HASH_SEED=0", "PERL_PERTURB_KEYS=0", NULL};
	compare(&(struct program){
		"perl",
		H_ARGV("/usr/bin/perl", "-e",
		       "my %h; $h{\"k$_\"} = 'v' x ($_ % 50) for 1 .. 20000;"
		       "my $s = join ',', map { substr($h{$_}, 0, 3) } sort keys %h;"
		       "my @a = split /,/, $s; print scalar(@a), \"\\n\";"),
		env, EARLY, EARLY_BYTES, TLS_SLACK, 0, 1, 0});
}

/* Debian's python3.11 keeps only its exported symbols, and heaptrack_print names its code by
 * some nearby one, differently from run to run (PyUnicode_New's allocations once as
 * PyUnicode_New, once as PyObject_Str): its sites are matched with valgrind's only. */
static void test_python(void **state)
{
	static const char *const env[] = {"PYTHONMALLOC=malloc", "PYTHONHASHSEED=0", NULL};
	compare(&(struct program){
		"python3",
		H_ARGV("/usr/bin/python3", "-c",
		       "import json\n"
		       "d = {str(i): [i, str(i) * 3, {'k': i}] for i in range(2000)}\n"
		       "s = json.dumps(d)\n"
		       "print(len(s), len(json.loads(s)))\n"),
		env, EARLY, EARLY_BYTES, TLS_SLACK, 0, 0, 32});
}

/* Every rule of heaptrack's temporary count, one case each, threads kept in step by barriers
 * (tests/workloads/temporaries.c). A program whose threads race (prodcons) has another order
 * of events, and so other temporaries, in every run: no run of another tool can check it. */
static void test_temporaries(void **state)
{
	compare(&(struct program){"temporaries", H_ARGV((char *)h_workload("temporaries")), NULL, 0,
				  0, TLS_SLACK, 2, 1, 0});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perl),
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_temporaries),
	};
	return h_finish(cmocka_run_group_tests_name("oracles", tests, NULL, NULL));
}
