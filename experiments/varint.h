/* varint.h: unsigned LEB128 and zigzag coding, shared by the shim's writer and the reader.
 * Inline, allocation-free and safe to call from a signal handler. */
#ifndef XT_VARINT_H
#define XT_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* xt_put_uvarint writes v at p (room for XT_MAX_VARINT bytes) and returns the end. */
static inline uint8_t *xt_put_uvarint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* xt_uvarint_len is how many bytes xt_put_uvarint writes for v. */
static inline size_t xt_uvarint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* xt_get_uvarint decodes one uvarint from [*pp, end). It returns 0 and advances *pp, or
 * -1 when the bytes run out or the value is longer than 10 bytes or overflows 64 bits.
 * Zero-padded encodings ("0x80 0x00") are accepted. */
static inline int xt_get_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		if (shift == 63 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* xt_uvarint decodes one uvarint from [*pp, end) like xt_get_uvarint, but tells apart bytes
 * running out (1: the file may be cut) from an invalid encoding (-1). */
static inline int xt_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	if (xt_get_uvarint(pp, end, out) == 0)
		return 0;
	/* With XT_MAX_VARINT bytes at hand xt_get_uvarint reaches the last byte a uvarint may
	 * have, so it failed on the encoding; with fewer, on the bytes running out. */
	return end - *pp < XT_MAX_VARINT ? 1 : -1;
}

static inline uint64_t xt_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t xt_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
