/* cli.h: what the xtrace subcommands share: the command table entry, exit codes, messages, and
 * opening a trace and reporting how reading ended. Each subcommand is one file, cmd_<name>. */
#ifndef XT_CLI_H
#define XT_CLI_H

#include "analysis/names.h"
#include "output.h"
#include "xtrace-reader.h"

/* Exit codes of every subcommand (run exits with the program's own status). */
enum {
	XT_EXIT_OK = 0,
	XT_EXIT_FAIL = 1,      /* unreadable or corrupt input, or a validation failure */
	XT_EXIT_USAGE = 2,     /* bad arguments, or nothing to run with */
	XT_EXIT_TRUNCATED = 3, /* the trace ends inside a generation; the complete ones were used */
	XT_EXIT_REGRESSED = 4, /* diff --fail-above: the metric grew by more than allowed */
};

struct xt_command {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv, const struct xt_command *cmd);
	const char *usage; /* "xtrace NAME ARGS\n" and option lines */
};

int cmd_run(int argc, char **argv, const struct xt_command *cmd);
int cmd_dump(int argc, char **argv, const struct xt_command *cmd);
int cmd_stats(int argc, char **argv, const struct xt_command *cmd);
int cmd_validate(int argc, char **argv, const struct xt_command *cmd);
int cmd_timers(int argc, char **argv, const struct xt_command *cmd);
int cmd_top(int argc, char **argv, const struct xt_command *cmd);
int cmd_leaks(int argc, char **argv, const struct xt_command *cmd);
int cmd_peak(int argc, char **argv, const struct xt_command *cmd);
int cmd_diff(int argc, char **argv, const struct xt_command *cmd);
int cmd_flame(int argc, char **argv, const struct xt_command *cmd);
int cmd_export(int argc, char **argv, const struct xt_command *cmd);
int cmd_report(int argc, char **argv, const struct xt_command *cmd);
int cmd_ctl(int argc, char **argv, const struct xt_command *cmd);

/* Big enough that a dump makes few write calls. */
#define XT_STDOUT_BUFFER (1u << 20)

/* cli_warn prints "xtrace: ..." and a newline on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_usage_error warns, prints cmd's usage on stderr and returns XT_EXIT_USAGE. */
int cli_usage_error(const struct xt_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* cli_help prints cmd's usage on stdout and returns XT_EXIT_OK. */
int cli_help(const struct xt_command *cmd);
/* cli_file_arg checks that exactly one FILE remains after the options and returns it, or NULL
 * after reporting the usage error. */
const char *cli_file_arg(const struct xt_command *cmd, int argc, char **argv);

/* cli_no_symbols: `--no-symbols` was given (main.c takes it out of every command's arguments):
 * no command symbolizes, so no path the trace names is opened; frames show module+offset. */
extern int cli_no_symbols;

/* cli_open opens a trace, or reports why not and returns NULL (exit XT_EXIT_FAIL). */
xtrace_reader *cli_open(const char *path);
/* cli_open_arg is cli_file_arg then cli_open: the open reader with *path set, or NULL after
 * reporting why, with *code the exit code for it. */
xtrace_reader *cli_open_arg(const struct xt_command *cmd, int argc, char **argv,
			    const char **path, int *code);
/* cli_read_end reports how reading path ended (st: XTRACE_OK or an error status) and returns the
 * exit code for it. */
int cli_read_end(const xtrace_reader *r, const char *path, enum xtrace_status st);
/* cli_finish closes stdout's writer o and then reports how reading path ended: XT_EXIT_FAIL when
 * the output could not be written, else cli_read_end's code. */
int cli_finish(struct xt_out *o, const xtrace_reader *r, const char *path, enum xtrace_status st);
/* cli_since_start is ts's time after the trace start in ns (0 for an earlier ts). */
uint64_t cli_since_start(const xtrace_reader *r, uint64_t ts);
/* stats_heaps.c: the text of a row per heap and of the address space (their JSON is the
 * library's, analysis/stats_json.h). */
struct xt_heap_rows;
struct xt_summary;
/* cli_warn_no_heap says on stderr that path has no heap name, listing the heaps of h. */
void cli_warn_no_heap(const char *path, const char *name, const struct xt_heap_rows *h);
/* cli_heap_missing: the pass s was to follow a heap (--heap) that the trace does not name. It
 * then reports so on stderr, listing the heaps the trace has, and returns 1; else 0. */
int cli_heap_missing(const char *path, const struct xt_summary *s);
/* A table when the program named heaps of its own. */
void cli_put_heaps_text(struct xt_out *o, const struct xt_heap_rows *h);
/* The table of the address space, only for a trace with it. */
void cli_put_memory_text(struct xt_out *o, const xtrace_reader *r, const struct xt_summary *s);

/* cli_out_close flushes stdout's writer, reporting a failed write: 0 or -1. */
int cli_out_close(struct xt_out *o);

/* cli_put_event writes an event's dump line, without the newline:
 *   gen=1 ts=+12.345678ms thread=4242 ObjectAlloc obj_addr=0x55d0c0a012a0 type=3 stack=7 */
void cli_put_event(struct xt_out *o, const xtrace_reader *r, const struct xtrace_event *ev);

#endif
