/* harness.h: helpers for the integration tests: run a workload with or without the shim in a
 * fresh directory, find its trace files, summarize a trace with the reader library, run the
 * xtrace CLI and read numbers out of its JSON. Header-only (static functions), included by each
 * tests/integration/test_*.c; include it after <cmocka.h>.
 *
 * Paths come from the environment tests.mk sets: XTRACE_BUILD (workloads under
 * $XTRACE_BUILD/workloads), XTRACE_LIB (libxtrace.so) and XTRACE_BIN (the xtrace CLI); the
 * defaults build, lib and bin fit a run from the repository root.
 *
 * Counting a program's own allocations: libc and ld.so allocate on their own behalf too (a
 * thread's DTV, dlopen's bookkeeping), so tests that must count exactly count the allocations
 * whose innermost frame (the caller of the API) lies in a chosen module, the workload's
 * executable by default, and the frees of addresses such allocations returned. */
#ifndef XT_HARNESS_H
#define XT_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xtrace-reader.h"

extern char **environ;

#define H_NAPI 9
static const char *const h_api_names[H_NAPI] = { "malloc", "calloc", "realloc", "reallocarray",
	"posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc" };

/* ---- paths ---------------------------------------------------------------------------- */

/* h_fmt is snprintf for paths and messages; a result that does not fit is a test setup error. */
__attribute__((format(printf, 3, 4))) static void h_fmt(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= n) {
		fprintf(stderr, "harness: '%s' does not fit in %zu bytes\n", fmt, n);
		abort();
	}
}

static const char *h_env_dir(const char *var, const char *dflt, char *buf)
{
	const char *v = getenv(var);
	if (!v || !*v)
		v = dflt;
	if (!realpath(v, buf))
		h_fmt(buf, PATH_MAX, "%s", v);
	return buf;
}

static const char *h_build_dir(void)
{
	static char b[PATH_MAX];
	return b[0] ? b : h_env_dir("XTRACE_BUILD", "build", b);
}

static const char *h_shim_path(void)
{
	static char b[PATH_MAX];
	if (!b[0]) {
		char d[PATH_MAX];
		h_fmt(b, sizeof b, "%s/libxtrace.so", h_env_dir("XTRACE_LIB", "lib", d));
	}
	return b;
}

static const char *h_cli_path(void)
{
	static char b[PATH_MAX];
	if (!b[0]) {
		char d[PATH_MAX];
		h_fmt(b, sizeof b, "%s/xtrace", h_env_dir("XTRACE_BIN", "bin", d));
	}
	return b;
}

/* h_workload returns the path of workload name (a file in $XTRACE_BUILD/workloads). */
static const char *h_workload(const char *name)
{
	static char b[8][PATH_MAX];
	static unsigned next;
	char *p = b[next++ % 8];
	h_fmt(p, PATH_MAX, "%s/workloads/%s", h_build_dir(), name);
	return p;
}

/* ---- memory that outlives a failed assertion ------------------------------------------------ */

/* A failed assertion longjmps out of the test, past its frees; buffers handed to tests are
 * tracked here and released by h_finish, so leak checkers see only real leaks. */
static void *h_live[4096];

static void *h_track(void *p)
{
	for (size_t i = 0; p && i < sizeof h_live / sizeof h_live[0]; i++) {
		if (!h_live[i]) {
			h_live[i] = p;
			break;
		}
	}
	return p;
}

/* h_free frees p, which h_track returned (or NULL). */
static void h_free(void *p)
{
	for (size_t i = 0; p && i < sizeof h_live / sizeof h_live[0]; i++) {
		if (h_live[i] == p) {
			h_live[i] = NULL;
			break;
		}
	}
	free(p);
}

/* ---- temporary directories --------------------------------------------------------------- */

/* Every directory a test binary makes lies in one root of its own, so removing the root
 * removes them all, however many there were. */
static char h_root[PATH_MAX];
static unsigned h_ndirs;

/* h_tmpdir makes a fresh directory; h_finish removes them all at the end of a passing run
 * (a failing run keeps them and prints where, to look at the traces). The name stays valid
 * until 256 more are made. */
