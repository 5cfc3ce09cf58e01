/* sigstack.c: allocations made in signal handlers, on the thread's stack and on an alternate
 * signal stack, through a known chain: main -> raise_here -> (signal) -> on_usr1/on_usr2 ->
 * handler_leaf -> malloc. A test checks that the stacks go through the signal frame down to
 * main on both stacks.
 *   sigstack        prints "sigstack normal=N alternate=N"
 *   sigstack late   the alternate stack set by the system call itself (the shim does not see
 *                   it), a handler's allocation on it, half a second, then another (4323 bytes) */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "workload.h"

#define NORMAL_SIZE 4321
#define ALTERNATE_SIZE 4322
#define LATER_SIZE 4323

static void *blocks[3];
static int later;

__attribute__((noinline)) static void handler_leaf(int slot, size_t size)
{
	blocks[slot] = malloc(size);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void on_usr1(int sig __attribute__((unused)))
{
	handler_leaf(0, NORMAL_SIZE);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void on_usr2(int sig __attribute__((unused)))
{
	handler_leaf(1 + later, later ? LATER_SIZE : ALTERNATE_SIZE);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void raise_here(int sig)
{
	raise(sig);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	static char altstack[1 << 16];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	struct sigaction normal = {.sa_handler = on_usr1}, alternate = {.sa_handler = on_usr2};
	alternate.sa_flags = SA_ONSTACK;
	int late = argc > 1 && strcmp(argv[1], "late") == 0;
	if ((late ? syscall(SYS_sigaltstack, &ss, NULL) : sigaltstack(&ss, NULL)) != 0 ||
	    sigaction(SIGUSR1, &normal, NULL) != 0 || sigaction(SIGUSR2, &alternate, NULL) != 0)
		return 1;
	if (late) {
		raise_here(SIGUSR2);
		usleep(500000);
		later = 1;
		raise_here(SIGUSR2);
		say("sigstack later=%d\n", blocks[2] != NULL);
		for (int i = 1; i < 3; i++)
			free(blocks[i]);
		return 0;
	}
	raise_here(SIGUSR1);
	raise_here(SIGUSR2);
	say("sigstack normal=%d alternate=%d\n", blocks[0] != NULL, blocks[1] != NULL);
	free(blocks[0]);
	free(blocks[1]);
	return 0;
}
