/* images.h: the process images of a run. `xtrace run` leaves a directory with one trace file per
 * process image (a process forked, and each program it exec'd): this module lists them from
 * their headers, links each to the image it was exec'd from and to its parent's, orders them as
 * a tree, selects them (--pid, --exe), and gathers each one's totals in one pass (the stats of
 * the tree, the index). A single trace file is a run of one image, so every command can loop
 * over a run without a case of its own for files.
 *
 * Nothing here trusts the files: links only ever point to an image that started earlier, so the
 * tree has no cycle, and lookups are binary searches, never a scan per image. */
#ifndef XT_IMAGES_H
#define XT_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"
#include "xtrace-reader.h"

/* What one image's pass found (xt_run_scan). */
struct xt_image_totals {
	enum xtrace_status st;
	uint64_t events, allocs, frees, alloc_bytes, peak_live_bytes, live_bytes_at_end;
	uint64_t last_ts;
};

struct xt_image {
	char *path;  /* the trace file */
	const char *name; /* its name within the run (the path without the directory) */
	uint64_t pid, ppid, fork_parent_pid, fork_ts, start_ts, start_wall_sec, start_wall_nsec;
	char *exe;
	char *cmdline;     /* the arguments, each NUL-terminated */
	size_t cmdline_len;
	uint64_t sample_bytes; /* the header's XTRACE_SAMPLE mean: 0, not sampled */
	long exec_from;    /* the image of the same pid it replaced by exec, or -1 */
	long parent;       /* exec_from, else the image of the process that forked or started it */
	unsigned depth;    /* in the tree: 0 for a root */
	int selected;
	int scanned;
	struct xt_image_totals t;
	enum xt_image_end end; /* 0: not known (no ProcessEnd, or not scanned) */
	uint64_t end_status, end_ts;
};

struct xt_run {
	char *dir;              /* NULL when the run is one trace file */
	struct xt_image *img;   /* ordered by start time */
	size_t count;
	size_t *order;          /* the images in tree order: each after its parent, depth first */
	size_t unreadable;      /* files of the directory that are no trace (header unreadable) */
};

/* xt_run_open lists the images of path, a run directory or one trace file: 0, or -1 with a
 * message in err. Every image starts selected. */
int xt_run_open(struct xt_run *run, const char *path, char *err, size_t errlen);
void xt_run_free(struct xt_run *run);

/* xt_run_select keeps the images of process pid (0: any) whose program is exe (its path or file
 * name; NULL: any): the number selected. */
size_t xt_run_select(struct xt_run *run, uint64_t pid, const char *exe);

/* xt_run_scan reads every image once: its totals and how it ended, then the links again, now
 * that each exec is known. s, when not NULL, gets each image's whole summary (ctx, index) while
 * it is still open. XTRACE_OK, or XTRACE_ERR_NOMEM. */
typedef void (*xt_image_summary_fn)(void *ctx, size_t i, const xtrace_reader *r,
				    const struct xt_summary *s);
enum xtrace_status xt_run_scan(struct xt_run *run, xt_image_summary_fn s, void *ctx);

/* The tree's peak: the largest sum of the selected images' live heaps at one time, reading
 * them all at once merged by time (one generation of each in memory). */
struct xt_run_peak {
	uint64_t bytes;
	uint64_t ts;          /* when it was first reached (trace clock) */
	uint64_t *live;       /* per image (run order): its live bytes then; 0 if not selected */
};
/* xt_run_peak_read fills pk (free pk->live) with the peak of heap_name's heap (NULL: the malloc
 * heap): XTRACE_OK, XTRACE_ERR_NOMEM, or XTRACE_ERR_IO when the traces cannot all be open at
 * once. Unreadable parts end an image's contribution early, as the per-image commands read
 * them. An image without the heap holds none of it. */
enum xtrace_status xt_run_peak_read(const struct xt_run *run, const char *heap_name,
				    struct xt_run_peak *pk);

/* xt_run_place_keys gives each image (run order) a key for its place in the tree, to match the
 * processes of two runs: a hash of its program's name, its rank among the earlier siblings of
 * the same program, and its parent's key. 0, or -1 without memory. */
int xt_run_place_keys(const struct xt_run *run, uint64_t *keys);

/* xt_image_program is the file name of the image's program. */
const char *xt_image_program(const struct xt_image *im);
/* xt_image_end_name: "exit", "signal", "exec" or NULL when not known. */
const char *xt_image_end_name(enum xt_image_end e);
/* xt_image_status formats how the image ended for people: "exit 0", "signal 9", "exec",
 * "running or killed" (no end in a complete trace) or "truncated". */
const char *xt_image_status(char *buf, size_t n, const struct xt_image *im);

#endif
