// web.test.mjs - Dala's supervisors' pages in headless Chromium against a real
// dala-server seeded by scripts/browser-tests.sh (which passes the URL, the
// password and the record ids in the environment). The tests run in order,
// as one supervisor's day: each depends on the state the previous left.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  env, URL_ROOT, TEST_MS, launch, openPage, waitView, go, openSignIn, signIn, message, rowIds,
  pageFetch, dala, screenshot, mainSeq,
} from './lib.mjs';

const PASSWORD = env('DALA_PASSWORD');
const REC = {
  person: env('REC_PERSON'), visitReturn: env('REC_VISIT_RETURN'), visitApprove: env('REC_VISIT_APPROVE'),
  visitConflict: env('REC_VISIT_CONFLICT'), talk: env('REC_TALK'), markup: env('REC_MARKUP'), saryarka: env('REC_SARYARKA'),
  almaly: env('REC_ALMALY'),
};
const ESIL = [REC.person, REC.visitReturn, REC.visitApprove, REC.visitConflict, REC.talk, REC.markup];
const OWN = [REC.person, REC.visitReturn, REC.visitApprove, REC.visitConflict];   // a.nurlanova's tablet
const MARKUP = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
// The record types' labels, as the pages must show them.
const DOMAIN = JSON.parse(fs.readFileSync(new URL('../../schema/domain/records.json', import.meta.url), 'utf8'));
const VISIT = DOMAIN.tables.find((t) => t.name === 'field_visit');

let browser;
const problems = [];   // script errors and CSP refusals on any page
let head;              // the Esil unit head's page, signed in for most tests
const T = { timeout: TEST_MS };

before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

const sorted = (a) => [...a].sort();

/* ---- Sign-in. */

test('the sign-in page reads in Kazakh by default and in Russian after the switch', T, async () => {
  head = await openPage(browser, problems);
  await openSignIn(head);
  assert.equal(await head.getAttribute('html', 'lang'), 'kk');
  assert.equal((await head.textContent('[data-test=signin-form] h1')).trim(), 'Жүйеге кіру');
  assert.equal((await head.textContent('[data-test=signin-submit]')).trim(), 'Кіру');
  await screenshot(head, 'signin');
  await head.click('[data-test=lang-ru]');
  await waitView(head, 'signin');
  assert.equal(await head.getAttribute('html', 'lang'), 'ru');
  assert.equal((await head.textContent('[data-test=signin-form] h1')).trim(), 'Вход в систему');
  assert.match(await head.evaluate(() => document.cookie), /dala_lang=ru/);
  // The choice survives a reload (it is the cookie the server reads too).
  await openSignIn(head);
  assert.equal((await head.textContent('[data-test=signin-submit]')).trim(), 'Войти');
});

test('a wrong password is refused with a visible message and no session', T, async () => {
  await head.fill('[data-test=signin-login]', 'z.omarova');
  await head.fill('[data-test=signin-password]', 'not-the-password');
  await head.click('[data-test=signin-submit]');
  assert.equal(await message(head, 'error'), 'Неверный логин или пароль.');
  assert.equal(await head.getAttribute('main', 'data-view'), 'signin');
  assert.equal((await pageFetch(head, 'GET', '/v1/session')).status, 401);
});

test('the unit head signs in (back in Kazakh) and sees the dashboard of her unit', T, async () => {
  await head.click('[data-test=lang-kk]');
  await waitView(head, 'signin');
  await head.fill('[data-test=signin-login]', 'z.omarova');
  await head.fill('[data-test=signin-password]', PASSWORD);
  await head.click('[data-test=signin-submit]');
  await waitView(head, 'dashboard');
  assert.equal((await head.textContent('[data-test=user-name]')).trim(), 'Zhanar Omarova');
  // Navigation by role: a unit head has no users page.
  const nav = await head.$$eval('[data-test=nav] a', (as) => as.map((a) => a.dataset.test));
  assert.deepEqual(nav, ['nav-dashboard', 'nav-records', 'nav-reports', 'nav-devices', 'nav-audit']);
  assert.equal((await head.textContent('[data-test=dash-returned] .figure-n')).trim(), '1');
  assert.equal((await head.textContent('[data-test=dash-conflicts] .figure-n')).trim(), '1');
  assert.ok(Number(await head.textContent('[data-test=dash-waiting] .figure-n')) >= 3);
  const counted = await head.$$eval('[data-test=dash-counts] tbody tr', (rs) => rs.map((r) => r.dataset.table));
  assert.ok(counted.includes('field_visit'), `counts rows: ${counted}`);
  const due = await head.textContent('[data-test=deadline-unit]');
  assert.match(due, /\d{4}-\d{2}-\d{2}/);
  assert.match(due, /күн қалды|бүгін|мерзімі \d+ күнге өтті/);
  await screenshot(head, 'dashboard');
});

/* ---- The list and its filters. */

test("the list holds the unit's records only, labelled in the chosen language", T, async () => {
  await go(head, '#/records', 'records');
  assert.deepEqual(sorted(await rowIds(head)), sorted(ESIL));
  const visitRow = `[data-test=record-row][data-id="${REC.visitApprove}"]`;
  assert.match(await head.textContent(visitRow), new RegExp(VISIT.kk));
  const before = await mainSeq(head);
  await head.click('[data-test=lang-ru]');
  await waitView(head, 'records', before);
  assert.match(await head.textContent(visitRow), new RegExp(VISIT.ru));
  assert.equal((await head.textContent('[data-test=filter-apply]')).trim(), 'Применить');
  const again = await mainSeq(head);
  await head.click('[data-test=lang-kk]');
  await waitView(head, 'records', again);
  await screenshot(head, 'records');
});

test('filtering by state shows only the returned record, and the CSV export carries the filter', T, async () => {
  await go(head, '#/records', 'records');
  assert.ok(await head.isHidden('[data-test=csv-link]'), 'an export is of one record type');
  await head.selectOption('[data-test=filter-state]', 'returned');
  const before = await mainSeq(head);
  await head.click('[data-test=filter-apply]');
  await waitView(head, 'records', before);
  assert.match(await head.evaluate(() => location.hash), /state=returned/);
  assert.deepEqual(await rowIds(head), [REC.talk]);
  await head.selectOption('[data-test=filter-table]', 'interaction');
  const typed = await mainSeq(head);
  await head.click('[data-test=filter-apply]');
  await waitView(head, 'records', typed);
  assert.deepEqual(await rowIds(head), [REC.talk]);
  const href = await head.getAttribute('[data-test=csv-link]', 'href');
  assert.equal(href, '/v1/records.csv?table=interaction&state=returned');
  const csv = await pageFetch(head, 'GET', href);
  assert.equal(csv.status, 200);
  const lines = csv.text.split(/\r?\n/).filter(Boolean);
  assert.equal(lines.length, 2, 'a header row and the one returned record');
  assert.ok(lines[1].includes('Отбасылық зорлық-зомбылықтың алдын алу'), lines[1]);
  await head.selectOption('[data-test=filter-table]', '');
  await head.selectOption('[data-test=filter-state]', 'pending');
  const again = await mainSeq(head);
  await head.click('[data-test=filter-apply]');
  await waitView(head, 'records', again);
  const pending = await rowIds(head);
  assert.ok(!pending.includes(REC.talk) && pending.includes(REC.visitReturn), `pending: ${pending}`);
  const states = await head.$$eval('[data-test=record-row]', (rs) => rs.map((r) => r.dataset.state));
  assert.ok(states.every((s) => s === 'pending'), `states: ${states}`);
});

