/* xtrace.h: annotations a program adds to its own trace: regions (named spans of a thread's
 * time, like Go's trace.WithRegion) and log messages (like Go's trace.Log). They are recorded as
 * events when the program runs under libxtrace.so and cost one pointer test when it does not:
 * each function looks up the shim's entry point once with dlsym and does nothing if it is
 * absent, so a program that includes this header needs no link-time dependency on xtrace (link
 * with -ldl on glibc before 2.34).
 *
 *   XTRACE_REGION_BEGIN("parse");        // allocations until the end are "in" region parse
 *   ...
 *   XTRACE_REGION_END("parse");          // regions nest; end names the one it closes
 *   xtrace_log_message("cache", "evicted 120 entries");
 *
 * Names and messages are copied when recorded (up to 4096 bytes); any thread may call these.
 *
 * Run-time experiments: a program names an experiment and its events, with their arguments'
 * names, while it runs, then emits them; each generation of the trace describes them, so every
 * xtrace command shows them by name, as it shows built-in experiments.
 *
 *   unsigned exp = xtrace_experiment("Cache", 1);
 *   static const char *const args[] = {"key_string", "entry_addr", "size_value", "stack"};
 *   unsigned evict = xtrace_event(exp, "CacheEvict", 4, args);
 *   xtrace_emit(evict, (const uint64_t[]){XTRACE_STR(key), (uintptr_t)entry, size, 0});
 *
 * An argument's name ends in its kind, after the last '_' (or is the kind itself):
 *   value   a number
 *   addr    an address (stored as a delta from the previous one: cheap when they are close)
 *   ns      a duration in nanoseconds
 *   timer   a timer's ID
 *   string  a const char * passed with XTRACE_STR: the string is copied into the trace (up to
 *           4096 bytes; NULL records none)
 *   stack   nothing to pass (its slot is ignored): the caller's stack is recorded
 * Names are 1..64 bytes; an event has at most 5 arguments. Both definitions return an ID (0
 * without the shim, for a bad name or kind, when the IDs run out, or when it contradicts an
 * earlier definition: a known experiment name with another version, a built-in experiment's
 * name, a known event name of the experiment with other arguments); the same definition again
 * returns the same ID, also in a forked child. Define from ordinary code (a definition takes a lock, and fails inside a signal
 * handler that interrupted one); emit from any thread or signal handler: an emit is recorded as
 * the shim's own events are (no lock, no system call; a stack argument costs a stack walk), and
 * an ID of 0 records nothing. */
#ifndef XTRACE_H
#define XTRACE_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*xtrace_name_fn)(const char *);
typedef void (*xtrace_log_fn)(const char *, const char *);
typedef unsigned (*xtrace_experiment_fn)(const char *, unsigned);
typedef unsigned (*xtrace_event_fn)(unsigned, const char *, unsigned, const char *const *);
typedef void (*xtrace_emit_fn)(unsigned, const uint64_t *);

/* xtrace_entry_ returns the shim's symbol name, or NULL without the shim. The lookup runs once
 * per call site and program (the shim is preloaded, so it never appears later). */
