/* tree.c: reading a run instead of one trace (see tree.h). */
#include "tree.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

/* Set while cli_each_image runs the command on one image: that call reads its file plainly. */
static int in_each_image;
/* What cli_image_lacks_heap said of the image being read, for its section; "" when nothing. */
static char lacks_heap[1024];

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

int cli_image_lacks_heap(const char *msg)
{
	if (!in_each_image)
		return 0;
	snprintf(lacks_heap, sizeof lacks_heap, "%s", msg);
	return 1;
}

int cli_run_on(const struct xt_command *cmd, int argc, char **argv, int at,
	       const char *const *paths, int n)
{
	char **args = malloc((size_t)(argc + 1) * sizeof *args);
	if (!args) {
		cli_warn("out of memory");
		return XT_EXIT_FAIL;
	}
	memcpy(args, argv, (size_t)(argc + 1) * sizeof *args);
	for (int i = 0; i < n; i++)
		args[at + i] = (char *)paths[i];
	in_each_image = 1;
	int code = cmd->fn(argc, args, cmd);
	in_each_image = 0;
	free(args);
	return code;
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

void cli_put_image_title(struct xt_out *o, const struct xt_run *run, const struct xt_image *im)
{
	char args[120];
	xt_out_printf(o, "pid %llu %s (%s", (unsigned long long)im->pid,
		      cli_argv_str(args, sizeof args, im, 0), im->name);
	if (im->exec_from >= 0)
		xt_out_printf(o, ", exec'd from %s", xt_image_program(&run->img[im->exec_from]));
	else if (im->parent >= 0)
		xt_out_printf(o, ", child of pid %llu %s", (unsigned long long)run->img[im->parent].pid,
			      xt_image_program(&run->img[im->parent]));
	xt_out_char(o, ')');
}

int cli_each_image(const struct xt_command *cmd, int argc, char **argv,
		   const struct cli_options *o, cli_run_head_fn head, void *ctx)
{
	if (optind + 1 < argc)
		return cli_usage_error(cmd, "unexpected argument %s", argv[optind + 1]);
	const char *path = argv[optind];
	int file_at = optind;
	struct xt_run run;
	int code = cli_run_open(o, path, &run);
	if (code >= 0)
		return code;
	struct xt_out out;
	if (xt_out_open(&out, STDOUT_FILENO, 1u << 16) < 0) {
		xt_run_free(&run);
		cli_warn("out of memory");
		return XT_EXIT_FAIL;
	}
	if (o->json) {
		xt_out_str(&out, "{\n\"run\": ");
		xt_out_json_str(&out, path, strlen(path));
	}
	code = head ? head(ctx, &out, &run, o) : -1;
	if (code >= 0) {
		xt_out_close(&out);
		xt_run_free(&run);
		return code;
	}
	if (o->json)
		xt_out_str(&out, ",\n\"processes\": [");
	code = XT_EXIT_OK;
	int first = 1;
	size_t shown = 0, lacking = 0;
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
		const char *file = im->path;
		lacks_heap[0] = 0;
		int c = cli_run_on(cmd, argc, argv, file_at, &file, 1);
		shown++;
		if (lacks_heap[0]) {
			/* a process that never made the heap --heap names: said in its section, and
			 * an error only if no image has that heap */
			lacking++;
			if (o->json) {
				xt_out_str(&out, "null, \"no_heap\": ");
				xt_out_json_str(&out, lacks_heap, strlen(lacks_heap));
			} else {
				xt_out_printf(&out, "%s%s\n", o->tsv ? "# " : "", lacks_heap);
			}
		} else {
			code = cli_worse(code, c);
		}
		if (o->json)
			xt_out_char(&out, '}');
	}
	if (lacking && lacking == shown) {
		cli_warn("%s: no process image has heap '%s'", path, cli_heap);
		code = XT_EXIT_USAGE;
	}
	if (o->json)
		xt_out_str(&out, "\n]\n}\n");
	if (cli_out_close(&out) < 0)
		code = XT_EXIT_FAIL;
	xt_run_free(&run);
	return code;
}

enum { TREE_COLS = 7 };

const char *cli_argv_str(char *buf, size_t n, const struct xt_image *im, unsigned indent)
{
	size_t k = 0;
	if (n < 8)
		return "";
	for (unsigned d = 0; d < indent && d < 16; d++, k += 2)
		memcpy(buf + k, "  ", 2);
	size_t len = im->cmdline_len;
	if (len && im->cmdline[len - 1] == 0)
		len--;
	for (size_t i = 0; i < len; i++) {
		if (k == n - 4) {
			memcpy(buf + k, "...", 3);
			k += 3;
			break;
		}
		char c = im->cmdline[i];
		buf[k++] = c == 0 ? ' ' : (unsigned char)c < 32 ? '?' : c;
	}
	buf[k] = 0;
	return buf;
}

void cli_put_tree(struct xt_out *o, const struct xt_run *run)
{
	static const char *const head[TREE_COLS] = {"pid", "events", "allocs", "bytes",
						    "peak", "end", "program"};
	size_t width[TREE_COLS] = {0};
	char buf[TREE_COLS - 1][32], prog[160];
	const char *cell[TREE_COLS];
	/* Two rounds: measure every row, then print. */
	for (int round = 0; round < 2; round++) {
		for (long k = -1; k < (long)run->count; k++) {
			const struct xt_image *im = k < 0 ? NULL : &run->img[run->order[k]];
			if (im && !im->selected)
				continue;
			for (int c = 0; c < TREE_COLS; c++)
				cell[c] = im ? c < TREE_COLS - 1 ? buf[c] : prog : head[c];
			if (im) {
				snprintf(buf[0], 32, "%llu", (unsigned long long)im->pid);
				snprintf(buf[1], 32, "%llu", (unsigned long long)im->t.events);
				snprintf(buf[2], 32, "%llu", (unsigned long long)im->t.allocs);
				xt_fmt_bytes(buf[3], 32, im->t.alloc_bytes);
				xt_fmt_bytes(buf[4], 32, im->t.peak_live_bytes);
				xt_image_status(buf[5], 32, im);
				cli_argv_str(prog, sizeof prog, im, im->depth);
			}
			if (round == 0)
				xt_cols_fit(width, cell, TREE_COLS);
			else
				xt_cols_row(o, width, cell, TREE_COLS, 3u << 5);
		}
	}
}
