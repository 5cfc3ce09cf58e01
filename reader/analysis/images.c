/* images.c: the process images of a run (see images.h). */
#include "images.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static char *dup_mem(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/* add_image reads path's header into a new image: 1 added, 0 not a trace, -1 without memory. */
static int add_image(struct xt_run *run, size_t *cap, const char *path, size_t name_at)
{
	char err[256];
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	if (!r)
		return 0;
	if (run->count == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct xt_image *n = realloc(run->img, ncap * sizeof *n);
		if (!n) {
			xtrace_close(r);
			return -1;
		}
		run->img = n;
		*cap = ncap;
	}
	const struct xtrace_header *h = xtrace_get_header(r);
	struct xt_image *im = &run->img[run->count];
	memset(im, 0, sizeof *im);
	im->path = dup_mem(path, strlen(path));
	im->exe = dup_mem(h->exe, strlen(h->exe));
	im->cmdline = dup_mem(h->cmdline, h->cmdline_len);
	im->cmdline_len = h->cmdline_len;
	im->pid = h->pid;
	im->ppid = h->ppid;
	im->fork_parent_pid = h->fork_parent_pid;
	im->fork_ts = h->fork_ts;
	im->start_ts = h->start_ts;
	im->start_wall_sec = h->start_wall_sec;
	im->start_wall_nsec = h->start_wall_nsec;
	im->sample_bytes = h->sample_bytes;
	im->selected = 1;
	xtrace_close(r);
	if (!im->path || !im->exe || !im->cmdline) {
		free(im->path);
		free(im->exe);
		free(im->cmdline);
		return -1;
	}
	im->name = im->path + name_at;
	run->count++;
	return 1;
}

/* The image number n of a file named <pid>.<n>.xt, so the images of one pid that started in the
 * same nanosecond keep their order; names of another shape sort after. */
static unsigned long long image_number(const char *name)
{
	const char *dot = strchr(name, '.');
	return dot ? strtoull(dot + 1, NULL, 10) : 0;
}

