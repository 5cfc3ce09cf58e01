/* readall.c: the reader alone: every event of a trace decoded and handed out in time order by
 * libxtrace-reader, with no analysis behind it. What `xtrace stats` costs beyond this is its
 * analyses'; no analysis can make stats faster than this pass (the floor make bench prints).
 *   readall TRACE
 * prints the event count; exits 1 when the trace cannot be read to its end. */
#include <stdio.h>

#include "xtrace-reader.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: readall TRACE\n");
		return 2;
	}
	char err[256];
	xtrace_reader *r = xtrace_open(argv[1], err, sizeof err);
	if (!r) {
		fprintf(stderr, "readall: %s\n", err);
		return 1;
	}
	struct xtrace_event ev;
	unsigned long long n = 0;
	int rc;
	while ((rc = xtrace_next(r, &ev)) > 0)
		n++;
	if (rc < 0)
		fprintf(stderr, "readall: %s: %s\n", argv[1], xtrace_error(r));
	printf("%llu\n", n);
	xtrace_close(r);
	return rc < 0;
}