static const char *h_tmpdir(void)
{
	static char dirs[256][PATH_MAX];
	if (!h_root[0]) {
		const char *base = getenv("TMPDIR");
		h_fmt(h_root, sizeof h_root, "%s/xtrace-test.XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(h_root)) {
			fprintf(stderr, "mkdtemp %s: %s\n", h_root, strerror(errno));
			abort();
		}
	}
	char *d = dirs[h_ndirs % 256];
	h_fmt(d, PATH_MAX, "%s/%u", h_root, h_ndirs++);
	if (mkdir(d, 0700) < 0) {
		fprintf(stderr, "mkdir %s: %s\n", d, strerror(errno));
		abort();
	}
	return d;
}

static void h_rmtree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char p[PATH_MAX];
			h_fmt(p, sizeof p, "%s/%s", path, e->d_name);
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				h_rmtree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

static int h_finish(int failures)
{
	for (size_t i = 0; i < sizeof h_live / sizeof h_live[0]; i++) {
		free(h_live[i]);
		h_live[i] = NULL;
	}
	if (failures) {
		/* failure messages name the trace files; their directories stay to be looked at */
		if (h_root[0])
			fprintf(stderr, "kept %u test directories in %s\n", h_ndirs, h_root);
		return failures;
	}
	if (h_root[0])
		h_rmtree(h_root);
	return 0;
}

/* ---- files ------------------------------------------------------------------------------- */

/* h_read_file returns the file's bytes, NUL-terminated (NULL if it cannot be read). */
static char *h_read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	fclose(f);
	buf[len] = 0;
	if (lenp)
		*lenp = len;
	return buf;
}

static int h_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(data, 1, len, f);
	return (fclose(f) == 0 && w == len) ? 0 : -1;
}

static size_t h_count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static size_t h_count_substr(const char *s, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	for (const char *p = s; (p = strstr(p, needle)); p += nl)
		n++;
	return n;
}

/* h_find_traces lists the regular files in dir whose names end in ".xt", sorted by name. */
static int h_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t h_find_traces(const char *dir, char paths[][PATH_MAX], size_t max)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256) {
		size_t l = strlen(e->d_name);
		if (l > 3 && !strcmp(e->d_name + l - 3, ".xt"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], h_cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i < max)
			h_fmt(paths[i], PATH_MAX, "%s/%s", dir, names[i]);
		free(names[i]);
	}
	return n;
}

/* ---- running programs -------------------------------------------------------------------- */

struct h_run {
	char dir[PATH_MAX];  /* fresh directory: traces, stdout and stderr go here */
	char out_path[PATH_MAX], err_path[PATH_MAX];
	char *out, *err;     /* captured stdout and stderr */
	size_t out_len, err_len;
	int status;          /* wait status */
	pid_t pid;
};

/* h_child_env fills envp with this process's environment cleared of XTRACE_* and LD_PRELOAD,
 * plus env (NULL-terminated "K=V" strings, may be NULL). */
static void h_child_env(char *envp[512], const char *const env[])
{
	size_t n = 0;
	for (char **e = environ; *e && n < 400; e++) {
		if (!strncmp(*e, "XTRACE_", 7) || !strncmp(*e, "LD_PRELOAD=", 11))
			continue;
		envp[n++] = *e;
	}
	for (size_t i = 0; env && env[i] && n < 510; i++)
		envp[n++] = (char *)env[i];
	envp[n] = NULL;
}

/* h_spawn runs argv[0] with argv and the environment h_child_env makes of env; stdout and
 * stderr go to files in dir. */
