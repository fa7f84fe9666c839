'use strict';
// Accessibility check of the page as it is now: axe-core with the WCAG 2.0/2.1 A and AA rules.
// Fails on violations of impact "serious" or "critical"; lesser ones are only counted.

const fs = require('node:fs');

const axePath = require.resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const FAILING = new Set(['serious', 'critical']);

let axeSource = null;

async function injectAxe(page) {
  if (await page.evaluate(() => typeof window.axe === 'object')) return;
  // A strict Content-Security-Policy (no inline scripts) refuses the injected tag; evaluating the
  // source through the DevTools protocol is not subject to the page's CSP, so fall back to that.
  await page.addScriptTag({ path: axePath }).catch(() => {});
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    axeSource ??= fs.readFileSync(axePath, 'utf8');
    await page.evaluate(axeSource);
  }
}

function describe(violations) {
  return violations.map((v) => {
    const nodes = v.nodes.slice(0, 8).map((n) => {
      const target = n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' ');
      const why = (n.failureSummary || '').split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' / ');
      return `      - ${target}${why ? `\n        ${why}` : ''}`;
    });
    if (v.nodes.length > 8) nodes.push(`      … and ${v.nodes.length - 8} more`);
    return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes.join('\n')}`;
  }).join('\n');
}

/**
 * Runs axe on `page` and throws if anything serious or critical is found. `label` names the page in
 * the message (the URL is added).
 */
async function checkA11y(page, label = '') {
  // A page may replace itself while axe runs (the run page reloads when its run finishes): then
  // check the new page.
  let result;
  for (let attempt = 1; ; attempt++) {
    try {
      result = await runAxe(page);
      break;
    } catch (e) {
      if (attempt >= 3 || !/context was destroyed|navigat/i.test(e.message)) throw e;
      await page.waitForLoadState('load');
    }
  }
  const failing = result.filter((v) => FAILING.has(v.impact));
  if (failing.length > 0) {
    const where = `${label ? `${label} ` : ''}(${page.url()})`;
    throw new Error(`accessibility: ${failing.length} serious/critical WCAG 2.1 AA violation(s) on ${where}:\n${describe(failing)}`);
  }
  return { minor: result.length };
}

async function runAxe(page) {
  await page.waitForLoadState('load');
  await injectAxe(page);
  return page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  }, TAGS);
}

module.exports = { checkA11y };
