import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { ApiClient, closeDispatcher } from '../src/api/client.js';
import { startEmulator } from '../src/emulator/server.js';
import { FleetEngine, type FleetEvent } from '../src/fleet/engine.js';

// The engine's memory bound (issues 12, 13: memory flat in the number of accounts): an account's
// result waits in the engine's queue until the consumer reads it, so while the consumer is behind (a
// slow pipe, a paused terminal) no new account may start. Checked structurally, by counting the
// accounts started while the consumer sits still, not by measuring memory or time. The tasks send no
// request (the engine's bound does not depend on the network); the client is never used.

const base = new ApiClient({
  baseUrl: 'http://127.0.0.1:9',
  credentials: { accountSid: `AC${'0'.repeat(32)}`, username: `AC${'0'.repeat(32)}`, password: 'x'.repeat(32) },
  userAgent: 'test',
  timeoutMs: 5000,
});
const sids = (n: number) => Array.from({ length: n }, (_, i) => `AC${String(i).padStart(32, '0')}`);
/** Lets every pending task run for a while: plenty for 300 immediate tasks to finish without the bound. */
const idle = async () => {
  for (let i = 0; i < 2000; i++) await turn();
};

describe('fleet engine: a consumer that is behind holds back new accounts', () => {
  it('starts at most queue room + concurrency accounts while nothing is read, then finishes every account', async () => {
    const concurrency = 4;
    const stop = new AbortController();
    const engine = new FleetEngine(base, { concurrency, signal: stop.signal });
    let started = 0;
    const events = engine.run<string, never>(sids(300), async (t) => {
      started++;
      await turn();
      return t.account;
    });
    const it = events[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal((first.value as FleetEvent<string, never>).type, 'done');
    await idle();
    // the queue holds max(4, 2 × concurrency) results, plus the accounts in flight when it filled
    const bound = Math.max(4, 2 * concurrency) + concurrency + 1;
    assert.ok(started <= bound, `${started} accounts started while the consumer read nothing (at most ${bound} expected)`);
    let ok = 1;
    for (let r = await it.next(); !r.done; r = await it.next()) if (r.value.type === 'done' && r.value.outcome.status === 'ok') ok++;
    assert.equal(ok, 300);
    assert.equal(started, 300);
  });

  it('a Ctrl-C while the consumer is behind ends the run: what was not started is reported so', async () => {
    const stop = new AbortController();
    const engine = new FleetEngine(base, { concurrency: 2, signal: stop.signal });
    let started = 0;
    const events = engine.run<string, string>(sids(100), async (t) => {
      started++;
      await t.emit('row');
      return t.account;
    });
    const it = events[Symbol.asyncIterator]();
    await it.next();
    await idle();
    stop.abort();
    const statuses = new Map<string, number>();
    for (let r = await it.next(); !r.done; r = await it.next()) {
      if (r.value.type === 'done') statuses.set(r.value.outcome.status, (statuses.get(r.value.outcome.status) ?? 0) + 1);
    }
    assert.equal(statuses.get('ok'), started);
    assert.equal(statuses.get('not-started'), 100 - started);
    assert.ok(started < 100, `${started} of 100 accounts started before Ctrl-C although nothing was read`);
  });
});

describe('fleet engine: nothing per request stays on the signals that live for the whole run', () => {
  it('after 120 accounts over real HTTP, no abort listener is left on the signal the clients share', async () => {
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ usage_triggers: [], next_page_uri: null }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const sid = `AC${'0'.repeat(32)}`;
      const outer = new AbortController();
      const client = new ApiClient({ baseUrl: url, credentials: { accountSid: sid, username: sid, password: 'x'.repeat(32) }, userAgent: 'test', timeoutMs: 5000, signal: outer.signal });
      const stop = new AbortController();
      const engine = new FleetEngine(client, { concurrency: 8, signal: stop.signal });
      let ok = 0;
      for await (const ev of engine.run(sids(120), async (t) => {
        for await (const page of t.client.listTriggerPages(new URLSearchParams())) void page;
        // the engine's own signal for abandoning requests is the clients' signal here
        return getEventListeners((t.client as unknown as { opts: { signal: AbortSignal } }).opts.signal, 'abort').length;
      })) {
        if (ev.type === 'done' && ev.outcome.status === 'ok') ok++;
      }
      assert.equal(ok, 120);
      assert.equal(getEventListeners(outer.signal, 'abort').length, 0);
      const shared = (engine as unknown as { abandon: AbortController }).abandon.signal;
      assert.equal(getEventListeners(shared, 'abort').length, 0, 'every request removed its listener from the engine\'s signal');
    } finally {
      await closeDispatcher();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('fleet engine: accounts that arrive as they are listed', () => {
  it('works on the first ones while the rest are listed; the total grows and says when it is final', async () => {
    let listedSoFar = 0;
    let complete = false;
    let release!: () => void;
    const later = new Promise<void>((r) => (release = r));
    async function* accounts(): AsyncGenerator<string> {
      for (const s of sids(3)) (listedSoFar++, yield s);
      await later; // the next page of the accounts list
      for (const s of sids(5).slice(3)) (listedSoFar++, yield s);
      complete = true;
    }
    const stop = new AbortController();
    const engine = new FleetEngine(base, { concurrency: 4, signal: stop.signal });
    const seen: string[] = [];
    for await (const ev of engine.run(accounts(), async (t) => t.account, () => ({ count: listedSoFar, complete }))) {
      if (ev.type !== 'done') continue;
      seen.push(`${ev.outcome.account.slice(-1)}:${engine.stats.total}${engine.stats.listing ? '+' : ''}`);
      if (seen.length === 3) release();
    }
    assert.deepEqual(seen.slice(0, 3).map((x) => x[0]), ['0', '1', '2'], `the first page is done before the second is listed: ${seen.join(' ')}`);
    assert.ok(seen.slice(0, 3).every((x) => x.endsWith('+')), `the total is not final while the list goes on: ${seen.join(' ')}`);
    assert.equal(seen.length, 5);
    assert.equal(engine.stats.total, 5);
    assert.equal(engine.stats.listing, false);
  });
});

describe('fleet engine: adapting to a concurrency limit (issue 12)', () => {
  it('after the first burst of 429s it settles under the limit instead of climbing back into it every other round', async () => {
    // 15 at once against a limit of 5: the first round refuses 10. A limit that climbs straight back past
    // the concurrency a 429 came at meets another 429 about every other round (~20 over these 200 accounts).
    const em = await startEmulator({ subaccounts: 200, latencyMs: 20, concurrencyLimit: 5, logEntries: 10 });
    try {
      const client = new ApiClient({
        baseUrl: em.url,
        credentials: { accountSid: em.accountSid, username: em.accountSid, password: em.authToken },
        userAgent: 'test',
        timeoutMs: 30_000,
      });
      const stop = new AbortController();
      const engine = new FleetEngine(client, { concurrency: 15, signal: stop.signal });
      let ok = 0;
      for await (const ev of engine.run(em.subaccountSids, async (t) => {
        for await (const page of t.client.listTriggerPages(new URLSearchParams())) void page;
      })) {
        if (ev.type === 'done' && ev.outcome.status === 'ok') ok++;
      }
      assert.equal(ok, 200);
      // the first round refuses up to 10 (fewer when a request ends before the 15th is sent)
      assert.ok(engine.stats.throttled >= 1, 'the limit was reached');
      assert.ok(engine.stats.throttled <= 12, `${engine.stats.throttled} answers 429: at most 2 after the first round expected`);
      assert.equal(engine.concurrency, 4, 'just under the Twilio-Concurrent-Requests the 429s carried');
    } finally {
      await closeDispatcher();
      await em.close();
    }
  });
});
