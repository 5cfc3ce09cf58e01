/* run.c: `xtrace run`: run a program with the tracing library preloaded, every process of its
 * tree (forks, execs, their children) tracing into one run directory, and at the end write the
 * directory's index and a short summary on stderr. It exits as the program did: with its status,
 * or killed by the same signal. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/stats_json.h"
#include "cli.h"
#include "options.h"
#include "tree.h"

/* find_library puts the path of the tracing library next to this binary in lib (PATH_MAX
 * bytes): <prefix>/bin/xtrace uses <prefix>/lib/libxtrace.so, and a sanitizer build's bin-SAN/
 * uses lib-SAN/. tried gets the path it looked at. */
static int find_library(char *lib, char *tried, size_t tn)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len < 0) {
		snprintf(tried, tn, "/proc/self/exe");
		return -1;
	}
	self[len] = 0;
	char *bindir = dirname(self);
	char bindir_copy[PATH_MAX];
	snprintf(bindir_copy, sizeof bindir_copy, "%s", bindir);
	const char *base = basename(bindir_copy);
	const char *suffix = strncmp(base, "bin", 3) == 0 ? base + 3 : "";
	snprintf(tried, tn, "%s/../lib%s/libxtrace.so", bindir, suffix);
	/* An absolute, clean path: the program may change directory before it loads anything. */
	return realpath(tried, lib) ? 0 : -1;
}

/* The index of a run: what xt_put_image_json says of each image, after the command. */
#define INDEX_NAME "index.json"

