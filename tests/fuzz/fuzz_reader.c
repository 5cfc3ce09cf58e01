/* fuzz_reader.c: libFuzzer target: the reader library on arbitrary bytes (`make fuzz`). */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xt_fuzz_reader(data, size);
	return 0;
}