static int h_spawn(struct h_run *r, const char *dir, char *const argv[], const char *const env[])
{
	memset(r, 0, sizeof *r);
	h_fmt(r->dir, sizeof r->dir, "%s", dir);
	static unsigned seq;
	seq++;
	h_fmt(r->out_path, sizeof r->out_path, "%s/stdout.%u", dir, seq);
	h_fmt(r->err_path, sizeof r->err_path, "%s/stderr.%u", dir, seq);

	char *envp[512];
	h_child_env(envp, env);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, r->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, r->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc = posix_spawn(&r->pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "posix_spawn %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(r->pid, &r->status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	r->out = h_read_file(r->out_path, &r->out_len);
	r->err = h_read_file(r->err_path, &r->err_len);
	if (!r->out)
		r->out = strdup("");
	if (!r->err)
		r->err = strdup("");
	h_track(r->out);
	h_track(r->err);
	return 0;
}

static void h_run_free(struct h_run *r)
{
	h_free(r->out);
	h_free(r->err);
	r->out = r->err = NULL;
}

/* h_trace_env fills env with the shim's variables for a run in dir, then extra ones. */
static const char *const *h_trace_env(const char *dir, const char *const extra[])
{
	static char preload[PATH_MAX + 16], out[PATH_MAX + 16];
	static const char *env[32];
	h_fmt(preload, sizeof preload, "LD_PRELOAD=%s", h_shim_path());
	h_fmt(out, sizeof out, "XTRACE_OUT=%s/t.%%p.xt", dir);
	size_t n = 0;
	env[n++] = preload;
	env[n++] = out;
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	return env;
}

/* h_traced runs a workload under the shim in a fresh directory. extra: more "K=V" (or NULL). */
static void h_traced(struct h_run *r, const char *const extra[], char *const argv[])
{
	const char *dir = h_tmpdir();
	if (h_spawn(r, dir, argv, h_trace_env(dir, extra)) != 0)
		fail_msg("cannot run %s", argv[0]);
}

/* h_plain runs a workload without the shim in a fresh directory. */
static void h_plain(struct h_run *r, char *const argv[])
{
	if (h_spawn(r, h_tmpdir(), argv, NULL) != 0)
		fail_msg("cannot run %s", argv[0]);
}

#define H_ARGV(...) ((char *const[]){ __VA_ARGS__, NULL })

/* h_expect_exit asserts the program exited normally with code. */
#define h_expect_exit(r, code)                                                              \
	do {                                                                                    \
		if (!WIFEXITED((r)->status) || WEXITSTATUS((r)->status) != (code))                  \
			fail_msg("expected exit %d, got wait status 0x%x; stderr: %s", (code),          \
				 (r)->status, (r)->err);                                                    \
	} while (0)

/* h_one_trace asserts the run left exactly one trace file and copies its path to path. */
static void h_one_trace(const struct h_run *r, char path[PATH_MAX])
{
	char paths[8][PATH_MAX];
	size_t n = h_find_traces(r->dir, paths, 8);
	if (n != 1)
		fail_msg("expected 1 trace file in %s, found %zu; stderr: %s", r->dir, n, r->err);
	memcpy(path, paths[0], PATH_MAX);
}

static int h_cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* h_program_files lists the files of dir the program made (not traces, not its captured
 * output), one "name size" line each, sorted. */
static void h_program_files(const char *dir, char *buf, size_t len)
{
	char names[32][PATH_MAX];
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 32) {
		const char *name = e->d_name;
		size_t l = strlen(name);
		if (name[0] == '.' || (l > 3 && !strcmp(name + l - 3, ".xt")) ||
		    !strncmp(name, "stdout.", 7) || !strncmp(name, "stderr.", 7))
			continue;
		h_fmt(names[n++], PATH_MAX, "%s", name);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof names[0], h_cmp_name);
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;
		h_fmt(path, sizeof path, "%s/%s", dir, names[i]);
		long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
		off += (size_t)snprintf(buf + off, len - off, "%s %lld\n", names[i], size);
		if (off >= len)
			fail_msg("too many files in %s", dir);
	}
}

/* h_same_as_untraced asserts the traced run r ended as the untraced run plain did: wait status,
 * output and files. */
static void h_same_as_untraced(const struct h_run *r, const struct h_run *plain,
			       const char *what)
{
	if (r->status != plain->status)
		fail_msg("%s: wait status 0x%x traced, 0x%x untraced; stdout: %s; stderr: %s", what,
			 r->status, plain->status, r->out, r->err);
	if (strcmp(r->out, plain->out) != 0)
		fail_msg("%s: stdout traced:\n%s\nuntraced:\n%s", what, r->out, plain->out);
	char a[4096], b[4096];
	h_program_files(r->dir, a, sizeof a);
	h_program_files(plain->dir, b, sizeof b);
	if (strcmp(a, b) != 0)
		fail_msg("%s: files traced:\n%s\nuntraced:\n%s", what, a, b);
}

/* h_out_u64 reads the number after "key=" in the first line of out that contains prefix. */
static uint64_t h_out_u64(const char *out, const char *prefix, const char *key)
{
	const char *line = strstr(out, prefix);
	if (!line)
		fail_msg("no line with '%s' in program output: %s", prefix, out);
	const char *eol = strchr(line, '\n');
	char k[64];
	h_fmt(k, sizeof k, "%s=", key);
	for (const char *p = line; (p = strstr(p, k)) && (!eol || p < eol); p++) {
		if (p == line || p[-1] == ' ')
			return strtoull(p + strlen(k), NULL, 0);
	}
	fail_msg("no '%s' in line '%.*s'", k, eol ? (int)(eol - line) : 80, line);
	return 0;
}

