/* make_seeds.c: writes the hand-made seeds of the fuzz corpus (tests/fuzz/corpus/edge-*.xt)
 * with the test trace builder: shapes the shim rarely writes but a reader must take, so the
 * fuzzer starts from them (`make fuzz-seeds` rewrites them). Usage: make_seeds DIR */
#include <stdio.h>
#include <stdlib.h>

#include "allocfree.h"
#include "tracegen.h"

static void tables(struct tg *t, uint64_t time)
{
	tg_batch(t, XT_BATCH_STRINGS, 0, time);
	tg_string(t, 1, "/nonexistent/lib.so");
	tg_string(t, 2, "region");
	tg_string(t, 1000000, "sparse id");
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_STACKS, 0, time);
	tg_stack(t, 1, 3, (const uint64_t[]){0x1010, 0x1020, 0x2000});
	tg_stack(t, 7, 1, (const uint64_t[]){0xffffffffffffffffull});
	tg_batch_end(t);
	tg_batch(t, XT_BATCH_MODULES, 0, time);
	static const uint8_t bid[20] = {1, 2, 3};
	tg_module(t, 1, 1, 0x1000, 0x1000, 0x3000, bid, sizeof bid);
	tg_module(t, 2, 0, 0, 0, 0xffffffffffffffffull, NULL, 0);
	tg_batch_end(t);
	tg_exp_batch(t, XT_EXP_ALLOCFREE, time);
	tg_u8(t, XT_ALLOCFREE_BATCH_TYPES);
	tg_alloc_type(t, 1, 0, 64, 1, 0);
	tg_alloc_type(t, 2, 4, 1ull << 40, 1ull << 40, 4096);
	tg_alloc_type(t, 3, 200, 8, 8, 8); /* an API no reader knows */
	tg_batch_end(t);
}

static void events(struct tg *t, uint64_t thread, uint64_t time)
{
	tg_batch(t, XT_BATCH_EVENTS, thread, time);
	tg_event(t, XT_EV_UserRegionBegin, 1, 2, 1);
	tg_event(t, XT_EV_ObjectAlloc, 5, 0x5000, 1, 1);
	tg_event(t, XT_EV_ObjectAlloc, 0, 0, 2, 7);          /* failed */
	tg_event(t, XT_EV_ObjectAlloc, 1, 0x5000, 3, 0);     /* live address again */
	tg_event(t, XT_EV_ObjectFreeRecent, 1, 0);           /* by reference: the latest */
	tg_event(t, XT_EV_ObjectReallocFreeRecent, 1, 1);    /* the failed one: address 0 */
	tg_event(t, XT_EV_ObjectReallocFree, 2, 0x5000);
	tg_event(t, XT_EV_ObjectFree, 3, 0x9000);            /* never allocated */
	tg_event(t, XT_EV_ObjectAllocReused, 1, 0, 1, 1);    /* by reference: 0x9000 again */
	tg_event(t, XT_EV_ObjectAllocReused, 1, 2, 2, 0);    /* the free of address 0 */
	tg_event(t, XT_EV_ObjectReallocFreeRecent, 1, 1);    /* 0x9000, allocated by reference */
	tg_event(t, XT_EV_ObjectAllocReused, 0, 0, 3, 7);    /* realloc keeping the address */
	tg_event(t, XT_EV_TimerCreate, 1, 1, 0, 1, 0, 1);
	tg_event(t, XT_EV_TimerSet, 1, 1, 0, 1000, 1000, 1);
	tg_event(t, XT_EV_TimerFire, 1, 1, 0, 3, 0);
	tg_event(t, XT_EV_TimerDelete, 1, 1, 0, 1);
	tg_event(t, XT_EV_UserRegionEnd, 1, 2);
	tg_batch_end(t);
}

/* specs writes a Specs batch: AllocFree and Timers as built in (or AllocFree at another version,
 * which a reader decodes from the description), and a run-time experiment with an argument of
 * every kind and a begin/end pair. */
