/* dump.c: `xtrace dump`: every event, one per line, in time order, printed generically from the
 * spec (argument kinds say how to show each value), with each generation's Sync marked. Also the
 * event line format validate reuses. No per-event allocation; numbers and addresses format
 * without printf. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "spec.h"

/* rel_ns is ts relative to the trace start, in ns; *neg says it came before the start. */
static uint64_t rel_ns(const struct xtrace_header *h, uint64_t ts, int *neg)
{
	*neg = ts < h->start_ts;
	return *neg ? h->start_ts - ts : ts - h->start_ts;
}

static void put_arg(struct xt_out *o, const xtrace_reader *r, uint8_t kind, uint64_t v)
{
	switch (kind) {
	case XTRACE_ARG_ADDR:
		xt_out_hex(o, v);
		return;
	case XTRACE_ARG_STRING: {
		size_t len;
		const char *s = xtrace_string(r, v, &len);
		if (s) {
			xt_out_json_str(o, s, len);
			return;
		}
		xt_out_str(o, "unknown#");
		break;
	}
	case XTRACE_ARG_NS: {
		char buf[32];
		xt_out_str(o, xt_fmt_duration(buf, sizeof buf, v));
		return;
	}
	default:
		break;
	}
	xt_out_u64(o, v);
}

/* put_args_from writes arguments i.. of ev, each with its name. */
static void put_args_from(struct xt_out *o, const xtrace_reader *r, const struct xtrace_event *ev,
			  unsigned i)
{
	for (; i < ev->nargs; i++) {
		xt_out_char(o, ' ');
		xt_out_str(o, ev->arg_names[i]);
		xt_out_char(o, '=');
		put_arg(o, r, ev->arg_kinds[i], ev->args[i]);
	}
}

/* A constant piece of a dump line, zero-padded so that it goes out in one fixed-size copy:
 * dump prints millions of lines, and a variable-size copy per piece costs more than the rest of
 * the line. */
#define XT_PIECE 48
struct piece {
	uint8_t len;
	char s[XT_PIECE];
};

/* vpiece_set is piece_set with a va_list. */
static int vpiece_set(struct piece *pc, const char *fmt, va_list ap)
{
	int n = vsnprintf(pc->s, sizeof pc->s, fmt, ap);
	if (n < 0 || n >= (int)sizeof pc->s)
		return -1;
	pc->len = (uint8_t)n;
	return 0;
}

/* piece_set formats pc: 0, or -1 when the text does not fit (print it the slow way). */
static int __attribute__((format(printf, 2, 3))) piece_set(struct piece *pc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vpiece_set(pc, fmt, ap);
	va_end(ap);
	return rc;
}

/* A piece that stands for a key (an event type as written, a generation, a thread), formatted
 * the first time the key comes and again when another key takes its place. */
struct keyed_piece {
	uint64_t key;
	uint8_t state; /* 0: not built, 1: built, 2: too long, print the slow way */
	struct piece text;
};

static const struct piece *keyed_text(const struct keyed_piece *k)
{
	return k->state == 1 ? &k->text : NULL;
}

/* keyed_piece_build formats k's text for key: out of line, since it runs once per new key. */
static const struct piece *__attribute__((format(printf, 3, 4)))
keyed_piece_build(struct keyed_piece *k, uint64_t key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	k->key = key;
	k->state = vpiece_set(&k->text, fmt, ap) ? 2 : 1;
	va_end(ap);
	return keyed_text(k);
}

/* keyed_piece_of is k's text for key (formatted from the printf arguments that follow when the
 * key is new), or NULL when it does not fit in a piece. */
#define keyed_piece_of(k, key_, ...)                                               \
	((k)->state && (k)->key == (key_) ? keyed_text(k)                          \
					  : keyed_piece_build((k), (key_), __VA_ARGS__))

