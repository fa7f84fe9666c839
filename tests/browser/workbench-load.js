#!/usr/bin/env node
'use strict';
// The hosted sandbox under load (docs/performance.md, "Hosted sandboxes"): one organisation
// hammers its sandbox while another organisation's person loads pages; prints what each got.
//
//   node tests/browser/workbench-load.js [seconds] [parallel]
//
// Starts `sandkasse serve` over a fresh data directory like the browser tests (the same binary:
// SANDKASSE_BIN, else <target dir>/debug/sandkasse), seeded with the two organisations. Any
// SANDKASSE__WORKBENCH__* variable in the environment reaches the server, e.g.
// SANDKASSE__WORKBENCH__REQUESTS_PER_SECOND=1000 to measure what a sandbox can answer.

const { Markedsplass } = require('./lib/server');
const { users } = require('./lib/accounts');

const SECONDS = Number(process.argv[2] || 20);
const PARALLEL = Number(process.argv[3] || 16);

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return `n=${s.length} p50=${percentile(s, 50).toFixed(1)} ms p99=${percentile(s, 99).toFixed(1)} ms max=${s[s.length - 1].toFixed(1)} ms`;
}

async function main() {
  const server = new Markedsplass();
  await server.start();
  try {
    const token = (u) => server.cli(['admin', 'create-token', '--username', u.username]).trim();
    const kari = token(users.kari);
    const ola = token(users.ola);
    const launch = async (apiToken) => {
      const r = await fetch(`${server.url}/api/v1/sandbox/launch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kommune: '4601', patient_kind: 'with-relation' }),
      });
      if (r.status !== 201) throw new Error(`launch answered ${r.status}: ${await r.text()}`);
      return r.json();
    };
    const a = await launch(kari);
    await launch(ola); // builds B's sandbox, so its pages measure pages, not a first build
    const read = `${a.fhir_base}/Observation?patient=${a.context.patient}&_count=20`;
    const pages = [`${server.url}/leverandor/sandkasse`, `${server.url}/`, `${server.url}/leverandor`];

    /** Ola's pages, one after the other, for `seconds`: their latencies. */
    const browse = async (seconds) => {
      const ms = [];
      const until = Date.now() + seconds * 1000;
      for (let i = 0; Date.now() < until; i += 1) {
        const t0 = performance.now();
        const r = await fetch(pages[i % pages.length], { headers: { authorization: `Bearer ${ola}` } });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`${pages[i % pages.length]} answered ${r.status}`);
        ms.push(performance.now() - t0);
      }
      return ms;
    };

    const quiet = await browse(Math.min(10, SECONDS));
    const counts = {};
    let stop = false;
    const hammer = async () => {
      while (!stop) {
        const r = await fetch(read, { headers: { authorization: `Bearer ${a.access_token}`, accept: 'application/fhir+json' } });
        await r.arrayBuffer();
        counts[r.status] = (counts[r.status] || 0) + 1;
      }
    };
    const t0 = Date.now();
    const hammers = Array.from({ length: PARALLEL }, hammer);
    const loaded = await browse(SECONDS);
    stop = true;
    await Promise.all(hammers);
    const elapsed = (Date.now() - t0) / 1000;
    const rate = (n) => ((n || 0) / elapsed).toFixed(1);
    console.log(`organisation A, ${PARALLEL} clients without pause for ${elapsed.toFixed(1)} s on ${read.replace(server.url, '')}:`);
    console.log(`  answered 200: ${rate(counts[200])}/s, 429: ${rate(counts[429])}/s, other: ${JSON.stringify(Object.fromEntries(Object.entries(counts).filter(([s]) => s !== '200' && s !== '429')))}`);
    console.log(`organisation B's pages (${pages.map((p) => p.replace(server.url, '')).join(', ')}), one after the other:`);
    console.log(`  alone:            ${summary(quiet)}`);
    console.log(`  while A hammers:  ${summary(loaded)}`);
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