test('the text search finds a Kazakh surname typed in another case, and nothing else', T, async () => {
  await go(head, '#/records', 'records');
  await head.fill('[data-test=filter-q]', 'ұЛЫҚБЕКОВА');   // stored as «Ұлықбекова»
  const before = await mainSeq(head);
  await head.press('[data-test=filter-q]', 'Enter');
  await waitView(head, 'records', before);
  assert.deepEqual(await rowIds(head), [REC.person]);
  await head.fill('[data-test=filter-q]', 'Жоқ-мұндай-сөз');
  const again = await mainSeq(head);
  await head.click('[data-test=filter-apply]');
  await waitView(head, 'records', again);
  assert.deepEqual(await rowIds(head), []);
  assert.ok(await head.isVisible('[data-test=records-empty]'));
});

test("'more' pages on through the whole list without repeating a record", T, async () => {
  await go(head, '#/records?limit=2', 'records');
  const seen = [];
  for (let i = 0; i < 10; i++) {
    const ids = await rowIds(head);
    assert.equal(ids.length, Math.min(2 * (i + 1), ESIL.length));
    if (ids.length === seen.length) break;   // the empty page after a full last one
    seen.splice(0, seen.length, ...ids);
    if (!(await head.isVisible('[data-test=more]'))) break;
    await head.click('[data-test=more]');
    // A full last page may still name a cursor: the page after it is empty and ends the list.
    await head.waitForFunction((n) => document.querySelectorAll('[data-test=record-row]').length > n ||
      document.querySelector('[data-test=more]').hidden, ids.length);
  }
  assert.ok(await head.isHidden('[data-test=more]'), "no 'more' after the last record");
  assert.deepEqual(sorted(seen), sorted(ESIL));
  assert.equal(new Set(seen).size, seen.length, 'no record twice');
  const dates = await head.$$eval('[data-test=record-row] td:first-child', (c) => c.map((x) => x.textContent));
  assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
});

/* ---- One record, and the decisions on it. */

test('markup typed into a record reads as text and never runs', T, async () => {
  await go(head, '#/record/' + REC.markup, 'record');
  assert.equal((await head.textContent('[data-test=field][data-field=findings] td.value')).trim(), MARKUP);
  assert.equal((await head.textContent('[data-test=field][data-field=address] td.value')).trim(), '"><svg onload=alert(1)>');
  assert.equal(await head.$$eval('main img, main script, main svg', (e) => e.length), 0);
  assert.notEqual(await head.title(), 'pwned');
});

test('a record opens from the list with its labelled fields, history and links', T, async () => {
  await go(head, '#/records', 'records');
  const before = await mainSeq(head);
  await head.click(`[data-test=record-row][data-id="${REC.visitReturn}"] td.summary a`);
  await waitView(head, 'record', before);
  const fields = await head.$$eval('[data-test=field]', (rs) => rs.map((r) =>
    ({ name: r.dataset.field, label: r.querySelector('th').textContent.replace('●', '').trim(),
      value: r.querySelector('td.value').textContent.trim() })));
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
  for (const name of ['visit_date', 'purpose', 'risk_level', 'findings', 'address']) {
    const want = VISIT.fields.find((f) => f.name === name).kk;
    assert.equal(byName[name] && byName[name].label, want, `label of ${name}`);
  }
  const risk = DOMAIN.enums.risk_level.find((e) => e.value === 'medium').kk;
  assert.equal(byName.risk_level.value, risk);
  assert.equal(byName.findings.value, 'Жәбірленуші үйде болды, балалар аман.');
  assert.ok((await head.$$('[data-test=history-row]')).length >= 1, 'a history row');
  assert.ok(await head.$(`[data-test=link] a[data-id="${REC.person}"]`), 'the victim linked');
});

test('returning a record with a comment reaches the tablet at its next sync', T, async () => {
  await go(head, '#/record/' + REC.visitReturn, 'record');
  // The comment is required: an empty return is not sent.
  await head.$eval('[data-test=return-comment]', (t) => t.removeAttribute('required'));
  await head.click('[data-test=return-submit]');
  assert.equal(await message(head, 'error'), 'Қайтару үшін түсініктеме жазыңыз.');
  const comment = 'Балалардың жасын көрсетіңіз (Ә, Ұ, Қ тексеру)';
  await head.fill('[data-test=return-comment]', comment);
  const before = await mainSeq(head);
  const [resp] = await Promise.all([
    head.waitForResponse((r) => r.url().endsWith(`/v1/records/${REC.visitReturn}/review`)),
    head.click('[data-test=return-submit]'),
  ]);
  assert.equal(resp.status(), 200);
  const { review_id: reviewId, state } = await resp.json();
  assert.equal(state, 'returned');
  await waitView(head, 'record', before);
  assert.match(await message(head, 'ok'), /қайтарылды/);
  assert.equal(await head.getAttribute('[data-test=record-state]', 'data-state'), 'returned');
  assert.match(await head.textContent('[data-test=reviews-table]'), /Балалардың жасын көрсетіңіз/);
  assert.equal(await head.$('[data-test=approve]'), null, 'no decision panel on a returned record');
  await screenshot(head, 'record');

  const sync = dala('esil-1', 'sync');
  assert.equal(sync.status, 0, sync.stderr);
  const shown = dala('esil-1', 'show', reviewId);
  assert.equal(shown.status, 0, shown.stderr);
  assert.ok(shown.stdout.includes(comment), shown.stdout);
  assert.ok(shown.stdout.includes(REC.visitReturn), shown.stdout);
  const list = dala('esil-1', 'list');
  assert.ok(list.stdout.includes(reviewId), list.stdout);
});

