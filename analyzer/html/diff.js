// heapprof's HTML page of a diff of two runs (report_diff_html.c embeds it after
// common.js and the data): the totals and their change, the budgets, a differential
// flame graph and the sites that changed most. No library, no network. docs/diff.md.
(function () {
  'use strict';
  var D = HP.D, el = HP.el, bytes = HP.bytes, count = HP.count, fmt = HP.fmt,
    signed = HP.signed, esc = HP.esc, fname = HP.fname;
  var KINDS = D.kinds, NK = KINDS.length, MEASURES = D.measures;
  var TITLE = { peak: 'Peak heap', calls: 'Allocation calls', allocated: 'Bytes allocated',
    leaked: 'Leaked', temporary: 'Temporaries' };
  var B = D.runs[0], N = D.runs[1];
  function change(base, now) {
    if (!base) return now ? 'new' : '0%';
    var p = (now - base) * 100 / base;
    return (p > 0 ? '+' : '') + p.toFixed(1) + '%';
  }

  // ---- header and cards ----
  var app = document.getElementById('app');
  app.textContent = '';
  function runLine(label, r) {
    return el('div', { cls: 'cmd' }, [el('b', { text: label + '  ' }),
      document.createTextNode(r.file + (r.command ? '  (' + r.command + ')' : ''))]);
  }
  var header = el('header', {}, [el('h1', {}, [el('span', { text: 'heapprof' }),
    document.createTextNode(' diff of two runs')]), runLine('base', B), runLine('new', N),
    el('div', { cls: 'meta', text: count(D.matched) + ' sites in both, ' + count(D.added) +
      ' new, ' + count(D.removed) + ' gone (matched by function, file and line)' +
      (B.sampled || N.sampled ? ' · sampled: figures are estimates' : '') })]);
  if (!B.complete || !N.complete)
    header.appendChild(el('div', { cls: 'warn', text: 'a trace has no trailer (the process ' +
      'was killed or is running): its figures end at its last flush' }));
  app.appendChild(header);

  var budgets = {};
  D.budgets.forEach(function (b) { budgets[b[0]] = b; });
  var cards = el('div', { cls: 'cards' });
  MEASURES.forEach(function (m, i) {
    var b = D.totals.base[i], n = D.totals.new[i], d = n - b, bud = budgets[m];
    var sub = fmt(m, b) + ' → ' + fmt(m, n) + ' (' + change(b, n) + ')';
    var kids = [el('div', { cls: 'label', text: TITLE[m] }),
      el('div', { cls: 'value ' + (d > 0 ? 'up' : d < 0 ? 'down' : ''), text: signed(m, d) }),
      el('div', { cls: 'sub', text: sub })];
    if (bud) kids.push(el('div', { cls: 'sub budget', text: 'budget +' + bud[1] + '%: ' +
      (bud[2] ? 'exceeded' : 'within') }));
    cards.appendChild(el('div', { cls: 'card' + (bud && bud[2] ? ' bad' : ''), id: 'card-' + m,
      'data-base': b, 'data-new': n, 'data-delta': d, 'data-budget': bud ? (bud[2] ? 'exceeded' :
        'within') : '' }, kids));
  });
  app.appendChild(cards);

  // ---- the differential flame graph ----
  // Node values: NEW's kinds, then BASE's (val[k] and val[NK + k]).
  var T = HP.treeOf(D.nodes, 3 + 2 * NK, 2 * NK);
  var F = { kind: 0, base: false, zoom: 0, search: '', rects: [] };
  var fsec = HP.section(app, 'Differential flame graph', 'width = the share of the run chosen; ' +
    'colour = the change from base to new: red grew, blue shrank, grey unchanged; click to zoom');
  var bar = el('div', { cls: 'toolbar' });
  var kindButtons = KINDS.map(function (k, i) {
    var b = el('button', { id: 'kind-' + k, type: 'button', text: TITLE[k] || k });
    b.addEventListener('click', function () { F.kind = i; F.zoom = 0; draw(); });
    bar.appendChild(b);
    return b;
  });
  bar.appendChild(el('span', { cls: 'grow' }));
  var widthButtons = ['new', 'base'].map(function (w) {
    var b = el('button', { id: 'width-' + w, type: 'button', text: 'width: ' + w });
    b.addEventListener('click', function () { F.base = w === 'base'; F.zoom = 0; draw(); });
    bar.appendChild(b);
    return b;
  });
  var parts = HP.flameFrame(fsec, bar, {
    onSearch: function (v) { F.search = v; draw(); },
    onReset: function () { F.zoom = 0; draw(); } });
  var pathBox = parts.path, canvas = parts.canvas, status = parts.status;

  // Red for growth, blue for shrinking, the stronger the larger the change against the
  // largest change of a frame in the graph (square root: small changes stay visible).
  function diffColor(delta, maxAbs) {
    if (!delta || !maxAbs) return '#d9d6cf';
    var s = Math.sqrt(Math.min(Math.abs(delta) / maxAbs, 1)), l = Math.round(82 - 36 * s);
    return delta > 0 ? 'hsl(2,78%,' + l + '%)' : 'hsl(217,72%,' + l + '%)';
  }
  function draw() {
    var k = F.kind, kname = KINDS[k], vn = T.val[k], vb = T.val[NK + k], v = F.base ? vb : vn;
    kindButtons.forEach(function (b, i) { b.className = i === k ? 'on' : ''; });
    widthButtons.forEach(function (b, i) { b.className = (i === 1) === F.base ? 'on' : ''; });
    var maxAbs = 0;
    for (var i = 1; i < T.n; i++) maxAbs = Math.max(maxAbs, Math.abs(vn[i] - vb[i]));
    var re = HP.searchRegexp(F.search);
    var drawn = HP.drawFlame(canvas, pathBox, T, v, F.zoom, { re: re,
      rootLabel: 'all (' + fmt(kname, v[0]) + ', ' + signed(kname, vn[0] - vb[0]) + ')',
      color: function (n) { return diffColor(vn[n] - vb[n], maxAbs); },
      onZoom: function (n) { F.zoom = n; draw(); } });
    F.rects = drawn.rects;
    var zoom = drawn.chain[drawn.chain.length - 1];
    canvas.setAttribute('data-kind', kname);
    canvas.setAttribute('data-width', F.base ? 'base' : 'new');
    var st = (TITLE[kname] || kname) + ': ' + fmt(kname, vb[0]) + ' → ' + fmt(kname, vn[0]) +
      ' (' + signed(kname, vn[0] - vb[0]) + ')';
    if (zoom) st += '; under the zoomed frame ' + fmt(kname, vb[zoom]) + ' → ' +
      fmt(kname, vn[zoom]) + ' (' + signed(kname, vn[zoom] - vb[zoom]) + ')';
    if (re) st += ' · search: ' + fmt(kname, HP.searchTotal(T, v, re, zoom)) + ' in matching frames';
    st += ' · ' + count(T.n) + ' nodes (frames under 0.01% of both runs merged into "others")';
    status.textContent = st;
  }
  function self(vals, n) {
    var s = vals[n];
    T.kids[n].forEach(function (c) { s -= vals[c]; });
    return s;
  }
  canvas.addEventListener('click', function (ev) {
    var n = HP.rectAt(canvas, F.rects, ev);
    if (n >= 0) { F.zoom = n; draw(); }
  });
  canvas.addEventListener('mousemove', function (ev) {
    var n = HP.rectAt(canvas, F.rects, ev);
    if (n < 0) { HP.hideTip(); return; }
    var h = HP.frameTipHead(T, n) + '<table><tr><td></td><td class="n">base</td><td class="n">new' +
      '</td><td class="n">change</td></tr>';
    KINDS.forEach(function (k, i) {
      var b = T.val[NK + i][n], v = T.val[i][n];
      h += '<tr><td>' + esc(TITLE[k] || k) + '</td><td class="n">' + fmt(k, b) + '</td><td class="n">' +
        fmt(k, v) + '</td><td class="n">' + signed(k, v - b) + ' ' + change(b, v) + '</td></tr>';
    });
    var kname = KINDS[F.kind], ds = self(T.val[F.kind], n) - self(T.val[NK + F.kind], n);
    h += '</table><div class="loc">' + esc(TITLE[kname] || kname) + ' in the frame itself: ' +
      signed(kname, ds) + '</div>';
    HP.showTip(ev, h + HP.frameTipStack(T, n));
  });
  canvas.addEventListener('mouseleave', HP.hideTip);

  // ---- the sites that changed most ----
  var STATUS = { matched: 'both', added: 'new', removed: 'gone' };
  var cols = [
    { key: 'function', title: 'Allocated in', cls: 'fn', value: function (s) { return s.stack.length ? fname(s.stack[0]) : '(no stack)'; } },
    { key: 'location', title: 'Where', cls: 'loc', value: function (s) { return s.stack.length ? HP.floc(s.stack[0]) : ''; } },
    { key: 'status', title: 'In', value: function (s) { return STATUS[s.status] || s.status; } }];
  MEASURES.forEach(function (m, i) {
    cols.push({ key: m, title: 'Δ ' + (TITLE[m] || m).toLowerCase(), num: true,
      value: function (s) { return s.new[i] - s.base[i]; },
      show: function (s) { return signed(m, s.new[i] - s.base[i]); } });
  });
  var ssec = HP.section(app, 'Sites that changed', D.sites.length + ' sites (the 100 largest ' +
    'changes of each measure); click a header to sort, a row for its stack');
  if (D.sites.length)
    ssec.appendChild(el('div', { cls: 'scroll' }, [HP.table('diff-table', cols, D.sites.slice(), 3)]));
  else
    ssec.appendChild(el('div', { cls: 'empty', id: 'diff-none', text: 'No site changed.' }));
  app.appendChild(el('footer', { text: 'heapprof-analyze --diff · ' + B.file + ' → ' + N.file }));

  draw();
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(draw, 100);
  });
  // For tests and scripts: where a frame is drawn, and when rendering finished.
  window.heapprof = {
    data: D,
    frameRect: function (name) {
      var b = canvas.getBoundingClientRect();
      for (var i = 0; i < F.rects.length; i++) {
        var r = F.rects[i], id = T.frame[r[4]];
        if (id >= 0 && D.frames[id][0] === name)
          return { x: b.left + r[0] + r[2] / 2, y: b.top + r[1] + r[3] / 2, width: r[2],
            cx: r[0] + r[2] / 2, cy: r[1] + r[3] / 2 };
      }
      return null;
    },
    renderedMs: performance.now()
  };
})();
