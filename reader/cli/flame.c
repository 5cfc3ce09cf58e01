/* flame.c: `xtrace flame`: the trace's allocation stacks as collapsed-stack lines
 * ("outer;...;inner VALUE", what flamegraph.pl, inferno and speedscope read) or, with --svg, a
 * self-contained SVG flame graph. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flamegraph.h"
#include "options.h"
#include "profile.h"

int cmd_flame(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {.by = XT_BY_BYTES};
	int code = cli_parse_options(cmd, argc, argv,
				     CLI_BY | CLI_REGION | CLI_SVG | CLI_ALLOC_FRAMES, &opt);
	if (code >= 0)
		return code;
	struct cli_profile p;
	code = cli_profile_load_arg(&p, cmd, argc, argv, opt.region, opt.by == XT_BY_PEAK);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED)
		return code;
	const char *path = p.path;
	int fd = opt.svg ? open(opt.svg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : STDOUT_FILENO;
	if (fd < 0) {
		cli_warn("cannot create %s: %m", opt.svg);
		cli_profile_free(&p);
		return XT_EXIT_FAIL;
	}
	struct xt_group *g;
	struct xt_out o;
	long n = cli_profile_group(&p, XT_GROUP_STACK, opt.by, &g, &o, fd);
	if (n < 0) {
		code = XT_EXIT_FAIL;
	} else {
		int bad = 0;
		if (opt.svg) {
			char title[512];
			snprintf(title, sizeof title, "allocations by %s: %s", xt_metric_name(opt.by), path);
			xt_out_str(&o, "<?xml version=\"1.0\" standalone=\"no\"?>\n");
			bad = xt_flame_svg(&o, &p.sites.names, g, (size_t)n, opt.by, 1200, title);
		} else {
			for (long i = 0; i < n; i++) {
				uint64_t v = xt_counts_metric(&g[i].c, opt.by);
				if (!v)
					continue;
				xt_out_mem(&o, xt_names_str(&p.sites.names, g[i].key),
					   xt_names_len(&p.sites.names, g[i].key));
				xt_out_char(&o, ' ');
				xt_out_u64(&o, v);
				xt_out_char(&o, '\n');
			}
		}
		if (cli_out_close(&o) < 0 || bad) {
			cli_warn(bad ? "%s: out of memory" : "%s: cannot write the output", opt.svg ? opt.svg : path);
			code = XT_EXIT_FAIL;
		} else if (code == XT_EXIT_TRUNCATED) {
			cli_read_end(p.r, path, p.st);
		}
	}
	if (opt.svg && close(fd) < 0 && code == XT_EXIT_OK) {
		cli_warn("cannot write %s: %m", opt.svg);
		code = XT_EXIT_FAIL;
	}
	free(g);
	cli_profile_free(&p);
	return code;
}