test('approving another record sets it approved', T, async () => {
  await go(head, '#/record/' + REC.visitApprove, 'record');
  assert.equal(await head.getAttribute('[data-test=record-state]', 'data-state'), 'pending');
  const before = await mainSeq(head);
  await head.click('[data-test=approve]');
  await waitView(head, 'record', before);
  assert.equal(await message(head, 'ok'), 'Жазба бекітілді.');
  assert.equal(await head.getAttribute('[data-test=record-state]', 'data-state'), 'approved');
  assert.match(await head.textContent('[data-test=reviews-table]'), /Бекітілді/);
});

test('settling a conflict keeps the chosen value and marks it settled', T, async () => {
  await go(head, '#/record/' + REC.visitConflict, 'record');
  const card = '[data-test=conflict]';
  assert.equal(await head.getAttribute(card, 'data-status'), 'open');
  const winner = (await head.textContent(`${card} [data-test=conflict-winner] [data-test=conflict-value]`)).trim();
  const loser = (await head.textContent(`${card} [data-test=conflict-loser] [data-test=conflict-value]`)).trim();
  const risks = DOMAIN.enums.risk_level.map((e) => e.kk);
  assert.deepEqual(sorted([winner, loser]), sorted([risks[0], risks[2]]), 'low and high, side by side');
  const riskCell = '[data-test=field][data-field=risk_level] td.value';
  assert.equal((await head.textContent(riskCell)).trim(), winner);
  const before = await mainSeq(head);
  await head.click(`${card} [data-test=keep-loser]`);
  await waitView(head, 'record', before);
  assert.equal(await message(head, 'ok'), 'Қайшылық шешілді.');
  assert.equal(await head.getAttribute(card, 'data-status'), 'settled');
  assert.equal(await head.$('[data-test=keep-winner]'), null);
  assert.equal((await head.textContent(riskCell)).trim(), loser);
  // Settling again is refused by the server (409), and the page says so.
  const again = await pageFetch(head, 'POST', `/v1/conflicts/${await head.getAttribute(card, 'data-id')}/settle`,
    { 'Content-Type': 'application/json', 'X-CSRF-Token': await csrf(head) }, '{"keep":"winner"}');
  assert.equal(again.status, 409, again.text);
});

async function csrf(page) {
  const s = await pageFetch(page, 'GET', '/v1/session');
  return JSON.parse(s.text).csrf;
}

test('a POST without the X-CSRF-Token header, or with another token, answers 403 and changes nothing', T, async () => {
  const url = `/v1/records/${REC.person}/review`;
  const json = { 'Content-Type': 'application/json' };
  const none = await pageFetch(head, 'POST', url, json, '{"decision":"approve"}');
  assert.equal(none.status, 403, none.text);
  const wrong = await pageFetch(head, 'POST', url, { ...json, 'X-CSRF-Token': 'x'.repeat(43) }, '{"decision":"approve"}');
  assert.equal(wrong.status, 403, wrong.text);
  const out = await pageFetch(head, 'DELETE', '/v1/session');
  assert.equal(out.status, 403, 'sign-out needs the token too');
  const rec = await pageFetch(head, 'GET', `/v1/records/${REC.person}`);
  assert.equal(rec.status, 200);
  assert.equal(JSON.parse(rec.text).state, 'pending');
});

/* ---- Devices, scope, administration. */

test('an inspector sees only the records of her own tablet, and no devices, users or audit', T, async () => {
  const inspector = await openPage(browser, problems);
  await signIn(inspector, 'a.nurlanova', PASSWORD, 'dashboard');
  const nav = await inspector.$$eval('[data-test=nav] a', (as) => as.map((a) => a.dataset.test));
  assert.deepEqual(nav, ['nav-dashboard', 'nav-records']);
  await go(inspector, '#/records', 'records');
  assert.deepEqual(sorted(await rowIds(inspector)), sorted(OWN));
  await go(inspector, '#/record/' + REC.visitReturn, 'record');
  assert.equal(await inspector.$('[data-test=approve]'), null, 'no decisions for an inspector');
  await go(inspector, '#/record/' + REC.talk, 'record');   // a colleague's record
  assert.ok(await inspector.isVisible('[data-test=not-found]'));
  await go(inspector, '#/devices', 'dashboard');            // not hers: back to her home
  for (const path of ['/v1/devices', '/v1/users', '/v1/audit']) {
    assert.equal((await pageFetch(inspector, 'GET', path)).status, 403, path);
  }
  // A session that ends (here: its cookie gone) sends her to sign in, then back where she was.
  await inspector.context().clearCookies();
  await go(inspector, '#/records', 'signin');
  assert.equal(await message(inspector, 'error'), 'Сеанс аяқталды, қайта кіріңіз.');
  await inspector.fill('[data-test=signin-login]', 'a.nurlanova');
  await inspector.fill('[data-test=signin-password]', PASSWORD);
  await inspector.click('[data-test=signin-submit]');
  await waitView(inspector, 'records');
  assert.deepEqual(sorted(await rowIds(inspector)), sorted(OWN));
  await inspector.context().close();
});

test("the deputy revokes a tablet on the devices page and that tablet's next sync fails", T, async () => {
  const deputy = await openPage(browser, problems);
  await signIn(deputy, 'b.akhmetov', PASSWORD, 'dashboard');
  await go(deputy, '#/devices', 'devices');
  const officers = await deputy.$$eval('[data-test=device-row] td:nth-child(2)', (c) => c.map((x) => x.textContent));
  assert.ok(officers.includes('Marina Ivanova') && officers.includes('Aigul Nurlanova'), `devices: ${officers}`);
  assert.ok(!officers.includes('Saule Almatova'), 'an Almaty tablet is outside Astana');
  const row = deputy.locator('[data-test=device-row]', { hasText: 'Marina Ivanova' });
  await row.locator('[data-test=revoke]').click();
  await row.locator('[data-test=revoke-cancel]').click();        // changed her mind once
  assert.equal(await row.getAttribute('data-revoked'), 'no');
  await row.locator('[data-test=revoke]').click();
  const before = await mainSeq(deputy);
  await row.locator('[data-test=revoke-confirm]').click();
  await waitView(deputy, 'devices', before);
  assert.equal(await message(deputy, 'ok'), 'Құрылғының қолжетімділігі тоқтатылды.');
  const revoked = deputy.locator('[data-test=device-row]', { hasText: 'Marina Ivanova' });
  assert.equal(await revoked.getAttribute('data-revoked'), 'yes');
  await screenshot(deputy, 'devices');
  const sync = dala('saryarka-1', 'sync');
  assert.notEqual(sync.status, 0, `a revoked tablet synced: ${sync.stdout}`);
  assert.equal(dala('esil-2', 'sync').status, 0, 'another tablet still syncs');
  await deputy.context().close();
});

