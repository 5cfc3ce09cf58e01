/* export.c: `xtrace export`: the trace for other tools. --format chrome writes Chrome trace-event
 * JSON (Perfetto's UI and chrome://tracing open it): per process a live-heap counter track and
 * an allocation-rate track, per thread the regions, sleeps and other begin/end pairs as slices
 * and every other non-heap event (logs, timer fires, timer calls) as an instant. --format csv
 * writes one row per timed event, for DuckDB, pandas or Spark. Both stream in one pass. The
 * profilers' formats, pprof and speedscope, have files of their own (export_*.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "spec.h"

/* Counter tracks hold one sample per bucket of trace time: the largest live heap in it (at
 * the moment it was reached, so the peak is exact) and the allocations made in it. */
#define BUCKET_NS 100000u

struct exporter {
	struct xt_out *o;
	int chrome;
	uint64_t pid;
	uint64_t origin;           /* time 0: the trace's start, or the run's first image's */
	int with_pid;              /* csv of a run: a pid column first */
	struct xt_sites *sites;
	struct cli_progress *pr;
	struct xt_liveset named;   /* threads that have their thread_name record */
	int first;                 /* no trace event written yet (no comma before it) */
	/* the open bucket */
	uint64_t bucket, bucket_allocs, bucket_bytes, max_live, max_live_ts;
	int bucket_open;
	uint64_t prev_live;
	uint8_t closer[256];       /* per begin event type of the generation: the end closing it */
};

static uint64_t since_origin(const struct exporter *x, uint64_t ts)
{
	return ts > x->origin ? ts - x->origin : 0;
}

static void put_us(struct exporter *x, uint64_t ts)
{
	struct xt_out *o = x->o;
	uint64_t ns = since_origin(x, ts);
	xt_out_u64(o, ns / 1000);
	xt_out_char(o, '.');
	xt_out_printf(o, "%03u", (unsigned)(ns % 1000));
}

static void begin_event(struct exporter *x)
{
	xt_out_str(x->o, x->first ? "\n" : ",\n");
	x->first = 0;
}

static void close_bucket(struct exporter *x, const xtrace_reader *r)
{
	if (!x->bucket_open)
		return;
	struct xt_out *o = x->o;
	begin_event(x);
	xt_out_printf(o, "{\"name\": \"live heap\", \"ph\": \"C\", \"pid\": %llu, \"ts\": ",
		      (unsigned long long)x->pid);
	put_us(x, x->max_live_ts);
	xt_out_printf(o, ", \"args\": {\"bytes\": %llu}}", (unsigned long long)x->max_live);
	begin_event(x);
	xt_out_printf(o, "{\"name\": \"allocation rate\", \"ph\": \"C\", \"pid\": %llu, \"ts\": ",
		      (unsigned long long)x->pid);
	put_us(x, x->bucket * BUCKET_NS + x->origin);
	xt_out_printf(o, ", \"args\": {\"allocs\": %llu, \"bytes\": %llu}}",
		      (unsigned long long)x->bucket_allocs, (unsigned long long)x->bucket_bytes);
	x->bucket_open = 0;
}

/* put_args writes the event's arguments as JSON members, strings resolved. */
static void put_args(struct xt_out *o, const xtrace_reader *r, const struct xtrace_event *ev)
{
	for (unsigned i = 0; i < ev->nargs; i++) {
		xt_out_str(o, i ? ", " : "");
		xt_out_json_str(o, ev->arg_names[i], strlen(ev->arg_names[i]));
		xt_out_str(o, ": ");
		size_t len;
		const char *s = ev->arg_kinds[i] == XTRACE_ARG_STRING ? xtrace_string(r, ev->args[i], &len)
								       : NULL;
		if (s)
			xt_out_json_str(o, s, len);
		else
			xt_out_u64(o, ev->args[i]);
	}
}

/* put_slice_name writes the name of the begin/end pair of types begin and end: the event's first
 * string argument (a region's name), else what the two events' names share ("Sleep" of
 * SleepBegin and SleepEnd), else the begin event's name. */
static void put_slice_name(struct xt_out *o, const xtrace_reader *r, const struct xtrace_event *ev,
			   uint8_t begin, uint8_t end)
{
	size_t len;
	const char *s;
	struct xtrace_event_spec b, e;
	if (ev->nargs && ev->arg_kinds[0] == XTRACE_ARG_STRING &&
	    (s = xtrace_string(r, ev->args[0], &len))) {
		xt_out_json_str(o, s, len);
		return;
	}
	if (!xtrace_event_spec(r, begin, &b) || !xtrace_event_spec(r, end, &e)) {
		xt_out_json_str(o, ev->name, strlen(ev->name));
		return;
	}
	for (len = 0; b.name[len] && b.name[len] == e.name[len]; len++)
		;
	xt_out_json_str(o, b.name, len ? len : strlen(b.name));
}

