// Start-up bench (issue 10): every figure is a ratio to `node -e 0` measured in the same run, each command
// spawned in a clean environment (only PATH, HOME and the emulator's variables: inherited ones such as
// NODE_EXTRA_CA_CERTS slow every node start), rows interleaved, warm-up runs dropped, then the median of
// --runs runs with min and max. Servers (two emulators, a paging server) run in a child process so their
// work does not share this process's event loop. Bounded: every run is killed after 30 s.
//   node bench/startup.mjs [--runs 15] [--warmup 2] [--only get,list1k] [--compare DIR ...] [--no-wizard]
// --compare DIR measures DIR's bin/utrig too (a built checkout, e.g. main), interleaved in the same run.
// Needs `npm run build` (the bundle, and dist/src for the emulator); the wizard row needs tmux.
// One file over 300 lines on purpose: it is its own server process (--serve), and both halves share the rows' data.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pagedTrigger } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------- servers (child process: --serve)
const ACCOUNT = 'AC' + 'a'.repeat(32);
const PAGES_TOTAL = 10_000;
const PAGE_SIZE = 1_000;

async function serve() {
  const { startEmulator } = await import(pathToFileURL(join(ROOT, 'dist', 'src', 'emulator', 'server.js')).href);
  const one = await startEmulator({ port: 0 });
  const thousand = await startEmulator({ port: 0 });
  const auth = (e) => 'Basic ' + Buffer.from(`${e.accountSid}:${e.authToken}`).toString('base64');
  const post = async (e, form) => {
    const res = await fetch(`${e.url}/2010-04-01/Accounts/${e.accountSid}/Usage/Triggers.json`, {
      method: 'POST',
      headers: { authorization: auth(e), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    if (res.status !== 201) throw new Error(`emulator answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  const form = (i) => ({ UsageCategory: 'sms', TriggerValue: String(100 + i), CallbackUrl: 'https://example.com/hook', FriendlyName: `bench ${i}` });
  const sid = (await post(one, form(0))).sid;
  for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => post(thousand, form(i + j))));
  // 10,000 synthetic rows in pages of 1,000: more than an account holds, to measure the streaming path
  const pages = createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const size = Number(u.searchParams.get('PageSize') ?? 50);
    const page = Number(u.searchParams.get('Page') ?? 0);
    const rows = [];
    for (let i = page * size; i < Math.min(PAGES_TOTAL, (page + 1) * size); i++) rows.push(pagedTrigger(ACCOUNT, i + 1));
    const next = (page + 1) * size < PAGES_TOTAL ? `/2010-04-01/Accounts/${ACCOUNT}/Usage/Triggers.json?PageSize=${size}&Page=${page + 1}` : null;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ usage_triggers: rows, next_page_uri: next, page, page_size: size }));
  });
  await new Promise((r) => pages.listen(0, '127.0.0.1', r));
  const creds = (e) => ({ UTRIG_API_URL: e.url, TWILIO_ACCOUNT_SID: e.accountSid, TWILIO_AUTH_TOKEN: e.authToken });
  process.stdout.write(
    JSON.stringify({
      one: creds(one),
      thousand: creds(thousand),
      pages: { UTRIG_API_URL: `http://127.0.0.1:${pages.address().port}`, TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: 'b'.repeat(32) },
      sid,
    }) + '\n',
  );
  // stop when the parent goes away (stdin closes), or after 20 minutes at most
  const stop = async () => {
    pages.close();
    await Promise.all([one.close(), thousand.close()]);
    process.exit(0);
  };
  process.stdin.on('end', stop).resume();
  setTimeout(stop, 20 * 60_000).unref();
}

// ---------------------------------------------------------------- measuring
function args(argv) {
  const o = { runs: 15, warmup: 2, only: undefined, compare: [], wizard: true, wizardRuns: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--warmup') o.warmup = Number(argv[++i]);
    else if (a === '--only') o.only = argv[++i].split(',');
    else if (a === '--compare') o.compare.push(resolve(argv[++i]));
    else if (a === '--no-wizard') o.wizard = false;
    else if (a === '--wizard-runs') o.wizardRuns = Number(argv[++i]);
    else throw new Error(`startup bench: unknown argument ${a}`);
  }
  if (!(o.runs >= 1)) throw new Error('--runs must be 1 or more');
  return o;
}

/** Runs a command; resolves to wall ms, ms to the first stdout byte, and stdout bytes. `time` wraps it to read peak RSS. */
function run(cmd, argv, env, { rss = false } = {}) {
  return new Promise((resolvePromise, reject) => {
    const [file, list] = rss ? ['/usr/bin/time', ['-f', 'RSS %M', cmd, ...argv]] : [cmd, argv];
    const started = performance.now();
    const child = spawn(file, list, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let first;
    let bytes = 0;
    let stderr = '';
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d) => {
      first ??= performance.now() - started;
      bytes += d.length;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      clearTimeout(kill);
      if (code !== 0) return reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
      const kib = /RSS (\d+)/.exec(stderr);
      resolvePromise({ ms, first: first ?? ms, bytes, rssMiB: kib ? Number(kib[1]) / 1024 : undefined });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Draws the wizard's first prompt in tmux; resolves to ms from the go signal to the prompt on screen. */
async function wizardOnce(tmux, dir, command, prompt, i) {
  const script = join(dir, `w${i}.sh`);
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(script, `read go\n${command.map(q).join(' ')}\nsleep 30\n`);
  const session = `w${i}`;
  let started = tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '40', `sh ${q(script)}`);
  if (started.status !== 0) {
    await new Promise((r) => setTimeout(r, 200));
    started = tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '40', `sh ${q(script)}`);
  }
  if (started.status !== 0) throw new Error(`tmux failed: ${started.stderr}`);
  const t0 = performance.now();
  tmux('send-keys', '-t', session, 'Enter');
  try {
    while (performance.now() - t0 < 10_000) {
      if ((tmux('capture-pane', '-p', '-t', session).stdout ?? '').includes(prompt)) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`wizard run ${i}: no "${prompt}" within 10 s`);
  } finally {
    tmux('kill-session', '-t', session);
  }
}

async function main() {
  const o = args(process.argv.slice(2));
  const roots = [{ label: 'this', dir: ROOT }, ...o.compare.map((d) => ({ label: basename(d), dir: d }))];
  if (roots.length > 1) roots[0].label = `this (${basename(ROOT)})`;
  const lines = [];
  let nodeFloor;
  if (!o.only || o.only.some((id) => id !== 'wizard')) {
    const m = await mainRows(o, roots);
    lines.push(...m.lines);
    nodeFloor = m.floorMs;
  }
  if (o.wizard && (!o.only || o.only.includes('wizard'))) {
    if (lines.length === 0) lines.push(`| command | ${roots.map((r) => `${r.label} (min–max)`).join(' | ')} | target |`, `|---|${roots.map(() => '---|').join('')}---|`);
    lines.push(...(await wizardRows(roots, o.wizardRuns ?? Math.min(o.runs, 10), o.warmup, nodeFloor)));
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** The bench's servers (two emulators, a paging server) in a child process; ends when its stdin closes. */
async function startServers() {
  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const info = await new Promise((resolvePromise, reject) => {
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolvePromise(JSON.parse(out));
    });
    server.on('exit', (code) => reject(new Error(`bench servers exited ${code}`)));
  });
  return { server, info };
}

/** Every row but the wizard's, as table lines. */
async function mainRows(o, roots) {
  const { server, info } = await startServers();
  const config = mkdtempSync(join(tmpdir(), 'utrig-bench-'));
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', UTRIG_CONFIG_DIR: config };
  // a profile stored as `utrig login` stores it (conf's tab-indented JSON), for the `get` through a profile row
  const profileDir = mkdtempSync(join(tmpdir(), 'utrig-bench-profile-'));
  const profile = { accountSid: info.one.TWILIO_ACCOUNT_SID, authToken: info.one.TWILIO_AUTH_TOKEN };
  writeFileSync(join(profileDir, 'config.json'), JSON.stringify({ profiles: { default: profile }, activeProfile: 'default' }, undefined, '\t'), { mode: 0o600 });
  const profileEnv = { PATH: base.PATH, HOME: base.HOME, UTRIG_CONFIG_DIR: profileDir, UTRIG_API_URL: info.one.UTRIG_API_URL };
  const node = process.execPath;
  const create = ['create', '--category', 'sms', '--value', '+30', '--callback-url', 'https://example.com/hook', '--json'];
  /** Rows: what to run, what to report (time, first byte or peak RSS) and the issue's target. */
  const rows = [
    { id: 'version', label: '`utrig --version`', argv: ['--version'], env: base, target: 1.3 },
    { id: 'help', label: '`utrig create --help`', argv: ['create', '--help'], env: base, target: 1.6 },
    { id: 'get', label: '`utrig get <UT…> --json`, running emulator', argv: ['get', info.sid, '--json'], env: { ...base, ...info.one }, target: 2.0 },
    { id: 'getprofile', label: '`utrig get <UT…> --json`, credentials from a stored profile', argv: ['get', info.sid, '--json'], env: profileEnv, target: 2.0 },
    { id: 'create', label: '`utrig create … --json`', argv: create, env: { ...base, ...info.one }, target: 2.2 },
    { id: 'list1k', label: '`utrig list --json`, 1,000 triggers, one page', argv: ['list', '--json'], env: { ...base, ...info.thousand }, target: 3.0, bytes: 400_000 },
    { id: 'ndjson', label: '`utrig list --output ndjson`, 10,000 rows, 10 pages: first row / whole', argv: ['list', '--output', 'ndjson'], env: { ...base, ...info.pages }, target: 2.5, targetWhole: 8, first: true, bytes: 4_000_000 },
    { id: 'rss', label: 'peak RSS of `get` (floor: `node -e 0`)', argv: ['get', info.sid, '--json'], env: { ...base, ...info.one }, target: 1.5, rss: true },
  ].filter((r) => !o.only || o.only.includes(r.id));
  const floor = { ms: [], rss: [] };
  const results = new Map(rows.flatMap((r) => roots.map((root) => [`${r.id}@${root.dir}`, { ms: [], first: [], rss: [] }])));
  const needRss = rows.some((r) => r.rss);
  const total = o.warmup + o.runs;
  try {
    for (let i = 0; i < total; i++) {
      const keep = i >= o.warmup;
      const f = await run(node, ['-e', '0'], base);
      if (keep) floor.ms.push(f.ms);
      if (needRss) {
        const fr = await run(node, ['-e', '0'], base, { rss: true });
        if (keep) floor.rss.push(fr.rssMiB);
      }
      for (const r of rows) {
        for (const root of roots) {
          const res = await run(node, [join(root.dir, 'bin', 'utrig'), ...r.argv], r.env, { rss: r.rss });
          if (r.bytes && res.bytes < r.bytes) throw new Error(`${r.id}: only ${res.bytes} bytes of output`);
          if (!keep) continue;
          const m = results.get(`${r.id}@${root.dir}`);
          m.ms.push(res.ms);
          m.first.push(res.first);
          if (res.rssMiB !== undefined) m.rss.push(res.rssMiB);
        }
      }
      process.stderr.write(`\rstartup bench: round ${i + 1}/${total}${keep ? '' : ' (warm-up)'}   `);
    }
  } finally {
    server.stdin.end();
    rmSync(config, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  }
  process.stderr.write('\n');

  const fMs = median(floor.ms);
  const ratio = (xs) => median(xs) / fMs;
  const range = (xs, div) => `${(Math.min(...xs) / div).toFixed(2)}–${(Math.max(...xs) / div).toFixed(2)}`;
  const head = roots.length > 1 ? roots.map((r) => r.label) : ['ratio'];
  const lines = [];
  lines.push(`floor \`node -e 0\`: median ${fMs.toFixed(1)} ms [${Math.min(...floor.ms).toFixed(1)}–${Math.max(...floor.ms).toFixed(1)}]` +
    (needRss ? `, peak RSS ${median(floor.rss).toFixed(1)} MiB` : '') + `; ${o.runs} runs after ${o.warmup} warm-up, node ${process.version}`);
  lines.push('');
  lines.push(`| command | ${head.map((h) => `${h} (min–max)`).join(' | ')} | target |`);
  lines.push(`|---|${head.map(() => '---|').join('')}---|`);
  for (const r of rows) {
    const cells = roots.map((root) => {
      const m = results.get(`${r.id}@${root.dir}`);
      if (r.rss) {
        const fr = median(floor.rss);
        return `${(median(m.rss) / fr).toFixed(2)}× (${range(m.rss, fr)}) ${median(m.rss).toFixed(0)} MiB`;
      }
      const whole = `${ratio(m.ms).toFixed(2)}× (${range(m.ms, fMs)})`;
      return r.first ? `${ratio(m.first).toFixed(2)}× (${range(m.first, fMs)}) / ${whole}` : whole;
    });
    const target = r.targetWhole ? `≤ ${r.target}× / ≤ ${r.targetWhole}×` : `≤ ${r.target}×`;
    lines.push(`| ${r.label} | ${cells.join(' | ')} | ${target} |`);
  }
  return { lines, floorMs: fMs };
}

/** The wizard row: process start to the category prompt on a real terminal (tmux), as a ratio to node drawing one line the same way. */
async function wizardRows(roots, runs, warmup, nodeFloorMs) {
  if (nodeFloorMs === undefined) {
    const xs = [];
    for (let i = 0; i < warmup + runs; i++) {
      const r = await run(process.execPath, ['-e', '0'], { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' });
      if (i >= warmup) xs.push(r.ms);
    }
    nodeFloorMs = median(xs);
  }
  if (spawnSync('sh', ['-c', 'command -v tmux'], { stdio: 'ignore' }).status !== 0) return ['', 'wizard: tmux is not installed; row skipped'];
  const dir = mkdtempSync(join(tmpdir(), 'utrig-bench-wiz-'));
  const socket = `utrig-bench-${process.pid}`;
  const tmux = (...a) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...a], { encoding: 'utf8', timeout: 5000 });
  // the wizard checks that its answers can be sent (one request) before its first prompt: a running emulator answers
  const { server, info } = await startServers();
  const env = ['env', '-i', `PATH=${process.env.PATH}`, `HOME=${process.env.HOME}`, 'TERM=xterm', 'NO_COLOR=1',
    ...Object.entries(info.one).map(([k, v]) => `${k}=${v}`), `UTRIG_CONFIG_DIR=${dir}`];
  const PROMPT = 'Usage category';
  const floor = [];
  const times = new Map(roots.map((r) => [r.dir, []]));
  let n = 0;
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const f = await wizardOnce(tmux, dir, [...env, process.execPath, '-e', `process.stdout.write(${JSON.stringify(PROMPT)})`], PROMPT, n++);
      if (i >= warmup) floor.push(f);
      for (const root of roots) {
        const t = await wizardOnce(tmux, dir, [...env, process.execPath, join(root.dir, 'bin', 'utrig'), 'create'], PROMPT, n++);
        if (i >= warmup) times.get(root.dir).push(t);
      }
    }
  } finally {
    server.stdin.end();
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
  const f = median(floor);
  // tmux's part (send-keys, a shell, polling the screen) is the tmux floor less node's own start: taken off,
  // what is left is comparable with `node -e 0`
  const overhead = Math.max(0, f - nodeFloorMs);
  const net = (x) => (x - overhead) / nodeFloorMs;
  const cells = roots.map((r) => {
    const xs = times.get(r.dir);
    return `${net(median(xs)).toFixed(2)}× (${net(Math.min(...xs)).toFixed(2)}–${net(Math.max(...xs)).toFixed(2)}); ${(median(xs) / f).toFixed(2)}× the tmux floor`;
  });
  return [
    `| wizard: process start to the category prompt drawn (tmux, ${runs} runs; tmux floor: node drawing one line there, ${f.toFixed(0)} ms, whose excess over \`node -e 0\` is taken off) | ${cells.join(' | ')} | ≤ 3× |`,
  ];
}

if (process.argv[2] === '--serve') await serve();
else await main();
