/* allocsite.c: the allocation-machinery table (see allocsite.h). A frame is machinery when a
 * rule matches it; the site analyses drop machinery frames from the innermost end of a stack
 * (README, "Allocation sites" keeps the same table). */
#include "allocsite.h"

#include <string.h>

enum match {
	MODULE_PREFIX,   /* the module's file name starts with the pattern */
	FUNCTION,        /* the readable function name is the pattern */
	FUNCTION_PREFIX, /* the readable function name starts with the pattern */
};

static const struct {
	enum match match;
	const char *pattern;
} rules[] = {
	/* The libraries that hold the allocators: every frame in them allocates for its caller. */
	{MODULE_PREFIX, "libc.so."},      /* malloc family, strdup, asprintf, getline, fopen, ... */
	{MODULE_PREFIX, "libstdc++.so."}, /* operator new, std::string, locale and stream code */
	/* The same, compiled into the program (static linking; templates instantiated in it). */
	{FUNCTION, "malloc"},
	{FUNCTION, "calloc"},
	{FUNCTION, "realloc"},
	{FUNCTION, "reallocarray"},
	{FUNCTION, "posix_memalign"},
	{FUNCTION, "aligned_alloc"},
	{FUNCTION, "memalign"},
	{FUNCTION, "valloc"},
	{FUNCTION, "pvalloc"},
	{FUNCTION, "operator new"},   /* every form: sized, aligned, nothrow (no parameters shown) */
	{FUNCTION, "operator new[]"},
	{FUNCTION, "strdup"},
	{FUNCTION, "__strdup"},
	{FUNCTION, "strndup"},
	{FUNCTION, "__strndup"},
	{FUNCTION, "wcsdup"},
	{FUNCTION, "asprintf"},
	{FUNCTION, "___asprintf"},
	{FUNCTION, "vasprintf"},
	{FUNCTION, "__vasprintf_internal"},
	{FUNCTION, "getline"},
	{FUNCTION, "getdelim"},
	{FUNCTION, "__getdelim"},
	{FUNCTION, "realpath"},
	{FUNCTION, "canonicalize_file_name"},
	{FUNCTION, "get_current_dir_name"},
	/* std::allocator, std::allocator_traits, make_unique, make_shared, containers' and
	 * strings' growth paths: the user function that called into them is the site. */
	{FUNCTION_PREFIX, "std::"},
	{FUNCTION_PREFIX, "__gnu_cxx::"}, /* __gnu_cxx::new_allocator */
	/* include/xtrace.h's heap annotations, inlined into the program's own allocator: the
	 * function that annotates (pool_take, say) is the site, not the header's inline. */
	{FUNCTION_PREFIX, "xtrace_heap_"},
};

int xt_alloc_frame(const struct xt_alloc_rules *r, const char *function, const char *symbol,
		   const char *module)
{
	if (r && r->keep)
		return 0;
	for (size_t i = 0; r && i < r->nextra; i++)
		if ((function && strcmp(function, r->extra[i]) == 0) ||
		    (symbol && strcmp(symbol, r->extra[i]) == 0))
			return 1;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		const char *p = rules[i].pattern;
		switch (rules[i].match) {
		case MODULE_PREFIX:
			if (module && strncmp(module, p, strlen(p)) == 0)
				return 1;
			break;
		case FUNCTION:
			if (function && strcmp(function, p) == 0)
				return 1;
			break;
		case FUNCTION_PREFIX:
			if (function && strncmp(function, p, strlen(p)) == 0)
				return 1;
			break;
		}
	}
	return 0;
}