/* note_pairs marks the begin events of the generation just started: those an end event's
 * start column names (the generation's own specs: an experiment it describes may have pairs). */
static void note_pairs(struct exporter *x, const xtrace_reader *r)
{
	struct xtrace_event_spec s;
	memset(x->closer, 0, sizeof x->closer);
	for (unsigned t = 1; t < sizeof x->closer; t++)
		if (xtrace_event_spec(r, (uint8_t)t, &s) && s.start)
			x->closer[s.start] = (uint8_t)t;
}

static int chrome_event(struct exporter *x, const xtrace_reader *r, const struct xtrace_event *ev,
			const struct xt_summary *s)
{
	struct xt_out *o = x->o;
	if (ev->kind == XTRACE_EVENT_SYNC) {
		note_pairs(x, r);
		return 0;
	}
	int added;
	if (!xt_liveset_put(&x->named, ev->thread ? ev->thread : 1, &added))
		return -1;
	if (added) {
		begin_event(x);
		xt_out_printf(o, "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": %llu, \"tid\": %llu, "
			      "\"args\": {\"name\": \"thread %llu\"}}", (unsigned long long)x->pid,
			      (unsigned long long)ev->thread, (unsigned long long)ev->thread);
	}
	if (s->op_heap) {
		/* a heap's events become the selected heap's counter, not events of their own */
		if (s->op_heap != s->selected)
			return 0;
		uint64_t b = since_origin(x, ev->ts) / BUCKET_NS;
		if (x->bucket_open && b != x->bucket)
			close_bucket(x, r);
		if (!x->bucket_open) {
			x->bucket_open = 1;
			x->bucket = b;
			x->bucket_allocs = x->bucket_bytes = 0;
			x->max_live = s->selected->live_bytes;
			x->max_live_ts = ev->ts;
		}
		uint64_t live = s->selected->live_bytes;
		if (s->op.kind == XT_OP_ALLOC && s->op.addr && xt_sites_in_region(x->sites, ev->thread)) {
			x->bucket_allocs++;
			x->bucket_bytes += live - x->prev_live;
		}
		if (live > x->max_live) {
			x->max_live = live;
			x->max_live_ts = ev->ts;
		}
		x->prev_live = live;
		return 0;
	}
	begin_event(x);
	struct xtrace_event_spec spec;
	uint8_t start = xtrace_event_spec(r, ev->type, &spec) ? spec.start : 0;
	int b = x->closer[ev->type] != 0, e = start != 0;
	xt_out_str(o, "{\"name\": ");
	if (b)
		put_slice_name(o, r, ev, ev->type, x->closer[ev->type]);
	else if (e)
		put_slice_name(o, r, ev, start, ev->type);
	else
		xt_out_json_str(o, ev->name, strlen(ev->name));
	xt_out_printf(o, ", \"cat\": \"%s\", \"ph\": \"%s\", \"pid\": %llu, \"tid\": %llu, \"ts\": ",
		      ev->experiment_name, b ? "B" : e ? "E" : "i", (unsigned long long)x->pid,
		      (unsigned long long)ev->thread);
	put_us(x, ev->ts);
	xt_out_str(o, b || e ? "" : ", \"s\": \"t\"");
	xt_out_str(o, ", \"args\": {");
	put_args(o, r, ev);
	xt_out_str(o, "}}");
	return 0;
}

static void csv_str(struct xt_out *o, const char *s, size_t n)
{
	xt_out_char(o, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			xt_out_char(o, '"');
		xt_out_char(o, s[i]);
	}
	xt_out_char(o, '"');
}

