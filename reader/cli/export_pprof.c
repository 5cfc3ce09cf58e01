/* export_pprof.c: `xtrace export --format pprof`: the allocation sites as a gzipped profile.proto
 * (github.com/google/pprof/proto/profile.proto), the format of Go's heap profiles, which
 * `go tool pprof` and the tools of jemalloc and tcmalloc read. It is written as Go writes the heap
 * profile of a program that records every allocation (MemProfileRate 1, so nothing is scaled):
 * sample types alloc_objects/count, alloc_space/bytes, inuse_objects/count, inuse_space/bytes
 * (in use: still live at the end of the trace), inuse_space the default, period type
 * space/bytes of period 1, and a numeric label "bytes", the site's average allocation size.
 *
 * A sample is a site of `xtrace top --group stack` (its stack and region), so totals and
 * functions agree with top: the frames are the site's (allocator frames left out as top leaves
 * them out), leaf first; the calls inlined at one address are the lines of one location,
 * innermost first, as pprof expects. Each function carries the readable name, the name as the
 * object file spells it (system_name) and its source file. Mappings come from the trace's module
 * tables, with build IDs in hex. Labels: "region", the innermost user region open at the
 * allocation; "heap", the heap allocated from (malloc, or the one --heap names); of a run's
 * images, "pid" (numeric) and "exe". With --no-symbols the locations are bare addresses in their mappings and pprof symbolizes them from the binaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "export.h"
#include "protobuf.h"

/* Field numbers of profile.proto. */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
	LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3,
	MAPPING_ID = 1, MAPPING_MEMORY_START = 2, MAPPING_MEMORY_LIMIT = 3, MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7, MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9, MAPPING_HAS_INLINE_FRAMES = 10,
	LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1, LINE_LINE = 2,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
};

/* The sample types, in Go's order: value i of a sample is counter i of its site. */
static const struct {
	const char *type, *unit;
} sample_types[] = {
	{"alloc_objects", "count"},
	{"alloc_space", "bytes"},
	{"inuse_objects", "count"},
	{"inuse_space", "bytes"},
};
#define NTYPES (sizeof sample_types / sizeof sample_types[0])

struct pprof {
	struct export_images images;
	struct xt_pb prof;          /* the Profile, all but its header and string table */
	struct xt_pb msg, sub, line; /* a message being built, one nested in it, a location's line */
	struct xt_names strings;    /* the string table: a string's ID is its index (0: "") */
	struct xt_names functions;  /* (name, system name, file) string IDs -> function ID - 1 */
	struct xt_names modules;    /* "image base module-file-name" -> mapping ID - 1 */
	uint64_t nlocations;
	uint64_t image;             /* ordinal of the image being read */
	int is_run, failed;
	uint64_t start_ns, end_ns;  /* wall clock: the first image's start, the last one's end */
	uint64_t sample_bytes;      /* the largest sampling mean of the images (0: none sampled) */
	uint32_t *location_of;      /* this image's frame index -> location ID (0: none yet) */
	size_t location_cap;
	uint64_t *ids;              /* a sample's location IDs */
	size_t ids_cap;
};

static uint64_t str(struct pprof *pp, const char *s, size_t len)
{
	uint32_t id = xt_names_id(&pp->strings, s, len);
	if (id == XT_NO_NAME)
		pp->failed = 1;
	return id == XT_NO_NAME ? 0 : id;
}

static uint64_t cstr(struct pprof *pp, const char *s)
{
	return str(pp, s, strlen(s));
}

/* name_str is the string ID of name id of the sites' table (0, "", for XT_NO_NAME). */
static uint64_t name_str(struct pprof *pp, const struct xt_names *n, uint32_t id)
{
	return id == XT_NO_NAME ? 0 : str(pp, xt_names_str(n, id), xt_names_len(n, id));
}