test('a deputy of Almaty is told an Astana record is not found, and the API answers 404', T, async () => {
  const almaty = await openPage(browser, problems);
  await signIn(almaty, 'r.kaliyeva', PASSWORD, 'dashboard');
  await go(almaty, '#/record/' + REC.almaly, 'record');   // her own department's record opens
  assert.equal(await almaty.getAttribute('[data-test=record]', 'data-id'), REC.almaly);
  await go(almaty, '#/record/' + REC.visitReturn, 'record');
  assert.equal((await almaty.textContent('[data-test=not-found]')).trim(),
    'Жазба табылмады немесе ол сіздің құзырет аясыңызға кірмейді.');
  assert.equal(await almaty.$('[data-test=record]'), null);
  const api = await pageFetch(almaty, 'GET', '/v1/records/' + REC.visitReturn);
  assert.equal(api.status, 404, api.text);
  const none = await pageFetch(almaty, 'GET', '/v1/records/0190f0c2-0000-7000-8000-000000000000');
  assert.equal(none.status, 404, 'the same answer as for no such record');
  await go(almaty, '#/records', 'records');
  assert.deepEqual(await rowIds(almaty), [REC.almaly]);
  await almaty.context().close();
});

test('the administrator makes an enrolment code (text and QR) that enrols a tablet, adds a user, and audits all', T, async () => {
  const admin = await openPage(browser, problems);
  await signIn(admin, 'admin.kap', PASSWORD, 'devices');   // an administrator sees no records
  const nav = await admin.$$eval('[data-test=nav] a', (as) => as.map((a) => a.dataset.test));
  assert.deepEqual(nav, ['nav-devices', 'nav-users', 'nav-audit']);
  const value = await admin.$eval('[data-test=enrol-user]', (s) =>
    [...s.options].find((o) => o.textContent.includes('g.serikova')).value);
  await admin.selectOption('[data-test=enrol-user]', value);
  await admin.click('[data-test=enrol-submit]');
  await admin.waitForSelector('[data-test=enrol-qr] svg');
  const code = (await admin.textContent('[data-test=enrol-code]')).trim();
  assert.ok(code.length >= 8, `code ${code}`);
  await screenshot(admin, 'enrol-code');
  const enrolled = dala('esil-3', 'enroll', '--server', env('DALA_URL'), '--code', code);
  assert.equal(enrolled.status, 0, enrolled.stderr);
  assert.equal(dala('esil-3', 'sync').status, 0);

  await go(admin, '#/users', 'users');
  await admin.fill('[data-test=user-login]', 'n.tasova');
  await admin.fill('[data-test=user-full_name]', 'Нұргүл Тасова');
  await admin.selectOption('[data-test=user-role]', 'inspector');
  const unit = await admin.$eval('[data-test=user-unit_id]', (s) =>
    [...s.options].find((o) => o.textContent.trim() === 'Esil women-protection unit').value);
  await admin.selectOption('[data-test=user-unit_id]', unit);
  await admin.fill('[data-test=user-password]', 'Tasova-2026-pass');
  const before = await mainSeq(admin);
  await admin.click('[data-test=user-add]');
  await waitView(admin, 'users', before);
  assert.equal(await message(admin, 'ok'), 'Пайдаланушы қосылды.');
  assert.match(await admin.textContent('[data-test=user-row][data-login="n.tasova"]'), /Нұргүл Тасова/);

  await go(admin, '#/audit', 'audit');
  const actions = await admin.$$eval('[data-test=audit-row]', (rs) => rs.map((r) => r.dataset.action));
  for (const a of ['user_add', 'enrol_code', 'revoke', 'sign_in']) assert.ok(actions.includes(a), `audit has ${a}: ${actions}`);
  await screenshot(admin, 'audit');
  await admin.context().close();
});

test("the unit head's audit trail lists her sign-in, reads of personal data, decisions and settlement, no values", T, async () => {
  await go(head, '#/audit', 'audit');
  for (let i = 0; i < 10 && await head.isVisible('[data-test=more]'); i++) {
    const n = (await head.$$('[data-test=audit-row]')).length;
    await head.click('[data-test=more]');
    await head.waitForFunction((k) => document.querySelectorAll('[data-test=audit-row]').length > k, n);
  }
  const actions = new Set(await head.$$eval('[data-test=audit-row]', (rs) => rs.map((r) => r.dataset.action)));
  for (const a of ['sign_in', 'review', 'settle', 'read_sensitive']) {
    assert.ok(actions.has(a), `audit has ${a}: ${[...actions]}`);
  }
  // No field value is written to the trail.
  const text = await head.textContent('[data-test=audit-table]');
  assert.ok(!text.includes('Ұлықбекова') && !text.includes('Балалардың жасын'), 'no values in the audit trail');
});

test('signing out returns to the sign-in page and the session is gone', T, async () => {
  await head.click('[data-test=signout]');
  await waitView(head, 'signin');
  assert.equal((await pageFetch(head, 'GET', '/v1/session')).status, 401);
  assert.equal((await pageFetch(head, 'GET', '/v1/records')).status, 401);
  await head.context().close();
});

/* ---- Quarterly report notes (docs/reports.md): the unit head drafts,
 * writes and submits her unit's note; the deputy returns it once, then
 * consolidates the department's note (its own records on a line apart,
 * Saryarka not filed), files Saryarka's note late, consolidates again,
 * signs it and checks the signature.
 * The notes are of the calendar quarter holding today, the day the
 * records below (and the visits the script seeded) are dated. */
const pad2 = (n) => String(n).padStart(2, '0');
const NOW = new Date();
const TODAY = `${NOW.getFullYear()}-${pad2(NOW.getMonth() + 1)}-${pad2(NOW.getDate())}`;
const QUARTER = { year: NOW.getFullYear(), quarter: Math.floor(NOW.getMonth() / 3) + 1 };
const QUARTER_HASH = `#/reports?year=${QUARTER.year}&quarter=${QUARTER.quarter}`;
const NARRATIVE_1 = 'Тоқсанда отбасылық-тұрмыстық салада бір қылмыс тіркелді; <b>жұбайы</b> ұсталды.';
const NARRATIVE_2 = 'Әкімшілік құқық бұзушылықтар тіркелмеді.';
const NARRATIVE_DEPT = 'Департамент бойынша: бір бөлініс жазбасын уақытында ұсынды.';
const RETURN_NOTE = 'Бару мақсаттары бойынша түсіндірме қосыңыз';
const REPORT = {};   // what the report tests pass on: offence, unitNote, deptNote, and the figures below
let deputy;          // the Astana deputy's page, for the report tests

