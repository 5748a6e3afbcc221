// CLI benchmark: start-up as a ratio to `node -e 0` (bench/startup.mjs has the full start-up table), and memory of
// `utrig list --output ndjson` over 1k/10k/50k rows
// served by a synthetic paging server on loopback (an account holds 1,000 triggers; the server
// ignores that so the streaming path is measured). Bounded; exits by itself.
// Run after `npm run build`:  node bench/cli.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pagedTrigger } from './lib.mjs';

const BIN = new URL('../bin/utrig', import.meta.url).pathname;
const ACCOUNT = 'AC' + 'a'.repeat(32);
const env = { PATH: process.env.PATH, TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: 'b'.repeat(32), UTRIG_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'utrig-bench-')) };

let total = 0;
const server = createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const size = Number(u.searchParams.get('PageSize') ?? 50);
  const page = Number(u.searchParams.get('Page') ?? 0);
  const start = page * size;
  const rows = [];
  for (let i = start; i < Math.min(total, start + size); i++) rows.push(pagedTrigger(ACCOUNT, i + 1));
  const next = start + size < total ? `/2010-04-01/Accounts/${ACCOUNT}/Usage/Triggers.json?PageSize=${size}&Page=${page + 1}` : null;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ usage_triggers: rows, next_page_uri: next, page, page_size: size }));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
env.UTRIG_API_URL = `http://127.0.0.1:${server.address().port}`;

/** Runs the CLI; returns wall ms, ms to the first stdout byte, lines, and peak RSS (VmHWM) in MiB. */
function run(args, cmd = [BIN]) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...cmd, ...args], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let first = null;
    let lines = 0;
    let hwm = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]) / 1024);
      } catch {}
    }, 5);
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d) => {
      first ??= performance.now() - started;
      for (const b of d) if (b === 10) lines++;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(kill);
      if (code !== 0) return reject(new Error(`utrig ${args.join(' ')} exited ${code}`));
      resolve({ ms: performance.now() - started, first, lines, hwm });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const floor = [];
const startup = [];
const cats = [];
for (let i = 0; i < 12; i++) {
  const f = (await run(['-e', '0'], [])).ms;
  const v = (await run(['--version'])).ms;
  const c = (await run(['categories', 'sms', '--json'])).ms;
  if (i < 2) continue; // warm-up
  floor.push(f);
  startup.push(v);
  cats.push(c);
}
const ratio = (xs) => `${(median(xs) / median(floor)).toFixed(2)}× (${(Math.min(...xs) / median(floor)).toFixed(2)}–${(Math.max(...xs) / median(floor)).toFixed(2)})`;

console.log(`floor \`node -e 0\`: median ${median(floor).toFixed(0)} ms of 10 runs after 2 warm-up`);
console.log('| measure | result |');
console.log('|---|---|');
console.log(`| \`utrig --version\`, ratio to the floor (median, min–max) | ${ratio(startup)} |`);
console.log(`| \`utrig categories sms --json\`, ratio to the floor | ${ratio(cats)} |`);
for (const n of [1_000, 10_000, 50_000]) {
  total = n;
  const r = await run(['list', '--output', 'ndjson']);
  if (r.lines !== n) throw new Error(`expected ${n} lines, got ${r.lines}`);
  console.log(`| \`list --output ndjson\`, ${n.toLocaleString('en')} rows in pages of 1,000 | ${r.ms.toFixed(0)} ms total, first row at ${r.first.toFixed(0)} ms, peak RSS ${r.hwm.toFixed(0)} MiB |`);
}
server.close();
