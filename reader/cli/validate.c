/* validate.c: `xtrace validate`: replays the heap events through the live sets (the same pass
 * stats makes), each heap's against its own, and lists the events that contradict them: an
 * allocation of a live address, a free of an address that is not live. Exit 1 if there is any. */
#include <unistd.h>

#include "analysis/summary.h"
#include "cli.h"
#include "options.h"

/* Enough to see a pattern; the rest are counted. */
#define MAX_LISTED 20

struct listing {
	struct xt_out *o;
	uint64_t listed;
};

static void on_issue(void *ctx, const xtrace_reader *r, const struct xtrace_event *ev,
		     enum xt_heap_check check)
{
	struct listing *l = ctx;
	if (check == XT_HEAP_INHERITED_FREE || check == XT_HEAP_UNRECORDED_FREE ||
	    l->listed >= MAX_LISTED)
		return;
	l->listed++;
	xt_out_str(l->o, "error: ");
	cli_put_event(l->o, r, ev);
	xt_out_str(l->o, ": ");
	xt_out_str(l->o, xt_heap_check_name(check));
	xt_out_char(l->o, '\n');
}

int cmd_validate(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	const char *path;
	int code;
	xtrace_reader *r = cli_open_options(cmd, argc, argv, CLI_EACH_IMAGE | CLI_HEAP, &opt, &path, &code);
	if (!r)
		return code;
	struct xt_out o;
	if (xt_out_open(&o, STDOUT_FILENO, XT_STDOUT_BUFFER) < 0) {
		cli_warn("out of memory");
		xtrace_close(r);
		return XT_EXIT_FAIL;
	}
	struct listing l = {.o = &o};
	struct xt_summary s;
	/* without --heap, every heap is checked */
	struct xt_pass pass = {.analyses = XT_AN_BIT(XT_AN_MALLOC_HEAP) | XT_AN_BIT(XT_AN_HEAPS),
			       .heap = cli_heap, .issue = on_issue, .check_every_heap = !cli_heap,
			       .ctx = &l};
	enum xtrace_status st = xt_summarize_pass(r, &s, &pass);
	if (st != XTRACE_ERR_NOMEM && cli_heap_missing(path, &s)) {
		xt_summary_destroy(&s);
		xt_out_close(&o);
		xtrace_close(r);
		return XT_EXIT_USAGE;
	}
	const struct xt_heap *hp = s.selected;
	uint64_t errors = hp->errors, inherited = hp->inherited_frees,
		 unrecorded = hp->unrecorded_frees;
	for (size_t i = 0; !cli_heap && i < s.heaps.n; i++) {
		errors += s.heaps.heap[i]->heap.errors;
		inherited += s.heaps.heap[i]->heap.inherited_frees;
		unrecorded += s.heaps.heap[i]->heap.unrecorded_frees;
	}

	if (errors > l.listed)
		xt_out_printf(&o, "... and %llu more errors\n", (unsigned long long)(errors - l.listed));
	if (st == XTRACE_OK || st == XTRACE_ERR_TRUNCATED) {
		xt_out_printf(&o, "%s: ", errors ? "invalid" : "valid");
		if (errors)
			xt_out_printf(&o, "%llu errors in ", (unsigned long long)errors);
		xt_out_printf(&o, "%llu events, %llu generations", (unsigned long long)s.events,
			      (unsigned long long)s.generations);
		if (xtrace_get_header(r)->fork_parent_pid)
			xt_out_printf(&o, ", %llu frees of objects inherited at fork",
				      (unsigned long long)inherited);
		if (s.gaps)
			xt_out_printf(&o, ", %llu gap%s in the recording (switched off, "
				      "generations not kept, or events lost): %llu frees of objects "
				      "allocated in them",
				      (unsigned long long)s.gaps, s.gaps == 1 ? "" : "s",
				      (unsigned long long)unrecorded);
		xt_out_str(&o, st == XTRACE_OK ? "\n" : " (complete generations of a truncated trace)\n");
	}
	code = cli_finish(&o, r, path, st);
	if (errors)
		code = XT_EXIT_FAIL;
	xt_summary_destroy(&s);
	xtrace_close(r);
	return code;
}
