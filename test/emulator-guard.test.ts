import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { call, control, startReceiver, triggersPath } from './emulator-helpers.js';
import { assertExit, harness, type Harness } from './helpers.js';

interface Raw {
  status: number;
  json: any; // any on purpose: error bodies and logs are read field by field below
  text: string;
}

/** One request with exactly these headers (fetch cannot set Host); a reset rejects. */
function raw(em: RunningEmulator, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Raw> {
  const u = new URL(em.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const form = { CallbackUrl: 'https://example.com/hook', TriggerValue: '10', UsageCategory: 'sms' };
const FORM = 'application/x-www-form-urlencoded';

describe('API keys and the Accounts resource', () => {
  let em: RunningEmulator;
  before(async () => {
    em = await startEmulator({ subaccounts: 1 });
  });
  after(() => em.close());

  test("a Standard API key is refused on /Accounts with Twilio's 401 20003, and never sees the auth token", async () => {
    for (const sid of [em.accountSid, em.subaccountSids[0] as string]) {
      const r = await call(em, 'GET', `/2010-04-01/Accounts/${sid}.json`, { auth: [em.apiKeySid, em.apiKeySecret] });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.code, 20003);
      assert.equal(r.json.message, 'Authenticate');
      assert.doesNotMatch(r.text, new RegExp(em.authToken));
    }
    // the key still manages triggers, and the auth token still reads the account
    assert.equal((await call(em, 'GET', triggersPath(em.accountSid), { auth: [em.apiKeySid, em.apiKeySecret] })).status, 200);
    const own = await call(em, 'GET', `/2010-04-01/Accounts/${em.accountSid}.json`);
    assert.equal(own.status, 200);
    assert.equal(own.json.auth_token, em.authToken);
  });
});

describe('Host and Origin checks (DNS rebinding, cross-site writes)', () => {
  let em: RunningEmulator;
  let port: string;
  before(async () => {
    em = await startEmulator();
    port = new URL(em.url).port;
  });
  after(() => em.close());

  test('a foreign Host is refused on the control surface and the API, and changes nothing', async () => {
    const before = (await control(em, 'GET', '/emulator/clock')).json.now as string;
    const clock = await raw(em, 'POST', '/emulator/clock', { host: `rebind.example:${port}`, 'content-type': FORM }, 'Now=2030-01-01T00:00:00Z');
    assert.equal(clock.status, 403, clock.text);
    assert.equal(clock.json.code, 20403);
    assert.match(clock.json.message, /^request refused: Host "rebind\.example:\d+" is not an address this emulator serves; use 127\.0\.0\.1:\d+ or localhost:\d+/);
    assert.ok((await control(em, 'GET', '/emulator/clock')).json.now.startsWith(before.slice(0, 4)), 'clock unchanged');
    const faults = await raw(em, 'GET', '/emulator/faults', { host: 'rebind.example' });
    assert.equal(faults.status, 403);
    const n = em.requests.length;
    const api = await raw(em, 'GET', triggersPath(em.accountSid), { host: `rebind.example:${port}`, authorization: basic(em.accountSid, em.authToken) });
    assert.equal(api.status, 403);
    assert.equal(em.requests.length, n, 'a refused request reaches no route');
  });

  test('loopback names and addresses pass', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST.', `[::1]:${port}`, 'emu.localhost', '127.0.0.2']) {
      const r = await raw(em, 'GET', '/emulator/clock', { host });
      assert.equal(r.status, 200, `${host}: ${r.text}`);
    }
  });

  test('browser writes from another origin are refused; reads and non-browser clients are not', async () => {
    const faults = (await control(em, 'GET', '/emulator/faults')).json;
    const cases: [Record<string, string>, RegExp][] = [
      [{ origin: 'http://evil.example' }, /^cross-origin write refused: Origin "http:\/\/evil\.example" is not this emulator/],
      [{ origin: 'null' }, /^cross-origin write refused: Origin "null"/],
      [{ origin: 'http://localhost:1' }, /^cross-origin write refused/],
      [{ 'sec-fetch-site': 'cross-site' }, /^cross-site write refused/],
    ];
    for (const [headers, message] of cases) {
      const r = await raw(em, 'POST', '/emulator/faults', { host: `127.0.0.1:${port}`, 'content-type': FORM, ...headers }, 'Status=500&Count=5');
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.match(r.json.message, message);
    }
    const del = await raw(em, 'DELETE', '/emulator/faults', { host: `127.0.0.1:${port}`, origin: 'http://evil.example' });
    assert.equal(del.status, 403);
    const post = await raw(em, 'POST', triggersPath(em.accountSid), { 'content-type': FORM, origin: 'http://evil.example', authorization: basic(em.accountSid, em.authToken) }, new URLSearchParams(form).toString());
    assert.equal(post.status, 403);
    assert.deepEqual((await control(em, 'GET', '/emulator/faults')).json, faults, 'faults unchanged');
    // the emulator's own origin, a cross-origin read and a plain client are fine
    const own = await raw(em, 'POST', '/emulator/usage', { origin: `http://localhost:${port}`, 'sec-fetch-site': 'same-origin', 'content-type': FORM }, 'Category=sms&Count=1');
    assert.equal(own.status, 200, own.text);
    assert.equal((await raw(em, 'GET', '/emulator/clock', { origin: 'http://evil.example' })).status, 200);
    assert.equal((await control(em, 'POST', '/emulator/usage', { Category: 'sms', Count: '1' })).status, 200);
  });

  test('listening on every address serves every address of this machine', async () => {
    const { servedHosts } = await import('../src/emulator/guard.js');
    const { networkInterfaces } = await import('node:os');
    const all = servedHosts('0.0.0.0');
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) assert.ok(all.has(a.address.toLowerCase()), a.address);
    assert.deepEqual([...servedHosts('127.0.0.1', ['Tunnel.Example'])].sort(), ['127.0.0.1', 'tunnel.example']);
  });
});

