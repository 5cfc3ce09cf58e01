/* output.c: the CLI's buffered writer, number and unit formatting, JSON escaping and tables
 * (see output.h). The per-event paths (u64, hex, offsets) avoid printf. */
#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int xt_out_open(struct xt_out *o, int fd, size_t cap)
{
	o->fd = fd;
	o->failed = 0;
	o->len = 0;
	o->cap = cap;
	o->buf = malloc(cap);
	return o->buf ? 0 : -1;
}

/* grow doubles an in-memory writer's buffer; out of memory, what it held is dropped. */
static void grow(struct xt_out *o)
{
	char *b = o->failed || o->cap > SIZE_MAX / 2 ? NULL : realloc(o->buf, o->cap * 2);
	if (b) {
		o->buf = b;
		o->cap *= 2;
	} else {
		o->failed = 1;
		o->len = 0;
	}
}

void xt_out_flush(struct xt_out *o)
{
	if (o->fd < 0) {
		grow(o);
		return;
	}
	size_t off = 0;
	while (off < o->len && !o->failed) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			o->failed = 1;
		else
			off += (size_t)n;
	}
	o->len = 0;
}

int xt_out_close(struct xt_out *o)
{
	xt_out_flush(o);
	free(o->buf);
	o->buf = NULL;
	o->cap = 0;
	return o->failed ? -1 : 0;
}

char *xt_out_take(struct xt_out *o)
{
	xt_out_char(o, '\0');
	char *text = o->failed ? NULL : o->buf;
	if (!text)
		free(o->buf);
	o->buf = NULL;
	o->cap = o->len = 0;
	return text;
}

void xt_out_mem_slow(struct xt_out *o, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		if (o->len == o->cap)
			xt_out_flush(o);
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

/* put_digits writes v in decimal, at least width digits (zero-padded). */
static void put_digits(struct xt_out *o, uint64_t v, int width)
{
	char tmp[24];
	xt_out_mem(o, tmp, (size_t)(xt_put_dec(tmp, v, width) - tmp));
}

void xt_out_u64(struct xt_out *o, uint64_t v)
{
	put_digits(o, v, 1);
}

void xt_out_hex(struct xt_out *o, uint64_t v)
{
	char tmp[24];
	xt_out_mem(o, tmp, (size_t)(xt_put_hex(tmp, v) - tmp));
}

void xt_out_printf(struct xt_out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		xt_out_mem(o, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		o->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	xt_out_mem(o, big, (size_t)n);
	free(big);
}

void xt_out_json_strs(struct xt_out *o, const char *s, size_t n, const char *sep)
{
	for (size_t off = 0; off < n;) {
		size_t l = strnlen(s + off, n - off);
		if (off)
			xt_out_str(o, sep);
		xt_out_json_str(o, s + off, l);
		off += l + 1;
	}
}

static void json_str(struct xt_out *o, const char *s, size_t n, int in_html)
{
	static const char hex[] = "0123456789abcdef";
	xt_out_char(o, '"');
	size_t run = 0; /* bytes of s[run..i) that need no escape, written in one go */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && (c != '<' || !in_html))
			continue;
		xt_out_mem(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': xt_out_mem(o, "\\\"", 2); break;
		case '\\': xt_out_mem(o, "\\\\", 2); break;
		case '\n': xt_out_mem(o, "\\n", 2); break;
		case '\t': xt_out_mem(o, "\\t", 2); break;
		case '\r': xt_out_mem(o, "\\r", 2); break;
		default: {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			xt_out_mem(o, esc, sizeof esc);
		}
		}
	}
	xt_out_mem(o, s + run, n - run);
	xt_out_char(o, '"');
}

void xt_out_json_str(struct xt_out *o, const char *s, size_t n)
{
	json_str(o, s, n, 0);
}

void xt_out_json_str_html(struct xt_out *o, const char *s, size_t n)
{
	json_str(o, s, n, 1);
}

void xt_out_offset_ms(struct xt_out *o, int negative, uint64_t ns)
{
	xt_out_char(o, negative ? '-' : '+');
	put_digits(o, ns / 1000000, 1);
	xt_out_char(o, '.');
	put_digits(o, ns % 1000000, 6);
	xt_out_mem(o, "ms", 2);
}

char *xt_fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	int u = 0;
	while (u < 5 && bytes >> (10 * (u + 2)) != 0)
		u++;
	unsigned shift = 10 * (unsigned)(u + 1);
	uint64_t whole = bytes >> shift;
	/* Hundredths, truncated, so a value never rounds up into the next unit. */
	uint64_t frac = (uint64_t)(((unsigned __int128)(bytes & ((UINT64_C(1) << shift) - 1)) * 100) >> shift);
	snprintf(buf, n, "%llu.%02llu %s", (unsigned long long)whole, (unsigned long long)frac,
		 units[u]);
	return buf;
}

char *xt_fmt_duration(char *buf, size_t n, uint64_t ns)
{
	static const struct { uint64_t scale; const char *name; } units[] = {
		{1000000000, "s"}, {1000000, "ms"}, {1000, "us"},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		uint64_t sc = units[i].scale;
		if (ns >= sc) {
			snprintf(buf, n, "%llu.%03llu%s", (unsigned long long)(ns / sc),
				 (unsigned long long)(ns % sc * 1000 / sc), units[i].name);
			return buf;
		}
	}
	snprintf(buf, n, "%lluns", (unsigned long long)ns);
	return buf;
}

void xt_table_cell(struct xt_table *t, const char *fmt, ...)
{
	if (t->nrows >= XT_TABLE_ROWS || t->ncells[t->nrows] >= XT_TABLE_COLS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->cell[t->nrows][t->ncells[t->nrows]++], XT_TABLE_CELL, fmt, ap);
	va_end(ap);
}

void xt_table_row(struct xt_table *t)
{
	if (t->nrows < XT_TABLE_ROWS)
		t->nrows++;
}

void xt_cols_fit(size_t *width, const char *const *cells, int n)
{
	for (int c = 0; c < n; c++) {
		size_t w = strlen(cells[c]);
		if (w > width[c])
			width[c] = w;
	}
}

void xt_cols_row(struct xt_out *o, const size_t *width, const char *const *cells, int n,
		 unsigned left_cols)
{
	for (int c = 0; c < n; c++) {
		const char *s = cells[c];
		size_t pad = width[c] - strlen(s);
		int left = c == 0 || (left_cols >> c & 1);
		if (c > 0)
			xt_out_mem(o, "  ", 2);
		for (size_t i = 0; !left && i < pad; i++)
			xt_out_char(o, ' ');
		xt_out_str(o, s);
		/* A left-aligned cell pads on the right only when more cells follow. */
		for (size_t i = 0; left && c + 1 < n && i < pad; i++)
			xt_out_char(o, ' ');
	}
	xt_out_char(o, '\n');
}

void xt_table_print(const struct xt_table *t, struct xt_out *o)
{
	size_t width[XT_TABLE_COLS] = {0};
	const char *cells[XT_TABLE_ROWS][XT_TABLE_COLS];
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncells[r]; c++)
			cells[r][c] = t->cell[r][c];
		xt_cols_fit(width, cells[r], t->ncells[r]);
	}
	for (int r = 0; r < t->nrows; r++)
		xt_cols_row(o, width, cells[r], t->ncells[r], t->left_cols);
}
