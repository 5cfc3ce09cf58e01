/* addrspace.h: the AddrSpace experiment's analysis, the process's address space beside its
 * heap: the bytes the program maps itself (mmap, munmap, mremap), its thread stacks, the program
 * break, and the resident and mapped sizes the shim samples once a generation. Each sample
 * becomes a point of a time series with the heap's live bytes and the program's own mapped
 * bytes at the end of the sample's generation (the shim samples as it closes one), so stats and
 * report can set the heap against mapped against resident memory over time. The series keeps
 * at most XT_MEM_POINTS points: when full, every other one goes, so memory stays fixed. */
#ifndef XT_ADDRSPACE_H
#define XT_ADDRSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "liveset.h"

#define XT_MEM_POINTS 1024
/* XT_MAPS_HEAP_NAME names the program's own maps seen as a heap: `--heap mmap` ranks who maps. */
#define XT_MAPS_HEAP_NAME "mmap"

struct xt_mem_point {
	uint64_t ts;                          /* the sample's time, ticks */
	uint64_t resident_bytes, mapped_bytes; /* the process's, sampled */
	uint64_t heap_bytes;                  /* live in the selected heap */
	uint64_t maps_bytes;                  /* the program's own maps */
};

/* A level over time: now, its peak and when. */
struct xt_level {
	uint64_t now, peak, peak_ts;
};

struct xt_addrspace {
	uint64_t events;                  /* AddrSpace events taken */
	uint64_t map_calls, unmap_calls, move_calls, brk_calls;
	/* The program's own maps as a heap, through the heap view (heapview.h): a map is allocated
	 * by its mmap, with its stack, and freed by a munmap at its start (whole: a munmap of part
	 * of a map releases the map) or moved by mremap. Its live bytes are the mapped bytes. */
	struct xt_heap maps;
	struct xt_level stack_bytes;      /* of live thread stacks */
	uint64_t stacks;                  /* live thread stacks */
	uint64_t brk_low, brk_top;        /* lowest and latest program break seen (0: none) */
	struct xt_liveset stack_len;      /* live stack address -> its length */
	struct xt_level resident, mapped; /* the samples */
	uint64_t samples;
	struct xt_mem_point *pt; /* XT_MEM_POINTS of them from the first sample (a summary is
				  * small until then: a run's merge keeps one per image) */
	size_t npt;
	size_t pending; /* points from here on wait for their generation's end */
};

#endif
