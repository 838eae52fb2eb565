// dashboard.test.mjs - the dashboard end to end, in Debian's Chromium
// (headless, through playwright-core; no browser download). Everything is
// real: the hookd binary serving /ui/ and the API, a PostgreSQL cluster
// (scripts/test-ui.sh), and a receiver on 127.0.0.1 whose /hooks/payouts
// answers 500 until the test switches it to 200. Each step is one test;
// it prints "N passed, N failed" and exits non-zero on any failure.
// If this fails, a user cannot sign in, read an endpoint's health, follow a
// failing delivery's attempts, replay it, or rotate a secret in a browser.
import { spawn, execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const HOOKD = process.env.HOOKD_BIN;
const SHOTS = process.env.HOOKD_UI_SCREENSHOTS;
const CHROMIUM = process.env.HOOKD_CHROMIUM || '/usr/bin/chromium';
const started = Date.now();

// --- a receiver with one behaviour per path ------------------------------
const received = [];
const behaviour = { payouts: 500 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString();
    let type = '';
    try { type = JSON.parse(body).type; } catch { /* not JSON */ }
    received.push({ path: req.url, headers: req.headers, body, type });
    const path = req.url.replace(/^\/hooks\//, '');
    if (type === 'webhook.test') { res.writeHead(204).end(); return; }
    if (path === 'orders') { await sleep(5 + Math.random() * 30); res.writeHead(204).end(); return; }
    if (path === 'audit') { await sleep((behaviour.auditDelay || 40) + Math.random() * 120); res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"received":true}'); return; }
    if (path === 'payouts') {
      await sleep(10 + Math.random() * 20);
      if (behaviour.payouts >= 300) {
        res.writeHead(behaviour.payouts, { 'Content-Type': 'application/json' }).end('{"error":"ledger database unavailable","retry":true}');
      } else {
        res.writeHead(behaviour.payouts, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      }
      return;
    }
    res.writeHead(404).end();
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = (name) => `http://127.0.0.1:${receiver.address().port}/hooks/${name}`;

// --- hookd ---------------------------------------------------------------
async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env, HOOKD_PORT: String(port), HOOKD_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8',
  HOOKD_RETRY_SCHEDULE: '1s,1s,1s', HOOKD_RETRY_JITTER_PCT: '0', HOOKD_TENANT_RATE_LIMIT: '0',
};
const log = openSync(process.env.HOOKD_UI_LOG || '/dev/null', 'a');
const hookd = spawn(HOOKD, ['serve'], { env, stdio: ['ignore', log, log] });
let hookdExit = null;
hookd.on('exit', (code) => { hookdExit = code; });

async function waitFor(what, fn, timeoutMs = 15000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { last = await fn(); if (last) return last; } catch (err) { last = err; }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

let browser = null;
async function stopHookd() {
  if (hookdExit === null) {
    hookd.kill('SIGTERM');
    await waitFor('hookd to stop', () => hookdExit !== null, 15000).catch(() => hookd.kill('SIGKILL'));
  }
  return hookdExit;
}
async function shutdown(code) {
  if (browser) await browser.close().catch(() => {});
  await stopHookd();
  receiver.close();
  process.exit(code);
}

try {
  await waitFor('hookd to listen', async () => (await fetch(`${base}/healthz`)).ok);
} catch (err) {
  console.log(`hookd did not start: ${err.message}`);
  console.log('0 passed, 1 failed');
  await shutdown(1);
}
const { stdout } = await promisify(execFile)(HOOKD, ['tenant', 'create', 'acme-market', '--output', 'env'], { env });
const creds = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const KEY = creds.HOOKD_API_KEY;

async function call(method, path, body) {
  const res = await fetch(base + path, {
    method, headers: { Authorization: `Bearer ${KEY}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

// --- realistic data: four endpoints, events of several types -------------
const secrets = {};
for (const [name, types] of [['orders', ['order.confirmed', 'order.updated']], ['payouts', ['disbursement.created']],
  ['audit', ['*']], ['legacy-crm', ['product.created']]]) {
  for (const type of types) {
    const r = await call('POST', '/events/subscribe', { type, webhook_url: hookUrl(name) });
    if (r.data && r.data.secret) secrets[name] = r.data.secret;
  }
}
await call('POST', '/events/endpoints/disable', { webhook_url: hookUrl('legacy-crm') });
const published = [];
for (let i = 0; i < 50; i++) {
  const type = ['order.confirmed', 'order.updated', 'order.updated', 'product.created'][i % 4];
  published.push(await call('POST', '/events', { type, data: { order_id: `OR${1000 + i}`, total: { amount: 1999 + i * 250, currency: 'EUR' }, items: 1 + (i % 3) } }));
}
// HOOKD_UI_DEMO_MINUTES=N (for the README picture, not CI): N minutes of
// traffic through the real pipeline before the pages are visited, with
// /hooks/payouts failing through the middle fifth and /hooks/audit's
// latency drifting, then only the overview is photographed.
const demoMinutes = Number(process.env.HOOKD_UI_DEMO_MINUTES || 0);
if (demoMinutes > 0) {
  const end = Date.now() + demoMinutes * 60000;
  const types = ['order.updated', 'order.updated', 'order.confirmed', 'product.created', 'disbursement.created'];
  let n = 0;
  while (Date.now() < end) {
    const progress = 1 - (end - Date.now()) / (demoMinutes * 60000);
    behaviour.payouts = progress > 0.55 && progress < 0.75 ? 503 : 200;
    behaviour.auditDelay = 60 + 50 * Math.sin(progress * 9);
    const burst = 2 + Math.round(2 * Math.sin(progress * 5) + Math.random() * 2);
    for (let i = 0; i < burst; i++) {
      n++;
      await call('POST', '/events', { type: types[n % types.length], data: { order_id: `OR${5000 + n}`, status: 'paid' } });
    }
    await sleep(1000);
  }
  behaviour.payouts = 500;
  console.log(`demo traffic: ${n} events in ${demoMinutes} min`);
}
const payout = await call('POST', '/events', { type: 'disbursement.created', data: { disbursement_id: 'DI7Hq2XbR4', store_id: 'ST92kdLm', amount: 48210, currency: 'EUR' } });
const payoutId = payout.data.id;
// The failing delivery has used up its retries (four attempts, 500 each).
await waitFor('four failed attempts to /hooks/payouts', async () => {
  const e = await call('GET', `/events/${payoutId}?embed=notifications`);
  const n = e.notifications.find((x) => x.webhook_url === hookUrl('payouts'));
  return n && n.attempts.length >= 4 && n.state === 'failed';
}, 30000, 250);

// --- the browser ---------------------------------------------------------
const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    await page.screenshot({ path: join(SHOTS, `failed-${results.length}.png`), fullPage: true }).catch(() => {});
    console.log(`FAIL  ${name}: ${err.message.split('\n').slice(0, 6).join('\n      ')}`);
  }
}
function expect(cond, message) { if (!cond) throw new Error(message); }
const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1, colorScheme: 'light' });
context.setDefaultTimeout(10000);
const page = await context.newPage();
const problems = [];
page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
page.on('console', (msg) => {
  // Chromium notes every API answer >= 400 ("Failed to load resource"):
  // those are the pages' business (a wrong key, a missing route). Anything
  // else in red (a script error, a CSP violation) is a defect.
  if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`);
});

if (demoMinutes > 0) {
  await step('the README screenshot after the demo traffic', async () => {
    await page.goto(`${base}/ui/`);
    await page.fill('#api-key', KEY);
    await page.click('button[type=submit]');
    await page.locator('.charts svg').first().waitFor();
    await page.locator('.card:has-text("Needs attention") :is(.attention, .state)').first().waitFor();
    await sleep(500);
    await page.screenshot({ path: join(SHOTS, 'dashboard.png') });
  });
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length} failed`);
  await shutdown(results.every((r) => r.ok) ? 0 : 1);
}

await step('/ui redirects to the dashboard, which loads under its CSP', async () => {
  const res = await page.goto(`${base}/ui`);
  expect(page.url() === `${base}/ui/`, `landed on ${page.url()}`);
  expect(res.headers()['content-security-policy'].includes("script-src 'self'"), 'no CSP');
  await page.locator('#api-key').waitFor();
});

await step('a wrong API key is refused with a message', async () => {
  await page.fill('#api-key', 'hk_' + 'x'.repeat(40));
  await page.click('button[type=submit]');
  await page.locator('#signin-error', { hasText: 'not accepted' }).waitFor();
  expect(await page.evaluate(() => sessionStorage.length) === 0, 'a refused key was stored');
  await shot(page, 'signin-error');
});

await step('the right key signs in to the overview', async () => {
  await page.fill('#api-key', KEY);
  await page.click('button[type=submit]');
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
  expect(await page.evaluate(() => sessionStorage.getItem('hookd.apiKey')) === KEY, 'key not kept in sessionStorage');
  expect(await page.evaluate(() => localStorage.length) === 0, 'something was put in localStorage');
  // Statistics: charts when the server has GET /events/stats, else a deliberate state.
  await page.locator('.charts svg, .state-unavailable').first().waitFor();
  await page.locator('.card:has-text("Needs attention") :is(.attention, .state)').first().waitFor();
  await sleep(300);
  await shot(page, 'overview');
});

await step('the endpoints page lists every endpoint with its status and actions', async () => {
  await page.click('a.nav-link:has-text("Endpoints")');
  for (const name of ['orders', 'payouts', 'audit', 'legacy-crm']) {
    await page.locator(`tr.endpoint[data-url="${hookUrl(name)}"]`).waitFor();
  }
  const legacy = page.locator(`tr.endpoint[data-url="${hookUrl('legacy-crm')}"]`);
  expect(await legacy.locator('.pill', { hasText: 'disabled' }).count() === 1, 'disabled endpoint not shown as disabled');
  expect(await legacy.locator('button', { hasText: 'Enable' }).count() === 1, 'no Enable action on a disabled endpoint');
  const orders = page.locator(`tr.endpoint[data-url="${hookUrl('orders')}"]`);
  expect(await orders.locator('.chip').allTextContents().then((t) => t.join(',')) === 'order.confirmed,order.updated', 'types of /orders');
  if (await page.locator('.notice', { hasText: 'no GET /events/endpoints' }).count() === 0) {
    // Health from GET /events/endpoints: /orders always succeeded, /payouts never did.
    expect(await orders.locator('td[data-label="Last hour"] .rate').textContent() === '100%', 'success rate of /orders');
    const payouts = page.locator(`tr.endpoint[data-url="${hookUrl('payouts')}"]`);
    const rate = payouts.locator('td[data-label="Last hour"] .rate');
    expect(await rate.textContent() === '0%' && (await rate.getAttribute('class')).includes('tone-bad'), 'success rate of /payouts');
    expect((await payouts.locator('td[data-label="Last attempt"]').textContent()).includes('500'), 'last attempt of /payouts');
    expect((await payouts.textContent()).includes('4 failures in a row'), 'failure streak of /payouts');
    expect((await payouts.locator('td[data-label="Queue"]').textContent()).includes('1 failed'), 'failed queue of /payouts');
  }
  await shot(page, 'endpoints');
});

await step('the events page lists events newest first, pages, and filters by type', async () => {
  await page.click('a.nav-link:has-text("Events")');
  await page.locator('table.events tr.event-row, .state-unavailable').first().waitFor();
  if (await page.locator('.state-unavailable').count()) throw new Error('GET /events is not available on this server');
  const rows = page.locator('tr.event-row');
  expect(await rows.count() === 50, `first page has ${await rows.count()} rows`);
  expect(await rows.first().getAttribute('data-id') === payoutId, 'the newest event is not first');
  await page.locator('button', { hasText: 'Load older events' }).click();
  await waitFor('the second page', async () => await rows.count() > 50);
  const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
  expect(new Set(ids).size === ids.length, 'an event is listed twice across pages');
  for (const e of published) expect(ids.includes(e.data.id), `${e.data.id} is missing from the list`);
  expect(await page.locator('button', { hasText: 'Load older events' }).count() === 0, 'a next page after the last');
  await page.selectOption('select[name=type]', 'disbursement.created');
  await page.click('form.search button[type=submit]');
  await waitFor('the filtered list', async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-id')) === payoutId);
  const counts = await rows.first().locator('.counts').textContent();
  expect(counts.includes('1 failed') && counts.includes('1 delivered'), `delivery counts: ${counts}`);
  await shot(page, 'events');
});

await step('an event id search opens that event', async () => {
  await page.goto(`${base}/ui/#/events`);
  await page.fill('input[name=id]', published[3].data.id);
  await page.press('input[name=id]', 'Enter');
  await page.locator(`h1.event-id:has-text("${published[3].data.id}")`).waitFor();
  // Not an id: said so, without asking the server.
  await page.goto(`${base}/ui/#/events`);
  await page.fill('input[name=id]', 'order 1001');
  await page.press('input[name=id]', 'Enter');
  await page.locator('.state', { hasText: 'not an event id' }).waitFor();
});

await step("a failing endpoint's event shows every attempt with status, duration and response body", async () => {
  await page.goto(`${base}/ui/#/events?type=disbursement.created`);
  await page.locator('tr.event-row a, .state-unavailable').first().waitFor();
  if (await page.locator('.state-unavailable').count()) {
    await page.fill('input[name=id]', payoutId);
    await page.press('input[name=id]', 'Enter');
  } else {
    await page.click(`tr.event-row[data-id="${payoutId}"] a`);
  }
  const card = page.locator(`article.delivery[data-url="${hookUrl('payouts')}"]`);
  await card.waitFor();
  expect(await card.getAttribute('data-state') === 'failed', `state ${await card.getAttribute('data-state')}`);
  const attempts = card.locator('li.attempt');
  expect(await attempts.count() === 4, `${await attempts.count()} attempts shown`);
  for (let i = 0; i < 4; i++) {
    const a = attempts.nth(i);
    expect(await a.locator('.pill').textContent() === '500', 'status 500 not shown');
    expect(/\d+(\.\d)? ms/.test(await a.locator('.attempt-duration').textContent()), 'no duration');
    expect((await a.locator('.attempt-body').textContent()).includes('ledger database unavailable'), 'no response body');
  }
  expect((await page.locator('.payload pre').textContent()).includes('DI7Hq2XbR4'), 'payload not shown');
  await shot(page, 'event-failing');
});

await step('a replay after the receiver recovers shows the success in the timeline', async () => {
  behaviour.payouts = 200;
  const card = page.locator(`article.delivery[data-url="${hookUrl('payouts')}"]`);
  await card.locator('button', { hasText: 'Redeliver' }).click();
  await page.locator('.toast', { hasText: 'Redelivery queued' }).waitFor();
  // The page refreshes itself: the fifth attempt appears, newest first.
  await page.locator(`article.delivery[data-url="${hookUrl('payouts')}"][data-state="delivered"]`).waitFor({ timeout: 20000 });
  const first = page.locator(`article.delivery[data-url="${hookUrl('payouts')}"] li.attempt`).first();
  expect(await first.getAttribute('data-number') === '5', 'the newest attempt is not first');
  expect(await first.locator('.pill').textContent() === '200', 'status 200 not shown');
  await shot(page, 'event-replayed');
});

let rotated = null;
await step('rotating a secret shows the new one once, and deliveries are signed with it', async () => {
  await page.click('a.nav-link:has-text("Endpoints")');
  const orders = page.locator(`tr.endpoint[data-url="${hookUrl('orders')}"]`);
  await orders.locator('button', { hasText: 'Rotate secret' }).click();
  await page.locator('dialog button', { hasText: 'Rotate secret' }).click();
  const secret = page.locator('dialog #new-secret');
  await secret.waitFor();
  rotated = await secret.textContent();
  expect(/^whsec_[A-Za-z0-9+/]{43}=$/.test(rotated), `secret looks wrong: ${rotated}`);
  expect(rotated !== secrets.orders, 'the secret did not change');
  await shot(page, 'secret-rotated');
  await page.locator('dialog button', { hasText: 'Done' }).click();
  await page.locator('dialog').waitFor({ state: 'detached' });
  // The receiver can check a new delivery with the secret the page showed.
  const before = received.length;
  const ev = await call('POST', '/events', { type: 'order.updated', data: { order_id: 'OR2001', status: 'shipped' } });
  const got = await waitFor('the delivery to /hooks/orders', () =>
    received.slice(before).find((r) => r.path === '/hooks/orders' && r.body.includes(ev.data.id)));
  const key = Buffer.from(rotated.slice('whsec_'.length), 'base64');
  const mac = createHmac('sha256', key).update(`${got.headers['webhook-id']}.${got.headers['webhook-timestamp']}.${got.body}`).digest('base64');
  const sigs = got.headers['webhook-signature'].split(' ');
  expect(sigs[0] === `v1,${mac}`, 'the first signature is not made with the shown secret');
  expect(sigs.length >= 2, 'the previous secret no longer signs during the overlap');
  // Shown once: nowhere on the page after the dialog closed.
  expect(!(await page.content()).includes(rotated), 'the secret is still on the page');
});

await step('a test event sent from an endpoint row arrives and has its timeline', async () => {
  const orders = page.locator(`tr.endpoint[data-url="${hookUrl('orders')}"]`);
  const button = orders.locator('button', { hasText: 'Send test' });
  if (await button.count() === 0) throw new Error('no Send test button (the server lacks POST /events/endpoints/test)');
  const before = received.length;
  await button.click();
  await page.locator('.toast a', { hasText: 'View its timeline' }).click();
  const card = page.locator(`article.delivery[data-url="${hookUrl('orders')}"][data-state="delivered"]`);
  await card.waitFor({ timeout: 15000 });
  expect(await page.locator('article.delivery').count() === 1, 'the test event went to more than its endpoint');
  expect((await page.locator('.page-sub .chip').textContent()) === 'webhook.test', 'not a webhook.test event');
  expect(received.slice(before).some((r) => r.path === '/hooks/orders' && r.type === 'webhook.test'), 'the receiver got no test event');
  await page.click('a.nav-link:has-text("Endpoints")');
  await orders.waitFor();
});

await step('disable and enable an endpoint from its row', async () => {
  const audit = page.locator(`tr.endpoint[data-url="${hookUrl('audit')}"]`);
  await audit.locator('button', { hasText: 'Disable' }).click();
  await page.locator('dialog button', { hasText: 'Disable' }).click();
  await audit.locator('.pill', { hasText: 'disabled' }).waitFor();
  const subs = await call('GET', '/events/subscriptions');
  expect(subs.data.find((s) => s.webhook_url === hookUrl('audit')).status === 'disabled', 'not disabled on the server');
  await audit.locator('button', { hasText: 'Enable' }).click();
  await audit.locator('.pill', { hasText: 'active' }).waitFor();
});

/* The elements that stick out past the right edge of the screen. */
const overflowing = () => page.evaluate(() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)}px)`).join(', '));

await step('on a phone the pages fit the screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.locator('tr.endpoint').first().waitFor();
  await shot(page, 'phone-endpoints');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, `endpoints page is ${overflow}px wider than the screen: ${await overflowing()}`);
  await page.goto(`${base}/ui/#/events/${payoutId}`);
  await page.locator('li.attempt').first().waitFor();
  await shot(page, 'phone-event');
  const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow2 <= 0, `event page is ${overflow2}px wider than the screen: ${await overflowing()}`);
  await page.setViewportSize({ width: 1360, height: 860 });
});

