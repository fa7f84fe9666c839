'use strict';
// A throwaway markedsplass: a fresh data directory seeded with the accounts in ./accounts.js through
// the CLI, and `sandkasse serve` on an ephemeral port over it.

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const paths = require('./paths');
const { orgs, users } = require('./accounts');

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const LOG_LINES_KEPT = 400;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** Runs `sandkasse ARGS… --data-dir DIR`, failing with the command's own output. */
function cli(dataDir, args, env = {}) {
  try {
    return execFileSync(paths.binary, [...args, '--data-dir', dataDir], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (e) {
    const out = `${e.stdout || ''}${e.stderr || ''}`.trim();
    throw new Error(`\`sandkasse ${args.join(' ')}\` failed (${e.status ?? e.signal ?? e.message}):\n${out}`);
  }
}

/** Creates both vendor organisations and every user of ./accounts.js in `dataDir`. */
function seed(dataDir) {
  for (const name of Object.values(orgs)) cli(dataDir, ['admin', 'create-org', name]);
  for (const u of Object.values(users)) {
    const args = ['admin', 'create-user', '--username', u.username, '--role', u.role];
    if (u.org) args.push('--org', u.org);
    cli(dataDir, args, { SANDKASSE_PASSWORD: u.password });
  }
}

class Markedsplass {
  constructor() {
    this.dataDir = null;
    this.url = null;
    this.child = null;
    this.log = [];
    this.lines = 0; // lines written so far (the log keeps only the last LOG_LINES_KEPT)
    this.exited = null; // { code, signal } once the process is gone
    this._onExit = () => { if (this.child && !this.exited) this.child.kill('SIGKILL'); };
  }

  /** Makes the data directory, seeds it and starts the server; resolves once it printed its URL. */
  async start() {
    if (!fs.existsSync(paths.binary)) {
      throw new Error(`${paths.binary} does not exist — run: cargo build -p sandkasse-cli --bin sandkasse`);
    }
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandkasse-browser-'));
    seed(this.dataDir);

    this.child = spawn(paths.binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir], {
      env: { ...process.env, SANDKASSE_NO_CACHE: '1', SANDKASSE__WORKERS: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    process.on('exit', this._onExit);

    this.url = await new Promise((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => {
        reject(new Error(`sandkasse serve printed no http://127.0.0.1:PORT line within ${START_TIMEOUT_MS / 1000} s.\n`
          + `stdout so far: ${JSON.stringify(stdout)}\nlog:\n${this.logTail(40)}`));
      }, START_TIMEOUT_MS);
      this.child.stdout.setEncoding('utf8');
      this.child.stdout.on('data', (chunk) => {
        this._keep(chunk);
        stdout += chunk;
        const m = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout);
        if (m) { clearTimeout(timer); resolve(m[0]); }
      });
      this.child.stderr.setEncoding('utf8');
      this.child.stderr.on('data', (chunk) => this._keep(chunk));
      this.child.on('error', (e) => { clearTimeout(timer); reject(new Error(`could not start ${paths.binary}: ${e.message}`)); });
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        clearTimeout(timer);
        reject(new Error(`sandkasse serve exited (code ${code}, signal ${signal}) before printing its URL.\nlog:\n${this.logTail(40)}`));
      });
    });
    return this.url;
  }

  _keep(chunk) {
    for (const line of chunk.replace(ANSI, '').split('\n')) {
      if (line.trim() === '') continue;
      this.log.push(line);
      this.lines += 1;
    }
    if (this.log.length > LOG_LINES_KEPT) this.log.splice(0, this.log.length - LOG_LINES_KEPT);
  }

  /** The last `n` lines the server wrote (stdout and stderr interleaved). */
  logTail(n = 60) {
    return this.log.slice(-n).join('\n');
  }

  /** The kept lines written after the first `since` lines (see `lines`). */
  logSince(since) {
    const n = this.lines - since;
    return n <= 0 ? [] : this.log.slice(-Math.min(n, this.log.length));
  }

  /** Runs a CLI command against the same data directory (e.g. `admin verify-audit`). */
  cli(args, env) {
    return cli(this.dataDir, args, env);
  }

  /** SIGTERM, then SIGKILL after 5 s; then removes the data directory. Safe to call twice. */
  async stop() {
    const child = this.child;
    if (child && !this.exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!this.exited) child.kill('SIGKILL'); }, STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
    }
    process.removeListener('exit', this._onExit);
    if (this.dataDir) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
      this.dataDir = null;
    }
  }
}

module.exports = { Markedsplass, seed };
