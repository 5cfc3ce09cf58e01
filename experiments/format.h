/* format.h: the wire constants of an xtrace trace file. Depends on nothing.
 * Every number here is part of the file format: changing one changes XT_FORMAT_VERSION.
 * experiments/README.md describes the layout byte by byte. */
#ifndef XT_FORMAT_H
#define XT_FORMAT_H

#include <stdint.h>

/* File header: 8 magic bytes, then uvarint header_size, then header_size bytes of fields. */
#define XT_MAGIC "\x7fXTRACE\n"
#define XT_MAGIC_LEN 8
#define XT_FORMAT_VERSION 5
/* Version 1 had no Specs batches: its events are those of the reader's built-in spec table.
 * Versions 1 and 2 always carry CLOCK_MONOTONIC nanoseconds; from 3 the events may carry TSC
 * ticks, mapped to nanoseconds by each generation's Sync. From 4 a generation may be one
 * compressed record (XT_RECORD_ZSTD); from 5 one compressed record of its column form
 * (XT_RECORD_ZSTD_COLUMNS). */
#define XT_MIN_FORMAT_VERSION 1
#define XT_MAX_HEADER_SIZE 8192

/* Batch kinds: the first byte of every batch. */
enum xt_batch_kind {
	XT_BATCH_EVENTS = 1,       /* one thread's timed events */
	XT_BATCH_STRINGS = 2,      /* string table: {id, len, bytes}* */
	XT_BATCH_STACKS = 3,       /* stack table: {id, nframes, pc0, zigzag(pc deltas)...}* */
	XT_BATCH_MODULES = 4,      /* module table: {id, path string, base, lo, hi, buildid}* */
	XT_BATCH_EXPERIMENTAL = 5, /* one experiment's opaque per-generation bytes */
	XT_BATCH_SYNC = 6,         /* clock snapshot of the generation */
	XT_BATCH_END = 7,          /* end of generation: {nbatches, lost} */
	XT_BATCH_SPECS = 8,        /* the specs of the generation's experiments (version 2) */
	XT_BATCH_KIND_MAX = 8,
};

/* A compressed generation (version 4), where a generation's first batch would begin:
 * {XT_RECORD_ZSTD, uvarint gen, uvarint plain_size, uvarint zstd_size, zstd_size bytes}: one
 * zstd frame whose content is the generation's batches, plain_size bytes, up to its End. Never
 * inside a generation. */
#define XT_RECORD_ZSTD 9
/* The same for version 5, {XT_RECORD_ZSTD_COLUMNS, gen, plain_size, zstd_size, bytes}, whose
 * zstd frames (one or more, one after another) hold the generation's column form (columns.h):
 * the writer's default. */
#define XT_RECORD_ZSTD_COLUMNS 10
/* The shim writes a generation of fewer plain bytes than this as plain batches: compressing it
 * saves a few KiB, and a process's first compression costs more than its start-up otherwise
 * (zstd's tables and code are paged in). */
#define XT_COMPRESS_MIN (16u << 10)
/* The zstd level the shim compresses a generation at: compression runs beside the program, so
 * the fastest level (the size floors of `make bench` compress at it too). */
#define XT_ZSTD_LEVEL 1
/* The plain bytes of one generation a reader accepts (a writer advances early, long before). */
#define XT_MAX_GEN_SIZE (256u << 20)
/* The zstd window a compressed generation's frame may use (a reader refuses larger ones). */
#define XT_MAX_ZSTD_WINDOW_LOG 20

/* Limits. NOTE: if one of these decreases, XT_FORMAT_VERSION must change. */
#define XT_MAX_BATCH_SIZE (64u << 10) /* payload bytes of one batch */
#define XT_MAX_FRAMES 128             /* frames of one stack */
#define XT_MAX_STRING 4096            /* bytes of one string */
#define XT_MAX_BUILDID 64             /* bytes of one build ID */
#define XT_MAX_ARGS 5                 /* arguments of one timed event, dt excluded */
#define XT_MAX_VARINT 10              /* bytes of one uvarint */
#define XT_MAX_SPEC_NAME 64           /* bytes of a name in a Specs batch */
/* The largest encoded timed event: type byte, dt and XT_MAX_ARGS uvarints. */
#define XT_MAX_EVENT_SIZE (1 + (1 + XT_MAX_ARGS) * XT_MAX_VARINT)

/* Event type IDs: 0 is invalid, 1..126 are core events, 127..255 experimental ones. */
#define XT_FIRST_EXPERIMENTAL_EVENT 127
#define XT_MAX_EVENT_TYPES 256

/* ID 0 of a string, stack, type or module means "none". */
#define XT_NO_ID 0

/* ProcessEnd's how_value: how a process image ended. */
enum xt_image_end {
	XT_END_EXIT = 1,   /* status_value: the exit status */
	XT_END_SIGNAL = 2, /* status_value: the fatal signal */
	XT_END_EXEC = 3,   /* status_value: 0 */
};

/* The CLOCK_MONOTONIC clock's rate; a header's ticks_per_sec is this or XT_TICKS_PER_GEN. */
#define XT_TICKS_PER_SEC 1000000000ull
/* A header's ticks_per_sec when the events carry TSC ticks: each Sync gives its generation's. */
#define XT_TICKS_PER_GEN 0
/* The rates a Sync may give (1 MHz to 100 GHz): a reader rejects any other. */
#define XT_MIN_TICKS_PER_SEC 1000000ull
#define XT_MAX_TICKS_PER_SEC 100000000000ull

#endif
