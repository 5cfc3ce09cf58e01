"""xtrace: read xtrace traces from Python, through libxtrace-reader (ctypes, standard library only).

    import xtrace
    t = xtrace.open("xtrace.app.1234.xt")        # a trace file, or a run directory of `xtrace run`
    t.header                                     # pid, ppid, exe, argv, start time, ...
    t.stats()                                    # the dict `xtrace stats --json` prints
    for ev in t.events():                        # timed events, in time order
        ev.name, ev.time_ns, ev.thread, ev.generation, ev.args, ev.stack
    t.sites(by="bytes", group="function", n=10)  # the rows of `xtrace top`
    t.to_dataframe()                             # the events as a pandas DataFrame

stats() and sites() run the command's own C code (reader/xtrace-analysis.h), so they give what
the command gives. The library is found next to this package in a built checkout (lib/), in the
lib directory it was installed with, or on the loader's path; $XTRACE_READER_LIB names it."""
import copy
import ctypes
import json
import operator
import os
import struct

__all__ = ["open", "Trace", "Run", "Event", "Frame", "Site", "Header", "XtraceError"]


class XtraceError(Exception):
    """A trace that cannot be read, or an analysis that found nothing to show."""


# Statuses of enum xtrace_status (reader/xtrace-reader.h).
OK, ERR_IO, ERR_CORRUPT, ERR_TRUNCATED, ERR_NOMEM = range(5)
_SYNC = 1
_ARG_STRING, _ARG_STACK = 2, 3
_MAX_ARGS = 5


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("ticks_per_sec", ctypes.c_uint64),
                ("pid", ctypes.c_uint64), ("ppid", ctypes.c_uint64),
                ("fork_parent_pid", ctypes.c_uint64), ("fork_ts", ctypes.c_uint64),
                ("start_ts", ctypes.c_uint64), ("start_wall_sec", ctypes.c_uint64),
                ("start_wall_nsec", ctypes.c_uint64), ("exe", ctypes.c_char_p),
                ("cmdline", ctypes.c_void_p), ("cmdline_len", ctypes.c_size_t)]


class _Event(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("gen", ctypes.c_uint64), ("ts", ctypes.c_uint64),
                ("thread", ctypes.c_uint64), ("type", ctypes.c_uint8),
                ("experiment", ctypes.c_uint8), ("wire_type", ctypes.c_uint8),
                ("name", ctypes.c_char_p), ("experiment_name", ctypes.c_char_p),
                ("nargs", ctypes.c_uint8), ("arg_names", ctypes.POINTER(ctypes.c_char_p)),
                ("arg_kinds", ctypes.POINTER(ctypes.c_uint8)),
                ("args", ctypes.c_uint64 * _MAX_ARGS), ("offset", ctypes.c_uint64),
                ("generic", ctypes.c_uint8)]


class _Frame(ctypes.Structure):
    _fields_ = [("pc", ctypes.c_uint64), ("function", ctypes.c_char_p), ("file", ctypes.c_char_p),
                ("line", ctypes.c_int), ("module", ctypes.c_char_p),
                ("module_offset", ctypes.c_uint64), ("symbol", ctypes.c_char_p),
                ("inlined", ctypes.c_int)]


class _Module(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("path", ctypes.c_char_p), ("base", ctypes.c_uint64),
                ("lo", ctypes.c_uint64), ("hi", ctypes.c_uint64)]


class _Options(ctypes.Structure):
    """struct xtrace_analysis_options (reader/xtrace-analysis.h)."""
    _fields_ = [("pid", ctypes.c_uint64), ("exe", ctypes.c_char_p), ("by", ctypes.c_char_p),
                ("group", ctypes.c_char_p), ("count", ctypes.c_long),
                ("region", ctypes.c_char_p), ("no_symbols", ctypes.c_int),
                ("keep_allocator_frames", ctypes.c_int),
                ("alloc_fns", ctypes.POINTER(ctypes.c_char_p)), ("nalloc_fns", ctypes.c_size_t),
                ("heap", ctypes.c_char_p)]


