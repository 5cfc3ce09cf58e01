/* demo.c: the example `make demo` traces: a word-frequency counter. It generates a deterministic
 * text, splits it between two threads that each count words in a hash table of their own
 * (malloc'd nodes, strdup'd keys, a bucket array grown with realloc), merges the tables, sorts
 * and prints the most frequent words. Some memory is leaked on purpose (the merged table's keys
 * and a per-thread scratch buffer), so the trace shows live objects at exit.
 *   demo [WORDS]   words of text to generate (default 200000) */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

struct node {
	char *word;
	long count;
	struct node *next;
};

struct table {
	struct node **buckets;
	size_t nbuckets, nitems;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void table_grow(struct table *t)
{
	size_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
	/* realloc the bucket array, then rehash every chain into the doubled array */
	struct node **b = realloc(t->buckets, nb * sizeof *b);
	if (!b)
		abort();
	memset(b + t->nbuckets, 0, (nb - t->nbuckets) * sizeof *b);
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct node *n = b[i], *keep = NULL;
		while (n) {
			struct node *next = n->next;
			size_t j = fnv1a(n->word) & (nb - 1);
			if (j == i) {
				n->next = keep;
				keep = n;
			} else {
				n->next = b[j];
				b[j] = n;
			}
			n = next;
		}
		b[i] = keep;
	}
	t->buckets = b;
	t->nbuckets = nb;
}

static void table_add(struct table *t, const char *word, long count)
{
	if (t->nitems + 1 > t->nbuckets * 3 / 4)
		table_grow(t);
	size_t i = fnv1a(word) & (t->nbuckets - 1);
	for (struct node *n = t->buckets[i]; n; n = n->next) {
		if (strcmp(n->word, word) == 0) {
			n->count += count;
			return;
		}
	}
	struct node *n = malloc(sizeof *n);
	if (!n || !(n->word = strdup(word)))
		abort();
	n->count = count;
	n->next = t->buckets[i];
	t->buckets[i] = n;
	t->nitems++;
}

/* table_free frees the nodes and the bucket array; free_words says whether the keys go too. */
static void table_free(struct table *t, int free_words)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		for (struct node *n = t->buckets[i], *next; n; n = next) {
			next = n->next;
			if (free_words)
				free(n->word);
			free(n);
		}
	}
	free(t->buckets);
}

/* The text: words built from syllables by a fixed LCG, with a skew so frequencies differ. */
static char *make_text(long nwords, size_t *len)
{
	static const char *const syl[] = { "ka", "lo", "mi", "ne", "su", "ta", "ri", "vo" };
	uint32_t x = 12345;
	size_t cap = 1024, n = 0;
	char *s = malloc(cap);
	for (long w = 0; w < nwords; w++) {
		x = x * 1103515245u + 12345u;
		unsigned r = (x >> 16) & 0x7fff;
		int nsyl = 1 + (int)(r % 3);
		char word[16];
		size_t wl = 0;
		for (int k = 0; k < nsyl; k++) {
			x = x * 1103515245u + 12345u;
			unsigned q = (x >> 16) & 0x7fff;
			const char *sy = syl[(q % 64) < 40 ? q % 3 : q % 8];
			word[wl++] = sy[0];
			word[wl++] = sy[1];
		}
		if (n + wl + 2 > cap) {
			cap *= 2;
			char *g = realloc(s, cap);
			if (!g)
				abort();
			s = g;
		}
		memcpy(s + n, word, wl);
		n += wl;
		s[n++] = ' ';
	}
	s[n] = 0;
	*len = n;
	return s;
}

struct part {
	const char *text;
	size_t from, to;
	struct table t;
	char *scratch;
};

static void *count_words(void *arg)
{
	struct part *p = arg;
	p->scratch = malloc(64); /* leaked on purpose: never freed */
	size_t i = p->from;
	while (i < p->to) {
		while (i < p->to && p->text[i] == ' ')
			i++;
		size_t j = i;
		while (j < p->to && p->text[j] != ' ')
			j++;
		if (j > i && j - i < 64) {
			memcpy(p->scratch, p->text + i, j - i);
			p->scratch[j - i] = 0;
			table_add(&p->t, p->scratch, 1);
		}
		i = j;
	}
	return NULL;
}

static int by_count(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->word, y->word);
}

int main(int argc, char **argv)
{
	long nwords = argc > 1 ? atol(argv[1]) : 200000;
	size_t len;
	char *text = make_text(nwords, &len);

	/* split at a space so no word is cut in two */
	size_t mid = len / 2;
	while (mid < len && text[mid] != ' ')
		mid++;
	struct part parts[2] = { { text, 0, mid, { 0 }, NULL }, { text, mid, len, { 0 }, NULL } };
	pthread_t th[2];
	for (int k = 0; k < 2; k++)
		if (pthread_create(&th[k], NULL, count_words, &parts[k]) != 0)
			return 2;
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);

	struct table all = { 0 };
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < parts[k].t.nbuckets; i++)
			for (struct node *n = parts[k].t.buckets[i]; n; n = n->next)
				table_add(&all, n->word, n->count);
		table_free(&parts[k].t, 1);
	}

	struct node **list = NULL;
	size_t nlist = 0;
	for (size_t i = 0; i < all.nbuckets; i++) {
		for (struct node *n = all.buckets[i]; n; n = n->next) {
			struct node **g = realloc(list, (nlist + 1) * sizeof *list);
			if (!g)
				abort();
			list = g;
			list[nlist++] = n;
		}
	}
	qsort(list, nlist, sizeof *list, by_count);
	say("%ld words, %zu distinct\n", nwords, nlist);
	for (size_t i = 0; i < nlist && i < 10; i++)
		say("%8ld %s\n", list[i]->count, list[i]->word);
	free(list);
	table_free(&all, 0); /* the merged table's keys leak on purpose */
	free(text);
	return 0;
}
