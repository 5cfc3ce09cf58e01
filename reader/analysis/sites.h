/* sites.h: allocation sites of one trace, for the top, leaks, peak, flame, diff and report
 * commands. A site is a distinct call stack (its program counters) and the region the thread
 * was in; it keeps counters of what it allocated and what of that is still live, temporary, or
 * was live at the process's peak.
 *
 * Stack IDs are per generation, so each generation maps its stack IDs to stacks kept by content
 * (a hash of the PCs): after the first allocation from a stack in a generation, finding its site
 * is an array lookup. Each distinct PC is symbolized once, when first seen, while its
 * generation's module table is current, into its frames: the calls inlined at it, then the
 * function holding it. A site's frames start at the first that is not allocation machinery
 * (allocsite.h): those inside malloc, operator new or the standard library are left out from
 * the innermost end, unless every frame is machinery. Groups (by stack, function, line or
 * region) are built at the end from symbolized names, so they also match across two traces
 * (diff). */
#ifndef XT_SITES_H
#define XT_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "allocsite.h"
#include "liveset.h"
#include "names.h"
#include "xtrace-reader.h"

/* XT_NO_SITE marks an allocation an analysis leaves out (outside the --region filter). */
#define XT_NO_SITE UINT32_MAX
#define XT_NO_NAME UINT32_MAX
/* Regions nest at most this deep per thread; deeper ones are counted but not named. */
#define XT_MAX_REGION_DEPTH 32

struct xt_counts {
	uint64_t allocs, bytes;       /* successful allocations and their requested bytes */
	uint64_t frees;               /* of this site's objects (realloc's included) */
	uint64_t temporary;           /* freed as the process's next heap event (xt_sites_free) */
	uint64_t temporary_bytes;
	uint64_t live_objects, live_bytes; /* at the end of what was read: leaked */
	uint64_t peak_bytes;          /* live at the process's peak (after xt_sites_peak_pass) */
};

/* Ranking metrics (--by). */
enum xt_metric {
	XT_BY_ALLOCS, XT_BY_BYTES, XT_BY_PEAK, XT_BY_TEMPORARY, XT_BY_LEAKED, XT_BY_COUNT
};
/* Grouping of sites (--group). */
enum xt_grouping {
	XT_GROUP_STACK, XT_GROUP_FUNCTION, XT_GROUP_LINE, XT_GROUP_REGION, XT_GROUP_COUNT
};

/* One symbolized frame; name IDs index the sites' names table (XT_NO_NAME: unknown). */
struct xt_frame_info {
	uint64_t pc, offset;  /* return address; its offset in its module */
	uint32_t function, file, module;
	uint32_t symbol;      /* the function's name as its object file spells it (mangled) */
	int line;
	uint32_t label;       /* the function, else "module+0xoffset", else "0xpc" */
	uint32_t line_label;  /* "function (file:line)" when the line is known, else label */
	uint8_t inlined;      /* inlined into the next frame (same pc) */
	uint8_t alloc;        /* allocation machinery (allocsite.h) */
};

struct xt_site {
	uint32_t stack;   /* index into the distinct stacks */
	uint32_t region;  /* region name ID + 1; 0 outside any region */
	struct xt_counts c;
};

struct xt_ustack {
	uint64_t hash;
	uint32_t off, n;  /* frame indices in frame_ix[off .. off + n), innermost first */
	uint32_t skip;    /* how many of them, from the innermost, are allocation machinery */
	uint32_t site0;   /* its site outside any region, or XT_NO_SITE before the first */
};

struct xt_thread_regions {
	uint64_t tid;
	uint32_t depth;      /* open regions, may exceed XT_MAX_REGION_DEPTH */
	uint32_t region[XT_MAX_REGION_DEPTH]; /* name IDs, outermost first */
};

struct xt_sites {
	struct xt_names names;
	xtrace_symbolizer *sym;      /* NULL: frames stay module+offset */
	uint32_t region_filter;      /* name ID + 1 of the region allocations must be in; 0: all */
	int peak_pass;               /* set by xt_sites_peak_pass: only peak_bytes changes */
	struct xt_alloc_rules rules; /* what is allocation machinery; set before the first event */

	struct xt_frame_info *frames;
	size_t nframes, frames_cap;
	struct xt_liveset frame_of_pc;   /* pc -> its first frame (bytes field), how many (site) */

	uint32_t *frame_ix;
	size_t nframe_ix, frame_ix_cap;
	struct xt_ustack *stacks;
	size_t nstacks, stacks_cap;
	struct xt_liveset stack_of_hash; /* hash -> stack index */

	struct { uint32_t gen, stack; } *genmap; /* this generation's stack ID -> stack index + 1 */
	size_t genmap_cap;
	uint32_t gen;                    /* bumped at each Sync, so stale genmap entries miss */

