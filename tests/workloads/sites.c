/* sites.c: a program with known allocation sites, for the analysis commands (top, leaks, peak,
 * flame, diff, export, report). sites [SCALE [PAUSE_MS]]: SCALE (default 1) multiplies every
 * count; PAUSE_MS (default 0) is a sleep between the three sites, so each has a time of its own:
 *   temporary_site  1000 x 64 B, each freed right after it was allocated (temporary)
 *   leak_site       10 x 1 MiB, never freed (leaked, live at the peak)
 *   peak_site       5 x 1 MiB, all live at once, then freed (the first is temporary: its free
 *                   follows an allocation of the same stack and size); inside region "build-peak"
 * so the process peaks at 15 MiB x SCALE, right after peak_site's last allocation. It prints
 * each site's totals as "site=NAME allocs=N bytes=B". */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../include/xtrace.h"
#include "workload.h"

#define MIB (1u << 20)

static void *kept[1024];
static unsigned nkept;

__attribute__((noinline)) static void temporary_site(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		char *p = malloc(64);
		p[0] = (char)i;
		free(p);
	}
	say("site=temporary_site allocs=%u bytes=%u\n", n, n * 64);
}

__attribute__((noinline)) static void leak_site(unsigned n)
{
	for (unsigned i = 0; i < n && nkept < 1024; i++) {
		kept[nkept] = malloc(MIB);
		memset(kept[nkept++], 1, 64);
	}
	say("site=leak_site allocs=%u bytes=%u\n", n, n * MIB);
}

__attribute__((noinline)) static void peak_site(unsigned n)
{
	void *p[256];
	XTRACE_REGION_BEGIN("build-peak");
	for (unsigned i = 0; i < n && i < 256; i++) {
		p[i] = malloc(MIB);
		memset(p[i], 2, 64);
	}
	xtrace_log_message("sites", "peak built");
	for (unsigned i = 0; i < n && i < 256; i++)
		free(p[i]);
	XTRACE_REGION_END("build-peak");
	say("site=peak_site allocs=%u bytes=%u\n", n, n * MIB);
}

int main(int argc, char **argv)
{
	unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
	if (scale < 1 || scale > 50)
		scale = 1;
	unsigned pause_ms = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	struct timespec pause = {pause_ms / 1000, (long)(pause_ms % 1000) * 1000000};
	temporary_site(1000 * scale);
	if (pause_ms)
		nanosleep(&pause, NULL);
	leak_site(10 * scale);
	if (pause_ms)
		nanosleep(&pause, NULL);
	peak_site(5 * scale);
	return 0;
}
