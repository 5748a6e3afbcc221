// Fleet commands against the emulator as a Twilio-like fleet: 1,000 subaccounts, 50 ms latency per
// request, a concurrency limit of 20 per account family (429 + Retry-After 1 s past it).
// Measures, as ratios within the same run (median of RUNS):
//   create --all-subaccounts: wall vs the ideal of its requests (N x requests-per-account x 50 ms / 20);
//     the ideal 2.5 s counts one request per account, which is --allow-duplicate (no read);
//     the default ensure-semantics reads each account first (2 requests, ideal 5 s);
//   --concurrency 60 against the limit of 20: each account created exactly once, no failure;
//   list --all-subaccounts --output ndjson over 1,000 x 5 triggers: the first row arrives before the 20th
//     account's answer; peak RSS vs a single-account list.
// Run after `npx tsc -p .`:  node bench/fleet.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../dist/src/emulator/server.js';

const ACCOUNTS = 1000;
const LATENCY_MS = 50;
const LIMIT = 20;
const RUNS = Number(process.env.RUNS ?? 3);
const BIN = new URL('../bin/utrig', import.meta.url).pathname;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the CLI; resolves with exit code, wall seconds, peak RSS (KiB, from /usr/bin/time if present) and when the first stdout byte came. */
function cli(em, args, onFirstByte) {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH, UTRIG_API_URL: em.url, TWILIO_ACCOUNT_SID: em.accountSid, TWILIO_AUTH_TOKEN: em.authToken, UTRIG_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'utrig-bench-')), NO_COLOR: '1' };
    const started = performance.now();
    const c = spawn('/usr/bin/time', ['-f', '%M', process.execPath, BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let first = false;
    c.stdout.on('data', () => {
      if (!first) (first = true), onFirstByte?.();
    });
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => {
      const rss = Number(/(\d+)\s*$/.exec(err)?.[1] ?? NaN);
      resolve({ code, secs: (performance.now() - started) / 1000, rss, err });
    });
  });
}

async function create(concurrency, extra) {
  const em = await startEmulator({ subaccounts: ACCOUNTS, latencyMs: LATENCY_MS, concurrencyLimit: LIMIT, logEntries: 10 });
  try {
    const r = await cli(em, ['create', '--all-subaccounts', '--concurrency', String(concurrency), '--category', 'sms', '--value', '100', '--callback-url', 'https://example.com/x', '--output', 'ndjson', '--timeout', '120', ...extra]);
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}`);
    if (em.subaccountSids.some((s) => em.store.triggerCount(s) !== 1)) throw new Error('an account does not have exactly one trigger');
    return { secs: r.secs, summary: r.err.split('\n').find((l) => l.startsWith('create')) };
  } finally {
    await em.close();
  }
}

async function list() {
  let answered = 0;
  const em = await startEmulator({
    subaccounts: ACCOUNTS,
    latencyMs: LATENCY_MS,
    concurrencyLimit: LIMIT,
    logEntries: 10,
    onRequest: (r) => {
      if (r.status === 200 && r.path.endsWith('/Usage/Triggers.json')) answered++;
    },
  });
  try {
    for (const s of [em.accountSid, ...em.subaccountSids]) for (let i = 1; i <= 5; i++) em.store.createTrigger(s, { CallbackUrl: 'https://example.com/x', TriggerValue: String(i), UsageCategory: 'sms' });
    let answeredAtFirstRow = -1;
    const fleet = await cli(em, ['list', '--all-subaccounts', '--output', 'ndjson', '--concurrency', '20', '--timeout', '120'], () => {
      answeredAtFirstRow = answered;
    });
    if (fleet.code !== 0) throw new Error(fleet.err);
    const single = await cli(em, ['list', '--output', 'ndjson']);
    return { answeredAtFirstRow, rssFleet: fleet.rss, rssSingle: single.rss, secs: fleet.secs };
  } finally {
    await em.close();
  }
}

const rows = [];
for (const [concurrency, extra, perAccount] of process.env.ONLY === 'list' ? [] : [[20, ['--allow-duplicate'], 1], [20, [], 2], [60, ['--allow-duplicate'], 1], [60, [], 2]]) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await create(concurrency, extra));
  const secs = median(runs.map((r) => r.secs));
  const ideal = (ACCOUNTS * perAccount * LATENCY_MS) / LIMIT / 1000;
  rows.push([`create --all-subaccounts --concurrency ${concurrency} ${extra.join(' ')}`.trim(), `${secs.toFixed(2)} s = ${(secs / ideal).toFixed(2)} x ideal ${ideal} s (${perAccount} request/account); ${runs[0].summary}`]);
}
const lists = [];
for (let i = 0; i < RUNS; i++) lists.push(await list());
rows.push(['list --all-subaccounts ndjson, 1,000 x 5: answers before first row', lists.map((l) => l.answeredAtFirstRow).join('/')]);
rows.push(['list: peak RSS fleet / single-account', `${median(lists.map((l) => l.rssFleet / l.rssSingle)).toFixed(2)} x (${median(lists.map((l) => l.rssFleet))} / ${median(lists.map((l) => l.rssSingle))} KiB)`]);
rows.push(['list --all-subaccounts wall', `${median(lists.map((l) => l.secs)).toFixed(2)} s`]);
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
