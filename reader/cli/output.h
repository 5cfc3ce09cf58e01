/* output.h: the CLI's output helpers: a buffered writer on a file descriptor with fast number
 * formatting (dump prints millions of lines a second through it), JSON string escaping, human
 * units (KiB/MiB, ms/s) and aligned text tables. */
#ifndef XT_OUTPUT_H
#define XT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct xt_out {
	int fd;
	int failed; /* a write failed: later output is dropped, xt_out_close reports it */
	size_t len, cap;
	char *buf;
};

/* xt_out_open sets up a writer on fd with a cap-byte buffer: 0, or -1 without memory. */
int xt_out_open(struct xt_out *o, int fd, size_t cap);
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

void xt_out_u64(struct xt_out *o, uint64_t v);
/* xt_out_hex writes v as 0x followed by lowercase hex digits. */
void xt_out_hex(struct xt_out *o, uint64_t v);
void xt_out_printf(struct xt_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* xt_out_json_str writes s (n bytes) as a JSON string: quoted, with ", \ and control bytes
 * escaped. Other bytes pass through, so UTF-8 stays UTF-8. */
void xt_out_json_str(struct xt_out *o, const char *s, size_t n);
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
