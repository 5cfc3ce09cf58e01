#!/usr/bin/python3
"""Tests of python/xtrace: traces real workloads and checks the module's header, events, stats
and sites against what the xtrace command prints (dump, stats --json, top --json).

Run from the repository root after `make` and the workloads (tests/tests.mk runs it in
`make test`); XTRACE_BUILD, XTRACE_LIB and XTRACE_BIN say where the build is."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("XTRACE_BUILD", "build")
LIB = os.environ.get("XTRACE_LIB", "lib")
CLI = os.path.abspath(os.path.join(os.environ.get("XTRACE_BIN", "bin"), "xtrace"))
os.environ.setdefault("XTRACE_READER_LIB", os.path.abspath(os.path.join(LIB, "libxtrace-reader.so")))
sys.path.insert(0, os.path.join(ROOT, "python"))
import xtrace  # noqa: E402

TMP = None


def workload(name):
    return os.path.abspath(os.path.join(BUILD, "workloads", name))


def trace(name, *args, gen_ms=None):
    """Runs workload name under the shim; returns its trace file."""
    out = os.path.join(TMP, "%s.%d.xt" % (name, len(os.listdir(TMP))))
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(os.path.join(LIB, "libxtrace.so")),
               XTRACE_OUT=out)
    if gen_ms:
        env["XTRACE_GEN_MS"] = str(gen_ms)
    subprocess.run([workload(name)] + list(args), env=env, check=True, stdout=subprocess.DEVNULL)
    return out


def cli_json(*args, ok=(0,)):
    p = subprocess.run([CLI] + list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if p.returncode not in ok:
        raise AssertionError("xtrace %s exited %d" % (" ".join(args), p.returncode))
    return json.loads(p.stdout.decode("utf-8", "surrogateescape"))


DUMP_LINE = re.compile(r"^gen=(\d+) ts=\+(\d+)\.(\d{6})ms thread=(\d+) (\w+)(.*)$")
DUMP_ARG = re.compile(r' (\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def dump_events(path):
    """The timed events of `xtrace dump`: (gen, time_ns, thread, name, args); args keep the
    values dump prints as numbers or strings."""
    out = subprocess.run([CLI, "dump", path], stdout=subprocess.PIPE, check=True).stdout.decode()
    events = []
    for line in out.splitlines():
        m = DUMP_LINE.match(line)
        if not m:
            continue
        args = {}
        for k, v in DUMP_ARG.findall(m.group(6)):
            if v.startswith('"'):
                args[k] = json.loads(v)
            elif re.fullmatch(r"0x[0-9a-f]+|\d+", v):
                args[k] = int(v, 0)
        events.append((int(m.group(1)), int(m.group(2)) * 1000000 + int(m.group(3)),
                       int(m.group(4)), m.group(5), args))
    return events


class TestTrace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sites = trace("sites")
        cls.threads = trace("threads")

    def test_header(self):
        t = xtrace.open(self.sites)
        self.assertEqual(t.header.exe, workload("sites"))
        self.assertEqual(t.header.argv, [workload("sites")])
        self.assertEqual(t.header.pid, cli_json("stats", "--json", self.sites)["pid"])
        self.assertGreater(t.header.start_wall_ns, 0)

    def test_stats_equal_the_commands(self):
        for path in (self.sites, self.threads):
            self.assertEqual(xtrace.open(path).stats(), cli_json("stats", "--json", path))

    def test_events_equal_dump(self):
        for path in (self.sites, self.threads):
            got = [(e.generation, e.time_ns, e.thread, e.name,
                    {k: v for k, v in e.args.items()}) for e in xtrace.open(path).events()]
            want = dump_events(path)
            self.assertEqual(len(got), xtrace.open(path).stats()["events"])
            self.assertEqual(len(got), len(want))
            for g, w in zip(got, want):
                self.assertEqual(g[:4], w[:4])
                self.assertEqual({k: g[4][k] for k in w[4]}, w[4])

    def test_threads(self):
        t = xtrace.open(self.threads)
        self.assertEqual(len({e.thread for e in t.events()}), t.stats()["threads"])

    def test_stacks(self):
        t = xtrace.open(self.sites)
        leak = []
        for e in t.events():
            if e.name == "ObjectAlloc" and any(f.function == "leak_site" for f in e.stack):
                self.assertIs(e.stack, e.stack, "one tuple per stack ID")
                f = next(f for f in e.stack if f.function == "leak_site")
                self.assertEqual((os.path.basename(f.file), f.module), ("sites.c", "sites"))
                leak.append(e)
        self.assertEqual(len(leak), 10)
        # kept past their generation, lazily resolved stacks are gone; resolved ones stay
        with self.assertRaises(xtrace.XtraceError):
            leak[0].stack
        kept = [e for e in t.events(stacks=True) if e.name == "ObjectAlloc"]
        self.assertTrue(any(f.function == "leak_site" for e in kept for f in e.stack))

    def test_no_symbols(self):
        t = xtrace.open(self.sites, symbols=False)
        frames = next(e.stack for e in t.events() if e.name == "ObjectAlloc")
        self.assertTrue(frames and all(f.function is None for f in frames))
        self.assertIn("sites", [f.module for f in frames])
        self.assertEqual(t.sites(), cli_json("top", "--json", "--no-symbols", self.sites)["sites"])

    def test_sites_equal_top(self):
        t = xtrace.open(self.sites)
        cases = [({}, []),
                 ({"by": "temporary", "group": "stack", "n": 2},
                  ["--by", "temporary", "--group", "stack", "-n", "2"]),
                 ({"by": "allocs", "group": "line"}, ["--by", "allocs", "--group", "line"]),
                 ({"by": "peak", "group": "region"}, ["--by", "peak", "--group", "region"]),
                 ({"by": "leaked", "n": 1}, ["--by", "leaked", "-n", "1"]),
                 ({"region": "build-peak"}, ["--region", "build-peak"]),
                 ({"keep_allocator_frames": True}, ["--keep-allocator-frames"]),
                 ({"alloc_fns": ["leak_site"], "group": "stack"},
                  ["--alloc-fn", "leak_site", "--group", "stack"])]
        for kw, args in cases:
            with self.subTest(kw=kw):
                want = cli_json("top", "--json", *(args + [self.sites]))["sites"]
                self.assertEqual(t.sites(**kw), want)
        top = t.sites()
        self.assertEqual([s.key for s in top], ["leak_site", "peak_site", "temporary_site"])
        self.assertEqual(top[0].frames[0].function, "leak_site")

    def test_heap_and_bad_options(self):
        t = xtrace.open(self.sites)
        self.assertEqual(t.sites(heap="malloc"), t.sites())
        with self.assertRaisesRegex(ValueError, "heap 'arena'"):
            t.sites(heap="arena")
        with self.assertRaisesRegex(ValueError, "unknown metric 'size'"):
            t.sites(by="size")
        with self.assertRaisesRegex(ValueError, "unknown grouping 'file'"):
            t.sites(group="file")
        with self.assertRaisesRegex(ValueError, "positive count"):
            t.sites(n=0)

    def test_dataframe(self):
        t = xtrace.open(self.sites)
        df = t.to_dataframe()
        self.assertEqual(len(df), t.stats()["events"])
        self.assertEqual(int((df["name"] == "ObjectAlloc").sum()), t.stats()["allocs"])
        self.assertIn("obj_addr", df.columns)

    def test_dataframe_without_pandas(self):
        saved = sys.modules.get("pandas")
        sys.modules["pandas"] = None  # makes `import pandas` fail
        try:
            with self.assertRaisesRegex(ImportError, "python3-pandas"):
                xtrace.open(self.sites).to_dataframe()
        finally:
            if saved is None:
                del sys.modules["pandas"]
            else:
                sys.modules["pandas"] = saved

    def test_truncated(self):
        path = trace("longrun", gen_ms=20)
        with open(path, "rb") as f:
            data = f.read()
        cut = os.path.join(TMP, "cut.xt")
        with open(cut, "wb") as f:
            f.write(data[:len(data) * 2 // 3])
        t = xtrace.open(cut)
        stats = t.stats()
        self.assertTrue(stats["truncated"])
        self.assertEqual(stats, cli_json("stats", "--json", cut, ok=(3,)))
        self.assertEqual(sum(1 for _ in t.events()), stats["events"])

    def test_unreadable(self):
        with self.assertRaises(xtrace.XtraceError):
            xtrace.open(os.path.join(TMP, "no-such.xt"))
        junk = os.path.join(TMP, "junk.xt")
        with open(junk, "wb") as f:
            f.write(b"not a trace at all, not even close")
        with self.assertRaises(xtrace.XtraceError):
            xtrace.open(junk)
        empty = tempfile.mkdtemp(dir=TMP)
        with self.assertRaises(xtrace.XtraceError):
            xtrace.open(empty)  # a directory without traces


class TestRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(TMP, "run")
        subprocess.run([CLI, "run", "-o", cls.dir, "--", workload("proctree")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def test_stats_equal_the_commands(self):
        run = xtrace.open(self.dir)
        self.assertIsInstance(run, xtrace.Run)
        want = cli_json("stats", "--json", self.dir)
        self.assertEqual(run.stats(), want)
        self.assertEqual([os.path.basename(im.path) for im in run.images],
                         [p["file"] for p in want["processes"]])
        self.assertEqual(run.header.pid, want["processes"][0]["pid"])

    def test_events_and_sites_per_image(self):
        run = xtrace.open(self.dir)
        events = list(run.events())
        self.assertEqual(len(events), run.stats()["events"])
        self.assertEqual({e.pid for e in events}, {p["pid"] for p in run.stats()["processes"]})
        want = []
        for p in cli_json("top", "--json", self.dir)["processes"]:
            want += [dict(s, pid=p["pid"], file=p["file"]) for s in p["output"]["sites"]]
        self.assertEqual(run.sites(), want)


class TestHeapsAndDescribed(unittest.TestCase):
    """A program's own heaps and the address space (stats' "heaps" and "memory", --heap), and an
    experiment the program defines at run time (its events named by the trace)."""

    @classmethod
    def setUpClass(cls):
        cls.pool = trace("pool", "3")
        cls.runtime = trace("runtime_exp", "50", "0")
        cls.dir = os.path.join(TMP, "poolrun")
        subprocess.run([CLI, "run", "-o", cls.dir, "--", workload("pool"), "3"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        # a shell that runs pool and then true: two of its three images have no heap "small"
        cls.shrun = os.path.join(TMP, "poolshrun")
        subprocess.run([CLI, "run", "-o", cls.shrun, "--", "/bin/sh", "-c",
                        "%s 3; /bin/true" % workload("pool")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    def test_stats_have_heaps_and_memory(self):
        got = xtrace.open(self.pool).stats()
        self.assertEqual(got, cli_json("stats", "--json", self.pool))
        self.assertEqual(list(got["heaps"])[0], "malloc")
        self.assertIn("small", got["heaps"])
        self.assertGreater(got["heaps"]["small"]["allocs"], 0)
        self.assertGreater(got["memory"]["samples"], 0)
        run = xtrace.open(self.dir).stats()
        self.assertEqual(run, cli_json("stats", "--json", self.dir))
        self.assertIn("small", run["heaps"])

    def test_sites_of_a_heap(self):
        t = xtrace.open(self.pool)
        for heap in ("small", "big", "malloc"):
            with self.subTest(heap=heap):
                want = cli_json("top", "--heap", heap, "--group", "stack", "--json", self.pool)
                self.assertEqual(t.sites(heap=heap, group="stack"), want["sites"])
        self.assertNotEqual(t.sites(heap="small"), t.sites())
        with self.assertRaisesRegex(ValueError, "no heap 'nope' \\(its heaps: malloc, .*small"):
            t.sites(heap="nope")

    def test_sites_of_a_heap_some_images_lack(self):
        run = xtrace.open(self.shrun)
        self.assertEqual(len(run.images), 3)
        got = cli_json("top", "--heap", "small", "--json", self.shrun)
        want, lacking = [], 0
        for p in got["processes"]:
            if p["output"] is None:
                self.assertIn("no heap 'small'", p["no_heap"])
                lacking += 1
            else:
                want += [dict(s, pid=p["pid"], file=p["file"]) for s in p["output"]["sites"]]
        self.assertEqual(lacking, 2)
        self.assertGreater(len(want), 0)
        self.assertEqual(run.sites(heap="small"), want)
        with self.assertRaisesRegex(ValueError, "no heap 'nope'"):
            run.sites(heap="nope")
        cli_json("top", "--heap", "nope", "--json", self.shrun, ok=(2,))

    def test_described_events_equal_dump(self):
        t = xtrace.open(self.runtime)
        got = [(e.generation, e.time_ns, e.thread, e.name, e.args) for e in t.events()]
        want = dump_events(self.runtime)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(g[:4], w[:4])
            self.assertEqual({k: g[4][k] for k in w[4]}, w[4])
        fills = [e for e in t.events() if e.name == "CacheFill"]
        self.assertEqual(len(fills), 2 * 50)
        self.assertEqual(set(fills[0].args), {"key_string", "entry_addr", "size_value", "stack"})
        self.assertTrue(all(re.fullmatch(r"t[01]-\d+", e.args["key_string"]) for e in fills))


def main():
    global TMP
    TMP = tempfile.mkdtemp(prefix="xtrace-python.")
    try:
        prog = unittest.main(module=__name__, exit=False, verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
