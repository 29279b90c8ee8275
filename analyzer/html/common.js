// What heapprof's two HTML pages share (html_page.c puts this first in each, then the
// page's own script: report.js for one run, diff.js for two): DOM and number helpers,
// the tooltip, frames, sortable tables with stacks, and the flame graph on a canvas.
// No library, no network. docs/html-report.md.
var HP = (function () {
  'use strict';
  var D = JSON.parse(document.getElementById('hp-data').textContent);
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
    if (v < 0) return '-' + bytes(-v);
    if (v < 1024) return Math.round(v) + ' B';
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return v.toFixed(1) + ' ' + u[i];
  }
  function count(v) {
    if (v < 0) return '-' + count(-v);
    return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }
  var BYTES = { peak: true, allocated: true, leaked: true };
  function fmt(kind, v) { return BYTES[kind] ? bytes(v) : count(v); }
  // A change: "+1.5 KiB", "-12", "0".
  function signed(kind, v) { return (v > 0 ? '+' : '') + fmt(kind, v); }
  function secs(t) {
    if (t === 0) return '0';
    if (t < 1e-3) return (t * 1e6).toFixed(0) + ' µs';
    if (t < 1) return (t * 1e3).toFixed(1) + ' ms';
    return t.toFixed(t < 10 ? 2 : 1) + ' s';
  }
  function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '0%'; }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c];
    });
  }
  function hashHue(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return (h >>> 0);
  }

  // Frames: [function, file, line, module, inlined]; -1 the root, -2 "others".
  function fname(id) { return id === -1 ? 'all' : id === -2 ? 'others' : D.frames[id][0]; }
  function floc(id) {
    if (id < 0) return '';
    var f = D.frames[id], s = '';
    if (f[1]) s = f[1] + (f[2] ? ':' + f[2] : '');
    if (f[3]) s += (s ? ' ' : '') + '(' + f[3] + ')';
    return s;
  }
  // "function file.c:12" of a stack's innermost frame.
  function siteLabel(stack) {
    if (!stack.length) return '(no stack)';
    var f = D.frames[stack[0]];
    return f[0] + (f[1] ? ' ' + f[1].split('/').pop() + (f[2] ? ':' + f[2] : '') : '');
  }

  var tip = el('div', { id: 'tip' });
  function showTip(ev, html) {
    if (!tip.parentNode) document.body.appendChild(tip);
    tip.innerHTML = html;
    tip.style.display = 'block';
    var x = ev.clientX + 14, y = ev.clientY + 14, r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = Math.max(8, ev.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 8) y = Math.max(8, ev.clientY - r.height - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.style.display = 'none'; }

  function section(app, title, hint) {
    var s = el('section', {}, [el('h2', {}, [document.createTextNode(title),
      hint ? el('span', { cls: 'hint', text: hint }) : null])]);
    app.appendChild(s);
    return s;
  }

  // ---- tables ----
  // A row's full stack, innermost first; -3 - n stands for n frames left out.
  function stackRow(stack, cols) {
    var td = el('td', { colspan: cols });
    if (!stack.length) td.appendChild(el('div', { text: '(no stack)' }));
    var at = 0;
    stack.forEach(function (id) {
      if (id <= -3) {
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
  // A sortable table of rows that have a .stack; cols: {key, title, num, cls, value(r),
  // show(r)}; a click on a header sorts by it, on a row opens its stack.
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

  // ---- flame graphs ----
  // A tree: parent[], frame[], merged[], kids[] (node 0 the root), and per measure a
  // value array; a view draws one value array as widths.
  function treeOf(N, stride, nvals) {
    var n = N.length / stride, t = { n: n, parent: new Int32Array(n), frame: new Int32Array(n),
      merged: new Int32Array(n), val: [], kids: [] };
    for (var k = 0; k < nvals; k++) t.val.push(new Float64Array(n));
    for (var i = 0; i < n; i++) {
      t.parent[i] = N[i * stride]; t.frame[i] = N[i * stride + 1]; t.merged[i] = N[i * stride + 2];
      for (k = 0; k < nvals; k++) t.val[k][i] = N[i * stride + 3 + k];
      t.kids.push([]);
    }
    for (i = 1; i < n; i++) t.kids[t.parent[i]].push(i);
    return t;
  }
  // The colour of a frame by its name: warm hues, stable from run to run.
  function warm(name) {
    var h = hashHue(name);
    return 'hsl(' + (8 + h % 42) + ',' + (68 + (h >> 8) % 20) + '%,' + (56 + (h >> 16) % 12) + '%)';
  }
  var ROW = 18;
  // Draws tree t on canvas with widths v, from node `zoom` (its ancestors above it, faded).
  // o: re (search: matching frames highlighted, the others greyed), color(n, name) (the
  // fill; default warm()), rootLabel, onZoom(n) (a click on the path). Returns the
  // rectangles drawn, [x, y, w, h, node], and the chain from the root to the zoom.
  function drawFlame(canvas, pathBox, t, v, zoom, o) {
    zoom = zoom < t.n ? zoom : 0;
    var re = o.re, chain = [];
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
    var rects = [], total = v[zoom];
    function box(n, x, w, d, ancestor) {
      var y = d * ROW, id = t.frame[n], name = fname(id), hit = re && id >= 0 && re.test(name);
      var col;
      if (id === -1) col = '#8c96a8';
      else if (id === -2) col = '#c5cad3';
      else col = o.color ? o.color(n, name) : warm(name);
      if (re && !hit && id !== -1) col = '#dfe3ea';
      if (hit) col = '#d946ef';
      if (ancestor) g.globalAlpha = 0.55;
      g.fillStyle = col;
      g.fillRect(x, y, Math.max(w - 0.5, 0.5), ROW - 1);
      g.globalAlpha = 1;
      if (w > 28) {
        var label = id === -1 ? o.rootLabel : id === -2 ? 'others (' + t.merged[n] + ' frames)' : name;
        var fit = Math.floor((w - 6) / 7.2);
        if (label.length > fit) label = fit > 2 ? label.slice(0, fit - 1) + '…' : '';
        g.fillStyle = '#1d2330';
        g.fillText(label, x + 3, y + ROW / 2);
      }
      rects.push([x, y, w, ROW - 1, n]);
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
    pathBox.textContent = '';
    chain.forEach(function (n, i) {
      if (i) pathBox.appendChild(document.createTextNode(' › '));
      var a = el('a', { text: fname(t.frame[n]) });
      a.addEventListener('click', function () { o.onZoom(n); });
      pathBox.appendChild(a);
    });
    return { rects: rects, chain: chain };
  }
  // The parts around a flame graph in section sec: the toolbar `bar` (its kind buttons
  // already in it) gets the search box, then `extra` (more controls), then "reset
  // zoom"; below it `above` (elements), the zoom path, the canvas and the status line.
  function flameFrame(sec, bar, o) {
    var search = el('input', { id: 'flame-search', type: 'search', placeholder: 'search (regexp)' });
    search.addEventListener('input', function () { o.onSearch(search.value); });
    bar.appendChild(search);
    (o.extra || []).forEach(function (e) { bar.appendChild(e); });
    var reset = el('button', { id: 'flame-reset', type: 'button', text: 'reset zoom' });
    reset.addEventListener('click', o.onReset);
    bar.appendChild(reset);
    sec.appendChild(bar);
    (o.above || []).forEach(function (e) { sec.appendChild(e); });
    var parts = { path: el('div', { id: 'flame-path' }), canvas: el('canvas', { id: 'flame' }),
      status: el('div', { id: 'flame-status' }) };
    sec.appendChild(parts.path);
    sec.appendChild(parts.canvas);
    sec.appendChild(parts.status);
    return parts;
  }
  // The node under the mouse, or -1.
  function rectAt(canvas, rects, ev) {
    var b = canvas.getBoundingClientRect(), x = ev.clientX - b.left, y = ev.clientY - b.top;
    for (var i = rects.length - 1; i >= 0; i--) {
      var r = rects[i];
      if (x >= r[0] && x < r[0] + r[2] && y >= r[1] && y < r[1] + r[3] + 1) return r[4];
    }
    return -1;
  }
  // The value of frames matching re under node `from`, each counted once (not again
  // below a match).
  function searchTotal(t, v, re, from) {
    var sum = 0;
    (function walk(n) {
      var id = t.frame[n];
      if (id >= 0 && re.test(fname(id))) { sum += v[n]; return; }
      t.kids[n].forEach(walk);
    })(from < t.n ? from : 0);
    return sum;
  }
  // A tooltip's head (the frame, its file:line) and tail (the stack to it, each frame
  // with its file:line, outermost first).
  function frameTipHead(t, n) {
    var id = t.frame[n], h = '<div class="fn">' + esc(fname(id)) + '</div>';
    if (id >= 0) h += '<div class="loc">' + esc(floc(id) || 'no source line') +
      (D.frames[id][4] ? ' (inlined)' : '') + '</div>';
    if (id === -2) h += '<div class="loc">' + t.merged[n] + ' frames too small to draw, merged</div>';
    return h;
  }
  function frameTipStack(t, n) {
    var path = [];
    for (var j = n; j > 0; j = t.parent[j]) {
      var fid = t.frame[j], where = fid >= 0 && D.frames[fid][1] ?
        D.frames[fid][1].split('/').pop() + (D.frames[fid][2] ? ':' + D.frames[fid][2] : '') : '';
      path.unshift(esc(fname(fid)) + (where ? ' <span class="loc">' + esc(where) + '</span>' : ''));
    }
    if (path.length <= 1) return '';
    if (path.length > 24) path.splice(12, path.length - 22, '…');
    return '<div class="stk">' + path.join('<br>') + '</div>';
  }
  function searchRegexp(s) {
    if (!s) return null;
    try { return new RegExp(s, 'i'); } catch (e) { return null; }
  }

  return { D: D, el: el, sv: sv, bytes: bytes, count: count, fmt: fmt, signed: signed,
    secs: secs, pct: pct, esc: esc, fname: fname, floc: floc, siteLabel: siteLabel,
    showTip: showTip, hideTip: hideTip, section: section, table: table, treeOf: treeOf,
    flameFrame: flameFrame, drawFlame: drawFlame, rectAt: rectAt, searchTotal: searchTotal, frameTipHead: frameTipHead,
    frameTipStack: frameTipStack, searchRegexp: searchRegexp };
})();
