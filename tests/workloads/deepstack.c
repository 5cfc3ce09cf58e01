/* deepstack.c: allocates from stacks some hundreds of frames deep, each allocation's size
 * naming the call path it was made from, so a test can check every recorded stack frame by
 * frame. The functions are noinline and the build uses -O0 with frame pointers, so each call is
 * a real frame. Every allocation is made by node(), whose size is SITE_* * 1000 + level, where
 * level counts the recursive frames between main and the caller of node() (0: main called it);
 * below, the frames of each stack are listed from node()'s caller outwards:
 *   deepstack alternate N   leaf() allocates under dive() recursions alternately shallow
 *                           (1, 2, ...) and deep (N-1, N-2, ...), 40 times: frames leaf, dive
 *                           x level, main
 *   deepstack build N       build() recurses N levels, allocating a node before it recurses
 *                           and one after the recursion returns: frames build x (level+1), main
 *   deepstack parse N       a recursive-descent parser of three mutually recursive functions,
 *                           expr -> term -> factor -> expr, on an expression nested N
 *                           parentheses deep; each allocates its node: frames (innermost
 *                           first) the function at level, at level-1, ... expr, main, where
 *                           the function at level k is expr, term, factor for k % 3 = 0, 1, 2
 *   deepstack rounds N      build N, 4 times, 20 ms apart: the same stacks again in later
 *                           generations (traced with short ones)
 * It prints a checksum of what it built, the same traced or not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

enum { SITE_LEAF = 1, SITE_BUILD_PRE = 2, SITE_BUILD_POST = 3, SITE_EXPR = 4, SITE_TERM = 5,
       SITE_FACTOR = 6 };

static uint64_t checksum;

static void *node(int site, int level)
{
	size_t size = (size_t)site * 1000 + (size_t)level;
	unsigned char *p = malloc(size);
	if (!p)
		exit(3);
	memset(p, site, size);
	checksum = checksum * 31 + size;
	return p;
}

/* --- alternate: one helper at shallow and deep depths in turn --- */

__attribute__((noinline)) static void leaf(int level)
{
	free(node(SITE_LEAF, level));
	__asm__ volatile("" ::: "memory"); /* no tail call */
}

__attribute__((noinline)) static void dive(int level, int target)
{
	if (level == target)
		leaf(level);
	else
		dive(level + 1, target);
	__asm__ volatile("" ::: "memory");
}

/* --- build: a recursive builder allocating at every level --- */

struct list {
	struct list *next;
};

__attribute__((noinline)) static struct list *build(int level, int n)
{
	struct list *pre = node(SITE_BUILD_PRE, level);
	pre->next = level + 1 < n ? build(level + 1, n) : NULL;
	struct list *post = node(SITE_BUILD_POST, level);
	post->next = pre;
	return post;
}

static void free_built(struct list *l)
{
	while (l) {
		struct list *next = l->next;
		free(l);
		l = next;
	}
}

/* --- parse: expr := term ('+' term)*, term := factor ('*' factor)*, factor := '(' expr ')' |
 * digit; every function allocates a node holding its value --- */

struct parser {
	const char *p;
};

__attribute__((noinline)) static long expr(struct parser *ps, int level);

__attribute__((noinline)) static long factor(struct parser *ps, int level)
{
	long *v = node(SITE_FACTOR, level);
	if (*ps->p == '(') {
		ps->p++;
		*v = expr(ps, level + 1);
		ps->p++; /* ')' */
	} else {
		*v = *ps->p++ - '0';
	}
	long r = *v;
	free(v);
	return r;
}

__attribute__((noinline)) static long term(struct parser *ps, int level)
{
	long *v = node(SITE_TERM, level);
	*v = factor(ps, level + 1);
	while (*ps->p == '*') {
		ps->p++;
		*v = *v * factor(ps, level + 1) % 1000003;
	}
	long r = *v;
	free(v);
	return r;
}

__attribute__((noinline)) static long expr(struct parser *ps, int level)
{
	long *v = node(SITE_EXPR, level);
	*v = term(ps, level + 1);
	while (*ps->p == '+') {
		ps->p++;
		*v += term(ps, level + 1);
	}
	long r = *v;
	free(v);
	return r;
}

/* nested writes "(" x n, "1", then ")*2+3" x n: every level multiplies and adds. Static, so
 * that node() makes every allocation. */
static char *nested(int n)
{
	static char s[1000 * 6 + 2];
	char *w = s;
	for (int i = 0; i < n; i++)
		*w++ = '(';
	*w++ = '1';
	for (int i = 0; i < n; i++) {
		memcpy(w, ")*2+3", 5);
		w += 5;
	}
	*w = 0;
	return s;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 300;
	if (argc < 2 || n < 2 || n > 1000) {
		say("usage: deepstack alternate|build|parse|rounds [N]\n");
		return 2;
	}
	long value = 0;
	if (!strcmp(argv[1], "alternate")) {
		for (int i = 0; i < 20; i++) {
			dive(1, 1 + i);
			dive(1, n - 1 - i);
		}
	} else if (!strcmp(argv[1], "build")) {
		free_built(build(0, n));
	} else if (!strcmp(argv[1], "rounds")) {
		for (int i = 0; i < 4; i++) {
			free_built(build(0, n));
			nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
		}
	} else if (!strcmp(argv[1], "parse")) {
		char *text = nested(n);
		struct parser ps = {text};
		value = expr(&ps, 0);
	} else {
		return 2;
	}
	say("deepstack %s n=%d value=%ld checksum=%llu\n", argv[1], n, value,
	    (unsigned long long)checksum);
	return 0;
}
