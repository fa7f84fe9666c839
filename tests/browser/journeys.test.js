'use strict';
// The markedsplass through a browser: one server, one Chromium, the journeys of a vendor, a second
// vendor, two reviewers, the public and an admin — in order, because each builds on the last. Every
// HTML page visited gets an axe-core WCAG 2.1 AA check.
//
// When a journey fails, the ones that need what it should have made are skipped (saying which), and
// screenshots, HTML and the server's log go to tests/browser/artifacts/<journey>/.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, before, after, test } = require('node:test');

const paths = require('./lib/paths');
const { orgs, users } = require('./lib/accounts');
const { Markedsplass } = require('./lib/server');
const { launch, Session } = require('./lib/browser');
const { submit, follow, idFrom, attrs, rows: rowTexts } = require('./lib/steps');

const PRODUCT = 'Journal Nord';
const VERSION = '1.0.0';
const RUN_TIMEOUT_MS = 120_000;
const RUN_STATES = ['queued', 'running', 'done', 'error'];
// A flawed sample adapter and the vilkår it fails (as crates/suite/tests/all/both_sides.rs has it).
const FLAWED = { component: 'flawed_logs_fnr', product: 'Journal Sør', fails: ['PER-03'] };
// The product whose listing request journey 15 walks through, declarations and all.
const DECLARED = 'Journal Vest';
// A small synthetic PDF for the declarations that ask for an attachment.
const PDF = Buffer.from('%PDF-1.4\n% syntetisk dokumentasjon for nettlesertestene\n');

const server = new Markedsplass();
let browser = null;
let scratch = null; // files to upload
const sessions = new Set();

// What the journeys learn and hand on. A journey that needs a missing value is skipped.
const state = {
  kari: null, // kari's logged-in Session, from journey 2
  runId: null,
  vilkarIds: null, // the run page's data-vilkar-id values
  submissionId: null,
  productId: null,
  caseId: null,
  approved: false,
  flawedRunId: null, // the flawed adapter's run, from journey 3e
  nightDone: false, // journey 9 ran the night of 2026-11-24
  declRunId: null, // a godkjent run of DECLARED with no case yet (journey 10 makes it, journey 15 requests its listing)
};

let involved = new Set(); // every session opened during the current journey, open or closed

async function session(who) {
  const s = await new Session(browser, server.url, who).open();
  sessions.add(s);
  involved.add(s);
  return s;
}

async function closeSession(s) {
  sessions.delete(s);
  await s.close();
}

/** Skips `t` unless every key of `state` named is set; says which journey should have set it. */
function need(t, keys) {
  const missing = Object.entries(keys).filter(([k]) => !state[k]);
  if (missing.length === 0) return true;
  t.skip(`needs ${missing.map(([k, from]) => `${k} (from ${from})`).join(', ')}, which did not complete`);
  return false;
}

function slug(name) {
  return name.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

/** Appends `more` to an error's message and to the stack the reporter prints. */
function amend(e, more) {
  if (typeof e.stack === 'string' && e.stack.includes(e.message)) e.stack = e.stack.replace(e.message, () => e.message + more);
  e.message += more;
}

/**
 * A test that fails on its assertions, and also — at its end, so the journey and the ones after it
 * still run — on accessibility violations and uncaught JavaScript errors in any of its pages. On
 * failure it leaves screenshots, HTML and the server log in artifacts/<journey>/.
 */
function journey(name, opts, fn) {
  test(name, { timeout: 90_000, ...opts }, async (t) => {
    involved = new Set(sessions);
    const logStart = server.lines;
    for (const s of involved) { s.pageErrors.length = 0; s.a11yFailures.length = 0; }
    let error = null;
    try {
      await fn(t);
    } catch (e) {
      error = e;
    }
    const a11y = [...involved].flatMap((s) => s.a11yFailures);
    const js = [...involved].flatMap((s) => s.pageErrors.map((m) => `${s.who}: ${m}`));
    const findings = [
      ...a11y,
      ...(js.length ? [`uncaught JavaScript error(s) in the pages:\n${js.map((m) => `  ${m}`).join('\n')}`] : []),
    ];
    // The server's own account of what went wrong, when it logged one.
    const serverErrors = server.logSince(logStart).filter((l) => /\b(ERROR|WARN)\b/.test(l)).slice(-10);
    if (serverErrors.length && (error || findings.length)) findings.push(`server log (ERROR/WARN):\n${serverErrors.map((l) => `  ${l}`).join('\n')}`);
    if (!error && findings.length === 0) return;
    if (!error) {
      error = new Error(findings.join('\n'));
      error.stack = `Error: ${error.message}`;
    } else if (findings.length) {
      amend(error, `\n  Also:\n${findings.join('\n')}`);
    }
    const dir = path.join(paths.artifactsDir, slug(name));
    try {
      fs.mkdirSync(dir, { recursive: true });
      for (const s of sessions) await s.dump(dir);
      fs.writeFileSync(path.join(dir, 'server.log'), `${server.logTail(400)}\n`);
      amend(error, `\n  (screenshots, HTML and the server log: ${path.relative(process.cwd(), dir) || dir}/)`);
    } catch { /* the artefacts are a courtesy */ }
    throw error;
  });
}

/** Fails with `header` and one line per item unless `items` is empty. */
function none(items, header) {
  if (items.length > 0) assert.fail(`${header}\n${items.map((i) => `  ${i}`).join('\n')}`);
}

async function expectVisible(page, selector, what, timeout = 10_000) {
  await page.locator(selector).first().waitFor({ state: 'visible', timeout }).catch(() => {
    assert.fail(`no visible ${selector} (${what}) on ${page.url()}`);
  });
}

async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.getAttribute('lang'));
}

async function text(page, selector) {
  return ((await page.locator(selector).first().textContent({ timeout: 5_000 })) || '').replace(/\s+/g, ' ').trim();
}

/**
 * Fills the upload form. The product picker: `existing` picks the product in the list; otherwise a
 * new product is chosen explicitly (the only choice while the organisation has none).
 */
async function fillUpload(page, { product, version, changelog, file, existing = false }) {
  if (existing) {
    await page.check('#product-existing');
    await page.selectOption('#upload-form select[name=product]', product);
  } else {
    if (await page.locator('#product-new').count()) await page.check('#product-new');
    await page.fill('#upload-form input[name=new_product_name]', product);
  }
  await page.fill('#upload-form input[name=version]', version);
  await page.fill('#upload-form textarea[name=changelog]', changelog);
  await page.setInputFiles('#upload-form input[type=file][name=component]', file);
}

/** kari's answer to declaration `id` (the same text each time, so a form shown again can be checked). */
function answerText(id) {
  return `Leverandør A oppfyller ${id}: rutinene er beskrevet i vedlagt dokumentasjon (syntetisk testdata).`;
}

/**
 * Answers every declaration of the run page's #listing-form, with a PDF where a file is required;
 * `files` gives another file for a declaration ({ name, mimeType, buffer }). Returns the ids.
 */
async function fillDeclarations(page, files = {}) {
  const ids = await attrs(page, '#listing-form fieldset.declaration', 'data-declaration');
  assert.ok(ids.length > 0, '#listing-form should have a fieldset.declaration[data-declaration] per declaration');
  for (const id of ids) {
    await page.fill(`#answer-${id}`, answerText(id));
    const input = page.locator(`#file-${id}`);
    const required = (await input.getAttribute('required')) !== null;
    const file = files[id] || (required ? { name: `${id.toLowerCase()}-dokumentasjon.pdf`, mimeType: 'application/pdf', buffer: PDF } : null);
    if (file) await input.setInputFiles(file);
  }
  return ids;
}

/** kari uploads reference.wasm as a new version of DECLARED and waits for it to be godkjent; its run id. */
async function godkjentRun(kari, version) {
  const { page } = kari;
  await kari.visit('/leverandor/last-opp', { a11y: false });
  await fillUpload(page, { product: DECLARED, version, changelog: 'Til egenerklæringene.', file: paths.component('reference') });
  const { path: at } = await submit(page, '#upload-submit', { what: `the upload form (${DECLARED} ${version})`, timeout: 60_000 });
  assert.ok(at.startsWith('/kjoringer/'), `uploading ${DECLARED} ${version} should open its run, is at ${at}`);
  const runId = idFrom(page.url(), '/kjoringer');
  await page.locator('#run-state[data-state="done"], #run-state[data-state="error"]').first()
    .waitFor({ state: 'attached', timeout: RUN_TIMEOUT_MS })
    .catch(() => assert.fail(`the run ${runId} of ${DECLARED} ${version} was not done within ${RUN_TIMEOUT_MS / 1000} s`));
  assert.equal(await page.locator('#verdict').getAttribute('data-verdict'), 'godkjent', `${DECLARED} ${version} should be godkjent`);
  return runId;
}