static void specs(struct tg *t, uint64_t time, unsigned allocfree_version)
{
	static const char *const open_args[] = {"obj_addr", "label_string", "site_stack", "kind_type",
						"wait_ns"};
	static const char *const shut_args[] = {"obj_addr", "timer"};
	tg_batch(t, XT_BATCH_SPECS, 0, time);
	tg_spec_builtin(t, XT_EXP_TIMERS);
	if (allocfree_version == xt_experiments[XT_EXP_ALLOCFREE].version) {
		tg_spec_builtin(t, XT_EXP_ALLOCFREE);
	} else {
		tg_spec_experiment(t, XT_EXP_ALLOCFREE, "AllocFree", allocfree_version);
		tg_uvarint(t, 0);
		tg_uvarint(t, 0);
	}
	tg_spec_experiment(t, 20, "Runtime", 1);
	tg_uvarint(t, 1);
	tg_spec_table(t, 0, "things");
	tg_uvarint(t, 2);
	tg_spec_event(t, 220, "ThingOpen", 0, 0, 5, open_args);
	tg_spec_event(t, 221, "ThingShut", 220, 0, 2, shut_args);
	tg_batch_end(t);
}

static void runtime_events(struct tg *t, uint64_t thread, uint64_t time)
{
	tg_batch(t, XT_BATCH_EVENTS, thread, time);
	tg_event(t, 220, 1, 0x7000, 2, 1, 5, 1000);
	tg_event(t, XT_EV_TimerFire, 1, 1, 0, 3, 0);
	tg_event(t, 221, 1, 0x6000, 1);
	tg_batch_end(t);
}

static void write(struct tg *t, const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/edge-%s.xt", dir, name);
	if (tg_write(t, path, TG_ALL) != 0) {
		perror(path);
		exit(1);
	}
	tg_free(t);
}

/* records writes dir/name: three generations, the first and third compressed by record (the
 * third cut short). */
static int records(const char *dir, const char *name,
		   uint64_t (*record)(struct tg *, uint64_t, uint64_t))
{
	struct tg *z = tg_new(NULL);
	for (uint64_t g = 1; g < 4; g++) {
		uint64_t at = tg_offset(z);
		tg_gen(z, g);
		tables(z, 100 * g);
		events(z, 1, 100 * g);
		tg_sync(z, 100 * g, 1000000000, 1700000000, 0);
		tg_end(z, 0);
		if (g != 2)
			record(z, at, 0);
	}
	size_t zlen;
	tg_data(z, &zlen);
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int rc = tg_write(z, path, zlen - 5);
	if (rc != 0)
		perror(path);
	tg_free(z);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	/* two threads, every table, three generations starting at 5 */
	struct tg *t = tg_new(NULL);
	for (uint64_t g = 5; g < 8; g++) {
		tg_gen(t, g);
		tables(t, 100 * g);
		events(t, 1, 100 * g);
		events(t, 2, 100 * g + 1);
		tg_sync(t, 100 * g, 1000000000, 1700000000, 0);
		tg_end(t, g == 6 ? 3 : 0);
	}
	write(t, argv[1], "tables");

	/* a forked child's header, a generation with a Sync only, then one cut short */
	struct tg_header h = tg_default_header;
	h.fork_parent_pid = 41;
	h.fork_ts = 10;
	struct tg *c = tg_new(&h);
	tg_gen(c, 1);
	tg_sync(c, 20, 1000000000, 1, 2);
	tg_end(c, 0);
	tg_gen(c, 2);
	events(c, 3, 30);
	write(c, argv[1], "fork-cut");

	/* one thread's events over many batches of one generation, timestamps out of order */
	struct tg *m = tg_new(NULL);
	tg_gen(m, 1);
	tables(m, 1);
	for (int i = 0; i < 6; i++)
		events(m, (uint64_t)(i % 2 + 1), (uint64_t)(1000 - 100 * i));
	tg_sync(m, 1, 3000000000ull, 1, 2);
	tg_end(m, 0);
	write(m, argv[1], "batches");

	/* self-described generations: AllocFree as built in, then at another version (its events
	 * and batch then decoded from the description alone), beside a run-time experiment */
	struct tg *d = tg_new(NULL);
	for (uint64_t g = 1; g < 3; g++) {
		tg_gen(d, g);
		specs(d, 100 * g, g == 1 ? 1 : 2);
		tables(d, 100 * g);
		runtime_events(d, 1, 100 * g);
		if (g == 1)
			events(d, 2, 100 * g);
		tg_sync(d, 100 * g, 1000000000, 1700000000, 0);
		tg_end(d, 0);
	}
	write(d, argv[1], "specs");

	/* compressed generations: one, a plain one, then one whose record is cut; as records of
	 * plain batches and of columns */
	if (records(argv[1], "edge-zstd.xt", tg_zstd) != 0 ||
	    records(argv[1], "edge-columns.xt", tg_zstd_columns) != 0)
		return 1;
	return 0;
}
