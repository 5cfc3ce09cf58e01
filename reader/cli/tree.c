/* tree.c: reading a run instead of one trace (see tree.h). */
#include "tree.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

/* Set while cli_each_image runs the command on one image: that call reads its file plainly. */
static int in_each_image;

int cli_is_run(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_run_open(const struct cli_options *o, const char *path, struct xt_run *run)
{
	char err[512];
	if (xt_run_open(run, path, err, sizeof err) < 0) {
		cli_warn("%s", err);
		return XT_EXIT_FAIL;
	}
	if (run->unreadable)
		cli_warn("%s: %zu file%s named *.xt %s no trace", path, run->unreadable,
			 run->unreadable == 1 ? "" : "s", run->unreadable == 1 ? "is" : "are");
	if ((o->pid || o->exe) && !xt_run_select(run, o->pid, o->exe)) {
		cli_warn("%s: no process image matches%s%s", path, o->exe ? " --exe " : "",
			 o->exe ? o->exe : "");
		xt_run_free(run);
		return XT_EXIT_FAIL;
	}
	return -1;
}

int cli_wants_images(const char *path, const struct cli_options *o)
{
	return !in_each_image && (o->pid || o->exe || cli_is_run(path));
}

int cli_worse(int a, int b)
{
	static const int rank[] = {XT_EXIT_OK, XT_EXIT_TRUNCATED, XT_EXIT_REGRESSED, XT_EXIT_FAIL};
	int ra = 3, rb = 3;
	for (int i = 0; i < 4; i++) {
		if (rank[i] == a)
			ra = i;
		if (rank[i] == b)
			rb = i;
	}
	return ra > rb ? a : b;
}

void cli_put_argv(struct xt_out *o, const struct xt_image *im, size_t max)
{
	size_t n = im->cmdline_len;
	/* the arguments are NUL-terminated: the last NUL ends them, the others separate */
	if (n && im->cmdline[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++) {
		if (i == max) {
			xt_out_str(o, "...");
			return;
		}
		char c = im->cmdline[i];
		xt_out_char(o, c == 0 ? ' ' : (unsigned char)c < 32 ? '?' : c);
	}
}

void cli_put_argv_json(struct xt_out *o, const struct xt_image *im)
{
	xt_out_char(o, '[');
	for (size_t i = 0; i < im->cmdline_len;) {
		size_t l = strnlen(im->cmdline + i, im->cmdline_len - i);
		if (i)
			xt_out_str(o, ", ");
		xt_out_json_str(o, im->cmdline + i, l);
		i += l + 1;
	}
	xt_out_char(o, ']');
}

void cli_put_image_title(struct xt_out *o, const struct xt_run *run, const struct xt_image *im)
{
	xt_out_printf(o, "pid %llu ", (unsigned long long)im->pid);
	cli_put_argv(o, im, 100);
	xt_out_printf(o, " (%s", im->name);
	if (im->exec_from >= 0)
		xt_out_printf(o, ", exec'd from %s", xt_image_program(&run->img[im->exec_from]));
	else if (im->parent >= 0)
		xt_out_printf(o, ", child of pid %llu %s", (unsigned long long)run->img[im->parent].pid,
			      xt_image_program(&run->img[im->parent]));
	xt_out_char(o, ')');
}

int cli_each_image(const struct xt_command *cmd, int argc, char **argv,
		   const struct cli_options *o)
{
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument %s", argv[optind + 1]);
	const char *path = argv[optind];
	int file_at = optind;
	struct xt_run run;
	int code = cli_run_open(o, path, &run);
	if (code >= 0)
		return code;
	char **args = malloc((size_t)(argc + 1) * sizeof *args);
	struct xt_out out;
	if (!args || xt_out_open(&out, STDOUT_FILENO, 1u << 16) < 0) {
		free(args);
		xt_run_free(&run);
		cli_warn("out of memory");
		return XT_EXIT_FAIL;
	}
	memcpy(args, argv, (size_t)(argc + 1) * sizeof *args);
	if (o->json) {
		xt_out_str(&out, "{\n\"run\": ");
		xt_out_json_str(&out, path, strlen(path));
		xt_out_str(&out, ",\n\"processes\": [");
	}
	code = XT_EXIT_OK;
	int first = 1;
	in_each_image = 1;
	for (size_t k = 0; k < run.count; k++) {
		const struct xt_image *im = &run.img[run.order[k]];
		if (!im->selected)
			continue;
		if (o->json) {
			xt_out_str(&out, first ? "\n{\"file\": " : ",\n{\"file\": ");
			xt_out_json_str(&out, im->name, strlen(im->name));
			xt_out_printf(&out, ", \"pid\": %llu, \"exe\": ", (unsigned long long)im->pid);
			xt_out_json_str(&out, im->exe, strlen(im->exe));
			xt_out_str(&out, ", \"output\":\n");
		} else {
			xt_out_str(&out, o->tsv ? "# " : first ? "== " : "\n== ");
			cli_put_image_title(&out, &run, im);
			xt_out_str(&out, o->tsv ? "\n" : "\n\n");
		}
		xt_out_flush(&out);
		first = 0;
		args[file_at] = im->path;
		code = cli_worse(code, cmd->fn(argc, args, cmd));
		if (o->json)
			xt_out_char(&out, '}');
	}
	in_each_image = 0;
	if (o->json)
		xt_out_str(&out, "\n]\n}\n");
	if (cli_out_close(&out) < 0)
		code = XT_EXIT_FAIL;
	free(args);
	xt_run_free(&run);
	return code;
}