def _find_library():
    name = "libxtrace-reader.so"
    if os.environ.get("XTRACE_READER_LIB"):
        return os.environ["XTRACE_READER_LIB"]
    here = os.path.dirname(os.path.abspath(__file__))
    # a built checkout: python/xtrace -> lib/; installed: PREFIX/lib/python3/dist-packages/xtrace
    for cand in (os.path.join(here, "..", "..", "lib", name),
                 os.path.join(here, "..", "..", "..", name)):
        if os.path.exists(cand):
            return os.path.normpath(cand)
    return name


def _load():
    lib = ctypes.CDLL(_find_library())
    P, c_int, c_size_t, c_u64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint64
    sigs = {
        "xtrace_open": (P, [ctypes.c_char_p, ctypes.c_char_p, c_size_t]),
        "xtrace_close": (None, [P]),
        "xtrace_get_header": (ctypes.POINTER(_Header), [P]),
        "xtrace_next": (c_int, [P, ctypes.POINTER(_Event)]),
        "xtrace_status": (c_int, [P]),
        "xtrace_error": (ctypes.c_char_p, [P]),
        "xtrace_stack": (c_size_t, [P, c_u64, ctypes.POINTER(ctypes.POINTER(c_u64))]),
        "xtrace_string": (ctypes.c_void_p, [P, c_u64, ctypes.POINTER(c_size_t)]),
        "xtrace_module_of": (ctypes.POINTER(_Module), [P, c_u64]),
        "xtrace_symbolizer_new": (P, []),
        "xtrace_symbolizer_free": (None, [P]),
        "xtrace_symbolize_inlined": (c_size_t, [P, P, c_u64, ctypes.POINTER(ctypes.POINTER(_Frame))]),
        "xtrace_stats_json": (P, [ctypes.c_char_p, ctypes.POINTER(_Options), ctypes.POINTER(c_int),
                                  ctypes.c_char_p, c_size_t]),
        "xtrace_top_json": (P, [ctypes.c_char_p, ctypes.POINTER(_Options), ctypes.POINTER(c_int),
                                ctypes.c_char_p, c_size_t]),
        "xtrace_json_free": (None, [P]),
    }
    for fn, (res, args) in sigs.items():
        f = getattr(lib, fn)
        f.restype, f.argtypes = res, args
    return lib


_lib = _load()


def _text(b):
    """Bytes from the trace as str: names are UTF-8, anything else survives as escapes."""
    return None if b is None else b.decode("utf-8", "surrogateescape")


def _base(path):
    """A module's file name, as the commands show it."""
    return None if path is None else _text(os.path.basename(path))


def _path_bytes(path):
    return os.fsencode(path)


def _json_call(fn, path, options):
    st, err = ctypes.c_int(OK), ctypes.create_string_buffer(1024)
    p = fn(_path_bytes(path), ctypes.byref(options), ctypes.byref(st), err, len(err))
    if not p:
        # nothing read: the options were wrong
        bad = ValueError if st.value == OK else XtraceError
        raise bad(_text(err.value) or "%s: cannot analyse" % path)
    try:
        text = ctypes.string_at(p)
    finally:
        _lib.xtrace_json_free(p)
    return json.loads(_text(text)), st.value, _text(err.value)


class Header:
    """A trace's header: who wrote it and when it started."""
    __slots__ = ("version", "pid", "ppid", "fork_parent_pid", "exe", "argv", "start_wall_ns",
                 "ticks_per_sec", "start_ts")

    def __init__(self, h):
        self.version = h.version
        self.pid, self.ppid, self.fork_parent_pid = h.pid, h.ppid, h.fork_parent_pid
        self.exe = _text(h.exe)
        raw = ctypes.string_at(h.cmdline, h.cmdline_len) if h.cmdline_len else b""
        parts = raw.split(b"\0")
        self.argv = [_text(a) for a in (parts[:-1] if raw.endswith(b"\0") else parts) if raw]
        self.start_wall_ns = h.start_wall_sec * 1000000000 + h.start_wall_nsec
        self.ticks_per_sec, self.start_ts = h.ticks_per_sec, h.start_ts

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        return "Header(pid=%d, exe=%r)" % (self.pid, self.exe)


