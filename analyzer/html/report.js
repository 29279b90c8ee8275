// heapprof's HTML report renderer (report_html.c embeds it after the data). It reads the
// JSON document in #hp-data and draws the summary cards, memory over time (SVG), the
// flame graph (canvas) and the tables. No library, no network. docs/html-report.md.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('hp-data').textContent);
  var KINDS = D.kinds;
  var KIND_LABEL = { peak: 'Peak memory', calls: 'Allocation calls', allocated: 'Bytes allocated',
    leaked: 'Leaked', temporary: 'Temporaries' };
  var BYTES = { peak: true, allocated: true, leaked: true };
  var SVGNS = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function sv(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function bytes(v) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    if (v < 1024) return Math.round(v) + ' B';
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return v.toFixed(1) + ' ' + u[i];
  }
  function count(v) { return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function fmt(kind, v) { return BYTES[kind] ? bytes(v) : count(v); }
  function secs(t) {
    if (t === 0) return '0';
    if (t < 1e-3) return (t * 1e6).toFixed(0) + ' µs';
    if (t < 1) return (t * 1e3).toFixed(1) + ' ms';
    return t.toFixed(t < 10 ? 2 : 1) + ' s';
  }
  function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '0%'; }

  // Frames: [function, file, line, module, inlined].
  function fname(id) { return id === -1 ? 'all' : id === -2 ? 'others' : D.frames[id][0]; }
  function floc(id) {
    if (id < 0) return '';
    var f = D.frames[id], s = '';
    if (f[1]) s = f[1] + (f[2] ? ':' + f[2] : '');
    if (f[3]) s += (s ? ' ' : '') + '(' + f[3] + ')';
    return s;
  }
  function hashHue(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return (h >>> 0);
  }

  var tip = el('div', { id: 'tip' });
  function showTip(ev, html) {
    tip.innerHTML = html;
    tip.style.display = 'block';
    var x = ev.clientX + 14, y = ev.clientY + 14, r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = Math.max(8, ev.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 8) y = Math.max(8, ev.clientY - r.height - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.style.display = 'none'; }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c];
    });
  }

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
    card('card-sites', 'Allocation sites', count(S.sites), S.sites, count(S.frees) + ' frees')]));

  function section(title, hint) {
    var s = el('section', {}, [el('h2', {}, [document.createTextNode(title),
      hint ? el('span', { cls: 'hint', text: hint }) : null])]);
    app.appendChild(s);
    return s;
  }

  // ---- flame trees ----
  // A tree: parent[], frame[], merged[], val[kind][], kids[] (sorted per kind on demand).
  function baseTree() {
    var N = D.nodes, n = N.length / 8, t = { n: n, parent: new Int32Array(n),
      frame: new Int32Array(n), merged: new Int32Array(n), val: [], kids: [] };
    for (var k = 0; k < KINDS.length; k++) t.val.push(new Float64Array(n));
    for (var i = 0; i < n; i++) {
      t.parent[i] = N[i * 8]; t.frame[i] = N[i * 8 + 1]; t.merged[i] = N[i * 8 + 2];
      for (k = 0; k < KINDS.length; k++) t.val[k][i] = N[i * 8 + 3 + k];
      t.kids.push([]);
    }
    for (i = 1; i < n; i++) t.kids[t.parent[i]].push(i);
    return t;
  }
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
  var search = el('input', { id: 'flame-search', type: 'search', placeholder: 'search (regexp)' });
  search.addEventListener('input', function () { F.search = search.value; drawFlame(); });
  bar.appendChild(search);
  var inv = el('input', { id: 'flame-invert', type: 'checkbox' });
  inv.addEventListener('change', function () { F.invert = inv.checked; F.zoom = 0; pickTree(); });
  bar.appendChild(el('label', {}, [inv, document.createTextNode(' inverted (allocating ' +
    'functions at the top)')]));
  var reset = el('button', { id: 'flame-reset', type: 'button', text: 'reset zoom' });
  reset.addEventListener('click', function () { F.zoom = 0; drawFlame(); });
  bar.appendChild(reset);
  fsec.appendChild(bar);
  var scopeBox = el('div', { id: 'flame-scope' });
  fsec.appendChild(scopeBox);
  var pathBox = el('div', { id: 'flame-path' });
  fsec.appendChild(pathBox);
  var canvas = el('canvas', { id: 'flame' });
  fsec.appendChild(canvas);
  var status = el('div', { id: 'flame-status' });
  fsec.appendChild(status);

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

  var ROW = 18;
  function drawFlame() {
    var t = F.tree, k = F.kind, v = t.val[k], kname = KINDS[k];
    kindButtons.forEach(function (b, i) {
      b.className = i === k ? 'on' : '';
      b.disabled = !!F.range && (KINDS[i] === 'leaked' || KINDS[i] === 'temporary');
    });
    var re = null;
    if (F.search) { try { re = new RegExp(F.search, 'i'); } catch (e) { re = null; } }
    // Depth of the visible part: from the zoomed node down.
    var zoom = F.zoom < t.n ? F.zoom : 0, chain = [];
    for (var j = zoom; j >= 0; j = t.parent[j]) chain.unshift(j);
    var maxd = 0;
    (function depth(n, d) {
      if (d > maxd) maxd = d;
      if (d > 400) return;
      t.kids[n].forEach(function (c) { if (v[c] > 0) depth(c, d + 1); });
    })(zoom, chain.length - 1);
    var W = Math.max(300, canvas.parentNode.clientWidth - 28), H = (maxd + 1) * ROW + 2;
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    canvas.style.height = H + 'px';
    var g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    g.font = '12px ui-monospace, "DejaVu Sans Mono", monospace';
    g.textBaseline = 'middle';
    F.rects = [];
    var total = v[zoom];
    function box(n, x, w, d, ancestor) {
      var y = d * ROW, id = t.frame[n], name = fname(id), hit = re && id >= 0 && re.test(name);
      var col;
      if (id === -1) col = '#8c96a8';
      else if (id === -2) col = '#c5cad3';
      else {
        var h = hashHue(name);
        col = 'hsl(' + (8 + h % 42) + ',' + (68 + (h >> 8) % 20) + '%,' + (56 + (h >> 16) % 12) + '%)';
      }
      if (re && !hit && id !== -1) col = '#dfe3ea';
      if (hit) col = '#d946ef';
      if (ancestor) g.globalAlpha = 0.55;
      g.fillStyle = col;
      g.fillRect(x, y, Math.max(w - 0.5, 0.5), ROW - 1);
      g.globalAlpha = 1;
      if (w > 28) {
        var label = id === -1 ? 'all (' + fmt(kname, v[n]) + ')' : id === -2 ?
          'others (' + t.merged[n] + ' frames)' : name;
        var fit = Math.floor((w - 6) / 7.2);
        if (label.length > fit) label = fit > 2 ? label.slice(0, fit - 1) + '…' : '';
        g.fillStyle = '#1d2330';
        g.fillText(label, x + 3, y + ROW / 2);
      }
      F.rects.push([x, y, w, ROW - 1, n]);
      return hit;
    }
    for (var i = 0; i < chain.length - 1; i++) box(chain[i], 0, W, i, true);
    (function layout(n, x, w, d) {
      box(n, x, w, d, false);
      var kids = t.kids[n].slice().sort(function (a, b) { return v[b] - v[a]; });
      var cx = x;
      for (var c = 0; c < kids.length; c++) {
        var cw = total ? v[kids[c]] / total * W : 0;
        if (cw >= 0.35 && d < 400) layout(kids[c], cx, cw, d + 1);
        cx += cw;
      }
    })(zoom, 0, total ? W : 0, chain.length - 1);
    canvas.setAttribute('data-zoom', zoom ? fname(t.frame[zoom]) : 'all');
    canvas.setAttribute('data-kind', kname);
    pathBox.textContent = '';
    chain.forEach(function (n, i) {
      if (i) pathBox.appendChild(document.createTextNode(' › '));
      var a = el('a', { text: fname(t.frame[n]) });
      a.addEventListener('click', function () { F.zoom = n; drawFlame(); });
      pathBox.appendChild(a);
    });
    var st = (KIND_LABEL[kname] || kname) + ': ' + fmt(kname, v[0]) + ' in all';
    if (zoom) st += ', ' + fmt(kname, total) + ' (' + pct(total, v[0]) + ') under the zoomed frame';
    if (re) st += ' · search: ' + fmt(kname, searchTotal(t, v, re)) + ' (' +
      pct(searchTotal(t, v, re), v[0]) + ') in matching frames';
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
  // The value of frames matching the search, each counted once (not again below a match).
  function searchTotal(t, v, re) {
    var sum = 0;
    (function walk(n) {
      var id = t.frame[n];
      if (id >= 0 && re.test(fname(id))) { sum += v[n]; return; }
      t.kids[n].forEach(walk);
    })(F.zoom < t.n ? F.zoom : 0);
    return sum;
  }
  function rectAt(ev) {
    var b = canvas.getBoundingClientRect(), x = ev.clientX - b.left, y = ev.clientY - b.top;
    for (var i = F.rects.length - 1; i >= 0; i--) {
      var r = F.rects[i];
      if (x >= r[0] && x < r[0] + r[2] && y >= r[1] && y < r[1] + r[3] + 1) return r[4];
    }
    return -1;
  }
  canvas.addEventListener('click', function (ev) {
    var n = rectAt(ev);
    if (n < 0) return;
    F.zoom = n;
    drawFlame();
  });
  canvas.addEventListener('mousemove', function (ev) {
    var n = rectAt(ev);
    if (n < 0) { hideTip(); return; }
    var t = F.tree, id = t.frame[n], h = '<div class="fn">' + esc(fname(id)) + '</div>';
    if (id >= 0) {
      var f = D.frames[id];
      h += '<div class="loc">' + esc(floc(id) || 'no source line') + (f[4] ? ' (inlined)' : '') + '</div>';
    }
    if (id === -2) h += '<div class="loc">' + t.merged[n] + ' frames too small to draw, merged</div>';
    h += '<table>';
    KINDS.forEach(function (k, i) {
      if (F.range && (k === 'leaked' || k === 'temporary')) return;
      h += '<tr><td>' + esc(KIND_LABEL[k] || k) + '</td><td class="n">' + fmt(k, t.val[i][n]) +
        '</td><td class="n">' + pct(t.val[i][n], t.val[i][0]) + '</td></tr>';
    });
    h += '</table>';
    // The full stack to the frame, each frame with its file:line (the inverted view's
    // from the allocating frame out).
    var path = [];
    for (var j = n; j > 0; j = t.parent[j]) {
      var fid = t.frame[j], where = fid >= 0 && D.frames[fid][1] ?
        D.frames[fid][1].split('/').pop() + (D.frames[fid][2] ? ':' + D.frames[fid][2] : '') : '';
      path.unshift(esc(fname(fid)) + (where ? ' <span class="loc">' + esc(where) + '</span>' : ''));
    }
    if (path.length > 1) {
      if (path.length > 24) path.splice(12, path.length - 22, '…');
      h += '<div class="stk">' + path.join('<br>') + '</div>';
    }
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

  function siteLabel(stack) {
    if (!stack.length) return '(no stack)';
    var f = D.frames[stack[0]];
    return f[0] + (f[1] ? ' ' + f[1].split('/').pop() + (f[2] ? ':' + f[2] : '') : '');
  }

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
  function stackRow(stack, cols) {
    var td = el('td', { colspan: cols });
    if (!stack.length) td.appendChild(el('div', { text: '(no stack)' }));
    var at = 0;
    stack.forEach(function (id) {
      if (id <= -3) {  // frames left out of a deep stack: -3 - their number
        td.appendChild(el('div', { cls: 'loc', text: '… ' + count(-3 - id) + ' frames …' }));
        at += -3 - id;
        return;
      }
      var d = el('div', {}, [document.createTextNode('#' + at++ + ' ' + D.frames[id][0] + '  '),
        el('span', { cls: 'loc', text: floc(id) + (D.frames[id][4] ? ' (inlined)' : '') })]);
      td.appendChild(d);
    });
    return el('tr', { cls: 'stack' }, [td]);
  }
  function table(id, cols, rows, sortCol) {
    var t = el('table', { cls: 'data', id: id }), thead = el('thead'), tbody = el('tbody');
    var tr = el('tr');
    var state = { col: sortCol, asc: false };
    cols.forEach(function (c, ci) {
      var th = el('th', { cls: c.num ? 'n' : '', text: c.title, 'data-col': c.key });
      th.addEventListener('click', function () {
        state.asc = state.col === ci ? !state.asc : !c.num;
        state.col = ci;
        render();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    t.appendChild(thead); t.appendChild(tbody);
    function render() {
      var c = cols[state.col];
      rows.sort(function (a, b) {
        var x = c.value(a), y = c.value(b), r = x < y ? -1 : x > y ? 1 : 0;
        return state.asc ? r : -r;
      });
      Array.prototype.forEach.call(thead.firstChild.children, function (th, i) {
        th.className = (cols[i].num ? 'n' : '') + (i === state.col ? ' sorted' + (state.asc ? ' asc' : '') : '');
      });
      tbody.textContent = '';
      rows.forEach(function (r) {
        var row = el('tr', { cls: 'row' });
        cols.forEach(function (c) {
          var v = c.value(r);
          row.appendChild(el('td', { cls: c.cls || (c.num ? 'n' : ''), text: c.show ? c.show(r) : v,
            'data-value': v, 'data-col': c.key }));
        });
        var open = null;
        row.addEventListener('click', function () {
          if (open) { tbody.removeChild(open); open = null; return; }
          open = stackRow(r.stack, cols.length);
          tbody.insertBefore(open, row.nextSibling);
        });
        tbody.appendChild(row);
      });
    }
    render();
    return t;
  }
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
  app.appendChild(el('footer', { text: 'heapprof-analyze · ' + D.file }));
  document.body.appendChild(tip);

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
