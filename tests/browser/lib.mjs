// lib.mjs - helpers of Dala's browser tests: the browser (Debian's chromium
// through playwright-core), pages that wait on the app's own readiness marks
// (<main data-view data-state data-seq>), sign-in, and the `dala` tablet
// command run from node. Everything has a bounded timeout.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run scripts/browser-tests.sh`);
  return v;
};

export const URL_ROOT = env('DALA_URL') + '/';
export const STEP_MS = 10_000;  // one wait on the page
export const TEST_MS = 45_000;  // one test

// Without the background-networking flags Chromium's own connections are
// refused on a closed network and slow everything down.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.DALA_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A page in a context of its own (its own cookies: one person signed in).
// Script errors and Content-Security-Policy refusals are collected: the
// pages must cause none.
export async function openPage(browser, problems) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return page;
}

export async function mainSeq(page) {
  return page.evaluate(() => document.getElementById('main')?.dataset.seq || '');
}

// Waits until <main> shows `view`, fully drawn; with `after`, a drawing
// newer than that render counter (so an old drawing is not taken for it).
export async function waitView(page, view, after) {
  await page.waitForFunction(([v, a]) => {
    const m = document.getElementById('main');
    return m && m.dataset.view === v && m.dataset.state === 'ready' && (a == null || m.dataset.seq !== a);
  }, [view, after ?? null], { timeout: STEP_MS });
}

// Goes to a hash route of the app and waits for its view.
export async function go(page, hash, view) {
  const before = await mainSeq(page);
  const current = await page.evaluate(() => location.hash);
  if (current === hash) await page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')));
  else await page.evaluate((h) => { location.hash = h; }, hash);
  await waitView(page, view, before);
}

export async function openSignIn(page) {
  await page.goto(URL_ROOT);
  await waitView(page, 'signin');
}

export async function signIn(page, login, password, view) {
  await openSignIn(page);
  await page.fill('[data-test=signin-login]', login);
  await page.fill('[data-test=signin-password]', password);
  await page.click('[data-test=signin-submit]');
  await waitView(page, view);
}

export async function message(page, kind) {
  const sel = `[data-test=message][data-kind=${kind}]:not([hidden])`;
  await page.waitForSelector(sel, { timeout: STEP_MS });
  return (await page.textContent(sel)).trim();
}

export async function rowIds(page, test = 'record-row') {
  return page.$$eval(`[data-test=${test}]`, (rows) => rows.map((r) => r.dataset.id));
}

// A fetch from inside the page (its cookies), for what the pages never do.
export async function pageFetch(page, method, url, headers, body) {
  return page.evaluate(async ([m, u, h, b]) => {
    const res = await fetch(u, { method: m, credentials: 'same-origin', headers: h || {}, body: b ?? undefined });
    return { status: res.status, text: await res.text() };
  }, [method, url, headers || null, body ?? null]);
}

// The tablet command: `dala --store build/browser/NAME.db ARGS...`.
export function dala(store, ...args) {
  const r = spawnSync(env('DALA_BIN'), ['--store', path.join(env('DALA_WORK'), store + '.db'), ...args], {
    encoding: 'utf8', timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(env('DALA_SCREENSHOTS'), name + '.png'), fullPage: true });
}
