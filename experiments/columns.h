/* columns.h: the column form of a generation, the content of a compressed generation's record
 * (XT_RECORD_ZSTD_COLUMNS, format.h). The Events batches' events move out of their batches into
 * columns: every event's type byte in one, every dt in another, and each argument in the column
 * of its event type and position; the rest of the generation (every other batch, and each
 * Events batch's header) stays as it was, the skeleton. Values of one kind side by side are
 * what a compressor finds alike: on `mtloop` 2x1M the Events bytes compress to 1.52 bytes per
 * event instead of 1.93 when interleaved (perl 1.31 against 1.52, python3 0.63 against 0.85).
 *
 * A generation's column form is a run of segments, each the column form of whole batches:
 *   uvarint ncolumns, then per column {uvarint key, uvarint size}, keys increasing;
 *   uvarint skeleton size, then the skeleton: the segment's batches in order, an Events batch
 *   with its header alone (its size still that of the events it held);
 *   the columns' bytes, in the directory's order.
 * Keys: XT_COL_TYPES, XT_COL_DT, XT_COL_ARG(type, i). The columns of a type are 0 to nargs - 1,
 * each one there when an event of the type is (an argument is at least a byte): the directory
 * says how many arguments each type has. A segment's plain bytes are at most
 * XT_COL_SEGMENT_MAX, so the writer and a reader each hold one segment's form at a time, not a
 * generation's; the writer ends a segment at the first batch at or past XT_COL_SEGMENT bytes.
 * Moving bytes only, a segment's form is its plain bytes plus its directory, so a reader's
 * output is never larger than what came out of the frame. experiments/README.md has the
 * byte-level description. */
#ifndef XT_COLUMNS_H
#define XT_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

#define XT_COL_TYPES 0
#define XT_COL_DT 1
#define XT_COL_ARG(type, i) (2u + (unsigned)(type) * XT_MAX_ARGS + (unsigned)(i))
#define XT_COL_COUNT XT_COL_ARG(256, 0)
/* The plain bytes a writer gathers into one segment before it ends it at a batch's end, and
 * the most a segment may hold (a reader refuses more). */
#define XT_COL_SEGMENT (1u << 20)
#define XT_COL_SEGMENT_MAX (2u << 20)
_Static_assert(XT_COL_SEGMENT + XT_MAX_EVENT_SIZE + XT_MAX_BATCH_SIZE + 64 <= XT_COL_SEGMENT_MAX,
	       "a segment ends within a batch of XT_COL_SEGMENT");
/* The longest head of a segment: its directory (a count, then a key and a size per column)
 * and its skeleton's size; and the longest segment. */
#define XT_COL_HEAD_MAX (2 * XT_MAX_VARINT + XT_COL_COUNT * 2 * XT_MAX_VARINT)
#define XT_COL_FORM_MAX (XT_COL_HEAD_MAX + XT_COL_SEGMENT_MAX)
/* The room a writer gives a segment's form: the columns are first laid out 16 bytes apart. */
#define XT_COL_SPLIT_ROOM (XT_COL_FORM_MAX + XT_COL_COUNT * 16)
/* nargs of an event type the writer does not know: its generation cannot be split. */
#define XT_COL_NO_TYPE 0xff

/* Each column's size and where the next of its bytes goes (split) or comes from (join), and
 * the keys of the columns the last segment had: the caller's workspace, about 25 KiB, so that
 * neither side allocates; zeroed before its first use. */
struct xt_columns {
	size_t size[XT_COL_COUNT];
	size_t at[XT_COL_COUNT];
	uint16_t keys[XT_COL_COUNT];
	unsigned nkeys;
};

/* xt_columns_split writes at out (room for XT_COL_SPLIT_ROOM bytes) the next segment of the
 * plain generation bytes src (len of them): its batches from the first up to the first that
 * ends at or past XT_COL_SEGMENT bytes, or to the end. *took is how many bytes of src it
 * holds. nargs[t] is the argument count of event type t (XT_COL_NO_TYPE: not one). Returns the
 * segment's bytes, or 0 when src does not begin with whole batches whose Events batches hold
 * whole events of known types. */
size_t xt_columns_split(const uint8_t *src, size_t len, const uint8_t nargs[256],
			struct xt_columns *ws, uint8_t *out, size_t *took);

/* xt_columns_segment_size is the length of the segment that begins in[0..len) (at most
 * XT_COL_FORM_MAX): 0 when those bytes do not reach the end of its head yet, -1 when the head
 * is not well formed or says more than a segment may hold. */
long xt_columns_segment_size(const uint8_t *in, size_t len, struct xt_columns *ws);

/* xt_columns_join writes at out (room for cap bytes) the plain bytes of the segment in (len
 * bytes, as xt_columns_segment_size gave them) and returns how many, or 0 with *why saying what
 * is wrong with it. Linear in len whatever the input; it reads and writes nothing outside the
 * two buffers. */
size_t xt_columns_join(const uint8_t *in, size_t len, struct xt_columns *ws, uint8_t *out,
		       size_t cap, const char **why);

#endif