describe('bounded request log and body limit', () => {
  let em: RunningEmulator;
  before(async () => {
    em = await startEmulator({ logEntries: 20, logBodyBytes: 256 });
  });
  after(() => em.close());

  test('bodies over the limit get a 413 JSON answer, not a reset, and are not logged', async () => {
    const n = em.requests.length;
    for (const size of [2 << 20, 1 << 20, 64 * 1024 + 1]) {
      const r = await raw(em, 'POST', triggersPath(em.accountSid), { 'content-type': FORM }, Buffer.alloc(size, 'a'));
      assert.equal(r.status, 413, r.text);
      assert.equal(r.json.status, 413);
      assert.match(r.json.message, /^request body too large: the emulator accepts bodies up to 65536 bytes$/);
    }
    assert.equal(em.requests.length, n);
    const ok = await call(em, 'POST', triggersPath(em.accountSid), { form });
    assert.equal(ok.status, 201, 'the emulator still answers');
  });

  test('the log keeps the last N entries, bodies cut to the limit, and memory stays flat under 1 MiB bodies', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const big = Buffer.alloc(60 * 1024, 'b');
    const long = new URLSearchParams({ ...form, FriendlyName: 'x'.repeat(60) + 'é'.repeat(2000) }).toString();
    await call(em, 'POST', triggersPath(em.accountSid), { form: { ...form, FriendlyName: 'x'.repeat(60) + 'é'.repeat(2000) } });
    const last = em.requests[em.requests.length - 1]!;
    assert.equal(last.truncated, Buffer.byteLength(long));
    assert.ok(Buffer.byteLength(last.body) <= 256 + 3, `body kept: ${Buffer.byteLength(last.body)} bytes`);
    assert.equal(last.form, null);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 150; i++) {
      const r = await raw(em, 'POST', triggersPath(em.accountSid), { 'content-type': FORM }, big);
      assert.equal(r.status, 401);
      if (i % 3 === 0) assert.equal((await raw(em, 'POST', triggersPath(em.accountSid), { 'content-type': FORM }, Buffer.alloc(1 << 20))).status, 413);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - heap0;
    assert.ok(grown < 8 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB over 9 MiB of logged bodies and 50 MiB refused`);
    assert.equal(em.requests.length, 20);
    assert.ok(JSON.stringify(em.requests).length < 20 * 1024, 'each entry stays small');
    const served = await control(em, 'GET', '/emulator/requests');
    assert.equal(served.status, 200);
    assert.equal(served.json.length, 20);
    assert.equal(served.json[19].status, 401);
  });
});

test('the delivery log keeps the last N callback attempts', async () => {
  const receiver = await startReceiver();
  const em = await startEmulator({ logEntries: 3 });
  try {
    for (let i = 0; i < 5; i++) {
      const r = await call(em, 'POST', triggersPath(em.accountSid), { form: { CallbackUrl: receiver.url, TriggerValue: '1', UsageCategory: 'sms' } });
      assert.equal(r.status, 201);
    }
    await control(em, 'POST', '/emulator/usage', { Category: 'sms', Usage: '2' });
    await em.idle();
    assert.equal(receiver.received.length, 5);
    assert.equal(em.deliveries.length, 3);
    assert.equal((await control(em, 'GET', '/emulator/deliveries')).json.length, 3);
  } finally {
    await em.close();
    await receiver.close();
  }
});

describe('clock values the emulator cannot represent', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  test('the control API refuses them with 400 and the API keeps working', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ Now: '+275760-09-13T00:00:00Z' }, /^Now must be a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z, got \+275760-09-13T00:00:00\.000Z$/],
      [{ Now: '1969-12-31T23:59:59Z' }, /^Now must be a time from 1970/],
      [{ Advance: '9'.repeat(300) }, /^Advance 1e\+300 would move the clock to [\d.e+]+ ms since 1970; the clock must stay from 1970/],
      [{ Advance: '-99999999999999' }, /^Advance -99999999999999 would move the clock to/],
    ];
    for (const [f, message] of cases) {
      const r = await control(h.emu, 'POST', '/emulator/clock', f);
      assert.equal(r.status, 400, JSON.stringify(f));
      assert.equal(r.json.code, 20001);
      assert.match(r.json.message, message);
    }
    const list = await h.api('GET', triggersPath(h.emu.accountSid));
    assert.equal(list.status, 200);
    assert.equal((await control(h.emu, 'POST', '/emulator/clock', { Now: '9999-12-31T00:00:00Z' })).status, 200);
    assert.equal((await h.api('GET', triggersPath(h.emu.accountSid))).status, 200);
    assert.equal((await control(h.emu, 'POST', '/emulator/clock', { Now: '2026-01-01T00:00:00Z' })).status, 200);
  });

  test('the CLI exits 2 and changes nothing', async () => {
    const before = (await control(h.emu, 'GET', '/emulator/clock')).json.now as string;
    const now = await h.run(['emulator', 'clock', '--now', '+275760-09-13T00:00:00Z']);
    assertExit(now, 2);
    assert.equal(now.stderr, 'error: --now "+275760-09-13T00:00:00Z" is outside the times the emulator can represent: give a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z\n');
    const adv = await h.run(['emulator', 'clock', '--advance', '9'.repeat(300)]);
    assertExit(adv, 2);
    assert.match(adv.stderr, /^error: --advance "9{300}" would move the clock to .*, outside the times the emulator can represent \(from 1970/);
    assert.equal(adv.stdout, '');
    const after = (await control(h.emu, 'GET', '/emulator/clock')).json.now as string;
    assert.ok(Math.abs(Date.parse(after) - Date.parse(before)) < 60_000, `clock moved from ${before} to ${after}`);
  });

  test('a persisted clock offset out of range is refused on load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'utrig-clock-'));
    try {
      const path = join(dir, 'emu.json');
      await writeFile(path, JSON.stringify({ version: 1, clockOffsetMs: 8.64e15, accounts: [], apiKeys: [], triggers: [], usage: {} }));
      // an emulator that starts anyway is closed, so a failure here cannot hang the run
      const closeIfStarted = (p: Promise<RunningEmulator>) => p.then(async (e) => (await e.close(), e));
      await assert.rejects(closeIfStarted(startEmulator({ statePath: path })), (e: Error) => {
        assert.match(e.message, /^emulator state file .*emu\.json is corrupt: clockOffsetMs: it sets the clock to .*, outside the times the emulator can represent \(from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z\): set it to 0; move it aside/);
        return true;
      });
      await assert.rejects(closeIfStarted(startEmulator({ now: new Date(8.64e15) })), /start time must be from 1970/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
