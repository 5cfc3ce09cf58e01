/* export.h: the formats of `xtrace export` (export.c holds the table of them, chrome and csv):
 * the profilers' formats, each in a file of its own, and what they share. pprof and speedscope
 * write allocation sites as `xtrace top` counts them (sites.h: the same allocator frames left
 * out, the same --keep-allocator-frames and --alloc-fn), so their numbers agree with it. */
#ifndef XT_EXPORT_H
#define XT_EXPORT_H

#include "options.h"
#include "tree.h"

/* A format's writer: run's selected images into o (open on the output file): the exit code. */
int export_pprof(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
		 int is_run);
int export_speedscope(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
		      int is_run);

/* export_profiles loads each selected image of run, in tree order, into its sites (with
 * --region and the allocator-frame rules) and hands it to image: the worst exit code of reading
 * them, XT_EXIT_FAIL after reporting that memory ran out (image returned nonzero). on_event
 * (may be NULL) sees each image's events while it loads, with current set to that image. */
struct export_images {
	cli_event_fn on_event;
	int (*image)(void *ctx, const struct xt_image *im, struct cli_profile *p);
	void *ctx;
	const struct xt_image *current;
};
int export_profiles(const struct xt_run *run, const struct cli_options *opt,
		    struct export_images *e);

#endif
