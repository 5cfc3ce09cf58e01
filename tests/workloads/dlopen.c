/* dlopen.c: loads libplugin.so (beside this program) with dlopen, calls plugin_work, and
 * dlcloses it, so a test can check that a module loaded and unloaded at run time is recorded.
 *   dlopen [N]   N plugin allocations (default 20) */
#include <stdlib.h>

#include "workload.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	char dir[4096], path[4200];
	if (exe_dir(dir, sizeof dir) != 0)
		return 2;
	snprintf(path, sizeof path, "%slibplugin.so", dir);
	int done = run_plugin(path, n);
	if (done < 0)
		return 2;
	say("plugin allocs=%d size=4242\n", done);
	return done == n ? 0 : 1;
}
