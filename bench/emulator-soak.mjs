// Emulator soak: sustained mixed traffic against one emulator, sampling its memory.
// API CRUD, trigger lists, usage posts, 1 MiB unauthenticated bodies (answered 413) and wrong
// credentials (401), from 16 connections, for --seconds N (default 300). The emulator runs in a
// child process so its RSS is its own; state stays small (each create is deleted again), so what
// grows is what the traffic leaves behind. Bounded in time; exits by itself.
// Run after `npm run build`:  env -i PATH="$PATH" node bench/emulator-soak.mjs [--seconds 300]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const { startEmulator } = await import('../dist/src/emulator/server.js');
  const em = await startEmulator({ port: 0 });
  process.on('message', (m) => {
    if (m === 'sample') {
      const mu = process.memoryUsage();
      process.send({ rss: mu.rss, heap: mu.heapUsed, triggers: em.store.triggers.size, log: em.requests.length });
    } else if (m === 'stop') em.close().then(() => process.exit(0));
  });
  process.send({ url: em.url, accountSid: em.accountSid, authToken: em.authToken });
} else {
  await main();
}

async function main() {
  const i = process.argv.indexOf('--seconds');
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 300;
  if (!Number.isFinite(seconds) || seconds < 5 || seconds > 3600) {
    console.error('--seconds must be a number from 5 to 3600');
    process.exit(2);
  }
  const { Pool } = await import('undici');
  const child = fork(SELF, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const killTimer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  const info = await new Promise((r) => child.once('message', r));
  const replies = [];
  child.on('message', (m) => replies.shift()?.(m));
  const sample = () => new Promise((r) => { replies.push(r); child.send('sample'); });

  const CONNECTIONS = 16;
  const pool = new Pool(info.url, { connections: CONNECTIONS, pipelining: 1 });
  const auth = 'Basic ' + Buffer.from(`${info.accountSid}:${info.authToken}`).toString('base64');
  const bad = 'Basic ' + Buffer.from(`${info.accountSid}:wrong-token`).toString('base64');
  const base = `/2010-04-01/Accounts/${info.accountSid}/Usage/Triggers`;
  const formHeaders = { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' };
  const big = Buffer.alloc(1 << 20, 'a');
  const counts = new Map();
  const count = (k) => counts.set(k, (counts.get(k) ?? 0) + 1);
  let failures = 0;

  async function req(kind, o, want) {
    try {
      const res = await pool.request(o);
      const text = await res.body.text();
      count(`${kind} ${res.statusCode}`);
      if (res.statusCode !== want) failures++;
      return res.statusCode === want && text ? JSON.parse(text) : null;
    } catch (err) {
      count(`${kind} ${err.code ?? err.message}`);
      failures++;
      return null;
    }
  }

  const ops = [
    [3, async () => {
      const t = await req('create', { method: 'POST', path: `${base}.json`, headers: formHeaders, body: new URLSearchParams({ CallbackUrl: 'http://127.0.0.1:9/none', TriggerValue: '1000000000', UsageCategory: 'sms' }).toString() }, 201);
      if (!t) return;
      await req('get', { method: 'GET', path: `${base}/${t.sid}.json`, headers: { authorization: auth } }, 200);
      await req('update', { method: 'POST', path: `${base}/${t.sid}.json`, headers: formHeaders, body: 'FriendlyName=soak' }, 200);
      await req('delete', { method: 'DELETE', path: `${base}/${t.sid}.json`, headers: { authorization: auth } }, 204);
    }],
    [2, () => req('list', { method: 'GET', path: `${base}.json?PageSize=50`, headers: { authorization: auth } }, 200)],
    [2, () => req('usage', { method: 'POST', path: '/emulator/usage', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Category=sms&Count=1&Usage=1&Price=0.0079' }, 200)],
    [1, () => req('1MiB-unauth', { method: 'POST', path: `${base}.json`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big }, 413)],
    [2, () => req('bad-auth', { method: 'GET', path: `${base}.json`, headers: { authorization: bad } }, 401)],
  ];
  const weights = ops.reduce((a, [w]) => a + w, 0);
  const pick = () => {
    let r = Math.random() * weights;
    for (const [w, f] of ops) if ((r -= w) < 0) return f;
    return ops[0][1];
  };

  const started = performance.now();
  const deadline = started + seconds * 1000;
  const samples = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const s = await sample();
      samples.push({ t: (performance.now() - started) / 1000, ...s });
      await req('log', { method: 'GET', path: '/emulator/requests' }, 200);
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) await pick()();
    }),
  );
  done = true;
  await sampler;
  const secs = (performance.now() - started) / 1000;
  await pool.close();
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  clearTimeout(killTimer);

  const mb = (b) => (b / 1048576).toFixed(1);
  // start = the first sample after a warm-up of 10 s (or 5% of a short run)
  const warm = Math.min(10, seconds * 0.05);
  const first = samples.find((s) => s.t >= warm) ?? samples[0];
  const last = samples[samples.length - 1];
  const peak = samples.reduce((a, s) => (s.rss > a.rss ? s : a));
  const peakHeap = samples.reduce((a, s) => (s.heap > a.heap ? s : a));
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`emulator soak: ${secs.toFixed(0)} s, ${CONNECTIONS} connections, ${total} requests (${(total / secs).toFixed(0)}/s), ${failures} unexpected answers`);
  console.log('| | at | RSS MiB | heap MiB | triggers | log entries |\n| --- | --- | --- | --- | --- | --- |');
  for (const [name, s] of [['start', first], ['peak RSS', peak], ['peak heap', peakHeap], ['end', last]]) {
    console.log(`| ${name} | ${s.t.toFixed(0)} s | ${mb(s.rss)} | ${mb(s.heap)} | ${s.triggers} | ${s.log} |`);
  }
  console.log(`end/start RSS: ${(last.rss / first.rss).toFixed(2)}`);
  console.log('answers: ' + [...counts].sort().map(([k, v]) => `${k}: ${v}`).join(', '));
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  process.exit(failures > 0 ? 1 : 0);
}