class Frame(dict):
    """One frame of a stack: the keys of a frame in `xtrace top --json` (pc, function, symbol,
    file, line, module, offset, inlined), also as attributes."""
    __slots__ = ()

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class Site(Frame):
    """A row of `xtrace top --json`: rank, key, allocs, bytes, frees, temporary, temporary_bytes,
    leaked_objects, leaked_bytes, peak_bytes, region, frames (Frame each); in a run, also pid and
    file (the image's)."""
    __slots__ = ()


class _Reading:
    """One pass over a trace: the reader, its symbolizer, and the stacks resolved in the current
    generation (stack IDs are per generation)."""

    def __init__(self, trace):
        err = ctypes.create_string_buffer(1024)
        self.r = _lib.xtrace_open(_path_bytes(trace.path), err, len(err))
        if not self.r:
            raise XtraceError(_text(err.value) or "%s: cannot open" % trace.path)
        self.sym = _lib.xtrace_symbolizer_new() if trace.symbols else None
        self.gen = None   # the generation whose tables the reader holds
        self.stacks = {}  # stack ID -> tuple of Frame, for self.gen

    def close(self):
        if self.sym:
            _lib.xtrace_symbolizer_free(self.sym)
        if self.r:
            _lib.xtrace_close(self.r)
        self.r = self.sym = None
        self.gen = None

    def stack(self, gen, sid):
        if gen != self.gen or self.r is None:
            raise XtraceError("the stack of an event of generation %d is gone: read .stack while "
                              "iterating, or iterate with events(stacks=True)" % gen)
        frames = self.stacks.get(sid)
        if frames is None:
            frames = self.stacks[sid] = self._resolve(sid)
        return frames

    def _resolve(self, sid):
        pcs = ctypes.POINTER(ctypes.c_uint64)()
        n = _lib.xtrace_stack(self.r, sid, ctypes.byref(pcs))
        out = []
        fp = ctypes.POINTER(_Frame)()
        for i in range(n):
            pc = pcs[i]
            nf = _lib.xtrace_symbolize_inlined(self.sym, self.r, pc, ctypes.byref(fp)) if self.sym else 0
            if not nf:
                out.append(self._plain(pc))
                continue
            for j in range(nf):
                f = fp[j]
                out.append(Frame(pc=pc, function=_text(f.function), symbol=_text(f.symbol),
                                 file=_text(f.file), line=f.line, module=_base(f.module),
                                 offset=f.module_offset, inlined=bool(f.inlined)))
        return tuple(out)

    def _plain(self, pc):
        """A frame without symbols: its module and offset when a module holds it."""
        m = _lib.xtrace_module_of(self.r, pc - 1) if pc else None
        return Frame(pc=pc, function=None, symbol=None, file=None, line=0,
                     module=_base(m.contents.path) if m else None,
                     offset=pc - m.contents.base if m else pc, inlined=False)


def _spec(ev):
    """What every event of ev's type shares: its name, its argument names, the positions of
    its string arguments and of its stack argument (-1: none)."""
    names = tuple(_text(ev.arg_names[i]) for i in range(ev.nargs))
    kinds = [ev.arg_kinds[i] for i in range(ev.nargs)]
    string_args = tuple(i for i, k in enumerate(kinds) if k == _ARG_STRING)
    stack_arg = kinds.index(_ARG_STACK) if _ARG_STACK in kinds else -1
    return _text(ev.name), names, string_args, stack_arg


def _event_fields():
    """A struct.Struct reading kind, gen, ts, thread, type, experiment, the arguments and generic
    out of a struct xtrace_event in one call (ctypes' field accessors cost more than the
    reading)."""
    fields = [("kind", "i"), ("gen", "Q"), ("ts", "Q"), ("thread", "Q"), ("type", "B"),
              ("experiment", "B"), ("args", "%dQ" % _MAX_ARGS), ("generic", "B")]
    fmt, at = "=", 0
    for name, code in fields:
        off = getattr(_Event, name).offset
        fmt += "%dx%s" % (off - at, code) if off > at else code
        at = off + struct.calcsize("=" + code)
    return struct.Struct(fmt)


_EVENT_FIELDS = _event_fields()