await step('a key that stops working sends the user back to sign-in', async () => {
  // A tab of its own whose stored key is no longer valid (a revoked key).
  const tab = await context.newPage();
  await tab.addInitScript(() => sessionStorage.setItem('hookd.apiKey', 'hk_' + 'y'.repeat(40)));
  await tab.goto(`${base}/ui/#/endpoints`);
  await tab.locator('#signin-error', { hasText: 'sign in again' }).waitFor();
  expect(await tab.evaluate(() => sessionStorage.getItem('hookd.apiKey')) === null, 'the bad key was kept');
  await tab.close();
});

await step('sign-out forgets the key', async () => {
  await page.locator('button.signout').click();
  await page.locator('#api-key').waitFor();
  expect(await page.evaluate(() => sessionStorage.length) === 0, 'the key is still stored');
});

await step('an unknown event shows a deliberate not-found state', async () => {
  await page.fill('#api-key', KEY);
  await page.click('button[type=submit]');
  await page.goto(`${base}/ui/#/events/EV000000000000000000`);
  await page.locator('h2', { hasText: 'Event not found' }).waitFor();
});

await step('the README screenshot: the overview with live data', async () => {
  await page.goto(`${base}/ui/#/overview`);
  await page.locator('.charts svg, .state-unavailable').first().waitFor();
  await page.locator('.card:has-text("Needs attention") :is(.attention, .state)').first().waitFor();
  // Without statistics on this server, the failing delivery's timeline is the better picture.
  if (await page.locator('.charts svg').count() === 0) {
    await page.goto(`${base}/ui/#/events/${payoutId}`);
    await page.locator('li.attempt').first().waitFor();
  }
  await sleep(300);
  await page.screenshot({ path: join(SHOTS, 'dashboard.png') });
});