static int csv_event(struct exporter *x, const xtrace_reader *r, const struct xtrace_event *ev,
		     const struct xt_summary *s)
{
	if (ev->kind == XTRACE_EVENT_SYNC || !xt_sites_in_region(x->sites, ev->thread))
		return 0;
	struct xt_out *o = x->o;
	if (x->with_pid) {
		xt_out_u64(o, x->pid);
		xt_out_char(o, ',');
	}
	xt_out_u64(o, ev->gen);
	xt_out_char(o, ',');
	xt_out_u64(o, since_origin(x, ev->ts));
	xt_out_char(o, ',');
	xt_out_u64(o, ev->thread);
	xt_out_char(o, ',');
	xt_out_str(o, ev->name);
	xt_out_char(o, ',');
	/* addr, size and api for the heap view's events (heapview.h); the other arguments as
	 * name=value in detail (all of a heap's own events: they name the heap). */
	const struct xt_heap_op *op = s->op_heap ? &s->op : NULL;
	if (op)
		xt_out_u64(o, op->addr);
	xt_out_char(o, ',');
	if (op && op->kind == XT_OP_ALLOC && op->api != XT_API_UNKNOWN)
		xt_out_u64(o, op->bytes);
	xt_out_char(o, ',');
	/* an API this reader does not know (a newer writer's) has no name: left empty */
	if (op && op->kind == XT_OP_ALLOC && op->api < XT_API_COUNT)
		xt_out_str(o, xtrace_alloc_api_name((uint8_t)op->api));
	xt_out_char(o, ',');
	uint32_t region = xt_sites_region_of(x->sites, ev->thread);
	if (region != XT_NO_NAME)
		csv_str(o, xt_names_str(&x->sites->names, region), xt_names_len(&x->sites->names, region));
	xt_out_char(o, ',');
	char detail[8192];
	size_t len = 0;
	for (unsigned i = s->op_heap == &s->heap ? ev->nargs : 0; i < ev->nargs && len < sizeof detail;
	     i++) {
		size_t sl;
		const char *str = ev->arg_kinds[i] == XTRACE_ARG_STRING ?
			xtrace_string(r, ev->args[i], &sl) : NULL;
		int k = str ? snprintf(detail + len, sizeof detail - len, "%s%s=%.*s", len ? " " : "",
				       ev->arg_names[i], (int)sl, str)
			    : snprintf(detail + len, sizeof detail - len, "%s%s=%llu", len ? " " : "",
				       ev->arg_names[i], (unsigned long long)ev->args[i]);
		len = k < 0 ? len : len + (size_t)k;
	}
	if (len)
		csv_str(o, detail, len < sizeof detail ? len : sizeof detail - 1);
	xt_out_char(o, '\n');
	return 0;
}

static int on_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_summary *s)
{
	struct exporter *x = ctx;
	cli_progress_event(x->pr, r, ev, s);
	return x->chrome ? chrome_event(x, r, ev, s) : csv_event(x, r, ev, s);
}

/* export_image writes one trace's events (a process_name record first, in chrome): the exit
 * code of reading it. */
static int export_image(struct exporter *x, xtrace_reader *r, const char *path, const char *region)
{
	struct xt_sites sites;
	struct cli_progress pr;
	const struct xtrace_header *h = xtrace_get_header(r);
	x->pid = h->pid;
	x->sites = &sites;
	x->pr = &pr;
	x->bucket_open = 0;
	x->prev_live = 0;
	cli_progress_init(&pr, path, path);
	int code = XT_EXIT_FAIL;
	memset(&x->named, 0, sizeof x->named);
	if (xt_sites_init(&sites, 0, region) < 0 || xt_liveset_init(&x->named, 16) < 0) {
		cli_warn("%s: out of memory", path);
	} else {
		if (x->chrome) {
			begin_event(x);
			xt_out_printf(x->o, "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": %llu, "
				      "\"args\": {\"name\": ", (unsigned long long)h->pid);
			char name[4200];
			int l = snprintf(name, sizeof name, "%s (pid %llu)", h->exe, (unsigned long long)h->pid);
			if (h->sample_bytes && l > 0 && (size_t)l < sizeof name)
				snprintf(name + l, sizeof name - (size_t)l,
					 " (heap estimated: sampled, one per %llu bytes)",
					 (unsigned long long)h->sample_bytes);
			xt_out_json_str(x->o, name, strlen(name));
			xt_out_str(x->o, "}}");
		}
		if (!x->chrome && h->sample_bytes)
			cli_warn("%s: sizes are estimated: sampled allocations, one per %llu bytes "
				 "allocated on average, each with the bytes it stands for", path,
				 (unsigned long long)h->sample_bytes);
		struct xt_summary s;
		struct xt_pass pass = {.heap = cli_heap, .sites = &sites, .on_event = on_event, .ctx = x};
		enum xtrace_status st = xt_summarize_pass(r, &s, &pass);
		if (x->chrome)
			close_bucket(x, r);
		code = st == XTRACE_ERR_NOMEM ? XT_EXIT_FAIL :
		       cli_heap_missing(path, &s) ? XT_EXIT_USAGE : cli_read_end(r, path, st);
		xt_summary_destroy(&s);
		if (st == XTRACE_ERR_NOMEM)
			cli_warn("%s: out of memory", path);
	}
	cli_progress_done(&pr);
	if (x->named.slots)
		xt_liveset_destroy(&x->named);
	xt_sites_destroy(&sites);
	return code;
}

/* export_events writes the events of every selected image of run, in tree order, as chrome's
 * trace-event JSON or as CSV: the worst exit code of reading them. */