class Event(tuple):
    """A timed event: name (the spec's, e.g. "ObjectAlloc"), time_ns (since the trace started),
    thread, generation, args (by the spec's argument names; string arguments as text), pid, and
    stack (a tuple of Frame, innermost first; empty without a stack argument). A tuple inside,
    so that reading millions of them stays fast."""
    __slots__ = ()
    name = property(operator.itemgetter(0))
    time_ns = property(operator.itemgetter(1))
    thread = property(operator.itemgetter(2))
    generation = property(operator.itemgetter(3))
    args = property(operator.itemgetter(4))
    pid = property(operator.itemgetter(5))

    @property
    def stack(self):
        sid = self[6]
        if type(sid) is tuple:
            return sid
        if not sid:
            return ()
        return self[7].stack(self[3], sid)

    @property
    def stack_id(self):
        """The stack's ID in its generation (0: none; None once resolved with stacks=True)."""
        return self[6] if type(self[6]) is not tuple else None

    def __repr__(self):
        return "Event(%s, time_ns=%d, thread=%d, args=%r)" % (self[0], self[1], self[2], self[4])


class Trace:
    """One trace file. Open it with xtrace.open()."""

    def __init__(self, path, symbols=True):
        self.path = os.fspath(path)
        self.symbols = symbols
        reading = _Reading(self)
        try:
            self.header = Header(_lib.xtrace_get_header(reading.r).contents)
        finally:
            reading.close()

    def __repr__(self):
        return "<xtrace.Trace %s pid %d %s>" % (self.path, self.header.pid, self.header.exe)

    def _options(self, **kw):
        o = _Options(no_symbols=0 if self.symbols else 1)
        for k, v in kw.items():
            setattr(o, k, v.encode() if isinstance(v, str) else v)
        return o

    def stats(self):
        """The dict `xtrace stats --json` prints for this trace (a run's: its totals and
        "processes"). A truncated or corrupt trace is counted up to the damage, and says so
        ("truncated", "corrupt")."""
        return _json_call(_lib.xtrace_stats_json, self.path, self._options())[0]

    def sites(self, by="bytes", group="function", n=10, heap=None, region=None,
              keep_allocator_frames=False, alloc_fns=()):
        """The rows of `xtrace top --json` (a list of Site), with the command's options: by
        allocs, bytes, peak, temporary or leaked; group by stack, function, line or region; the
        first n; only allocations inside region; keep_allocator_frames and alloc_fns as
        --keep-allocator-frames and --alloc-fn. heap: the heap to rank as --heap names it (None:
        malloc's); one the trace does not have is a ValueError listing its heaps."""
        if n < 1:
            raise ValueError("n wants a positive count, not %r" % (n,))
        fns = [f.encode() for f in alloc_fns]
        arr = (ctypes.c_char_p * max(len(fns), 1))(*fns)
        o = self._options(by=by, group=group, count=n, region=region,
                          keep_allocator_frames=1 if keep_allocator_frames else 0,
                          nalloc_fns=len(fns), heap=heap)
        o.alloc_fns = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
        top = _json_call(_lib.xtrace_top_json, self.path, o)[0]
        return [Site(row, frames=[Frame(f) for f in row["frames"]]) for row in top["sites"]]

    def events(self, stacks=False):
        """The trace's timed events in time order (Event each). A stack is resolved when .stack
        is read, once per stack ID and generation, while its generation is being read; with
        stacks=True every event's stack is resolved as it is read, and stays."""
        reading = _Reading(self)
        try:
            yield from self._events(reading, stacks)
        finally:
            reading.close()

    def _events(self, reading, stacks):
        r = reading.r
        h = _lib.xtrace_get_header(r).contents
        start, pid = h.start_ts, h.pid
        ev = _Event()
        ref = ctypes.byref(ev)
        nxt = _lib.xtrace_next
        unpack = _EVENT_FIELDS.unpack_from
        raw = memoryview(ev).cast("B")
        # per (type, experiment, generic) in the current generation: name, argument names, and
        # which are strings or stacks (a generic event's names are the trace's, valid until the
        # next Sync, and its type may mean another event in the next generation)
        specs = {}
        strings = cache = {}
        string_len = ctypes.c_size_t()
        new_event = tuple.__new__
        while True:
            rc = nxt(r, ref)
            if rc <= 0:
                break
            f = unpack(raw)
            if f[0] == _SYNC:
                reading.gen = f[1]
                cache = reading.stacks = {}
                strings = {}
                specs = {}
                continue
            key = (f[4], f[5], f[11])
            spec = specs.get(key)
            if spec is None:
                spec = specs[key] = _spec(ev)
            name, names, string_args, stack_arg = spec
            vals = f[6:11]
            args = dict(zip(names, vals))
            for i in string_args:
                sid = vals[i]
                text = strings.get(sid)
                if text is None:
                    p = _lib.xtrace_string(r, sid, ctypes.byref(string_len))
                    text = strings[sid] = _text(ctypes.string_at(p, string_len.value)) if p else None
                args[names[i]] = text
            ts = f[2] - start if f[2] > start else 0
            sid = vals[stack_arg] if stack_arg >= 0 else 0
            if stacks and sid:
                frames = cache.get(sid)
                sid = frames if frames is not None else reading.stack(f[1], sid)
            yield new_event(Event, (name, ts, f[3], f[1], args,
                                    pid, sid, reading))
        if rc < 0:
            st = _lib.xtrace_status(r)
            if st != ERR_TRUNCATED:
                raise XtraceError("%s: %s" % (self.path, _text(_lib.xtrace_error(r))))

    def to_dataframe(self, stacks=False):
        """The events as a pandas DataFrame: name, time_ns, thread, generation, pid, then a
        column per argument name (empty where an event has no such argument); with stacks=True
        also "function", the innermost frame's. Needs pandas (Debian: python3-pandas)."""
        try:
            import pandas
        except ImportError as e:
            raise ImportError("Trace.to_dataframe needs pandas (Debian: apt-get install "
                              "python3-pandas)") from e
        rows = []
        for ev in self.events(stacks=stacks):
            row = {"name": ev.name, "time_ns": ev.time_ns, "thread": ev.thread,
                   "generation": ev.generation, "pid": ev.pid}
            row.update(ev.args)
            if stacks:
                st = ev.stack
                row["function"] = st[0].function if st else None
            rows.append(row)
        return pandas.DataFrame.from_records(rows)


