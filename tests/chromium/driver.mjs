// Drives one headless Chromium through a plan written by tests/chromium.rs and prints
// what each page saw and what reached the server, as one JSON document on stdout.
//
// usage: node driver.mjs PLAN.json
//
// A step whose "page" is null is sent by Node itself (a non-browser client: no Origin).
//
// PLAN: { "executable": "/usr/bin/chromium", "user_data_dir": DIR, "args": [..],
//         "pages": ["http://127.0.0.1:P1", ..],
//         "cases": [ { "id": "c01", "steps": [ { "page": ORIGIN, "url": URL, "method": M,
//            "headers": {..}, "credentials": "omit|same-origin|include", "mode": "cors|no-cors",
//            "redirect": "follow|error|manual", "delay_ms": N, "stats": STATS_URL,
//            "proxy_stats": PROXY_STATS_URL|null, "path": "/c01/x" } ],
//            "cookies": [ { "name", "value", "domain", "path", "sameSite"?, "secure"? } ] } ] }
//
// Before each case the browser's cookies are cleared and the case's own are set (the
// scenario's client `cookie:`), so cookies set by one case never reach another.
//
// Per step it reports: the page's result (response status/type, or the TypeError), the
// CORS error Chromium's network service gave (CDP Network.loadingFailed corsErrorStatus),
// the CORS console messages, whether DevTools saw a preflight, and how many OPTIONS and
// actual requests reached the origin (GET /.varyedge/stats before and after), and, through
// `varyedge proxy`, how its hit/miss/pass and judge-fetch counters moved.

import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { chromium } from 'playwright-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stats(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: status ${r.status}`);
  return r.json();
}

// The proxy's counters (GET /.varyedge/stats on `varyedge proxy`), or {} for a direct case.
async function proxyStats(url) {
  return url ? (await stats(url)).stats : {};
}

// What reached the origin between two reads of its counters: OPTIONS requests, and all
// others (a redirect's hops land on other paths).
function serverDelta(before, after) {
  let options = 0, actual = 0;
  for (const k of Object.keys(after)) {
    const d = (after[k] || 0) - (before[k] || 0);
    if (k.startsWith('OPTIONS ')) options += d; else actual += d;
  }
  return [options, actual];
}

const EDGE = ['hits', 'misses', 'passes', 'stale', 'collapsed', 'judge_fetches'];
function edgeDelta(before, after) {
  const d = {};
  for (const k of EDGE) d[k] = (after[k] || 0) - (before[k] || 0);
  return d;
}

// A non-browser client (`browser: none`, curl or a server): no Origin, nothing checked.
function plainRequest(st) {
  return new Promise((resolve) => {
    const req = httpRequest(st.url, { method: st.method, headers: st.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: true, status: res.statusCode, type: 'none' }));
    });
    req.on('error', (e) => resolve({ ok: false, error: String(e) }));
    // follow nothing: curl without -L
    req.end();
  });
}

// Only the flags the plan gives (ignoreDefaultArgs): Playwright's own defaults disable a
// list of Chromium features and field trials, which would make this less a stock browser.
// Playwright talks to Chromium over --remote-debugging-pipe.
const context = await chromium.launchPersistentContext(plan.user_data_dir, {
  executablePath: plan.executable,
  headless: true,
  ignoreDefaultArgs: true,
  args: [...plan.args, '--remote-debugging-pipe', `--user-data-dir=${plan.user_data_dir}`, 'about:blank'],
  timeout: 60000,
});

// One tab per page origin, kept for the whole run (Chromium's preflight cache is keyed
// by origin, URL and network isolation key, so cases with distinct URLs do not meet).
const tabs = new Map();
for (const origin of plan.pages) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const tab = { page, cdp, events: [] };
  await cdp.send('Network.enable');
  await cdp.send('Log.enable');
  await cdp.send('Runtime.enable');
  cdp.on('Network.requestWillBeSent', (e) =>
    tab.events.push({ kind: 'request', id: e.requestId, url: e.request.url, method: e.request.method, type: e.type }));
  cdp.on('Network.loadingFailed', (e) =>
    tab.events.push({ kind: 'failed', id: e.requestId, text: e.errorText, cors: e.corsErrorStatus || null, type: e.type }));
  cdp.on('Log.entryAdded', (e) => tab.events.push({ kind: 'log', level: e.entry.level, text: e.entry.text }));
  cdp.on('Runtime.consoleAPICalled', (e) =>
    tab.events.push({ kind: 'log', level: e.type, text: (e.args || []).map((a) => a.value ?? a.description ?? '').join(' ') }));
  await page.goto(origin + '/', { waitUntil: 'load' });
  tabs.set(origin, tab);
}

const out = { chromium: context.browser()?.version() ?? null, cases: [] };
for (const c of plan.cases) {
  const steps = [];
  await context.clearCookies();
  if (c.cookies && c.cookies.length) await context.addCookies(c.cookies);
  for (const s of c.steps) {
    if (s.delay_ms > 0) await sleep(s.delay_ms);
    const before = await stats(s.stats);
    const pBefore = await proxyStats(s.proxy_stats);
    if (s.page === null) {
      const page = await plainRequest(s);
      await sleep(150);
      const after = await stats(s.stats);
      const edge = edgeDelta(pBefore, await proxyStats(s.proxy_stats));
      const [options, actual] = serverDelta(before, after);
      steps.push({ page, cors_error: null, cors_failed_parameter: null, net_error: null, console: [],
        devtools_preflight: false, server_options: options, server_actual: actual, edge, events: [] });
      continue;
    }
    const tab = tabs.get(s.page);
    if (!tab) throw new Error(`case ${c.id}: no tab for page ${s.page}`);
    tab.events.length = 0;
    const page = await tab.page.evaluate(async (st) => {
      try {
        const init = { method: st.method, headers: st.headers, credentials: st.credentials, mode: st.mode, redirect: st.redirect };
        const r = await fetch(st.url, init);
        await r.text();
        return { ok: true, status: r.status, type: r.type };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    }, s);
    // DevTools events and console messages arrive shortly after the promise settles.
    await sleep(150);
    const after = await stats(s.stats);
    const edge = edgeDelta(pBefore, await proxyStats(s.proxy_stats));
    const [options, actual] = serverDelta(before, after);
    const ev = tab.events.slice();
    const mine = ev.filter((e) => e.kind !== 'log');
    const failed = mine.filter((e) => e.kind === 'failed');
    const withCors = failed.find((e) => e.cors);
    steps.push({
      page,
      cors_error: withCors ? withCors.cors.corsError : null,
      cors_failed_parameter: withCors ? withCors.cors.failedParameter : null,
      net_error: failed.length ? failed[0].text : null,
      console: ev.filter((e) => e.kind === 'log' && /blocked by CORS policy/.test(e.text)).map((e) => e.text),
      devtools_preflight: mine.some((e) => e.kind === 'request' && (e.type === 'Preflight' || e.method === 'OPTIONS')),
      server_options: options,
      server_actual: actual,
      edge,
      events: ev,
    });
  }
  out.cases.push({ id: c.id, steps });
}
await context.close();
process.stdout.write(JSON.stringify(out) + '\n');
