// The IngoPay hosted page (docs/ingopay.md) in Debian's headless Chromium: a participant's host
// page frames the session's authorized_url; the recipient verifies and saves an account inside
// the iFrame; the host must receive exactly the documented postMessage events. Every page state
// is checked with axe-core (WCAG 2.1 A/AA), screenshotted at 1280 and 320 px (no horizontal
// scrolling at 320), and after the run neither the card nor the account number may be found in
// the data directory or the server's output.
//
// Run with ./run (Node 20's test runner). QUITTANCE_BIN overrides target/debug/quittance.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const STARTED = Date.now();
const REPO = path.resolve(__dirname, '..');
const BIN = process.env.QUITTANCE_BIN || path.join(REPO, 'target/debug/quittance');
const SHOTS = path.join(REPO, 'target/browser-screenshots');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const T = 30_000; // every test's bound
const CARD = '4242424242424242';
const ACCOUNT = '000123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RECIPIENT = {
  first_name: 'Jack', last_name: 'Frost', address_line1: '123 Main St',
  city: 'Atlanta', state: 'GA', zip_code: '30313',
};

// Filled in by before(): the server, the host pages, the participants, the browser.
const ctx = {
  dataDir: null, logDir: null, server: null, serverExit: null, origin: null,
  host: null, stranger: null, participant: null, limited: null, browser: null, context: null,
};
// What every checked page state showed: axe violations and the width at 320 px.
const states = new Map();

