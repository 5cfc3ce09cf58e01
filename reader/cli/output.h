/* output.h: the CLI's output helpers: a buffered writer on a file descriptor with fast number
 * formatting (dump prints millions of lines a second through it), JSON string escaping, human
 * units (KiB/MiB, ms/s) and aligned text tables. */
#ifndef XT_OUTPUT_H
#define XT_OUTPUT_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct xt_out {
	int fd;     /* -1: in memory (xt_out_take) */
	int failed; /* a write failed: later output is dropped, xt_out_close reports it */
	size_t len, cap;
	char *buf;
};

/* xt_out_open sets up a writer on fd with a cap-byte buffer: 0, or -1 without memory. With fd
 * -1 the writer keeps everything in memory, growing the buffer, until xt_out_take. */
int xt_out_open(struct xt_out *o, int fd, size_t cap);
/* xt_out_take ends an in-memory writer: what was written, NUL-terminated (free it), or NULL when
 * memory ran out on the way. */
char *xt_out_take(struct xt_out *o);
/* xt_out_close flushes and frees the buffer: 0, or -1 if any write failed. */
int xt_out_close(struct xt_out *o);
void xt_out_flush(struct xt_out *o);

/* xt_out_mem_slow is xt_out_mem's path when the buffer is full. */
void xt_out_mem_slow(struct xt_out *o, const void *p, size_t n);

/* xt_out_mem appends n bytes. */
static inline void xt_out_mem(struct xt_out *o, const void *p, size_t n)
{
	if (o->cap - o->len < n) {
		xt_out_mem_slow(o, p, n);
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static inline void xt_out_str(struct xt_out *o, const char *s)
{
	xt_out_mem(o, s, strlen(s));
}

static inline void xt_out_char(struct xt_out *o, char c)
{
	xt_out_mem(o, &c, 1);
}

/* Writing in place, for lines printed millions of times: xt_out_reserve returns where n bytes
 * can be written (flushing first when needed), or NULL when the buffer is smaller than n;
 * xt_out_commit then takes what was written up to end. */
static inline char *xt_out_reserve(struct xt_out *o, size_t n)
{
	if (o->cap - o->len < n)
		xt_out_flush(o);
	return o->cap - o->len < n ? NULL : o->buf + o->len;
}

static inline void xt_out_commit(struct xt_out *o, char *end)
{
	o->len = (size_t)(end - o->buf);
}

/* "00" to "99", for writing decimal digits two at a time. */
static const char xt_digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
					"25262728293031323334353637383940414243444546474849"
					"50515253545556575859606162636465666768697071727374"
					"75767778798081828384858687888990919293949596979899";

/* xt_put_digits writes the last n decimal digits of v at p, zero-padded, and returns the end.
 * The digits go straight to their place, last first, two a division (building them elsewhere
 * and copying them over would stall on the narrow stores). */
static inline char *xt_put_digits(char *p, uint64_t v, int n)
{
	char *q = p + n;
	for (; q - p >= 2; v /= 100) {
		q -= 2;
		memcpy(q, xt_digit_pairs + 2 * (v % 100), 2);
	}
	if (q > p)
		*--q = (char)('0' + v % 10);
	return p + n;
}

/* xt_put_6digits writes v (< 1000000) as exactly six digits: the three pairs come from
 * independent divisions, not one after another (the nanoseconds of every dump line). */
static inline char *xt_put_6digits(char *p, uint64_t v)
{
	memcpy(p, xt_digit_pairs + 2 * (v / 10000 % 100), 2);
	memcpy(p + 2, xt_digit_pairs + 2 * (v / 100 % 100), 2);
	memcpy(p + 4, xt_digit_pairs + 2 * (v % 100), 2);
	return p + 6;
}

/* xt_put_dec writes v in decimal at p, at least width digits (zero-padded), and returns the
 * end. */
static inline char *xt_put_dec(char *p, uint64_t v, int width)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
		100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
	};
	int d = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12; /* about log10(v) */
	int n = d + (v >= pow10[d]);
	if (n < width)
		n = width;
	if (n == 0)
		n = 1;
	return xt_put_digits(p, v, n);
}

/* xt_hex8 is the 8 hex digits of x as ASCII, the first (most significant) in the lowest byte:
 * each nibble spread to a byte of its own, then made a digit or a letter, eight at once. */
