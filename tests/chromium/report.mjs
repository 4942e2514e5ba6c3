// Opens varyedge's HTML reports in headless Chromium and prints what their DOM shows, as
// one JSON document on stdout, for tests/html_report.rs to compare with --format json.
//
// usage: node report.mjs PLAN.json
// PLAN: { "executable": "/usr/bin/chromium", "args": [..],
//         "pages": [ { "file": "/abs/report.html", "screenshot": "/abs/shot.png"|null,
//                      "scroll_to_end": false } ] }
//
// Per page: every request the page made other than loading its own file, console errors,
// the time from navigation to `body[data-ready]`, and per timeline section its counts,
// step marks and poisoning arrows (data-from → data-to) as drawn; the matrix rows; the
// explore chart's rate and interval.

import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await chromium.launch({ executablePath: plan.executable, args: plan.args });
const out = [];
try {
  for (const p of plan.pages) {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    const requests = [];
    const errors = [];
    const self = 'file://' + p.file;
    page.on('request', (r) => { if (r.url() !== self) requests.push(r.url()); });
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    const t0 = Date.now();
    await page.goto(self);
    await page.waitForSelector('body[data-ready]', { timeout: 20000 });
    const ready_ms = Date.now() - t0;
    if (p.scroll_to_end) {
      await page.evaluate(() => { for (const s of document.querySelectorAll('.tl-scroll')) s.scrollLeft = s.scrollWidth; });
      await page.waitForTimeout(200);
    }
    const dom = await page.evaluate(() => {
      const num = (e) => (e ? e.querySelector('b').textContent : null);
      const traces = [...document.querySelectorAll('section.trace')].map((sec) => {
        const counts = {};
        for (const c of sec.querySelectorAll('[data-count]')) counts[c.getAttribute('data-count')] = num(c);
        return {
          scenario: sec.getAttribute('data-scenario'),
          profile: sec.getAttribute('data-profile'),
          counts,
          steps: [...sec.querySelectorAll('circle.step')].map((c) => ({ index: Number(c.getAttribute('data-index')), verdict: c.getAttribute('data-verdict'), unmet: c.classList.contains('unmet') })),
          arrows: [...sec.querySelectorAll('.poison-arrow')].map((a) => [Number(a.getAttribute('data-from')), Number(a.getAttribute('data-to'))]),
          svg_nodes: sec.querySelectorAll('svg *').length,
          failures_listed: sec.querySelectorAll('.failures li[data-index]').length,
        };
      });
      const matrix = [...document.querySelectorAll('table.matrix tr[data-profile]')].map((r) => ({ profile: r.getAttribute('data-profile'), class: r.className, cells: [...r.cells].map((c) => c.textContent) }));
      const bar = document.querySelector('.rate-chart rect[data-rate]');
      const ci = document.querySelector('.rate-chart line[data-low]');
      const chart = bar ? { rate: Number(bar.getAttribute('data-rate')), low: Number(ci.getAttribute('data-low')), high: Number(ci.getAttribute('data-high')), kinds: [...document.querySelectorAll('.rate-chart rect[data-kind]')].map((k) => k.getAttribute('data-kind')) } : null;
      return { title: document.title, traces, matrix, chart, overview_rows: document.querySelectorAll('#overview tr').length - 1 };
    });
    // Hover then click the first cache-induced step: the tooltip and the detail panel
    // must show its console line.
    // A locator, not a handle: a timeline redraws its visible part when it scrolls.
    const ci = page.locator('circle.step[data-verdict="ci"]').first();
    let hover = null, click = null;
    if (await ci.count()) {
      await ci.scrollIntoViewIfNeeded();
      await page.waitForTimeout(100);
      await ci.hover();
      hover = await page.evaluate(() => { const t = document.getElementById('tip'); return t.hidden ? null : t.textContent; });
      await ci.click();
      click = await page.evaluate(() => { const d = document.querySelector('circle.step.sel'); const sec = d && d.closest('section'); return sec ? sec.querySelector('.detail').textContent : null; });
    }
    await page.mouse.move(0, 0);
    if (p.screenshot) await page.screenshot({ path: p.screenshot, fullPage: !!p.full_page });
    out.push({ file: p.file, requests, errors, ready_ms, hover, click, ...dom });
    await ctx.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