// A criminal offence against the seeded victim, dated today, captured on
// an Esil tablet and synced: block 1 then counts it.
function captureOffence(article) {
  const made = dala('esil-1', 'capture', '--table', 'offence', '--set', 'kind=criminal', '--set', 'sphere=family_domestic',
    '--set', `article=${article}`, '--set', `committed_on=${TODAY}`, '--set', `victim_id=${REC.person}`,
    '--set', 'relationship=spouse');
  assert.equal(made.status, 0, made.stderr);
  const sync = dala('esil-1', 'sync');
  assert.equal(sync.status, 0, sync.stderr);
  return made.stdout.trim();
}

// A preventive visit dated today, written at the department itself (by an
// officer of its own staff, added with the administrator's API, on a tablet
// of her own): a record of the department's own, which no unit's note counts.
async function captureDepartmentVisit(departmentId) {
  const admin = await openPage(browser, problems);
  await signIn(admin, 'admin.kap', PASSWORD, 'devices');
  const json = { 'Content-Type': 'application/json', 'X-CSRF-Token': await csrf(admin) };
  const added = await pageFetch(admin, 'POST', '/v1/users', json, JSON.stringify({ login: 'k.bekova',
    full_name: 'Kamila Bekova', role: 'inspector', unit_id: Number(departmentId), password: 'Bekova-2026-pass' }));
  assert.equal(added.status, 200, added.text);
  const code = await pageFetch(admin, 'POST', '/v1/enrol-codes', json, JSON.stringify({ user_id: JSON.parse(added.text).id }));
  assert.equal(code.status, 200, code.text);
  await admin.context().close();
  const enrolled = dala('astana-1', 'enroll', '--server', env('DALA_URL'), '--code', JSON.parse(code.text).code);
  assert.equal(enrolled.status, 0, enrolled.stderr);
  const made = dala('astana-1', 'capture', '--table', 'field_visit', '--set', `visit_date=${TODAY}`,
    '--set', 'purpose=preventive_visit', '--set', 'address=Астана қ., Бейбітшілік көшесі, 1', '--set', 'risk_level=low',
    '--set', 'findings=Департамент қызметкерінің профилактикалық әңгімесі.');
  assert.equal(made.status, 0, made.stderr);
  const sync = dala('astana-1', 'sync');
  assert.equal(sync.status, 0, sync.stderr);
}

const reportRow = (page, level, state) => page.locator(`[data-test=report-row][data-level=${level}]` +
  (state ? `[data-state=${state}]` : ''));
const figureNow = (group, value = '') => `[data-test=figure][data-group="${group}"][data-value="${value}"] td.now`;
// A figure's number as the note holds it (a correction may stand beside it).
const numberAt = async (page, selector) => Number(/^\s*(\d+)/.exec(await page.textContent(selector))[1]);

// Runs a move whose answer redraws the note, and waits for the new drawing.
async function redrawn(page, action) {
  const before = await mainSeq(page);
  await action();
  await waitView(page, 'report', before);
}

test('an inspector has no report notes entry, and the reports API refuses her', T, async () => {
  const inspector = await openPage(browser, problems);
  await signIn(inspector, 'a.nurlanova', PASSWORD, 'dashboard');
  assert.equal(await inspector.$('[data-test=nav-reports]'), null);
  await go(inspector, QUARTER_HASH, 'dashboard');   // not hers: back to her home
  assert.equal((await pageFetch(inspector, 'GET', '/v1/reports')).status, 403);
  await inspector.context().close();
});

test("the unit head drafts her unit's note for the quarter, traces a figure to its records, writes and submits", T, async () => {
  REPORT.offence = captureOffence('uk.120');
  head = await openPage(browser, problems);
  await signIn(head, 'z.omarova', PASSWORD, 'dashboard');
  assert.ok(await head.isVisible('[data-test=deadline-link]'), "the dashboard's deadlines lead to the notes");
  const before = await mainSeq(head);
  await head.click('[data-test=nav-reports]');
  await waitView(head, 'reports', before);
  // The picker starts at the quarter the server chose; it moves to today's.
  const shown = await head.$eval('[data-test=reports]', (v) => [Number(v.dataset.year), Number(v.dataset.quarter)]);
  assert.equal(await head.inputValue('[data-test=report-year]'), String(shown[0]));
  assert.equal(await head.inputValue('[data-test=report-quarter-n]'), String(shown[1]));
  await head.selectOption('[data-test=report-year]', String(QUARTER.year));
  await head.selectOption('[data-test=report-quarter-n]', String(QUARTER.quarter));
  const picked = await mainSeq(head);
  await head.click('[data-test=report-show]');
  await waitView(head, 'reports', picked);
  assert.equal(await head.evaluate(() => location.hash), QUARTER_HASH);
  // Her scope holds one unit and no department; its note is not begun.
  assert.equal(await reportRow(head, 'department').count(), 0);
  const row = reportRow(head, 'unit', 'none');
  assert.equal(await row.count(), 1);
  assert.match(await row.locator('[data-test=report-days]').textContent(), /күн қалды|бүгін|мерзімі \d+ күнге өтті/);
  assert.match(await row.locator('[data-test=report-due]').textContent(), /\d{4}-\d{2}-05/);
  const drafting = await mainSeq(head);
  await row.locator('[data-test=report-draft]').click();
  await waitView(head, 'report', drafting);
  REPORT.unitNote = await head.getAttribute('[data-test=report]', 'data-id');
  assert.equal(await head.getAttribute('[data-test=report]', 'data-state'), 'draft');
  assert.match(await head.textContent('[data-test=report-title]'), /Esil women-protection unit/);
  assert.match(await head.textContent('[data-test=report-title]'), new RegExp(`${QUARTER.year} жылғы ${QUARTER.quarter}-тоқсан`));
  assert.equal(await head.$$eval('[data-test=report-block]', (b) => b.length), 9);
  assert.deepEqual(await head.$$eval('[data-test=chart]', (i) => i.map((x) => Number(x.dataset.block))), [1, 2, 3, 7]);
  await head.waitForFunction(() => [...document.querySelectorAll('[data-test=chart]')]
    .every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 10_000 });
  assert.equal((await head.textContent(figureNow('crimes'))).trim(), '1');
  assert.ok(!/null|undefined/.test(await head.textContent('main')), 'no stray null on the page');

  // A figure's number lists the records it counts; each opens.
  await head.click(`${figureNow('crimes')} a[data-test=trace]`);
  await head.waitForSelector('[data-test=trace-panel][data-state=ready][data-group=crimes]');
  assert.deepEqual(await rowIds(head, 'trace-row'), [REPORT.offence]);
  await head.click(`[data-test=trace-row][data-id="${REPORT.offence}"] td:first-child a`);
  await waitView(head, 'record');
  assert.equal(await head.getAttribute('[data-test=record]', 'data-id'), REPORT.offence);
  await go(head, '#/report/' + REPORT.unitNote, 'report');
  await head.click(`${figureNow('prevention.visits')} a[data-test=trace]`);
  await head.waitForSelector('[data-test=trace-panel][data-state=ready][data-group="prevention.visits"]');
  const visits = await rowIds(head, 'trace-row');
  assert.ok(visits.includes(REC.visitApprove) && !visits.includes(REC.talk) && !visits.includes(REC.saryarka),
    `visits traced: ${visits}`);
  assert.equal(String(visits.length), (await head.textContent(`${figureNow('prevention.visits')} a`)).trim());
  await screenshot(head, 'report-note');

  // Block 1's narrative is saved by its button; block 2's, left unsaved, by the submission.
  await head.fill('[data-test=narrative][data-block="1"]', NARRATIVE_1);
  await head.click('[data-test=narrative-save][data-block="1"]');
  assert.equal(await message(head, 'ok'), '1-блоктың мәтіні сақталды.');
  await head.fill('[data-test=narrative][data-block="2"]', NARRATIVE_2);
  await redrawn(head, () => head.click('[data-test=report-submit]'));
  assert.equal(await message(head, 'ok'), 'Баяндау жазба департаментке ұсынылды.');
  assert.equal(await head.getAttribute('[data-test=report]', 'data-state'), 'submitted');
  assert.equal(await head.$('[data-test=narrative]'), null, 'a filed note is read, not edited');
  assert.equal(await head.$('[data-test=report-submit]'), null);
  assert.equal((await head.textContent('[data-test=narrative-text][data-block="1"]')).trim(), NARRATIVE_1);
  assert.equal((await head.textContent('[data-test=narrative-text][data-block="2"]')).trim(), NARRATIVE_2);
  assert.equal(await head.$$eval('main b', (b) => b.length), 0, 'a narrative is text, never markup');
});

