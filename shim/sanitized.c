/* sanitized.c: what a sanitizer build of the shim needs to run preloaded (the Makefile builds
 * this file without the sanitizer; shim/lifecycle.h says why). Empty in the normal build.
 * Under TSan, threads the program creates start through a trampoline that marks them ready
 * before their start routine runs: until then TSan is still setting the thread up. */
#ifdef XT_SANITIZED
#include <pthread.h>
#include <stdlib.h>

#include "lifecycle.h"

int xt_sanitizer_ready;

#ifdef XT_SANITIZED_THREADS
XT_TLS int xt_thread_sanitizer_ready;

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;
	xt_real.free(p);
	xt_thread_sanitizer_ready = 1;
	return s.fn(s.arg);
}

XT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
							  void *(*fn)(void *), void *arg)
{
	xt_ensure_init();
	struct start *s = xt_real.malloc(sizeof(*s));
	if (!s)
		return xt_real.pthread_create(th, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	int r = xt_real.pthread_create(th, attr, trampoline, s);
	if (r != 0)
		xt_real.free(s);
	return r;
}
#endif
#endif