// ---------------------------------------------------------------- helpers: processes, HTTP

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** Polls `check` (async, truthy when done) every 100 ms for at most `ms`. */
async function until(what, ms, check) {
  const end = Date.now() + ms;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Serves the host page: it frames `?src=` and records every message event. */
function hostServer(quittanceOrigin) {
  const server = http.createServer((req, res) => {
    const src = new URL(req.url, 'http://x').searchParams.get('src') || 'about:blank';
    const attr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Participant host page</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html,body{margin:0}iframe{display:block;width:100%;height:900px;border:0}</style>
<script>
  // Messages from Quittance's origin are the events; anything else is recorded apart.
  window.received = []; window.foreign = []; window.frameLoads = 0;
  window.addEventListener('message', function (event) {
    (event.origin === ${JSON.stringify(quittanceOrigin)} ? window.received : window.foreign)
      .push({ origin: event.origin, data: event.data });
  });
</script></head>
<body><iframe id="ingo" title="Payment details" src="${attr(src)}"
  onload="window.frameLoads++"></iframe></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
    resolve({ server, origin: `http://127.0.0.1:${server.address().port}` })));
}

function cli(args) {
  // stderr (its log lines) is captured, not shown; stdout is the JSON.
  return execFileSync(BIN, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function createParticipant(organization, hostOrigin, extra = []) {
  return JSON.parse(cli(['ingo', 'participants', 'create', '--data-dir', ctx.dataDir,
    '--organization', organization, '--host-uri', hostOrigin, '--json', ...extra]));
}

/** The headers of a request signed as docs/ingopay.md says (Kong's hmac-auth, HMAC-SHA512). */
function signHeaders(p, method, urlPath, raw, withBody, xDate) {
  const digest = crypto.createHash('sha512').update(raw).digest('base64');
  const signed = withBody
    ? [['x-date', xDate], ['content-type', 'application/json'], ['content-sha512', digest], ['content-length', String(raw.length)]]
    : [['x-date', xDate], ['content-sha512', digest]];
  const signing = [`${method} ${urlPath} HTTP/1.1`, ...signed.map(([k, v]) => `${k}: ${v}`)].join('\n');
  const signature = crypto.createHmac('sha512', p.secret).update(signing).digest('base64');
  const headers = Object.fromEntries(signed);
  headers.authorization = `hmac username="${p.username}", algorithm="hmac-sha512", ` +
    `headers="request-line ${signed.map(([k]) => k).join(' ')}", signature="${signature}"`;
  return { headers, signature };
}

const usedSignatures = new Set();

/** Sends a signed request; a signature is never sent twice (the server refuses replays). */
function signedRequest(p, method, urlPath, body, extraHeaders = {}) {
  const raw = Buffer.from(body === undefined ? '' : JSON.stringify(body));
  let date = Date.now();
  let signed = signHeaders(p, method, urlPath, raw, body !== undefined, new Date(date).toUTCString());
  while (usedSignatures.has(signed.signature)) {
    date += 1000; // the same request in the same second: move X-Date on by a second
    signed = signHeaders(p, method, urlPath, raw, body !== undefined, new Date(date).toUTCString());
  }
  usedSignatures.add(signed.signature);
  const headers = { ...signed.headers, ...extraHeaders };
  return new Promise((resolve, reject) => {
    const req = http.request(`${ctx.origin}${urlPath}`, { method, headers, timeout: 10_000, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        try { resolve({ http: res.statusCode, json: JSON.parse(text) }); } catch (e) { reject(new Error(`${res.statusCode} ${text}`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(raw);
  });
}

const SESSIONS = '/api/v1/sessions/point-in-time/plugin';

/** Creates a session (status 100, or 101 for a repeated Idempotency-Key); returns its data. */
async function createSession(p, fields = {}, idempotencyKey, expectedStatus = 100) {
  const body = { participant_unique_id1: `browser-${crypto.randomUUID()}`, recipient_information: RECIPIENT, ...fields };
  const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {};
  const made = await signedRequest(p, 'POST', SESSIONS, body, headers);
  assert.equal(made.json.status, expectedStatus, JSON.stringify(made.json));
  assert.match(made.json.data.session_identifier, UUID);
  return { ...made.json.data, body };
}

async function sessionState(p, id) {
  const got = await signedRequest(p, 'GET', `${SESSIONS}/${id}`);
  assert.equal(got.json.status, 100, JSON.stringify(got.json));
  return got.json.data;
}

// ---------------------------------------------------------------- helpers: the browser

/** A page on `hostOrigin` framing `url`; returns the page, the iFrame's frame and responses. */
async function openFramed(url, hostOrigin = ctx.host.origin) {
  const page = await ctx.context.newPage();
  page.setDefaultTimeout(10_000);
  const responses = []; // every response for a /session/ URL, in order
  page.on('response', (r) => { if (r.url().includes('/session/')) responses.push(r); });
  await page.goto(`${hostOrigin}/?src=${encodeURIComponent(url)}`);
  await page.waitForFunction(() => window.frameLoads > 0);
  const frame = await (await page.$('iframe')).contentFrame();
  return { page, frame, responses };
}

/** Submits by clicking `selector` (or pressing Enter when `key`) and waits for the new page. */
async function submit(frame, selector, { key = false } = {}) {
  await Promise.all([
    frame.waitForNavigation({ waitUntil: 'load' }),
    key ? frame.page().keyboard.press('Enter') : frame.click(selector),
  ]);
}

const heading = (frame) => frame.locator('#main h1').textContent();

/** Waits until the host has `count` messages, lets stray ones arrive, and returns them all. */
async function messages(page, count) {
  await page.waitForFunction((n) => window.received.length >= n, count);
  await page.waitForTimeout(300);
  const { received, foreign } = await page.evaluate(() => ({ received: window.received, foreign: window.foreign }));
  assert.deepEqual(foreign, [], 'messages from another origin');
  return received.map((m) => m.data);
}

/** The one message the host received; asserts its event, session and (for success) token. */
async function oneEvent(page, session, eventName, extra = {}) {
  const got = await messages(page, 1);
  assert.equal(got.length, 1, `exactly one message: ${JSON.stringify(got)}`);
  const [m] = got;
  assert.equal(m.event_name, eventName);
  assert.equal(m.session_identifier, session.session_identifier);
  assert.ok(m.tracer_token, 'tracer_token');
  const keys = ['event_name', 'session_identifier', 'tracer_token'];
  if (eventName === 'iip.webplugin.token_success') keys.push('customer_account_token', 'funding_destination');
  assert.deepEqual(Object.keys(m).sort(), keys.sort());
  for (const [k, v] of Object.entries(extra)) assert.equal(m[k], v, k);
  return m;
}

/**
 * Records one page state: axe-core (WCAG 2.1 A/AA) inside the frame, screenshots at 1280 px
 * and 320 px, and the frame's scroll width at 320 px. axe is evaluated through the DevTools
 * protocol, which the page's CSP does not govern, so CSP stays enforced in this context.
 */
async function checkState(name, { page, frame }) {
  const axe = await frame.evaluate(async ([source, tags]) => {
    if (!window.axe) (0, eval)(source);
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return {
      passes: r.passes.length,
      violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
      })),
    };
  }, [AXE, AXE_TAGS]);
  // The error summary (components/errors.html) should take no room when it lists nothing.
  const emptySummary = await frame.evaluate(() => {
    const e = document.getElementById('errors');
    return e !== null && e.querySelectorAll('li').length === 0 && e.getBoundingClientRect().height > 0;
  });
  let width320;
  for (const width of [1280, 320]) {
    await page.setViewportSize({ width, height: 800 });
    if (width === 320) width320 = await frame.evaluate(() => document.documentElement.scrollWidth);
    // Grow the iFrame to its content so the screenshot shows the whole page state.
    const h = await frame.evaluate(() => document.documentElement.scrollHeight);
    await page.evaluate((px) => { document.querySelector('iframe').style.height = `${px}px`; }, h);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  states.set(name, { axe: axe.violations, passes: axe.passes, width320, emptySummary });
}

/** Types the recipient's details into the verify form and submits it. */
async function verify(frame, { first = 'Jack', last = 'Frost', zip = '30313' } = {}) {
  await frame.fill('#first_name', first);
  await frame.fill('#last_name', last);
  await frame.fill('#zip_code', zip);
  await submit(frame, 'form[action$="/verify"] button[type=submit]');
}

const save = (frame) => submit(frame, 'form[action$="/account"] button[type=submit]');

// ---------------------------------------------------------------- setup and teardown

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const f of fs.readdirSync(SHOTS)) if (f.endsWith('.png')) fs.rmSync(path.join(SHOTS, f));
  ctx.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quittance-browser-'));
  ctx.logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quittance-browser-log-'));
  const port = await freePort();
  ctx.origin = `http://127.0.0.1:${port}`;
  ctx.host = await hostServer(ctx.origin); // on the participants' allow-list
  ctx.stranger = await hostServer(ctx.origin); // on nobody's allow-list
  ctx.participant = createParticipant('browser', ctx.host.origin);
  ctx.limited = createParticipant('browser-limits', ctx.host.origin,
    ['--recipient-attempts', '2', '--session-attempts', '3']);

  const out = fs.openSync(path.join(ctx.logDir, 'stdout'), 'w');
  const err = fs.openSync(path.join(ctx.logDir, 'stderr'), 'w');
  ctx.server = spawn(BIN, ['serve', '--data-dir', ctx.dataDir, '--listen', `127.0.0.1:${port}`],
    { stdio: ['ignore', out, err] });
  ctx.serverExit = new Promise((resolve) => ctx.server.on('exit', resolve));
  await until('GET /healthz', 20_000, () => new Promise((resolve) => {
    http.get(`${ctx.origin}/healthz`, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', () => resolve(false));
  }));

  ctx.browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 20_000,
  });
  ctx.context = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 } });
}, { timeout: T });

