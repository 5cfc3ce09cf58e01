/* flame.c: `xtrace flame`: the trace's allocation stacks as collapsed-stack lines
 * ("outer;...;inner VALUE", what flamegraph.pl, inferno and speedscope read) or, with --svg, a
 * self-contained SVG flame graph. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <getopt.h>

#include "flamegraph.h"
#include "options.h"
#include "profile.h"
#include "tree.h"

/* put_flame writes the groups as collapsed-stack lines, or with svg as an SVG flame graph: 0, or
 * -1 without memory. sample_bytes: the trace's sampling mean (0: not sampled), whose values are
 * estimates: the title says so, or for the lines, which have no room for it, stderr. */
static int put_flame(struct xt_out *o, const struct cli_options *opt, const struct xt_names *keys,
		     const struct xt_group *g, long n, const char *what, uint64_t sample_bytes)
{
	char mean[32];
	if (sample_bytes)
		xt_fmt_bytes(mean, sizeof mean, sample_bytes);
	if (opt->svg) {
		char title[512], est[96] = "";
		if (sample_bytes)
			snprintf(est, sizeof est, " (estimated: sampled, one per %s)", mean);
		snprintf(title, sizeof title, "allocations by %s%s: %s", xt_metric_name(opt->by), est,
			 what);
		xt_out_str(o, "<?xml version=\"1.0\" standalone=\"no\"?>\n");
		return xt_flame_svg(o, keys, g, (size_t)n, opt->by, 1200, title);
	}
	if (sample_bytes)
		cli_warn("%s: estimated from sampled allocations, one per %s allocated on average",
			 what, mean);
	for (long i = 0; i < n; i++) {
		uint64_t v = xt_counts_metric(&g[i].c, opt->by);
		if (!v)
			continue;
		xt_out_mem(o, xt_names_str(keys, g[i].key), xt_names_len(keys, g[i].key));
		xt_out_char(o, ' ');
		xt_out_u64(o, v);
		xt_out_char(o, '\n');
	}
	return 0;
}

