// report.js: draws `xtrace report`'s page from the data report.c puts in #xtrace-data: the
// live heap chart (drag to choose a time range), the flame graph (metric, zoom, search), the
// site table (sort, filter, grouping), and the choice of processes and threads. Everything is
// computed here from the cells (a site's allocations on one thread in one time cell), so each
// choice narrows every part of the page at once. No network, no library.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('xtrace-data').textContent);
  const SVG = 'http://www.w3.org/2000/svg';
  // A cell's values, after its site, thread and time cell.
  const V = { allocs: 0, bytes: 1, temporary: 2, leakedObjects: 3, leaked: 4, peak: 5 };
  const CELL = 9;
  const METRICS = [
    { key: 'bytes', label: 'bytes allocated', v: V.bytes, bytes: true },
    { key: 'allocs', label: 'allocations', v: V.allocs },
    { key: 'peak', label: 'live at the peak', v: V.peak, bytes: true },
    { key: 'leaked', label: 'leaked (live at the end)', v: V.leaked, bytes: true },
    { key: 'temporary', label: 'temporary allocations', v: V.temporary },
  ];
  const COLUMNS = [
    { key: 'allocs', label: 'allocs', v: V.allocs },
    { key: 'bytes', label: 'bytes', v: V.bytes, bytes: true },
    { key: 'peak', label: 'peak', v: V.peak, bytes: true },
    { key: 'temporary', label: 'temporary', v: V.temporary },
    { key: 'leaked', label: 'leaked', v: V.leaked, bytes: true },
    { key: 'objects', label: 'objects', v: V.leakedObjects },
    { key: 'site', label: 'site' },
  ];
  const TABLE_ROWS = 500;
  const COLORS = ['#c0392b', '#2471a3', '#1e8449', '#b9770e', '#7d3c98', '#117a65', '#873600'];

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  };

  // As the commands print bytes: hundredths truncated, never rounded up into the next unit.
  function fmtBytes(b) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return i ? (Math.floor(b * 100) / 100).toFixed(2) + ' ' + units[i] : b + ' B';
  }
  function fmtTime(ns) {
    if (ns >= 1e9) return (ns / 1e9).toFixed(3) + 's';
    if (ns >= 1e6) return (ns / 1e6).toFixed(3) + 'ms';
    if (ns >= 1e3) return (ns / 1e3).toFixed(3) + 'us';
    return Math.round(ns) + 'ns';
  }
  const fmtCount = (n) => String(n);
  const fmtMetric = (m, v) => (m.bytes ? fmtBytes(v) : fmtCount(v));
  const pct = (v, t) => (t ? (100 * v / t).toFixed(2) : '0.00') + '%';

  // Each image: its frames as names, paths from the root, time offset in the run.
  const images = D.images.map((im, index) => {
    const name = (k) => im.names[k];
    const root = D.run ? [im.program] : [];
    const paths = im.sites.map((s) => {
      const p = root.slice();
      if (s[0] >= 0) p.push('[region ' + name(s[0]) + ']');
      for (let i = 2; i < s.length; i++) p.push(name(s[i]));
      return p;
    });
    // The sites left out, each fold under the deepest frame they share with the kept ones.
    const other = '(' + im.other_sites + ' other sites)';
    for (const f of im.folds) {
      const p = root.slice();
      if (f[1] >= 0) p.push('[region ' + name(f[1]) + ']');
      for (let i = 2; i < f.length; i++) p.push(name(f[i]));
      p.push(f[0] === 1 ? '(1 other site)' : '(' + f[0] + ' other sites)');
      paths.push(p);
    }
    const keys = im.sites.map((s) => {
      const inner = name(s[s.length - 1]);
      const frames = [name(s[1])];
      for (let i = s.length - 2; i >= 2 && frames.length < 3; i--) frames.push(name(s[i]));
      const region = s[0] >= 0 ? name(s[0]) : null;
      let stack = (region ? '[' + region + '] ' : '') + frames.join(' < ');
      if (s.length - 2 > 3) stack += ' < ...';
      return { function: inner, line: name(s[1]), stack: stack, region: region || '(no region)' };
    });
    for (let k = 0; k < im.folds.length; k++) keys.push({ function: other, line: other, stack: other, region: other });
    const nthreads = im.thread_ids.length + (im.other_threads ? 1 : 0);
    const threadBytes = new Array(nthreads).fill(0);
    for (let i = 0; i < im.cells.length; i += CELL) threadBytes[im.cells[i + 1]] += im.cells[i + 3 + V.bytes];
    return { d: im, index, paths, keys, offset: im.start_ns || 0, nthreads, threadBytes,
             label: D.run ? im.pid + ' ' + im.program : im.exe + ' (pid ' + im.pid + ')' };
  });

  const state = {
    metric: METRICS[0],
    images: new Set(images.map((im) => im.index)),
    threads: images.map((im) => new Set([...Array(im.nthreads).keys()])),
    range: null,          // [from, to) in ns since the run's (or trace's) start
    zoom: [],             // the zoomed frame's path of names from the root
    history: [],
    search: '',
    group: 'function',
    sort: { key: 'bytes', desc: true },
    filter: '',
  };

  // sums: per selected image, a site's six values over the chosen threads and time range.
  function sums() {
    const out = [];
    for (const im of images) {
      if (!state.images.has(im.index)) continue;
      const c = im.d.cells, n = im.paths.length, cellNs = im.d.cell_ns;
      const v = new Float64Array(n * 6), threads = state.threads[im.index];
      for (let i = 0; i < c.length; i += CELL) {
        if (!threads.has(c[i + 1])) continue;
        if (state.range) {
          const t0 = im.offset + c[i + 2] * cellNs;
          if (t0 + cellNs <= state.range[0] || t0 >= state.range[1]) continue;
        }
        const o = c[i] * 6;
        for (let k = 0; k < 6; k++) v[o + k] += c[i + 3 + k];
      }
      out.push({ im, v });
    }
    return out;
  }

  function totalsOf(S) {
    const t = new Float64Array(6);
    for (const { v } of S) for (let i = 0; i < v.length; i++) t[i % 6] += v[i];
    return t;
  }

  // The flame graph's tree: frames merged by name under the same parent.
  function buildTree(S, m) {
    const root = { name: 'all', value: 0, children: new Map(), parent: null, depth: 0 };
    for (const { im, v } of S) {
      for (let s = 0; s < im.paths.length; s++) {
        const val = v[s * 6 + m.v];
        if (!val) continue;
        root.value += val;
        let node = root;
        for (const name of im.paths[s]) {
          let ch = node.children.get(name);
          if (!ch) {
            ch = { name, value: 0, children: new Map(), parent: node, depth: node.depth + 1 };
            node.children.set(name, ch);
          }
          ch.value += val;
          node = ch;
        }
      }
    }
    return root;
  }

  const pathOf = (node) => {
    const p = [];
    for (; node.parent; node = node.parent) p.unshift(node.name);
    return p;
  };
  const matches = (name) => state.search && name.toLowerCase().includes(state.search);

  function nameColor(name) {
    let h = 2166136261;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
    return 'rgb(' + (205 + h % 50) + ',' + (80 + (h >>> 8) % 130) + ',' + (40 + (h >>> 16) % 50) + ')';
  }

  let tree = null;
  function drawFlame() {
    const svg = $('flame'), m = state.metric;
    svg.textContent = '';
    $('frame-info').textContent = '\u00a0';
    const W = Math.max(400, $('flame-box').clientWidth || 1200), ROW = 18;
    let zoom = tree;
    for (const name of state.zoom) {
      const ch = zoom.children.get(name);
      if (!ch) break;
      zoom = ch;
    }
    state.zoom = pathOf(zoom);
    $('zoom-reset').disabled = !state.zoom.length;
    $('zoom-back').disabled = !state.history.length;
    let maxDepth = zoom.depth;
    const frame = (node, x, w, cls) => {
      const y = node.depth * ROW;
      const g = svgEl('g', { 'data-name': node.name, 'data-value': node.value, 'data-depth': node.depth });
      const cl = [];
      if (cls) cl.push(cls);
      if (matches(node.name)) cl.push('match');
      if (cl.length) g.setAttribute('class', cl.join(' '));
      const title = svgEl('title', {});
      title.textContent = node.name + '\n' + fmtMetric(m, node.value) + ' (' + pct(node.value, tree.value) + ' of all)';
      g.appendChild(title);
      g.appendChild(svgEl('rect', { x: x.toFixed(2), y, width: Math.max(w - 0.5, 0.5).toFixed(2), height: ROW - 1,
                                    rx: 2, fill: node.parent ? nameColor(node.name) : '#e8c46a' }));
      const chars = Math.floor((w - 6) / 7.2);
      if (chars >= 3) {
        const t = svgEl('text', { x: (x + 3).toFixed(2), y: y + ROW - 5 });
        t.textContent = node.name.length <= chars ? node.name : node.name.slice(0, chars - 2) + '..';
        g.appendChild(t);
      }
      g.addEventListener('click', () => zoomTo(node));
      g.addEventListener('mouseenter', () => {
        $('frame-info').textContent = node.name + ': ' + fmtMetric(m, node.value) + ' (' +
          pct(node.value, tree.value) + ' of all, ' + pct(node.value, zoom.value) + ' of the zoomed frame)';
      });
      svg.appendChild(g);
    };
    for (let a = zoom.parent; a; a = a.parent) frame(a, 0, W, 'above');
    const scale = zoom.value ? W / zoom.value : 0;
    const walk = (node, x) => {
      const w = node.value * scale;
      if (w < 0.3) return;
      frame(node, x, w, node === zoom ? 'zoomed' : '');
      if (node.depth > maxDepth) maxDepth = node.depth;
      const kids = [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name));
      for (const ch of kids) { walk(ch, x); x += ch.value * scale; }
    };
    if (tree.value) walk(zoom, 0);
    else {
      const t = svgEl('text', { x: 4, y: 14 });
      t.textContent = 'nothing to show for ' + m.label + ' in this selection';
      svg.appendChild(t);
    }
    svg.setAttribute('width', W);
    svg.setAttribute('height', (maxDepth + 1) * ROW + 4);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + ((maxDepth + 1) * ROW + 4));
    showSearch();
  }

  // showSearch: the share of the search's matches, a frame counted once however many matching
  // frames are above it.
  function showSearch() {
    const out = $('search-result');
    if (!state.search) {
      out.textContent = '';
      out.removeAttribute('data-value');
      return;
    }
    let sum = 0, frames = 0;
    const walk = (node) => {
      if (node.parent && matches(node.name)) { sum += node.value; frames++; return; }
      for (const ch of node.children.values()) walk(ch);
    };
    walk(tree);
    out.dataset.value = sum;
    out.dataset.total = tree.value;
    out.textContent = frames ? 'matched ' + fmtMetric(state.metric, sum) + ' of ' +
      fmtMetric(state.metric, tree.value) + ' (' + pct(sum, tree.value) + ') in ' + frames + ' frames'
      : 'no frame matches';
  }

  function zoomTo(node) {
    const p = pathOf(node);
    if (p.join('\n') === state.zoom.join('\n')) return;
    state.history.push(state.zoom);
    state.zoom = p;
    drawFlame();
  }

  // The live heap chart of the selected images, on the run's time, and the range chosen on it.
  const chart = { W: 1000, H: 230, L: 70, R: 10, T: 10, B: 28, t0: 0, t1: 1 };
  function drawChart() {
    const svg = $('chart');
    svg.textContent = '';
    const sel = images.filter((im) => state.images.has(im.index));
    const W = Math.max(400, $('chart-box').clientWidth || 1000);
    chart.W = W;
    const { H, L, R, T, B } = chart;
    let t0 = Infinity, t1 = 0, ymax = 1;
    for (const im of sel) {
      t0 = Math.min(t0, im.offset);
      t1 = Math.max(t1, im.offset + im.d.duration_ns);
      ymax = Math.max(ymax, im.d.peak_live_bytes);
    }
    if (!sel.length) { t0 = 0; t1 = 1; }
    if (t1 <= t0) t1 = t0 + 1;
    chart.t0 = t0;
    chart.t1 = t1;
    const x = (t) => L + (t - t0) * (W - L - R) / (t1 - t0);
    const y = (b) => H - B - b * (H - B - T) / ymax;
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.appendChild(svgEl('rect', { x: L, y: T, width: W - L - R, height: H - B - T, fill: '#f6f8fb', stroke: '#ccd' }));
    const label = (tx, ty, text, anchor) => {
      const t = svgEl('text', { x: tx, y: ty, 'text-anchor': anchor || 'start' });
      t.textContent = text;
      svg.appendChild(t);
    };
    label(L - 6, T + 10, fmtBytes(ymax), 'end');
    label(L - 6, H - B, '0 B', 'end');
    for (let k = 0; k <= 4; k++) label(x(t0 + k * (t1 - t0) / 4), H - 10, fmtTime(t0 + k * (t1 - t0) / 4), k ? (k === 4 ? 'end' : 'middle') : 'start');
    sel.forEach((im, k) => {
      // Steps: the live heap holds its level until the next point.
      const pts = [x(im.offset) + ',' + y(0)], c = im.d.chart;
      let last = y(0);
      for (let i = 0; i < c.length; i += 2) {
        const px = x(im.offset + c[i]).toFixed(1);
        pts.push(px + ',' + last, px + ',' + (last = y(c[i + 1]).toFixed(1)));
      }
      const color = COLORS[im.index % COLORS.length];
      svg.appendChild(svgEl('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }));
      const dot = svgEl('circle', { cx: x(im.offset + im.d.peak_time_ns), cy: y(im.d.peak_live_bytes), r: 4, fill: color });
      const title = svgEl('title', {});
      title.textContent = im.label + ': peak ' + fmtBytes(im.d.peak_live_bytes) + ' at ' + fmtTime(im.d.peak_time_ns);
      dot.appendChild(title);
      svg.appendChild(dot);
    });
    const r = svgEl('rect', { class: 'sel', y: T, height: H - B - T, x: 0, width: 0, visibility: 'hidden' });
    if (state.range) {
      const a = Math.max(x(state.range[0]), L), b = Math.min(x(state.range[1]), W - R);
      r.setAttribute('x', a);
      r.setAttribute('width', Math.max(b - a, 1));
      r.setAttribute('visibility', 'visible');
    }
    svg.appendChild(r);
    chart.sel = r;
  }

  // The AddrSpace samples of the selected images, on the live heap chart's time: memray's
  // resident-against-heap plot, one line each for the heap, the mapped and the resident bytes.
  const MEMORY_LINES = [['heap (live)', 1, '#c0392b'], ['mapped', 2, '#2c7fb8'], ['resident', 3, '#2ca25f']];
  function drawMemory() {
    const svg = $('memory');
    svg.textContent = '';
    const sel = images.filter((im) => state.images.has(im.index) && im.d.memory.length);
    $('memory-part').hidden = !sel.length;
    if (!sel.length) return;
    // The live heap chart's time, on to the last sample (a generation's end may come after
    // the last event).
    const { W, H, L, R, T, B, t0 } = chart;
    let ymax = 1, t1 = chart.t1;
    for (const im of sel)
      for (let i = 0; i < im.d.memory.length; i += 4) {
        ymax = Math.max(ymax, im.d.memory[i + 1], im.d.memory[i + 2], im.d.memory[i + 3]);
        t1 = Math.max(t1, im.offset + im.d.memory[i]);
      }
    const x = (t) => L + (t - t0) * (W - L - R) / (t1 - t0);
    const y = (b) => H - B - b * (H - B - T) / ymax;
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.appendChild(svgEl('rect', { x: L, y: T, width: W - L - R, height: H - B - T, fill: '#f6f8fb', stroke: '#ccd' }));
    const label = (tx, ty, text, anchor, fill) => {
      const t = svgEl('text', { x: tx, y: ty, 'text-anchor': anchor || 'start', fill: fill || '#222' });
      t.textContent = text;
      svg.appendChild(t);
    };
    label(L - 6, T + 10, fmtBytes(ymax), 'end');
    label(L - 6, H - B, '0 B', 'end');
    for (let k = 0; k <= 4; k++) label(x(t0 + k * (t1 - t0) / 4), H - 10, fmtTime(t0 + k * (t1 - t0) / 4), k ? (k === 4 ? 'end' : 'middle') : 'start');
    MEMORY_LINES.forEach(([name, v, color], k) => {
      label(L + 10 + 130 * k, T + 18, name, 'start', color);
      for (const im of sel) {
        // Straight from sample to sample, the last held to the image's end; a lone sample a dot too.
        const m = im.d.memory, pts = [], end = x(im.offset + Math.max(im.d.duration_ns, m[m.length - 4])).toFixed(1);
        for (let i = 0; i < m.length; i += 4) pts.push(x(im.offset + m[i]).toFixed(1) + ',' + y(m[i + v]).toFixed(1));
        pts.push(end + ',' + y(m[m.length - 4 + v]).toFixed(1));
        if (m.length === 4) svg.appendChild(svgEl('circle', { cx: end, cy: y(m[v]), r: 3, fill: color }));
        const line = svgEl('polyline', { class: 'memory-line', points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 });
        const title = svgEl('title', {});
        title.textContent = (D.run ? im.label + ': ' : '') + name;
        line.appendChild(title);
        svg.appendChild(line);
      }
    });
  }

  function chartTime(ev) {
    const box = $('chart').getBoundingClientRect();
    const px = Math.min(Math.max(ev.clientX - box.left, chart.L), chart.W - chart.R);
    return chart.t0 + (px - chart.L) * (chart.t1 - chart.t0) / (chart.W - chart.L - chart.R);
  }

  function setupChartDrag() {
    let from = null;
    const svg = $('chart');
    svg.addEventListener('mousedown', (ev) => { from = chartTime(ev); ev.preventDefault(); });
    window.addEventListener('mousemove', (ev) => {
      if (from === null) return;
      const to = chartTime(ev), x = (t) => chart.L + (t - chart.t0) * (chart.W - chart.L - chart.R) / (chart.t1 - chart.t0);
      chart.sel.setAttribute('x', Math.min(x(from), x(to)));
      chart.sel.setAttribute('width', Math.abs(x(to) - x(from)));
      chart.sel.setAttribute('visibility', 'visible');
    });
    window.addEventListener('mouseup', (ev) => {
      if (from === null) return;
      const to = chartTime(ev), span = chart.t1 - chart.t0;
      const a = Math.min(from, to), b = Math.max(from, to);
      from = null;
      // A click without a drag goes back to the whole trace.
      setRange(b - a > span / 500 ? [a, b] : null);
    });
  }

  function setRange(r) {
    state.range = r;
    $('range-clear').disabled = !r;
    $('range').textContent = r ? 'allocations made from ' + fmtTime(r[0]) + ' to ' + fmtTime(r[1]) +
      ' (to the nearest ' + fmtTime(Math.max(...images.map((im) => im.d.cell_ns))) + ')' : '';
    update();
  }

  // The site table: rows grouped by state.group, sorted and filtered.
  function drawTable(S) {
    const head = $('sites').tHead.rows[0];
    if (!head.cells.length) {
      for (const c of COLUMNS) {
        const th = el('th', { 'data-key': c.key, class: c.key === 'site' ? 'left' : '' }, c.label);
        th.addEventListener('click', () => {
          state.sort = { key: c.key, desc: state.sort.key === c.key ? !state.sort.desc : c.key !== 'site' };
          update();
        });
        head.appendChild(th);
      }
    }
    for (const th of head.cells) {
      th.classList.toggle('sorted', th.dataset.key === state.sort.key);
      th.classList.toggle('up', th.dataset.key === state.sort.key && !state.sort.desc);
    }
    const rows = new Map();
    for (const { im, v } of S) {
      for (let s = 0; s < im.paths.length; s++) {
        if (!v[s * 6 + V.allocs] && !v[s * 6 + V.leaked] && !v[s * 6 + V.peak]) continue;
        const key = im.keys[s][state.group];
        let row = rows.get(key);
        if (!row) rows.set(key, (row = { key, v: new Float64Array(6) }));
        for (let k = 0; k < 6; k++) row.v[k] += v[s * 6 + k];
      }
    }
    const f = state.filter;
    let list = [...rows.values()].filter((r) => !f || r.key.toLowerCase().includes(f));
    const col = COLUMNS.find((c) => c.key === state.sort.key), dir = state.sort.desc ? -1 : 1;
    list.sort((a, b) => {
      const d = col.v === undefined ? (a.key < b.key ? -1 : a.key > b.key) : a.v[col.v] - b.v[col.v];
      return d ? d * dir : (a.key < b.key ? -1 : a.key > b.key);
    });
    const body = $('sites').tBodies[0];
    body.textContent = '';
    let bytes = 0;
    for (const r of list) bytes += r.v[V.bytes];
    for (const r of list.slice(0, TABLE_ROWS)) {
      const tr = el('tr');
      for (const c of COLUMNS)
        tr.appendChild(c.v === undefined ? el('td', { class: 'site' }, r.key) : el('td', {}, fmtMetric(c, r.v[c.v])));
      body.appendChild(tr);
    }
    const info = $('table-info');
    info.dataset.rows = list.length;
    info.dataset.bytes = bytes;
    info.textContent = list.length + ' rows, ' + fmtBytes(bytes) + ' allocated' +
      (list.length > TABLE_ROWS ? '; the first ' + TABLE_ROWS + ' shown' : '');
  }

  function drawTotals(S) {
    const t = totalsOf(S);
    const narrowed = state.range || images.some((im) => state.threads[im.index].size < im.nthreads) ||
      state.images.size < images.length;
    $('totals').innerHTML = '';
    const p = $('totals');
    const add = (text, bold) => p.appendChild(bold ? el('b', {}, text) : document.createTextNode(text));
    add(narrowed ? 'In this selection: ' : '');
    add(fmtCount(t[V.allocs]), true); add(' allocations, ');
    add(fmtBytes(t[V.bytes]), true); add(' requested; ');
    add(fmtBytes(t[V.peak]), true); add(' of it live at the peak; ');
    add(fmtCount(t[V.temporary]), true); add(' temporary; ');
    add(fmtCount(t[V.leakedObjects]), true); add(' objects (');
    add(fmtBytes(t[V.leaked]), true); add(') live at the end');
  }

  function update() {
    const S = sums();
    tree = buildTree(S, state.metric);
    drawTotals(S);
    drawChart();
    drawMemory();
    drawFlame();
    drawTable(S);
    drawEvents();
  }

  // The parts drawn once, and the choices that narrow the page.
  function setupHeader() {
    const one = images.length === 1 && !D.run ? images[0].d : null;
    $('title').textContent = one ? 'xtrace report: ' + one.exe + ' (pid ' + one.pid + ')' :
      'xtrace run ' + D.title + ' (' + images.length + (images.length === 1 ? ' image)' : ' images)');
    const meta = D.heap === 'malloc' ? [] : ['heap ' + D.heap];
    for (const im of D.run ? [] : images) {
      const d = im.d;
      meta.push(d.file + (d.truncated ? ' (truncated)' : '') +
        (d.sample_bytes ? ' (estimated: sampled, one per ' + fmtBytes(d.sample_bytes) + ' allocated)' : '') +
        ': ' + fmtTime(d.duration_ns) + ', ' +
        d.generations + ' generations, ' + d.threads + ' threads, ' + d.events + ' events; peak ' +
        fmtBytes(d.peak_live_bytes) + ' at ' + fmtTime(d.peak_time_ns) + ', ' + d.frees + ' frees');
    }
    $('meta').textContent = meta.join('\n');
  }

  function setupProcesses() {
    if (!D.run) return;
    $('procs-part').hidden = false;
    const body = $('procs').tBodies[0];
    const boxes = [];
    for (const im of images) {
      const d = im.d, tr = el('tr');
      const box = el('input', { type: 'checkbox', 'data-image': im.index });
      box.checked = true;
      box.addEventListener('change', () => {
        if (box.checked) state.images.add(im.index); else state.images.delete(im.index);
        setupThreads();
        update();
      });
      boxes.push(box);
      const td = el('td');
      td.appendChild(box);
      tr.appendChild(td);
      tr.appendChild(el('td', {}, d.pid));
      tr.appendChild(el('td', {}, d.events));
      tr.appendChild(el('td', {}, fmtBytes(d.peak_live_bytes)));
      tr.appendChild(el('td', {}, d.end));
      const prog = el('td', { class: 'site' }, '  '.repeat(Math.min(d.depth, 16)) + d.args);
      prog.style.color = COLORS[im.index % COLORS.length];
      tr.appendChild(prog);
      body.appendChild(tr);
    }
    const all = (on) => {
      for (const b of boxes) {
        b.checked = on;
        if (on) state.images.add(+b.dataset.image); else state.images.delete(+b.dataset.image);
      }
      setupThreads();
      update();
    };
    $('procs-all').addEventListener('click', () => all(true));
    $('procs-none').addEventListener('click', () => all(false));
  }

  function setupThreads() {
    const box = $('threads');
    box.textContent = '';
    let shown = 0;
    for (const im of images) {
      if (!state.images.has(im.index)) continue;
      for (let k = 0; k < im.nthreads; k++) {
        const tid = k < im.d.thread_ids.length ? 'thread ' + im.d.thread_ids[k] : 'other threads';
        const cb = el('input', { type: 'checkbox', 'data-image': im.index, 'data-thread': k });
        cb.checked = state.threads[im.index].has(k);
        cb.addEventListener('change', () => {
          if (cb.checked) state.threads[im.index].add(k); else state.threads[im.index].delete(k);
          update();
        });
        const label = el('label');
        label.appendChild(cb);
        label.appendChild(document.createTextNode(' ' + (D.run ? im.d.pid + ' ' : '') + tid + ' (' +
          fmtBytes(im.threadBytes[k]) + ')'));
        box.appendChild(label);
        shown++;
      }
    }
    $('threads-part').hidden = shown < 2 && !D.run;
  }

  function drawEvents() {
    const box = $('events');
    box.textContent = '';
    for (const im of images) {
      if (!state.images.has(im.index)) continue;
      const d = im.d;
      if (D.run) box.appendChild(el('h3', {}, im.label));
      const t = el('table');
      t.appendChild(el('tr')).append(el('th', {}, 'event'), el('th', {}, 'experiment'), el('th', {}, 'count'));
      for (const [name, exp, n] of d.event_types)
        t.appendChild(el('tr')).append(el('td', { class: 'left' }, name), el('td', {}, exp), el('td', {}, n));
      if (!d.event_types.length)
        t.appendChild(el('tr')).append(el('td', { colspan: 3 }, 'no timer, sleep, region or log events'));
      box.appendChild(t);
      if (!d.logs.length) continue;
      box.appendChild(el('h3', {}, 'logs'));
      const l = el('table');
      l.appendChild(el('tr')).append(el('th', {}, 'time'), el('th', {}, 'thread'), el('th', { class: 'left' }, 'message'));
      for (const [ns, tid, text] of d.logs)
        l.appendChild(el('tr')).append(el('td', {}, fmtTime(ns)), el('td', {}, tid), el('td', { class: 'site' }, text));
      box.appendChild(l);
    }
  }

  function setupControls() {
    const metric = $('metric');
    for (const m of METRICS) metric.appendChild(el('option', { value: m.key }, m.label));
    metric.addEventListener('change', () => {
      state.metric = METRICS.find((m) => m.key === metric.value);
      update();
    });
    $('search').addEventListener('input', (ev) => {
      state.search = ev.target.value.trim().toLowerCase();
      drawFlame();
    });
    $('zoom-back').addEventListener('click', () => {
      if (state.history.length) state.zoom = state.history.pop();
      drawFlame();
    });
    $('zoom-reset').addEventListener('click', () => {
      if (state.zoom.length) state.history.push(state.zoom);
      state.zoom = [];
      drawFlame();
    });
    $('group').addEventListener('change', (ev) => { state.group = ev.target.value; update(); });
    $('filter').addEventListener('input', (ev) => { state.filter = ev.target.value.trim().toLowerCase(); update(); });
    $('range-clear').addEventListener('click', () => setRange(null));
    setupChartDrag();
    let resize = null;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(update, 100); });
  }

  setupHeader();
  setupProcesses();
  setupThreads();
  setupControls();
  update();
})();
