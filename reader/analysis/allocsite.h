/* allocsite.h: what is allocation machinery, so that an allocation's site is its first frame
 * outside it: the malloc family, operator new, the C++ standard library's allocators and
 * containers, glibc's allocating helpers (one table, allocsite.c), and the names a project adds
 * for its own wrappers (--alloc-fn). */
#ifndef XT_ALLOCSITE_H
#define XT_ALLOCSITE_H

#include <stddef.h>

/* At most this many --alloc-fn names. */
#define XT_MAX_ALLOC_FNS 32

struct xt_alloc_rules {
	int keep;                                /* --keep-allocator-frames: nothing is machinery */
	const char *extra[XT_MAX_ALLOC_FNS];     /* --alloc-fn: a project's own allocating functions */
	size_t nextra;
};

/* xt_alloc_frame says whether a frame is allocation machinery (1) or may be a site (0), by its
 * readable function name, its raw symbol (each NULL if unknown) and its module's file name
 * (NULL outside any module). */
int xt_alloc_frame(const struct xt_alloc_rules *r, const char *function, const char *symbol,
		   const char *module);

#endif
