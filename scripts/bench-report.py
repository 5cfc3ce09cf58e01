#!/usr/bin/env python3
"""scripts/bench-report.py: prints the `make bench` table from the raw measurements that
scripts/bench.sh writes (bench.tsv: one "KEY<TAB>VALUE" line per measurement, a KEY once per
round, in round order). Every figure is the median over the rounds of a per-round value, so a
ratio or a difference compares runs of the same round.

    bench-report.py build/bench/run/bench.tsv
"""
import statistics
import sys


def load(path):
    data = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            data.setdefault(key, []).append(value)
    return data


def main():
    if len(sys.argv) != 2:
        print("usage: bench-report.py BENCH.TSV", file=sys.stderr)
        return 2
    raw = load(sys.argv[1])
    meta = {k[5:]: v[0] for k, v in raw.items() if k.startswith("meta.")}
    num = {k: [float(x) for x in v] for k, v in raw.items() if not k.startswith("meta.")}

    def has(*keys):
        return all(k in num for k in keys)

    def per_round(fn, *keys):
        """median over rounds of fn(values of keys in that round)"""
        if not has(*keys):
            return None
        n = min(len(num[k]) for k in keys)
        vals = [fn(*(num[k][i] for k in keys)) for i in range(n)]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    def med(key):
        return per_round(lambda v: v, key)

    def ratio(a, b):
        return per_round(lambda x, y: x / y if y else None, a, b)

    def fmt(v, spec, none="-"):
        return none if v is None else format(v, spec)

    def table(header, rows, aligns):
        widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

        def line(r):
            cells = []
            for i, c in enumerate(r):
                c = str(c)
                cells.append(c.ljust(widths[i]) if aligns[i] == "l" else c.rjust(widths[i]))
            return "  ".join(cells).rstrip()

        out = [line(header), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in rows]
        return "\n".join(out)

    threads = int(meta.get("threads", "2"))
    iters = int(meta.get("iters", "1000000"))
    events = med("main.dwarf.events")
    print()
    print("xtrace bench: mtloop, %d threads x %d iterations of free+malloc (%s heap events), "
          "medians of %s rounds" % (threads, iters, fmt(events, ".0f", "?"), meta.get("rounds", "?")))
    print("tree: %s" % meta.get("rev", "?"))
    print("machine: %s CPUs (%s), Linux %s, %s; %s; load average at start %s" % (
        meta.get("cpus", "?"), meta.get("cpu", "?"), meta.get("kernel", "?"),
        meta.get("glibc", "?"), meta.get("heaptrack", "heaptrack ?"), meta.get("load", "?")))
    print()

    # --- recording -------------------------------------------------------------------------
    rows = []
    u = "main.untraced"
    rows.append(["untraced", fmt(med(u + ".wall"), ".3f"), "1.00", "-",
                 fmt(med(u + ".rss") and med(u + ".rss") / 1024, ".1f"), "-", "-", "-"])
    def recording(label, k, events, sizes):
        """A recording row: wall, its ratio, added CPU a heap event, RSS and what it adds."""
        return [
            label,
            fmt(med(k + ".wall"), ".3f"),
            fmt(ratio(k + ".wall", u + ".wall"), ".2f"),
            fmt(per_round(lambda c, cu, e: (c - cu) / e * 1e9, k + ".cpu", u + ".cpu", events), ".0f"),
            fmt(med(k + ".rss") / 1024, ".1f"),
            fmt(per_round(lambda a, b: (a - b) / 1024, k + ".rss", u + ".rss"), "+.1f"),
        ] + sizes

    k = "main.interposed"
    if has(k + ".wall"):
        rows.append(recording("interposed, not recording", k, "main.dwarf.events", ["-", "-"]))
    for mode in ("dwarf", "libunwind", "fp", "none"):
        k = "main." + mode
        if not has(k + ".wall"):
            continue
        rows.append(recording("xtrace " + mode, k, k + ".events", [
            fmt(ratio(k + ".bytes", k + ".events"), ".2f") + "*",
            fmt(ratio(k + ".zbytes", k + ".events"), ".2f"),
        ]))
    k = "main.plain"
    if has(k + ".wall"):
        rows.append(recording("xtrace dwarf, written plain", k, k + ".events",
                              [fmt(ratio(k + ".bytes", k + ".events"), ".2f"), "-"]))
    h = "main.heaptrack"
    if has(h + ".wall"):
        ev = "main.dwarf.events"
        rows.append([
            "heaptrack (traced process)",
            fmt(med(h + ".wall"), ".3f"),
            fmt(ratio(h + ".wall", u + ".wall"), ".2f"),
            fmt(per_round(lambda c, cu, e: (c - cu) / e * 1e9, h + ".app.cpu", u + ".cpu", ev), ".0f"),
            fmt(med(h + ".app.rss") / 1024, ".1f"),
            fmt(per_round(lambda a, b: (a - b) / 1024, h + ".app.rss", u + ".rss"), "+.1f"),
            fmt(ratio(h + ".rawbytes", ev), ".2f"),
            fmt(ratio(h + ".bytes", ev), ".2f") + "*",
        ])
        rows.append([
            "  + heaptrack_interpret|zstd",
            "", "",
            fmt(per_round(lambda c, a, e: (c - a) / e * 1e9, h + ".cpu", h + ".app.cpu", ev), ".0f"),
            fmt(med(h + ".interp.rss") / 1024, ".1f"),
            "", "", "",
        ])
    print("Recording")
    print(table(["", "wall s", "x untraced", "+CPU ns/event", "peak RSS MiB", "+RSS MiB",
                 "B/event raw", "B/event zstd"], rows, "lrrrrrrr"))
    print("""
  wall s         elapsed time of the traced program; for heaptrack until its compressed file is
                 complete (heaptrack's launcher waits for the interpreter the same way)
  x untraced     wall time / the untraced wall time of the same round
  +CPU ns/event  (user+sys CPU of the traced process - that of the untraced run) / heap events
                 (malloc-family calls and frees, from `xtrace stats --json` "events"); robust to
                 the thread count. The "+ heaptrack_interpret|zstd" row is the CPU of heaptrack's
                 separate interpreter and compressor processes, per event, on top of that
  peak RSS MiB   max resident set of the traced process (heaptrack: of the program alone; its
                 interpreter process has the RSS of the next row); xtrace has no helper process
  B/event        trace bytes / heap events; * marks the file as written by default. xtrace
                 writes zstd-compressed generations (raw = that file; zstd = the file through
                 `zstd -3` once more); heaptrack writes zstd (raw = the same file decompressed)
  interposed     libxtrace.so preloaded with a trace file it cannot create: it says so once
                 and passes every call through, recording nothing
  stacks         dwarf (the default: cached DWARF rules, libunwind where they cannot follow),
                 libunwind (unw_backtrace alone) and heaptrack: full stacks; fp: frame-pointer walk (the
                 workload has frame pointers, Debian's glibc has none, so walks stop in libc),
                 none: the calling address only
  written plain  dwarf with XTRACE_COMPRESS=0: the batches as they are, no zstd on the shim's
                 thread (its CPU and B/event against the dwarf row: what compression costs)""")

    # --- floors ----------------------------------------------------------------------------
    # A floor is a line measured in the same run below which no xtrace setting can go (for the
    # reader: above which no analysis can go). The Targets table names each missed target's.
    programs = ("perl", "python3", "sort", "gcc")
    clock = med("floor.clock_ns")
    base = per_round(lambda c, e: c / e * 1e9, u + ".cpu", "main.dwarf.events")

    def added_ms(k, variant):
        return per_round(lambda a, b: (a - b) * 1e3, "%s.%s.wall" % (k, variant), k + ".untraced.wall")

    floor = {
        "clock": clock,
        "base": base,
        "stamp": 1 + clock / base if clock is not None and base else None,
        "main.none": ratio("main.none.wall", u + ".wall"),
        "main.interposed": ratio("main.interposed.wall", u + ".wall"),
        "main.interposed.rss": per_round(lambda a, b: (a - b) / 1024, "main.interposed.rss", u + ".rss"),
        "true.interposed": added_ms("start.true", "interposed"),
        "fork.interposed": added_ms("start.fork", "interposed"),
        "reader": ratio("main.htprint.wall", "main.xtread.wall"),
    }
    for name in programs:
        k = "prog." + name
        for variant in ("interposed", "none"):
            floor["%s.%s" % (name, variant)] = ratio("%s.%s.wall" % (k, variant), k + ".untraced.wall")
    # the size floors, zstd bytes per heap event of each layer (tests/bench/sizefloor.c)
    size_layers = ("time", "kind", "addr", "events")
    for name, k in (("main", "main"),) + tuple((p, "prog." + p) for p in programs):
        for layer in size_layers:
            floor["%s.size.%s" % (name, layer)] = ratio("%s.dwarf.floor.%s" % (k, layer),
                                                        k + ".dwarf.events")
    floor_lines = [
        ("one clock read as the shim takes it (tsccost), ns", "clock", ".1f"),
        ("untraced loop, CPU per heap event, ns", "base", ".1f"),
        ("wall x untraced with only a timestamp per event (mtloop)", "stamp", ".2f"),
        ("shim loaded, not recording: mtloop wall x untraced", "main.interposed", ".2f"),
        ("shim loaded, not recording: /bin/true +wall ms", "true.interposed", "+.3f"),
        ("shim loaded, not recording: fork child +wall ms", "fork.interposed", "+.3f"),
    ] + [("shim loaded, not recording: %s wall x untraced" % name, name + ".interposed", ".2f")
         for name in programs] + [
        ("size floor, mtloop: B/event of its events' times alone", "main.size.time", ".2f"),
        ("size floor, perl: B/event of its events' times alone", "perl.size.time", ".2f"),
        ("reader alone, no analysis: x heaptrack_print", "reader", ".2f"),
    ]
    floor_lines = [(label, key, spec) for label, key, spec in floor_lines if floor[key] is not None]
    if floor_lines:
        print()
        print("Floors")
        for label, key, spec in floor_lines:
            print("  %-62s %s" % (label, fmt(floor[key], spec)))
        print("""
  every event carries a timestamp, so no mode can run below the timestamp line; loading and
  interposing alone (not recording) is the line below which no recording setting can go; a
  size floor is the bytes of the events' times alone, coded and compressed as the file does
  (Size floors below); the reader alone decodes and orders every event: the most xtrace stats
  or dump can reach, their analyses aside""")

    # --- real programs -----------------------------------------------------------------------
    rows = []
    for name in programs:
        k = "prog." + name
        if not has(k + ".untraced.wall"):
            continue
        ev = k + ".dwarf.events"
        rows.append([
            name,
            fmt(med(k + ".untraced.wall"), ".3f"),
            fmt(floor[name + ".interposed"], ".2f"),
            fmt(floor[name + ".none"], ".2f"),
            fmt(ratio(k + ".dwarf.wall", k + ".untraced.wall"), ".2f"),
            fmt(ratio(k + ".heaptrack.wall", k + ".untraced.wall"), ".2f"),
            fmt(med(ev), ".0f"),
            fmt(ratio(k + ".dwarf.bytes", ev), ".2f"),
            fmt(ratio(k + ".heaptrack.bytes", ev), ".2f"),
        ])
    if rows:
        print()
        print("Real programs (wall x untraced: medians of per-round ratios)")
        print(table(["", "untraced s", "not recording", "xtrace none", "xtrace full",
                     "heaptrack", "heap events", "xtrace B/event", "heaptrack B/event"],
                    rows, "lrrrrrrrr"))
        print("""
  perl      a hash of 290000 entries (about 1.4 million allocations)
  python3   PYTHONMALLOC=malloc, a dict of 30000 entries through json.dumps and json.loads
  sort      300000 lines; gcc: gcc -O2 -c hello.c (the driver, cc1 and as, each traced into a
            file of its own; heaptrack follows the first process only)
  not recording  the shim loaded, passing every call through; xtrace none: every event with
            the calling address only, no walk; xtrace full: full stacks (the default), so
            full - none is the walk, none - not recording the rest of recording
  B/event   bytes written by default / heap events of the xtrace run (all processes)""")

    # --- size floors -------------------------------------------------------------------------
    rows = []
    for name, k in (("mtloop", "main"),) + tuple((p, "prog." + p) for p in programs):
        key = "main" if k == "main" else name
        if floor[key + ".size.time"] is None:
            continue
        ev = k + ".dwarf.events"
        rows.append([name] + [fmt(floor["%s.size.%s" % (key, layer)], ".2f") for layer in size_layers] + [
            fmt(ratio(k + ".dwarf.bytes", ev), ".2f"),
            fmt(ratio(k + ".heaptrack.bytes", ev), ".2f"),
        ])
    if rows:
        print()
        print("Size floors: bytes per heap event of what every event carries, compressed as written")
        print(table(["", "time", "+ kind", "+ address", "+ type, stack", "xtrace file",
                     "heaptrack file"], rows, "lrrrrrr"))
        print("""
  tests/bench/sizefloor rebuilds each generation's events layer by layer, per thread batch in
  file order, coded as the file codes them, and compresses each layer as the shim compresses a
  generation (zstd at its level): time, each event's tick delta; + kind, its type byte; +
  address, the address as written (delta or reference); + type, stack, every other argument,
  all of the Events batches. The file adds the tables, batch headers, Sync and End. heaptrack's
  file carries no time per event (a timestamp line every 10 ms) and no address (its interpreter
  turns a free's pointer into an allocation index); every xtrace event carries its time""")

    # --- production settings -----------------------------------------------------------------
    rows = []
    for name, base, label in (("mtloop", "main", "main"), ("perl", "prog.perl", "prog.perl")):
        un = base + ".untraced" if base != "main" else u
        if not has(un + ".wall"):
            continue
        row = [name]
        for variant in ("interposed", "sample", "stopped", "dwarf"):
            row.append(fmt(ratio(label + "." + variant + ".wall", un + ".wall"), ".2f"))
        rows.append(row)
    if rows and any(has(b + ".sample.wall") for b in ("main", "prog.perl")):
        print()
        print("Production settings: wall x untraced")
        print(table(["", "interposed, not recording", "XTRACE_SAMPLE=524288", "XTRACE_START=stopped",
                     "full (dwarf)"], rows, "lrrrr"))

    # --- start-up ----------------------------------------------------------------------------
    rows = []
    for name, k in (("/bin/true", "start.true"), ("a fork child (fork to wait)", "start.fork")):
        if not has(k + ".untraced.wall", k + ".dwarf.wall"):
            continue
        rows.append([
            name,
            fmt(med(k + ".untraced.wall") * 1e3, ".3f"),
            fmt(med(k + ".dwarf.wall") * 1e3, ".3f"),
            fmt(per_round(lambda a, b: (a - b) * 1e3, k + ".dwarf.wall", k + ".untraced.wall"), "+.3f"),
            fmt(per_round(lambda a, b: (a - b) * 1e3, k + ".dwarf.cpu", k + ".untraced.cpu"), "+.3f"),
        ])
    if rows:
        print()
        print("Start-up (medians over the runs of a round, then over rounds)")
        print(table(["", "untraced ms", "traced ms", "+wall ms", "+CPU ms"], rows, "lrrrr"))
        print("\n  /bin/true runs alternate untraced and traced; the fork child allocates and frees"
              "\n  a block and exits, its trace in a file of its own")

    # --- analysis --------------------------------------------------------------------------
    rows = []
    ev = "main.dwarf.events"
    for name, k in (("xtrace stats", "main.xtstats"),
                    ("xtrace stats, one thread (XTRACE_READ_AHEAD=0)", "main.xtstats1"),
                    ("xtrace dump >/dev/null", "main.xtdump"),
                    ("reader alone, no analysis (readall)", "main.xtread"),
                    ("python xtrace .events()", "main.pyevents0"),
                    ("python xtrace .events(stacks=True)", "main.pyevents1"),
                    ("heaptrack_print >/dev/null", "main.htprint")):
        if not has(k + ".wall"):
            continue
        rows.append([
            name,
            fmt(med(k + ".wall"), ".3f"),
            fmt(per_round(lambda e, w: e / w / 1e6, ev, k + ".wall"), ".2f"),
            fmt(ratio("main.htprint.wall", k + ".wall"), ".2f") if has("main.htprint.wall") else "-",
            fmt(med(k + ".rss") / 1024, ".1f"),
            fmt(med(k + ".anon") and med(k + ".anon") / 1024, ".1f"),
        ])
    print()
    print("Analysis (of the same rounds' traces: xtrace dwarf, heaptrack)")
    print(table(["", "wall s", "M events/s", "x heaptrack_print", "max RSS MiB", "anon MiB"], rows,
                "lrrrrr"))
    print("\n  M events/s     heap events of the run / wall time of the command"
          "\n  max RSS MiB    peak resident set, including the pages of a memory-mapped input file"
          "\n  anon MiB       peak anonymous resident memory (RssAnon sampled every 2 ms): what the"
          "\n                 reader allocated, without the mapped file")

    # --- scaling ---------------------------------------------------------------------------
    configs = [("1", "1e6"), ("2", "1e5"), ("2", "1e6"), ("2", "1e7")]
    if meta.get("scale", "1") != "0" and has("scale.2.1e6.untraced.wall"):
        rows = []
        for mode in ("dwarf", "libunwind", "fp", "none"):
            row = ["xtrace " + mode]
            for t, e in configs:
                k = "scale.%s.%s." % (t, e)
                row.append(fmt(per_round(lambda c, cu, n: (c - cu) / n * 1e9,
                                         k + mode + ".cpu", k + "untraced.cpu", k + mode + ".events"), ".0f"))
            rows.append(row)
        for mode in ("dwarf",):
            row = ["  x untraced wall"]
            for t, e in configs:
                k = "scale.%s.%s." % (t, e)
                row.append(fmt(ratio(k + mode + ".wall", k + "untraced.wall"), ".2f"))
            rows.append(row)
            row = ["  +RSS MiB"]
            for t, e in configs:
                k = "scale.%s.%s." % (t, e)
                row.append(fmt(per_round(lambda a, b: (a - b) / 1024, k + mode + ".rss", k + "untraced.rss"), "+.1f"))
            rows.append(row)
            row = ["  xtrace stats max RSS MiB"]
            for t, e in configs:
                k = "scale.%s.%s." % (t, e)
                row.append(fmt(med(k + mode + ".stats.rss") and med(k + mode + ".stats.rss") / 1024, ".1f"))
            rows.append(row)
            row = ["  xtrace stats anon MiB"]
            for t, e in configs:
                k = "scale.%s.%s." % (t, e)
                row.append(fmt(med(k + mode + ".stats.anon") and med(k + mode + ".stats.anon") / 1024, ".1f"))
            rows.append(row)
        print()
        print("Scaling (mtscale THREADS EVENTS: the same loop, EVENTS split over THREADS): +CPU ns/event")
        print(table(["", "1 thread 1e6", "2 threads 1e5", "2 threads 1e6", "2 threads 1e7"], rows, "lrrrr"))
        print("\n  The x untraced, +RSS and reader rows are for dwarf; 1e5 events include the fixed"
              "\n  start-up and exit cost of the shim spread over few events. Reader max RSS includes"
              "\n  the mapped trace file; anon MiB is the reader's own memory (see Analysis).")

    # --- 100 million events ----------------------------------------------------------------
    if has("big.dwarf.wall"):
        n = med("big.dwarf.events")
        rows = [
            ["heap events", fmt(n, ".0f")],
            ["untraced wall s / peak RSS MiB", "%s / %s" % (fmt(med("big.untraced.wall"), ".2f"),
                                                            fmt(med("big.untraced.rss") / 1024, ".1f"))],
            ["xtrace dwarf wall s / peak RSS MiB", "%s / %s" % (fmt(med("big.dwarf.wall"), ".2f"),
                                                                    fmt(med("big.dwarf.rss") / 1024, ".1f"))],
            ["trace MiB (B/event)", "%s (%s)" % (fmt(med("big.dwarf.bytes") / 2**20, ".0f"),
                                                 fmt(med("big.dwarf.bytes") / n, ".2f"))],
            ["xtrace stats wall s / M events/s / max RSS MiB / anon MiB", "%s / %s / %s / %s" % (
                fmt(med("big.xtstats.wall"), ".2f"), fmt(n / med("big.xtstats.wall") / 1e6, ".2f"),
                fmt(med("big.xtstats.rss") / 1024, ".1f"),
                fmt(med("big.xtstats.anon") and med("big.xtstats.anon") / 1024, ".1f"))],
            ["xtrace dump wall s / M events/s / max RSS MiB / anon MiB", "%s / %s / %s / %s" % (
                fmt(med("big.xtdump.wall"), ".2f"), fmt(n / med("big.xtdump.wall") / 1e6, ".2f"),
                fmt(med("big.xtdump.rss") / 1024, ".1f"),
                fmt(med("big.xtdump.anon") and med("big.xtdump.anon") / 1024, ".1f"))],
        ]
        print()
        print("100 million events (BENCH_BIG=1, one run of mtloop %d x %d)" % (threads, 50000000 // threads))
        print(table(["", ""], rows, "lr"))

    # --- targets -----------------------------------------------------------------------------
    # Each target: its name, the measured value, the limit, whether the value must stay at or
    # below it (else at or above), and the floors that bound it, (short name, floor key, format).
    not_recording = ("not recording", "main.interposed", ".2f")
    stamp = ("timestamp", "stamp", ".2f")
    reader = ("reader alone", "reader", ".2f")
    targets = [
        ("wall x untraced, dwarf (full stacks) <= 3", ratio("main.dwarf.wall", u + ".wall"), 3.0, True,
         [("none", "main.none", ".2f"), not_recording, stamp]),
        ("wall x untraced, none <= 1.3", ratio("main.none.wall", u + ".wall"), 1.3, True,
         [not_recording, stamp]),
        ("B/event (default) <= heaptrack compressed", ratio("main.dwarf.bytes", "main.dwarf.events"),
         ratio("main.heaptrack.bytes", "main.dwarf.events"), True,
         [("time alone", "main.size.time", ".2f"), ("+ address", "main.size.addr", ".2f")]),
        ("B/event raw format <= 6", ratio("main.dwarf.bytes", "main.dwarf.events"), 6.0, True, []),
        ("xtrace stats >= 5x heaptrack_print", ratio("main.htprint.wall", "main.xtstats.wall"), 5.0,
         False, [reader]),
        ("xtrace dump >= 2x heaptrack_print", ratio("main.htprint.wall", "main.xtdump.wall"), 2.0,
         False, [reader]),
        ("+RSS MiB, dwarf <= 16", per_round(lambda a, b: (a - b) / 1024, "main.dwarf.rss", u + ".rss"),
         16.0, True, [("not recording", "main.interposed.rss", "+.1f")]),
    ]
    for name, limit in (("perl", 1.3), ("python3", 1.3), ("sort", 1.05), ("gcc", 1.2)):
        k = "prog." + name
        targets.append(("%s wall x untraced, full stacks <= %g" % (name, limit),
                        ratio(k + ".dwarf.wall", k + ".untraced.wall"), limit, True,
                        [("none", name + ".none", ".2f"), ("not recording", name + ".interposed", ".2f")]))
    targets.append(("B/event (default) <= heaptrack's, perl",
                    ratio("prog.perl.dwarf.bytes", "prog.perl.dwarf.events"),
                    ratio("prog.perl.heaptrack.bytes", "prog.perl.dwarf.events"), True,
                    [("time alone", "perl.size.time", ".2f"), ("+ address", "perl.size.addr", ".2f")]))
    for name, k, key in (("/bin/true", "start.true", "true.interposed"),
                         ("fork child", "start.fork", "fork.interposed")):
        targets.append(("%s traced +wall ms <= 1" % name,
                        per_round(lambda a, b: (a - b) * 1e3, k + ".dwarf.wall", k + ".untraced.wall"),
                        1.0, True, [("not recording", key, "+.3f")]))
    for variant, label in (("sample", "XTRACE_SAMPLE=524288"), ("stopped", "XTRACE_START=stopped")):
        targets.append(("mtloop %s wall x untraced <= 1.2" % label,
                        ratio("main.%s.wall" % variant, u + ".wall"), 1.2, True, [not_recording]))
        targets.append(("perl %s wall x untraced <= 1.05" % label,
                        ratio("prog.perl.%s.wall" % variant, "prog.perl.untraced.wall"), 1.05, True,
                        [("not recording", "perl.interposed", ".2f")]))
    rows = []
    for name, value, limit, at_most, bounds in targets:
        if value is None or limit is None:
            continue
        met = value <= limit if at_most else value >= limit
        rows.append(["met" if met else "NOT met", name, "%.2f" % value, "%.2f" % limit,
                     ", ".join("%s %s" % (short, fmt(floor[key], spec))
                               for short, key, spec in bounds if floor[key] is not None)])
    if rows:
        print()
        print("Targets")
        print(table(["", "", "measured", "target", "floors (measured in this run)"], rows, "llrrl"))
        print("""
  floors   what bounds the target, from Floors and Size floors: none, the same run with the
           calling address only (no walk); not recording, the shim loaded alone; timestamp, the
           clock read alone; time alone and + address, the size floor's layers; reader alone,
           the reader with no analysis (for a ">=" target the bound is a ceiling)""")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
