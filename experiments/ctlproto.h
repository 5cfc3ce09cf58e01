/* ctlproto.h: the control channel of a traced process (`xtrace ctl PID`): where its socket is and
 * what is said on it. Shared by the shim (shim/control.c) and the CLI (reader/cli/ctl.c).
 *
 * Each traced process listens on a Unix stream socket of its own, <dir>/<pid>.sock, where dir is
 * $XDG_RUNTIME_DIR/xtrace when the process has XDG_RUNTIME_DIR (an absolute path), else
 * /tmp/xtrace-<uid>; the directory is the user's alone (mode 0700), the socket mode 0600. A
 * client connects, sends one command line ("start\n", "stop\n", "snapshot\n", "status\n"), and
 * reads the answer to the end: a first line "ok" or "error", then text for the user. */
#ifndef XT_CTLPROTO_H
#define XT_CTLPROTO_H

#include "pathjoin.h"

#define XT_CTL_MAX_LINE 64 /* bytes of a command line, newline included */

/* xt_ctl_dir writes uid's control directory into out; false if it does not fit. */
static inline int xt_ctl_dir(char *out, size_t cap, const char *xdg_runtime_dir, unsigned long uid)
{
	char num[XT_DECIMAL_CAP];
	const char *xdg[] = {xdg_runtime_dir, "/xtrace"}, *tmp[] = {"/tmp/xtrace-", xt_decimal(num, uid)};
	return xdg_runtime_dir && xdg_runtime_dir[0] == '/' ? xt_join(out, cap, xdg, 2)
							    : xt_join(out, cap, tmp, 2);
}

/* xt_ctl_sock writes the socket path of process pid under dir; false if it does not fit. */
static inline int xt_ctl_sock(char *out, size_t cap, const char *dir, long pid)
{
	char num[XT_DECIMAL_CAP];
	const char *pieces[] = {dir, "/", xt_decimal(num, (unsigned long long)pid), ".sock"};
	return pid >= 0 && xt_join(out, cap, pieces, 4);
}

#endif
