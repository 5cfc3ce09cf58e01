/* allocfree.h: the AllocFree experiment's batch layout, API codes and frees by reference, shared
 * by shim and reader.
 *
 * Experimental batch data for AllocFree begins with a subtype byte:
 *   XT_ALLOCFREE_BATCH_TYPES: the type table, repeated {uvarint id, u8 api, uvarint elem_size,
 *   uvarint count, uvarint align}. Requested bytes = elem_size * count; align 0 = the allocator's
 *   default alignment. */
#ifndef XT_ALLOCFREE_H
#define XT_ALLOCFREE_H

#include <stdint.h>

#include "spec.h"

#define XT_ALLOCFREE_BATCH_TYPES 0

/* A free by reference (ObjectFreeRecent, ObjectReallocFreeRecent) names one of the last
 * XT_ALLOCREF_WINDOW ObjectAllocs of its batch: a reader keeps that many addresses per thread at
 * most. */
#define XT_ALLOCREF_WINDOW 4096

/* xt_allocref_by_address returns the event a free by reference stands for, which readers hand
 * it out as; XT_EV_NONE for any other type. */
static inline uint8_t xt_allocref_by_address(uint8_t type)
{
	switch (type) {
	case XT_EV_ObjectFreeRecent:
		return XT_EV_ObjectFree;
	case XT_EV_ObjectReallocFreeRecent:
		return XT_EV_ObjectReallocFree;
	default:
		return XT_EV_NONE;
	}
}

/* X(ident, name): the allocation APIs, in wire order (the api byte of a type). */
#define XT_ALLOC_APIS(X)                 \
	X(MALLOC, "malloc")                  \
	X(CALLOC, "calloc")                  \
	X(REALLOC, "realloc")                \
	X(REALLOCARRAY, "reallocarray")      \
	X(POSIX_MEMALIGN, "posix_memalign")  \
	X(ALIGNED_ALLOC, "aligned_alloc")    \
	X(MEMALIGN, "memalign")              \
	X(VALLOC, "valloc")                  \
	X(PVALLOC, "pvalloc")

enum xt_alloc_api {
#define XT_API_ENUM(ident, name) XT_API_##ident,
	XT_ALLOC_APIS(XT_API_ENUM)
#undef XT_API_ENUM
	XT_API_COUNT
};

#endif