	struct xt_site *site;
	size_t count, cap;
	struct xt_liveset site_of_region; /* (stack + 1) << 32 | region -> site */

	struct xt_thread_regions *threads;
	size_t nthreads, threads_cap;
	struct xt_liveset thread_of_tid;
	uint64_t last_tid;
	size_t last_thread;

	struct xt_counts total;          /* over every counted site */

	/* The process's latest heap event if it was a counted allocation: its stack + 1 (0 after
	 * a free or an allocation left out) and requested bytes, for the temporary test. */
	uint32_t last_alloc_stack;
	uint64_t last_alloc_bytes;
};

/* xt_sites_init: symbolize 0 keeps frames as module+offset; region (may be NULL) keeps only
 * allocations made inside that region. 0, or -1 without memory. */
int xt_sites_init(struct xt_sites *s, int symbolize, const char *region);
void xt_sites_destroy(struct xt_sites *s);

/* Feeding events, in trace order (summary.c does it; all return -1 without memory). */
void xt_sites_sync(struct xt_sites *s);
/* xt_sites_site sets *site to the site of an allocation by thread tid from stack ID stack (of
 * r's current generation), XT_NO_SITE when the analysis leaves it out. */
int xt_sites_site(struct xt_sites *s, const xtrace_reader *r, uint64_t tid, uint64_t stack,
		  uint32_t *site);
/* xt_sites_alloc credits site with an allocation of bytes standing for objects objects (1, or
 * a sampled trace's estimate). */
void xt_sites_alloc(struct xt_sites *s, uint32_t site, uint64_t bytes, uint32_t objects);
/* xt_sites_free takes the release of a live object (by free or realloc), given its record.
 * It is temporary as heaptrack counts them: the process's heap event just before it (on any
 * thread; frees of objects that were not live do not count as events) was an allocation from
 * the same stack of the same requested size, the object itself or not. A realloc is the
 * release of the old object followed by an allocation of the new one, so a block realloc'd
 * at once is temporary, and so is the new one if freed next. */
void xt_sites_free(struct xt_sites *s, const struct xt_live *old);
/* xt_sites_region handles UserRegionBegin (begin 1) and UserRegionEnd (0). */
int xt_sites_region(struct xt_sites *s, const xtrace_reader *r, uint64_t tid, uint64_t name,
		    int begin);
/* xt_sites_in_region says whether thread tid is inside the filter region (1 without a filter). */
int xt_sites_in_region(struct xt_sites *s, uint64_t tid);
/* xt_sites_region_of returns the name ID of thread tid's innermost region, or XT_NO_NAME. */
uint32_t xt_sites_region_of(struct xt_sites *s, uint64_t tid);

/* xt_sites_peak_pass prepares a second read of the same trace, up to its peak: live bytes then
 * go to each site's peak_bytes (site indices stay those of the first read). */
void xt_sites_peak_pass(struct xt_sites *s);

/* Metric and grouping names, as the command-line options spell them ("allocs", "stack"). */
const char *xt_metric_name(enum xt_metric m);
const char *xt_grouping_name(enum xt_grouping g);
int xt_metric_parse(const char *s, enum xt_metric *m);
int xt_grouping_parse(const char *s, enum xt_grouping *g);
uint64_t xt_counts_metric(const struct xt_counts *c, enum xt_metric m);
/* xt_grow doubles the array *arr (elem bytes each, *cap of them) until it holds need: 0, or -1
 * without memory. */
int xt_grow(void *arr, size_t *cap, size_t need, size_t elem);
void xt_counts_add(struct xt_counts *to, const struct xt_counts *c);

/* A group of sites that share a key: its name ID in the names table given to xt_sites_group,
 * the sum of their counters, and the site that allocated the most bytes (whose frames stand
 * for the group). */
struct xt_group {
	uint32_t key;
	uint32_t site;
	struct xt_counts c;
};

/* xt_sites_group groups every site by g into *out (allocated; free it), keys interned in keys
 * (s->names or a table shared with another trace), sorted by m, largest first, ties by key.
 * Returns the number of groups, or -1 without memory. */
long xt_sites_group(struct xt_sites *s, enum xt_grouping g, enum xt_metric m,
		    struct xt_names *keys, struct xt_group **out);
/* xt_groups_sort sorts groups by m, largest first, ties by key (keys: the groups' table). */
void xt_groups_sort(struct xt_group *groups, size_t n, enum xt_metric m,
		    const struct xt_names *keys);

/* xt_site_frame returns frame i (0: the innermost outside allocation machinery) of site's
 * stack, or NULL past its end; xt_site_depth counts them. */
const struct xt_frame_info *xt_site_frame(const struct xt_sites *s, uint32_t site, size_t i);
size_t xt_site_depth(const struct xt_sites *s, uint32_t site);
/* xt_site_region returns the site's region name, or NULL. */
const char *xt_site_region(const struct xt_sites *s, uint32_t site);

#endif