static inline void *xtrace_entry_(void **cache, int *done, const char *name)
{
	if (!__atomic_load_n(done, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(cache, dlsym(RTLD_DEFAULT, name), __ATOMIC_RELAXED);
		__atomic_store_n(done, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(cache, __ATOMIC_RELAXED);
}

/* xtrace_region_begin_name starts region name on the calling thread. */
static inline void xtrace_region_begin_name(const char *name)
{
	static void *fn;
	static int done;
	xtrace_name_fn f = (xtrace_name_fn)xtrace_entry_(&fn, &done, "xtrace_region_begin");
	if (f)
		f(name);
}

/* xtrace_region_end_name ends the calling thread's region name. */
static inline void xtrace_region_end_name(const char *name)
{
	static void *fn;
	static int done;
	xtrace_name_fn f = (xtrace_name_fn)xtrace_entry_(&fn, &done, "xtrace_region_end");
	if (f)
		f(name);
}

/* xtrace_log_message records message under category. */
static inline void xtrace_log_message(const char *category, const char *message)
{
	static void *fn;
	static int done;
	xtrace_log_fn f = (xtrace_log_fn)xtrace_entry_(&fn, &done, "xtrace_log");
	if (f)
		f(category, message);
}

/* xtrace_experiment defines the run-time experiment name at version; returns its ID or 0. */
static inline unsigned xtrace_experiment(const char *name, unsigned version)
{
	static void *fn;
	static int done;
	xtrace_experiment_fn f =
		(xtrace_experiment_fn)xtrace_entry_(&fn, &done, "xtrace_experiment_define");
	return f ? f(name, version) : 0;
}

/* xtrace_event defines event name of experiment with nargs arguments named arg_names; returns
 * its ID (an event type) or 0. */
static inline unsigned xtrace_event(unsigned experiment, const char *name, unsigned nargs,
				    const char *const *arg_names)
{
	static void *fn;
	static int done;
	xtrace_event_fn f = (xtrace_event_fn)xtrace_entry_(&fn, &done, "xtrace_event_define");
	return f && experiment ? f(experiment, name, nargs, arg_names) : 0;
}

/* xtrace_emit records event with its arguments args[0..nargs), in the order defined. */
static inline void xtrace_emit(unsigned event, const uint64_t *args)
{
	static void *fn;
	static int done;
	xtrace_emit_fn f = (xtrace_emit_fn)xtrace_entry_(&fn, &done, "xtrace_event_emit");
	if (f && event)
		f(event, args);
}

/* XTRACE_STR passes a string argument to xtrace_emit. */
#define XTRACE_STR(s) ((uint64_t)(uintptr_t)(const char *)(s))

#define XTRACE_REGION_BEGIN(name) xtrace_region_begin_name(name)
#define XTRACE_REGION_END(name) xtrace_region_end_name(name)

/* Heaps: a program's own allocators (pools, arenas, slabs), recorded as valgrind's
 * VALGRIND_MALLOCLIKE_BLOCK/VALGRIND_FREELIKE_BLOCK and heaptrack's heaptrack_report_alloc/free
 * record them, each heap apart from malloc's and from the others:
 *
 *   static unsigned pool_heap;
 *   if (!pool_heap) pool_heap = xtrace_heap("pool");   // the same name gives the same ID
 *   void *p = pool_take(pool, 64);
 *   xtrace_heap_alloc(pool_heap, p, 64);                 // with the caller's stack
 *   ...
 *   xtrace_heap_free(pool_heap, p);
 *
 * xtrace_heap returns 0 without the shim (or when the shim's table of heaps is full), and the
 * other two do nothing for heap 0. They are always inlined, so the recorded stack starts in the
 * function that calls them (the allocator's own). */
typedef unsigned (*xtrace_heap_fn)(const char *);
typedef void (*xtrace_heap_alloc_fn)(unsigned, const void *, size_t);
typedef void (*xtrace_heap_free_fn)(unsigned, const void *);

/* xtrace_heap returns the ID of the heap named name, from 1, naming it on first use. */
static inline unsigned xtrace_heap(const char *name)
{
	static void *fn;
	static int done;
	xtrace_heap_fn f = (xtrace_heap_fn)xtrace_entry_(&fn, &done, "xtrace_heap_create");
	return f ? f(name) : 0;
}

/* xtrace_heap_alloc records that heap h handed out the size bytes at ptr. */
static inline __attribute__((always_inline)) void xtrace_heap_alloc(unsigned h, const void *ptr,
								     size_t size)
{
	static void *fn;
	static int done;
	xtrace_heap_alloc_fn f =
		(xtrace_heap_alloc_fn)xtrace_entry_(&fn, &done, "xtrace_heap_record_alloc");
	if (f)
		f(h, ptr, size);
}

/* xtrace_heap_free records that heap h took back the block at ptr. */
static inline __attribute__((always_inline)) void xtrace_heap_free(unsigned h, const void *ptr)
{
	static void *fn;
	static int done;
	xtrace_heap_free_fn f = (xtrace_heap_free_fn)xtrace_entry_(&fn, &done, "xtrace_heap_record_free");
	if (f)
		f(h, ptr);
}

#ifdef __cplusplus
}
#endif
#endif