await step('the overview charts the last hour and day from GET /events/stats', async () => {
  await page.goto(`${base}/ui/#/overview`);
  await page.locator('.charts svg, .stats .state-unavailable').first().waitFor();
  if (await page.locator('.stats .state-unavailable').count()) {
    // An older server: the page says so deliberately (checked here), no charts.
    expect((await page.locator('.stats .state-unavailable').textContent()).includes('GET /events/stats'), 'unclear unavailable state');
    console.log('      (this hookd has no GET /events/stats: checked the not-available state)');
    return;
  }
  const stats = (await call('GET', '/events/stats?window=1h')).data;
  expect(stats.buckets.length === 60, `${stats.buckets.length} buckets`);
  const tile = await page.locator('.tile:has-text("Delivery attempts") .tile-value').textContent();
  expect(Number(tile.replace(/\D/g, '')) >= stats.totals.attempts - 5 && stats.totals.attempts > 50, `attempts tile ${tile} vs ${stats.totals.attempts}`);
  expect(await page.locator('#chart-volume rect.bar.tone-fill-bad').count() > 0, 'no failed bars (the payouts attempts failed)');
  expect(await page.locator('#chart-volume rect.bar.tone-fill-ok').count() > 0, 'no succeeded bars');
  expect(await page.locator('#chart-latency path.line').count() === 3, 'not three latency lines');
  // The readout under the pointer names the bucket's values.
  const box = await page.locator('#chart-volume svg').boundingBox();
  await page.mouse.move(box.x + box.width - 20, box.y + 40, { steps: 3 });
  await page.locator('#chart-volume .chart-tip:not([hidden])', { hasText: 'Succeeded:' }).waitFor();
  await page.click('.segmented a:has-text("Last day")');
  await page.locator('.card-title', { hasText: 'Deliveries per 15 minutes' }).waitFor();
  expect(await page.locator('.tile-sub', { hasText: 'last 24 hours' }).count() === 1, 'the tiles do not say 24 hours');
});

