/* allocfree.h: the AllocFree experiment's batch layout, API codes and references, shared
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

/* Frees and allocations by reference name the address of an earlier event of their Events batch
 * instead of coding it. What they name is counted back in one of two lists of the batch's events:
 *   XT_REFS_ALLOCS: every ObjectAlloc (in either form, failed ones included), which the frees by
 *                   reference (ObjectFreeRecent, ObjectReallocFreeRecent) name;
 *   XT_REFS_FREES:  every ObjectFree and ObjectReallocFree (in either form), which the
 *                   allocations by reference (ObjectAllocReused) name.
 * A reference names one of the last XT_ALLOCREF_WINDOW events of its list: a reader keeps that
 * many addresses per thread and list at most. */
enum xt_refs_list { XT_REFS_ALLOCS, XT_REFS_FREES, XT_REFS_LISTS };
#define XT_ALLOCREF_WINDOW 4096

/* xt_allocref_by_address returns the event a reference form stands for, which readers hand it
 * out as; XT_EV_NONE for any other type. */
static inline uint8_t xt_allocref_by_address(uint8_t type)
{
	switch (type) {
	case XT_EV_ObjectFreeRecent:
		return XT_EV_ObjectFree;
	case XT_EV_ObjectReallocFreeRecent:
		return XT_EV_ObjectReallocFree;
	case XT_EV_ObjectAllocReused:
		return XT_EV_ObjectAlloc;
	default:
		return XT_EV_NONE;
	}
}

/* xt_allocref_names returns the list a reference form names into; -1 for any other type. */
static inline int xt_allocref_names(uint8_t type)
{
	switch (type) {
	case XT_EV_ObjectFreeRecent:
	case XT_EV_ObjectReallocFreeRecent:
		return XT_REFS_ALLOCS;
	case XT_EV_ObjectAllocReused:
		return XT_REFS_FREES;
	default:
		return -1;
	}
}

/* xt_allocref_list returns the list an event of type joins, in either form; -1 for none. */
static inline int xt_allocref_list(uint8_t type)
{
	switch (type) {
	case XT_EV_ObjectAlloc:
	case XT_EV_ObjectAllocReused:
		return XT_REFS_ALLOCS;
	case XT_EV_ObjectFree:
	case XT_EV_ObjectReallocFree:
	case XT_EV_ObjectFreeRecent:
	case XT_EV_ObjectReallocFreeRecent:
		return XT_REFS_FREES;
	default:
		return -1;
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
