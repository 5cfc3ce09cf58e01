/* traceopen.c: opening test traces with the reader (see traceopen.h). */
#include "traceopen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

xtrace_reader *tg_open_file(const char *path)
{
	char err[256] = "";
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	if (!r)
		fail_msg("open %s: %s", path, err);
	return r;
}

xtrace_reader *tg_open_trace(const struct tg *t)
{
	char *path = tg_tmpfile(t, TG_ALL);
	xtrace_reader *r = tg_open_file(path);
	unlink(path);
	free(path);
	return r;
}