static int export_events(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
			 int is_run, int chrome)
{
	struct exporter x = {.o = o, .chrome = chrome, .first = 1, .with_pid = is_run,
			     .origin = run->img[0].start_ts};
	const struct xt_image *root = &run->img[run->order[0]];
	if (x.chrome) {
		xt_out_str(x.o, "{\"displayTimeUnit\": \"ms\", \"otherData\": {\"exe\": ");
		xt_out_json_str(x.o, root->exe, strlen(root->exe));
		xt_out_printf(x.o, ", \"pid\": %llu}, \"traceEvents\": [",
			      (unsigned long long)root->pid);
	} else {
		xt_out_str(x.o, is_run ? "pid,gen,time_ns,thread,event,addr,size,api,region,detail\n"
				        : "gen,time_ns,thread,event,addr,size,api,region,detail\n");
	}
	int code = XT_EXIT_OK;
	for (size_t k = 0; k < run->count; k++) {
		const struct xt_image *im = &run->img[run->order[k]];
		if (!im->selected)
			continue;
		xtrace_reader *r = cli_open(im->path);
		if (!r) {
			code = XT_EXIT_FAIL;
			continue;
		}
		code = cli_worse(code, export_image(&x, r, im->path, opt->region));
		xtrace_close(r);
	}
	if (x.chrome)
		xt_out_str(x.o, "\n]}\n");
	return code;
}

static int write_chrome(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
			int is_run)
{
	return export_events(o, run, opt, is_run, 1);
}

static int write_csv(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
		     int is_run)
{
	return export_events(o, run, opt, is_run, 0);
}

static const struct {
	const char *name;
	int (*write)(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
		     int is_run);
} formats[] = {
	{"chrome", write_chrome},
	{"csv", write_csv},
	{"pprof", export_pprof},
	{"speedscope", export_speedscope},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

int export_profiles(const struct xt_run *run, const struct cli_options *opt,
		    struct export_images *e)
{
	int code = XT_EXIT_OK;
	for (size_t k = 0; k < run->count; k++) {
		const struct xt_image *im = &run->img[run->order[k]];
		if (!im->selected)
			continue;
		struct cli_profile p;
		e->current = im;
		int c = cli_profile_load(&p, im->path, opt->region, 0, e->on_event, e->ctx);
		if (c != XT_EXIT_OK && c != XT_EXIT_TRUNCATED)
			return c;
		if (c == XT_EXIT_TRUNCATED)
			cli_read_end(p.r, im->path, p.st);
		code = cli_worse(code, c);
		int bad = e->image(e->ctx, im, &p);
		cli_profile_free(&p);
		if (bad) {
			cli_warn("%s: out of memory", im->path);
			return XT_EXIT_FAIL;
		}
	}
	return code;
}

int cmd_export(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	int code = cli_parse_options(cmd, argc, argv,
				     CLI_FORMAT | CLI_OUTPUT | CLI_REGION | CLI_PID | CLI_EXE | CLI_HEAP |
					     CLI_ALLOC_FRAMES,
				     &opt);
	if (code >= 0)
		return code;
	size_t f = 0;
	while (f < NFORMATS && (!opt.format || strcmp(opt.format, formats[f].name) != 0))
		f++;
	if (f == NFORMATS)
		return cli_usage_error(cmd, "--format wants chrome, csv, pprof or speedscope, not '%s'",
				       opt.format ? opt.format : "");
	if (!opt.output)
		return cli_usage_error(cmd, "no output file given (-o OUT, '-' for stdout)");
	const char *path = cli_file_arg(cmd, argc, argv);
	if (!path)
		return XT_EXIT_USAGE;
	/* A trace file is a run of one image; a run's images all go into the one output. */
	struct xt_run run;
	int is_run = cli_wants_images(path, &opt);
	if (is_run) {
		if ((code = cli_run_open(&opt, path, &run)) >= 0)
			return code;
	} else {
		char err[512];
		if (xt_run_open(&run, path, err, sizeof err) < 0) {
			cli_warn("%s", err);
			return XT_EXIT_FAIL;
		}
	}
	int stdout_out = strcmp(opt.output, "-") == 0;
	int fd = stdout_out ? STDOUT_FILENO
			    : open(opt.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		cli_warn("cannot create %s: %m", opt.output);
		xt_run_free(&run);
		return XT_EXIT_FAIL;
	}
	struct xt_out o;
	if (xt_out_open(&o, fd, XT_STDOUT_BUFFER) < 0) {
		cli_warn("%s: out of memory", path);
		code = XT_EXIT_FAIL;
	} else {
		code = formats[f].write(&o, &run, &opt, is_run);
		if (xt_out_close(&o) < 0) {
			cli_warn("cannot write %s", opt.output);
			code = XT_EXIT_FAIL;
		}
	}
	if (!stdout_out && close(fd) < 0 && code == XT_EXIT_OK) {
		cli_warn("cannot write %s: %m", opt.output);
		code = XT_EXIT_FAIL;
	}
	xt_run_free(&run);
	return code;
}