function stopServer() {
  if (ctx.server && ctx.server.exitCode === null && ctx.server.signalCode === null) {
    process.kill(ctx.server.pid, 'SIGTERM');
  }
  // Waits for the exit, at most 5 s (the timer must not keep the process alive afterwards).
  return ctx.serverExit && Promise.race([ctx.serverExit, new Promise((r) => setTimeout(r, 5000).unref())]);
}

after(async () => {
  await ctx.browser?.close().catch(() => {});
  await stopServer();
  if (ctx.server && ctx.server.exitCode === null && ctx.server.signalCode === null) process.kill(ctx.server.pid, 'SIGKILL');
  for (const h of [ctx.host, ctx.stranger]) { h?.server.closeAllConnections(); h?.server.close(); }
  for (const dir of [ctx.dataDir, ctx.logDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  console.log(`total run time: ${((Date.now() - STARTED) / 1000).toFixed(1)} s`);
});

// A last resort: the server never outlives this process.
process.on('exit', () => { try { if (ctx.server?.exitCode === null) process.kill(ctx.server.pid, 'SIGKILL'); } catch { /* gone */ } });

// ---------------------------------------------------------------- scenarios

test('0. the signer reproduces the worked example of docs/ingopay.md', () => {
  const body = '{"participant_unique_id1":"ABC-1234-123545663","recipient_information":{"first_name":"Jack",' +
    '"last_name":"Frost","address_line1":"123 Main St","city":"Atlanta","state":"GA","zip_code":"30313"}}';
  const { headers, signature } = signHeaders({ username: 'ingo_example', secret: 'example-secret-not-for-use' },
    'POST', SESSIONS, Buffer.from(body), true, 'Mon, 07 Dec 2026 09:00:00 GMT');
  assert.equal(headers['content-length'], '192');
  assert.equal(headers['content-sha512'], '18lHln4YRyfHrBL13R+978wZGxLAghw8RW6fjrBN2fjWBpWbePsFBmweMWzMrqQ6okRXdV07njGFh9aXgaaLcg==');
  assert.equal(signature, 'XlbP93MtZPL7t4LrubTuYfnp2LHWQuWhgU37QFxOzmZwj2aZ2h6gXNlx3D+vGAku7se8p4dERaG9Uurm3e60mQ==');
});

test('1. keyboard verification, a debit card tokenized, token_success to the host', { timeout: T }, async () => {
  const session = await createSession(ctx.participant);
  const t0 = Date.now();
  const view = await openFramed(session.authorized_url);
  const { page, frame } = view;
  assert.equal(await heading(frame), 'Confirm who you are');
  // The frame's timeline starts with the navigation to authorized_url (the redirect is part of it).
  const paint = await frame.evaluate(async () => {
    for (let i = 0; i < 50 && !performance.getEntriesByName('first-contentful-paint').length; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { fcp: fcp && fcp.startTime, redirects: nav && nav.redirectCount };
  });
  assert.ok(paint.fcp > 0, 'first-contentful-paint recorded in the frame');
  assert.equal(paint.redirects, 1, 'authorized_url redirected once to the page');
  console.log(`authorized_url to first paint: ${Math.round(paint.fcp)} ms ` +
    `(host page load to frame loaded: ${Date.now() - t0} ms)`);
  assert.equal(new URL(frame.url()).pathname, `/session/${session.session_identifier}/page`,
    'the token left the address bar');
  await checkState('verify', view);

  // Only the keyboard: Tab from the host page into the frame's first field, type, Enter.
  const focused = () => frame.evaluate(() => document.activeElement && document.activeElement.id);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'first_name');
  await page.keyboard.type('Jack');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'last_name');
  await page.keyboard.type('Frost');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'zip_code');
  await page.keyboard.type('30313');
  await submit(frame, null, { key: true });
  assert.equal(await heading(frame), 'Where should the money go?');
  await checkState('choose', view);

  await Promise.all([frame.waitForNavigation(), frame.getByRole('link', { name: 'Debit card' }).click()]);
  assert.equal(await frame.getAttribute('#card_number', 'autocomplete'), 'cc-number');
  await checkState('card', view);

  // A number failing the Luhn check: said while typing (on blur), then refused by the server.
  const card = async (number) => {
    await frame.fill('#card_number', number);
    await frame.fill('#exp_month', '12');
    await frame.fill('#exp_year', '2031');
    await frame.fill('#cvv', '123');
    await frame.fill('#name_on_account', 'Jack Frost');
  };
  await card('4242424242424241');
  assert.equal(await frame.textContent('#card-entry-status'), 'Enter a valid card number.');
  await save(frame);
  assert.equal(await frame.getAttribute('#card_number', 'aria-invalid'), 'true');
  assert.match(await frame.textContent('#errors[role=alert]'), /Card number: Enter a valid card number\./);
  assert.equal(await frame.inputValue('#card_number'), '', 'the number is not shown again');
  await checkState('card-errors', view);

  await card(CARD);
  await save(frame);
  assert.equal(await heading(frame), 'Account saved');
  const m = await oneEvent(page, session, 'iip.webplugin.token_success', { funding_destination: 'debit_card' });
  assert.match(m.customer_account_token, UUID);
  const kept = await sessionState(ctx.participant, session.session_identifier);
  assert.equal(kept.status, 'tokenized');
  assert.equal(kept.customer_account_token, m.customer_account_token);
  assert.equal(kept.tracer_token, m.tracer_token);
  await checkState('card-done', view);
  await page.close();
});