/** A file of a type the declarations do not take. */
const EXE = { name: 'avtale.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ syntetisk') };

/** On the run page of `runId`: every declaration answered, ERK-02's file an .exe, sent; the form comes back (415). */
async function refusedListing(page, runId) {
  await page.goto(`/kjoringer/${runId}`);
  await fillDeclarations(page, { 'ERK-02': EXE });
  await page.check('#request-listing-confirm');
  const { response, path: at } = await submit(page, '#request-listing', { what: 'the listing request with an .exe' });
  assert.equal(response && response.status(), 415, `a listing request with an .exe should answer 415 with the form again (at ${at})`);
}

describe('markedsplass in headless Chromium', { concurrency: false }, () => {
  before(async () => {
    fs.rmSync(paths.artifactsDir, { recursive: true, force: true });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sandkasse-browser-files-'));
    await server.start();
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200, `${server.url}/health answered ${health.status}`);
    browser = await launch();
  });

  after(async () => {
    for (const s of sessions) await s.close();
    sessions.clear();
    if (browser) await browser.close().catch(() => {});
    await server.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  journey('1. the public catalogue loads anonymously, in bokmål and in English', {}, async () => {
    const anon = await session('anonymous');
    const { page } = anon;

    await anon.visit('/', { label: 'catalogue' });
    assert.equal(await htmlLang(page), 'nb', 'the catalogue should be <html lang="nb"> by default');
    await expectVisible(page, 'header nav', 'the site navigation');
    // Empty at first. (The table may be replaced by an empty-state text while nothing is listed.)
    assert.equal(await page.locator('#catalogue tr[data-product-id]').count(), 0,
      'nothing is listed yet, so #catalogue should have no tr[data-product-id] rows');
    await expectVisible(page, '#filter', 'the filter form');
    assert.equal(await page.locator('#filter input[name=q]').count(), 1, '#filter should have an input[name=q]');
    assert.equal(await page.locator('#filter select[name=capability]').count(), 1, '#filter should have a select[name=capability]');
    await expectVisible(page, '#filter-submit', 'the filter button');
    assert.equal((await page.locator('#filter').getAttribute('method') || 'get').toLowerCase(), 'get', '#filter should submit with GET');
    await expectVisible(page, '#lang-en', 'the link to English');
    assert.equal(await page.locator('#logout').count(), 0, 'an anonymous visitor should have no #logout button');

    const api = await anon.json('/api/v1/catalogue');
    assert.ok(Array.isArray(api.entries), `/api/v1/catalogue should be { "entries": [...] }, got ${JSON.stringify(api).slice(0, 200)}`);
    assert.equal(api.entries.length, 0, `/api/v1/catalogue should be empty before anything is listed, got ${api.entries.length} entries`);

    await anon.visit('/?lang=en', { label: 'catalogue in English' });
    assert.equal(await htmlLang(page), 'en', '/?lang=en should be <html lang="en">');
    await expectVisible(page, '#lang-nb', 'the link back to bokmål');

    await follow(page, '#lang-nb');
    assert.equal(await htmlLang(page), 'nb', 'following #lang-nb should give <html lang="nb">');
    await anon.a11y('catalogue after #lang-nb');

    await follow(page, '#lang-en');
    assert.equal(await htmlLang(page), 'en', 'following #lang-en should give <html lang="en">');
    await anon.a11y('catalogue after #lang-en');
    await closeSession(anon);
  });

  journey('2. a wrong password is refused; kari logs in and lands on /leverandor', {}, async () => {
    const kari = await session('kari');
    const { page } = kari;

    await kari.visit('/logg-inn', { label: 'login page' });
    await page.fill('#login-form input[name=username]', users.kari.username);
    await page.fill('#login-form input[name=password]', 'feil-passord-123');
    const { path: at } = await submit(page, '#login-submit', { what: 'the login form (wrong password)' });
    assert.equal(at, '/logg-inn', `a wrong password should re-render the login form at /logg-inn, but the browser is at ${at}`);
    await expectVisible(page, '#login-error', 'the login error');
    assert.equal(await page.locator('#login-error').getAttribute('role'), 'alert', '#login-error should have role="alert"');
    assert.equal(await page.locator('#logout').count(), 0, 'after a wrong password there should be no #logout button');
    await kari.a11y('login page with error');

    await kari.login(users.kari);
    await kari.a11y('vendor dashboard');
    await expectVisible(page, '#upload-link', 'the link to the upload form');
    assert.equal(await page.locator('#products tr[data-product-id]').count(), 0,
      'kari has uploaded nothing yet, so #products should have no rows');
    state.kari = kari;
  });

  journey('3a. an upload that is not WebAssembly is refused with the reason', {}, async (t) => {
    if (!need(t, { kari: 'journey 2' })) return;
    const { page } = state.kari;

    await state.kari.visit('/leverandor', { a11y: false });
    await follow(page, '#upload-link');
    assert.equal(new URL(page.url()).pathname, '/leverandor/last-opp', '#upload-link should open /leverandor/last-opp');
    await state.kari.a11y('upload form');

    const junk = path.join(scratch, 'ikke-en-komponent.txt');
    fs.writeFileSync(junk, 'Dette er en tekstfil, ikke en WebAssembly-komponent.\n');
    await fillUpload(page, { product: PRODUCT, version: VERSION, changelog: 'Første versjon.', file: junk });
    const { path: at } = await submit(page, '#upload-submit', { what: 'the upload form (a text file)' });
    assert.ok(!at.startsWith('/kjoringer/'), `a text file should be refused, but the upload went on to ${at}`);
    await expectVisible(page, '#upload-error', 'the upload error');
    const reason = await text(page, '#upload-error');
    assert.match(reason, /Ikke WebAssembly/, `#upload-error should say why ("Ikke WebAssembly"), but says: ${reason}`);
    assert.equal(await page.locator('#upload-error').getAttribute('role'), 'alert', '#upload-error should have role="alert"');
    await expectVisible(page, '#upload-form', 'the upload form, re-rendered');
    await state.kari.a11y('upload form with error');
  });

  journey('3b. kari uploads reference.wasm and the run finishes godkjent', { timeout: RUN_TIMEOUT_MS + 60_000 }, async (t) => {
    if (!need(t, { kari: 'journey 2' })) return;
    const kari = state.kari;
    const { page } = kari;
    const file = paths.component('reference');

    await kari.visit('/leverandor/last-opp', { label: 'upload form' });
    await fillUpload(page, { product: PRODUCT, version: VERSION, changelog: 'Første versjon av adapteren.', file });
    const { path: at } = await submit(page, '#upload-submit', { what: 'the upload form (reference.wasm)', timeout: 60_000 });
    if (!at.startsWith('/kjoringer/')) {
      const err = await page.locator('#upload-error').count() ? await text(page, '#upload-error') : null;
      assert.fail(`uploading reference.wasm should redirect to /kjoringer/{run_id}, but the browser is at ${at}` +
        `${err ? ` with #upload-error: ${err}` : ''}`);
    }
    const runId = idFrom(page.url(), '/kjoringer');

    await expectVisible(page, '#run-state', 'the run state');
    const first = await page.locator('#run-state').getAttribute('data-state');
    assert.ok(RUN_STATES.includes(first), `#run-state data-state should be one of ${RUN_STATES.join('|')}, got ${JSON.stringify(first)}`);
    assert.equal(await page.locator('#progress').evaluate((e) => e.tagName.toLowerCase()), 'progress', '#progress should be a <progress>');
    await kari.a11y(`run page (${first})`);

    const finished = page.locator('#run-state[data-state="done"], #run-state[data-state="error"]');
    await finished.first().waitFor({ state: 'attached', timeout: RUN_TIMEOUT_MS }).catch(async () => {
      const now = await page.locator('#run-state').getAttribute('data-state', { timeout: 1_000 }).catch(() => '?');
      const api = await kari.get(`/api/v1/runs/${runId}`).then((r) => r.json()).catch(() => ({}));
      assert.fail(`the run ${runId} was not done within ${RUN_TIMEOUT_MS / 1000} s (#run-state data-state is still ${now}` +
        `${api.state ? `; GET /api/v1/runs/${runId} says state ${JSON.stringify(api.state)}` : ''}).` +
        `\nServer log:\n${server.logTail(20)}`);
    });
    const end = await page.locator('#run-state').getAttribute('data-state');
    assert.equal(end, 'done', `the run of reference.wasm ended in "${end}": ${await text(page, '#run-state')}`);

    await expectVisible(page, '#verdict', 'the verdict');
    const failed = (await rowTexts(page, '#vilkar tr[data-vilkar-id].fail')).map((r) => r.text);
    const verdict = await page.locator('#verdict').getAttribute('data-verdict');
    assert.equal(verdict, 'godkjent', `reference.wasm should be godkjent, #verdict says ${verdict}; failed vilkår:\n${failed.join('\n')}`);
    const vilkarIds = await attrs(page, '#vilkar tr[data-vilkar-id]', 'data-vilkar-id');
    assert.ok(vilkarIds.length > 0, '#vilkar should have one tr[data-vilkar-id] per vilkår, found none');
    assert.equal(new Set(vilkarIds).size, vilkarIds.length, `#vilkar should list each vilkår once: ${vilkarIds.join(', ')}`);
    none(failed, 'reference.wasm should fail no vilkår, but #vilkar has rows with class "fail":');
    const reportHref = await page.locator('#report-link').getAttribute('href');
    assert.ok(reportHref && new URL(reportHref, page.url()).pathname === `/kjoringer/${runId}/rapport`,
      `#report-link should point to /kjoringer/${runId}/rapport, points to ${reportHref}`);
    await kari.a11y('run page (done)');

    const run = await kari.json(`/api/v1/runs/${runId}`);
    assert.equal(String(run.id), runId, `/api/v1/runs/${runId} has id ${JSON.stringify(run.id)}`);
    assert.equal(run.state, 'done', `/api/v1/runs/${runId} has state ${JSON.stringify(run.state)}`);
    assert.equal(run.verdict, 'godkjent', `/api/v1/runs/${runId} has verdict ${JSON.stringify(run.verdict)}`);
    assert.equal(typeof run.score, 'number', `/api/v1/runs/${runId} should have a numeric score, has ${JSON.stringify(run.score)}`);

    state.runId = runId;
    state.vilkarIds = vilkarIds;
    const sub = run.submission_id ?? run.submission?.id;
    if (sub !== undefined && sub !== null) state.submissionId = String(sub);
    const prod = run.product_id ?? run.product?.id;
    if (prod !== undefined && prod !== null) state.productId = String(prod);
  });

  journey('3c. the full report opens from the run page', {}, async (t) => {
    if (!need(t, { runId: 'journey 3b' })) return;
    const kari = state.kari;
    const { page } = kari;

    await kari.visit(`/kjoringer/${state.runId}`, { label: 'run page (done)' });
    await follow(page, '#report-link');
    assert.equal(new URL(page.url()).pathname, `/kjoringer/${state.runId}/rapport`, '#report-link should open the report');
    await kari.a11y('full report');
    const body = await text(page, 'body');
    assert.match(body, /godkjent/i, 'the full report should state the verdict (godkjent)');
    const missing = state.vilkarIds.filter((id) => !body.includes(id));
    none(missing, 'the full report should mention every vilkår of the run page; it does not mention:');
  });

  journey('3d. kari requests a listing; the product page shows it in review', {}, async (t) => {
    if (!need(t, { runId: 'journey 3b' })) return;
    const kari = state.kari;
    const { page } = kari;

    // Back from the report to the run page, as a person would.
    if (new URL(page.url()).pathname.endsWith('/rapport')) {
      await page.goBack({ waitUntil: 'load' });
    }
    if (new URL(page.url()).pathname !== `/kjoringer/${state.runId}`) {
      await kari.visit(`/kjoringer/${state.runId}`, { a11y: false });
    }
    await expectVisible(page, '#listing-form #request-listing', 'the button to request a listing (godkjent, no open case)');
    // The declarations: an answer to each, a file where one is required.
    const declared = await fillDeclarations(page);
    t.diagnostic(`declarations answered: ${declared.join(' ')}`);
    // The request cannot be withdrawn: a required checkbox confirms it, reached and ticked with the
    // keyboard; unticked, the browser does not send the form.
    const box = page.locator('#request-listing-confirm');
    assert.notEqual(await box.getAttribute('required'), null, '#request-listing-confirm should be required');
    await page.click('#request-listing');
    assert.equal(new URL(page.url()).pathname, `/kjoringer/${state.runId}`, 'unconfirmed, the listing request should not be sent');
    await box.focus();
    await page.keyboard.press('Space');
    assert.ok(await box.isChecked(), 'Space should tick #request-listing-confirm');
    const { path: at } = await submit(page, '#request-listing', { what: 'the listing request' });
    const productId = idFrom(page.url(), '/produkter');
    if (state.productId) {
      assert.equal(productId, state.productId, `the listing request went to ${at}, but the run belongs to product ${state.productId}`);
    }
    state.productId = productId;
    await expectVisible(page, '#listing-status', 'the listing status');
    const status = await text(page, '#listing-status');
    assert.match(status, /til vurdering|in review/i, `#listing-status should say "til vurdering", says: ${status}`);
    await kari.a11y('product page (in review)');
    assert.ok((await text(page, 'body')).includes(PRODUCT), `the product page should name the product "${PRODUCT}"`);
    assert.equal(await page.locator('#request-listing').count(), 0, 'with a case open, the product page should offer no second #request-listing');

    await kari.visit('/leverandor', { label: 'vendor dashboard with a product' });
    assert.equal(await page.locator(`#products tr[data-product-id="${productId}"]`).count(), 1,
      `kari's #products should have a row tr[data-product-id="${productId}"]`);
  });

  journey('3e. a flawed adapter is ikke godkjent: its failed vilkår are marked and explained, no listing offered', { timeout: RUN_TIMEOUT_MS + 60_000 }, async (t) => {
    if (!need(t, { kari: 'journey 2' })) return;
    const kari = state.kari;
    const { page } = kari;
    const file = paths.component(FLAWED.component);

    await kari.visit('/leverandor/last-opp', { label: 'upload form' });
    await fillUpload(page, { product: FLAWED.product, version: '0.9.0', changelog: 'Logger fødselsnummer.', file });
    const { path: at } = await submit(page, '#upload-submit', { what: `the upload form (${FLAWED.component}.wasm)`, timeout: 60_000 });
    assert.ok(at.startsWith('/kjoringer/'), `uploading ${FLAWED.component}.wasm should redirect to /kjoringer/{run_id}, but the browser is at ${at}`);
    const runId = idFrom(page.url(), '/kjoringer');
    state.flawedRunId = runId;
    await page.locator('#run-state[data-state="done"], #run-state[data-state="error"]').first()
      .waitFor({ state: 'attached', timeout: RUN_TIMEOUT_MS })
      .catch(() => assert.fail(`the run ${runId} of ${FLAWED.component}.wasm was not done within ${RUN_TIMEOUT_MS / 1000} s`));
    assert.equal(await page.locator('#run-state').getAttribute('data-state'), 'done', `the run of ${FLAWED.component}.wasm should end done`);
    assert.equal(await page.locator('#verdict').getAttribute('data-verdict'), 'ikke-godkjent',
      `${FLAWED.component}.wasm should be ikke-godkjent`);
    await kari.a11y('run page (ikke godkjent)');

    const failed = await rowTexts(page, '#vilkar tr[data-vilkar-id].fail', 'data-vilkar-id');
    const failedIds = failed.map((r) => r.key).sort();
    assert.deepEqual(failedIds, FLAWED.fails, `#vilkar should mark exactly ${FLAWED.fails.join(', ')} with class "fail"`);
    const report = await kari.json(`/api/v1/runs/${runId}/report.json`);
    for (const row of failed) {
      const reason = ((report.vilkar || []).find((v) => v.id === row.key) || {}).reason || '';
      const nb = reason.split(' / ')[0];
      assert.ok(reason, `report.json should give a reason for ${row.key}`);
      assert.ok(row.text.includes(reason.replace(/\s+/g, ' ')) || row.text.includes(nb.replace(/\s+/g, ' ')),
        `the #vilkar row of ${row.key} should explain the failure ("${reason}"), but says: ${row.text}`);
    }
    assert.equal(await page.locator('#request-listing').count(), 0, 'an ikke-godkjent run should offer no #request-listing');
    const run = await kari.json(`/api/v1/runs/${runId}`);
    assert.equal(run.verdict, 'ikke-godkjent', `/api/v1/runs/${runId} has verdict ${JSON.stringify(run.verdict)}`);

    // At a glance: the failed skal vilkår are listed first and link to their findings.
    const summary = await rowTexts(page, '#failed-skal a', 'href');
    assert.deepEqual(summary.map((r) => r.key).sort(), FLAWED.fails.map((id) => `#v-${id}`),
      `#failed-skal should link exactly ${FLAWED.fails.join(', ')}`);
    await page.click(`#failed-skal a[href="#v-${FLAWED.fails[0]}"]`);
    await expectVisible(page, `#v-${FLAWED.fails[0]}`, `the finding ${FLAWED.fails[0]} after following its link`);
    assert.ok(page.url().endsWith(`#v-${FLAWED.fails[0]}`), `the deep link should be in the address, is ${page.url()}`);
    // Only what failed.
    await follow(page, '#only-failed');
    const shown = await rowTexts(page, '#vilkar tr[data-vilkar-id]', 'data-vilkar-id');
    assert.deepEqual(shown.map((r) => r.key).sort(), FLAWED.fails, '#only-failed should leave only the failed vilkår');
    await kari.a11y('run page (only failed)');

    await follow(page, '#report-link');
    await kari.a11y('full report (ikke godkjent)');
    await expectVisible(page, '#back-to-run', 'the link from the report back to its run');
  });

  journey('4. vendor B cannot reach anything of vendor A\'s submission (404), nor can the public', {}, async (t) => {
    if (!need(t, { runId: 'journey 3b', productId: 'journey 3d' })) return;
    const { runId, productId, submissionId } = state;
    const kari = state.kari;

    const pages = new Set([`/kjoringer/${runId}`, `/kjoringer/${runId}/rapport`, `/produkter/${productId}`]);
    // Anything else kari's browser loaded about this run or product.
    for (const u of kari.visited) {
      const { origin, pathname } = new URL(u);
      if (origin === new URL(server.url).origin && (pathname.includes(`/${runId}`) || pathname.includes(`/${productId}`))) {
        if (/^\/(kjoringer|produkter|api)\//.test(pathname)) pages.add(pathname);
      }
    }
    const api = [
      `/api/v1/runs/${runId}`,
      `/api/v1/runs/${runId}/report.json`,
      `/api/v1/runs/${runId}/report.xml`,
      `/api/v1/runs/${runId}/report.html`,
      `/api/v1/runs/${runId}/badge.svg`,
      `/api/v1/products/${productId}`,
    ];
    if (submissionId) api.push(`/api/v1/submissions/${submissionId}`);
    const stream = `/api/v1/runs/${runId}/events`;

    // Kari (the owner) reaches every one of them: otherwise a 404 for ola would prove nothing.
    for (const url of [...pages, ...api]) {
      const res = await kari.get(url);
      assert.equal(res.status(), 200, `kari (owner): GET ${url} answered ${res.status()}, expected 200`);
    }
    const own = await kari.probeStream(stream);
    assert.equal(own.status, 200, `kari (owner): GET ${stream} answered ${own.status} ${own.error || ''}, expected 200`);
    assert.match(own.contentType, /text\/event-stream/, `kari (owner): ${stream} should be text/event-stream, is ${own.contentType}`);
    const report = await kari.json(`/api/v1/runs/${runId}/report.json`);
    assert.equal(report.verdict, 'godkjent', `report.json verdict is ${JSON.stringify(report.verdict)}`);
    assert.deepEqual((report.vilkar || []).map((v) => v.id).sort(), [...state.vilkarIds].sort(),
      'report.json\'s vilkår should be exactly the run page\'s #vilkar rows');
    const xml = await (await kari.get(`/api/v1/runs/${runId}/report.xml`)).text();
    assert.match(xml, /<testsuites[\s>]/, 'report.xml should be JUnit XML (<testsuites>)');
    const svg = await (await kari.get(`/api/v1/runs/${runId}/badge.svg`)).text();
    assert.match(svg, /<svg[\s>]/, 'badge.svg should be an SVG');
    const product = await kari.json(`/api/v1/products/${productId}`);
    assert.ok(JSON.stringify(product).includes(PRODUCT), `/api/v1/products/${productId} should name "${PRODUCT}"`);

    // Ola, vendor B, logged in in his own browser context.
    const ola = await session('ola');
    await ola.login(users.ola);
    await ola.a11y('vendor B dashboard');
    assert.ok(!(await text(ola.page, 'body')).includes(PRODUCT), `ola's /leverandor must not mention "${PRODUCT}"`);

    const leaks = [];
    for (const url of [...pages, ...api, stream]) {
      const res = await ola.page.goto(url, { timeout: 10_000 }).catch((e) => ({ error: e.message }));
      if (res.error) { leaks.push(`page.goto ${url}: ${res.error.split('\n')[0]}`); continue; }
      const body = await res.text().catch(() => '');
      if (res.status() !== 404) leaks.push(`page.goto ${url} answered ${res.status()}${res.url() !== new URL(url, server.url).href ? ` (at ${res.url()})` : ''}`);
      if (body.includes(PRODUCT)) leaks.push(`page.goto ${url}: the answer names "${PRODUCT}"`);
      if (/text\/html/.test(res.headers()['content-type'] || '')) await ola.a11y(`404 page for ${url}`);

      const direct = await ola.get(url).catch((e) => ({ error: e.message }));
      if (direct.error) { leaks.push(`request.get ${url}: ${direct.error.split('\n')[0]}`); continue; }
      if (direct.status() !== 404) leaks.push(`request.get ${url} answered ${direct.status()}`);
    }
    none(leaks, 'vendor B (ola) should get 404 for every URL of vendor A\'s submission, but:');
    t.diagnostic(`404 for ola: ${[...pages, ...api, stream].join(' ')}`);

    // The public sees nothing of it either while it is not listed (a 404, or a redirect to log in).
    const anon = await session('anonymous (before listing)');
    const seen = [];
    for (const url of [...pages, ...api]) {
      const res = await anon.get(url);
      const body = await res.text();
      if (res.status() === 200 || body.includes(PRODUCT)) seen.push(`${url} answered ${res.status()}${body.includes(PRODUCT) ? ` naming "${PRODUCT}"` : ''}`);
    }
    none(seen, 'an anonymous visitor should not see the unlisted submission, but:');
    await closeSession(anon);
    await closeSession(ola);

    assert.ok(submissionId, `could not check /api/v1/submissions/{id}: GET /api/v1/runs/${runId} has no submission_id`);
  });

  journey('5. rita and rune approve the listing; the case is approved after both', {}, async (t) => {
    if (!need(t, { productId: 'journey 3d' })) return;

    async function decide(user, note) {
      const s = await session(user.username.split('@')[0]);
      await s.login(user);
      await s.a11y('review queue');
      const rows = s.page.locator('#queue tr[data-case-id]', { hasText: PRODUCT });
      assert.ok(await rows.count() >= 1, `${s.who}'s #queue should have a tr[data-case-id] row for "${PRODUCT}"`);
      const caseId = await rows.first().getAttribute('data-case-id');
      if (state.caseId) assert.equal(caseId, state.caseId, `${s.who} sees case ${caseId} for "${PRODUCT}", the other reviewer saw ${state.caseId}`);
      const link = rows.first().locator(`a[href$="/vurdering/${caseId}"]`);
      assert.equal(await link.count(), 1, `the #queue row of case ${caseId} should link to /vurdering/${caseId}`);
      const loaded = s.page.waitForEvent('load');
      await link.click();
      await loaded;
      assert.equal(new URL(s.page.url()).pathname, `/vurdering/${caseId}`, `the #queue row should open /vurdering/${caseId}`);
      await s.a11y('case page');
      assert.ok((await text(s.page, 'body')).includes(PRODUCT), `the case page should name "${PRODUCT}"`);
      await expectVisible(s.page, '#decision-form', 'the decision form');
      assert.notEqual(await s.page.locator('#decision-form textarea[name=note]').getAttribute('required'), null,
        'the note (textarea[name=note]) should be required');
      await s.page.check('#decision-form input[name=decision][value=approve]');
      // A verdict on each declaration: all accepted (approval needs that).
      const verdicts = await attrs(s.page, '#decision-form fieldset.declaration-verdict', 'data-declaration');
      assert.ok(verdicts.length > 0, 'the decision form should have a fieldset.declaration-verdict per declaration');
      for (const id of verdicts) await s.page.check(`#verdict-${id}-accept`);
      await s.page.fill('#decision-form textarea[name=note]', note);
      await s.page.check('#decision-confirm');
      await submit(s.page, '#decide', { what: `${s.who}'s decision` });
      await s.a11y('after the decision');
      state.caseId = caseId;
      return s;
    }

    const rita = await decide(users.rita, 'Rapporten er godkjent uten avvik. Anbefaler oppføring.');
    await rita.visit(`/vurdering/${state.caseId}`, { label: 'case page after one approval' });
    const half = await rita.page.locator('#case-state').getAttribute('data-state');
    assert.notEqual(half, 'approved', 'after one of two reviewers approved, the case should not yet be approved');

    // A vendor cannot open the case.
    const peek = await state.kari.get(`/vurdering/${state.caseId}`);
    assert.notEqual(peek.status(), 200, `kari (vendor) should not open /vurdering/${state.caseId}, got 200`);
    await closeSession(rita);

    const rune = await decide(users.rune, 'Enig. Alle vilkår bestått.');
    await rune.visit(`/vurdering/${state.caseId}`, { label: 'case page after two approvals' });
    const whole = await rune.page.locator('#case-state').getAttribute('data-state');
    assert.equal(whole, 'approved', `after both reviewers approved, #case-state data-state should be "approved", is ${JSON.stringify(whole)}`);
    await closeSession(rune);
    state.approved = true;

    // The beslutningsgruppe lands on the review queue too.
    const berit = await session('berit');
    await berit.login(users.berit);
    await berit.a11y('review queue (beslutningsgruppe)');
    await closeSession(berit);
  });

  journey('5b. kari sees the decision on her dashboard: the listing apart from the upload, and a notification', {}, async (t) => {
    if (!need(t, { approved: 'journey 5', productId: 'journey 3d', kari: 'journey 2' })) return;
    const kari = state.kari;
    const { page } = kari;
    await kari.visit('/leverandor', { label: 'vendor dashboard after the decision' });
    const rowSel = `#products tr[data-product-id="${state.productId}"]`;
    assert.equal(await page.locator(rowSel).getAttribute('data-status'), 'listed', `${rowSel} should have data-status="listed"`);
    const listing = await text(page, `${rowSel} td.listing`);
    assert.ok(/oppført/.test(listing) && listing.includes(VERSION), `the listing cell should say "oppført" and ${VERSION}, says: ${listing}`);
    assert.equal(await page.locator(`${rowSel} td.review`).getAttribute('data-case-state'), 'approved',
      'the review cell should show the approved case');
    await expectVisible(page, '#notifications li[data-kind="approved"]', 'the notification of the approval');
    const note = await text(page, '#notifications li[data-kind="approved"]');
    assert.ok(note.includes(PRODUCT) && note.includes('Enig. Alle vilkår bestått.'),
      `the notification should name "${PRODUCT}" and the deciding note, says: ${note}`);
    assert.ok(!/ \/ /.test(note), `the notification should be in one language, says: ${note}`);
  });

  journey('6. the public catalogue lists Journal Nord by Leverandør A AS', {}, async (t) => {
    if (!need(t, { productId: 'journey 3d', approved: 'journey 5' })) return;
    const { productId } = state;
    const anon = await session('anonymous (after listing)');
    const { page } = anon;

    await anon.visit('/', { label: 'catalogue with a listing' });
    const row = page.locator(`#catalogue tr[data-product-id="${productId}"]`);
    assert.equal(await row.count(), 1, `#catalogue should have a row tr[data-product-id="${productId}"]`);
    const [{ text: rowText }] = await rowTexts(page, `#catalogue tr[data-product-id="${productId}"]`);
    assert.ok(rowText.includes(PRODUCT), `the catalogue row should name "${PRODUCT}": ${rowText}`);
    assert.ok(rowText.includes(orgs.a), `the catalogue row should name the vendor "${orgs.a}": ${rowText}`);
    assert.equal(await row.locator(`a[href$="/produkter/${productId}"]`, { hasText: PRODUCT }).count(), 1,
      `the product name should link to /produkter/${productId}`);

    assert.ok(!(await text(page, '#catalogue')).includes(FLAWED.product), `the unlisted "${FLAWED.product}" must not be in the catalogue`);
    assert.equal(await row.getAttribute('data-status'), 'listed', 'the catalogue row should have data-status="listed"');
    const badge = await (await anon.get(`/api/v1/catalogue/${productId}/badge.svg`)).text();
    assert.match(badge, />oppført · godkjent 100 %</, 'the catalogue badge should say the listing and the verdict');

    await page.fill('#filter input[name=q]', 'Journal');
    await submit(page, '#filter-submit', { what: 'the catalogue filter' });
    assert.equal(new URL(page.url()).searchParams.get('q'), 'Journal', `the filter should GET /?q=Journal, is at ${page.url()}`);
    assert.equal(await row.count(), 1, 'filtering on "Journal" should keep Journal Nord');
    await anon.a11y('catalogue filtered');
    await page.fill('#filter input[name=q]', 'finnes-ikke-xyz');
    await submit(page, '#filter-submit', { what: 'the catalogue filter' });
    assert.equal(await page.locator('#catalogue tr[data-product-id]').count(), 0, 'filtering on "finnes-ikke-xyz" should list nothing');
    await anon.a11y('catalogue filtered to nothing');

    const api = await anon.json('/api/v1/catalogue');
    const entry = (api.entries || []).find((e) => e.product === PRODUCT);
    assert.ok(entry, `/api/v1/catalogue should have an entry with product "${PRODUCT}": ${JSON.stringify(api).slice(0, 400)}`);
    assert.equal(String(entry.product_id), productId, `the catalogue entry's product_id is ${JSON.stringify(entry.product_id)}`);
    assert.equal(entry.vendor, orgs.a, `the catalogue entry's vendor is ${JSON.stringify(entry.vendor)}`);
    assert.equal(entry.version, VERSION, `the catalogue entry's version is ${JSON.stringify(entry.version)}`);
    assert.equal(entry.verdict, 'godkjent', `the catalogue entry's verdict is ${JSON.stringify(entry.verdict)}`);

    await anon.visit('/', { a11y: false });
    await follow(page, `#catalogue tr[data-product-id="${productId}"] a[href$="/produkter/${productId}"]`);
    assert.equal(new URL(page.url()).pathname, `/produkter/${productId}`, 'the product link should open the product page');
    await expectVisible(page, '#listing-status', 'the listing status');
    await anon.a11y('public product page');
    const res = await anon.get(`/produkter/${productId}`);
    assert.equal(res.status(), 200, `a listed product's page should be public, answered ${res.status()}`);
    await closeSession(anon);
  });

  journey('7. the admin sees the upload, the run, both decisions and the listing in the audit trail', {}, async (t) => {
    if (!need(t, { approved: 'journey 5' })) return;
    const admin = await session('admin');
    const { page } = admin;
    await admin.login(users.admin);
    await admin.a11y('audit trail');

    const rows = (await rowTexts(page, '#audit tr[data-seq]', 'data-seq')).map((r) => ({ seq: r.key, text: r.text }));
    assert.ok(rows.length > 0, '#audit should have tr[data-seq] rows');
    assert.equal(new Set(rows.map((r) => r.seq)).size, rows.length, 'every #audit row should have its own data-seq');
    const matching = (re) => rows.filter((r) => re.test(r.text));
    const show = () => rows.slice(-25).map((r) => `  ${r.seq}: ${r.text.slice(0, 140)}`).join('\n');
    assert.ok(matching(/submission/i).length >= 1, `#audit should have a row for the upload ("submission…"); rows:\n${show()}`);
    assert.ok(matching(/\brun\b/i).length >= 1, `#audit should have a row for the run ("run…"); rows:\n${show()}`);
    assert.ok(matching(/review/i).length >= 2, `#audit should have a row for each of the two decisions ("review…"); rows:\n${show()}`);
    assert.ok(matching(/listing/i).length >= 1, `#audit should have a row for the listing ("listing…"); rows:\n${show()}`);

    // The decisions say what they decided, and their subject links to the case.
    const decided = page.locator('#audit tr[data-action="review.decide"][data-decision="approve"]');
    assert.ok(await decided.count() >= 2, `#audit should have a row per approval with data-decision="approve"; rows:\n${show()}`);
    if (state.caseId) {
      assert.equal(await decided.first().locator(`a.subject[href="/vurdering/${state.caseId}"]`).count(), 1,
        `the decision's subject should link to /vurdering/${state.caseId}`);
      // Filtering by that subject keeps only the case's events, and the filter in the form.
      await follow(page, `#audit tr[data-action="review.decide"] a.subject-filter`);
      assert.equal(new URL(page.url()).searchParams.get('subject'), `case:${state.caseId}`, `the filter link should GET ?subject=case:${state.caseId}`);
      await admin.a11y('audit trail filtered by subject');
      const subjects = (await rowTexts(page, '#audit tr[data-seq]')).length;
      assert.ok(subjects >= 3, 'the case has its request, two decisions');
      assert.equal(await page.locator('#audit-filter input[name=subject]').inputValue(), `case:${state.caseId}`);
    }
    // A malformed filter is the page again with the reason: a 400, not a crash.
    await admin.visit('/revisjon?from=ikke-en-dato', { status: 400, label: 'audit trail with a malformed filter' });
    await expectVisible(page, '#audit-filter-error', 'the filter error');

    server.cli(['admin', 'verify-audit']);

    await submit(page, '#logout', { what: 'the logout button' });
    const after = await admin.get('/revisjon');
    assert.notEqual(after.status(), 200, `after logging out, /revisjon should not answer 200, answered ${after.status()}`);
    await closeSession(admin);
  });

  journey('8. keyboard: Tab first focuses a visible skip link, then reaches the username field', {}, async () => {
    const kb = await session('keyboard');
    const { page } = kb;
    await kb.visit('/logg-inn', { label: 'login page' });
    assert.equal(await page.locator('#main').count(), 1, 'the skip link\'s target #main should exist');

    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      const r = e.getBoundingClientRect();
      return {
        desc: `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className ? `.${String(e.className).split(/\s+/).join('.')}` : ''}`
          + `${e.name ? `[name=${e.name}]` : ''}${e.getAttribute('href') ? `[href="${e.getAttribute('href')}"]` : ''}`
          + `${e.textContent.trim() ? ` "${e.textContent.trim().replace(/\s+/g, ' ').slice(0, 30)}"` : ''}`,
        skip: e.matches('a.skip-link'),
        href: e.getAttribute('href'),
        username: e.matches('input[name=username]'),
        inMain: Boolean(e.closest('#main')),
        visible: r.width > 1 && r.height > 1 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth
          && getComputedStyle(e).visibility !== 'hidden' && Number(getComputedStyle(e).opacity) > 0,
      };
    });

    await page.keyboard.press('Tab');
    const first = await focused();
    assert.ok(first.skip, `the first Tab should focus a.skip-link, focused ${first.desc}`);
    assert.equal(first.href, '#main', 'the skip link should point to #main');
    assert.ok(first.visible, 'the focused skip link should be visible on screen');

    const path_ = [first.desc];
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      path_.push(f.desc);
      reached = f.username;
    }
    assert.ok(reached, `Tab should reach input[name=username]; focus went: ${path_.join(' → ')}`);

    // Following the skip link moves the focus into the main content.
    await kb.visit('/logg-inn', { a11y: false });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    const next = await focused();
    assert.ok(next.inMain, `after following the skip link, Tab should land inside #main, focused ${next.desc}`);
    await closeSession(kb);
  });

  journey('9. a nightly batch (sandkasse nightly next to the running service): the summary pages and the trend', { timeout: RUN_TIMEOUT_MS + 60_000 }, async (t) => {
    if (!need(t, { approved: 'journey 5', productId: 'journey 3b' })) return;
    const out = server.cli(['nightly', '--date', '2026-11-24']);
    assert.match(out, /1 testet \/ tested/, `sandkasse nightly should have tested the one listed product:\n${out}`);

    const rita = await session('rita (nightly)');
    await rita.login(users.rita);
    await rita.visit('/natt', { label: 'nights' });
    assert.equal(await rita.page.locator('#nights tr[data-night="2026-11-24"]').count(), 1, '/natt should list the night');
    await rita.visit('/natt/2026-11-24', { label: 'one night' });
    assert.equal(await rita.page.locator('#night-summary').count(), 1, 'the night page should have #night-summary');
    assert.equal(await rita.page.locator(`#night-entries tr[data-product-id="${state.productId}"]`).count(), 1, 'the listed product should be in the night');
    await closeSession(rita);

    const anon = await session('anonymous (trend)');
    await anon.visit(`/produkter/${state.productId}`, { label: 'product page with trend' });
    assert.equal(await anon.page.locator('#trend svg[role="img"]').count(), 1, 'the product page should show the trend as an SVG image');
    await closeSession(anon);
     state.nightDone = true;
  });

  // WCAG 2.1 1.4.10 Reflow: usable at 320 CSS px without scrolling in two directions. Every page
  // kind at a phone's 375 px and a desktop's 1280 px: nothing wider than the viewport, and axe
  // finds no serious or critical violation at either width.
  journey('10. every page kind at 375 px and 1280 px: no horizontal overflow, no serious accessibility violation', { timeout: 240_000 }, async (t) => {
    if (!need(t, { kari: 'journey 2', runId: 'journey 3b', productId: 'journey 3d', caseId: 'journey 5', flawedRunId: 'journey 3e', nightDone: 'journey 9' })) return;
    const { runId, productId, caseId, flawedRunId } = state;
    // A godkjent version without a case, so the run page offers the listing form with the
    // declarations — as sent, and as shown again when refused (a POST's answer, not a URL).
    if (!state.declRunId) state.declRunId = await godkjentRun(state.kari, '2.0.0');
    const declRunId = state.declRunId;
    const kinds = [
      ['anonymous', null, ['/', '/?lang=en', '/logg-inn', `/produkter/${productId}`, '/finnes-ikke', '/kjoringer/abc']],
      ['kari', users.kari, ['/leverandor', '/leverandor/last-opp', `/kjoringer/${runId}`, `/kjoringer/${flawedRunId}`,
        `/kjoringer/${flawedRunId}?vis=feilet&lang=en`, `/kjoringer/${flawedRunId}/rapport`, `/produkter/${productId}`,
        `/produkter/${productId}/sammenlign?a=${runId}&b=${runId}`, '/leverandor/nokler', '/passord',
        '/leverandor/sandkasse', '/leverandor/sandkasse/persontyper?lang=en', '/leverandor/sandkasse/utvekslinger',
        `/kjoringer/${declRunId}`, { label: `listing form refused (run ${declRunId})`, open: (page) => refusedListing(page, declRunId) }]],
      ['rita', users.rita, ['/vurdering', `/vurdering/${caseId}`, '/natt', '/natt/2026-11-24']],
      ['admin', users.admin, ['/revisjon', '/admin', '/admin/webhook']],
    ];
    const problems = [];
    for (const [who, user, pages] of kinds) {
      const s = await session(`${who} (widths)`);
      if (user) await s.login(user);
      for (const width of [375, 1280]) {
        await s.page.setViewportSize({ width, height: 800 });
        for (const p of pages) {
          const url = typeof p === 'string' ? p : p.label;
          if (typeof p === 'string') await s.page.goto(p); else await p.open(s.page);
          const wide = await s.page.evaluate(() => {
            const limit = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= limit + 1) return null;
            // The outermost elements that stick out, to say what to fix.
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
              const r = el.getBoundingClientRect();
              if (r.right > limit + 1 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > limit + 1)) {
                out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} (${Math.round(r.right)} px)`);
              }
              if (out.length >= 5) break;
            }
            return `${document.documentElement.scrollWidth} px wide in ${limit} px: ${out.join(', ')}`;
          });
          if (wide) problems.push(`${who} ${url} at ${width} px: ${wide}`);
          await s.a11y(`${url} at ${width} px`);
        }
      }
      await closeSession(s);
    }
    none(problems, 'pages wider than the viewport (WCAG 2.1 1.4.10 Reflow):');
  });
  journey('11. kari creates an API token, it works against the API, she revokes it and it stops working', {}, async (t) => {
    if (!need(t, { kari: 'journey 2' })) return;
    const kari = state.kari;
    const { page } = kari;
    await kari.visit('/leverandor', { a11y: false });
    await follow(page, '#nav-tokens');
    assert.equal(new URL(page.url()).pathname, '/leverandor/nokler', '#nav-tokens should open /leverandor/nokler');
    await kari.a11y('API tokens');
    await page.fill('#token-form input[name=name]', 'Nettleser-test CI');
    await submit(page, '#token-create', { what: 'the new token form' });
    await expectVisible(page, '#new-token-value', 'the new token, shown once');
    const token = await page.locator('#new-token-value').inputValue();
    assert.match(token, /^sk_[A-Za-z0-9_-]{43}$/, `the new token should look like sk_…, is ${token.slice(0, 6)}…`);
    await kari.a11y('API tokens with the new token');
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200, `GET /api/v1/me with the new token answered ${me.status}`);
    assert.equal((await me.json()).username, users.kari.username, 'the token should act as kari');

    await kari.visit('/leverandor/nokler', { a11y: false });
    assert.ok(!(await page.content()).includes(token), 'the token list should never show the token again');
    const row = page.locator('#tokens tr[data-token-id]', { hasText: 'Nettleser-test CI' });
    assert.equal(await row.count(), 1, '#tokens should list the token by name');
    await row.locator('input[name=confirm]').check();
    await submit(page, `#${await row.locator('button[type=submit]').getAttribute('id')}`, { what: 'revoking the token' });
    assert.match(await text(page, '#tokens'), /trukket tilbake|revoked/i, 'the token should be listed as revoked');
    const after = await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(after.status, 401, `after revoking, GET /api/v1/me with the token answered ${after.status}`);
  });

  journey('12. the admin creates a user, who must change the temporary password; then resets it', {}, async () => {
    const admin = await session('admin');
    const { page } = admin;
    await admin.login(users.admin);
    await follow(page, '#nav-admin');
    await admin.a11y('admin area');
    await page.fill('#user-form input[name=username]', 'siv@leverandor-a.no');
    await page.selectOption('#user-form select[name=role]', 'vendor');
    await page.selectOption('#user-form select[name=organisation]', orgs.a);
    await submit(page, '#user-create', { what: 'the new user form' });
    await expectVisible(page, '#temporary-password-value', 'the temporary password, shown once');
    const temporary = await page.locator('#temporary-password-value').inputValue();
    await admin.a11y('new user with a temporary password');
    // The user's page (answered to the form, so the URL is still /admin/brukere): its forms name it.
    const userPath = (await page.locator('#reset-form').getAttribute('action')).replace(/\/passord$/, '');

    const siv = await session('siv');
    const sivUser = { username: 'siv@leverandor-a.no', role: 'vendor', password: temporary };
    await siv.login(sivUser, { expectPath: '/passord' });
    await siv.a11y('password change after a reset');
    await siv.page.fill('#password-form input[name=current]', temporary);
    await siv.page.fill('#password-form input[name=new]', 'sivs-eget-lange-passord');
    await siv.page.fill('#password-form input[name=repeat]', 'sivs-eget-lange-passord');
    const { path: home } = await submit(siv.page, '#password-submit', { what: 'the password change' });
    assert.equal(home, '/leverandor', `after changing the password siv should land on /leverandor, is at ${home}`);

    // The reset: confirmed, a new temporary password, siv logged out.
    await admin.visit(userPath, { label: 'a user in the admin area' });
    await page.check('#reset-confirm');
    await submit(page, '#reset-submit', { what: 'the password reset' });
    const second = await page.locator('#temporary-password-value').inputValue();
    assert.notEqual(second, temporary, 'a reset should make a new temporary password');
    const gone = await siv.get('/leverandor');
    assert.notEqual(gone.status(), 200, `after the reset siv's session should be over, /leverandor answered ${gone.status()}`);
    await admin.visit('/admin/webhook', { label: 'webhook deliveries' });
    await closeSession(siv);
    await closeSession(admin);
  });

  journey('13. kari uploads a new version through the product picker; a near-miss name is refused', { timeout: 90_000 }, async (t) => {
    if (!need(t, { kari: 'journey 2', runId: 'journey 3b' })) return;
    const kari = state.kari;
    const { page } = kari;
    const file = paths.component('reference');
    await kari.visit('/leverandor/last-opp', { label: 'upload form with the product picker' });
    const offered = await page.locator('#upload-form select[name=product] option').allTextContents();
    assert.ok(offered.includes(PRODUCT), `the picker should offer ${PRODUCT}, offers ${offered.join(', ')}`);
    await fillUpload(page, { product: PRODUCT.toLowerCase(), version: '1.0.1', changelog: 'Skrivefeil i navnet.', file });
    await submit(page, '#upload-submit', { what: 'the upload form (a near-miss product name)', timeout: 60_000 });
    await expectVisible(page, '#upload-error', 'the near-miss refusal');
    assert.ok((await text(page, '#upload-error')).includes(PRODUCT), '#upload-error should name the existing product');
    await kari.a11y('upload form with a near-miss refusal');
    await fillUpload(page, { product: PRODUCT, version: '1.0.1', changelog: 'Ny versjon.', file, existing: true });
    const { path: at } = await submit(page, '#upload-submit', { what: 'the upload form (existing product)', timeout: 60_000 });
    assert.ok(at.startsWith('/kjoringer/'), `uploading a new version of ${PRODUCT} should open its run, is at ${at}`);
    const products = await kari.json('/api/v1/products');
    assert.equal(products.products.filter((p) => p.product.name.toLowerCase() === PRODUCT.toLowerCase()).length, 1,
      'the near miss should not have created a second product');
  });
  journey('14. kari runs one scenario again, downloads its evidence and compares two runs; the public sees the listed version per vilkår', { timeout: RUN_TIMEOUT_MS + 90_000 }, async (t) => {
    if (!need(t, { kari: 'journey 2', flawedRunId: 'journey 3e', productId: 'journey 3d', approved: 'journey 5' })) return;
    const kari = state.kari;
    const { page } = kari;

    await kari.visit(`/kjoringer/${state.flawedRunId}`, { label: 'run page with the forms to test again' });
    const chosen = await page.locator('#rerun-scenario-id').inputValue();
    assert.ok(chosen, 'the form should propose a scenario');
    await submit(page, '#rerun-scenario', { what: 'running one scenario again' });
    const partial = idFrom(page.url(), '/kjoringer');
    assert.notEqual(partial, state.flawedRunId, 'running one scenario again should open a new run');
    await page.locator('#run-state[data-state="done"], #run-state[data-state="error"]').first()
      .waitFor({ state: 'attached', timeout: RUN_TIMEOUT_MS })
      .catch(() => assert.fail(`the run ${partial} of one scenario was not done within ${RUN_TIMEOUT_MS / 1000} s`));
    await expectVisible(page, '#partial-run', 'the note that only one scenario ran');
    assert.ok((await text(page, '#partial-run')).includes(chosen), `#partial-run should name ${chosen}`);
    assert.equal(await page.locator('#request-listing').count(), 0, 'a run of one scenario should offer no listing request');
    await kari.a11y('run page of one scenario');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#evidence-link')]);
    assert.equal(download.suggestedFilename(), `sandkasse-kjoring-${partial}.zip`, 'the evidence downloads as one zip named after the run');

    const productHref = await page.locator('.links a[href^="/produkter/"]').first().getAttribute('href');
    await kari.visit(productHref, { label: 'product page with the comparison form' });
    await page.selectOption('#compare-a', String(state.flawedRunId));
    await page.selectOption('#compare-b', String(partial));
    await submit(page, '#compare-submit', { what: 'the comparison form' });
    assert.ok(new URL(page.url()).pathname.endsWith('/sammenlign'), `the comparison should open, the browser is at ${page.url()}`);
    assert.ok(await page.locator('#compare-vilkar tr[data-vilkar-id]').count() > 0, '#compare-vilkar should list the vilkår of both runs');
    await expectVisible(page, '#compare-summary', 'how many vilkår differ');
    await kari.a11y('comparison of two runs');

    const anon = await session('anonymous (per vilkår)');
    await anon.visit(`/produkter/${state.productId}`, { label: 'listed product with its result per vilkår' });
    const rows = await rowTexts(anon.page, '#vilkar-results tr[data-vilkar-id]', 'data-vilkar-id');
    assert.ok(rows.length > 20, `the public should see the listed version's result per vilkår, sees ${rows.length} rows`);
    assert.equal(await anon.page.locator('#compare-form').count(), 0, 'the public compares nothing');
    await closeSession(anon);
  });
  journey('15. kari launches in her sandbox and the shown curl reads the patient; the fault switch changes the answer; the reset clears a write', { timeout: 120_000 }, async (t) => {
    if (!need(t, { kari: 'journey 2' })) return;
    const kari = state.kari;
    const { page } = kari;
    await kari.visit('/leverandor', { a11y: false });
    await follow(page, '#nav-workbench');
    assert.equal(new URL(page.url()).pathname, '/leverandor/sandkasse', '#nav-workbench should open /leverandor/sandkasse');
    await kari.a11y('the sandbox page');

    /** Launches with the form as it stands; the token, the URL the curl reads and the practitioner. */
    const launchNow = async () => {
      await page.selectOption('#patient_kind', 'with-relation');
      await submit(page, '#launch-submit', { what: 'the launch simulator' });
      await expectVisible(page, '#launched-curl', 'the curl command of the launch');
      const curl = await page.locator('#launched-curl').inputValue();
      const token = (curl.match(/Authorization: Bearer (sk-[0-9]+-[0-9]+-[0-9a-f]+)/) || [])[1];
      const url = (curl.match(/'(http[^']+)'\s*$/) || [])[1];
      assert.ok(token && url, `the curl should carry a token and a URL, is: ${curl}`);
      const practitioner = await page.locator('#launched-context').getAttribute('data-practitioner-id');
      return { token, url, practitioner, base: await text(page, '#launched-base') };
    };
    // Run what the curl runs: its URL with its headers.
    const curlLike = (url, token, init = {}) => fetch(url, {
      ...init, headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...(init.headers || {}) },
    });

    const first = await launchNow();
    await kari.a11y('the sandbox page with a launch');
    const read = await curlLike(first.url, first.token);
    assert.equal(read.status, 200, `the shown curl (${first.url}) answered ${read.status}`);
    const patient = await read.json();
    assert.equal(patient.resourceType, 'Patient');

    // A write, kept by the sandbox.
    const created = await curlLike(`${first.base}/Observation`, first.token, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Observation', status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
        subject: { reference: `Patient/${patient.id}` }, effectiveDateTime: '2026-10-01T10:00:00Z',
        performer: [{ reference: `Practitioner/${first.practitioner}` }],
        valueQuantity: { value: 71, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      }),
    });
    assert.equal(created.status, 201, `creating an Observation answered ${created.status}: ${await created.clone().text()}`);
    const observation = `${first.base}/Observation/${(await created.json()).id}`;
    assert.equal((await curlLike(observation, first.token)).status, 200, 'the written Observation should be readable');

    // The exchanges page shows what the platform saw, without the token.
    await follow(page, '#wb-exchanges');
    assert.match(await text(page, '#exchanges'), /POST \/4601\/fhir\/Observation/, 'the write should be among the exchanges');
    assert.ok(!(await page.content()).includes(first.token), 'the exchanges page should never show a token');
    await kari.a11y('the exchanges page');

    // The fault switch: every second request is a 429 until it is off again.
    await kari.visit('/leverandor/sandkasse', { a11y: false });
    await page.selectOption('#faults-preset', 'throttle');
    await submit(page, '#faults-submit', { what: 'the fault switch' });
    assert.equal(await page.locator('#faults-now').getAttribute('data-faults'), 'throttle');
    const statuses = [];
    for (let i = 0; i < 2; i += 1) statuses.push((await curlLike(first.url, first.token)).status);
    assert.deepEqual(statuses, [200, 429], 'with throttling on, the second request should be a 429');
    await page.selectOption('#faults-preset', 'off');
    await submit(page, '#faults-submit', { what: 'switching the faults off' });
    assert.equal((await curlLike(first.url, first.token)).status, 200, 'with the faults off, reads work again');

    // The reset (confirmed): the old token dies, and the write is gone for a new launch.
    await page.locator('#reset-confirm').check();
    await submit(page, '#reset-submit', { what: 'the reset' });
    await expectVisible(page, '#wb-reset-done', 'the reset notice');
    assert.equal((await curlLike(first.url, first.token)).status, 401, 'after the reset the old token should be refused');
    const second = await launchNow();
    assert.equal((await curlLike(observation.replace(first.base, second.base), second.token)).status, 404, 'after the reset the write should be gone');
  });

  journey('16. kari answers the declarations with an attachment (a wrong file type comes back as typed); rita reads the answers, downloads the attachment and decides on each; kari sees her answers and the verdicts', { timeout: RUN_TIMEOUT_MS + 120_000 }, async (t) => {
    if (!need(t, { kari: 'journey 2' })) return;
    const kari = state.kari;
    const { page } = kari;
    if (!state.declRunId) state.declRunId = await godkjentRun(kari, '2.0.0');
    const runId = state.declRunId;

    // A file of a type not taken: the form again (415) with the reason beside ERK-02's file field,
    // every answer as typed, and the files to be chosen again.
    await refusedListing(page, runId);
    assert.equal(new URL(page.url()).pathname.split('/')[1], 'produkter', 'the refused form answers the form\'s own address');
    await expectVisible(page, '#listing-error', 'the reason at the top of the form');
    await expectVisible(page, '#file-ERK-02-error', 'the reason beside ERK-02\'s file field');
    const beside = await text(page, '#file-ERK-02-error');
    assert.ok(beside.includes('avtale.exe') && beside.includes('ERK-02'), `#file-ERK-02-error should name the file and the declaration, says: ${beside}`);
    assert.ok(!/ \/ /.test(beside), `the reason should be in one language, says: ${beside}`);
    assert.equal(await page.locator('#file-ERK-02').getAttribute('aria-invalid'), 'true', '#file-ERK-02 should be marked aria-invalid');
    assert.equal(await page.locator('#file-ERK-02').getAttribute('aria-describedby'), 'file-ERK-02-error', '#file-ERK-02 should be described by its reason');
    const ids = await attrs(page, '#listing-form fieldset.declaration', 'data-declaration');
    for (const id of ids) {
      assert.equal(await page.inputValue(`#answer-${id}`), answerText(id), `the answer to ${id} should be kept as typed`);
    }
    await kari.a11y('listing form refused (a wrong file type)');

    // Right this time: the files chosen again, confirmed, sent.
    await fillDeclarations(page);
    await page.check('#request-listing-confirm');
    await submit(page, '#request-listing', { what: 'the listing request with the declarations' });
    const productId = idFrom(page.url(), '/produkter');
    await expectVisible(page, '#listing-status', 'the listing status');
    assert.match(await text(page, '#listing-status'), /til vurdering|in review/i, 'the product should be in review');
    // kari reads her own answers and downloads her own file on the product page.
    const mine = page.locator('details.case-declarations').first();
    await expectVisible(page, 'details.case-declarations section[data-declaration="ERK-01"]', 'kari\'s own answers on the product page');
    assert.equal((await mine.locator('section[data-declaration="ERK-01"] .answer').textContent()).trim(), answerText('ERK-01'),
      'the product page should show kari her answer to ERK-01');
    const own = mine.locator('section[data-declaration="ERK-01"] .attachments a').first();
    const [mineDown] = await Promise.all([page.waitForEvent('download'), own.click()]);
    assert.equal(mineDown.suggestedFilename(), 'erk-01-dokumentasjon.pdf', 'kari downloads her attachment under its name');
    await kari.a11y('product page with kari\'s own declarations');

    // Rita finds the case, reads each answer and downloads the attachment.
    const rita = await session('rita (declarations)');
    await rita.login(users.rita);
    const row = rita.page.locator('#queue tr[data-case-id]', { hasText: DECLARED }).first();
    const caseId = await row.getAttribute('data-case-id');
    await rita.visit(`/vurdering/${caseId}`, { label: 'case page with the declarations' });
    for (const id of ids) {
      const answer = (await rita.page.locator(`#case-declarations section[data-declaration="${id}"] .answer`).textContent() || '').trim();
      assert.equal(answer, answerText(id), `the case page should show kari's answer to ${id}`);
    }
    const link = rita.page.locator('#case-declarations section[data-declaration="ERK-02"] .attachments a').first();
    assert.equal((await link.textContent()).trim(), 'erk-02-dokumentasjon.pdf', 'the case page should name ERK-02\'s attachment');
    const [download] = await Promise.all([rita.page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'erk-02-dokumentasjon.pdf', 'the attachment downloads under its name');
    const bytes = fs.readFileSync(await download.path());
    assert.ok(bytes.equals(PDF), 'the attachment downloads as it was sent');

    // Approving while rejecting ERK-02 is refused: the form again with each verdict and comment.
    const comment = 'Databehandleravtalen mangler listen over underdatabehandlere.';
    await rita.page.check('#decision-form input[name=decision][value=approve]');
    for (const id of ids) await rita.page.check(`#verdict-${id}-${id === 'ERK-02' ? 'reject' : 'accept'}`);
    await rita.page.fill('#comment-ERK-02', comment);
    await rita.page.fill('#decision-form textarea[name=note]', 'Mangler i ERK-02.');
    await rita.page.check('#decision-confirm');
    const { response } = await submit(rita.page, '#decide', { what: 'approving with ERK-02 rejected' });
    assert.equal(response && response.status(), 400, 'approving with a rejected declaration should be refused (400)');
    await expectVisible(rita.page, '#decision-error', 'why the decision was not recorded');
    assert.ok((await text(rita.page, '#decision-error')).includes('ERK-02'), '#decision-error should name ERK-02');
    assert.ok(await rita.page.isChecked('#verdict-ERK-02-reject'), 'the verdict on ERK-02 should be kept');
    assert.ok(await rita.page.isChecked('#verdict-ERK-01-accept'), 'the verdict on ERK-01 should be kept');
    assert.equal(await rita.page.inputValue('#comment-ERK-02'), comment, 'the comment on ERK-02 should be kept');
    await rita.a11y('case page with a refused decision');
    // Rejecting the case with ERK-02 rejected is recorded.
    await rita.page.check('#decision-form input[name=decision][value=reject]');
    await rita.page.check('#decision-confirm');
    await submit(rita.page, '#decide', { what: 'rita\'s rejection' });
    await expectVisible(rita.page, '#case-declarations section[data-declaration="ERK-02"] .verdicts', 'the verdicts on ERK-02');
    assert.ok((await text(rita.page, '#case-declarations section[data-declaration="ERK-02"] .verdicts')).includes(comment),
      'the case page should show rita\'s verdict on ERK-02 with its comment');
    await closeSession(rita);

    // kari sees the verdict and its comment beside her answer.
    await kari.visit(`/produkter/${productId}`, { label: 'product page with the verdicts' });
    const verdicts = await text(page, 'details.case-declarations section[data-declaration="ERK-02"] .verdicts');
    assert.ok(verdicts.includes(comment) && /avvist/i.test(verdicts), `kari should see ERK-02 rejected with the comment, sees: ${verdicts}`);
    // Ola (vendor B) reaches neither the product nor the attachment.
    const ola = await session('ola (declarations)');
    await ola.login(users.ola);
    const href = await own.getAttribute('href');
    for (const url of [`/produkter/${productId}`, href]) {
      assert.equal((await ola.get(url)).status(), 404, `ola should get 404 for ${url}`);
    }
    await closeSession(ola);
  });
});
