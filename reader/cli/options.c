/* options.c: the subcommands' option parser (see options.h). */
#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

/* A long option comes back from getopt_long as its bit moved past the letters, so that
 * bad_option can tell it from a short one (-o from --output). */
#define LONG(bit) ((int)(bit) << 8)

/* Every option a command may take, as getopt_long wants it. */
static const struct {
	unsigned bit;
	struct option opt;
} known[] = {
	{CLI_JSON, {"json", no_argument, NULL, LONG(CLI_JSON)}},
	{CLI_TSV, {"tsv", no_argument, NULL, LONG(CLI_TSV)}},
	{CLI_GROUP, {"group", required_argument, NULL, LONG(CLI_GROUP)}},
	{CLI_BY, {"by", required_argument, NULL, LONG(CLI_BY)}},
	{CLI_REGION, {"region", required_argument, NULL, LONG(CLI_REGION)}},
	{CLI_OUTPUT, {"output", required_argument, NULL, LONG(CLI_OUTPUT)}},
	{CLI_FORMAT, {"format", required_argument, NULL, LONG(CLI_FORMAT)}},
	{CLI_SVG, {"svg", required_argument, NULL, LONG(CLI_SVG)}},
	{CLI_STACKS, {"stacks", no_argument, NULL, LONG(CLI_STACKS)}},
	{CLI_NO_SYMBOLS, {"no-symbols", no_argument, NULL, LONG(CLI_NO_SYMBOLS)}},
	{CLI_FAIL_ABOVE, {"fail-above", required_argument, NULL, LONG(CLI_FAIL_ABOVE)}},
	{CLI_PID, {"pid", required_argument, NULL, LONG(CLI_PID)}},
	{CLI_EXE, {"exe", required_argument, NULL, LONG(CLI_EXE)}},
	{CLI_ALLOC_FRAMES, {"keep-allocator-frames", no_argument, NULL, LONG(CLI_ALLOC_FRAMES)}},
	{CLI_ALLOC_FRAMES, {"alloc-fn", required_argument, NULL, LONG(CLI_ALLOC_FRAMES) | 1}},
	{CLI_HEAP, {"heap", required_argument, NULL, LONG(CLI_HEAP)}},
};
#define NKNOWN (sizeof known / sizeof known[0])

struct xt_alloc_rules cli_alloc_rules;
const char *cli_heap;

/* bad_option reports what getopt_long (opterr 0, a leading ':') returned as ch. */
static int bad_option(const struct xt_command *cmd, int ch, char **argv)
{
	/* getopt sets optopt to a short option's letter; a long option (optopt 0 when unknown, its
	 * code of 256 or more when it lacks a value) is the whole argument, up to any '='. */
	const char *what = ch == ':' ? "option %.*s%s needs a value" : "unknown option %.*s%s";
	if (optopt > 0 && optopt < 256)
		return cli_usage_error(cmd, what, 1, "-", (char[]){(char)optopt, 0});
	const char *arg = argv[optind - 1];
	return cli_usage_error(cmd, what, (int)strcspn(arg, "="), arg, "");
}

int cli_parse_options(const struct xt_command *cmd, int argc, char **argv, unsigned takes,
		      struct cli_options *o)
{
	struct option opts[NKNOWN + 2];
	size_t n = 0;
	if (takes & CLI_EACH_IMAGE)
		takes |= CLI_PID | CLI_EXE;
	for (size_t i = 0; i < NKNOWN; i++)
		if (takes & known[i].bit)
			opts[n++] = known[i].opt;
	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n] = (struct option){0};
	/* ':' first: a missing value comes back as ':', not as '?' with a message of getopt's */
	char shorts[16], *s = shorts;
	if (takes & CLI_PROGRAM)
		*s++ = '+';
	*s++ = ':';
	if (takes & CLI_COUNT)
		s = memcpy(s, "n:", 2) + 2;
	if (takes & CLI_OUTPUT)
		s = memcpy(s, "o:", 2) + 2;
	*s++ = 'h';
	*s = 0;

	cli_alloc_rules = (struct xt_alloc_rules){0};
	cli_heap = NULL;
	optind = 0; /* full getopt reset: commands may run more than once in one process (tests) */
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		char *end;
		switch (ch) {
		case LONG(CLI_JSON): o->json = 1; break;
		case LONG(CLI_TSV): o->tsv = 1; break;
		case LONG(CLI_STACKS): o->stacks = 1; break;
		case LONG(CLI_NO_SYMBOLS): o->no_symbols = 1; break;
		case LONG(CLI_REGION): o->region = optarg; break;
		case LONG(CLI_FORMAT): o->format = optarg; break;
		case LONG(CLI_SVG): o->svg = optarg; break;
		case 'o':
		case LONG(CLI_OUTPUT): o->output = optarg; break;
		case 'n':
			if (cli_parse_count(cmd, optarg, &o->count) < 0)
				return XT_EXIT_USAGE;
			break;
		case LONG(CLI_GROUP):
			if (cli_parse_grouping(cmd, optarg, &o->group) < 0)
				return XT_EXIT_USAGE;
			break;
		case LONG(CLI_BY):
			if (cli_parse_metric(cmd, optarg, &o->by) < 0)
				return XT_EXIT_USAGE;
			break;
		case LONG(CLI_FAIL_ABOVE):
			o->fail_above = strtod(optarg, &end);
			if (*end || !(o->fail_above >= 0))
				return cli_usage_error(cmd, "--fail-above wants a percentage, not '%s'", optarg);
			break;
		case LONG(CLI_PID):
			o->pid = strtoull(optarg, &end, 10);
			if (*end || !o->pid || optarg[0] == '-')
				return cli_usage_error(cmd, "--pid wants a process ID, not '%s'", optarg);
			break;
		case LONG(CLI_EXE): o->exe = optarg; break;
		case LONG(CLI_HEAP): cli_heap = optarg; break;
		case LONG(CLI_ALLOC_FRAMES): cli_alloc_rules.keep = 1; break;
		case LONG(CLI_ALLOC_FRAMES) | 1:
			if (cli_alloc_rules.nextra == XT_MAX_ALLOC_FNS)
				return cli_usage_error(cmd, "more than %d --alloc-fn", XT_MAX_ALLOC_FNS);
			cli_alloc_rules.extra[cli_alloc_rules.nextra++] = optarg;
			break;
		case 'h': return cli_help(cmd);
		default: return bad_option(cmd, ch, argv);
		}
	}
	if (o->json && o->tsv)
		return cli_usage_error(cmd, "--json and --tsv exclude each other");
	if ((takes & CLI_EACH_IMAGE) && optind < argc && cli_wants_images(argv[optind], o))
		return cli_each_image(cmd, argc, argv, o, NULL, NULL);
	return -1;
}

xtrace_reader *cli_open_options(const struct xt_command *cmd, int argc, char **argv,
				unsigned takes, struct cli_options *o, const char **path, int *code)
{
	*code = cli_parse_options(cmd, argc, argv, takes, o);
	return *code >= 0 ? NULL : cli_open_arg(cmd, argc, argv, path, code);
}
