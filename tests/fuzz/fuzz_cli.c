/* fuzz_cli.c: libFuzzer target: every analysis command of the xtrace CLI, in-process, on
 * arbitrary bytes (`make fuzz`). Their output goes to /dev/null. */
#include <fcntl.h>
#include <unistd.h>

#include "analysis/keyhash.h"
#include "fuzz_targets.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The fixed check (fuzz.sh runs) must repeat: a random table seed would change the probe
	 * loops' coverage, and with it the inputs libFuzzer goes on to try. */
	xt_keyhash_fix_seed(1);
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0)
		dup2(null, STDOUT_FILENO);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xt_fuzz_cli(data, size);
	return 0;
}
