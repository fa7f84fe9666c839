'use strict';
// Headless Chromium (Debian's, never a downloaded one) and helpers for the journeys: one browser
// context per person, page visits with a status check and an accessibility check, login, and
// failure artefacts.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const paths = require('./paths');
const { checkA11y } = require('./a11y');
const { submit } = require('./steps');

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

async function launch() {
  if (!fs.existsSync(paths.chromium)) {
    throw new Error(`no Chromium at ${paths.chromium} (install Debian's chromium package, or set SANDKASSE_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: paths.chromium, args: LAUNCH_ARGS, headless: true });
}

/**
 * One person's browser session. `who` names it in messages; `visited` collects every URL it
 * loaded (journey 4 replays them as another vendor).
 */
class Session {
  constructor(browser, baseURL, who) {
    this.browser = browser;
    this.baseURL = baseURL;
    this.who = who;
    this.context = null;
    this.page = null;
    this.visited = new Set();
    this.pageErrors = [];
    this.a11yFailures = []; // collected, so one page's violations do not stop the journey
  }

  async open() {
    this.context = await this.browser.newContext({ baseURL: this.baseURL, locale: 'nb-NO', viewport: { width: 1280, height: 900 } });
    this.context.setDefaultTimeout(15_000);
    this.context.setDefaultNavigationTimeout(30_000);
    this.page = await this.context.newPage();
    this.page.on('pageerror', (e) => this.pageErrors.push(`${this.page.url()}: ${e.message}`));
    this.page.on('framenavigated', (f) => { if (f === this.page.mainFrame()) this.visited.add(f.url()); });
    return this;
  }

  /** The path (and query) of the current page. */
  where() {
    const u = new URL(this.page.url());
    return u.pathname + u.search;
  }

  /** Navigates to `url`, asserts the status is `status` (default 200), and runs axe unless `a11y: false`. */
  async visit(url, { status = 200, a11y = true, label } = {}) {
    const res = await this.page.goto(url);
    assert.ok(res, `${this.who}: GET ${url} gave no response`);
    if (res.status() !== status) {
      const body = (await res.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 400);
      assert.fail(`${this.who}: GET ${url} answered ${res.status()}, expected ${status}` +
        `${res.url() !== new URL(url, this.baseURL).href ? ` (after redirects, at ${res.url()})` : ''}. Body: ${body}`);
    }
    if (a11y) await this.a11y(label || url);
    return res;
  }

  /**
   * The accessibility check of the current page. Violations are collected (the journey fails on
   * them at its end) so that the rest of the journey, and the journeys after it, still run.
   */
  async a11y(label) {
    try {
      await checkA11y(this.page, `${this.who}: ${label || this.where()}`);
    } catch (e) {
      if (!/^accessibility: /.test(e.message)) throw e;
      this.a11yFailures.push(e.message);
    }
  }

  /** Logs in through the form; asserts where it lands (the role's home, unless `expectPath`). */
  async login(user, { expectPath = user.home } = {}) {
    await this.visit('/logg-inn', { label: 'login page' });
    await this.page.fill('#login-form input[name=username]', user.username);
    await this.page.fill('#login-form input[name=password]', user.password);
    const { path: now } = await submit(this.page, '#login-submit', { what: `the login form as ${user.username}` });
    if (now !== expectPath) {
      const err = await this.page.locator('#login-error').textContent({ timeout: 500 }).catch(() => null);
      assert.fail(`${this.who}: logging in as ${user.username} (${user.role}) should land on ${expectPath}, but the browser is at ${now}` +
        `${err ? ` showing #login-error: ${err.trim()}` : ''}`);
    }
    await this.page.locator('#logout').waitFor({ state: 'visible', timeout: 5_000 }).catch(() => {
      assert.fail(`${this.who}: after login the page ${now} has no visible #logout button`);
    });
  }

  /** GET through the context's API client (same cookies as the page), without throwing on status. */
  async get(url, opts = {}) {
    return this.context.request.get(url, { failOnStatusCode: false, maxRedirects: 0, timeout: 10_000, ...opts });
  }

  /** GET `url` and parse JSON, asserting a 200. */
  async json(url) {
    const res = await this.get(url);
    const text = await res.text();
    assert.equal(res.status(), 200, `${this.who}: GET ${url} answered ${res.status()}, expected 200. Body: ${text.slice(0, 400)}`);
    try {
      return JSON.parse(text);
    } catch {
      assert.fail(`${this.who}: GET ${url} is not JSON (content-type ${res.headers()['content-type']}): ${text.slice(0, 400)}`);
    }
  }

  /**
   * Opens an event stream with this session's cookies and returns its status and content type
   * without waiting for the stream to end. (From Node, not from the page: a page's CSP, e.g. the
   * report's `default-src 'none'`, would refuse the fetch.)
   */
  async probeStream(url) {
    const href = new URL(url, this.baseURL).href;
    const cookie = (await this.context.cookies(href)).map((c) => `${c.name}=${c.value}`).join('; ');
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 10_000);
    try {
      const r = await fetch(href, { signal: ac.signal, redirect: 'manual', headers: { accept: 'text/event-stream', ...(cookie ? { cookie } : {}) } });
      return { status: r.status, contentType: r.headers.get('content-type') || '' };
    } catch (e) {
      return { status: 0, contentType: '', error: String(e) };
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  /** Screenshot and HTML of the current page into `dir`. */
  async dump(dir) {
    if (!this.page || this.page.isClosed()) return;
    const base = path.join(dir, this.who.replace(/[^a-z0-9_-]+/gi, '_'));
    await this.page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5_000 }).catch(() => {});
    const html = await this.page.content().catch(() => null);
    if (html !== null) fs.writeFileSync(`${base}.html`, `<!-- ${this.page.url()} -->\n${html}`);
  }

  async close() {
    if (this.context) await this.context.close().catch(() => {});
    this.context = null;
  }
}

module.exports = { launch, Session };
