/* flight.c: the flight recorder's ring (see flight.h). The bytes of the generations kept lie in
 * one mapping of XTRACE_FLIGHT MiB (less the header's room), as a ring of bytes addressed by
 * offsets that only grow; a second, small ring holds where each complete generation begins.
 * A generation that does not fit drops the oldest complete generations, whole, until it does;
 * output.c ends generations early at a sixteenth of the ring, so one bigger than the whole ring
 * is rare; it is dropped itself (said once on stderr). Memory: the mapping, touched as it
 * fills, never more. Cold path: a copy per generation, under output.c's lock. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "flight.h"
#include "real.h"

#define MAX_GENS 4096 /* generations kept at most (each at least a Sync, an End and tables) */

static uint8_t *ring;
static size_t size;              /* the mapping's bytes */
static uint64_t head;            /* offset of the oldest byte kept */
static uint64_t tail;            /* offset where the next byte goes */
static uint64_t cur;             /* offset where the generation being kept begins */
static bool cur_dropped;         /* the generation being kept did not fit the ring */
static uint64_t starts[MAX_GENS];/* where each complete generation kept begins, oldest first */
static unsigned first, ngens;    /* starts[first], the oldest; ngens of them */
static int said;
static uint64_t dropped;         /* generations dropped since the trace began */

bool xt_flight_on(void)
{
	return ring != NULL;
}

bool xt_flight_reset(size_t cap)
{
	if (!ring) {
		void *m = xt_real.mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);
		if (m == MAP_FAILED)
			return false;
		ring = m;
		size = cap;
	}
	head = tail = cur = 0;
	cur_dropped = false;
	dropped = 0;
	first = ngens = 0;
	return true;
}

/* drop_oldest forgets the oldest complete generation; false if there is none. */
static bool drop_oldest(void)
{
	if (!ngens)
		return false;
	first = (first + 1) % MAX_GENS;
	ngens--;
	dropped++;
	head = ngens ? starts[first] : cur;
	return true;
}

void xt_flight_put(const struct iovec *iov, int n)
{
	if (cur_dropped)
		return;
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	while (tail + len - head > size)
		if (!drop_oldest()) {
			cur_dropped = true;
			if (!said++)
				xt_say("a generation is bigger than XTRACE_FLIGHT: it is not kept (a "
				       "larger XTRACE_FLIGHT or a shorter XTRACE_GEN_MS keeps them)");
			return;
		}
	for (int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		for (size_t left = iov[i].iov_len; left;) {
			size_t at = (size_t)(tail % size), piece = size - at < left ? size - at : left;
			memcpy(ring + at, p, piece);
			p += piece;
			tail += piece;
			left -= piece;
		}
	}
}

void xt_flight_end_gen(void)
{
	if (cur_dropped) {
		tail = cur; /* its bytes go */
		cur_dropped = false;
		dropped++;
		return;
	}
	if (ngens == MAX_GENS)
		drop_oldest();
	starts[(first + ngens) % MAX_GENS] = cur;
	ngens++;
	cur = tail;
}

int xt_flight_kept(struct iovec out[2])
{
	uint64_t from = head, to = cur; /* complete generations only */
	int n = 0;
	while (from < to) {
		size_t at = (size_t)(from % size), piece = size - at < to - from ? size - at : to - from;
		out[n++] = (struct iovec){ring + at, piece};
		from += piece;
	}
	return n;
}

void xt_flight_drain(void)
{
	head = cur;
	first = ngens = 0;
}

void xt_flight_status(char *out, size_t cap)
{
	snprintf(out, cap, "flight recorder: %u generations kept, %.1f of %.1f MiB; %llu dropped\n",
		 ngens, (double)(cur - head) / (1 << 20), (double)size / (1 << 20),
		 (unsigned long long)dropped);
}
