/* pathjoin.h: file names made of pieces and decimal numbers without printf, shared by the shim and
 * the CLI. A traced process makes its trace's and control socket's names at start; printf's
 * machinery is several pages of the C library's code that a short process (/bin/true) would
 * otherwise fault in for them, a page fault each. Inline, allocation-free. */
#ifndef XT_PATHJOIN_H
#define XT_PATHJOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define XT_DECIMAL_CAP 21 /* the digits of any 64-bit number, and a NUL */

/* xt_decimal writes v in decimal, NUL-terminated, into out (XT_DECIMAL_CAP bytes); returns out. */
static inline const char *xt_decimal(char out[XT_DECIMAL_CAP], unsigned long long v)
{
	char d[XT_DECIMAL_CAP];
	size_t n = 0, i = 0;
	do
		d[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		out[i++] = d[--n];
	out[i] = 0;
	return out;
}

/* xt_join writes the n pieces one after another, NUL-terminated, into out; false (out then
 * holds what fitted) if they do not fit in cap bytes. */
static inline bool xt_join(char *out, size_t cap, const char *const *pieces, size_t n)
{
	size_t len = 0;
	if (!cap)
		return false;
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(pieces[i]);
		if (l >= cap - len)
			return false;
		memcpy(out + len, pieces[i], l + 1);
		len += l;
	}
	return true;
}

#endif