/* put_piece copies pc to p, which has XT_PIECE bytes of room, and returns the end of its text. */
static inline char *put_piece(char *p, const struct piece *pc)
{
	memcpy(p, pc->s, sizeof pc->s);
	return p + pc->len;
}

/* An event type's pieces, " Name arg0=" then " argN=" (" Name" alone without arguments), built
 * on first use of the type. */
static struct line_pieces {
	uint8_t state; /* 0: not built, 1: built, 2: a piece too long, print the slow way */
	struct piece arg[XTRACE_MAX_ARGS];
} lines[256];

static const struct line_pieces *pieces_of(const struct xtrace_event *ev)
{
	struct line_pieces *l = &lines[ev->type];
	if (!l->state) {
		l->state = ev->nargs <= XTRACE_MAX_ARGS ? 1 : 2;
		for (unsigned i = 0; l->state == 1 && i < (ev->nargs ? ev->nargs : 1u); i++) {
			int bad = i > 0 ? piece_set(&l->arg[i], " %s=", ev->arg_names[i])
				  : ev->nargs ? piece_set(&l->arg[0], " %s %s=", ev->name, ev->arg_names[0])
					      : piece_set(&l->arg[0], " %s", ev->name);
			if (bad)
				l->state = 2;
		}
	}
	return l->state == 1 ? l : NULL;
}

/* coded_piece_of is " (coded as Name)", the mark of an event written in the compact form
 * wire_type, or NULL when it is too long for a piece. */
static const struct piece *coded_piece_of(uint8_t wire_type)
{
	static struct keyed_piece coded[256];
	return keyed_piece_of(&coded[wire_type], wire_type, " (coded as %s)",
			      xt_specs[wire_type].name);
}

/* put_coded_as writes that mark the slow way. */
static void put_coded_as(struct xt_out *o, uint8_t wire_type)
{
	xt_out_str(o, " (coded as ");
	xt_out_str(o, xt_specs[wire_type].name);
	xt_out_char(o, ')');
}

/* The pieces around a line's timestamp that repeat from line to line: "gen=G ts=" for the
 * generation of the last line, and "ms thread=T" for a few recent threads (a slot per thread
 * ID's low bits). */
static const struct piece *gen_piece_of(uint64_t gen)
{
	static struct keyed_piece last;
	return keyed_piece_of(&last, gen, "gen=%llu ts=", (unsigned long long)gen);
}

static const struct piece *thread_piece_of(uint64_t tid)
{
	static struct keyed_piece recent[16];
	return keyed_piece_of(&recent[tid & 15], tid, "ms thread=%llu", (unsigned long long)tid);
}

/* put_event writes ev's line; with tail, also dump's end of it (the mark of a compact form, then
 * the newline) and returns 1, or 0 when it left the tail to the caller. */
