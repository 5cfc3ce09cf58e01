/* fuzz_targets.h: the two fuzz targets' bodies, shared by the libFuzzer binaries
 * (tests/fuzz/fuzz_reader.c, fuzz_cli.c) and the unit test that replays the corpus and every
 * regression input under the normal build (tests/unit/test_fuzz_regressions.c). */
#ifndef XT_FUZZ_TARGETS_H
#define XT_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/* xt_fuzz_reader opens data as a trace with the reader library and reads every event, calling
 * every accessor on what the events name. */
void xt_fuzz_reader(const uint8_t *data, size_t size);
/* xt_fuzz_cli runs every analysis command of the CLI in-process on data (stdout must go
 * nowhere: the caller redirects it), with symbolization off: the inputs name arbitrary paths. */
void xt_fuzz_cli(const uint8_t *data, size_t size);

#endif
