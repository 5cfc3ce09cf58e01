#!/usr/bin/python3
"""report_browser.py: uses `xtrace report`'s page as a person would, in headless Chromium driven
through the DevTools protocol (the standard library and Debian's python3-websocket), and prints
what it saw as one JSON object for test_analysis.c to check.

  report_browser.py PAGE.html SHOTS_DIR FUNCTION FROM_NS TO_NS
      search FUNCTION, click its frame (zoom) and reset, switch the metric to temporary, filter
      the table by FUNCTION, sort it by allocations (down, then up), drag across the chart from
      FROM_NS to TO_NS (since the trace's start)
  report_browser.py --select PAGE.html SHOTS_DIR PID
      a run's page: "none" of the processes, then the one of PID, then none of its threads
  report_browser.py --load PAGE.html SHOTS_DIR
      only load the page

Output members: "errors" (console errors, exceptions and error log entries, always), and after
the interactions "search", "zoom", "metric", "table", "range", or with --select "all", "one" and
"no_thread" (each the table's rows and bytes, the flame graph's total and the frames under its
root, and the thread boxes shown). Screenshots (PNG) go to SHOTS_DIR. Chromium
runs in a private profile directory and is always killed; the whole run is bounded by a timeout.
Exit 0, or 1 with the reason on stderr.
"""
import base64
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_S = 120
PR_SET_PDEATHSIG = 1
WIDTH, HEIGHT = 1400, 1000


class Timeout(Exception):
    pass


