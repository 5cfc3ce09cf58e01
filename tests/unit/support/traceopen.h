/* traceopen.h: opening test traces with the reader, failing the running cmocka test with the
 * reader's message when a trace that should open does not. */
#ifndef XT_TRACEOPEN_H
#define XT_TRACEOPEN_H

#include "tracegen.h"
#include "xtrace-reader.h"

/* tg_open_file opens the trace at path. */
xtrace_reader *tg_open_file(const char *path);
/* tg_open_trace writes t to a temporary file and opens it. The file is gone when it returns: the
 * reader's map keeps the bytes. */
xtrace_reader *tg_open_trace(const struct tg *t);

#endif
