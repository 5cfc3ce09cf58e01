/* every_api.c: calls each allocation API of the AllocFree experiment N times with known sizes,
 * frees everything and calls free(NULL), then prints per-API call and byte counts.
 *   every_api [N [FAILS]]   N iterations (default 10); FAILS extra malloc calls that must fail
 * The APIs are called through volatile function pointers so the compiler cannot elide or merge
 * them (it knows malloc/free semantics and may drop an unused pair). */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static void *(*volatile p_malloc)(size_t) = malloc;
static void *(*volatile p_calloc)(size_t, size_t) = calloc;
static void *(*volatile p_realloc)(void *, size_t) = realloc;
static void *(*volatile p_reallocarray)(void *, size_t, size_t) = reallocarray;
static int (*volatile p_posix_memalign)(void **, size_t, size_t) = posix_memalign;
static void *(*volatile p_aligned_alloc)(size_t, size_t) = aligned_alloc;
static void *(*volatile p_memalign)(size_t, size_t) = memalign;
static void *(*volatile p_valloc)(size_t) = valloc;
static void *(*volatile p_pvalloc)(size_t) = pvalloc;
static void (*volatile p_free)(void *) = free;

enum { MALLOC, CALLOC, REALLOC, REALLOCARRAY, POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN, VALLOC,
       PVALLOC, NAPI };
static const char *const names[NAPI] = { "malloc", "calloc", "realloc", "reallocarray",
	"posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc" };
static unsigned long long calls[NAPI], bytes[NAPI];
static unsigned long long nfree, nreallocfree, nfree_null, nfailed;

static void note(int api, unsigned long long req)
{
	calls[api]++;
	bytes[api] += req;
}

static void *need(void *p)
{
	if (!p) {
		say("every_api: allocation failed\n");
		exit(2);
	}
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10;
	long fails = argc > 2 ? atol(argv[2]) : 0;

	for (long i = 0; i < n; i++) {
		size_t ms = 100 + (size_t)(i % 13);
		char *m = need(p_malloc(ms));
		note(MALLOC, ms);
		memset(m, 1, ms);

		size_t cn = 3 + (size_t)(i % 5);
		char *c = need(p_calloc(cn, 24));
		note(CALLOC, cn * 24);

		/* realloc from NULL allocates; grow, shrink and same size each release the old
		 * object (one ObjectReallocFree each) and allocate again */
		size_t rs = 40 + (size_t)(i % 3);
		char *q = need(p_realloc(NULL, rs));
		note(REALLOC, rs);
		q = need(p_realloc(q, 4000 + (size_t)(i % 3)));
		note(REALLOC, 4000 + (size_t)(i % 3));
		nreallocfree++;
		q = need(p_realloc(q, 20));
		note(REALLOC, 20);
		nreallocfree++;
		q = need(p_realloc(q, 20));
		note(REALLOC, 20);
		nreallocfree++;

		size_t es = 10 + (size_t)(i % 2);
		char *r = need(p_reallocarray(NULL, 4, es));
		note(REALLOCARRAY, 4 * es);
		r = need(p_reallocarray(r, 8, es));
		note(REALLOCARRAY, 8 * es);
		nreallocfree++;

		void *a = NULL;
		if (p_posix_memalign(&a, 64, 200) != 0)
			need(NULL);
		note(POSIX_MEMALIGN, 200);
		void *aa = need(p_aligned_alloc(128, 256));
		note(ALIGNED_ALLOC, 256);
		size_t mas = 48 + (size_t)(i % 4);
		void *ma = need(p_memalign(32, mas));
		note(MEMALIGN, mas);
		void *v = need(p_valloc(100));
		note(VALLOC, 100);
		void *pv = need(p_pvalloc(5000));
		note(PVALLOC, 5000);

		void *all[] = { m, c, q, r, a, aa, ma, v, pv };
		for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
			p_free(all[k]);
			nfree++;
		}
		for (int k = 0; k < 3; k++) {
			p_free(NULL); /* must record nothing */
			nfree_null++;
		}
	}
	/* 1 PiB cannot be had: each call records an ObjectAlloc with address 0 */
	for (long i = 0; i < fails; i++) {
		void *x = p_malloc((size_t)1 << 50);
		note(MALLOC, (size_t)1 << 50);
		if (x) {
			say("every_api: 1 PiB malloc succeeded\n");
			p_free(x);
			return 2;
		}
		nfailed++;
	}

	unsigned long long tc = 0, tb = 0;
	for (int k = 0; k < NAPI; k++) {
		say("api %s calls=%llu bytes=%llu\n", names[k], calls[k], bytes[k]);
		tc += calls[k];
		tb += bytes[k];
	}
	say("allocs=%llu bytes=%llu frees=%llu reallocfrees=%llu free_null=%llu failed=%llu\n", tc,
	    tb, nfree, nreallocfree, nfree_null, nfailed);
	return 0;
}
