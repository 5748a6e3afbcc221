// utrig plan over a Twilio-like fleet: 1,000 subaccounts x 5 triggers, 50 ms latency per request, a
// concurrency limit of 20 per account family (429 + Retry-After 1 s past it), plan at --concurrency 20.
// Measures, median of RUNS, as ratios within the same run:
//   steady state (every trigger matches the policy): 1 trigger list per account, plus the accounts list;
//   drift (every account lacks one trigger): plus one Usage Records read per account for the warning;
//   wall vs the ideal, requests x latency / concurrency (requests counted in the emulator's log), and the
//   engine's own time (from the summary line: no start-up, no accounts list) vs the same ideal;
//   peak RSS at 250, 1,000, 2,000, 4,000 and 8,000 accounts (flat in the number of accounts once V8's heap has
//   grown to its working size: the plan is streamed).
// Run after `npx tsc -p .`:  node bench/plan.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../dist/src/emulator/server.js';

const LATENCY_MS = 50;
const LIMIT = 20;
const RUNS = Number(process.env.RUNS ?? 3);
const BIN = new URL('../bin/utrig', import.meta.url).pathname;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'utrig-bench-plan-'));
const NAMES = ['a', 'b', 'c', 'd', 'e'];
const POLICY = join(dir, 'policy.yaml');
writeFileSync(
  POLICY,
  `accounts: { all_subaccounts: true }\ntriggers:\n${NAMES.map((n, i) => `  - { name: ${n}, category: sms, value: ${i + 1}00, recurring: daily, callback_url: "https://example.com/${n}" }`).join('\n')}\n`,
);

/** Runs the CLI; resolves with exit code, wall seconds and peak RSS (KiB, from /usr/bin/time). */
function cli(em, args) {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH, UTRIG_API_URL: em.url, TWILIO_ACCOUNT_SID: em.accountSid, TWILIO_AUTH_TOKEN: em.authToken, UTRIG_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'utrig-bench-')), NO_COLOR: '1' };
    const started = performance.now();
    const c = spawn('/usr/bin/time', ['-f', '%M', process.execPath, BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = 0;
    c.stdout.on('data', (d) => (out += d.length));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, secs: (performance.now() - started) / 1000, rss: Number(/(\d+)\s*$/.exec(err)?.[1] ?? NaN), err, out }));
  });
}

async function plan(accounts, drift) {
  let requests = 0;
  const em = await startEmulator({ subaccounts: accounts, latencyMs: LATENCY_MS, concurrencyLimit: LIMIT, logEntries: 10, onRequest: () => requests++ });
  try {
    for (const s of em.subaccountSids) {
      NAMES.forEach((n, i) => {
        if (drift && i === 0) return;
        em.store.createTrigger(s, { CallbackUrl: `https://example.com/${n}`, TriggerValue: `${i + 1}00`, UsageCategory: 'sms', Recurring: 'daily', FriendlyName: `utrig:${n}` });
      });
    }
    const r = await cli(em, ['plan', '-f', POLICY, '--json', '--concurrency', String(LIMIT), '--timeout', '120']);
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err}`);
    const ideal = (requests * LATENCY_MS) / LIMIT / 1000;
    const summary = r.err.split('\n').find((l) => l.startsWith('plan'));
    // the engine's own time, from the summary line ("… 1000 requests in 3.1 s"): wall less start-up and the accounts list
    const engine = Number(/ in ([\d.]+) s$/.exec(summary ?? '')?.[1] ?? NaN);
    return { secs: r.secs, engine, requests, ideal, rss: r.rss, summary };
  } finally {
    await em.close();
  }
}

const rows = [];
for (const drift of [false, true]) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await plan(1000, drift));
  const ratio = median(runs.map((r) => r.secs / r.ideal));
  const r0 = runs[0];
  rows.push([
    `plan, 1,000 x 5, ${drift ? 'one trigger missing everywhere' : 'no changes'}`,
    `wall ${median(runs.map((r) => r.secs)).toFixed(2)} s = ${ratio.toFixed(2)} x ideal ${r0.ideal.toFixed(2)} s (${r0.requests} requests); ` +
      `engine ${median(runs.map((r) => r.engine)).toFixed(2)} s = ${median(runs.map((r) => r.engine / r.ideal)).toFixed(2)} x`,
  ]);
}
const small = [];
const big = [];
for (let i = 0; i < RUNS; i++) {
  small.push(await plan(250, true));
  big.push(await plan(1000, true));
}
rows.push(['plan peak RSS, 1,000 / 250 accounts', `${median(big.map((r, i) => r.rss / small[i].rss)).toFixed(2)} x (${median(big.map((r) => r.rss))} / ${median(small.map((r) => r.rss))} KiB)`]);
// 250 -> 1,000 includes V8 sizing its heap up (young generation to its 16 MB semi-space, old generation
// to its next limit) with what it allocates, not what is kept: 1,000 -> 2,000 shows whether anything is kept
const huge = [];
for (let i = 0; i < RUNS; i++) huge.push(await plan(2000, true));
rows.push(['plan peak RSS, 2,000 / 1,000 accounts', `${median(huge.map((r, i) => r.rss / big[i].rss)).toFixed(2)} x (${median(huge.map((r) => r.rss))} / ${median(big.map((r) => r.rss))} KiB)`]);
// what is kept per account (its SID and name, ~0.6 MB per 1,000) moves V8's next collection a little later each time
const giant = [];
for (let i = 0; i < RUNS; i++) giant.push(await plan(4000, true));
rows.push(['plan peak RSS, 4,000 / 2,000 accounts', `${median(giant.map((r, i) => r.rss / huge[i].rss)).toFixed(2)} x (${median(giant.map((r) => r.rss))} / ${median(huge.map((r) => r.rss))} KiB)`]);
const titan = [];
for (let i = 0; i < RUNS; i++) titan.push(await plan(8000, true));
rows.push(['plan peak RSS, 8,000 / 4,000 accounts', `${median(titan.map((r, i) => r.rss / giant[i].rss)).toFixed(2)} x (${median(titan.map((r) => r.rss))} / ${median(giant.map((r) => r.rss))} KiB)`]);
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