test('2. a bank account (number typed twice) tokenized, token_success bank_account', { timeout: T }, async () => {
  const session = await createSession(ctx.participant);
  const view = await openFramed(session.authorized_url);
  const { page, frame } = view;
  await verify(frame);
  await Promise.all([frame.waitForNavigation(), frame.getByRole('link', { name: 'Bank account (ACH)' }).click()]);
  await checkState('bank', view);
  await frame.fill('#name_on_account', 'Jack Frost');
  await frame.fill('#routing_number', '110000000');
  await frame.fill('#account_number', ACCOUNT);
  await frame.fill('#account_number_confirmation', ACCOUNT);
  await frame.selectOption('#account_type', 'checking');
  await save(frame);
  assert.equal(await heading(frame), 'Account saved');
  const m = await oneEvent(page, session, 'iip.webplugin.token_success', { funding_destination: 'bank_account' });
  assert.match(m.customer_account_token, UUID);
  await checkState('bank-done', view);
  await page.close();
});

test('3. links: altered is not valid, used twice is expired, a foreign host cannot frame', { timeout: T }, async () => {
  const session = await createSession(ctx.participant);
  const url = session.authorized_url;
  const at = url.indexOf('&h=') + 3; // change the hash's first character
  const altered = url.slice(0, at) + (url[at] === 'A' ? 'B' : 'A') + url.slice(at + 1);
  assert.ok(at > 3 && altered !== url, url);

  const bad = await openFramed(altered);
  assert.equal(bad.responses[0].status(), 403);
  assert.match(await bad.frame.textContent('#main'), /not valid/);
  assert.equal(await bad.frame.locator('form, input').count(), 0, 'no session shown');
  await checkState('link-not-valid', bad);
  await bad.page.close();

  const first = await openFramed(session.authorized_url);
  assert.equal(await heading(first.frame), 'Confirm who you are');
  await first.page.close();

  const again = await openFramed(session.authorized_url);
  assert.equal(again.responses[0].status(), 410);
  assert.match(await again.frame.textContent('#main'), /expired or was already used/);
  assert.equal(await again.frame.locator('form, input').count(), 0, 'no session shown');
  assert.deepEqual(await messages(again.page, 0), []);
  await checkState('link-expired', again);
  await again.page.close();

  // Framed by an origin that is not the session's host_uri: the server answers the page, but
  // its CSP frame-ancestors names only the host, so Chromium does not render it.
  const other = await createSession(ctx.participant);
  const refused = await openFramed(other.authorized_url, ctx.stranger.origin);
  await refused.page.waitForTimeout(500);
  const pageResponse = refused.responses.find((r) => r.url().endsWith('/page'));
  assert.ok(pageResponse, 'the frame followed the redirect to the page');
  const csp = pageResponse.headers()['content-security-policy'];
  assert.match(csp, new RegExp(`frame-ancestors ${ctx.host.origin}$`));
  const shown = refused.frame.url();
  assert.ok(!shown.startsWith(ctx.origin), `frame shows ${shown}`);
  console.log(`framed by ${ctx.stranger.origin}: the frame shows ${shown}`);
  const rendered = await refused.frame.locator('#main h1').count().catch(() => 0);
  assert.equal(rendered, 0, 'the session page rendered inside a foreign frame');
  assert.deepEqual(await messages(refused.page, 0), []);
  await refused.page.screenshot({ path: path.join(SHOTS, 'framing-refused-1280.png') });
  await refused.page.close();
});