/* ---- the xtrace CLI ------------------------------------------------------------------------ */

/* h_cli runs bin/xtrace with args in a fresh directory; returns its exit code (or 128+signal). */
static int h_cli(struct h_run *r, char *const args[])
{
	char *argv[32];
	size_t n = 0;
	argv[n++] = (char *)h_cli_path();
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (h_spawn(r, h_tmpdir(), argv, NULL) != 0)
		fail_msg("cannot run %s", argv[0]);
	if (WIFEXITED(r->status))
		return WEXITSTATUS(r->status);
	return 128 + WTERMSIG(r->status);
}

/* h_browse runs tests/integration/report_browser.py with args: `xtrace report`'s page used in
 * headless Chromium through the DevTools protocol. It returns what the script saw, as JSON, or
 * skips the test when Chromium is not installed. */
static char *h_browse(char *const args[])
{
	if (access("/usr/bin/chromium", X_OK) != 0) {
		fprintf(stderr, "chromium is not installed (scripts/deps.sh installs it): the report is "
			"not rendered\n");
		skip();
	}
	char script[PATH_MAX];
	if (!realpath("tests/integration/report_browser.py", script))
		fail_msg("run from the repository root: no tests/integration/report_browser.py");
	char *argv[8] = {"/usr/bin/python3", script};
	for (int i = 0; args[i] && i < 5; i++)
		argv[i + 2] = args[i];
	struct h_run r;
	if (h_spawn(&r, h_tmpdir(), argv, NULL) != 0)
		fail_msg("cannot run %s", argv[0]);
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
		fail_msg("report_browser.py failed: %s", r.err);
	return r.out;
}

/* A minimal JSON walker: enough to read a number at a dotted path of object keys, such as
 * "by_api.malloc.calls", from `xtrace stats --json`. */
static const char *h_json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *h_json_skip(const char *p);

static const char *h_json_string_end(const char *p)
{
	if (*p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p == '"' ? p + 1 : NULL;
}

static const char *h_json_skip(const char *p)
{
	p = h_json_ws(p);
	if (*p == '"')
		return h_json_string_end(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = h_json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = h_json_string_end(h_json_ws(p));
				if (!p)
					return NULL;
				p = h_json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = h_json_skip(p);
			if (!p)
				return NULL;
			p = h_json_ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	const char *s = p;
	while (*p && !strchr(",}] \n\t\r", *p))
		p++;
	return p > s ? p : NULL;
}

/* h_json_find returns where the value at path begins in json (an object), or NULL. */
static const char *h_json_find(const char *json, const char *path)
{
	const char *p = h_json_ws(json);
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t kl = dot ? (size_t)(dot - path) : strlen(path);
		if (*p != '{')
			return NULL;
		p = h_json_ws(p + 1);
		const char *found = NULL;
		while (*p && *p != '}') {
			const char *ke = h_json_string_end(p);
			if (!ke)
				return NULL;
			bool match = (size_t)(ke - p - 2) == kl && !strncmp(p + 1, path, kl);
			p = h_json_ws(ke);
			if (*p++ != ':')
				return NULL;
			p = h_json_ws(p);
			if (match) {
				found = p;
				break;
			}
			p = h_json_skip(p);
			if (!p)
				return NULL;
			p = h_json_ws(p);
			if (*p == ',')
				p = h_json_ws(p + 1);
		}
		if (!found)
			return NULL;
		p = found;
		path += kl + (dot ? 1 : 0);
	}
	return p;
}

/* h_json_u64 asserts json has a non-negative integer at path and returns it. */
static uint64_t h_json_u64(const char *json, const char *path)
{
	const char *p = h_json_find(json, path);
	if (!p || *p < '0' || *p > '9')
		fail_msg("no number at '%s' in JSON: %s", path, json);
	return strtoull(p, NULL, 10);
}

static bool h_json_bool(const char *json, const char *path)
{
	const char *p = h_json_find(json, path);
	if (p && !strncmp(p, "true", 4))
		return true;
	if (p && !strncmp(p, "false", 5))
		return false;
	fail_msg("no boolean at '%s' in JSON: %s", path, json);
	return false;
}

/* ---- trace summaries with the reader library ---------------------------------------------- */

/* An address map: open addressing with linear probing and backward-shift deletion. */
struct h_addrset {
	uint64_t *keys; /* 0 = empty (address 0 is never stored) */
	uint64_t *vals;
	size_t cap, n;
};

static size_t h_hash(uint64_t a, size_t cap)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	return (size_t)a & (cap - 1);
}

