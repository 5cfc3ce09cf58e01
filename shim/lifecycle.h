/* lifecycle.h: init, on the first interposed call or in the constructor. */
#ifndef XT_LIFECYCLE_H
#define XT_LIFECYCLE_H

#include "shim.h"

extern _Atomic int xt_init_state; /* 0 not begun, 1 running, 2 done */
XT_HIDDEN void xt_init_slow(void);

/* xt_ensure_init: one load on the hot path once initialized. */
static inline void xt_ensure_init(void)
{
	if (xt_unlikely(atomic_load_explicit(&xt_init_state, memory_order_acquire) != 2))
		xt_init_slow();
}

/* signals.c */
XT_HIDDEN void xt_signals_init(void);

#endif