test('4. thresholds: locked after 2 recipient failures, a 101 repeat reopens, then terminal', { timeout: T }, async () => {
  const key = crypto.randomUUID();
  const session = await createSession(ctx.limited, {}, key);
  const view = await openFramed(session.authorized_url);
  const wrong = { last: 'Snow' };
  await verify(view.frame, wrong);
  assert.equal(await view.frame.getAttribute('#last_name', 'aria-invalid'), 'true');
  assert.match(await view.frame.textContent('.notice[role=status]'), /Attempts left: 1/);
  assert.match(await view.frame.textContent('#errors[role=alert]'), /do not match/);
  assert.deepEqual(await messages(view.page, 0), [], 'no event while attempts are left');
  await checkState('verify-errors', view);
  await verify(view.frame, wrong);
  assert.equal(await heading(view.frame), 'Too many attempts');
  await oneEvent(view.page, session, 'iip.webplugin.max_verification_attempts_exceeded');
  await checkState('locked', view);
  await view.page.close();

  // The same Idempotency-Key and body: 101, the same session, a new URL.
  const repeat = await createSession(ctx.limited, { participant_unique_id1: session.body.participant_unique_id1 }, key, 101);
  assert.equal(repeat.session_identifier, session.session_identifier);
  assert.notEqual(repeat.authorized_url, session.authorized_url);
  const reopened = await openFramed(repeat.authorized_url);
  assert.equal(await heading(reopened.frame), 'Confirm who you are');
  await verify(reopened.frame, wrong); // the session's third failure
  assert.equal(await heading(reopened.frame), 'Session ended');
  await oneEvent(reopened.page, session, 'iip.webplugin.terminal_failure');
  assert.equal((await sessionState(ctx.limited, session.session_identifier)).status, 'failed');
  await checkState('ended', reopened);
  await reopened.page.close();
});

