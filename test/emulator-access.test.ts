import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { getDeliveries, parseEmulatorOptions, postUsage, runEmulatorForeground, setClock } from '../src/commands/emulator.js';
import { ApiError, NetworkError, UsageError } from '../src/errors.js';
import type { IO } from '../src/io.js';
import { call, control, startReceiver, triggersPath } from './emulator-helpers.js';

const form = { CallbackUrl: 'https://example.com/hook', TriggerValue: '10', UsageCategory: 'sms' };

describe('subaccounts, API keys and fault injection', () => {
  let em: RunningEmulator;
  before(async () => {
    em = await startEmulator({ subaccounts: 2 });
  });
  after(async () => {
    await em.close();
  });

  test('subaccount SIDs are stable and derived from the parent', async () => {
    assert.equal(em.subaccountSids.length, 2);
    const again = await startEmulator({ subaccounts: 2 });
    try {
      assert.deepEqual(again.subaccountSids, em.subaccountSids);
    } finally {
      await again.close();
    }
    const r = await call(em, 'GET', `/2010-04-01/Accounts/${em.subaccountSids[0]}.json`);
    assert.equal(r.status, 200);
    assert.equal(r.json.owner_account_sid, em.accountSid);
  });

  test("parent credentials manage a subaccount's triggers; the subaccount cannot touch the parent", async () => {
    const sub = em.subaccountSids[0] as string;
    const created = await call(em, 'POST', triggersPath(sub), { form });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.account_sid, sub);
    const subToken = (await call(em, 'GET', `/2010-04-01/Accounts/${sub}.json`)).json.auth_token as string;
    const own = await call(em, 'GET', triggersPath(sub), { auth: [sub, subToken] });
    assert.equal(own.json.usage_triggers.length, 1);
    const parent = await call(em, 'GET', triggersPath(em.accountSid), { auth: [sub, subToken] });
    assert.equal(parent.status, 404);
    assert.equal(parent.json.code, 20404);
    const sibling = await call(em, 'GET', triggersPath(em.subaccountSids[1] as string), { auth: [sub, subToken] });
    assert.equal(sibling.status, 404);
    // a trigger of the subaccount is not visible under the parent's path
    const cross = await call(em, 'GET', `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers/${created.json.sid}.json`);
    assert.equal(cross.status, 404);
  });

  test('API key auth', async () => {
    assert.match(em.apiKeySid, /^SK[0-9a-f]{32}$/);
    const r = await call(em, 'POST', triggersPath(em.accountSid), { form, auth: [em.apiKeySid, em.apiKeySecret] });
    assert.equal(r.status, 201);
    const bad = await call(em, 'GET', triggersPath(em.accountSid), { auth: [em.apiKeySid, 'nope'] });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.code, 20003);
  });

  test('503 twice then success; every attempt is in the request log', async () => {
    assert.equal((await control(em, 'POST', '/emulator/faults', { Status: '503', Count: '2', Method: 'POST' })).status, 200);
    const seen = em.requests.length;
    // a GET is not affected by a POST-only fault
    assert.equal((await call(em, 'GET', triggersPath(em.accountSid))).status, 200);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(em, 'POST', triggersPath(em.accountSid), { form })).status);
    assert.deepEqual(statuses, [503, 503, 201]);
    const creates = em.requests.slice(seen).filter((r) => r.method === 'POST' && r.path === triggersPath(em.accountSid));
    assert.deepEqual(creates.map((r) => r.status), [503, 503, 201]);
    assert.deepEqual(creates[0]?.form, form);
    const log = (await control(em, 'GET', '/emulator/requests')).json as { status: number }[];
    assert.equal(log.length, em.requests.length);
  });

  test('429 with Retry-After, latency, drop, and clearing', async () => {
    await control(em, 'POST', '/emulator/faults', { Status: '429', Count: '1', RetryAfter: '7' });
    const r = await call(em, 'GET', triggersPath(em.accountSid));
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal(r.json.code, 20429);
    assert.equal((await call(em, 'GET', triggersPath(em.accountSid))).status, 200);

    await control(em, 'POST', '/emulator/faults', { LatencyMs: '150' });
    const t0 = performance.now();
    assert.equal((await call(em, 'GET', triggersPath(em.accountSid))).status, 200);
    assert.ok(performance.now() - t0 >= 140);

    await control(em, 'POST', '/emulator/faults', { Drop: 'true', Count: '1' });
    await assert.rejects(call(em, 'GET', triggersPath(em.accountSid)));
    assert.equal(em.requests[em.requests.length - 1]?.status, 0);

    await control(em, 'DELETE', '/emulator/faults');
    const t1 = performance.now();
    assert.equal((await call(em, 'GET', triggersPath(em.accountSid))).status, 200);
    assert.ok(performance.now() - t1 < 140);
  });

  test('control API validation', async () => {
    const bad = await control(em, 'POST', '/emulator/usage', { AccountSid: em.accountSid, Category: 'sms', Count: 'x' });
    assert.equal(bad.status, 400);
    assert.equal((await control(em, 'POST', '/emulator/usage', { AccountSid: em.accountSid, Category: 'nope', Count: '1' })).status, 400);
    assert.equal((await control(em, 'POST', '/emulator/clock', { Now: 'yesterday' })).status, 400);
    const c = await control(em, 'POST', '/emulator/clock', { Now: '2030-05-06T07:08:09Z' });
    assert.equal(c.json.now.slice(0, 19), '2030-05-06T07:08:09');
    assert.equal((await control(em, 'GET', '/emulator/clock')).json.now.slice(0, 16), '2030-05-06T07:08');
  });
});

