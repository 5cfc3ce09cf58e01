/* test_memory_bound.c: the reader's memory on big traces. Two traces are written on the fly in
 * $TMPDIR (and deleted): 1 GiB in a single generation, and a million generations. `xtrace
 * stats` must read each to the end under an address-space limit of the file's size (the reader
 * maps its input) plus 256 MiB, which a reader that copied the file, or kept anything per
 * generation or per event, could not stay under; it must count every event exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/resource.h>

#include "format.h"
#include "harness.h"
#include "spec.h"
#include "tracegen.h"
#include "varint.h"

struct writer {
	FILE *f;
	uint64_t size;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (fwrite(p, 1, n, w->f) != n)
		fail_msg("write: %s", strerror(errno));
	w->size += n;
}

/* batch writes one batch: kind, gen, thread, time, then the payload with its size. */
static void batch(struct writer *w, uint8_t kind, uint64_t gen, uint64_t thread, uint64_t time,
		  const uint8_t *data, size_t len)
{
	uint8_t head[1 + 4 * XT_MAX_VARINT], *p = head;
	*p++ = kind;
	p = xt_put_uvarint(p, gen);
	p = xt_put_uvarint(p, thread);
	p = xt_put_uvarint(p, time);
	p = xt_put_uvarint(p, len);
	put(w, head, (size_t)(p - head));
	put(w, data, len);
}

static void sync_end(struct writer *w, uint64_t gen, uint64_t time, uint64_t nbatches)
{
	uint8_t s[3 * XT_MAX_VARINT], *p = s;
	p = xt_put_uvarint(p, XT_TICKS_PER_SEC);
	p = xt_put_uvarint(p, 1700000000);
	p = xt_put_uvarint(p, 0);
	batch(w, XT_BATCH_SYNC, gen, 0, time, s, (size_t)(p - s));
	uint8_t e[2 * XT_MAX_VARINT], *q = e;
	q = xt_put_uvarint(q, nbatches + 1);
	q = xt_put_uvarint(q, 0);
	batch(w, XT_BATCH_END, gen, 0, time, e, (size_t)(q - e));
}

static void open_trace(struct writer *w, const char *path)
{
	w->f = fopen(path, "wb");
	if (!w->f)
		fail_msg("%s: %s", path, strerror(errno));
	w->size = 0;
	struct tg *t = tg_new(NULL);
	size_t len;
	const uint8_t *hdr = tg_data(t, &len);
	put(w, hdr, len);
	tg_free(t);
}

/* stats_limited runs `xtrace stats --json path` with RLIMIT_AS at the file's size plus 256 MiB
 * and returns its stdout (h_free it); the exit must be 0. */
static char *stats_limited(const char *path, uint64_t file_size)
{
	const char *dir = h_tmpdir();
	char out[PATH_MAX];
	h_fmt(out, sizeof out, "%s/stats.json", dir);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit lim = { file_size + (256u << 20), file_size + (256u << 20) };
		setrlimit(RLIMIT_AS, &lim);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		execl(h_cli_path(), "xtrace", "stats", "--json", path, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("xtrace stats %s under an address-space limit of %llu MiB: wait status 0x%x",
			 path, (unsigned long long)((file_size >> 20) + 256), st);
	size_t len;
	return h_track(h_read_file(out, &len));
}

/* 1 GiB, one generation, one thread: batches of ObjectFree events of far-apart addresses (9
 * and 10 byte address deltas keep the event count, and the test's time, down). */
static void test_one_generation_of_1gib(void **state)
{
	const char *dir = h_tmpdir();
	char path[PATH_MAX];
	h_fmt(path, sizeof path, "%s/big.xt", dir);
	struct writer w;
	open_trace(&w, path);
	static uint8_t data[XT_MAX_BATCH_SIZE];
	size_t len = 0;
	uint64_t events_per_batch = 0, nb = 0, addr = 0;
	for (;;) {
		uint8_t ev[2 + XT_MAX_VARINT], *p = ev;
		uint64_t next = addr ? 0 : (uint64_t)1 << 62;
		*p++ = XT_EV_ObjectFree;
		*p++ = 0;
		p = xt_put_uvarint(p, xt_zigzag((int64_t)(next - addr)));
		if (len + (size_t)(p - ev) > sizeof data)
			break;
		memcpy(data + len, ev, (size_t)(p - ev));
		len += (size_t)(p - ev);
		addr = next;
		events_per_batch++;
	}
	/* every batch starts from address 0 again: the same bytes each time */
	while (w.size < (1ull << 30)) {
		batch(&w, XT_BATCH_EVENTS, 1, 77, 1000, data, len);
		nb++;
	}
	sync_end(&w, 1, 1000, nb);
	fclose(w.f);
	char *js = stats_limited(path, w.size);
	unlink(path);
	assert_int_equal(h_json_u64(js, "generations"), 1);
	assert_int_equal(h_json_u64(js, "events"), nb * events_per_batch);
	assert_int_equal(h_json_u64(js, "frees"), nb * events_per_batch);
	h_free(js);
}

/* A million generations, each with one thread's event, a Sync and an End. */
static void test_a_million_generations(void **state)
{
	const char *dir = h_tmpdir();
	char path[PATH_MAX];
	h_fmt(path, sizeof path, "%s/many.xt", dir);
	struct writer w;
	open_trace(&w, path);
	setvbuf(w.f, NULL, _IOFBF, 1 << 20);
	const uint8_t ev[] = { XT_EV_ObjectFree, 1, 2 };
	for (uint64_t g = 1; g <= 1000000; g++) {
		batch(&w, XT_BATCH_EVENTS, g, 1 + g % 7, 100 * g, ev, sizeof ev);
		sync_end(&w, g, 100 * g, 1);
	}
	fclose(w.f);
	char *js = stats_limited(path, w.size);
	unlink(path);
	assert_int_equal(h_json_u64(js, "generations"), 1000000);
	assert_int_equal(h_json_u64(js, "events"), 1000000);
	assert_int_equal(h_json_u64(js, "threads"), 7);
	h_free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_generation_of_1gib),
		cmocka_unit_test(test_a_million_generations),
	};
	return h_finish(cmocka_run_group_tests_name("memory_bound", tests, NULL, NULL));
}