test('5. cancel: funding_canceled to the host', { timeout: T }, async () => {
  const session = await createSession(ctx.participant);
  const view = await openFramed(session.authorized_url);
  await submit(view.frame, 'form.cancel button');
  assert.equal(await heading(view.frame), 'Canceled');
  await oneEvent(view.page, session, 'iip.webplugin.funding_canceled');
  assert.equal((await sessionState(ctx.participant, session.session_identifier)).status, 'canceled');
  await checkState('canceled', view);
  await view.page.close();
});

test('6. es-US: the page speaks Spanish', { timeout: T }, async () => {
  const session = await createSession(ctx.participant, { language_locale_code: 'es-US' });
  const view = await openFramed(session.authorized_url);
  assert.equal(await view.frame.getAttribute('html', 'lang'), 'es-US');
  assert.equal(await heading(view.frame), 'Confirme su identidad');
  assert.equal(await view.frame.textContent('label[for=first_name]'), 'Nombre');
  assert.equal(await view.frame.textContent('form[action$="/verify"] button'), 'Continuar');
  await checkState('verify-es', view);
  await view.page.close();
});

// ---------------------------------------------------------------- over all page states

const REQUIRED_STATES = ['verify', 'verify-errors', 'choose', 'card', 'card-errors', 'bank',
  'card-done', 'bank-done', 'locked', 'ended', 'canceled', 'link-expired', 'link-not-valid'];

test('axe-core: no WCAG 2.1 A/AA violation in any page state', { timeout: T }, () => {
  assert.deepEqual(REQUIRED_STATES.filter((s) => !states.has(s)), [], 'states not reached');
  const ran = [...states].filter(([, s]) => s.passes > 0).length;
  console.log(`axe-core ran in ${states.size} page states (${ran} with passing rules)`);
  assert.equal(ran, states.size, 'axe ran its rules in every state');
  const failing = [...states].filter(([, s]) => s.axe.length > 0);
  for (const [name, s] of failing) {
    console.log(`axe violations in state "${name}":\n${JSON.stringify(s.axe, null, 2)}`);
  }
  assert.deepEqual(failing.map(([name, s]) => `${name}: ${s.axe.map((v) => v.id).join(', ')}`), []);
});

test('320 px: no horizontal scrolling in any page state', { timeout: T }, () => {
  assert.deepEqual(REQUIRED_STATES.filter((s) => !states.has(s)), [], 'states not reached');
  const wide = [...states].filter(([, s]) => !(s.width320 <= 320)).map(([n, s]) => `${n}: ${s.width320}px`);
  assert.deepEqual(wide, []);
});

// The error summary exists only on states with errors (it once was an empty box on every page).
test('the error summary is drawn only when it lists errors', { timeout: T }, () => {
  const drawn = [...states].filter(([, s]) => s.emptySummary).map(([n]) => n);
  assert.deepEqual(drawn, [], 'states drawing an empty error summary');
});

test('leak check: no card or account number in the data dir or the server output', { timeout: T }, async () => {
  await stopServer();
  assert.ok(ctx.server.exitCode !== null || ctx.server.signalCode !== null, 'server stopped');
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p); else files.push(p);
    }
  };
  walk(ctx.dataDir);
  walk(ctx.logDir);
  assert.ok(files.some((f) => /stderr$/.test(f)) && files.length > 2, `files: ${files}`);
  const needles = [CARD, '4242 4242 4242 4242', ACCOUNT];
  const found = [];
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    for (const n of needles) {
      // As bytes, and as UTF-16 in case something stored wide text.
      if (bytes.includes(n) || bytes.includes(Buffer.from(n, 'utf16le'))) found.push(`${n} in ${f}`);
    }
  }
  assert.deepEqual(found, []);
});