describe('state file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'utrig-emu-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('state survives a restart, including the fired period', async () => {
    const statePath = join(dir, 'nested', 'state.json');
    const receiver = await startReceiver([200]);
    try {
      const em1 = await startEmulator({ statePath, now: new Date('2024-06-15T10:00:00Z'), retryDelayMs: 5 });
      const t = (await call(em1, 'POST', triggersPath(em1.accountSid), {
        form: { CallbackUrl: receiver.url, UsageCategory: 'sms', TriggerBy: 'count', TriggerValue: '3', Recurring: 'daily' },
      })).json;
      for (let i = 0; i < 20; i++) await call(em1, 'POST', triggersPath(em1.accountSid), { form });
      await control(em1, 'POST', '/emulator/usage', { AccountSid: em1.accountSid, Category: 'sms', Count: '3' });
      await em1.close();
      assert.equal(receiver.received.length, 1);
      assert.equal((await stat(statePath)).mode & 0o777, 0o600);
      assert.deepEqual((await readdir(join(dir, 'nested'))).filter((f) => f.includes('.tmp-')), []);

      const em2 = await startEmulator({ statePath, retryDelayMs: 5 });
      try {
        const again = await call(em2, 'GET', t.uri);
        assert.equal(again.status, 200);
        assert.equal(again.json.current_value, '3');
        assert.equal(again.json.date_fired, 'Sat, 15 Jun 2024 10:00:00 +0000');
        assert.equal((await control(em2, 'GET', '/emulator/clock')).json.now.slice(0, 13), '2024-06-15T10');
        assert.equal((await call(em2, 'GET', `${triggersPath(em2.accountSid)}?PageSize=100`)).json.usage_triggers.length, 21);
        // same period: more usage does not fire again after the restart
        await control(em2, 'POST', '/emulator/usage', { AccountSid: em2.accountSid, Category: 'sms', Count: '3' });
        await em2.idle();
        assert.equal(receiver.received.length, 1);
        await control(em2, 'POST', '/emulator/clock', { Advance: '86400' });
        await control(em2, 'POST', '/emulator/usage', { AccountSid: em2.accountSid, Category: 'sms', Count: '3' });
        await em2.idle();
        assert.equal(receiver.received.length, 2);
      } finally {
        await em2.close();
      }
    } finally {
      await receiver.close();
    }
  });

  test('a truncated state file is rejected with a clear error, not reset', async () => {
    const statePath = join(dir, 'trunc.json');
    const em = await startEmulator({ statePath });
    await call(em, 'POST', triggersPath(em.accountSid), { form });
    await em.close();
    const full = await readFile(statePath, 'utf8');
    await writeFile(statePath, full.slice(0, Math.floor(full.length / 2)));
    await assert.rejects(startEmulator({ statePath }), (err: Error) => {
      assert.ok(err.message.includes(statePath), err.message);
      assert.match(err.message, /corrupt/);
      assert.match(err.message, /move it aside/);
      return true;
    });
    assert.equal((await readFile(statePath, 'utf8')).length, Math.floor(full.length / 2), 'file left untouched');
  });
});

