/* libplugin.c: a shared library that dlopen.c loads at run time; its allocations must be
 * recorded and attributed to it (stack frames in this module, module in the trace's table). */
#include <stdlib.h>

#define PLUGIN_SIZE 4242

static void *held[256];

/* plugin_work allocates n blocks of PLUGIN_SIZE bytes, frees them all, and returns the count. */
__attribute__((noinline)) int plugin_work(int n)
{
	if (n < 0 || n > 256)
		return -1;
	for (int i = 0; i < n; i++)
		held[i] = malloc(PLUGIN_SIZE);
	for (int i = 0; i < n; i++)
		free(held[i]);
	return n;
}