await step("another tenant's key sees its own, empty, dashboard", async () => {
  const { stdout: other } = await promisify(execFile)(HOOKD, ['tenant', 'create', 'empty-shop', '--output', 'env'], { env });
  const otherKey = /HOOKD_API_KEY=(\S+)/.exec(other)[1];
  const tab = await context.newPage();
  await tab.goto(`${base}/ui/`);
  await tab.fill('#api-key', otherKey);
  await tab.click('button[type=submit]');
  await tab.locator('.card:has-text("Needs attention") .state', { hasText: 'No endpoints yet' }).waitFor();
  await tab.click('a.nav-link:has-text("Endpoints")');
  await tab.locator('.state h2', { hasText: 'No endpoints yet' }).waitFor();
  await shot(tab, 'empty-endpoints');
  await tab.click('a.nav-link:has-text("Events")');
  await tab.locator('.state h2', { hasText: 'No events yet' }).waitFor();
  await tab.goto(`${base}/ui/#/events/${payoutId}`);
  await tab.locator('h2', { hasText: 'Event not found' }).waitFor();
  await tab.close();
});

await step('when the server is gone, pages say so and offer to try again', async () => {
  await page.goto(`${base}/ui/#/endpoints`);
  await page.locator('tr.endpoint').first().waitFor();
  const code = await stopHookd();
  expect(code === 0, `hookd exited with ${code} on SIGTERM`);
  await page.click('a.nav-link:has-text("Events")');
  const error = page.locator('.state-error');
  await error.waitFor();
  expect((await error.textContent()).includes('could not be reached'), await error.textContent());
  expect(await error.locator('button', { hasText: 'Try again' }).count() === 1, 'no Try again');
  await shot(page, 'server-gone');
  problems.splice(0, problems.length, ...problems.filter((p) => !/ERR_CONNECTION_REFUSED/.test(p)));
});

await step('no script error and no CSP violation on any page', async () => {
  expect(problems.length === 0, problems.join('\n'));
});

await browser.close();
browser = null;
await step('hookd exits cleanly on SIGTERM (no sanitizer or valgrind report)', async () => {
  const code = await stopHookd();
  expect(code === 0, `hookd exited with ${code}`);
});

const passed = results.filter((r) => r.ok).length;
console.log(`screenshots in ${SHOTS}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${results.length - passed} failed`);
await shutdown(passed === results.length ? 0 : 1);
