/* alloctypes.h: AllocFree's type table, cold side. */
#ifndef XT_ALLOCTYPES_H
#define XT_ALLOCTYPES_H

#include <stdbool.h>

#include "thread.h"

XT_HIDDEN bool xt_alloctypes_init(void);
/* xt_alloc_type returns the type ID of a request (API, element size, count, alignment) in the
 * generation t records. */
XT_HIDDEN uint64_t xt_alloc_type(struct xt_thread *t, unsigned api, uint64_t elem_size,
				 uint64_t count, uint64_t align);

#endif