static const char *base_name(const char *p)
{
	const char *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

/* module_key writes the key of the module loaded at base from file name (the frames' module)
 * in the image being read: its length. */
static size_t module_key(char *buf, size_t n, uint64_t image, uint64_t base, const char *name)
{
	int len = snprintf(buf, n, "%llu %llx %s", (unsigned long long)image,
			   (unsigned long long)base, name);
	return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

/* add_mapping writes a Mapping for module m the first time the image names it. */
static void add_mapping(struct pprof *pp, const struct xtrace_module *m)
{
	char key[4200];
	size_t klen = module_key(key, sizeof key, pp->image, m->base, base_name(m->path));
	uint32_t before = pp->modules.count;
	uint32_t id = xt_names_id(&pp->modules, key, klen);
	if (id == XT_NO_NAME) {
		pp->failed = 1;
		return;
	}
	if (id < before)
		return;
	char hex[2 * 256 + 1];
	size_t nb = m->build_id_len < 256 ? m->build_id_len : 256;
	for (size_t i = 0; i < nb; i++)
		snprintf(hex + 2 * i, 3, "%02x", m->build_id[i]);
	int symbols = !cli_no_symbols;
	struct xt_pb *b = &pp->msg;
	xt_pb_clear(b);
	xt_pb_uint(b, MAPPING_ID, (uint64_t)id + 1);
	xt_pb_uint(b, MAPPING_MEMORY_START, m->lo);
	xt_pb_uint(b, MAPPING_MEMORY_LIMIT, m->hi);
	/* The file offset at memory_start is 0, left out: the lowest loaded segment of the ELF
	 * files linkers write maps the file from its start (it holds the ELF header). */
	xt_pb_uint(b, MAPPING_FILENAME, cstr(pp, m->path));
	xt_pb_uint(b, MAPPING_BUILD_ID, str(pp, hex, 2 * nb));
	xt_pb_uint(b, MAPPING_HAS_FUNCTIONS, symbols);
	xt_pb_uint(b, MAPPING_HAS_FILENAMES, symbols);
	xt_pb_uint(b, MAPPING_HAS_LINE_NUMBERS, symbols);
	xt_pb_uint(b, MAPPING_HAS_INLINE_FRAMES, symbols);
	xt_pb_msg(&pp->prof, PROFILE_MAPPING, b);
}

/* on_event takes each generation's module table in: the mappings of the image. */
static int on_event(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		    const struct xt_summary *s)
{
	struct pprof *pp = ctx;
	if (ev->kind != XTRACE_EVENT_SYNC)
		return 0;
	const struct xtrace_module *mods;
	size_t n = xtrace_modules(r, &mods);
	for (size_t i = 0; i < n && !pp->failed; i++)
		add_mapping(pp, &mods[i]);
	return pp->failed;
}

/* function_id is the ID of frame f's function, written the first time. */
static uint64_t function_id(struct pprof *pp, const struct xt_sites *s,
			    const struct xt_frame_info *f)
{
	uint32_t k[3] = {(uint32_t)name_str(pp, &s->names, f->label),
			 (uint32_t)name_str(pp, &s->names, f->symbol != XT_NO_NAME ? f->symbol : f->label),
			 (uint32_t)name_str(pp, &s->names, f->file)};
	uint32_t before = pp->functions.count;
	uint32_t id = xt_names_id(&pp->functions, (const char *)k, sizeof k);
	if (id == XT_NO_NAME) {
		pp->failed = 1;
		return 0;
	}
	if (id < before)
		return (uint64_t)id + 1;
	struct xt_pb *b = &pp->sub;
	xt_pb_clear(b);
	xt_pb_uint(b, FUNCTION_ID, (uint64_t)id + 1);
	xt_pb_uint(b, FUNCTION_NAME, k[0]);
	xt_pb_uint(b, FUNCTION_SYSTEM_NAME, k[1]);
	xt_pb_uint(b, FUNCTION_FILENAME, k[2]);
	xt_pb_msg(&pp->prof, PROFILE_FUNCTION, b);
	return (uint64_t)id + 1;
}

/* location_id is the ID of the location whose lines are frames fi, fi + 1, ... of s, up to the
 * first that is not inlined (one address), written the first time. */
static uint64_t location_id(struct pprof *pp, const struct xt_sites *s, uint32_t fi)
{
	if (pp->location_of[fi])
		return pp->location_of[fi];
	const struct xt_frame_info *f = &s->frames[fi];
	uint32_t mapping = 0;
	if (f->module != XT_NO_NAME) {
		char key[4200];
		size_t klen = module_key(key, sizeof key, pp->image, f->pc - f->offset,
					 xt_names_str(&s->names, f->module));
		mapping = xt_names_find(&pp->modules, key, klen) + 1; /* not found: 0 */
	}
	uint64_t id = ++pp->nlocations;
	pp->location_of[fi] = (uint32_t)id;
	/* Function messages go into the profile as they are met: the location is built in msg. */
	struct xt_pb *b = &pp->msg;
	xt_pb_clear(b);
	xt_pb_uint(b, LOCATION_ID, id);
	xt_pb_uint(b, LOCATION_MAPPING_ID, mapping);
	xt_pb_uint(b, LOCATION_ADDRESS, f->pc);
	for (size_t i = fi; !cli_no_symbols && i < s->nframes; i++) {
		uint64_t fn = function_id(pp, s, &s->frames[i]);
		xt_pb_clear(&pp->line);
		xt_pb_uint(&pp->line, LINE_FUNCTION_ID, fn);
		xt_pb_uint(&pp->line, LINE_LINE, s->frames[i].line > 0 ? (uint64_t)s->frames[i].line : 0);
		xt_pb_msg(b, LOCATION_LINE, &pp->line);
		if (!s->frames[i].inlined)
			break;
	}
	xt_pb_msg(&pp->prof, PROFILE_LOCATION, b);
	return id;
}

static void label(struct pprof *pp, const char *key, uint64_t str_id, uint64_t num)
{
	struct xt_pb *b = &pp->sub;
	xt_pb_clear(b);
	xt_pb_uint(b, LABEL_KEY, cstr(pp, key));
	xt_pb_uint(b, LABEL_STR, str_id);
	xt_pb_uint(b, LABEL_NUM, num);
	xt_pb_msg(&pp->msg, SAMPLE_LABEL, b);
}

static uint64_t clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : v;
}

/* add_sample writes site i of s, allocated from heap, as a sample. */
static void add_sample(struct pprof *pp, const struct xt_sites *s, uint32_t i,
		       const struct xt_image *im, const char *heap)
{
	const struct xt_ustack *u = &s->stacks[s->site[i].stack];
	if (pp->ids_cap < u->n) {
		uint64_t *n = realloc(pp->ids, u->n * sizeof *n);
		if (!n) {
			pp->failed = 1;
			return;
		}
		pp->ids = n;
		pp->ids_cap = u->n;
	}
	/* Locations first: each is written into the profile as msg, before the sample uses it. */
	size_t nids = 0;
	for (uint32_t j = u->skip; j < u->n; j++) {
		uint32_t fi = s->frame_ix[u->off + j];
		pp->ids[nids++] = location_id(pp, s, fi);
		while (j + 1 < u->n && s->frames[s->frame_ix[u->off + j]].inlined)
			j++;
	}
	const struct xt_counts *c = &s->site[i].c;
	uint64_t v[NTYPES] = {clamp(c->allocs), clamp(c->bytes), clamp(c->live_objects),
			      clamp(c->live_bytes)};
	struct xt_pb *b = &pp->msg;
	xt_pb_clear(b);
	xt_pb_packed(b, SAMPLE_LOCATION_ID, pp->ids, nids);
	xt_pb_packed(b, SAMPLE_VALUE, v, NTYPES);
	if (c->allocs && c->bytes / c->allocs)
		label(pp, "bytes", 0, clamp(c->bytes / c->allocs));
	const char *region = xt_site_region(s, i);
	if (region)
		label(pp, "region", cstr(pp, region), 0);
	label(pp, "heap", cstr(pp, heap), 0);
	if (pp->is_run) {
		label(pp, "pid", 0, clamp(im->pid));
		label(pp, "exe", cstr(pp, im->exe), 0);
	}
	xt_pb_msg(&pp->prof, PROFILE_SAMPLE, b);
}

static int on_image(void *ctx, const struct xt_image *im, struct cli_profile *p)
{
	struct pprof *pp = ctx;
	const struct xt_sites *s = &p->sites;
	free(pp->location_of);
	if (!(pp->location_of = calloc(s->nframes + 1, sizeof *pp->location_of)))
		return -1;
	for (uint32_t i = 0; i < s->count && !pp->failed; i++)
		add_sample(pp, s, i, im, p->sum.heap_name);
	if (p->sum.sampling.mean > pp->sample_bytes)
		pp->sample_bytes = p->sum.sampling.mean;
	uint64_t start = im->start_wall_sec * 1000000000u + im->start_wall_nsec;
	if (!pp->start_ns || start < pp->start_ns)
		pp->start_ns = start;
	if (start + p->duration_ns > pp->end_ns)
		pp->end_ns = start + p->duration_ns;
	pp->image++;
	return pp->failed || pp->prof.failed;
}

static void value_type(struct pprof *pp, unsigned field, const char *type, const char *unit)
{
	struct xt_pb *b = &pp->msg;
	xt_pb_clear(b);
	xt_pb_uint(b, VALUE_TYPE_TYPE, cstr(pp, type));
	xt_pb_uint(b, VALUE_TYPE_UNIT, cstr(pp, unit));
	xt_pb_msg(&pp->prof, field, b);
}

/* finish adds the header fields and the string table, last since every string is known then
 * (a message's fields may come in any order). */
static void finish(struct pprof *pp)
{
	for (size_t i = 0; i < NTYPES; i++)
		value_type(pp, PROFILE_SAMPLE_TYPE, sample_types[i].type, sample_types[i].unit);
	value_type(pp, PROFILE_PERIOD_TYPE, "space", "bytes");
	xt_pb_uint(&pp->prof, PROFILE_PERIOD, 1);
	xt_pb_uint(&pp->prof, PROFILE_DEFAULT_SAMPLE_TYPE, cstr(pp, "inuse_space"));
	xt_pb_uint(&pp->prof, PROFILE_TIME_NANOS, pp->start_ns);
	xt_pb_uint(&pp->prof, PROFILE_DURATION_NANOS, pp->end_ns - pp->start_ns);
	if (pp->sample_bytes) {
		/* The values are already estimates (as Go writes a sampled heap profile's). */
		char note[128];
		snprintf(note, sizeof note, "estimated: sampled allocations, one per %llu bytes "
			 "allocated on average", (unsigned long long)pp->sample_bytes);
		xt_pb_uint(&pp->prof, PROFILE_COMMENT, cstr(pp, note));
	}
	for (uint32_t i = 0; i < pp->strings.count; i++)
		xt_pb_bytes(&pp->prof, PROFILE_STRING_TABLE, xt_names_str(&pp->strings, i),
			    xt_names_len(&pp->strings, i));
}

/* put_gzip writes p[0..n) to o as one gzip member, as Go writes its profiles: 0, or -1 when
 * zlib could not start. */
static int put_gzip(struct xt_out *o, const uint8_t *p, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	unsigned char buf[1 << 16];
	int flush;
	do {
		/* zlib counts input in uInt: a larger profile goes in pieces */
		uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
		z.next_in = (Bytef *)p;
		z.avail_in = chunk;
		p += chunk;
		n -= chunk;
		flush = n ? Z_NO_FLUSH : Z_FINISH;
		do {
			z.next_out = buf;
			z.avail_out = sizeof buf;
			deflate(&z, flush);
			xt_out_mem(o, buf, sizeof buf - z.avail_out);
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&z);
	return 0;
}

int export_pprof(struct xt_out *o, const struct xt_run *run, const struct cli_options *opt,
		 int is_run)
{
	struct pprof pp = {.is_run = is_run};
	pp.images = (struct export_images){.on_event = on_event, .image = on_image, .ctx = &pp};
	int code = XT_EXIT_FAIL;
	if (xt_names_init(&pp.strings) < 0 || xt_names_init(&pp.functions) < 0 ||
	    xt_names_init(&pp.modules) < 0 || str(&pp, "", 0) != 0) {
		cli_warn("out of memory");
	} else {
		code = export_profiles(run, opt, &pp.images);
		if (code == XT_EXIT_OK || code == XT_EXIT_TRUNCATED) {
			finish(&pp);
			if (pp.failed || pp.prof.failed || put_gzip(o, pp.prof.p, pp.prof.len) < 0) {
				cli_warn("out of memory");
				code = XT_EXIT_FAIL;
			}
		}
	}
	xt_pb_free(&pp.prof);
	xt_pb_free(&pp.msg);
	xt_pb_free(&pp.sub);
	xt_pb_free(&pp.line);
	xt_names_destroy(&pp.strings);
	xt_names_destroy(&pp.functions);
	xt_names_destroy(&pp.modules);
	free(pp.location_of);
	free(pp.ids);
	return code;
}
