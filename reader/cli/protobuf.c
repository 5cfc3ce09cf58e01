/* protobuf.c: the protocol-buffers encoder (see protobuf.h). */
#include "protobuf.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static uint8_t *room(struct xt_pb *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->len + n > b->cap) {
		size_t c = b->cap ? b->cap : 256;
		while (c < b->len + n)
			c *= 2;
		uint8_t *p = realloc(b->p, c);
		if (!p) {
			b->failed = 1;
			return NULL;
		}
		b->p = p;
		b->cap = c;
	}
	return b->p + b->len;
}

static void put_varint(struct xt_pb *b, uint64_t v)
{
	uint8_t *p = room(b, 10), *q = p;
	if (!p)
		return;
	for (; v >= 0x80; v >>= 7)
		*q++ = (uint8_t)(v | 0x80);
	*q++ = (uint8_t)v;
	b->len += (size_t)(q - p);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

static void put_key(struct xt_pb *b, unsigned field, unsigned wire)
{
	put_varint(b, (uint64_t)field << 3 | wire);
}

void xt_pb_clear(struct xt_pb *b)
{
	b->len = 0;
}

void xt_pb_free(struct xt_pb *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void xt_pb_uint(struct xt_pb *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	put_key(b, field, WIRE_VARINT);
	put_varint(b, v);
}

void xt_pb_bytes(struct xt_pb *b, unsigned field, const void *p, size_t n)
{
	put_key(b, field, WIRE_LEN);
	put_varint(b, n);
	uint8_t *q = room(b, n);
	if (q && n) {
		memcpy(q, p, n);
		b->len += n;
	}
}

void xt_pb_msg(struct xt_pb *b, unsigned field, const struct xt_pb *m)
{
	if (m->failed)
		b->failed = 1;
	xt_pb_bytes(b, field, m->p, m->len);
}

void xt_pb_packed(struct xt_pb *b, unsigned field, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += varint_len(v[i]);
	put_key(b, field, WIRE_LEN);
	put_varint(b, len);
	for (size_t i = 0; i < n; i++)
		put_varint(b, v[i]);
}
