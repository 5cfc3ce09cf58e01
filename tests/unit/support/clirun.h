/* clirun.h: running an xtrace subcommand in-process, as the CLI tests do, with its stdout and
 * stderr captured. */
#ifndef XT_CLIRUN_H
#define XT_CLIRUN_H

#include "cli/cli.h"

/* run_argv runs a subcommand with the NULL-terminated argv, stdout (and stderr) captured in *out
 * (malloc'd), and returns its exit code. */
int run_argv(int (*fn)(int, char **, const struct xt_command *), char **argv, char **out);
/* run_cmd runs a subcommand on path with at most one option (opt). */
int run_cmd(int (*fn)(int, char **, const struct xt_command *), const char *name, const char *opt,
	    const char *path, char **out);

/* tmp_output makes an empty temporary file for a command's -o, named from template (ending in
 * XXXXXX); read_output returns a file's bytes, NUL-terminated (malloc'd). */
void tmp_output(char *template);
char *read_output(const char *path);

#endif
