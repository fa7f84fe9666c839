'use strict';
// Small waits the journeys share: submitting a form and waiting for the page it leads to, and
// reading ids out of paths.

const assert = require('node:assert/strict');

/**
 * Clicks `selector` and waits until the page it leads to has loaded (a re-rendered form, or
 * wherever a redirect goes). Fails if that page answered with a server error (5xx) or nothing
 * loaded. Returns the final document response (or null) and the new path.
 */
async function clickAndLoad(page, selector, what, timeout) {
  let last = null;
  const onResponse = (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) last = r;
  };
  page.on('response', onResponse);
  try {
    const loaded = page.waitForEvent('load', { timeout });
    await page.click(selector);
    try {
      await loaded;
    } catch {
      assert.fail(`${what} did not load a new page within ${timeout / 1000} s ` +
        `(still at ${page.url()}; blocked by client-side validation, or the server is slow?)`);
    }
  } finally {
    page.off('response', onResponse);
  }
  const path = new URL(page.url()).pathname;
  if (last && last.status() >= 500) {
    const body = (await last.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
    assert.fail(`${what} led to ${path}, which answered ${last.status()}: ${body}`);
  }
  return { response: last, path };
}

/** Submits a form by clicking its button `selector`; see clickAndLoad. */
async function submit(page, selector, { timeout = 30_000, what = selector } = {}) {
  return clickAndLoad(page, selector, `submitting ${what}`, timeout);
}

/** Clicks the visible link `selector` and waits for the page it opens; returns the link's href. */
async function follow(page, selector, { timeout = 30_000 } = {}) {
  const link = page.locator(selector).first();
  await link.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
    assert.fail(`no visible ${selector} on ${page.url()}`);
  });
  const href = await link.getAttribute('href');
  const { response } = await clickAndLoad(page, selector, `following ${selector} (${href})`, timeout);
  if (response && response.status() >= 400) {
    assert.fail(`following ${selector} (${href}) answered ${response.status()}`);
  }
  return href;
}

/** The id in `/prefix/{id}` of `url`, or a failure naming what was expected. */
function idFrom(url, prefix) {
  const { pathname } = new URL(url);
  const m = new RegExp(`^${prefix.replace(/\//g, '\\/')}\\/([^/?#]+)\\/?$`).exec(pathname);
  assert.ok(m, `expected to be at ${prefix}/{id}, but the browser is at ${pathname}`);
  return decodeURIComponent(m[1]);
}

/** Attribute values of every element matching `selector`. */
async function attrs(page, selector, name) {
  return page.locator(selector).evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name);
}

/** The text of every table row matching `selector`, cells joined with " | ", plus its `attr`. */
async function rows(page, selector, attr) {
  return page.locator(selector).evaluateAll((trs, a) => trs.map((r) => ({
    key: a ? r.getAttribute(a) : null,
    text: Array.from(r.cells || [r]).map((c) => c.textContent.replace(/\s+/g, ' ').trim()).join(' | '),
  })), attr);
}

module.exports = { submit, follow, idFrom, attrs, rows };