class Run(Trace):
    """A run directory of `xtrace run`: one trace per process image. images lists them in tree
    order (each a Trace); header is the first's (the root's). events() reads the images one
    after another, each event with its pid; sites() ranks each image's sites, each row with the
    image's pid and file (with heap=, the images that have that heap; a heap no image has is
    a ValueError); stats() is the run's."""

    def __init__(self, path, symbols=True):
        self.path = os.fspath(path)
        self.symbols = symbols
        self._stats = None
        procs = self.stats()["processes"]
        if not procs:
            raise XtraceError("%s: no trace in this run directory" % self.path)
        self.images = [Trace(os.path.join(self.path, p["file"]), symbols) for p in procs]
        self.header = self.images[0].header

    def __repr__(self):
        return "<xtrace.Run %s, %d images>" % (self.path, len(self.images))

    def stats(self):
        if self._stats is None:
            self._stats = super().stats()
        return copy.deepcopy(self._stats)

    def events(self, stacks=False):
        for im in self.images:
            yield from im.events(stacks)

    def sites(self, **kw):
        rows, lacking = [], []
        for im in self.images:
            try:
                got = im.sites(**kw)
            except ValueError as e:
                # a process that never made the heap: an error only if none did
                if kw.get("heap") is None or not str(e).startswith(im.path + ": no heap "):
                    raise
                lacking.append(e)
                continue
            for s in got:
                s["pid"], s["file"] = im.header.pid, os.path.basename(im.path)
                rows.append(s)
        if len(lacking) == len(self.images):
            raise lacking[0]
        return rows


def open(path, symbols=True):
    """Opens a trace file (a Trace) or a run directory (a Run). symbols=False opens no file the
    trace names (as --no-symbols): frames are module+offset."""
    if os.path.isdir(path):
        return Run(path, symbols)
    return Trace(path, symbols)