/* open_output opens --svg's file, or stdout: the descriptor, or -1 after saying why not. */
static int open_output(const struct cli_options *opt)
{
	int fd = opt->svg ? open(opt->svg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : STDOUT_FILENO;
	if (fd < 0)
		cli_warn("cannot create %s: %m", opt->svg);
	return fd;
}

/* close_output closes o and --svg's descriptor: code, or XT_EXIT_FAIL after saying what failed. */
static int close_output(struct xt_out *o, int fd, const struct cli_options *opt, int bad,
			const char *what, int code)
{
	if (cli_out_close(o) < 0 || bad) {
		cli_warn(bad ? "%s: out of memory" : "%s: cannot write the output", opt->svg ? opt->svg : what);
		code = XT_EXIT_FAIL;
	}
	if (opt->svg && close(fd) < 0 && code != XT_EXIT_FAIL) {
		cli_warn("cannot write %s: %m", opt->svg);
		code = XT_EXIT_FAIL;
	}
	return code;
}

/* A run's flame graph: each image's stacks under a root frame, its program's name; the same
 * stack of two processes of one program adds up. */
struct merged {
	struct xt_names keys;
	struct xt_group *g;
	size_t n, cap;
	size_t *slot; /* key ID -> index in g + 1 (0: none yet) */
	size_t nslot;
};

static int merge_group(struct merged *m, const char *root, const struct xt_names *keys,
		       const struct xt_group *g)
{
	size_t rl = strlen(root), kl = xt_names_len(keys, g->key);
	char *s = malloc(rl + 1 + kl);
	if (!s)
		return -1;
	memcpy(s, root, rl);
	s[rl] = ';';
	memcpy(s + rl + 1, xt_names_str(keys, g->key), kl);
	uint32_t id = xt_names_id(&m->keys, s, rl + 1 + kl);
	free(s);
	if (id == UINT32_MAX)
		return -1;
	if (id >= m->nslot) {
		size_t nn = 2 * (size_t)id + 16;
		size_t *ns = realloc(m->slot, nn * sizeof *ns);
		if (!ns)
			return -1;
		memset(ns + m->nslot, 0, (nn - m->nslot) * sizeof *ns);
		m->slot = ns;
		m->nslot = nn;
	}
	if (m->slot[id]) {
		xt_counts_add(&m->g[m->slot[id] - 1].c, &g->c);
		return 0;
	}
	if (xt_grow(&m->g, &m->cap, m->n + 1, sizeof *m->g) < 0)
		return -1;
	m->g[m->n] = *g;
	m->g[m->n].key = id;
	m->slot[id] = ++m->n;
	return 0;
}

static int flame_run(const char *path, const struct cli_options *opt)
{
	struct xt_run run;
	int code = cli_run_open(opt, path, &run);
	if (code >= 0)
		return code;
	struct merged m = {0};
	code = XT_EXIT_OK;
	if (xt_names_init(&m.keys) < 0)
		code = XT_EXIT_FAIL;
	for (size_t k = 0; code != XT_EXIT_FAIL && k < run.count; k++) {
		const struct xt_image *im = &run.img[run.order[k]];
		if (!im->selected)
			continue;
		struct cli_profile p;
		int c = cli_profile_load(&p, im->path, opt->region, opt->by == XT_BY_PEAK, NULL, NULL);
		if (c != XT_EXIT_OK && c != XT_EXIT_TRUNCATED) {
			code = c;
			break;
		}
		if (c == XT_EXIT_TRUNCATED)
			cli_read_end(p.r, im->path, p.st);
		code = cli_worse(code, c);
		struct xt_group *g = NULL;
		long n = xt_sites_group(&p.sites, XT_GROUP_STACK, opt->by, &p.sites.names, &g);
		for (long i = 0; i < n; i++)
			if (merge_group(&m, xt_image_program(im), &p.sites.names, &g[i]) < 0)
				n = -1;
		if (n < 0) {
			cli_warn("%s: out of memory", im->path);
			code = XT_EXIT_FAIL;
		}
		free(g);
		cli_profile_free(&p);
	}
	int fd = code == XT_EXIT_FAIL ? -1 : open_output(opt);
	struct xt_out o;
	if (fd >= 0 && xt_out_open(&o, fd, XT_STDOUT_BUFFER) < 0) {
		cli_warn("out of memory");
		if (opt->svg)
			close(fd);
		fd = -1;
	}
	if (fd >= 0) {
		xt_groups_sort(m.g, m.n, opt->by, &m.keys);
		int bad = put_flame(&o, opt, &m.keys, m.g, (long)m.n, path, 0);
		code = close_output(&o, fd, opt, bad, path, code);
	} else {
		code = XT_EXIT_FAIL;
	}
	xt_names_destroy(&m.keys);
	free(m.g);
	free(m.slot);
	xt_run_free(&run);
	return code;
}

int cmd_flame(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {.by = XT_BY_BYTES};
	int code = cli_parse_options(cmd, argc, argv,
				     CLI_BY | CLI_REGION | CLI_SVG | CLI_PID | CLI_EXE | CLI_ALLOC_FRAMES | CLI_HEAP,
				     &opt);
	if (code >= 0)
		return code;
	if (optind < argc && cli_wants_images(argv[optind], &opt)) {
		const char *run = cli_file_arg(cmd, argc, argv);
		return run ? flame_run(run, &opt) : XT_EXIT_USAGE;
	}
	struct cli_profile p;
	code = cli_profile_load_arg(&p, cmd, argc, argv, opt.region, opt.by == XT_BY_PEAK);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED)
		return code;
	const char *path = p.path;
	int fd = open_output(&opt);
	if (fd < 0) {
		cli_profile_free(&p);
		return XT_EXIT_FAIL;
	}
	struct xt_group *g;
	struct xt_out o;
	long n = cli_profile_group(&p, XT_GROUP_STACK, opt.by, &g, &o, fd);
	if (n < 0) {
		code = XT_EXIT_FAIL;
		if (opt.svg)
			close(fd);
	} else {
		int bad = put_flame(&o, &opt, &p.sites.names, g, n, path, p.sum.sampling.mean);
		int c = close_output(&o, fd, &opt, bad, path, code);
		if (c == XT_EXIT_TRUNCATED)
			cli_read_end(p.r, path, p.st);
		code = c;
	}
	free(g);
	cli_profile_free(&p);
	return code;
}