describe('emulator command module', () => {
  test('parseEmulatorOptions checks each flag', () => {
    assert.deepEqual(parseEmulatorOptions({ port: '0', host: '127.0.0.1' }), { port: 0, host: '127.0.0.1' });
    assert.deepEqual(parseEmulatorOptions({ port: '4010', subaccounts: '3', latencyMs: '20', state: 'x.json' }), {
      port: 4010, host: '127.0.0.1', subaccounts: 3, latencyMs: 20, state: 'x.json',
    });
    assert.throws(() => parseEmulatorOptions({ port: '70000' }), (e: Error) => e instanceof UsageError && /--port/.test(e.message) && /65535/.test(e.message));
    assert.throws(() => parseEmulatorOptions({ port: 'abc' }), UsageError);
    assert.throws(() => parseEmulatorOptions({ accountSid: 'AC123' }), (e: Error) => e instanceof UsageError && /--account-sid/.test(e.message));
    assert.equal(parseEmulatorOptions({ accountSid: 'AC' + 'AB'.repeat(16) }).accountSid, 'AC' + 'AB'.repeat(16));
    assert.throws(() => parseEmulatorOptions({ subaccounts: '-1' }), /--subaccounts/);
  });

  test('foreground run prints the env lines and logs requests until aborted', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (c: Buffer) => (stdout += c.toString()));
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const io: IO = { stdout: out, stderr: err, stdin: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, colorLevel: 0, columns: 80, env: {} };
    const ac = new AbortController();
    const run = runEmulatorForeground(io, { port: 0, host: '127.0.0.1' }, ac.signal);
    for (let i = 0; i < 100 && !stdout.includes('TWILIO_AUTH_TOKEN'); i++) await new Promise((r) => setTimeout(r, 10));
    const url = /export UTRIG_API_URL=(\S+)/.exec(stdout)?.[1] as string;
    const sid = /export TWILIO_ACCOUNT_SID=(AC[0-9a-f]{32})/.exec(stdout)?.[1] as string;
    const token = /export TWILIO_AUTH_TOKEN=(\S+)/.exec(stdout)?.[1] as string;
    assert.ok(url && sid && token, stdout);
    const res = await fetch(`${url}/2010-04-01/Accounts/${sid}.json`, { headers: { authorization: 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64') } });
    assert.equal(res.status, 200);
    await res.text();
    assert.deepEqual(await postUsage(url, { accountSid: sid, category: 'sms', count: '2' }), { account_sid: sid, category: 'sms', count: '2', usage: '0', price: '0' });
    assert.match(String((await setClock(url, { advance: '60' }) as { now: string }).now), /^\d{4}-/);
    assert.deepEqual(await getDeliveries(url), []);
    await assert.rejects(postUsage(url, { accountSid: sid, category: 'bogus', count: '1' }), (e: Error) => e instanceof ApiError && e.status === 400);
    ac.abort();
    await run;
    assert.match(stdout, new RegExp(`GET /2010-04-01/Accounts/${sid}.json 200`));
    assert.match(stderr, /listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(stderr, /warning/);
    await assert.rejects(getDeliveries(url), NetworkError);
  });
});
