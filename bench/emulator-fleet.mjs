// The emulator as a fleet target: 1,000 subaccounts, 50 ms latency per request, a concurrency limit of 20.
// A plain client (one create per subaccount, fixed concurrency, waits Retry-After on a 429) measures
// what the fleet commands will be held to: the wall time as a ratio of the ideal
// (1,000 x 50 ms / 20 = 2.5 s) at concurrency 20, and at 60 against the limit of 20 (429s expected).
// Also: listing the 1,001 accounts with PageSize=1000. Median of RUNS; bounded; exits by itself.
// Run after `npx tsc -p .`:  node bench/emulator-fleet.mjs
import { Pool } from 'undici';
import { startEmulator } from '../dist/src/emulator/server.js';

const ACCOUNTS = 1000;
const LATENCY_MS = 50;
const LIMIT = 20;
const RUNS = 3;
const IDEAL_S = (ACCOUNTS * LATENCY_MS) / LIMIT / 1000;
const DEADLINE_MS = 60_000;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Creates one trigger in each subaccount with `concurrency` workers; counts 429s and checks each account has exactly one. */
async function createAll(concurrency) {
  const em = await startEmulator({ subaccounts: ACCOUNTS, latencyMs: LATENCY_MS, concurrencyLimit: LIMIT });
  const pool = new Pool(em.url, { connections: concurrency });
  const auth = 'Basic ' + Buffer.from(`${em.accountSid}:${em.authToken}`).toString('base64');
  const body = new URLSearchParams({ CallbackUrl: 'http://127.0.0.1:9/none', TriggerValue: '100', UsageCategory: 'sms' }).toString();
  const stopAt = Date.now() + DEADLINE_MS;
  let next = 0;
  let refused = 0;
  const started = performance.now();
  try {
    async function worker() {
      while (next < em.subaccountSids.length) {
        const sid = em.subaccountSids[next++];
        for (;;) {
          if (Date.now() > stopAt) throw new Error('deadline passed');
          const res = await pool.request({
            method: 'POST',
            path: `/2010-04-01/Accounts/${sid}/Usage/Triggers.json`,
            headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
            body,
          });
          await res.body.dump();
          if (res.statusCode === 201) break;
          if (res.statusCode !== 429) throw new Error(`${sid} answered ${res.statusCode}`);
          refused++;
          await new Promise((r) => setTimeout(r, Number(res.headers['retry-after'] ?? 1) * 1000));
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker));
    const secs = (performance.now() - started) / 1000;
    const counts = em.subaccountSids.map((s) => em.store.triggerCount(s));
    if (counts.some((c) => c !== 1)) throw new Error('an account does not have exactly one trigger');
    return { secs, refused };
  } finally {
    await pool.close();
    await em.close();
  }
}

async function listAll() {
  const em = await startEmulator({ subaccounts: ACCOUNTS });
  const auth = 'Basic ' + Buffer.from(`${em.accountSid}:${em.authToken}`).toString('base64');
  try {
    const started = performance.now();
    let next = '/2010-04-01/Accounts.json?PageSize=1000';
    let n = 0;
    while (next) {
      const j = await (await fetch(em.url + next, { headers: { authorization: auth } })).json();
      n += j.accounts.length;
      next = j.next_page_uri;
    }
    if (n !== ACCOUNTS + 1) throw new Error(`listed ${n} accounts`);
    return (performance.now() - started) / 1000;
  } finally {
    await em.close();
  }
}

const rows = [];
for (const concurrency of [LIMIT, 3 * LIMIT]) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await createAll(concurrency));
  const secs = median(runs.map((r) => r.secs));
  rows.push([`create in ${ACCOUNTS} subaccounts, concurrency ${concurrency} (limit ${LIMIT}, ${LATENCY_MS} ms)`, `${secs.toFixed(2)} s = ${(secs / IDEAL_S).toFixed(2)} x ideal ${IDEAL_S} s; 429s ${runs.map((r) => r.refused).join('/')}`]);
}
const lists = [];
for (let i = 0; i < RUNS; i++) lists.push(await listAll());
rows.push([`list ${ACCOUNTS + 1} accounts, PageSize=1000`, `${(median(lists) * 1000).toFixed(0)} ms`]);
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