test('the deputy sees the note submitted, returns it with a required comment, and the unit head submits it again', T, async () => {
  deputy = await openPage(browser, problems);
  await signIn(deputy, 'b.akhmetov', PASSWORD, 'dashboard');
  await go(deputy, QUARTER_HASH, 'reports');
  assert.equal(await reportRow(deputy, 'department', 'none').count(), 1, 'the department note is not begun');
  assert.equal(await reportRow(deputy, 'unit').count(), 2, 'the two Astana units, not Almaty');
  const esil = deputy.locator(`[data-test=report-row][data-id="${REPORT.unitNote}"]`);
  assert.equal(await esil.getAttribute('data-state'), 'submitted');
  assert.match(await esil.textContent(), /ұсынылды/);
  assert.equal(await esil.locator('[data-test=late-mark]').count(), 0, 'filed in time');
  await screenshot(deputy, 'reports-list');
  const opening = await mainSeq(deputy);
  await esil.locator('[data-test=report-open]').click();
  await waitView(deputy, 'report', opening);
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'submitted');
  assert.equal((await deputy.textContent('[data-test=narrative-text][data-block="1"]')).trim(), NARRATIVE_1);
  // The comment is required: an empty return is not sent.
  await deputy.$eval('[data-test=report-return-comment]', (c) => c.removeAttribute('required'));
  await deputy.click('[data-test=report-return]');
  assert.equal(await message(deputy, 'error'), 'Қайтару үшін түсініктеме жазыңыз.');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'submitted');
  await deputy.fill('[data-test=report-return-comment]', RETURN_NOTE);
  await redrawn(deputy, () => deputy.click('[data-test=report-return]'));
  assert.equal(await message(deputy, 'ok'), 'Баяндау жазба пысықтауға қайтарылды.');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'returned');

  await go(head, '#/report/' + REPORT.unitNote, 'report');
  assert.equal(await head.getAttribute('[data-test=report]', 'data-state'), 'returned');
  assert.match(await head.textContent('[data-test=report-return-comment]'), new RegExp(RETURN_NOTE));
  assert.equal(await head.inputValue('[data-test=narrative][data-block="1"]'), NARRATIVE_1, 'the narrative kept');
  await redrawn(head, () => head.click('[data-test=report-submit]'));
  assert.equal(await head.getAttribute('[data-test=report]', 'data-state'), 'submitted');
  assert.match(await head.getAttribute('[data-test=report-return-comment]', 'class'), /earlier/, 'kept as history');
});

