// heapprof's HTML report of one run (report_html.c embeds it after common.js and the
// data). It draws the summary cards, memory over time (SVG), the flame graph (canvas)
// and the tables. No library, no network. docs/html-report.md.
(function () {
  'use strict';
  var D = HP.D, el = HP.el, sv = HP.sv, bytes = HP.bytes, count = HP.count, fmt = HP.fmt,
    secs = HP.secs, pct = HP.pct, esc = HP.esc, fname = HP.fname, showTip = HP.showTip,
    hideTip = HP.hideTip, siteLabel = HP.siteLabel, floc = HP.floc;
  var KINDS = D.kinds;
  var KIND_LABEL = { peak: 'Peak memory', calls: 'Allocation calls', allocated: 'Bytes allocated',
    leaked: 'Leaked', temporary: 'Temporaries' };

  // ---- header and cards ----
  var S = D.summary, P = D.process, app = document.getElementById('app');
  app.textContent = '';
  var meta = 'pid ' + P.pid + ' · ' + secs(S.duration_s) + ' · ' + count(P.threads) + ' thread' +
    (P.threads === 1 ? '' : 's') + ' · exit status ' + (P.exit_status === undefined ? 'unknown' :
    P.exit_status) + ' · ' + D.file + (P.sampled ? ' · sampled: figures are estimates' : '');
  var header = el('header', {}, [el('h1', {}, [el('span', { text: 'heapprof' }),
    document.createTextNode(' heap profile')]), el('div', { cls: 'cmd', text: P.command || P.exe || '' }),
    el('div', { cls: 'meta', text: meta })]);
  D.warnings.forEach(function (w) { header.appendChild(el('div', { cls: 'warn', text: w })); });
  app.appendChild(header);

  function card(id, label, value, exact, sub, bad) {
    return el('div', { cls: 'card' + (bad ? ' bad' : ''), id: id, 'data-value': exact }, [
      el('div', { cls: 'label', text: label }), el('div', { cls: 'value', text: value }),
      el('div', { cls: 'sub', text: sub || '' })]);
  }
  var dur = S.duration_s > 0 ? S.duration_s : 0;
  var L = D.leak_totals;
  var leakSub = L.scanned ? count(L.definite[1] + L.indirect[1]) + ' blocks lost; ' +
    bytes(L.possible[0]) + ' possibly lost, ' + bytes(L.reachable[0]) + ' reachable'
    : count(S.leaked_allocations) + ' blocks live at exit';
  var leakBytes = L.scanned ? L.definite[0] + L.indirect[0] : S.leaked_bytes;
  app.appendChild(el('div', { cls: 'cards' }, [
    card('card-peak', 'Peak heap', bytes(S.peak_heap_bytes), S.peak_heap_bytes,
      'at ' + secs(S.peak_time_s)),
    card('card-rss', 'Peak RSS', bytes(S.peak_rss_bytes), S.peak_rss_bytes,
      'heap at exit ' + bytes(S.heap_bytes)),
    card('card-calls', 'Allocation calls', count(S.allocations), S.allocations,
      dur ? count(S.allocations / dur) + ' per second' : ''),
    card('card-allocated', 'Bytes allocated', bytes(S.allocated_bytes), S.allocated_bytes,
      dur ? bytes(S.allocated_bytes / dur) + ' per second' : ''),
    card('card-leaked', L.scanned ? 'Leaked' : 'Live at exit', bytes(leakBytes), leakBytes, leakSub,
      leakBytes > 0),
    card('card-temporary', 'Temporaries', count(S.temporary), S.temporary,
      pct(S.temporary, S.allocations) + ' of calls freed at once'),
    card('card-sites', 'Allocation sites', count(S.sites), S.sites, count(S.frees) + ' frees'),
    checklistCard()]));

  // The memory checklist's verdicts (with --check's thresholds, or their defaults).
  function checklistCard() {
    var C = D.checklist;
    if (!C) return null;
    var na = C.items.filter(function (it) { return it[2] === 'na'; }).length;
    var c = card('card-checklist', 'Memory checklist', C.failed ? count(C.failed) + ' failed' :
      'passed', C.failed, (C.items.length - na) + ' of ' + C.items.length + ' items checked' +
      (na ? ', ' + na + ' N/A' : ''), C.failed > 0);
    c.addEventListener('click', function () { document.getElementById('checklist').scrollIntoView(); });
    c.style.cursor = 'pointer';
    return c;
  }

  function section(title, hint) { return HP.section(app, title, hint); }

  // ---- flame trees ----
  // A tree: parent[], frame[], merged[], val[kind][], kids[] (sorted per kind on demand).
  function baseTree() { return HP.treeOf(D.nodes, 8, KINDS.length); }
  // The inverted tree: each node's self value along its path to the root, innermost first.
  function invertTree(t) {
    var r = { n: 1, parent: [-1], frame: [-1], merged: [0], val: [], kids: [[]], index: [{}] };
    for (var k = 0; k < KINDS.length; k++) r.val.push([0]);
    for (var i = 1; i < t.n; i++) {
      var self = [], any = false;
      for (k = 0; k < KINDS.length; k++) {
        var v = t.val[k][i];
        t.kids[i].forEach(function (c) { v -= t.val[k][c]; });
        self.push(v);
        if (v > 0) any = true;
      }
      if (!any) continue;
      for (k = 0; k < KINDS.length; k++) r.val[k][0] += self[k];
      var at = 0;
      for (var j = i; j > 0; j = t.parent[j]) {
        var key = t.frame[j] === -2 ? 'o' : t.frame[j];
        var c = r.index[at][key];
        if (c === undefined) {
          c = r.n++;
          r.parent.push(at); r.frame.push(t.frame[j]); r.merged.push(t.merged[j]);
          r.kids.push([]); r.index.push({}); r.kids[at].push(c); r.index[at][key] = c;
          for (k = 0; k < KINDS.length; k++) r.val[k].push(0);
        }
        for (k = 0; k < KINDS.length; k++) r.val[k][c] += self[k];
        at = c;
      }
    }
    return r;
  }
  // The tree re-scoped to buckets [b0, b1]: calls and bytes allocated in the range, and
  // (as "peak") the bytes live at its end; leaked and temporary are not known per range.
  function scopeTree(t, b0, b1) {
    var r = { n: t.n, parent: t.parent, frame: t.frame, merged: t.merged, kids: t.kids, val: [] };
    for (var k = 0; k < KINDS.length; k++) r.val.push(new Float64Array(t.n));
    var vp = r.val[0], vc = r.val[1], va = r.val[2];
    D.node_series.forEach(function (s) {
      var nd = s[0], calls = 0, alloc = 0, live = 0, lastb = -1;
      for (var i = 1; i < s.length; i += 4) {
        var b = s[i];
        if (b >= b0 && b <= b1) { calls += s[i + 1]; alloc += s[i + 2]; }
        if (b <= b1 && b > lastb) { lastb = b; live = b === b1 ? s[i + 3] : 0; }
      }
      // A bucket absent from the sparse list had nothing live at its end.
      for (var j = nd; j >= 0; j = t.parent[j]) { vc[j] += calls; va[j] += alloc; vp[j] += live; }
    });
    return r;
  }

  var base = baseTree(), inverted = null;
  var F = { kind: 0, tree: base, zoom: 0, invert: false, search: '', range: null, rects: [] };

  var fsec = section('Flame graph', 'width = share of the kind chosen; click a frame to zoom, ' +
    'click above to zoom out; hover for details');
  var bar = el('div', { cls: 'toolbar' });
  var kindButtons = KINDS.map(function (k, i) {
    var b = el('button', { id: 'kind-' + k, type: 'button', text: KIND_LABEL[k] || k });
    b.addEventListener('click', function () { F.kind = i; F.zoom = 0; drawFlame(); });
    bar.appendChild(b);
    return b;
  });
  bar.appendChild(el('span', { cls: 'grow' }));
  var inv = el('input', { id: 'flame-invert', type: 'checkbox' });
  inv.addEventListener('change', function () { F.invert = inv.checked; F.zoom = 0; pickTree(); });
  var scopeBox = el('div', { id: 'flame-scope' });
  var parts = HP.flameFrame(fsec, bar, {
    onSearch: function (v) { F.search = v; drawFlame(); },
    onReset: function () { F.zoom = 0; drawFlame(); },
    extra: [el('label', {}, [inv, document.createTextNode(' inverted (allocating functions at ' +
      'the top)')])],
    above: [scopeBox] });
  var pathBox = parts.path, canvas = parts.canvas, status = parts.status;

  function pickTree() {
    if (F.range) {
      F.tree = scopeTree(base, F.range[0], F.range[1]);
    } else if (F.invert) {
      if (!inverted) inverted = invertTree(base);
      F.tree = inverted;
    } else {
      F.tree = base;
    }
    if (F.range && F.invert) F.tree = invertTree(F.tree);
    drawFlame();
  }

  function drawFlame() {
    var t = F.tree, k = F.kind, v = t.val[k], kname = KINDS[k];
    kindButtons.forEach(function (b, i) {
      b.className = i === k ? 'on' : '';
      b.disabled = !!F.range && (KINDS[i] === 'leaked' || KINDS[i] === 'temporary');
    });
    var re = HP.searchRegexp(F.search);
    var drawn = HP.drawFlame(canvas, pathBox, t, v, F.zoom, { re: re,
      rootLabel: 'all (' + fmt(kname, v[0]) + ')',
      onZoom: function (n) { F.zoom = n; drawFlame(); } });
    F.rects = drawn.rects;
    var zoom = drawn.chain[drawn.chain.length - 1], total = v[zoom];
    canvas.setAttribute('data-kind', kname);
    var st = (KIND_LABEL[kname] || kname) + ': ' + fmt(kname, v[0]) + ' in all';
    if (zoom) st += ', ' + fmt(kname, total) + ' (' + pct(total, v[0]) + ') under the zoomed frame';
    if (re) {
      var found = HP.searchTotal(t, v, re, zoom);
      st += ' · search: ' + fmt(kname, found) + ' (' + pct(found, v[0]) + ') in matching frames';
    }
    st += ' · ' + count(D.nodes.length / 8) + ' nodes (frames under ' + '0.01% merged into "others")';
    status.textContent = st;
    if (F.range) {
      scopeBox.className = 'on';
      scopeBox.textContent = '';
      scopeBox.appendChild(document.createTextNode('Scoped to ' + secs(F.range[2]) + ' – ' +
        secs(F.range[3]) + ': calls and bytes allocated in the range; "Peak memory" shows the ' +
        'bytes live at its end. '));
      var clr = el('a', { href: '#', text: 'whole run', id: 'flame-unscope' });
      clr.addEventListener('click', function (e) { e.preventDefault(); setRange(null); });
      scopeBox.appendChild(clr);
    } else {
      scopeBox.className = '';
    }
  }
  function rectAt(ev) { return HP.rectAt(canvas, F.rects, ev); }
  canvas.addEventListener('click', function (ev) {
    var n = rectAt(ev);
    if (n < 0) return;
    F.zoom = n;
    drawFlame();
  });
  canvas.addEventListener('mousemove', function (ev) {
    var n = rectAt(ev);
    if (n < 0) { hideTip(); return; }
    var t = F.tree, h = HP.frameTipHead(t, n);
    h += '<table>';
    KINDS.forEach(function (k, i) {
      if (F.range && (k === 'leaked' || k === 'temporary')) return;
      h += '<tr><td>' + esc(KIND_LABEL[k] || k) + '</td><td class="n">' + fmt(k, t.val[i][n]) +
        '</td><td class="n">' + pct(t.val[i][n], t.val[i][0]) + '</td></tr>';
    });
    h += '</table>';
    // The full stack to the frame (the inverted view's from the allocating frame out).
    h += HP.frameTipStack(t, n);
    showTip(ev, h);
  });
  canvas.addEventListener('mouseleave', hideTip);

  // ---- memory over time ----
  var tsec = section('Memory over time', 'heap (highest in each interval), RSS, and the sites ' +
    'with the most bytes live stacked; drag to select a range, which re-scopes the flame graph');
  var svg = sv('svg', { id: 'timeline' });
  tsec.appendChild(svg);
  var legend = el('div', { cls: 'legend', id: 'timeline-legend' });
  tsec.appendChild(legend);
  var PAL = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

  var TL = {};
  function drawTimeline() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var W = Math.max(300, tsec.clientWidth - 28), H = 260, ml = 64, mr = 12, mt = 12, mb = 24;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('height', H);
    var T = Math.max(S.duration_s, 1e-9), ymax = Math.max(S.peak_heap_bytes, 1);
    D.timeline.forEach(function (p) { if (p[2] > ymax) ymax = p[2]; });
    ymax *= 1.08;
    var X = function (t) { return ml + (W - ml - mr) * Math.min(Math.max(t / T, 0), 1); };
    var Y = function (b) { return mt + (H - mt - mb) * (1 - b / ymax); };
    TL = { X: X, T: T, ml: ml, mr: mr, W: W, H: H, mt: mt, mb: mb };
    var ax = sv('g', { 'class': 'axis' });
    for (var i = 0; i <= 4; i++) {
      var b = ymax * i / 4, y = Y(b);
      ax.appendChild(sv('line', { x1: ml, x2: W - mr, y1: y, y2: y }));
      var tx = sv('text', { x: ml - 6, y: y + 4, 'text-anchor': 'end' });
      tx.textContent = bytes(b);
      ax.appendChild(tx);
    }
    for (i = 0; i <= 6; i++) {
      var tt = T * i / 6, t2 = sv('text', { x: X(tt), y: H - 6, 'text-anchor': i ? i === 6 ? 'end' : 'middle' : 'start' });
      t2.textContent = secs(tt);
      ax.appendChild(t2);
    }
    svg.appendChild(ax);
    // Stacked sites: step areas over the series buckets.
    var bs = D.series.bucket_s, nb = D.series.n, acc = new Float64Array(nb);
    legend.textContent = '';
    D.stacked.forEach(function (s, si) {
      var top = [], bot = [];
      for (var b = 0; b < nb; b++) {
        var x0 = X(b * bs), x1 = X(Math.min((b + 1) * bs, T));
        bot.push([x0, Y(acc[b])], [x1, Y(acc[b])]);
        acc[b] += s.live[b];
        top.push([x0, Y(acc[b])], [x1, Y(acc[b])]);
      }
      var d = 'M' + top.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join('L') +
        'L' + bot.reverse().map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join('L') + 'Z';
      svg.appendChild(sv('path', { d: d, fill: PAL[si % PAL.length], 'fill-opacity': 0.55, stroke: 'none',
        'class': 'stacked-site' }));
      legend.appendChild(el('span', {}, [el('i', { style: 'background:' + PAL[si % PAL.length] }),
        document.createTextNode(siteLabel(s.stack))]));
    });
    // Steps: a point holds the highest heap (the last RSS) of the interval ending at it.
    function line(idx, color, dash, cls) {
      var d = '', pen = false, prev = 0;
      D.timeline.forEach(function (p) {
        if (p[idx] < 0) { pen = false; prev = p[0]; return; }
        var y = Y(p[idx]).toFixed(1);
        d += (pen ? 'V' + y : 'M' + X(prev).toFixed(1) + ',' + y) + 'H' + X(p[0]).toFixed(1);
        pen = true;
        prev = p[0];
      });
      if (d) svg.appendChild(sv('path', { d: d, fill: 'none', stroke: color, 'stroke-width': 1.6,
        'stroke-dasharray': dash || '', 'class': cls }));
    }
    line(2, '#c2410c', '5 3', 'rss-line');
    line(1, '#1f4fa8', '', 'heap-line');
    legend.insertBefore(el('span', {}, [el('i', { style: 'background:#c2410c' }),
      document.createTextNode('RSS')]), legend.firstChild);
    legend.insertBefore(el('span', {}, [el('i', { style: 'background:#1f4fa8' }),
      document.createTextNode('heap')]), legend.firstChild);
    var lastMark = -1e9, row = 0;
    D.marks.forEach(function (m) {
      var x = X(m[0]);
      // Labels of marks close together go on rows of their own.
      row = x - lastMark < 60 ? row + 1 : 0;
      lastMark = x;
      svg.appendChild(sv('line', { x1: x, x2: x, y1: mt, y2: H - mb, stroke: '#6b7280',
        'stroke-dasharray': '2 3', 'class': 'mark' }));
      var lt = sv('text', { x: x + 3, y: mt + 10 + 12 * (row % 3), 'font-size': 11, fill: '#4b5563' });
      lt.textContent = m[1];
      svg.appendChild(lt);
    });
    var px = X(S.peak_time_s), py = Y(S.peak_heap_bytes);
    svg.appendChild(sv('circle', { cx: px, cy: py, r: 4, fill: '#b42318', id: 'peak-marker' }));
    var pl = sv('text', { x: px + (px > W - 160 ? -8 : 8), y: Math.max(py - 6, mt + 10), 'font-size': 12,
      'font-weight': 600, fill: '#b42318', 'text-anchor': px > W - 160 ? 'end' : 'start' });
    pl.textContent = 'peak ' + bytes(S.peak_heap_bytes);
    svg.appendChild(pl);
    TL.guide = sv('line', { y1: mt, y2: H - mb, stroke: '#111827', 'stroke-width': 0.8, visibility: 'hidden' });
    svg.appendChild(TL.guide);
    TL.sel = sv('rect', { y: mt, height: H - mt - mb, fill: 'rgba(47,111,222,0.15)', stroke: '#2f6fde',
      'stroke-width': 0.8, visibility: 'hidden', id: 'timeline-selection' });
    svg.appendChild(TL.sel);
    if (F.range) {
      TL.sel.setAttribute('x', X(F.range[2]));
      TL.sel.setAttribute('width', Math.max(1, X(F.range[3]) - X(F.range[2])));
      TL.sel.setAttribute('visibility', 'visible');
    }
  }
  function tAt(ev) {
    var b = svg.getBoundingClientRect(), sx = (ev.clientX - b.left) * TL.W / b.width;
    return Math.min(Math.max((sx - TL.ml) / (TL.W - TL.ml - TL.mr), 0), 1) * TL.T;
  }
  var drag = null;
  svg.addEventListener('mousedown', function (ev) { drag = { t0: tAt(ev), moved: false }; ev.preventDefault(); });
  window.addEventListener('mouseup', function (ev) {
    if (!drag) return;
    var t0 = drag.t0, t1 = tAt(ev), moved = drag.moved;
    drag = null;
    if (!moved || Math.abs(TL.X(t1) - TL.X(t0)) < 4) {
      if (!F.range) TL.sel.setAttribute('visibility', 'hidden');
      return;
    }
    setRange([Math.min(t0, t1), Math.max(t0, t1)]);
  });
  svg.addEventListener('mousemove', function (ev) {
    var t = tAt(ev), x = TL.X(t);
    if (drag) {
      drag.moved = true;
      var a = TL.X(Math.min(drag.t0, t)), b = TL.X(Math.max(drag.t0, t));
      TL.sel.setAttribute('x', a); TL.sel.setAttribute('width', Math.max(1, b - a));
      TL.sel.setAttribute('visibility', 'visible');
    }
    TL.guide.setAttribute('x1', x); TL.guide.setAttribute('x2', x);
    TL.guide.setAttribute('visibility', 'visible');
    // The nearest timeline point, and the stacked sites' bucket.
    var best = null;
    D.timeline.forEach(function (p) { if (!best || Math.abs(p[0] - t) < Math.abs(best[0] - t)) best = p; });
    var h = '<div class="fn">' + secs(t) + '</div><table>';
    if (best) {
      h += '<tr><td>heap</td><td class="n">' + bytes(best[1]) + '</td></tr>';
      if (best[2] >= 0) h += '<tr><td>RSS</td><td class="n">' + bytes(best[2]) + '</td></tr>';
    }
    var b2 = D.series.bucket_s > 0 ? Math.min(Math.floor(t / D.series.bucket_s), D.series.n - 1) : -1;
    if (b2 >= 0) D.stacked.forEach(function (s, si) {
      h += '<tr><td><span style="color:' + PAL[si % PAL.length] + '">■</span> ' + esc(siteLabel(s.stack)) +
        '</td><td class="n">' + bytes(s.live[b2]) + '</td></tr>';
    });
    D.marks.forEach(function (m) {
      if (Math.abs(TL.X(m[0]) - x) < 4) h += '<tr><td>mark</td><td>' + esc(m[1]) + '</td></tr>';
    });
    showTip(ev, h + '</table>');
  });
  svg.addEventListener('mouseleave', function () { hideTip(); TL.guide.setAttribute('visibility', 'hidden'); });
  function setRange(r) {
    if (r && D.series.n && D.series.bucket_s > 0) {
      // The flame graph's series may have merged buckets in groups (the size bound).
      var g = D.node_series_merged || 1, bs = D.series.bucket_s * g,
        b0 = Math.max(0, Math.floor(r[0] / bs)),
        b1 = Math.min(Math.ceil(D.series.n / g) - 1, Math.floor(r[1] / bs));
      // Whole buckets: the range shown is what the per-site series can tell.
      F.range = [b0, b1, b0 * bs, Math.min((b1 + 1) * bs, S.duration_s)];
      if (KINDS[F.kind] === 'leaked' || KINDS[F.kind] === 'temporary') F.kind = 2;
    } else {
      F.range = null;
    }
    F.zoom = 0;
    pickTree();
    drawTimeline();
  }
  app.insertBefore(tsec, fsec);

  // ---- tables ----
  var table = HP.table;
  var siteCols = [
    { key: 'function', title: 'Allocated in', cls: 'fn', value: function (s) { return s.stack.length ? D.frames[s.stack[0]][0] : '(no stack)'; } },
    { key: 'location', title: 'Where', cls: 'loc', value: function (s) { return s.stack.length ? floc(s.stack[0]) : ''; } },
    { key: 'peak', title: 'At peak', num: true, value: function (s) { return s.peak; }, show: function (s) { return bytes(s.peak); } },
    { key: 'calls', title: 'Calls', num: true, value: function (s) { return s.calls; }, show: function (s) { return count(s.calls); } },
    { key: 'allocated', title: 'Allocated', num: true, value: function (s) { return s.allocated; }, show: function (s) { return bytes(s.allocated); } },
    { key: 'leaked', title: 'Live at exit', num: true, value: function (s) { return s.leaked; }, show: function (s) { return bytes(s.leaked); } },
    { key: 'temporary', title: 'Temporary', num: true, value: function (s) { return s.temporary; }, show: function (s) { return count(s.temporary); } }];
  var ssec = section('Allocation sites', D.sites.length + ' of ' + count(S.sites) +
    ' sites (the top 100 of each column); click a header to sort, a row for its full stack');
  ssec.appendChild(el('div', { cls: 'scroll' }, [table('sites-table', siteCols, D.sites.slice(), 2)]));

  var siteByIndex = {};
  D.sites.forEach(function (s) { siteByIndex[s.i] = s; });
  var KIND_NAME = { definite: 'definitely lost', indirect: 'indirectly lost', possible: 'possibly lost',
    reachable: 'still reachable', live: 'live at exit' };
  var leakRows = D.leaks.map(function (l) {
    var s = siteByIndex[l[3]];
    return { kind: l[0], bytes: l[1], blocks: l[2], stack: s ? s.stack : [] };
  });
  var lsec = section('Leaks', L.scanned ? 'from the reachability scan at exit' :
    'no reachability scan in this trace: blocks live at exit');
  if (leakRows.length) {
    lsec.appendChild(el('div', { cls: 'scroll' }, [table('leaks-table', [
      { key: 'kind', title: 'Kind', value: function (r) { return KIND_NAME[r.kind] || r.kind; } },
      { key: 'bytes', title: 'Bytes', num: true, value: function (r) { return r.bytes; }, show: function (r) { return bytes(r.bytes); } },
      { key: 'blocks', title: 'Blocks', num: true, value: function (r) { return r.blocks; }, show: function (r) { return count(r.blocks); } },
      siteCols[0], siteCols[1]], leakRows, 1)]));
  } else {
    lsec.appendChild(el('div', { cls: 'empty', id: 'leaks-none', text: 'No leaks.' }));
  }
  if (D.checklist) {
    var VERDICT = { pass: 'PASS', fail: 'FAIL', na: 'N/A' };
    var csec = section('Memory checklist', 'as heapprof-analyze --check reports it; each ' +
      'limit is the option named, or its default');
    csec.id = 'checklist';
    var ct = el('table', { cls: 'data', id: 'checklist-table' }, [el('thead', {}, [el('tr', {},
      ['', 'Item', 'Measured', 'Limit', 'Option', 'How'].map(function (h) { return el('th', { text: h }); }))])]);
    var cb = el('tbody');
    D.checklist.items.forEach(function (it) {
      cb.appendChild(el('tr', { 'data-key': it[0], 'data-verdict': it[2] }, [
        el('td', {}, [el('span', { cls: 'verdict ' + it[2], text: VERDICT[it[2]] })]),
        el('td', { text: it[1] }), el('td', { cls: 'n', text: it[3] }), el('td', { cls: 'n', text: it[4] }),
        el('td', { cls: 'loc', text: it[5] || '' }), el('td', { cls: 'loc', text: it[6] })]));
    });
    ct.appendChild(cb);
    csec.appendChild(el('div', { cls: 'scroll' }, [ct]));
  }
  app.appendChild(el('footer', { text: 'heapprof-analyze · ' + D.file }));

  drawTimeline();
  pickTree();
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { drawTimeline(); drawFlame(); }, 100);
  });
  // For tests and scripts: where a frame is drawn, and when rendering finished.
  window.heapprof = {
    data: D,
    frameRect: function (name) {
      var b = canvas.getBoundingClientRect();
      for (var i = 0; i < F.rects.length; i++) {
        var r = F.rects[i], id = F.tree.frame[r[4]];
        if (id >= 0 && D.frames[id][0] === name)
          return { x: b.left + r[0] + r[2] / 2, y: b.top + r[1] + r[3] / 2, width: r[2] };
      }
      return null;
    },
    setRange: function (t0, t1) { setRange([t0, t1]); },
    renderedMs: performance.now()
  };
})();
