/* tree.h: what the commands share to read a run (a directory of `xtrace run`, one trace file per
 * process image) instead of one trace: opening and selecting its images, the title of an
 * image's section, and running a command once per image (CLI_EACH_IMAGE). */
#ifndef XT_TREE_H
#define XT_TREE_H

#include "analysis/images.h"
#include "cli.h"

struct cli_options;

/* cli_is_run: path is a directory (a run), not a trace file. */
int cli_is_run(const char *path);

/* cli_run_open opens path as a run and selects the images o's --pid and --exe name: -1 to go
 * on, else the exit code to return after reporting why not. */
int cli_run_open(const struct cli_options *o, const char *path, struct xt_run *run);

/* cli_wants_images: the command, given path, is to run once per image: path is a run, or
 * --pid or --exe chose among images (never inside cli_each_image's own calls). */
int cli_wants_images(const char *path, const struct cli_options *o);
/* cli_each_image runs cmd once for each selected image of the run argv[optind], in tree order,
 * each under a title line (text), a "# " line (--tsv), or as a member of one JSON object
 * {"run": ..., "processes": [{"file", "pid", "exe", "output": {...}}, ...]} (--json). Returns
 * the worst exit code of the calls; an image without the heap --heap names is said so in its
 * section (JSON: "output": null, "no_heap": the message), a usage error only if every image
 * lacks it. */
/* head, when not NULL, writes what comes before the images' sections (in JSON, members after
 * "run", each after a comma) once the run is open: -1 to go on, else the exit code to return. */
typedef int (*cli_run_head_fn)(void *ctx, struct xt_out *out, struct xt_run *run,
			       const struct cli_options *o);
int cli_each_image(const struct xt_command *cmd, int argc, char **argv,
		   const struct cli_options *o, cli_run_head_fn head, void *ctx);

/* cli_image_lacks_heap: while cli_each_image runs the command on one image, keeps msg (the
 * image has no heap --heap names) for the image's section and returns 1; else 0. */
int cli_image_lacks_heap(const char *msg);

/* cli_run_on runs cmd on the files paths[0..n) in place of argv[at..at + n), as on plain
 * trace files (the run's own handling is off during the call): its exit code. */
int cli_run_on(const struct xt_command *cmd, int argc, char **argv, int at,
	       const char *const *paths, int n);

/* cli_worse is the exit code of two results taken together: a failure over a regression over a
 * truncated trace over success. */
int cli_worse(int a, int b);

/* cli_argv_str writes the image's arguments into buf (n bytes), separated by spaces, after two
 * spaces per indent level (16 at most), cut with "..." where they do not fit. */
const char *cli_argv_str(char *buf, size_t n, const struct xt_image *im, unsigned indent);
/* cli_put_image_title writes "pid 1234 env python3 -c ... (1234.1.xt, exec'd from bash)". */
void cli_put_image_title(struct xt_out *o, const struct xt_run *run, const struct xt_image *im);

/* cli_put_tree writes the selected images of a scanned run as a table in tree order, a child
 * indented under its parent: pid, events, allocs, requested bytes, peak heap, how it ended,
 * program and arguments. */
void cli_put_tree(struct xt_out *o, const struct xt_run *run);

#endif