static int put_event(struct xt_out *o, const xtrace_reader *r, const struct xtrace_event *ev,
		     int tail)
{
	const struct xtrace_header *h = xtrace_get_header(r);
	int neg;
	uint64_t ns = rel_ns(h, ev->ts, &neg);
	/* A generic event's names are its generation's own: the pieces cached by type do not hold. */
	const struct line_pieces *l = ev->generic ? NULL : pieces_of(ev);
	const struct piece *gp = gen_piece_of(ev->gen), *tp = thread_piece_of(ev->thread);
	if (!gp || !tp)
		l = NULL;
	/* the line's fixed part, then each piece and value written in place */
	char *p = l ? xt_out_reserve(o, 3 * XT_PIECE + 2 * 20 + 3 + XTRACE_MAX_ARGS * (XT_PIECE + 20))
		    : NULL;
	if (!p) {
		xt_out_str(o, "gen=");
		xt_out_u64(o, ev->gen);
		xt_out_str(o, " ts=");
		xt_out_offset_ms(o, neg, ns);
		xt_out_str(o, " thread=");
		xt_out_u64(o, ev->thread);
		xt_out_char(o, ' ');
		xt_out_str(o, ev->name);
		put_args_from(o, r, ev, 0);
		return 0;
	}
	p = put_piece(p, gp);
	*p = neg ? '-' : '+';
	p = xt_put_dec(p + 1, ns / 1000000, 1);
	*p = '.';
	p = xt_put_6digits(p + 1, ns % 1000000);
	p = put_piece(p, tp);
	p = put_piece(p, &l->arg[0]);
	for (unsigned i = 0; i < ev->nargs; i++) {
		if (i)
			p = put_piece(p, &l->arg[i]);
		uint8_t kind = ev->arg_kinds[i];
		if (kind == XTRACE_ARG_ADDR) {
			p = xt_put_hex(p, ev->args[i]);
		} else if (kind == XTRACE_ARG_STRING || kind == XTRACE_ARG_NS) {
			xt_out_commit(o, p);
			put_arg(o, r, kind, ev->args[i]);
			put_args_from(o, r, ev, i + 1);
			return 0;
		} else {
			p = xt_put_dec(p, ev->args[i], 1);
		}
	}
	const struct piece *coded = NULL;
	if (tail && ev->wire_type != ev->type && !(coded = coded_piece_of(ev->wire_type)))
		tail = 0;
	if (tail) {
		if (coded)
			p = put_piece(p, coded);
		*p++ = '\n';
	}
	xt_out_commit(o, p);
	return tail;
}

void cli_put_event(struct xt_out *o, const xtrace_reader *r, const struct xtrace_event *ev)
{
	put_event(o, r, ev, 0);
}

static void put_header(struct xt_out *o, const struct xtrace_header *h)
{
	xt_out_printf(o, "# xtrace trace version=%u pid=%llu ppid=%llu ticks_per_sec=%llu "
		      "start_wall=%llu.%09llu", h->version, (unsigned long long)h->pid,
		      (unsigned long long)h->ppid, (unsigned long long)h->ticks_per_sec,
		      (unsigned long long)h->start_wall_sec, (unsigned long long)h->start_wall_nsec);
	if (h->fork_parent_pid) {
		int neg;
		uint64_t ns = rel_ns(h, h->fork_ts, &neg);
		xt_out_printf(o, " fork_parent_pid=%llu fork_ts=", (unsigned long long)h->fork_parent_pid);
		xt_out_offset_ms(o, neg, ns);
	}
	xt_out_str(o, " exe=");
	xt_out_json_str(o, h->exe, strlen(h->exe));
	xt_out_str(o, " cmdline=[");
	xt_out_json_strs(o, h->cmdline, h->cmdline_len, ",");
	xt_out_str(o, "]\n");
}

static void put_sync(struct xt_out *o, const xtrace_reader *r, const struct xtrace_event *ev)
{
	const struct xtrace_sync *s = xtrace_get_sync(r);
	const struct xtrace_module *mods;
	int neg;
	uint64_t ns = rel_ns(xtrace_get_header(r), ev->ts, &neg);
	xt_out_printf(o, "== generation %llu Sync: ts=", (unsigned long long)ev->gen);
	xt_out_offset_ms(o, neg, ns);
	if (s->after_gap)
		xt_out_str(o, " after_gap (recording was off)");
	xt_out_printf(o, " threads=%llu events=%llu lost=%llu modules=%zu batches:",
		      (unsigned long long)s->nthreads, (unsigned long long)s->nevents,
		      (unsigned long long)s->lost, xtrace_modules(r, &mods));
	uint64_t count[XT_MAX_EXPERIMENTS] = {0}, bytes[XT_MAX_EXPERIMENTS] = {0};
	for (size_t i = 0; i < s->nbatches; i++) {
		uint8_t e = s->batches[i].experiment % XT_MAX_EXPERIMENTS;
		count[e]++;
		bytes[e] += s->batches[i].len;
	}
	int any = 0;
	for (unsigned e = 0; e < XT_MAX_EXPERIMENTS; e++) {
		if (!count[e])
			continue;
		struct xtrace_experiment_spec xs;
		if (xtrace_experiment_spec(r, (uint8_t)e, &xs))
			xt_out_printf(o, " %s=", xs.name);
		else
			xt_out_printf(o, " experiment%u=", e);
		xt_out_printf(o, "%llu (%llu bytes)", (unsigned long long)count[e],
			      (unsigned long long)bytes[e]);
		any = 1;
	}
	xt_out_str(o, any ? "\n" : " none\n");
}

