'use strict';
// Where things are, relative to this suite (tests/browser/ is two levels below the repo root).

const fs = require('node:fs');
const path = require('node:path');

const suiteDir = path.resolve(__dirname, '..');
const repoRoot = path.resolve(suiteDir, '..', '..');

/** Cargo's target directory: CARGO_TARGET_DIR (relative to the repo root, where run.js builds) or `target`. */
const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR)
  : path.join(repoRoot, 'target');

/** The sandkasse binary; SANDKASSE_BIN overrides the default `<target dir>/debug/sandkasse`. */
const binary = process.env.SANDKASSE_BIN
  ? path.resolve(process.env.SANDKASSE_BIN)
  : path.join(targetDir, 'debug', 'sandkasse');

/** Where `cargo xtask plugins` puts the sample adapters. */
const pluginDir = path.join(repoRoot, 'plugins', 'target', 'wasm32-wasip2', 'release');

/** The Chromium to drive; SANDKASSE_CHROMIUM overrides Debian's. Never a downloaded one. */
const chromium = process.env.SANDKASSE_CHROMIUM || '/usr/bin/chromium';

/** Failure artefacts (screenshots, HTML, server log) land here; ignored by git. */
const artifactsDir = path.join(suiteDir, 'artifacts');

/**
 * The path of a sample adapter component, e.g. `component('reference')`, or an error that says how
 * to build it.
 */
function component(name) {
  const file = path.join(pluginDir, `${name}.wasm`);
  if (!fs.existsSync(file)) {
    throw new Error(`the sample adapter ${path.relative(repoRoot, file)} is missing — run: cargo xtask plugins`);
  }
  return file;
}

/** Every `flawed_*.wasm` sample adapter that is built (names without `.wasm`), sorted. */
function flawedComponents() {
  if (!fs.existsSync(pluginDir)) return [];
  return fs.readdirSync(pluginDir)
    .filter((f) => /^flawed_.*\.wasm$/.test(f))
    .map((f) => f.replace(/\.wasm$/, ''))
    .sort();
}

module.exports = { suiteDir, repoRoot, binary, pluginDir, chromium, artifactsDir, component, flawedComponents };