static int write_index(const char *dir, const struct xt_run *run, char **argv, pid_t pid)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	snprintf(path, sizeof path, "%s/" INDEX_NAME, dir);
	snprintf(tmp, sizeof tmp, "%s/." INDEX_NAME ".tmp", dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	struct xt_out o;
	if (fd < 0 || xt_out_open(&o, fd, 1u << 16) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	xt_out_str(&o, "{\n  \"version\": 1,\n  \"command\": [");
	for (int i = 0; argv[i]; i++) {
		if (i)
			xt_out_str(&o, ", ");
		xt_out_json_str(&o, argv[i], strlen(argv[i]));
	}
	xt_out_printf(&o, "],\n  \"pid\": %lld,\n  \"processes\": [", (long long)pid);
	for (size_t k = 0; k < run->count; k++) {
		xt_out_str(&o, k ? ",\n    " : "\n    ");
		xt_put_image_json(&o, run, &run->img[run->order[k]]);
	}
	xt_out_str(&o, "\n  ]\n}\n");
	int bad = xt_out_close(&o) < 0;
	bad |= close(fd) < 0;
	if (bad || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* fill_root_end: the root's last image ended as the wait status says when its trace cannot tell
 * (killed by SIGKILL, say). */
static void fill_root_end(struct xt_run *run, pid_t pid, int status)
{
	for (size_t i = run->count; i-- > 0;) {
		struct xt_image *im = &run->img[i];
		if (im->pid != (uint64_t)pid)
			continue;
		if (!im->end) {
			im->end = WIFSIGNALED(status) ? XT_END_SIGNAL : XT_END_EXIT;
			im->end_status = (uint64_t)(WIFSIGNALED(status) ? WTERMSIG(status) :
						    WEXITSTATUS(status));
		}
		return;
	}
}

enum { SUMMARY_ROWS = 5 };

/* summarize writes the run's few lines on stderr: the directory, how many processes and images
 * and events, and the largest images by events. */
static void summarize(const char *dir, const struct xt_run *run)
{
	size_t top[SUMMARY_ROWS], ntop = 0, procs = 0, cut = 0;
	uint64_t events = 0;
	for (size_t i = 0; i < run->count; i++) {
		const struct xt_image *im = &run->img[i];
		events += im->t.events;
		procs += im->exec_from < 0;
		cut += im->t.st != XTRACE_OK;
		/* insertion into the few largest */
		size_t k = ntop < SUMMARY_ROWS ? ntop++ : SUMMARY_ROWS;
		while (k > 0 && run->img[top[k - 1]].t.events < im->t.events) {
			if (k < SUMMARY_ROWS)
				top[k] = top[k - 1];
			k--;
		}
		if (k < SUMMARY_ROWS)
			top[k] = i;
	}
	struct xt_out o;
	if (xt_out_open(&o, STDERR_FILENO, 1u << 12) < 0)
		return;
	xt_out_printf(&o, "xtrace: run %s: %zu process%s, %zu image%s, %llu events%s\n", dir, procs,
		      procs == 1 ? "" : "es", run->count, run->count == 1 ? "" : "s",
		      (unsigned long long)events, run->count > ntop ? "; largest:" : ":");
	const char *cell[5];
	char buf[4][32], prog[64];
	size_t width[5] = {0};
	for (int round = 0; round < 2; round++) {
		for (size_t k = 0; k < ntop; k++) {
			const struct xt_image *im = &run->img[top[k]];
			snprintf(buf[0], 32, "  %llu", (unsigned long long)im->pid);
			snprintf(buf[1], 32, "%llu events", (unsigned long long)im->t.events);
			xt_fmt_bytes(buf[2], 32, im->t.peak_live_bytes);
			xt_image_status(buf[3], 32, im);
			cli_argv_str(prog, sizeof prog, im, 0);
			const char *c[5] = {buf[0], buf[1], buf[2], buf[3], prog};
			memcpy(cell, c, sizeof c);
			if (round == 0)
				xt_cols_fit(width, cell, 5);
			else
				xt_cols_row(&o, width, cell, 5, 3u << 3);
		}
	}
	if (cut)
		xt_out_printf(&o, "xtrace: %zu trace%s cut short (a process killed, or still running)\n",
			      cut, cut == 1 ? " is" : "s are");
	xt_out_close(&o);
}

/* make_dir creates the run directory: the one asked for (which may exist, empty), or
 * xtrace.<program>.<pid>. abs gets its absolute path (PATH_MAX bytes): the programs of the tree
 * may change directory. */
static int make_dir(const char *want, const char *program, pid_t pid, char *abs)
{
	char name[PATH_MAX];
	if (want) {
		snprintf(name, sizeof name, "%s", want);
	} else {
		char copy[PATH_MAX];
		snprintf(copy, sizeof copy, "%s", program);
		snprintf(name, sizeof name, "xtrace.%s.%lld", basename(copy), (long long)pid);
	}
	if (mkdir(name, 0755) < 0 && !(errno == EEXIST && want)) {
		cli_warn("cannot create the run directory %s: %s", name, strerror(errno));
		return -1;
	}
	struct stat st;
	if (!realpath(name, abs) || stat(abs, &st) < 0) {
		cli_warn("%s: %s", name, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_warn("%s is not a directory", name);
		return -1;
	}
	if (want) {
		/* an existing directory is taken only when empty: a run is never mixed with another */
		struct xt_run old;
		char err[64];
		if (xt_run_open(&old, abs, err, sizeof err) == 0) {
			xt_run_free(&old);
			cli_warn("%s already holds traces; name a new directory", name);
			return -1;
		}
	}
	return 0;
}

/* Signals a terminal sends to the whole group reach the program by themselves; these are sent
 * to xtrace run's pid by name, so they are passed on. */
static volatile pid_t child_pid;

static void pass_on(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

int cmd_run(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	/* CLI_PROGRAM: stop at the program's name, so its own options are left alone */
	int code = cli_parse_options(cmd, argc, argv, CLI_OUTPUT | CLI_PROGRAM, &opt);
	if (code >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(cmd, "no program given");
	char **prog = argv + optind;

	char lib[PATH_MAX], tried[PATH_MAX + 32];
	if (find_library(lib, tried, sizeof tried) < 0) {
		cli_warn("cannot find the tracing library %s: %s", tried, strerror(errno));
		return XT_EXIT_USAGE;
	}
	const char *old = getenv("LD_PRELOAD");
	char *preload = lib;
	if (old && old[0]) {
		size_t need = strlen(lib) + 1 + strlen(old) + 1;
		preload = malloc(need);
		if (!preload) {
			cli_warn("out of memory");
			return XT_EXIT_FAIL;
		}
		snprintf(preload, need, "%s:%s", lib, old);
	}
	if (setenv("LD_PRELOAD", preload, 1) < 0) {
		cli_warn("cannot set the environment: %s", strerror(errno));
		return XT_EXIT_FAIL;
	}
	/* The child waits until the directory (named after its pid) exists and is told its path;
	 * an exec that fails sends back its errno. */
	int go[2], failed[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(failed, O_CLOEXEC) < 0) {
		cli_warn("cannot start %s: %s", prog[0], strerror(errno));
		return XT_EXIT_FAIL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		cli_warn("cannot start %s: %s", prog[0], strerror(errno));
		return XT_EXIT_FAIL;
	}
	if (pid == 0) {
		char dir[PATH_MAX];
		size_t n = 0;
		ssize_t r;
		close(go[1]);
		close(failed[0]);
		while (n < sizeof dir - 1 && ((r = read(go[0], dir + n, sizeof dir - 1 - n)) > 0 ||
					      (r < 0 && errno == EINTR)))
			n += r > 0 ? (size_t)r : 0;
		dir[n] = 0;
		if (!n || setenv("XTRACE_DIR", dir, 1) < 0)
			_exit(127);
		execvp(prog[0], prog);
		int err = errno;
		ssize_t w = write(failed[1], &err, sizeof err);
		(void)w;
		_exit(127);
	}
	close(go[0]);
	close(failed[1]);
	char dir[PATH_MAX];
	int made = make_dir(opt.output, prog[0], pid, dir) == 0;
	if (made) {
		ssize_t w = write(go[1], dir, strlen(dir));
		(void)w;
	}
	close(go[1]);
	int err = 0;
	ssize_t got;
	while ((got = read(failed[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(failed[0]);

	child_pid = pid;
	struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = pass_on}, old_int,
			 old_quit, old_term, old_hup;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (!made)
		return XT_EXIT_FAIL;
	if (got == (ssize_t)sizeof err) {
		cli_warn("cannot run %s: %s", prog[0], strerror(err));
		if (!opt.output)
			rmdir(dir);
		/* The shell's codes: 127 not found, 126 found but not runnable. */
		return err == ENOENT ? 127 : 126;
	}

	struct xt_run run;
	char msg[512];
	if (xt_run_open(&run, dir, msg, sizeof msg) < 0) {
		cli_warn("%s", msg);
	} else {
		if (xt_run_scan(&run, NULL, NULL) != XTRACE_OK)
			cli_warn("%s: out of memory", dir);
		fill_root_end(&run, pid, status);
		if (write_index(dir, &run, prog, pid) < 0)
			cli_warn("cannot write %s/" INDEX_NAME ": %s", dir, strerror(errno));
		summarize(opt.output ? opt.output : strrchr(dir, '/') + 1, &run);
		xt_run_free(&run);
	}
	if (WIFSIGNALED(status)) {
		/* die the same way (without a core file of our own) */
		struct rlimit none = {0, 0};
		setrlimit(RLIMIT_CORE, &none);
		signal(WTERMSIG(status), SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, WTERMSIG(status));
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		raise(WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}
