// Records a HAR with Playwright's recordHar while one headless Chromium runs a story's
// steps (tests/har_chromium.rs writes the plan), and prints what each page saw as JSON.
//
// usage: node har_driver.mjs PLAN.json
//
// PLAN: { "executable", "user_data_dir", "args": [..], "har": PATH, "pages": [ORIGIN..],
//         "steps": [ { "kind": "fetch" | "no-cors" | "navigate", "page": ORIGIN|null,
//                      "url": URL, "headers": {..}, "delay_ms": N } ] }
//
// "fetch" is a cors-mode fetch() from the page's tab, "no-cors" a fetch() with
// mode: 'no-cors' (no Origin on a GET, like an <img>), "navigate" opens the URL in a new
// tab (a top-level navigation: no Origin). Per step: { ok, status } or { ok: false, error }.

import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const context = await chromium.launchPersistentContext(plan.user_data_dir, {
  executablePath: plan.executable,
  headless: true,
  ignoreDefaultArgs: true,
  args: [...plan.args, '--remote-debugging-pipe', `--user-data-dir=${plan.user_data_dir}`, 'about:blank'],
  recordHar: { path: plan.har, content: 'omit' },
  timeout: 60000,
});

const tabs = new Map();
for (const origin of plan.pages) {
  const page = await context.newPage();
  await page.goto(origin + '/', { waitUntil: 'load' });
  tabs.set(origin, page);
}

const results = [];
for (const s of plan.steps) {
  if (s.delay_ms > 0) await sleep(s.delay_ms);
  if (s.kind === 'navigate') {
    const tab = await context.newPage();
    const r = await tab.goto(s.url, { waitUntil: 'load' }).catch((e) => ({ error: String(e) }));
    results.push(r && r.error ? { ok: false, error: r.error } : { ok: true, status: r ? r.status() : 0 });
    await tab.close();
    continue;
  }
  const tab = tabs.get(s.page);
  if (!tab) throw new Error(`no tab for page ${s.page}`);
  const r = await tab.evaluate(async (st) => {
    try {
      const init = { headers: st.headers, mode: st.kind === 'no-cors' ? 'no-cors' : 'cors' };
      const res = await fetch(st.url, init);
      await res.text();
      return { ok: true, status: res.status, type: res.type };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, s);
  results.push(r);
  // Let the network service finish the entry before the next step starts.
  await sleep(100);
}
await context.close();
process.stdout.write(JSON.stringify({ chromium: context.browser()?.version() ?? null, steps: results }) + '\n');
