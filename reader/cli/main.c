/* main.c: the xtrace command: a table of subcommands and the dispatch to them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The options of every command that shows allocation sites. */
#define SITE_FRAMES_HELP                                                                        \
	"  --alloc-fn NAME  the program's own allocation function: its callers are the sites\n"    \
	"                   (repeatable; the readable name or the raw symbol)\n"                  \
	"  --keep-allocator-frames  keep malloc, operator new and the standard library's frames\n" \
	"                   at the sites' end (README: Names, inlined calls and allocation sites)\n"

/* --heap, of every command that reads the heap. */
#define HEAP_HELP                                                                               \
	"  --heap NAME      the heap to analyse: a heap the program named (xtrace_heap, include/\n" \
	"                   xtrace.h), mmap (the program's own maps) or malloc (default); a name\n" \
	"                   the trace lacks lists its heaps\n"

static const struct xt_command commands[] = {
	{"run", "run a program and every process it starts with heap tracing", cmd_run,
	 "xtrace run [-o DIR] [--] PROGRAM [ARGS...]\n"
	 "Runs PROGRAM with the tracing library preloaded: every process of its tree (forks, execs,\n"
	 "their children) writes its trace into one run directory, which ends with an index\n"
	 "(index.json); a summary goes to stderr. Exits as PROGRAM did.\n"
	 "  -o, --output DIR  the run directory, new or empty (default xtrace.PROGRAM.PID)\n"},
	{"dump", "print every event of a trace, one per line", cmd_dump,
	 "xtrace dump [--stacks] [--no-symbols] FILE|DIR\n"
	 "Prints the header, each generation's Sync and every event in time order.\n"
	 "  --stacks      print every frame of each event's stacks below it, the calls inlined at\n"
	 "                each address first, marked (inlined)\n"
	 "  --no-symbols  with --stacks, show module+offset instead of function file:line\n"},
	{"stats", "print a trace's totals: events, threads, allocations, peak heap", cmd_stats,
	 "xtrace stats [--json] [--heap NAME] FILE|DIR\n"
	 "Of a run directory: the tree's totals, then a row per process image. Each heap gets a\n"
	 "row (JSON: heaps); with the address space traced, the heap against mapped against\n"
	 "resident memory, their peaks, ends and a time series (JSON: memory).\n"
	 "  --json           print one JSON object instead of tables\n"
	 "  --heap NAME      the heap of the totals (allocations, frees, peak, live at end)\n"},
	{"validate", "check a trace's heap events against its live set", cmd_validate,
	 "xtrace validate [--heap NAME] FILE|DIR\n"
	 "Reports allocations of live addresses and frees of addresses that are not live, each\n"
	 "heap against its own live set; exits 1 if there is any.\n"
	 "  --heap NAME      check only that heap (malloc, or one the program named)\n"},
	{"timers", "list a trace's timers, their settings and expirations, and timer call counts",
	 cmd_timers,
	 "xtrace timers [--json] FILE|DIR\n"
	 "Per timer: kind, clock, creation site, settings over time, expirations, overruns, and\n"
	 "whether it was deleted or still armed at exit; then calls per API and expirations.\n"
	 "  --json  print one JSON object instead\n"},
	{"top", "rank allocation sites by allocations, bytes, peak, temporary or leaked", cmd_top,
	 "xtrace top [--by allocs|bytes|peak|temporary|leaked] [--group stack|function|line|region]\n"
	 "           [-n N] [--region NAME] [--heap NAME] [--json|--tsv] FILE|DIR\n"
	 "  --by METRIC    rank by: allocs, bytes (default), peak (live bytes at the process's peak),\n"
	 "                 temporary (freed right after an allocation of the same stack and\n"
	 "                 size, heaptrack's definition), leaked\n"
	 "  --group G      sites are whole stacks, or the innermost function (default), line, region\n"
	 "  -n N           show the first N (default 10)\n"
	 "  --region NAME  only allocations made inside region NAME (include/xtrace.h)\n"
	 "  --json, --tsv  machine-readable output\n"
	 HEAP_HELP SITE_FRAMES_HELP},
	{"leaks", "list the objects still live at the end, by allocating stack", cmd_leaks,
	 "xtrace leaks [--group stack|function|line|region] [-n N] [--heap NAME] [--json] FILE|DIR\n"
	 "  --group G  group by whole stack (default), function, line or region\n"
	 "  -n N       show the first N groups (default all)\n"
	 HEAP_HELP SITE_FRAMES_HELP},
	{"peak", "when the live heap peaked, how high, and which sites held it", cmd_peak,
	 "xtrace peak [--group stack|function|line|region] [-n N] [--heap NAME] [--json|--tsv]\n"
	 "            FILE|DIR\n"
	 "Of a run directory: first the tree's peak (the largest sum of the processes' live heaps).\n"
	 "  --group G  group by stack, function (default), line or region\n"
	 "  -n N       show the first N (default 10)\n"
	 HEAP_HELP SITE_FRAMES_HELP},
	{"flame", "allocation stacks as collapsed-stack lines or an SVG flame graph", cmd_flame,
	 "xtrace flame [--by METRIC] [--region NAME] [--heap NAME] [--svg OUT] FILE|DIR\n"
	 "Prints 'outer;...;inner VALUE' lines (flamegraph.pl, inferno, speedscope read them).\n"
	 "  --by METRIC  allocs, bytes (default), peak, temporary or leaked\n"
	 "  --svg OUT    write a self-contained SVG flame graph to OUT instead\n"
	 HEAP_HELP SITE_FRAMES_HELP},
	{"export", "write a trace for other tools: Chrome trace-event JSON, CSV, pprof, speedscope",
	 cmd_export,
	 "xtrace export --format chrome|csv|pprof|speedscope -o OUT [--region NAME] [--heap NAME]\n"
	 "              FILE|DIR\n"
	 "  --format chrome      trace-event JSON (Perfetto): live heap and allocation rate counters,\n"
	 "                       regions and sleeps as slices, logs and timer events as instants,\n"
	 "                       per thread\n"
	 "  --format csv         one row per event: gen,time_ns,thread,event,addr,size,api,region,detail\n"
	 "  --format pprof       the allocation sites as a gzipped profile.proto, as Go writes a heap\n"
	 "                       profile (go tool pprof): alloc_objects, alloc_space, inuse_objects,\n"
	 "                       inuse_space (live at the end); labels region, heap, and pid and exe\n"
	 "                       of a run's processes\n"
	 "  --format speedscope  speedscope's JSON: a profile per thread, its allocation stacks\n"
	 "                       weighted by the bytes requested\n"
	 "  -o OUT               the output file ('-': stdout)\n"
	 "  --region NAME        CSV, pprof, speedscope: only events or allocations inside region\n"
	 "                       NAME; chrome: only its allocations in the allocation rate\n"
	 "  --heap NAME          chrome: the heap of the counters; pprof, speedscope: the heap whose\n"
	 "                       allocations they hold (default malloc)\n"
	 SITE_FRAMES_HELP},
	{"report", "write one self-contained HTML report: heap chart, sites, flame graph, events",
	 cmd_report,
	 "xtrace report -o OUT.html [--heap NAME] FILE|DIR\n"
	 "Writes an HTML file that needs no network: totals, the live heap over time (with the\n"
	 "address space traced, against mapped and resident memory), the top sites, a flame graph\n"
	 "and the timer, sleep, region and log events.\n"
	 HEAP_HELP SITE_FRAMES_HELP},
	{"diff", "compare two traces: totals and sites, matched by symbolized frames", cmd_diff,
	 "xtrace diff [--by METRIC] [--group G] [-n N] [--region NAME] [--heap NAME]\n"
	 "            [--fail-above PCT] [--json|--tsv] A B\n"
	 "A and B are traces or run directories (processes matched by place in the tree).\n"
	 "  --by METRIC       sites compared by allocs, bytes (default), peak, temporary, leaked\n"
	 "                    (xtrace's conventions: realloc is an allocation and a free, bytes\n"
	 "                    are requested bytes, temporary is heaptrack's definition; README,\n"
	 "                    \"Agreeing with heaptrack and valgrind\")\n"
	 "  --group G         stack, function (default), line or region\n"
	 "  -n N              show the N sites that changed most (default 20)\n"
	 "  --fail-above PCT  exit 4 when the METRIC total of B is more than PCT% above A's\n"
	 HEAP_HELP SITE_FRAMES_HELP},
	{"ctl", "switch a traced process's recording on or off, snapshot it, ask its status", cmd_ctl,
	 "xtrace ctl PID start|stop|snapshot|status\n"
	 "Speaks to the running process PID over its control socket (same user or root only).\n"
	 "  start     record from now on (a process started with XTRACE_START=stopped, or stopped)\n"
	 "  stop      close the generation being recorded and record nothing more until start\n"
	 "  snapshot  write what is recorded now (with XTRACE_FLIGHT, the flight recorder's\n"
	 "            generations, as a trace of its own) and print the file's path\n"
	 "  status    say what the shim is doing: recording or stopped, the generation, the file\n"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs("usage: xtrace COMMAND [ARGS...]\n\ncommands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'xtrace COMMAND --help' describes a command. Exit codes: 0 ok, 1 corrupt input or\n"
	      "validation failure, 2 usage error, 3 truncated trace (complete generations used),\n"
	      "4 diff --fail-above regression.\n"
	      "--no-symbols, given to any command that reads traces, opens no file the trace names\n"
	      "(no symbolization: frames show module+offset); use it on traces you do not trust.\n"
	      "Every command that reads a trace FILE also takes a run directory (xtrace run), and\n"
	      "--pid PID and --exe NAME to choose its processes.\n", f);
}

static const struct xt_command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return XT_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (argc > 2 && find(argv[2]))
			return cli_help(find(argv[2]));
		usage(stdout);
		return XT_EXIT_OK;
	}
	const struct xt_command *cmd = find(name);
	if (!cmd) {
		cli_warn("unknown command '%s'", name);
		usage(stderr);
		return XT_EXIT_USAGE;
	}
	/* --no-symbols means the same to every command that reads a trace, so it is taken here
	 * (run's arguments are the program's). */
	if (cmd->fn != cmd_run) {
		int n = 2;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--") == 0) {
				while (i < argc)
					argv[n++] = argv[i++];
				break;
			}
			if (strcmp(argv[i], "--no-symbols") == 0)
				cli_no_symbols = 1;
			else
				argv[n++] = argv[i];
		}
		argv[n] = NULL;
		argc = n;
	}
	return cmd->fn(argc - 1, argv + 1, cmd);
}
