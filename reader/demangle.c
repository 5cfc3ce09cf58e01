/* demangle.c: the name people read for a symbol as an object file spells it. C++ and Rust
 * names are demangled with libiberty's callback demanglers, which allocate nothing and refuse
 * names too deep for their stack budget (those stay as they are); the parameter list, ABI tags
 * ([abi:cxx11]), the symbol version (@@GLIBC_2.34) and compiler clone suffixes (.constprop.0,
 * .isra.0, .part.0, .cold) are dropped, so one source function has one name. */
#include <libiberty/demangle.h>
#include <stdlib.h>

#include "internal.h"

int xt_namebuf_put(struct xt_namebuf *b, const char *s, size_t n)
{
	if (b->failed)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

static void demangled_piece(const char *s, size_t n, void *arg)
{
	xt_namebuf_put(arg, s, n);
}

/* drop_abi_tags removes every "[abi:TAG]" from b's text in place. */
static void drop_abi_tags(struct xt_namebuf *b)
{
	char *w = b->p;
	for (const char *r = b->p; *r;) {
		if (strncmp(r, "[abi:", 5) == 0) {
			const char *end = strchr(r, ']');
			if (end) {
				r = end + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = 0;
	b->len = (size_t)(w - b->p);
}

const char *xt_readable_name(const char *raw, struct xt_namebuf *b)
{
	b->len = 0;
	b->failed = 0;
	/* Neither C identifiers nor mangled names hold '@' or '.': what follows the first one is a
	 * symbol version or a clone suffix. */
	size_t n = strcspn(raw + (raw[0] != 0), "@.") + (raw[0] != 0);
	if (xt_namebuf_put(b, raw, n) < 0)
		return NULL;
	if (strncmp(b->p, "_Z", 2) != 0 && strncmp(b->p, "_R", 2) != 0)
		return b->p;
	char *mangled = strdup(b->p);
	if (!mangled)
		return NULL;
	b->len = 0;
	/* Legacy Rust names are valid C++ manglings too: Rust is tried first, as libiberty does. */
	int ok = rust_demangle_callback(mangled, DMGL_NO_OPTS, demangled_piece, b) && !b->failed;
	if (!ok) {
		b->len = 0;
		b->failed = 0;
		ok = cplus_demangle_v3_callback(mangled, DMGL_NO_OPTS, demangled_piece, b) &&
		     !b->failed;
	}
	if (!ok) {
		b->len = 0;
		b->failed = 0;
		xt_namebuf_put(b, mangled, n);
	}
	free(mangled);
	if (b->failed)
		return NULL;
	drop_abi_tags(b);
	return b->p;
}
