// Emulator benchmark: loopback fetch/list throughput and store evaluation time. Bounded; exits by itself.
// Run after `npx tsc -p .`:  node bench/emulator.mjs
import { Pool } from 'undici';
import { startEmulator } from '../dist/src/emulator/server.js';
import { Store } from '../dist/src/emulator/store.js';

const FETCHES = 2000;
const LISTS = 200;
const CONCURRENCY = 8;

async function throughput(pool, paths, auth) {
  let next = 0;
  const started = performance.now();
  async function worker() {
    while (next < paths.length) {
      const path = paths[next++];
      const res = await pool.request({ method: 'GET', path, headers: { authorization: auth } });
      if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
      await res.body.dump();
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - started) / 1000;
  return { rps: paths.length / secs, secs };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const em = await startEmulator({ port: 0 });
const pool = new Pool(em.url, { connections: CONCURRENCY });
let rows;
try {
  const sids = [];
  for (let i = 0; i < 1000; i++) {
    sids.push(
      em.store.createTrigger(em.accountSid, { CallbackUrl: 'http://127.0.0.1:9/none', TriggerValue: String(1e6 + i), UsageCategory: i % 2 ? 'sms' : 'calls' }).sid,
    );
  }
  const auth = 'Basic ' + Buffer.from(`${em.accountSid}:${em.authToken}`).toString('base64');
  const base = `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers`;
  await throughput(pool, Array.from({ length: 100 }, (_, i) => `${base}/${sids[i]}.json`), auth); // warm-up
  const fetches = await throughput(pool, Array.from({ length: FETCHES }, (_, i) => `${base}/${sids[i % sids.length]}.json`), auth);
  const lists = await throughput(pool, Array.from({ length: LISTS }, () => `${base}.json?PageSize=1000`), auth);

  // store only: 100 accounts x 1,000 triggers, all watching sms, none reaching its value
  const store = new Store();
  const accounts = Array.from({ length: 100 }, (_, a) => `AC${a.toString(16).padStart(32, '0')}`);
  let t0 = performance.now();
  for (const sid of accounts) {
    store.addAccount({ sid, friendly_name: sid, auth_token: 'x'.repeat(32), owner_account_sid: sid, type: 'Full' });
    for (let i = 0; i < 1000; i++) {
      store.createTrigger(sid, {
        CallbackUrl: 'http://127.0.0.1:9/none',
        TriggerValue: String(9e8 + i),
        UsageCategory: 'sms',
        TriggerBy: ['count', 'usage', 'price'][i % 3],
        Recurring: ['daily', 'monthly', 'yearly', ''][i % 4],
      });
    }
  }
  const buildMs = performance.now() - t0;
  const incMs = [];
  for (let i = 0; i < 51; i++) {
    t0 = performance.now();
    store.addUsage(accounts[i % accounts.length], 'sms', { count: '1', usage: '2.5', price: '0.0079' });
    incMs.push(performance.now() - t0);
  }
  const allMs = [];
  for (let i = 0; i < 7; i++) {
    t0 = performance.now();
    store.advance(1);
    allMs.push(performance.now() - t0);
  }
  rows = [
    ['fetch one trigger (HTTP, concurrency 8)', `${fetches.rps.toFixed(0)} req/s`, `${FETCHES} requests in ${fetches.secs.toFixed(2)} s`],
    ['list PageSize=1000 of 1,000 (HTTP, concurrency 8)', `${lists.rps.toFixed(0)} req/s`, `${LISTS} requests in ${lists.secs.toFixed(2)} s`],
    ['one usage increment, 100,000 triggers / 100 accounts (store)', `${median(incMs).toFixed(3)} ms`, 'median of 51; evaluates the 1,000 triggers of that account+category'],
    ['clock change re-evaluating all 100,000 triggers (store)', `${median(allMs).toFixed(1)} ms`, 'median of 7'],
    ['creating the 100,000 triggers (store)', `${buildMs.toFixed(0)} ms`, 'setup'],
  ];
} finally {
  await pool.close();
  await em.close();
}
console.log(`| measure | result | notes |\n| --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nnode ${process.version}, ${new Date().toISOString()}`);
