'use strict';
// Lays out a varyedge report from the JSON embedded in the page. No network, no library.
// Every number shown comes from that JSON; the script only places and colours it.
(function () {
  const DATA = JSON.parse(document.getElementById('varyedge-data').textContent);
  const SVGNS = 'http://www.w3.org/2000/svg';
  const LANE = 26, AXIS = 28, GROUP = 20, MIN_GAP = 34, WINDOW_MARGIN = 600;
  const MAX_KEY_LANES = 40, MAX_FAILURES_LISTED = 300;
  const app = document.getElementById('app');
  const tip = document.getElementById('tip');

  // ---------- small helpers ----------
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  function sv(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  // Durations as people read them: 250ms, 5s, 1.5s, 2m, 25h30m.
  function human(ms) {
    if (ms === 0) return '0s';
    if (ms < 1000) return ms + 'ms';
    if (ms < 60000) return (ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(3).replace(/0+$/, '')) + 's';
    let out = '', left = ms;
    for (const [u, size] of [['h', 3600000], ['m', 60000], ['s', 1000]]) {
      const n = Math.floor(left / size); left %= size;
      if (n > 0) out += n + u;
    }
    if (left > 0) out += left + 'ms';
    return out;
  }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }
  function pct(x) { return (100 * x).toFixed(1).replace(/\.0$/, '') + '%'; }

  // The verdict class a step is coloured by.
  function verdictClass(s) {
    if (!s.verdict.checked) return 'unchecked';
    if (s.wrongly_allowed) return 'allowed';
    if (s.verdict.cors === 'ok') return 'ok';
    return s.cache_induced ? 'ci' : 'blocked';
  }
  const VERDICT_TEXT = {
    ok: 'allowed', ci: 'blocked, cache-induced', blocked: 'blocked (also without the cache)',
    allowed: 'wrongly allowed (cache-induced)', unchecked: 'not checked (no-cors or no browser)'
  };
  const CACHE_OUTCOMES = ['hit', 'miss', 'stale', 'pass', 'collapsed'];
  // Methods an edge never stores show no key (the outcome is `pass`).
  function hasKey(s) { return s.cache !== 'pass' && s.key; }
  function stepLine(s) {
    const word = s.verdict.cors === 'ok' ? 'ok' : 'BLOCKED ' + s.verdict.reason;
    let t = '#' + s.index + '  ' + s.client + '  ' + s.request + '  at ' + human(s.at_ms) + '  — ' + word;
    if (s.cache_induced) t += ', cache-induced (served what #' + s.poisoned_by + ' stored)';
    return t;
  }

  // ---------- timeline ----------
  // x positions on the scenario clock: each step sits after the previous one, further for a
  // longer gap (log scale), so that simultaneous steps stay apart and a 1h gap stays short.
  // A short trace is stretched (at most 3x) to use the width of the window.
  function layoutX(steps) {
    const xs = new Float64Array(steps.length);
    let x = 0;
    for (let i = 0; i < steps.length; i++) {
      if (i > 0) {
        const dt = steps[i].at_ms - steps[i - 1].at_ms;
        x += MIN_GAP + (dt > 0 ? Math.min(110, 16 * Math.log2(1 + dt / 250)) : 0);
      }
      xs[i] = x;
    }
    const avail = Math.max(400, (window.innerWidth || 1200) - 340);
    const stretch = x > 0 && x < avail ? Math.min(3, avail / x) : 1;
    for (let i = 0; i < xs.length; i++) xs[i] = 30 + xs[i] * stretch;
    return { xs, width: 30 + x * stretch + 50 };
  }

  // Lanes: one per client, then one per edge key (per POP when there are several), the
  // rarest keys folded into one lane beyond MAX_KEY_LANES.
  function lanes(steps) {
    const clients = [], clientIx = new Map(), keyCount = new Map();
    const multiPop = steps.some((s) => s.pop > 0);
    const keyOf = (s, k) => (multiPop ? 'pop ' + s.pop + ' · ' : '') + k;
    for (const s of steps) {
      if (!clientIx.has(s.client)) { clientIx.set(s.client, clients.length); clients.push(s); }
      if (hasKey(s)) keyCount.set(keyOf(s, s.key), (keyCount.get(keyOf(s, s.key)) || 0) + 1);
      if (s.preflight === 'sent' && s.preflight_key && s.preflight_cache !== 'pass') {
        const k = keyOf(s, s.preflight_key);
        keyCount.set(k, (keyCount.get(k) || 0) + 1);
      }
    }
    let keys = [...keyCount.keys()];
    let folded = 0;
    if (keys.length > MAX_KEY_LANES) {
      const keep = new Set([...keyCount.entries()].sort((a, b) => b[1] - a[1])
        .slice(0, MAX_KEY_LANES).map((e) => e[0]));
      folded = keys.length - keep.size;
      keys = keys.filter((k) => keep.has(k));
    }
    const keyIx = new Map(keys.map((k, i) => [k, i]));
    const yClient = (i) => AXIS + i * LANE + LANE / 2;
    const keyTop = AXIS + clients.length * LANE + GROUP;
    const yKey = (i) => keyTop + i * LANE + LANE / 2;
    const otherY = keyTop + keys.length * LANE + LANE / 2;
    const height = keyTop + (keys.length + (folded ? 1 : 0)) * LANE + 6;
    return { clients, clientIx, keys, keyIx, folded, yClient, yKey, otherY, height, keyTop, keyOf };
  }

  function renderTrace(parent, trace) {
    const steps = trace.steps;
    const sec = el('section', { class: 'trace', 'data-scenario': trace.scenario, 'data-profile': trace.profile });
    const sum = trace.summary;
    const passed = sum.passed;
    sec.append(el('h2', null, trace.scenario + ' ',
      el('span', { class: 'muted', text: '— profile ' + trace.profile + (trace.file ? ' (' + trace.file + ')' : '') }), ' ',
      el('span', { class: 'badge ' + (passed ? 'pass' : 'fail'), text: passed ? 'PASS' : 'FAIL' })));
    const counts = el('div', { class: 'counts' });
    const hitRatio = sum.edge_requests ? pct(sum.hits / sum.edge_requests) : '–';
    for (const [k, label, v] of [['steps', 'steps', sum.steps], ['blocked', 'blocked', sum.blocked],
      ['cache_induced', 'cache-induced', sum.cache_induced], ['wrongly_allowed', 'wrongly allowed', sum.wrongly_allowed],
      ['unmet_expectations', 'unmet expectations', sum.unmet_expectations]]) {
      counts.append(el('span', { 'data-count': k }, el('b', { text: String(v) }), ' ' + label));
    }
    counts.append(el('span', { 'data-count': 'hit_ratio' }, el('b', { text: hitRatio }), ' edge hit ratio'));
    if (steps.length) counts.append(el('span', { class: 'muted', text: 'clock 0 – ' + human(steps[steps.length - 1].at_ms) }));
    sec.append(counts);
    if (!steps.length) { parent.append(sec); return sec; }

    const legend = el('div', { class: 'legend' }, 'steps:');
    const byClass = {};
    for (const s of steps) byClass[verdictClass(s)] = (byClass[verdictClass(s)] || 0) + 1;
    for (const c of ['ok', 'ci', 'blocked', 'allowed', 'unchecked']) {
      if (!byClass[c]) continue;
      legend.append(el('i', { style: 'background:var(--' + c + ')' }),
        el('span', { 'data-legend': c, text: VERDICT_TEXT[c] + ' ' + byClass[c] }));
    }
    legend.append('   edge:');
    for (const c of CACHE_OUTCOMES) {
      if (!steps.some((s) => s.cache === c)) continue;
      legend.append(el('i', { class: 'sq', style: 'background:var(--' + c + ');border:1px solid #90a4ae' }), c);
    }
    legend.append('   ', el('span', { style: 'color:var(--ci)', text: '⟶ poisoned' }), '   ring: expectation unmet');
    sec.append(legend);

    const L = lanes(steps);
    const { xs, width } = layoutX(steps);
    const tl = el('div', { class: 'tl', style: 'height:' + L.height + 'px' });
    const labels = el('div', { class: 'tl-labels' });
    labels.append(el('div', { class: 'group', style: 'top:4px', text: 'clients' }));
    L.clients.forEach((s, i) => labels.append(el('div', {
      style: 'top:' + (L.yClient(i) - 9) + 'px', title: s.origin || 'no Origin',
      text: s.client + (s.origin ? '  ' + s.origin.replace(/^https?:\/\//, '') : '')
    })));
    labels.append(el('div', { class: 'group', style: 'top:' + (L.keyTop - 17) + 'px', text: 'edge keys' }));
    L.keys.forEach((k, i) => labels.append(el('div', { class: 'keylane', style: 'top:' + (L.yKey(i) - 9) + 'px', title: k, text: k })));
    if (L.folded) labels.append(el('div', { class: 'keylane', style: 'top:' + (L.otherY - 9) + 'px', text: L.folded + ' more keys' }));
    const scroll = el('div', { class: 'tl-scroll' });
    const canvas = el('div', { class: 'tl-canvas', style: 'width:' + width + 'px;height:' + L.height + 'px' });
    scroll.append(canvas);
    tl.append(labels, scroll);
    sec.append(tl);
    const detail = el('div', { class: 'detail', 'aria-live': 'polite' },
      el('span', { class: 'muted', text: 'Hover a step for its console line and fix; click to keep it here.' }));
    sec.append(detail);

    // Which steps each step poisoned, for arrows whose ends lie outside the window.
    const arrows = [];
    for (const s of steps) if (s.poisoned_by !== undefined && s.poisoned_by !== null) arrows.push([s.poisoned_by, s.index]);
    const posOf = new Map(steps.map((s, i) => [s.index, i]));
    const state = { selected: null, drawn: [-1, -1] };

    function draw(force) {
      const left = scroll.scrollLeft, w = scroll.clientWidth || 1200;
      const lo = Math.max(0, left - WINDOW_MARGIN), hi = left + w + WINDOW_MARGIN;
      if (!force && lo >= state.drawn[0] && hi <= state.drawn[1]) return;
      const from = Math.max(0, lo - WINDOW_MARGIN), to = Math.min(width, hi + WINDOW_MARGIN);
      state.drawn = [from, to];
      const svg = sv('svg', { width: to - from, height: L.height, viewBox: from + ' 0 ' + (to - from) + ' ' + L.height });
      svg.style.left = from + 'px';
      const defs = sv('defs');
      const marker = sv('marker', { id: 'ah-' + secId, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 5, markerHeight: 5, orient: 'auto-start-reverse' });
      marker.append(sv('path', { d: 'M0,0 L10,5 L0,10 z', fill: 'var(--ci)' }));
      defs.append(marker); svg.append(defs);
      for (let i = 0; i < L.clients.length; i++) svg.append(sv('line', { class: 'lane', x1: from, x2: to, y1: L.yClient(i), y2: L.yClient(i) }));
      for (let i = 0; i < L.keys.length; i++) svg.append(sv('line', { class: 'lane', x1: from, x2: to, y1: L.yKey(i), y2: L.yKey(i) }));
      // first and last step in the window (binary search on the monotonic xs)
      let a = 0, b = xs.length;
      while (a < b) { const m = (a + b) >> 1; if (xs[m] < from) a = m + 1; else b = m; }
      const first = a;
      const axis = sv('g', { class: 'axis' });
      let lastLabel = -1e9;
      const marks = sv('g'), links = sv('g'), arrowG = sv('g');
      for (let i = first; i < xs.length && xs[i] <= to; i++) {
        const s = steps[i], x = xs[i];
        const dt = i > 0 ? s.at_ms - steps[i - 1].at_ms : 0;
        if (i > 0 && dt > 0) {
          const gx = (xs[i - 1] + x) / 2;
          axis.append(sv('line', { class: 'gap', x1: gx, x2: gx, y1: AXIS - 6, y2: L.height }));
          if (dt >= 60000) { const t = sv('text', { class: 'gaplabel', x: gx + 2, y: AXIS - 14 }); t.textContent = '+' + human(dt); axis.append(t); }
        }
        if ((i === 0 || dt > 0) && x - lastLabel > 60) {
          const t = sv('text', { x: x - 8, y: AXIS - 4 }); t.textContent = human(s.at_ms); axis.append(t); lastLabel = x;
        }
        const yc = L.yClient(L.clientIx.get(s.client));
        const vc = verdictClass(s);
        const circle = sv('circle', { class: 'step v-' + vc + (s.expectation === 'unmet' ? ' unmet' : '') + (state.selected === i ? ' sel' : ''), cx: x, cy: yc, r: 6, 'data-index': s.index, 'data-verdict': vc });
        marks.append(circle);
        const keyMark = (k, outcome, pf) => {
          const ki = L.keyIx.get(L.keyOf(s, k));
          const y = ki === undefined ? L.otherY : L.yKey(ki);
          links.append(sv('line', { class: 'link', x1: x, x2: x, y1: yc + 6, y2: y - 5 }));
          marks.append(sv('rect', { class: 'keymark c-' + outcome + (pf ? ' pf' : ''), x: x - 4.5, y: y - 4.5, width: 9, height: 9, 'data-index': s.index, 'data-key': k }));
        };
        if (hasKey(s)) keyMark(s.key, s.cache, false);
        if (s.preflight === 'sent' && s.preflight_key && s.preflight_cache !== 'pass') keyMark(s.preflight_key, s.preflight_cache || 'miss', true);
      }
      for (const [p, q] of arrows) {
        const pi = posOf.get(p), qi = posOf.get(q);
        if (pi === undefined || qi === undefined) continue;
        const x1 = xs[pi], x2 = xs[qi];
        if (Math.max(x1, x2) < from || Math.min(x1, x2) > to) continue;
        const y1 = L.yClient(L.clientIx.get(steps[pi].client)), y2 = L.yClient(L.clientIx.get(steps[qi].client));
        const lift = Math.min(AXIS + 8, 14 + Math.abs(x2 - x1) / 6);
        const d = 'M' + x1 + ',' + (y1 - 6) + ' C' + x1 + ',' + (Math.min(y1, y2) - lift) + ' ' + x2 + ',' + (Math.min(y1, y2) - lift) + ' ' + x2 + ',' + (y2 - 8);
        arrowG.append(sv('path', { class: 'poison-arrow', d, 'data-from': p, 'data-to': q, 'marker-end': 'url(#ah-' + secId + ')' }));
      }
      svg.append(axis, links, arrowG, marks);
      canvas.replaceChildren(svg);
    }
    const secId = 't' + (renderTrace.count = (renderTrace.count || 0) + 1);
    sec.id = secId;

    function describe(box, s, forTip) {
      box.replaceChildren();
      box.append(el('div', null, el('b', { text: '#' + s.index + ' ' + s.client }), ' ' + (s.origin || '(no Origin)') + '  ' + s.request +
        '  at ' + human(s.at_ms) + (L.keyOf(s, '') ? '  pop ' + s.pop : '') + '  (line ' + s.line + ')'));
      const edge = 'edge: ' + s.cache + (hasKey(s) ? '  key ' + s.key : '') + '  status ' + s.status +
        (s.preflight !== 'none' ? '  preflight ' + s.preflight : '');
      box.append(el('div', { text: edge }));
      const v = s.verdict.cors === 'ok' ? 'cors: ok' : 'cors: BLOCKED ' + s.verdict.reason;
      const line = el('div', { text: v });
      if (s.cache_induced) {
        line.append(' — cache-induced: served what ');
        const a = el('a', { href: '#', text: 'step #' + s.poisoned_by });
        a.addEventListener('click', (e) => { e.preventDefault(); select(posOf.get(s.poisoned_by)); });
        line.append(forTip ? 'step #' + s.poisoned_by : a, ' stored; the origin alone answers ' + s.direct.cors);
      }
      box.append(line);
      if (s.verdict.console) box.append(el('div', { class: 'console', text: s.verdict.console }));
      if (s.fix) box.append(el('div', { class: 'fix', text: 'fix: ' + s.fix }));
      if (s.expectation !== 'none') {
        box.append(el('div', { text: 'expect: ' + (s.expectation === 'met' ? 'met' : 'UNMET — ' + (s.unmet || []).join('; ')) }));
      }
    }
    function select(i) {
      if (i === undefined) return;
      state.selected = i;
      describe(detail, steps[i], false);
      const x = xs[i];
      if (x < scroll.scrollLeft + 40 || x > scroll.scrollLeft + scroll.clientWidth - 40) scroll.scrollLeft = x - scroll.clientWidth / 2;
      draw(true);
    }
    canvas.addEventListener('click', (e) => {
      const t = e.target.closest('[data-index]');
      if (t) select(posOf.get(Number(t.getAttribute('data-index'))));
    });
    canvas.addEventListener('mouseover', (e) => {
      const t = e.target.closest('[data-index]');
      if (!t) return;
      const i = posOf.get(Number(t.getAttribute('data-index')));
      describe(tip, steps[i], true);
      tip.hidden = false;
      for (const p of canvas.querySelectorAll('.poison-arrow')) {
        const idx = String(steps[i].index);
        p.classList.toggle('hot', p.getAttribute('data-from') === idx || p.getAttribute('data-to') === idx);
      }
    });
    canvas.addEventListener('mousemove', (e) => {
      tip.style.left = Math.min(e.clientX + 14, window.innerWidth - 540) + 'px';
      tip.style.top = (e.clientY + 16) + 'px';
    });
    canvas.addEventListener('mouseout', () => { tip.hidden = true; });
    let pending = false;
    scroll.addEventListener('scroll', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; draw(false); });
    });

    // The failing steps as a list (capped), each one click away on the timeline.
    const failing = steps.filter((s) => s.cache_induced || s.wrongly_allowed || s.expectation === 'unmet' || (s.verdict.cors !== 'ok' && s.expectation === 'none'));
    if (failing.length) {
      sec.append(el('h3', { text: plural(failing.length, 'step') + ' to look at' }));
      const ul = el('ul', { class: 'failures' });
      for (const s of failing.slice(0, MAX_FAILURES_LISTED)) {
        const li = el('li', { 'data-index': s.index, text: stepLine(s) + (s.expectation === 'unmet' ? '  [expectation unmet]' : s.expectation === 'met' ? '  [expected]' : '') });
        li.addEventListener('click', () => select(posOf.get(s.index)));
        ul.append(li);
      }
      if (failing.length > MAX_FAILURES_LISTED) ul.append(el('li', { class: 'muted', text: '… and ' + (failing.length - MAX_FAILURES_LISTED) + ' more (see --format json)' }));
      sec.append(ul);
    }
    parent.append(sec);
    draw(true);
    return sec;
  }

  // ---------- pages ----------
  function replayPage() {
    const traces = DATA.traces;
    if (traces.length > 1) {
      const panel = el('section', { class: 'panel' }, el('h2', { text: plural(traces.length, 'scenario') }));
      const t = el('table', { id: 'overview' }, el('tr', null, ...['scenario', 'profile', 'steps', 'blocked', 'cache-induced', 'unmet', 'result'].map((h) => el('th', { text: h }))));
      traces.forEach((tr, i) => {
        const s = tr.summary;
        const a = el('a', { href: '#t' + (i + 1), text: tr.scenario });
        t.append(el('tr', { class: s.passed ? '' : 'row-ci' }, el('td', null, a), el('td', { text: tr.profile }),
          el('td', { class: 'num', text: String(s.steps) }), el('td', { class: 'num', text: String(s.blocked) }),
          el('td', { class: 'num', text: String(s.cache_induced) }), el('td', { class: 'num', text: String(s.unmet_expectations) }),
          el('td', null, el('span', { class: 'badge ' + (s.passed ? 'pass' : 'fail'), text: s.passed ? 'PASS' : 'FAIL' }))));
      });
      panel.append(t);
      app.append(panel);
    }
    for (const tr of traces) renderTrace(app, tr);
  }

  function matrixPage(M) {
    const m = M.matrix, own = M.own_profile;
    const panel = el('section', { class: 'panel matrix' });
    panel.append(el('h2', null, 'Scenario ' + m.scenario + ' under ' + plural(m.profiles.length, 'profile') + ' ',
      el('span', { class: 'muted', text: '(★ = the scenario\'s own profile, ' + own + ')' })));
    const t = el('table', { class: 'matrix' }, el('tr', null, ...['profile', 'blocked', 'cache-induced', 'wrongly allowed', 'first failure', 'hit ratio', 'evidence'].map((h) => el('th', { text: h }))));
    const holder = el('div');
    const rows = [];
    m.profiles.forEach((r, i) => {
      const cls = r.cache_induced > 0 ? 'row-ci' : r.wrongly_allowed > 0 ? 'row-allowed' : r.blocked > 0 ? 'row-blocked' : 'row-clean';
      const f = r.first_failure;
      const first = f ? '#' + f.index + ' ' + f.reason + (f.cache_induced ? ' (poisoned by #' + f.poisoned_by + ')' : '') : '–';
      const tr = el('tr', { class: cls + ' selectable', 'data-profile': r.profile },
        el('td', { text: (r.profile === own ? '★ ' : '') + r.profile }),
        el('td', { class: 'num', text: r.blocked + '/' + r.steps }),
        el('td', { class: 'num', text: String(r.cache_induced) }),
        el('td', { class: 'num', text: String(r.wrongly_allowed) }),
        el('td', { text: first }),
        el('td', { class: 'num', text: r.edge_requests ? pct(r.hits / r.edge_requests) : '–' }),
        el('td', { class: 'muted', text: r.weak_evidence ? 'weak: ' + r.weak_evidence : '' }));
      tr.addEventListener('click', () => show(i));
      t.append(tr); rows.push(tr);
    });
    panel.append(t, el('div', { class: 'muted', text: 'Red: the cache causes CORS failures; orange: failures the origin causes alone; purple: the cache wrongly allows; green: nothing blocked. Click a profile for its timeline.' }));
    app.append(panel, holder);
    function show(i) {
      rows.forEach((r, j) => r.classList.toggle('selected', i === j));
      holder.replaceChildren();
      if (M.traces[i]) renderTrace(holder, M.traces[i]);
    }
    let start = m.profiles.findIndex((r) => r.profile === own);
    const poisoned = m.profiles.findIndex((r) => r.cache_induced > 0);
    if (start < 0 || (m.profiles[start].cache_induced === 0 && poisoned >= 0)) start = Math.max(0, poisoned);
    if (m.profiles.length) show(start);
  }

  function explorePage(x) {
    const panel = el('section', { class: 'panel' });
    panel.append(el('h2', null, 'Exploring ' + x.scenario + ' ', el('span', { class: 'muted', text: '— profile ' + x.profile + ', ' + plural(x.cases, 'session') + ', seed ' + x.seed })));
    const iv = x.interval;
    panel.append(el('div', { class: 'counts' },
      el('span', { 'data-count': 'failing_sessions' }, el('b', { text: String(x.failing_sessions) }), ' failing sessions'),
      el('span', { 'data-count': 'failure_rate' }, el('b', { text: pct(x.failure_rate) }), ' failure rate'),
      el('span', { 'data-count': 'interval' }, (iv.confidence * 100) + '% interval ', el('b', { text: pct(iv.low) + ' – ' + pct(iv.high) }), ' (' + iv.method + ')'),
      el('span', { 'data-count': 'kinds' }, el('b', { text: String(x.kinds.length) }), ' failure kinds')));
    // The chart: the overall rate with its interval, then each kind's share of sessions.
    const W = 820, rowH = 24, left = 340, plotW = W - left - 60;
    const rowsN = 1 + x.kinds.length;
    const H = 30 + rowsN * rowH + 10;
    const svg = sv('svg', { class: 'chart rate-chart', width: W, height: H });
    const X = (v) => left + v * plotW;
    for (const g of [0, 0.25, 0.5, 0.75, 1]) {
      svg.append(sv('line', { class: 'grid', x1: X(g), x2: X(g), y1: 18, y2: H - 6 }));
      const t = sv('text', { x: X(g) - 8, y: 12 }); t.textContent = pct(g); svg.append(t);
    }
    const row = (i, label, v, cls, attrs) => {
      const y = 24 + i * rowH;
      const t = sv('text', { x: 4, y: y + 13 }); t.textContent = label.length > 52 ? label.slice(0, 51) + '…' : label;
      const title = sv('title'); title.textContent = label; t.append(title);
      svg.append(t, sv('rect', Object.assign({ class: cls, x: left, y: y + 3, width: Math.max(1, v * plotW), height: rowH - 8 }, attrs)));
      const n = sv('text', { x: X(v) + 4, y: y + 13 }); n.textContent = pct(v);
      if (cls === 'bar') n.setAttribute('x', X(iv.high) + 6);
      svg.append(n);
      return y;
    };
    const y0 = row(0, 'all failures', x.failure_rate, 'bar', { 'data-rate': x.failure_rate });
    const ym = y0 + rowH / 2 - 1;
    svg.append(sv('line', { class: 'ci', x1: X(iv.low), x2: X(iv.high), y1: ym, y2: ym, 'data-low': iv.low, 'data-high': iv.high }),
      sv('line', { class: 'ci', x1: X(iv.low), x2: X(iv.low), y1: ym - 6, y2: ym + 6 }),
      sv('line', { class: 'ci', x1: X(iv.high), x2: X(iv.high), y1: ym - 6, y2: ym + 6 }));
    x.kinds.forEach((k, i) => row(i + 1, k.text, k.share, 'kind', { 'data-kind': k.id }));
    panel.append(svg);
    app.append(panel);
    for (const k of x.kinds) {
      const d = el('details', { class: 'kind' }, el('summary', null, el('b', { text: k.text }),
        ' — ' + plural(k.sessions, 'session') + ' (' + pct(k.share) + '), shrunk from ' + k.repro.shrunk_from + ' to ' + plural(k.repro.steps, 'step') +
        (k.repro.file ? ', written to ' + k.repro.file : '')));
      let drawn = false;
      d.addEventListener('toggle', () => { if (d.open && !drawn) { drawn = true; renderTrace(d, k.repro.trace); } });
      app.append(d);
      if (x.kinds[0] === k) d.open = true;
    }
  }

  if (DATA.kind === 'replay') replayPage();
  else if (DATA.kind === 'matrix') DATA.matrices.forEach(matrixPage);
  else if (DATA.kind === 'explore') DATA.explores.forEach(explorePage);
  document.body.setAttribute('data-ready', '1');
})();