class Page:
    """One page target: commands by id, events kept in order."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, seconds=30):
        deadline = time.monotonic() + seconds
        seen = len(self.events)
        while time.monotonic() < deadline:
            for ev in self.events[seen:]:
                if ev["method"] == method:
                    return ev
            seen = len(self.events)
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in msg:
                self.events.append(msg)
        raise Timeout("no %s within %ss" % (method, seconds))

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def settle(self):
        # Two animation frames: the page has drawn what the last input changed.
        self.call("Runtime.evaluate", awaitPromise=True, expression=(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"))

    def mouse(self, kind, x, y, buttons=0):
        self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                  buttons=buttons, clickCount=1)

    def click(self, x, y):
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, 1)
        self.mouse("mouseReleased", x, y)
        self.settle()

    def drag(self, x0, x1, y):
        self.mouse("mouseMoved", x0, y)
        self.mouse("mousePressed", x0, y, 1)
        for k in range(1, 6):
            self.mouse("mouseMoved", x0 + (x1 - x0) * k / 5, y, 1)
        self.mouse("mouseReleased", x1, y)
        self.settle()

    def shot(self, path):
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        r = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                      clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                            "scale": 1})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def errors(self):
        out = []
        for ev in self.events:
            m, p = ev["method"], ev.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                  for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: " + p["entry"].get("text", ""))
        return out


def die_with_parent():
    # In Chromium's process, before exec: SIGKILL when this script dies, however it dies.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start_chromium(profile):
    log = open(os.path.join(profile, "chromium.log"), "wb")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         "--user-data-dir=" + profile, "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--window-size=%d,%d" % (WIDTH, HEIGHT),
         "about:blank"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        preexec_fn=die_with_parent)
    log.close()
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("chromium exited with %s" % proc.returncode)
        try:
            with open(port_file) as f:
                lines = f.read().split("\n")
            if len(lines) >= 2 and lines[0].isdigit():
                return proc, int(lines[0])
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise Timeout("chromium wrote no DevToolsActivePort within 30s")


def page_target(port):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
            for t in json.load(r):
                if t.get("type") == "page":
                    return t["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise Timeout("no page target")


def frame_widths(page):
    return page.eval("""(() => {
        const w = {};
        for (const g of document.querySelectorAll('#flame g[data-name]'))
            w[g.dataset.name] = Math.max(w[g.dataset.name] || 0, g.getBoundingClientRect().width);
        return w; })()""")


def frame_box(page, name):
    return page.eval("""(() => {
        const g = [...document.querySelectorAll('#flame g[data-name]')].find(e => e.dataset.name === %s);
        if (!g) return null;
        g.scrollIntoView({block: 'center'});
        const r = g.querySelector('rect').getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height}; })()""" % json.dumps(name))


def table_info(page):
    return page.eval("""(() => { const i = document.getElementById('table-info');
        return {rows: +i.dataset.rows, bytes: +i.dataset.bytes}; })()""")


def flame_total(page):
    return page.eval("+document.querySelector('#flame g[data-depth=\"0\"]').dataset.value")


def interact(page, shots, function, from_ns, to_ns):
    out = {}
    page.shot(os.path.join(shots, "1-loaded.png"))

    # Search: type the name, read the share the page shows.
    page.eval("document.getElementById('search').focus()")
    page.call("Input.insertText", text=function)
    page.settle()
    out["search"] = page.eval("""(() => { const r = document.getElementById('search-result');
        return {value: +r.dataset.value, total: +r.dataset.total, text: r.textContent,
                matches: document.querySelectorAll('#flame g.match').length}; })()""")
    page.shot(os.path.join(shots, "2-search.png"))

    # Zoom: click the function's frame, then "reset zoom".
    full = page.eval("document.getElementById('flame').getBoundingClientRect().width")
    box = frame_box(page, function)
    if not box:
        raise RuntimeError("no frame named %s" % function)
    page.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    zoomed = frame_box(page, function)
    page.shot(os.path.join(shots, "3-zoom.png"))
    reset = page.eval("(() => { const b = document.getElementById('zoom-reset'); b.scrollIntoView();"
                      " const r = b.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()")
    page.click(reset["x"], reset["y"])
    out["zoom"] = {"before": box["width"], "after": zoomed["width"], "full": full,
                   "reset": frame_box(page, function)["width"]}

    # Metric: the widths under bytes, then under temporary.
    before = frame_widths(page)
    page.eval("(() => { const s = document.getElementById('metric'); s.value = 'temporary';"
              " s.dispatchEvent(new Event('change')); })()")
    page.settle()
    out["metric"] = {"bytes": before, "temporary": frame_widths(page)}
    page.shot(os.path.join(shots, "4-metric.png"))
    page.eval("(() => { const s = document.getElementById('metric'); s.value = 'bytes';"
              " s.dispatchEvent(new Event('change')); })()")
    page.settle()

    # Table: filtered by text, then sorted by a click on a column, twice.
    page.eval("document.getElementById('filter').focus()")
    page.call("Input.insertText", text=function)
    page.settle()
    first = "document.querySelector('#sites tbody tr td.site').textContent"
    table = {"filtered": table_info(page)["rows"], "filtered_first": page.eval(first)}
    page.eval("(() => { const f = document.getElementById('filter'); f.value = '';"
              " f.dispatchEvent(new Event('input')); })()")
    click_element(page, "#sites th[data-key=allocs]")
    table["by_allocs"] = page.eval(first)
    click_element(page, "#sites th[data-key=allocs]")
    table["by_allocs_up"] = page.eval(first)
    page.shot(os.path.join(shots, "5-table.png"))
    click_element(page, "#sites th[data-key=bytes]")
    out["table"] = table

    # Time range: drag across the chart's plot (the trace's duration over its width).
    rng = {"before": table_info(page), "flame_before": flame_total(page)}
    plot = page.eval("(() => { const c = document.getElementById('chart'); c.scrollIntoView();"
                     " const r = c.querySelector('rect').getBoundingClientRect();"
                     " const d = JSON.parse(document.getElementById('xtrace-data').textContent);"
                     " return {x: r.x, y: r.y, width: r.width, height: r.height,"
                     " ns: d.images[0].duration_ns}; })()")
    x = lambda ns: plot["x"] + plot["width"] * ns / plot["ns"]
    page.drag(x(from_ns), x(to_ns), plot["y"] + plot["height"] / 2)
    rng["after"] = table_info(page)
    rng["flame_after"] = flame_total(page)
    rng["text"] = page.eval("document.getElementById('range').textContent")
    out["range"] = rng
    page.shot(os.path.join(shots, "6-range.png"))

    # The address space chart: shown or not, and its lines by their titles.
    out["memory"] = page.eval("""(() => ({shown: !document.getElementById('memory-part').hidden,
        lines: Array.from(document.querySelectorAll('#memory polyline title'), (t) => t.textContent).join(',')}))()""")
    return out


def click_element(page, selector):
    box = page.eval("(() => { const e = document.querySelector(%s); e.scrollIntoView({block: 'center'});"
                    " const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
                    % json.dumps(selector))
    page.click(box["x"], box["y"])


def selection(page):
    out = table_info(page)
    out["flame"] = page.eval("(() => { const g = document.querySelector('#flame g[data-depth=\"0\"]');"
                             " return g ? +g.dataset.value : 0; })()")
    out["programs"] = page.eval("[...document.querySelectorAll('#flame g[data-depth=\"1\"]')]"
                                ".map(g => g.dataset.name)")
    out["threads"] = page.eval("document.querySelectorAll('#threads input').length")
    return out


def select(page, shots, pid):
    out = {"all": selection(page)}
    click_element(page, "#procs-none")
    row = page.eval("[...document.querySelectorAll('#procs tbody tr')].findIndex("
                    "tr => tr.cells[1].textContent === %s)" % json.dumps(str(pid)))
    if row < 0:
        raise RuntimeError("no process %s in the page" % pid)
    click_element(page, "#procs tbody tr:nth-child(%d) input" % (row + 1))
    out["one"] = selection(page)
    page.shot(os.path.join(shots, "7-process.png"))
    click_element(page, "#threads input")
    out["no_thread"] = selection(page)
    return out


def main(argv):
    mode = argv[1] if argv[1:2] in (["--load"], ["--select"]) else None
    args = argv[2:] if mode else argv[1:]
    if len(args) != {None: 5, "--load": 2, "--select": 3}[mode]:
        sys.stderr.write(__doc__)
        return 2
    html, shots = os.path.abspath(args[0]), args[1]
    os.makedirs(shots, exist_ok=True)

    def on_alarm(signum, frame):
        raise Timeout("gave up after %ss" % TIMEOUT_S)

    def on_term(signum, frame):
        raise Timeout("stopped by signal %d" % signum)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.alarm(TIMEOUT_S)
    profile = tempfile.mkdtemp(prefix="report-browser.")
    proc = None
    try:
        proc, port = start_chromium(profile)
        page = Page(page_target(port))
        for domain in ("Page", "Runtime", "Log"):
            page.call(domain + ".enable")
        page.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                  deviceScaleFactor=1, mobile=False)
        page.call("Page.navigate", url="file://" + html)
        page.wait_event("Page.loadEventFired")
        page.settle()
        if mode == "--load":
            out = {}
            page.shot(os.path.join(shots, "loaded.png"))
        elif mode == "--select":
            out = select(page, shots, int(args[2]))
        else:
            out = interact(page, shots, args[2], int(args[3]), int(args[4]))
        page.settle()
        out["errors"] = page.errors()
        print(json.dumps(out, indent=1))
        return 0
    except (Timeout, RuntimeError, OSError, websocket.WebSocketException) as e:
        sys.stderr.write("report_browser: %s\n" % e)
        return 1
    finally:
        signal.alarm(0)
        if proc:
            # Chromium's helpers share its process group: end them all with it.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
