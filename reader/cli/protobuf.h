/* protobuf.h: a protocol-buffers encoder, just what the pprof export writes: varints, packed
 * varints and length-delimited fields. A message is built in a growable buffer; a nested one is
 * built in a buffer of its own and then written into its parent (xt_pb_msg), so no length has
 * to be known in advance. Running out of memory is sticky: the buffer says so at the end. */
#ifndef XT_PROTOBUF_H
#define XT_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

struct xt_pb {
	uint8_t *p;
	size_t len, cap;
	int failed; /* an append could not grow the buffer: the message is incomplete */
};

/* xt_pb_clear empties b for the next message, keeping its memory; xt_pb_free releases it. */
void xt_pb_clear(struct xt_pb *b);
void xt_pb_free(struct xt_pb *b);

/* xt_pb_uint writes a varint field (uint64, int64 >= 0, bool); 0, the default, is left out as
 * proto3 writers do. */
void xt_pb_uint(struct xt_pb *b, unsigned field, uint64_t v);
/* xt_pb_bytes writes a length-delimited field (string, bytes), even an empty one: a repeated
 * string's empty entries count (pprof's string table starts with ""). */
void xt_pb_bytes(struct xt_pb *b, unsigned field, const void *p, size_t n);
/* xt_pb_msg writes message m as field `field` of b. */
void xt_pb_msg(struct xt_pb *b, unsigned field, const struct xt_pb *m);
/* xt_pb_packed writes v[0..n) as one packed repeated varint field (nothing when n is 0). */
void xt_pb_packed(struct xt_pb *b, unsigned field, const uint64_t *v, size_t n);

#endif