/* put_frames writes the frames of stack id below its event, one per line: every frame as it is,
 * none left out; the calls inlined at a return address come first, marked, and the frame
 * whose code holds them carries the module+offset. */
static void put_frames(struct xt_out *o, const xtrace_reader *r, xtrace_symbolizer *sym,
		       uint64_t id)
{
	const uint64_t *pcs;
	size_t n = xtrace_stack(r, id, &pcs);
	for (size_t i = 0; i < n; i++) {
		const struct xtrace_frame *f = NULL;
		size_t nf = sym ? xtrace_symbolize_inlined(sym, r, pcs[i], &f) : 0;
		for (size_t j = 0; j < nf || j == 0; j++) {
			xt_out_str(o, "    ");
			xt_out_hex(o, pcs[i]);
			if (sym) {
				xt_out_char(o, ' ');
				xt_out_str(o, nf && f[j].function ? f[j].function : "??");
				if (nf && f[j].file)
					xt_out_printf(o, " %s:%d", f[j].file, f[j].line);
			}
			if (nf && f[j].inlined) {
				xt_out_str(o, " (inlined)\n");
				continue;
			}
			const struct xtrace_module *m = xtrace_module_of(r, pcs[i]);
			if (m) {
				const char *slash = strrchr(m->path, '/');
				xt_out_str(o, sym ? " (" : " ");
				xt_out_str(o, slash ? slash + 1 : m->path);
				xt_out_char(o, '+');
				xt_out_hex(o, pcs[i] - m->base);
				if (sym)
					xt_out_char(o, ')');
			}
			xt_out_char(o, '\n');
		}
	}
}

int cmd_dump(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	const char *path;
	int code;
	xtrace_reader *r = cli_open_options(cmd, argc, argv, CLI_STACKS | CLI_NO_SYMBOLS | CLI_EACH_IMAGE, &opt, &path,
					    &code);
	if (!r)
		return code;
	int symbols = !cli_no_symbols && !opt.no_symbols;
	struct xt_out o;
	xtrace_symbolizer *sym = NULL;
	if (xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0 ||
	    (opt.stacks && symbols && !(sym = xtrace_symbolizer_new()))) {
		cli_warn("out of memory");
		xt_out_close(&o);
		xtrace_close(r);
		return XT_EXIT_FAIL;
	}

	put_header(&o, xtrace_get_header(r));
	struct xtrace_event event;
	const struct xtrace_event *ev = &event;
	int rc;
	while ((rc = xtrace_next(r, &event)) > 0) {
		if (ev->kind == XTRACE_EVENT_SYNC) {
			put_sync(&o, r, ev);
			continue;
		}
		if (!put_event(&o, r, ev, 1)) {
			if (ev->wire_type != ev->type)
				put_coded_as(&o, ev->wire_type);
			xt_out_char(&o, '\n');
		}
		for (unsigned i = 0; opt.stacks && i < ev->nargs; i++)
			if (ev->arg_kinds[i] == XTRACE_ARG_STACK)
				put_frames(&o, r, sym, ev->args[i]);
		if (o.failed)
			break; /* the reader stops being useful once nobody reads the output */
	}
	code = cli_finish(&o, r, path, rc < 0 ? xtrace_status(r) : XTRACE_OK);
	if (sym)
		xtrace_symbolizer_free(sym);
	xtrace_close(r);
	return code;
}
