/* unwlib.c: libunwind, loaded when a stack first needs it, not by every traced process.
 *
 * The DWARF walk (unwind.c) hands libunwind only the stacks it cannot follow (on an alternate
 * signal stack, through code without unwind tables), and most processes have none. Linked in,
 * libunwind and its liblzma were two more objects every traced process loaded, relocated and
 * touched pages of (about 10 page faults of a traced /bin/true's 135), and their symbols
 * (backtrace, _Unwind_*) were in the program's global scope. So it is opened here with dlopen,
 * RTLD_LOCAL: at the first walk that needs it, or before one does: at start with
 * XTRACE_UNWIND=libunwind, and when the program sets up an alternate signal stack (signals.c),
 * on which its handlers' stacks will need it. dlopen is not safe wherever a walk runs: not in a
 * signal handler (it may have interrupted the loader or the allocator), nor while the loader
 * changes the list of objects (a dlopen of the program's allocating). There the walk records
 * its caller alone and the generation thread loads libunwind at its next wake-up. Its caching
 * policy is set before any walk uses it: one under the global cache would keep the lock and the
 * signal mask it took. A copy of a process caught loading it never walks with it (the loader's
 * and libunwind's locks may have been copied held). */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>

#include "thread.h"
#include "unwlib.h"

#define LIBUNWIND_SONAME "libunwind.so.8"
/* the name libunwind's header gives f (UNW_LOCAL_ONLY prefixes most) */
#define NAME_OF(f) NAME_OF_(f)
#define NAME_OF_(f) #f

XT_TLS unsigned xt_in_handler;
static int (*backtrace_fn)(void **, int);
static _Atomic int state; /* 0: not loaded, 1: being loaded, 2: ready, 3: cannot be */
static _Atomic bool wanted;

void xt_unwlib_load(void)
{
	int s = 0;
	if (atomic_load_explicit(&state, memory_order_acquire) != 0 || xt_in_handler ||
	    _r_debug.r_state != RT_CONSISTENT || !atomic_compare_exchange_strong(&state, &s, 1))
		return;
	xt_tl.internal++; /* the loader's allocations are not the program's */
	void *h = dlopen(LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
	int (*set_policy)(unw_addr_space_t, unw_caching_policy_t) =
		h ? (int (*)(unw_addr_space_t, unw_caching_policy_t))dlsym(
			    h, NAME_OF(unw_set_caching_policy))
		  : NULL;
	unw_addr_space_t *local = h ? dlsym(h, NAME_OF(unw_local_addr_space)) : NULL;
	int (*bt)(void **, int) = h ? (int (*)(void **, int))dlsym(h, NAME_OF(unw_backtrace)) : NULL;
	xt_tl.internal--;
	if (!set_policy || !local || !bt) {
		xt_say("cannot load %s; stacks the DWARF walk cannot follow record their caller alone",
		       LIBUNWIND_SONAME);
		atomic_store(&state, 3);
		return;
	}
	set_policy(*local, UNW_CACHE_PER_THREAD);
	backtrace_fn = bt;
	atomic_store_explicit(&state, 2, memory_order_release);
}

int xt_unwlib_backtrace(void **pcs, int n)
{
	if (xt_unlikely(atomic_load_explicit(&state, memory_order_acquire) != 2)) {
		xt_unwlib_load();
		int s = atomic_load_explicit(&state, memory_order_acquire);
		if (s != 2) {
			if (s == 0)
				atomic_store(&wanted, true);
			return 0;
		}
	}
	return backtrace_fn(pcs, n);
}

bool xt_unwlib_wanted(void)
{
	return atomic_load(&wanted) && atomic_load(&state) == 0;
}