static void h_addrset_put(struct h_addrset *s, uint64_t a, uint64_t v);

static void h_addrset_grow(struct h_addrset *s)
{
	struct h_addrset old = *s;
	s->cap = old.cap ? old.cap * 2 : 1024;
	s->keys = calloc(s->cap, sizeof *s->keys);
	s->vals = calloc(s->cap, sizeof *s->vals);
	s->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			h_addrset_put(s, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

static void h_addrset_put(struct h_addrset *s, uint64_t a, uint64_t v)
{
	if ((s->n + 1) * 2 > s->cap)
		h_addrset_grow(s);
	size_t i = h_hash(a, s->cap);
	while (s->keys[i] && s->keys[i] != a)
		i = (i + 1) & (s->cap - 1);
	if (!s->keys[i])
		s->n++;
	s->keys[i] = a;
	s->vals[i] = v;
}

/* h_addrset_take removes a and stores its value in *v; false if a was not there. */
static bool h_addrset_take(struct h_addrset *s, uint64_t a, uint64_t *v)
{
	if (!s->cap)
		return false;
	size_t i = h_hash(a, s->cap);
	while (s->keys[i] && s->keys[i] != a)
		i = (i + 1) & (s->cap - 1);
	if (!s->keys[i])
		return false;
	*v = s->vals[i];
	s->keys[i] = 0;
	s->n--;
	/* backward shift: move later members of the cluster into the hole when they may */
	for (size_t j = (i + 1) & (s->cap - 1); s->keys[j]; j = (j + 1) & (s->cap - 1)) {
		size_t h = h_hash(s->keys[j], s->cap);
		if (((j - h) & (s->cap - 1)) >= ((j - i) & (s->cap - 1))) {
			s->keys[i] = s->keys[j];
			s->vals[i] = s->vals[j];
			s->keys[j] = 0;
			i = j;
		}
	}
	return true;
}

static void h_addrset_free(struct h_addrset *s)
{
	free(s->keys);
	free(s->vals);
	memset(s, 0, sizeof *s);
}

struct h_count {
	uint64_t calls, bytes;
};

struct h_thread {
	uint64_t tid, allocs, frees;
};

/* h_alloc_fn, if set in h_summary.on_alloc, sees every ObjectAlloc while its generation's
 * tables are current; mine says whether its caller is in the focus module. */
struct h_summary;
typedef void (*h_alloc_fn)(struct h_summary *s, xtrace_reader *r, const struct xtrace_event *ev,
			   const struct xtrace_alloc_type *type, bool mine);

#define H_MAX_THREADS 16384 /* a power of two */

struct h_summary {
	/* inputs */
	const char *focus; /* basename of the module whose allocations are "mine" */
	h_alloc_fn on_alloc;
	void *ctx;

	/* the reader's verdict */
	int last;                 /* last xtrace_next result: 0 clean end, -1 error */
	enum xtrace_status status;
	char error[256];
	uint64_t pid, ppid, fork_parent_pid;
	char exe[PATH_MAX];

	/* the whole trace */
	uint64_t gens, events, lost, syncs_threads_max;
	uint64_t allocs, failed, frees, reallocfrees, free_null, unknown_frees;
	uint64_t missing_types, missing_stacks;
	uint64_t shim_allocs;     /* allocations whose caller is in libxtrace.so: must be none */
	uint64_t peak_live_bytes, live_bytes_end, live_objects_end; /* requested bytes */
	struct h_count api[H_NAPI];

	/* the focus module's own: allocations it called, frees of what they returned */
	uint64_t my_allocs, my_failed, my_frees, my_reallocfrees, my_live_end, my_peak_bytes;
	struct h_count my_api[H_NAPI];
	/* per thread: focus allocations and frees of them, and an index of them by tid (open
	 * addressing: the thread's place in threads + 1, 0 empty) */
	struct h_thread threads[H_MAX_THREADS];
	size_t nthreads;
	uint32_t thread_index[2 * H_MAX_THREADS];

	/* every module path seen in any generation (distinct) */
	char modules[64][PATH_MAX];
	size_t nmodules;
	uint64_t unknown_free_addr[16]; /* the first frees of addresses never allocated here */
};

static struct h_thread *h_thread_of(struct h_summary *s, uint64_t tid)
{
	size_t mask = 2 * H_MAX_THREADS - 1, i = (size_t)(tid * 0x9e3779b97f4a7c15ull >> 40) & mask;
	for (; s->thread_index[i]; i = (i + 1) & mask)
		if (s->threads[s->thread_index[i] - 1].tid == tid)
			return &s->threads[s->thread_index[i] - 1];
	if (s->nthreads == H_MAX_THREADS)
		fail_msg("more than %d threads", H_MAX_THREADS);
	s->threads[s->nthreads].tid = tid;
	s->thread_index[i] = (uint32_t)++s->nthreads;
	return &s->threads[s->nthreads - 1];
}

static const char *h_basename(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void h_note_modules(struct h_summary *s, const xtrace_reader *r)
{
	const struct xtrace_module *m;
	size_t n = xtrace_modules(r, &m);
	for (size_t i = 0; i < n; i++) {
		const char *path = m[i].path ? m[i].path : "";
		size_t k;
		for (k = 0; k < s->nmodules; k++)
			if (!strcmp(s->modules[k], path))
				break;
		if (k == s->nmodules && s->nmodules < 64)
			h_fmt(s->modules[s->nmodules++], PATH_MAX, "%s", path);
	}
}

/* h_is_mine says whether stack's innermost frame (the API's caller) is in the focus module. */
static bool h_is_mine(struct h_summary *s, const xtrace_reader *r, uint64_t stack)
{
	const uint64_t *pcs;
	if (xtrace_stack(r, stack, &pcs) == 0) {
		s->missing_stacks++;
		return false;
	}
	/* a return address may sit just past the module's end when the call is its last
	 * instruction: look up pc - 1, as a symbolizer does */
	const struct xtrace_module *m = xtrace_module_of(r, pcs[0] - 1);
	const char *base = m && m->path ? h_basename(m->path) : "";
	if (!strcmp(base, "libxtrace.so"))
		s->shim_allocs++;
	return !s->focus || !strcmp(base, s->focus);
}

static bool h_has_module(const struct h_summary *s, const char *base)
{
	for (size_t k = 0; k < s->nmodules; k++)
		if (!strcmp(h_basename(s->modules[k]), base))
			return true;
	return false;
}

/* h_summarize reads the whole trace at path into s (whose inputs the caller has set). It
 * returns the reader's last xtrace_next result: 0 when the trace ended cleanly. */
static int h_summarize(const char *path, struct h_summary *s)
{
	char err[256] = "";
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	if (!r)
		fail_msg("xtrace_open %s: %s", path, err);
	const struct xtrace_header *h = xtrace_get_header(r);
	s->pid = h->pid;
	s->ppid = h->ppid;
	s->fork_parent_pid = h->fork_parent_pid;
	h_fmt(s->exe, sizeof s->exe, "%s", h->exe ? h->exe : "");

	/* live address -> requested bytes << 1 | 1 if the focus module allocated it */
	struct h_addrset live = { 0 };
	uint64_t cur = 0, my_cur = 0;
	struct xtrace_event ev;
	int rc;
	while ((rc = xtrace_next(r, &ev)) == 1) {
		s->events++;
		if (ev.kind == XTRACE_EVENT_SYNC) {
			const struct xtrace_sync *sy = xtrace_get_sync(r);
			s->gens++;
			s->lost += sy->lost;
			s->events--;
			if (sy->nthreads > s->syncs_threads_max)
				s->syncs_threads_max = sy->nthreads;
			h_note_modules(s, r);
			continue;
		}
		if (ev.kind != XTRACE_EVENT_EXPERIMENTAL || !ev.name)
			continue;
		if (!strcmp(ev.name, "ObjectAlloc")) {
			uint64_t addr = ev.args[0];
			const struct xtrace_alloc_type *t = xtrace_alloc_type(r, ev.args[1]);
			if (!t) {
				s->missing_types++;
				continue;
			}
			bool mine = h_is_mine(s, r, ev.args[2]);
			uint64_t bytes = t->elem_size * t->count;
			s->allocs++;
			if (t->api < H_NAPI) {
				s->api[t->api].calls++;
				s->api[t->api].bytes += bytes;
			}
			if (!addr)
				s->failed++;
			if (mine) {
				s->my_allocs++;
				if (!addr)
					s->my_failed++;
				if (t->api < H_NAPI) {
					s->my_api[t->api].calls++;
					s->my_api[t->api].bytes += bytes;
				}
				h_thread_of(s, ev.thread)->allocs++;
			}
			if (addr) {
				h_addrset_put(&live, addr, bytes << 1 | (mine ? 1 : 0));
				cur += bytes;
				if (cur > s->peak_live_bytes)
					s->peak_live_bytes = cur;
				if (mine) {
					my_cur += bytes;
					if (my_cur > s->my_peak_bytes)
						s->my_peak_bytes = my_cur;
				}
			}
			if (s->on_alloc)
				s->on_alloc(s, r, &ev, t, mine);
		} else if (!strcmp(ev.name, "ObjectFree") || !strcmp(ev.name, "ObjectReallocFree")) {
			bool realloc_free = ev.name[6] == 'R';
			uint64_t addr = ev.args[0];
			if (realloc_free)
				s->reallocfrees++;
			else
				s->frees++;
			if (!addr) {
				s->free_null++;
				continue;
			}
			uint64_t was;
			if (!h_addrset_take(&live, addr, &was)) {
				if (s->unknown_frees < 16)
					s->unknown_free_addr[s->unknown_frees] = addr;
				s->unknown_frees++;
				continue;
			}
			cur -= was >> 1;
			if (was & 1) {
				my_cur -= was >> 1;
				if (realloc_free)
					s->my_reallocfrees++;
				else
					s->my_frees++;
				h_thread_of(s, ev.thread)->frees++;
			}
		}
	}
	for (size_t i = 0; i < live.cap; i++) {
		if (!live.keys[i])
			continue;
		s->live_objects_end++;
		s->live_bytes_end += live.vals[i] >> 1;
		s->my_live_end += live.vals[i] & 1;
	}
	h_addrset_free(&live);
	s->last = rc;
	s->status = xtrace_status(r);
	if (rc != 0)
		/* a long message is cut: it is only shown */
		(void)!snprintf(s->error, sizeof s->error, "%s (offset %llu)",
			 xtrace_error(r) ? xtrace_error(r) : "?",
			 (unsigned long long)xtrace_error_offset(r));
	xtrace_close(r);
	return rc;
}

/* h_summarize_clean summarizes and asserts the trace is complete and had no losses. */
static void h_summarize_clean(const char *path, struct h_summary *s)
{
	if (h_summarize(path, s) != 0)
		fail_msg("%s: reading stopped with status %d: %s", path, (int)s->status, s->error);
	if (s->gens == 0)
		fail_msg("%s: no complete generation", path);
	if (s->lost)
		fail_msg("%s: %llu events lost", path, (unsigned long long)s->lost);
	if (s->missing_types)
		fail_msg("%s: %llu allocations with an unknown type", path,
			 (unsigned long long)s->missing_types);
	if (s->shim_allocs)
		fail_msg("%s: %llu allocations made by libxtrace.so itself were recorded", path,
			 (unsigned long long)s->shim_allocs);
}

/* h_validate asserts `xtrace validate path` exits 0. */
static void h_validate(const char *path)
{
	struct h_run c;
	int rc = h_cli(&c, H_ARGV("validate", (char *)path));
	if (rc != 0)
		fail_msg("xtrace validate %s: exit %d\nstdout: %s\nstderr: %s", path, rc, c.out, c.err);
	h_run_free(&c);
}

/* h_stats_json runs `xtrace stats path --json`, asserts exit code want, returns its stdout
 * (release it with h_free). */
static char *h_stats_json(const char *path, int want)
{
	struct h_run c;
	int rc = h_cli(&c, H_ARGV("stats", (char *)path, "--json"));
	if (rc != want)
		fail_msg("xtrace stats %s --json: exit %d, expected %d\nstderr: %s", path, rc, want,
			 c.err);
	char *out = c.out;
	c.out = NULL;
	h_run_free(&c);
	return out;
}

#endif