test("the deputy drafts the department's note: its own records on a line apart, the unit not filed marked with its figures apart; then consolidates", T, async () => {
  await go(deputy, QUARTER_HASH, 'reports');
  await captureDepartmentVisit(await reportRow(deputy, 'department', 'none').getAttribute('data-unit-id'));
  const drafting = await mainSeq(deputy);
  await reportRow(deputy, 'department', 'none').locator('[data-test=report-draft]').click();
  await waitView(deputy, 'report', drafting);
  REPORT.deptNote = await deputy.getAttribute('[data-test=report]', 'data-id');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-level'), 'department');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'draft');
  const units = await deputy.$$eval('[data-test=unit-row]', (rs) => rs.map((r) => r.dataset.state).sort());
  assert.deepEqual(units, ['none', 'submitted'], 'Esil filed, Saryarka not');
  assert.equal((await deputy.textContent(figureNow('crimes'))).trim(), '1', "the filed unit's figures added up");

  // The department's own records: a line of their own in the units table, not a unit.
  const own = '[data-test=own-row]';
  assert.equal(await deputy.$$eval(own, (rs) => rs.length), 1);
  assert.equal((await deputy.textContent(`${own} td:first-child`)).trim(), 'Департаменттің өз жазбалары');
  REPORT.visitsLabel = (await deputy.textContent('[data-test=figure][data-group="prevention.visits"][data-value=""] th')).trim();
  const ownText = (await deputy.textContent(`${own} [data-test=own-figures]`)).trim();
  assert.ok(ownText.split('; ').includes(`${REPORT.visitsLabel}: 1`), `own records: ${ownText}`);

  // Saryarka has not filed: marked so, and its figures shown apart on demand, never in the totals.
  const saryarka = '[data-test=unit-row][data-filed=no]';
  assert.equal(await deputy.$$eval(saryarka, (rs) => rs.length), 1);
  REPORT.saryarkaUnit = await deputy.getAttribute(saryarka, 'data-unit-id');
  assert.equal((await deputy.textContent(`${saryarka} [data-test=unit-state]`)).trim(), 'Тапсырмаған');
  assert.equal(await deputy.getAttribute('[data-test=unit-row][data-state=submitted]', 'data-filed'), 'yes');
  assert.ok(await deputy.isHidden('[data-test=unfiled-panel]'));
  assert.match(await deputy.textContent('[data-test=unfiled-show]'), /жиынтыққа кірмейді/);
  await deputy.click('[data-test=unfiled-show]');
  await deputy.waitForSelector('[data-test=unfiled-panel][data-state=ready]');
  assert.deepEqual(await deputy.$$eval('[data-test=unfiled-unit]', (us) => us.map((u) => u.dataset.unitId)),
    [REPORT.saryarkaUnit]);
  const saryarkaVisits = '[data-test=unfiled-unit] [data-test=unfiled-figure][data-group="prevention.visits"][data-value=""]';
  REPORT.saryarkaVisits = Number(await deputy.textContent(`${saryarkaVisits} td.now`));
  assert.ok(REPORT.saryarkaVisits >= 1, "Saryarka's seeded visit counted apart");
  await screenshot(deputy, 'report-department-draft');

  // The department's own narrative, left unsaved, is saved by the consolidation.
  await deputy.fill('[data-test=narrative][data-block="1"]', NARRATIVE_DEPT);

  // Consolidating asks first, saying how many units have not filed.
  await deputy.click('[data-test=report-consolidate]');
  assert.match(await deputy.textContent('.confirm'), /2 ішінен 1/);
  await deputy.click('[data-test=consolidate-cancel]');
  await deputy.click('[data-test=report-consolidate]');
  await redrawn(deputy, () => deputy.click('[data-test=consolidate-confirm]'));
  assert.equal(await message(deputy, 'ok'), 'Жиынтық баяндау жазба жасалды.');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'consolidated');
  const after = await deputy.$$eval('[data-test=unit-row]', (rs) => rs.map((r) => r.dataset.state).sort());
  assert.deepEqual(after, ['consolidated', 'none']);
  assert.equal((await deputy.textContent('[data-test=narrative-text][data-block="1"]')).trim(), NARRATIVE_DEPT);
  assert.ok((await deputy.textContent('[data-test=own-row] [data-test=own-figures]')).includes(`${REPORT.visitsLabel}: 1`),
    'the own records as frozen');
  assert.equal(await deputy.$('[data-test=filed-after]'), null, 'nobody filed after it yet');
  assert.equal(await deputy.$('[data-test=report-reconsolidate]'), null);
  REPORT.deptVisits = await numberAt(deputy, figureNow('prevention.visits'));
});

test('a unit filing after the consolidation is flagged on the note and in the list; the deputy consolidates again and the note takes it in', T, async () => {
  // Saryarka's note is filed (by the deputy himself) after the department's was consolidated.
  await go(deputy, QUARTER_HASH, 'reports');
  assert.equal(await deputy.$$eval('[data-test=filed-after-mark]', (m) => m.length), 0);
  const drafting = await mainSeq(deputy);
  await deputy.locator(`[data-test=report-row][data-unit-id="${REPORT.saryarkaUnit}"] [data-test=report-draft]`).click();
  await waitView(deputy, 'report', drafting);
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-level'), 'unit');
  await redrawn(deputy, () => deputy.click('[data-test=report-submit]'));
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'submitted');

  // The quarter's list marks the department's note.
  await go(deputy, QUARTER_HASH, 'reports');
  const mark = reportRow(deputy, 'department').locator('[data-test=filed-after-mark]');
  assert.equal(await mark.count(), 1);
  assert.equal(await mark.getAttribute('data-units'), REPORT.saryarkaUnit);
  assert.equal((await mark.textContent()).trim(), 'жинақталғаннан кейін ұсынылды: 1');
  assert.equal(await deputy.$$eval('[data-test=filed-after-mark]', (m) => m.length), 1, 'only on the department');

  // The note warns, naming the unit, and still holds what it was consolidated with.
  await go(deputy, '#/report/' + REPORT.deptNote, 'report');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'consolidated');
  assert.equal(await deputy.getAttribute('[data-test=filed-after]', 'data-units'), REPORT.saryarkaUnit);
  assert.match(await deputy.textContent('[data-test=filed-after]'),
    /жинақталғаннан кейін өз баяндау жазбасын ұсынған бөліністер: Saryarka women-protection unit/);
  assert.equal(await deputy.getAttribute(`[data-test=unit-row][data-unit-id="${REPORT.saryarkaUnit}"]`, 'data-filed'), 'no',
    'listed as consolidated');
  assert.equal(await numberAt(deputy, figureNow('prevention.visits')), REPORT.deptVisits);
  assert.equal((await deputy.textContent('[data-test=report-reconsolidate]')).trim(), 'Қайта жинақтау');
  await screenshot(deputy, 'report-filed-after');
  // In Russian too.
  const before = await mainSeq(deputy);
  await deputy.click('[data-test=lang-ru]');
  await waitView(deputy, 'report', before);
  assert.match(await deputy.textContent('[data-test=filed-after]'), /После сведения записку представили: Saryarka women-protection unit/);
  assert.equal((await deputy.textContent('[data-test=report-reconsolidate]')).trim(), 'Свести заново');
  assert.equal((await deputy.textContent('[data-test=own-row] td:first-child')).trim(), 'Собственные записи департамента');
  assert.equal((await deputy.textContent('[data-test=unit-row][data-filed=no] [data-test=unit-state]')).trim(), 'Не представлена');
  const again = await mainSeq(deputy);
  await deputy.click('[data-test=lang-kk]');
  await waitView(deputy, 'report', again);

  // Consolidating again takes the late note in: the warning goes, the figures count it.
  await redrawn(deputy, () => deputy.click('[data-test=report-reconsolidate]'));
  assert.equal(await message(deputy, 'ok'), 'Жиынтық баяндау жазба қайта жинақталды: кейін ұсынылған баяндау жазбалар енгізілді.');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'consolidated');
  assert.equal(await deputy.$('[data-test=filed-after]'), null);
  assert.equal(await deputy.$('[data-test=report-reconsolidate]'), null);
  assert.deepEqual(await deputy.$$eval('[data-test=unit-row]', (rs) => rs.map((r) => r.dataset.state + ' ' + r.dataset.filed)),
    ['consolidated yes', 'consolidated yes']);
  assert.equal(await deputy.$('[data-test=unfiled-show]'), null, 'every unit filed');
  assert.equal(await numberAt(deputy, figureNow('prevention.visits')), REPORT.deptVisits + REPORT.saryarkaVisits);
  assert.ok((await deputy.textContent('[data-test=own-row] [data-test=own-figures]')).includes(`${REPORT.visitsLabel}: 1`),
    'the own records counted once');
  // Nobody has filed since: the server refuses another round, and the list has no mark.
  const refused = await pageFetch(deputy, 'POST', `/v1/reports/${REPORT.deptNote}/reconsolidate`,
    { 'X-CSRF-Token': await csrf(deputy) });
  assert.equal(refused.status, 409, refused.text);
  await go(deputy, QUARTER_HASH, 'reports');
  assert.equal(await deputy.$$eval('[data-test=filed-after-mark]', (m) => m.length), 0);
});

