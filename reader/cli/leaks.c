/* leaks.c: `xtrace leaks`: the objects still live when the trace ends, grouped by the stack
 * that allocated them (or by function, line, region), largest first, with symbolized frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "profile.h"

static void put_json(struct xt_out *o, const struct cli_profile *p, enum xt_grouping by,
		     const struct xt_group *g, size_t n)
{
	const struct xt_sites *s = &p->sites;
	cli_put_json_head(o, p, by);
	xt_out_printf(o, ",\n  \"leaked_objects\": %llu,\n  \"leaked_bytes\": %llu,\n  \"sites\": ",
		      (unsigned long long)s->total.live_objects, (unsigned long long)s->total.live_bytes);
	xt_put_groups_json(o, s, g, n, 0, by);
	xt_out_str(o, "\n}\n");
}

static void put_text(struct xt_out *o, const struct cli_profile *p, enum xt_grouping by,
		     const struct xt_group *g, size_t n, size_t total)
{
	const struct xt_sites *s = &p->sites;
	char b[32], c[32];
	cli_put_header(o, p);
	xt_out_printf(o, "%llu objects (%s) live at the end, from %zu sites\n",
		      (unsigned long long)s->total.live_objects,
		      xt_fmt_bytes(b, sizeof b, s->total.live_bytes), total);
	for (size_t i = 0; i < n; i++) {
		xt_out_printf(o, "\n%s in %llu objects, of %llu allocations (%s)", 
			      xt_fmt_bytes(b, sizeof b, g[i].c.live_bytes),
			      (unsigned long long)g[i].c.live_objects, (unsigned long long)g[i].c.allocs,
			      xt_fmt_bytes(c, sizeof c, g[i].c.bytes));
		if (by == XT_GROUP_STACK) {
			xt_out_str(o, ", allocated at\n");
		} else {
			xt_out_printf(o, ", %s %s; the largest stack:\n", xt_grouping_name(by),
				      xt_names_str(&s->names, g[i].key));
		}
		cli_put_frames(o, s, g[i].site, "    ");
	}
}

int cmd_leaks(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {.group = XT_GROUP_STACK, .count = -1};
	int code = cli_parse_options(cmd, argc, argv,
				     CLI_GROUP | CLI_COUNT | CLI_JSON | CLI_EACH_IMAGE | CLI_ALLOC_FRAMES | CLI_HEAP,
				     &opt);
	if (code >= 0)
		return code;
	struct cli_profile p;
	code = cli_profile_load_arg(&p, cmd, argc, argv, NULL, 0);
	if (code != XT_EXIT_OK && code != XT_EXIT_TRUNCATED)
		return code;
	const char *path = p.path;
	struct xt_group *g;
	struct xt_out o;
	long n = cli_profile_group(&p, opt.group, XT_BY_LEAKED, &g, &o, STDOUT_FILENO);
	if (n < 0) {
		code = XT_EXIT_FAIL;
	} else {
		/* Groups are sorted by leaked bytes; those that leaked nothing end the list. */
		size_t k = 0;
		while (k < (size_t)n && g[k].c.live_objects && (opt.count < 0 || (long)k < opt.count))
			k++;
		size_t leaking = k;
		while (leaking < (size_t)n && g[leaking].c.live_objects)
			leaking++;
		if (opt.json)
			put_json(&o, &p, opt.group, g, k);
		else
			put_text(&o, &p, opt.group, g, k, leaking);
		code = cli_finish(&o, p.r, path, p.st);
	}
	free(g);
	cli_profile_free(&p);
	return code;
}