static int by_start(const void *a, const void *b)
{
	const struct xt_image *x = a, *y = b;
	if (x->start_ts != y->start_ts)
		return x->start_ts < y->start_ts ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	unsigned long long nx = image_number(x->name), ny = image_number(y->name);
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The images by (pid, start order): the image of a pid live at a time is a binary search. */
struct pid_index {
	const struct xt_run *run;
	size_t *at; /* image indexes, sorted by pid, then index (= start order) */
};

static const struct xt_run *sort_run;

static int by_pid(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	uint64_t pi = sort_run->img[i].pid, pj = sort_run->img[j].pid;
	if (pi != pj)
		return pi < pj ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* live_image returns the latest image of pid started at ts or before and before image limit,
 * or -1. */
static long live_image(const struct pid_index *x, uint64_t pid, uint64_t ts, size_t limit)
{
	const struct xt_image *img = x->run->img;
	/* [lo, hi): the entries of pid before limit, in start order */
	size_t lo = 0, hi = x->run->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (img[x->at[mid]].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t a = lo;
	hi = x->run->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, k = x->at[mid];
		if (img[k].pid == pid && k < limit)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the last of [a, lo) started by ts */
	size_t b = lo;
	lo = a;
	hi = b;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (img[x->at[mid]].start_ts <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > a ? (long)x->at[lo - 1] : -1;
}

/* link sets each image's exec_from and parent and builds the tree order. An image replaced by
 * exec is known once scanned (its ProcessEnd); before that, an image of a pid that did not
 * begin as a fork continues the previous image of the pid. */
static int link(struct xt_run *run)
{
	size_t n = run->count;
	struct pid_index x = {run, malloc((n ? n : 1) * sizeof(size_t))};
	size_t *first = malloc((n ? n : 1) * sizeof(size_t)), *next = malloc((n ? n : 1) * sizeof(size_t));
	size_t *stack = malloc((n ? n : 1) * sizeof(size_t));
	free(run->order);
	run->order = malloc((n ? n : 1) * sizeof(size_t));
	if (!x.at || !first || !next || !stack || !run->order) {
		free(x.at);
		free(first);
		free(next);
		free(stack);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		x.at[i] = i;
	sort_run = run;
	qsort(x.at, n, sizeof *x.at, by_pid);

	const size_t none = (size_t)-1;
	for (size_t i = 0; i < n; i++)
		first[i] = next[i] = none;
	size_t *last_child = stack; /* reused below as the DFS stack, after this loop */
	for (size_t i = 0; i < n; i++)
		last_child[i] = none;
	for (size_t i = 0; i < n; i++) {
		struct xt_image *im = &run->img[i];
		im->exec_from = im->parent = -1;
		if (!im->fork_parent_pid) {
			long prev = live_image(&x, im->pid, im->start_ts, i);
			if (prev >= 0 && (!run->img[prev].scanned || run->img[prev].end == XT_END_EXEC))
				im->exec_from = prev;
		}
		if (im->exec_from >= 0)
			im->parent = im->exec_from;
		else if (im->fork_parent_pid)
			im->parent = live_image(&x, im->fork_parent_pid, im->fork_ts, i);
		else
			im->parent = live_image(&x, im->ppid, im->start_ts, i);
		/* children in start order */
		if (im->parent >= 0) {
			size_t p = (size_t)im->parent;
			if (last_child[p] == none)
				first[p] = i;
			else
				next[last_child[p]] = i;
			last_child[p] = i;
		}
	}
	/* depth first from each root, in start order; parents precede their children */
	size_t k = 0;
	for (size_t root = 0; root < n; root++) {
		if (run->img[root].parent >= 0)
			continue;
		size_t sp = 0;
		stack[sp++] = root;
		run->img[root].depth = 0;
		while (sp) {
			size_t i = stack[--sp];
			run->order[k++] = i;
			/* push the children last first, so the first comes out next */
			size_t m = sp;
			for (size_t c = first[i]; c != none; c = next[c]) {
				run->img[c].depth = run->img[i].depth + 1;
				stack[sp++] = c;
			}
			for (size_t a = m, b = sp; b > a + 1; a++, b--) {
				size_t t = stack[a];
				stack[a] = stack[b - 1];
				stack[b - 1] = t;
			}
		}
	}
	free(x.at);
	free(first);
	free(next);
	free(stack);
	return 0;
}

static int is_trace_name(const char *name)
{
	size_t l = strlen(name);
	return l > 3 && strcmp(name + l - 3, ".xt") == 0;
}

int xt_run_open(struct xt_run *run, const char *path, char *err, size_t errlen)
{
	memset(run, 0, sizeof *run);
	size_t cap = 0;
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (!(run->dir = dup_mem(path, strlen(path)))) {
			closedir(d);
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
		size_t dl = strlen(path);
		while (dl > 1 && path[dl - 1] == '/')
			dl--;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!is_trace_name(e->d_name))
				continue;
			size_t nl = strlen(e->d_name);
			char *p = malloc(dl + 1 + nl + 1);
			int added = -1;
			if (p) {
				memcpy(p, path, dl);
				p[dl] = '/';
				memcpy(p + dl + 1, e->d_name, nl + 1);
				added = add_image(run, &cap, p, dl + 1);
				free(p);
			}
			if (added < 0) {
				closedir(d);
				xt_run_free(run);
				snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			run->unreadable += added == 0;
		}
		closedir(d);
		if (!run->count) {
			snprintf(err, errlen, "%s: no trace files (*.xt) in the directory", path);
			xt_run_free(run);
			return -1;
		}
	} else {
		xtrace_reader *r = xtrace_open(path, err, errlen);
		if (!r)
			return -1;
		xtrace_close(r);
		if (add_image(run, &cap, path, 0) <= 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			xt_run_free(run);
			return -1;
		}
	}
	qsort(run->img, run->count, sizeof *run->img, by_start);
	if (link(run) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		xt_run_free(run);
		return -1;
	}
	return 0;
}

void xt_run_free(struct xt_run *run)
{
	for (size_t i = 0; i < run->count; i++) {
		free(run->img[i].path);
		free(run->img[i].exe);
		free(run->img[i].cmdline);
	}
	free(run->img);
	free(run->order);
	free(run->dir);
	memset(run, 0, sizeof *run);
}

const char *xt_image_program(const struct xt_image *im)
{
	const char *slash = strrchr(im->exe, '/');
	return slash ? slash + 1 : im->exe;
}

size_t xt_run_select(struct xt_run *run, uint64_t pid, const char *exe)
{
	size_t n = 0;
	for (size_t i = 0; i < run->count; i++) {
		struct xt_image *im = &run->img[i];
		im->selected = (!pid || im->pid == pid) &&
			       (!exe || strcmp(im->exe, exe) == 0 || strcmp(xt_image_program(im), exe) == 0);
		n += (size_t)im->selected;
	}
	return n;
}

enum xtrace_status xt_run_scan(struct xt_run *run, xt_image_summary_fn fn, void *ctx)
{
	for (size_t i = 0; i < run->count; i++) {
		struct xt_image *im = &run->img[i];
		char err[256];
		xtrace_reader *r = xtrace_open(im->path, err, sizeof err);
		im->scanned = 1;
		if (!r) {
			im->t.st = XTRACE_ERR_IO;
			continue;
		}
		struct xt_summary s;
		im->t.st = xt_summarize(r, &s, NULL, NULL);
		if (im->t.st == XTRACE_ERR_NOMEM) {
			xt_summary_destroy(&s);
			xtrace_close(r);
			return XTRACE_ERR_NOMEM;
		}
		im->t.events = s.events;
		im->t.allocs = s.heap.allocs;
		im->t.frees = s.heap.frees + s.heap.realloc_frees;
		im->t.alloc_bytes = s.heap.alloc_bytes;
		im->t.peak_live_bytes = s.heap.peak_live_bytes;
		im->t.live_bytes_at_end = s.heap.live_bytes;
		im->t.last_ts = s.last_ts;
		im->end = s.end_how >= XT_END_EXIT && s.end_how <= XT_END_EXEC ? (enum xt_image_end)s.end_how : 0;
		im->end_status = s.end_status;
		im->end_ts = s.end_ts;
		if (fn)
			fn(ctx, i, r, &s);
		xt_summary_destroy(&s);
		xtrace_close(r);
	}
	return link(run) < 0 ? XTRACE_ERR_NOMEM : XTRACE_OK;
}

/* One image in the merge: its reader, its summary so far, its next event. */
struct cursor {
	size_t img;
	xtrace_reader *r;
	struct xt_summary s;
	struct xtrace_event ev;
	uint64_t at_peak; /* live bytes at the last peak, valid while dirty */
	int dirty;        /* live bytes changed since the last peak */
};

static int cursor_before(const struct cursor *a, const struct cursor *b)
{
	return a->ev.ts < b->ev.ts || (a->ev.ts == b->ev.ts && a->img < b->img);
}

/* sift_down restores the min-heap of cursors (by next event time) from slot i. */
static void sift_down(struct cursor **h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		if (l < n && cursor_before(h[l], h[m]))
			m = l;
		if (r < n && cursor_before(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		struct cursor *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

enum xtrace_status xt_run_peak_read(const struct xt_run *run, const char *heap_name,
				    struct xt_run_peak *pk)
{
	/* only the heaps: the merge reads every image's events at once */
	struct xt_pass heaps = {.analyses = XT_AN_BIT(XT_AN_MALLOC_HEAP) | XT_AN_BIT(XT_AN_HEAPS),
				.heap = heap_name};
	memset(pk, 0, sizeof *pk);
	size_t n = 0;
	for (size_t i = 0; i < run->count; i++)
		n += (size_t)run->img[i].selected;
	struct cursor *c = calloc(n ? n : 1, sizeof *c);
	struct cursor **heap = calloc(n ? n : 1, sizeof *heap);
	size_t *dirty = calloc(n ? n : 1, sizeof *dirty);
	pk->live = calloc(run->count ? run->count : 1, sizeof *pk->live);
	enum xtrace_status st = XTRACE_OK;
	size_t opened = 0, nheap = 0, ndirty = 0;
	if (!c || !heap || !dirty || !pk->live)
		st = XTRACE_ERR_NOMEM;
	for (size_t i = 0; st == XTRACE_OK && i < run->count; i++) {
		if (!run->img[i].selected)
			continue;
		char err[256];
		struct cursor *k = &c[opened];
		k->img = i;
		if (!(k->r = xtrace_open(run->img[i].path, err, sizeof err))) {
			st = XTRACE_ERR_IO;
			break;
		}
		opened++;
		if (xt_summary_init(&k->s, k->r, &heaps) < 0)
			st = XTRACE_ERR_NOMEM;
		else if (xtrace_next(k->r, &k->ev) == 1)
			heap[nheap++] = k;
	}
	for (size_t i = nheap / 2 + 1; st == XTRACE_OK && i-- > 0;)
		sift_down(heap, nheap, i);
	uint64_t total = 0;
	while (st == XTRACE_OK && nheap) {
		struct cursor *k = heap[0];
		uint64_t before = k->s.selected->live_bytes;
		if (xt_summary_take(&k->s, k->r, &k->ev, &heaps) < 0) {
			st = XTRACE_ERR_NOMEM;
			break;
		}
		uint64_t ts = k->ev.ts;
		int ended = xtrace_next(k->r, &k->ev) != 1;
		/* an image that ended (exit, exec, the end of its trace) holds no heap any more */
		uint64_t after = ended ? 0 : k->s.selected->live_bytes;
		if (after != before) {
			if (!k->dirty) {
				k->dirty = 1;
				k->at_peak = before;
				dirty[ndirty++] = (size_t)(k - c);
			}
			total = total - before + after;
			if (total > pk->bytes) {
				/* every image's live bytes now are the peak's: forget the older values */
				pk->bytes = total;
				pk->ts = ts;
				for (size_t d = 0; d < ndirty; d++)
					c[dirty[d]].dirty = 0;
				ndirty = 0;
			}
		}
		if (ended)
			heap[0] = heap[--nheap];
		sift_down(heap, nheap, 0);
	}
	for (size_t i = 0; i < opened; i++) {
		pk->live[c[i].img] = c[i].dirty ? c[i].at_peak : 0;
		xt_summary_destroy(&c[i].s);
		xtrace_close(c[i].r);
	}
	free(c);
	free(heap);
	free(dirty);
	return st;
}

/* Sibling ranks: images sorted by (parent, program hash, start order). */
struct sibling {
	long parent;
	uint64_t program;
	size_t img;
};

static int by_sibling(const void *a, const void *b)
{
	const struct sibling *x = a, *y = b;
	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->program != y->program)
		return x->program < y->program ? -1 : 1;
	return x->img < y->img ? -1 : x->img > y->img;
}

int xt_run_place_keys(const struct xt_run *run, uint64_t *keys)
{
	size_t n = run->count;
	struct sibling *sib = malloc((n ? n : 1) * sizeof *sib);
	uint64_t *rank = malloc((n ? n : 1) * sizeof *rank);
	if (!sib || !rank) {
		free(sib);
		free(rank);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = xt_image_program(&run->img[i]);
		sib[i] = (struct sibling){run->img[i].parent, XXH3_64bits(p, strlen(p)), i};
	}
	qsort(sib, n, sizeof *sib, by_sibling);
	for (size_t i = 0; i < n; i++)
		rank[sib[i].img] = i && sib[i - 1].parent == sib[i].parent &&
					   sib[i - 1].program == sib[i].program ?
				   rank[sib[i - 1].img] + 1 : 0;
	/* in tree order, so a parent's key is there before its children's */
	for (size_t k = 0; k < n; k++) {
		size_t i = run->order[k];
		const char *p = xt_image_program(&run->img[i]);
		uint64_t h[3] = {run->img[i].parent >= 0 ? keys[run->img[i].parent] : 0,
				 XXH3_64bits(p, strlen(p)), rank[i]};
		keys[i] = XXH3_64bits(h, sizeof h);
	}
	free(sib);
	free(rank);
	return 0;
}

const char *xt_image_end_name(enum xt_image_end e)
{
	switch (e) {
	case XT_END_EXIT: return "exit";
	case XT_END_SIGNAL: return "signal";
	case XT_END_EXEC: return "exec";
	}
	return NULL;
}

const char *xt_image_status(char *buf, size_t n, const struct xt_image *im)
{
	if (im->end == XT_END_EXEC)
		snprintf(buf, n, "exec");
	else if (im->end)
		snprintf(buf, n, "%s %llu", xt_image_end_name(im->end), (unsigned long long)im->end_status);
	else if (im->t.st == XTRACE_ERR_TRUNCATED)
		snprintf(buf, n, "truncated");
	else if (im->t.st != XTRACE_OK)
		snprintf(buf, n, "unreadable");
	else
		snprintf(buf, n, "no end");
	return buf;
}
