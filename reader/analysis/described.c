/* described.c: the generic events of a trace counted by experiment and event name (described.h).
 * Names are the generation's: each type's are copied at its first event of a generation, and
 * entries of equal names merged once, at the end, by sorting, so a trace that renames its
 * events every generation costs no more than a pass. */
#include "described.h"
#include "sites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xt_described_event(struct xt_described *d, const struct xtrace_event *ev)
{
	if (ev->kind == XTRACE_EVENT_SYNC) {
		memset(d->slot, 0, sizeof d->slot);
		return 0;
	}
	if (!ev->generic)
		return 0;
	if (!d->slot[ev->type]) {
		if (xt_grow(&d->c, &d->cap, d->n + 1, sizeof *d->c) < 0)
			return -1;
		struct xt_described_count *c = &d->c[d->n++];
		snprintf(c->experiment, sizeof c->experiment, "%s", ev->experiment_name);
		snprintf(c->event, sizeof c->event, "%s", ev->name);
		c->count = 0;
		d->slot[ev->type] = d->n;
	}
	d->c[d->slot[ev->type] - 1].count++;
	return 0;
}

static int count_cmp(const void *a, const void *b)
{
	const struct xt_described_count *x = a, *y = b;
	int c = strcmp(x->experiment, y->experiment);
	return c ? c : strcmp(x->event, y->event);
}

void xt_described_merge(struct xt_described *d)
{
	if (!d->n)
		return;
	qsort(d->c, d->n, sizeof *d->c, count_cmp);
	size_t m = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (m && count_cmp(&d->c[m - 1], &d->c[i]) == 0)
			d->c[m - 1].count += d->c[i].count;
		else
			d->c[m++] = d->c[i];
	}
	d->n = m;
	memset(d->slot, 0, sizeof d->slot);
}

void xt_described_free(struct xt_described *d)
{
	free(d->c);
	memset(d, 0, sizeof *d);
}
