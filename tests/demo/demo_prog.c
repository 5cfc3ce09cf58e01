/* demo_prog.c: emits the demo experiment's events when the demo shim is loaded: N ticks from a
 * known function, each naming a distinct static object, US microseconds apart, then M in a
 * forked child. Without the shim it runs all the same.
 *   demo_prog [N [M [US]]]   defaults 10, 0 (no child) and 0 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*tick_fn)(uint64_t seq, const void *obj, uint64_t len);

static char objects[64][32];

__attribute__((noinline)) static void demo_site(tick_fn tick, uint64_t seq)
{
	tick(seq, objects[seq % 64], sizeof(objects[0]) + seq);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10, m = argc > 2 ? atoi(argv[2]) : 0;
	int us = argc > 3 ? atoi(argv[3]) : 0;
	tick_fn tick = (tick_fn)dlsym(RTLD_DEFAULT, "xtrace_demo_tick");
	if (!tick) {
		printf("demo experiment not loaded\n");
		return 0;
	}
	for (int i = 0; i < n; i++) {
		demo_site(tick, (uint64_t)i);
		if (us)
			usleep((useconds_t)us);
	}
	if (m > 0) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < m; i++)
				demo_site(tick, (uint64_t)i);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	printf("ticks %d\n", n);
	return 0;
}
