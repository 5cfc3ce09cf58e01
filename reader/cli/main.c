/* main.c: the xtrace command: a table of subcommands and the dispatch to them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct xt_command commands[] = {
	{"run", "run a program with heap tracing", cmd_run,
	 "xtrace run [-o PATTERN] [--] PROGRAM [ARGS...]\n"
	 "Runs PROGRAM with the tracing library preloaded; exits with its status.\n"
	 "  -o, --output PATTERN  trace file name pattern (sets XTRACE_OUT)\n"},
	{"dump", "print every event of a trace, one per line", cmd_dump,
	 "xtrace dump [--stacks] [--no-symbols] FILE\n"
	 "Prints the header, each generation's Sync and every event in time order.\n"
	 "  --stacks      print the frames of each event's stacks below it\n"
	 "  --no-symbols  with --stacks, show module+offset instead of function file:line\n"},
	{"stats", "print a trace's totals: events, threads, allocations, peak heap", cmd_stats,
	 "xtrace stats [--json] FILE\n"
	 "  --json  print one JSON object instead of tables\n"},
	{"validate", "check a trace's heap events against its live set", cmd_validate,
	 "xtrace validate FILE\n"
	 "Reports allocations of live addresses and frees of addresses that are not live;\n"
	 "exits 1 if there is any.\n"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs("usage: xtrace COMMAND [ARGS...]\n\ncommands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'xtrace COMMAND --help' describes a command. Exit codes: 0 ok, 1 corrupt input or\n"
	      "validation failure, 2 usage error, 3 truncated trace (complete generations used).\n", f);
}

static const struct xt_command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return XT_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (argc > 2 && find(argv[2]))
			return cli_help(find(argv[2]));
		usage(stdout);
		return XT_EXIT_OK;
	}
	const struct xt_command *cmd = find(name);
	if (!cmd) {
		cli_warn("unknown command '%s'", name);
		usage(stderr);
		return XT_EXIT_USAGE;
	}
	return cmd->fn(argc - 1, argv + 1, cmd);
}
