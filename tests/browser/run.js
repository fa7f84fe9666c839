#!/usr/bin/env node
'use strict';
// `npm test`: build the sandkasse binary (fast when it is up to date), then run the journeys with
// Node's own test runner. Arguments pass through to `node --test`, e.g.
//   npm test --prefix tests/browser -- --test-name-pattern=keyboard
// Environment:
//   SANDKASSE_BROWSER_SKIP_BUILD=1  use <target dir>/debug/sandkasse as it is (CARGO_TARGET_DIR is honoured)
//   SANDKASSE_BIN=PATH              test another binary (implies no build)
//   SANDKASSE_CHROMIUM=PATH         another Chromium than /usr/bin/chromium

const { spawnSync } = require('node:child_process');
const path = require('node:path');
const paths = require('./lib/paths');

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) {
    console.error(`could not run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  return r.status ?? 1;
}

if (!process.env.SANDKASSE_BROWSER_SKIP_BUILD && !process.env.SANDKASSE_BIN) {
  const status = run('cargo', ['build', '-p', 'sandkasse-cli', '--bin', 'sandkasse'], { cwd: paths.repoRoot });
  if (status !== 0) {
    console.error('cargo build -p sandkasse-cli --bin sandkasse failed; the browser tests need the binary');
    process.exit(status);
  }
}

const status = run(process.execPath, [
  '--test',
  '--test-reporter=spec',
  ...process.argv.slice(2),
  path.join(__dirname, 'journeys.test.js'),
], { cwd: paths.suiteDir });
process.exit(status);
