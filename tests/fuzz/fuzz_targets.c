/* fuzz_targets.c: the bodies of the fuzz targets (see fuzz_targets.h). The input becomes a
 * memfd, opened through /proc/self/fd like any trace path, so the reader is fuzzed through its
 * one public entry point and the CLI commands exactly as they run. */
#include "fuzz_targets.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/cli.h"
#include "xtrace-reader.h"

/* as_file writes data to a fresh memfd and its /proc path to path; returns the fd or -1. */
static int as_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("xtrace-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < size;) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

void xt_fuzz_reader(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	int fd = as_file(data, size, path, sizeof path);
	if (fd < 0)
		return;
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	close(fd);
	if (!r)
		return;
	const struct xtrace_header *h = xtrace_get_header(r);
	volatile size_t sink = strlen(h->exe) + h->cmdline_len;
	struct xtrace_event ev;
	while (xtrace_next(r, &ev) == 1) {
		if (ev.kind == XTRACE_EVENT_SYNC) {
			const struct xtrace_sync *s = xtrace_get_sync(r);
			for (size_t i = 0; i < s->nbatches; i++)
				sink += s->batches[i].len ? s->batches[i].data[s->batches[i].len - 1] : 0;
			const struct xtrace_module *m;
			size_t n = xtrace_modules(r, &m);
			for (size_t i = 0; i < n; i++)
				sink += strlen(m[i].path) + m[i].build_id_len +
					(m[i].build_id_len ? m[i].build_id[m[i].build_id_len - 1] : 0);
			continue;
		}
		sink += strlen(ev.name) + strlen(ev.experiment_name ? ev.experiment_name : "");
		for (unsigned i = 0; i < ev.nargs; i++) {
			sink += strlen(ev.arg_names[i]) + strlen(xtrace_arg_kind_name(ev.arg_kinds[i]));
			size_t len;
			const uint64_t *pcs;
			switch (ev.arg_kinds[i]) {
			case XTRACE_ARG_STRING: {
				const char *s = xtrace_string(r, ev.args[i], &len);
				sink += s ? strlen(s) + len : 0;
				break;
			}
			case XTRACE_ARG_STACK: {
				size_t n = xtrace_stack(r, ev.args[i], &pcs);
				for (size_t k = 0; k < n; k++)
					sink += xtrace_module_of(r, pcs[k]) != NULL;
				break;
			}
			case XTRACE_ARG_TYPE: {
				const struct xtrace_alloc_type *t = xtrace_alloc_type(r, ev.args[i]);
				const char *api = t ? xtrace_alloc_api_name(t->api) : NULL;
				sink += api ? strlen(api) : 0;
				break;
			}
			default:
				break;
			}
		}
	}
	sink += xtrace_status(r) + strlen(xtrace_error(r)) + xtrace_error_offset(r);
	(void)sink;
	xtrace_close(r);
}

static int run(int (*fn)(int, char **, const struct xt_command *), const char *name,
	       const char *a1, const char *a2, const char *a3, const char *a4, const char *path)
{
	struct xt_command cmd = {name, "", fn, ""};
	char *argv[8];
	int argc = 0;
	argv[argc++] = (char *)name;
	const char *opt[] = {a1, a2, a3, a4};
	for (int i = 0; i < 4; i++)
		if (opt[i])
			argv[argc++] = (char *)opt[i];
	argv[argc++] = (char *)path;
	argv[argc] = NULL;
	return fn(argc, argv, &cmd);
}

void xt_fuzz_cli(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = as_file(data, size, path, sizeof path);
	if (fd < 0)
		return;
	/* Module paths in the input are the fuzzer's: never open them. */
	cli_no_symbols = 1;
	run(cmd_stats, "stats", "--json", NULL, NULL, NULL, path);
	run(cmd_stats, "stats", NULL, NULL, NULL, NULL, path);
	run(cmd_dump, "dump", "--stacks", NULL, NULL, NULL, path);
	run(cmd_validate, "validate", NULL, NULL, NULL, NULL, path);
	run(cmd_timers, "timers", "--json", NULL, NULL, NULL, path);
	run(cmd_timers, "timers", NULL, NULL, NULL, NULL, path);
	run(cmd_top, "top", "--by", "peak", "--group", "stack", path);
	run(cmd_top, "top", "--by", "temporary", "--json", NULL, path);
	run(cmd_top, "top", "--group", "region", "--tsv", NULL, path);
	run(cmd_leaks, "leaks", "--json", NULL, NULL, NULL, path);
	run(cmd_leaks, "leaks", "--group", "line", NULL, NULL, path);
	run(cmd_peak, "peak", "--json", NULL, NULL, NULL, path);
	run(cmd_flame, "flame", "--by", "leaked", NULL, NULL, path);
	run(cmd_flame, "flame", "--svg", "/dev/null", NULL, NULL, path);
	run(cmd_export, "export", "--format", "chrome", "-o", "/dev/null", path);
	run(cmd_export, "export", "--format", "csv", "-o", "/dev/null", path);
	run(cmd_export, "export", "--format", "pprof", "-o", "/dev/null", path);
	run(cmd_export, "export", "--format", "speedscope", "-o", "/dev/null", path);
	run(cmd_report, "report", "-o", "/dev/null", NULL, NULL, path);
	{
		struct xt_command cmd = {"diff", "", cmd_diff, ""};
		char *argv[] = {"diff", "--fail-above", "5", "--json", path, path, NULL};
		cmd_diff(6, argv, &cmd);
	}
	close(fd);
}
