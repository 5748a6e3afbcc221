// Persistence benchmark: kill -9 rounds, concurrent --local writers, write throughput with 100,000
// triggers in the state. Bounded in time and count; exits by itself. Run after `npm run build`:
//   node bench/persistence.mjs [--rounds 10] [--writers 4] [--creates 50] [--seconds 3] [--runs 3]
//     [--parts crash,local,throughput]
// Each part runs subprocesses of the built CLI with a clean environment (PATH, HOME, NO_COLOR and
// UTRIG_CONFIG_DIR only).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from '../dist/src/emulator/server.js';
import { BIN } from '../dist/test/helpers.js';
import { apiCall, crashRound, listSids, spawnEmulator } from '../dist/test/persistence-helpers.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    writers: { type: 'string', default: '4' },
    creates: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    parts: { type: 'string', default: 'crash,local,throughput' },
  },
});
const ROUNDS = Number(args.rounds);
const WRITERS = Number(args.writers);
const CREATES = Number(args.creates);
const SECONDS = Number(args.seconds);
const RUNS = Number(args.runs);
const PARTS = new Set(args.parts.split(','));
const dir = mkdtempSync(join(tmpdir(), 'utrig-bench-persist-'));
const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const form = { UsageCategory: 'sms', TriggerValue: '100', CallbackUrl: 'http://127.0.0.1:9/hook' };

// ---- 1. kill -9 during a stream of creates and deletes ----
async function crashBench() {
  const statePath = join(dir, 'crash.json');
  const ledger = new Map();
  let em = await spawnEmulator(statePath, { env: cleanEnv });
  const rows = [];
  let corrupt = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const ms = 300 + Math.floor(Math.random() * 1200);
    try {
      const { round, em: next } = await crashRound(em, statePath, ledger, ms, 8);
      em = next;
      rows.push({ round: i + 1, ms, ...round });
    } catch (err) {
      corrupt++;
      console.error(`round ${i + 1}: restart failed: ${err.message.split('\n')[0]}`);
      break;
    }
  }
  await em.kill9().catch(() => undefined);
  const orphans = readdirSync(dir).filter((f) => f.startsWith('crash.json.tmp-')).length;
  console.log('\nkill -9 rounds (8 clients creating and deleting, killed after the given ms)');
  console.table(rows);
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  return { crashes: rows.length, acknowledged: sum('creates') + sum('deletes'), lost: sum('lost') + sum('resurrected'), corrupt, orphans };
}

// ---- 2. concurrent --local writers ----
function runCli(argv, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

async function localBench() {
  const env = { UTRIG_CONFIG_DIR: join(dir, 'local') };
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let i = 0; i < CREATES; i++) {
        const r = await runCli(['--local', 'create', '--category', 'sms', '--value', '5', '--callback-url', 'http://127.0.0.1:9/h', '--json'], env);
        if (r.code !== 0) failures++;
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  const l = await runCli(['--local', 'list', '--output', 'ndjson'], env);
  const kept = l.out.trim() === '' ? 0 : l.out.trim().split('\n').length;
  return { writers: WRITERS, creates: WRITERS * CREATES, kept, failures, secs: secs.toFixed(1) };
}

// ---- 3. write throughput, memory vs state file, empty vs 100,000 triggers ----
async function buildBigState(path) {
  const em = await startEmulator({ statePath: path, subaccounts: 100 });
  for (const sub of em.subaccountSids) {
    for (let i = 0; i < 1000; i++) em.store.createTrigger(sub, { ...form, TriggerValue: String(1e6 + i), Recurring: ['daily', 'monthly', ''][i % 3] });
  }
  await em.close();
}

/** Creates per second from 16 clients for SECONDS, into fresh subaccounts (1,000 triggers each at most). */
async function createRate(em) {
  const accounts = [];
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${em.url}/emulator/accounts`, { method: 'POST' });
    accounts.push((await res.json()).sid);
  }
  let n = 0;
  let issued = 0;
  let failed = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < deadline) {
        // 990 per account: requests in flight never push one past its 1,000
        const account = accounts[Math.floor(issued++ / 990)];
        if (!account) return;
        const r = await apiCall(em, 'POST', `/2010-04-01/Accounts/${account}/Usage/Triggers.json`, form);
        if (r.status === 201) n++;
        else failed++;
      }
    }),
  );
  if (failed > 0) console.error(`${failed} creates failed`);
  return n / ((performance.now() - started) / 1000);
}

async function throughputBench() {
  const big = join(dir, 'big.json');
  const t0 = performance.now();
  await buildBigState(big);
  const buildSecs = (performance.now() - t0) / 1000;
  const cases = [
    ['memory (no --state), floor', null],
    ['--state, empty', join(dir, 'empty.json')],
    ['--state, 100,000 triggers', big],
  ];
  // runs interleave the cases, so that load from elsewhere drifts over all of them alike
  const rates = cases.map(() => []);
  const starts = cases.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    for (const [i, [, path]] of cases.entries()) {
      const s0 = performance.now();
      const em = path ? await spawnEmulator(path, { env: cleanEnv }) : await spawnMemory();
      starts[i].push((performance.now() - s0) / 1000);
      rates[i].push(await createRate(em));
      await em.stop();
      if (path === join(dir, 'empty.json')) rmSync(path, { force: true });
    }
  }
  const floor = median(rates[0]);
  const rows = cases.map(([name], i) => ({
    case: name,
    'creates/s (median)': Math.round(median(rates[i])),
    'ratio to floor': (median(rates[i]) / floor).toFixed(2),
    'start s (median)': median(starts[i]).toFixed(2),
  }));
  console.log(`\nwrite throughput: 16 clients, ${SECONDS} s per run, median of ${RUNS}, interleaved (state of 100,000 triggers built in ${buildSecs.toFixed(1)} s)`);
  console.table(rows);
  const sids = await (async () => {
    const em = await spawnEmulator(big, { env: cleanEnv });
    const s = await listSids(em);
    await em.stop();
    return s;
  })();
  return sids;
}

async function spawnMemory() {
  // the same command without --state
  const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0'], { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 300 && !(/listening on/.test(err) && /TWILIO_AUTH_TOKEN=\S+/.test(out)); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    url: /listening on (http:\/\/\S+)/.exec(err)[1],
    accountSid: /TWILIO_ACCOUNT_SID=(\S+)/.exec(out)[1],
    authToken: /TWILIO_AUTH_TOKEN=(\S+)/.exec(out)[1],
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

try {
  if (PARTS.has('crash')) {
    const crash = await crashBench();
    console.log('\nkill -9 summary');
    console.table([crash]);
  }
  if (PARTS.has('local')) {
    const local = await localBench();
    console.log(`\nconcurrent --local writers (${WRITERS} processes x ${CREATES} creates each)`);
    console.table([local]);
  }
  if (PARTS.has('throughput')) await throughputBench();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