static inline uint64_t xt_hex8(uint32_t x)
{
	uint64_t v = x;
	v = (v | v << 16) & UINT64_C(0x0000ffff0000ffff);
	v = (v | v << 8) & UINT64_C(0x00ff00ff00ff00ff);
	v = (v | v << 4) & UINT64_C(0x0f0f0f0f0f0f0f0f); /* byte i: nibble i, lowest first */
	v = __builtin_bswap64(v);
	uint64_t letters = ((v + UINT64_C(0x0606060606060606)) >> 4) & UINT64_C(0x0101010101010101);
	return v + UINT64_C(0x3030303030303030) + letters * ('a' - '0' - 10);
}

/* xt_put_hex writes v as 0x and lowercase hex digits at p and returns the end. It writes 18
 * bytes whatever the length; those past the end are scratch. */
static inline char *xt_put_hex(char *p, uint64_t v)
{
	int n = v ? (67 - __builtin_clzll(v)) / 4 : 1;
	/* the 16 digits with leading zeros, then shifted down past the k = 16 - n leading ones */
	uint64_t hi = xt_hex8((uint32_t)(v >> 32)), lo = xt_hex8((uint32_t)v);
	unsigned k = 16u - (unsigned)n;
	uint64_t w0, w1;
	if (k >= 8) {
		w0 = lo >> (8 * (k - 8));
		w1 = 0;
	} else {
		w0 = k ? hi >> (8 * k) | lo << (64 - 8 * k) : hi;
		w1 = lo >> (8 * k);
	}
	w0 = htole64(w0);
	w1 = htole64(w1);
	p[0] = '0';
	p[1] = 'x';
	memcpy(p + 2, &w0, 8);
	memcpy(p + 10, &w1, 8);
	return p + 2 + n;
}

void xt_out_u64(struct xt_out *o, uint64_t v);
/* xt_out_hex writes v as 0x followed by lowercase hex digits. */
void xt_out_hex(struct xt_out *o, uint64_t v);
void xt_out_printf(struct xt_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* xt_out_json_str writes s (n bytes) as a JSON string: quoted, with ", \ and control bytes
 * escaped. Other bytes pass through, so UTF-8 stays UTF-8. */
void xt_out_json_str(struct xt_out *o, const char *s, size_t n);
/* xt_out_json_str_html is xt_out_json_str with '<' escaped too (\u003c), for JSON inside an
 * HTML <script> element, which no string can then close. */
void xt_out_json_str_html(struct xt_out *o, const char *s, size_t n);
/* xt_out_json_strs writes the NUL-terminated strings packed in s (n bytes, a command line) as
 * JSON strings, sep between them. */
void xt_out_json_strs(struct xt_out *o, const char *s, size_t n, const char *sep);
/* xt_out_offset_ms writes a time offset as milliseconds with nanosecond digits: +12.345678ms. */
void xt_out_offset_ms(struct xt_out *o, int negative, uint64_t ns);

/* Human units into buf (truncated to n bytes, NUL-terminated); they return buf. Bytes: "512 B",
 * "1.50 KiB", "3.25 MiB", ... (binary units, two decimals, truncated). Durations: "250ns",
 * "1.500us", "12.345ms", "2.000s". */
char *xt_fmt_bytes(char *buf, size_t n, uint64_t bytes);
char *xt_fmt_duration(char *buf, size_t n, uint64_t ns);

/* xt_table collects rows of cells and prints them aligned, two spaces apart: the first column
 * and those in left_cols (a bit per column) to the left, the others (numbers) to the right.
 * Small and fixed-size: it is for summaries, not for data. */
#define XT_TABLE_ROWS 48
#define XT_TABLE_COLS 4
#define XT_TABLE_CELL 64

struct xt_table {
	unsigned left_cols;
	int nrows;
	int ncells[XT_TABLE_ROWS];
	char cell[XT_TABLE_ROWS][XT_TABLE_COLS][XT_TABLE_CELL];
};

/* xt_table_cell appends a cell to the current row (dropped past the table's limits). */
void xt_table_cell(struct xt_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* xt_table_row ends the current row; an empty row prints as a blank line. */
void xt_table_row(struct xt_table *t);
void xt_table_print(const struct xt_table *t, struct xt_out *o);

/* Data tables of any length and cell size, with xt_table's alignment: measure every row with
 * xt_cols_fit (widths start zeroed), then print each with xt_cols_row. */
void xt_cols_fit(size_t *width, const char *const *cells, int n);
void xt_cols_row(struct xt_out *o, const size_t *width, const char *const *cells, int n,
		 unsigned left_cols);

#endif
