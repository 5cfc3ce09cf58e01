/* clones.c: the mark that tells the traced process from a copy of it made past the fork
 * handlers (see shim.h). Before tracing starts, and where the kernel has no MADV_WIPEONFORK,
 * the mark is a constant 1: no copy is ever told apart on the hot path, and the cold paths,
 * which compare process IDs, keep such a copy from writing anything. */
#include <sys/mman.h>

#include "real.h"

static _Atomic uint64_t always_set = 1;
_Atomic(_Atomic uint64_t *) xt_process_mark = &always_set;

void xt_clone_mark_init(void)
{
	if (atomic_load(&xt_process_mark) != &always_set)
		return;
	/* populated: written at once, and a page fault costs more than the mapping on a VM */
	void *page = xt_real.mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (page == MAP_FAILED)
		return;
	if (madvise(page, 4096, MADV_WIPEONFORK) != 0) {
		xt_real.munmap(page, 4096);
		return;
	}
	_Atomic uint64_t *mark = page;
	atomic_store(mark, 1);
	atomic_store(&xt_process_mark, mark);
}

void xt_clone_mark_set(void)
{
	atomic_store(atomic_load(&xt_process_mark), 1);
}

bool xt_clone_shares_memory(void)
{
	_Atomic uint64_t *mark = atomic_load(&xt_process_mark);
	return mark != &always_set && atomic_load(mark);
}