test("the deputy is refused a wrong password, signs the department's note and verifies it", T, async () => {
  await go(deputy, '#/report/' + REPORT.deptNote, 'report');
  // A wrong password signs nothing and says so; the field is emptied.
  await deputy.fill('[data-test=sign-password]', 'not-my-password');
  await deputy.click('[data-test=report-sign]');
  assert.equal(await message(deputy, 'error'), 'Құпиясөз қате; баяндау жазбаға қол қойылмады.');
  assert.equal(await deputy.inputValue('[data-test=sign-password]'), '');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'consolidated');
  await deputy.fill('[data-test=sign-password]', PASSWORD);
  await redrawn(deputy, () => deputy.click('[data-test=report-sign]'));
  assert.equal(await message(deputy, 'ok'), 'Баяндау жазбаға қол қойылды.');
  assert.equal(await deputy.getAttribute('[data-test=report]', 'data-state'), 'signed');
  assert.match(await deputy.textContent('[data-test=report-signature]'), /Bolat Akhmetov/);
  assert.equal(await deputy.$('[data-test=sign-password]'), null);
  await deputy.click('[data-test=report-verify]');
  await deputy.waitForSelector('[data-test=verify-result]:not([hidden])');
  assert.equal(await deputy.getAttribute('[data-test=verify-result]', 'data-valid'), 'yes');
  await screenshot(deputy, 'report-signed');

  // The downloads, in the page's language.
  const csv = await pageFetch(deputy, 'GET', await deputy.getAttribute('[data-test=report-csv]', 'href'));
  assert.equal(csv.status, 200);
  // fetch's text() drops the BOM. Every row names the unit, the quarter, the state and the late mark.
  assert.match(csv.text, /^\uFEFF?"Бөлініс","Жыл","Тоқсан","Мәртебесі","Кешігіп","Блок","Көрсеткіш","group","value"/);
  assert.ok(csv.text.includes('"қол қойылды","жоқ",1,"Қылмыстар барлығы","crimes","",0,1,1,1\r\n'),
            'the crimes total: last year, now, the change, and what the records give now');
  const json = await pageFetch(deputy, 'GET', await deputy.getAttribute('[data-test=report-json]', 'href'));
  assert.equal(json.status, 200);
  assert.equal(JSON.parse(json.text).state, 'signed');
  // The signed note as a file, with the fingerprint the page shows.
  const signed = await pageFetch(deputy, 'GET', await deputy.getAttribute('[data-test=report-signed-file]', 'href'));
  assert.equal(signed.status, 200);
  const file = JSON.parse(signed.text);
  assert.equal(file.format, 'dala-signed-report/1');
  assert.equal((await deputy.textContent('[data-test=report-fingerprint]')).trim(), file.fingerprint);
});

test('the printable page opens in a new tab with the nine blocks and their charts', T, async () => {
  await go(deputy, '#/report/' + REPORT.deptNote, 'report');
  const titles = await deputy.$$eval('[data-test=report-block] h2', (hs) => hs.map((x) => x.textContent.trim()));
  assert.equal(titles.length, 9);
  assert.equal(await deputy.getAttribute('[data-test=report-print]', 'target'), '_blank');
  const [popup] = await Promise.all([deputy.waitForEvent('popup'), deputy.click('[data-test=report-print]')]);
  popup.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP (print): ${m.text()}`);
  });
  await popup.waitForLoadState('load');
  assert.match(popup.url(), new RegExp(`/v1/reports/${REPORT.deptNote}/print\\?lang=kk$`));
  const text = await popup.textContent('body');
  for (const title of titles) assert.ok(text.includes(title), `the printable page lacks "${title}"`);
  assert.ok(text.includes(NARRATIVE_DEPT), 'the narrative printed');
  assert.equal(await popup.$$eval('figure.chart svg', (s) => s.length), 4);
  assert.ok((await popup.content()).includes('<svg'));
  assert.match(text, /қолтаңба дұрыс/);
  await popup.close();
  // In Russian the page, its charts and the printable page follow.
  const before = await mainSeq(deputy);
  await deputy.click('[data-test=lang-ru]');
  await waitView(deputy, 'report', before);
  assert.match(await deputy.textContent('[data-test=report-title]'),
    new RegExp(`докладная записка за ${QUARTER.quarter}-й квартал ${QUARTER.year} года`));
  assert.match(await deputy.getAttribute('[data-test=report-print]', 'href'), /\/print\?lang=ru$/);
  assert.match(await deputy.getAttribute('[data-test=chart][data-block="1"]', 'src'), /block=1&lang=ru$/);
  const again = await mainSeq(deputy);
  await deputy.click('[data-test=lang-kk]');
  await waitView(deputy, 'report', again);
});

test('a record corrected after signing shows beside the signed figure, and the signature still verifies', T, async () => {
  captureOffence('uk.120');
  await go(deputy, '#/report/' + REPORT.deptNote, 'report');
  const crimes = '[data-test=figure][data-group=crimes][data-value=""]';
  assert.equal(await deputy.getAttribute(crimes, 'data-corrected'), 'yes');
  const cell = (await deputy.textContent(figureNow('crimes'))).replace(/\s+/g, ' ').trim();
  assert.match(cell, /^1 \(қазір: 2 — ұсынылғаннан кейін түзетілді\)$/);
  // The records behind today's number are both offences.
  await deputy.click(`${figureNow('crimes')} [data-test=corrected] a[data-test=trace]`);
  await deputy.waitForSelector('[data-test=trace-panel][data-state=ready]');
  const traced = await rowIds(deputy, 'trace-row');
  assert.equal(traced.length, 2);
  assert.ok(traced.includes(REPORT.offence));
  await deputy.click('[data-test=report-verify]');
  await deputy.waitForSelector('[data-test=verify-result]:not([hidden])');
  assert.equal(await deputy.getAttribute('[data-test=verify-result]', 'data-valid'), 'yes');
  // The unit head's filed note is frozen too, and shows the same correction.
  await go(head, '#/report/' + REPORT.unitNote, 'report');
  assert.equal(await head.getAttribute('[data-test=report]', 'data-state'), 'consolidated');
  assert.equal(await head.getAttribute(crimes, 'data-corrected'), 'yes');
  await deputy.context().close();
  await head.context().close();
});

test('no page raised a script error or a Content-Security-Policy refusal', () => {
  assert.deepEqual(problems, []);
});
