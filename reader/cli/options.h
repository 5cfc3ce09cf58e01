/* options.h: the subcommands' options, one table and one parser. A command says which it takes
 * (a bit each), presets the defaults in a struct cli_options, and cli_parse_options fills in
 * what the command line gives: values checked as they are read (a metric, a grouping, a count,
 * a percentage), the rest kept as given. Any option the command does not take is a usage error. */
#ifndef XT_OPTIONS_H
#define XT_OPTIONS_H

#include "profile.h"

enum cli_option {
	CLI_JSON = 1u << 0,       /* --json */
	CLI_TSV = 1u << 1,        /* --tsv */
	CLI_COUNT = 1u << 2,      /* -n N: how many rows */
	CLI_GROUP = 1u << 3,      /* --group stack|function|line|region */
	CLI_BY = 1u << 4,         /* --by METRIC */
	CLI_REGION = 1u << 5,     /* --region NAME */
	CLI_OUTPUT = 1u << 6,     /* -o/--output PATH */
	CLI_FORMAT = 1u << 7,     /* --format NAME */
	CLI_SVG = 1u << 8,        /* --svg PATH */
	CLI_STACKS = 1u << 9,     /* --stacks */
	CLI_NO_SYMBOLS = 1u << 10, /* --no-symbols (main.c also takes it out of every command's) */
	CLI_FAIL_ABOVE = 1u << 11, /* --fail-above PERCENT */
	CLI_PROGRAM = 1u << 12,   /* not an option: the options end at the first argument (run) */
	CLI_PID = 1u << 13,       /* --pid PID: only that process's images of a run */
	CLI_EXE = 1u << 14,       /* --exe NAME: only the images of that program (path or file name) */
	/* not an option: given a run directory (or --pid, --exe), the command runs once per image
	 * selected, under a title each (tree.c); it takes --pid and --exe */
	CLI_EACH_IMAGE = 1u << 15,
	CLI_ALLOC_FRAMES = 1u << 16, /* --keep-allocator-frames, --alloc-fn NAME (repeatable) */
	CLI_HEAP = 1u << 17,      /* --heap NAME: the heap to analyse (cli_heap) */
};

struct cli_options {
	int json, tsv, stacks, no_symbols;
	long count;
	enum xt_grouping group;
	enum xt_metric by;
	double fail_above;
	const char *region, *output, *format, *svg;
	uint64_t pid;
	const char *exe;
};

/* cli_parse_options reads the options of argv into o (taking those in takes, a set of enum
 * cli_option bits) and leaves optind at the first other argument: -1 to go on, else the exit
 * code to return (XT_EXIT_OK after --help, XT_EXIT_USAGE after reporting a bad option). */
int cli_parse_options(const struct xt_command *cmd, int argc, char **argv, unsigned takes,
		      struct cli_options *o);

/* cli_open_options is cli_parse_options then cli_open_arg, the start of every command that
 * reads one trace itself: the open reader with *path set, or NULL with *code the exit code to
 * return (XT_EXIT_OK after --help). */
xtrace_reader *cli_open_options(const struct xt_command *cmd, int argc, char **argv,
				unsigned takes, struct cli_options *o, const char **path, int *code);

#endif
