// The emulator's Accounts resource, account status and concurrency limit, over real HTTP. The client
// side follows Twilio's documentation (REST API: Accounts, Subaccounts; the list envelope and
// next_page_uri resolved against the API base, as Twilio's libraries do), not the emulator's code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { parseEmulatorOptions } from '../src/commands/emulator.js';
import { UsageError } from '../src/errors.js';
import { BIN } from './helpers.js';
import { call, control, startReceiver, triggersPath, type Res } from './emulator-helpers.js';

const ACCOUNTS = '/2010-04-01/Accounts.json';
const accountPath = (sid: string): string => `/2010-04-01/Accounts/${sid}.json`;

/** Every page of a list, following next_page_uri from `first`. */
async function allPages(em: RunningEmulator, first: string, auth?: [string, string]): Promise<Res[]> {
  const pages: Res[] = [];
  let next: string | null = first;
  while (next !== null) {
    const r = await call(em, 'GET', next, { auth });
    assert.equal(r.status, 200, r.text);
    pages.push(r);
    next = r.json.next_page_uri;
    assert.ok(pages.length < 100, 'paging does not end');
  }
  return pages;
}

describe('Accounts list: paging and filters', () => {
  let em: RunningEmulator;
  let made: { sid: string; auth_token: string; friendly_name: string }[];
  before(async () => {
    em = await startEmulator();
    const r = await control(em, 'POST', '/emulator/accounts', { Count: '250', FriendlyName: 'Customer {n}' });
    assert.equal(r.status, 201, r.text);
    made = r.json.accounts;
  });
  after(async () => {
    await em.close();
  });

  test('POST /emulator/accounts Count=250 adds 250 subaccounts of the main account, and refuses more than 10,000', async () => {
    assert.equal(made.length, 250);
    assert.equal(new Set(made.map((a) => a.sid)).size, 250);
    assert.equal(made[6]?.friendly_name, 'Customer 7');
    for (const a of made) assert.match(a.sid, /^AC[0-9a-f]{32}$/);
    const tooMany = await control(em, 'POST', '/emulator/accounts', { Count: '10001' });
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.json.message, /Count must be an integer 1-10000/);
  });

  test('PageSize=100 visits the main account and each of 250 subaccounts exactly once, in three pages', async () => {
    const pages = await allPages(em, `${ACCOUNTS}?PageSize=100`);
    assert.deepEqual(
      pages.map((p) => p.json.accounts.length),
      [100, 100, 51],
    );
    const sids = pages.flatMap((p) => p.json.accounts.map((a: { sid: string }) => a.sid));
    assert.equal(sids.length, 251);
    assert.equal(new Set(sids).size, 251);
    assert.deepEqual(new Set(sids), new Set([em.accountSid, ...made.map((a) => a.sid)]));
    const [first, second, last] = pages as [Res, Res, Res];
    assert.equal(first.json.page, 0);
    assert.equal(first.json.page_size, 100);
    assert.equal(first.json.start, 0);
    assert.equal(first.json.end, 99);
    assert.equal(first.json.previous_page_uri, null);
    assert.equal(first.json.first_page_uri, `${ACCOUNTS}?PageSize=100&Page=0`);
    assert.match(first.json.next_page_uri, /^\/2010-04-01\/Accounts\.json\?PageSize=100&Page=1&PageToken=PAAC[0-9a-f]{32}$/);
    assert.equal(second.json.start, 100);
    assert.match(second.json.previous_page_uri, /Page=0&PageToken=PBAC/);
    assert.equal(last.json.next_page_uri, null);
    assert.equal(last.json.end, 250);
  });

  test('the default page is 50 and PageSize is 1-1000', async () => {
    const r = await call(em, 'GET', ACCOUNTS);
    assert.equal(r.status, 200);
    assert.equal(r.json.page_size, 50);
    assert.equal(r.json.accounts.length, 50);
    assert.equal((await call(em, 'GET', `${ACCOUNTS}?PageSize=1000`)).json.accounts.length, 251);
    const bad = await call(em, 'GET', `${ACCOUNTS}?PageSize=1001`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 20001);
  });

  test('an account has the fields and subresource_uris of Twilio\'s Account resource', async () => {
    const r = await call(em, 'GET', `${ACCOUNTS}?PageSize=1`);
    const a = r.json.accounts[0];
    assert.deepEqual(Object.keys(a).sort(), [
      'auth_token',
      'date_created',
      'date_updated',
      'friendly_name',
      'owner_account_sid',
      'sid',
      'status',
      'subresource_uris',
      'type',
      'uri',
    ]);
    assert.equal(a.sid, em.accountSid, 'the main account was created first');
    assert.equal(a.owner_account_sid, em.accountSid);
    assert.equal(a.subresource_uris.usage, `/2010-04-01/Accounts/${em.accountSid}/Usage.json`);
    assert.equal(a.subresource_uris.usage_triggers, undefined);
    assert.equal(a.uri, `/2010-04-01/Accounts/${em.accountSid}.json`);
  });

  test('FriendlyName matches exactly, and the filter stays in every page URI', async () => {
    const one = await call(em, 'GET', `${ACCOUNTS}?FriendlyName=${encodeURIComponent('Customer 7')}`);
    assert.deepEqual(
      one.json.accounts.map((a: { sid: string }) => a.sid),
      [made[6]?.sid],
    );
    for (const name of ['Customer', 'customer 7', 'Customer 7 ']) {
      const none = await call(em, 'GET', `${ACCOUNTS}?FriendlyName=${encodeURIComponent(name)}`);
      assert.equal(none.json.accounts.length, 0, name);
    }
    const same = await control(em, 'POST', '/emulator/accounts', { Count: '3', FriendlyName: 'same name' });
    const pages = await allPages(em, `${ACCOUNTS}?FriendlyName=same+name&PageSize=2`);
    assert.equal(pages.length, 2);
    assert.match(pages[0]?.json.next_page_uri, /^\/2010-04-01\/Accounts\.json\?FriendlyName=same\+name&PageSize=2&Page=1&PageToken=PAAC/);
    assert.deepEqual(
      pages.flatMap((p) => p.json.accounts.map((a: { sid: string }) => a.sid)).sort(),
      same.json.accounts.map((a: { sid: string }) => a.sid).sort(),
    );
  });

  test('Status filters active, suspended and closed, and refuses anything else', async () => {
    const [s1, s2, c1] = [made[0], made[1], made[2]].map((a) => a?.sid as string) as [string, string, string];
    for (const [sid, status] of [
      [s1, 'suspended'],
      [s2, 'suspended'],
      [c1, 'closed'],
    ]) {
      const r = await call(em, 'POST', accountPath(sid as string), { form: { Status: status as string } });
      assert.equal(r.status, 200, r.text);
    }
    const sids = async (q: string): Promise<string[]> => (await allPages(em, `${ACCOUNTS}?${q}&PageSize=1000`)).flatMap((p) => p.json.accounts.map((a: { sid: string }) => a.sid));
    assert.deepEqual((await sids('Status=suspended')).sort(), [s1, s2].sort());
    assert.deepEqual(await sids('Status=closed'), [c1]);
    const active = await sids('Status=active');
    assert.equal(active.length, 251 + 3 - 3);
    assert.ok(!active.includes(s1) && !active.includes(c1));
    const bad = await call(em, 'GET', `${ACCOUNTS}?Status=Active`);
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /Status "Active" is not one of active, suspended, closed/);
  });

  test("a subaccount's credentials list only itself; an API key may not list accounts", async () => {
    const sub = made[10] as { sid: string; auth_token: string };
    const r = await call(em, 'GET', ACCOUNTS, { auth: [sub.sid, sub.auth_token] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.json.accounts.map((a: { sid: string }) => a.sid),
      [sub.sid],
    );
    const key = await call(em, 'GET', ACCOUNTS, { auth: [em.apiKeySid, em.apiKeySecret] });
    assert.equal(key.status, 401);
    assert.equal(key.json.code, 20003);
  });
});

describe('Accounts: create, rename, suspend, close', () => {
  let em: RunningEmulator;
  before(async () => {
    em = await startEmulator({ subaccounts: 1 });
  });
  after(async () => {
    await em.close();
  });

  test('POST /Accounts.json creates a subaccount of the caller, with Twilio\'s default name', async () => {
    const named = await call(em, 'POST', ACCOUNTS, { form: { FriendlyName: 'acme corp' } });
    assert.equal(named.status, 201, named.text);
    assert.equal(named.json.friendly_name, 'acme corp');
    assert.equal(named.json.owner_account_sid, em.accountSid);
    assert.equal(named.json.status, 'active');
    assert.match(named.json.auth_token, /^[0-9a-f]{32}$/);
    const fetched = await call(em, 'GET', accountPath(named.json.sid), { auth: [named.json.sid, named.json.auth_token] });
    assert.equal(fetched.status, 200);
    const unnamed = await call(em, 'POST', ACCOUNTS, { form: {} });
    assert.equal(unnamed.status, 201);
    assert.match(unnamed.json.friendly_name, /^SubAccount Created at \d{4}-\d\d-\d\d \d\d:\d\d (am|pm)$/);
    const long = await call(em, 'POST', ACCOUNTS, { form: { FriendlyName: 'x'.repeat(65) } });
    assert.equal(long.status, 400);
  });

  test('a subaccount cannot create subaccounts', async () => {
    const sub = await call(em, 'POST', ACCOUNTS, { form: { FriendlyName: 'parent-made' } });
    const r = await call(em, 'POST', ACCOUNTS, { form: { FriendlyName: 'grandchild' }, auth: [sub.json.sid, sub.json.auth_token] });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 20403);
    assert.match(r.json.message, /subaccounts cannot create subaccounts/);
    const listed = await call(em, 'GET', `${ACCOUNTS}?FriendlyName=grandchild`);
    assert.equal(listed.json.accounts.length, 0);
  });

  test('FriendlyName can be changed by the parent and by the subaccount itself', async () => {
    const sub = (await call(em, 'POST', ACCOUNTS, { form: {} })).json;
    const r1 = await call(em, 'POST', accountPath(sub.sid), { form: { FriendlyName: 'renamed' } });
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.json.friendly_name, 'renamed');
    const r2 = await call(em, 'POST', accountPath(sub.sid), { form: { FriendlyName: 'by itself' }, auth: [sub.sid, sub.auth_token] });
    assert.equal(r2.json.friendly_name, 'by itself');
  });

  test("only the parent changes a subaccount's Status, and the main account's Status cannot change", async () => {
    const sub = (await call(em, 'POST', ACCOUNTS, { form: {} })).json;
    const self = await call(em, 'POST', accountPath(sub.sid), { form: { Status: 'suspended' }, auth: [sub.sid, sub.auth_token] });
    assert.equal(self.status, 403, self.text);
    assert.equal(self.json.code, 20403);
    const main = await call(em, 'POST', accountPath(em.accountSid), { form: { Status: 'suspended' } });
    assert.equal(main.status, 403, main.text);
    const bad = await call(em, 'POST', accountPath(sub.sid), { form: { Status: 'paused' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 20001);
    const other = await call(em, 'POST', accountPath(em.subaccountSids[0] as string), { form: { Status: 'suspended' }, auth: [sub.sid, sub.auth_token] });
    assert.equal(other.status, 404, 'a sibling is not visible');
    assert.equal((await call(em, 'GET', accountPath(sub.sid))).json.status, 'active');
  });

  test("a suspended subaccount's credentials are refused (401, 20005) until it is reactivated", async () => {
    const sub = (await call(em, 'POST', ACCOUNTS, { form: {} })).json;
    const auth: [string, string] = [sub.sid, sub.auth_token];
    assert.equal((await call(em, 'GET', triggersPath(sub.sid), { auth })).status, 200);
    const s = await call(em, 'POST', accountPath(sub.sid), { form: { Status: 'suspended' } });
    assert.equal(s.json.status, 'suspended');
    const refused = await call(em, 'GET', triggersPath(sub.sid), { auth });
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.json.code, 20005);
    assert.equal((await call(em, 'GET', accountPath(sub.sid), { auth })).status, 401);
    // the parent still reads it (and lists it)
    assert.equal((await call(em, 'GET', triggersPath(sub.sid))).status, 200);
    const back = await call(em, 'POST', accountPath(sub.sid), { form: { Status: 'active' } });
    assert.equal(back.json.status, 'active');
    assert.equal((await call(em, 'GET', triggersPath(sub.sid), { auth })).status, 200);
  });

  test('closed is final: credentials refused (401, 20003) and Status cannot go back (21479)', async () => {
    const sub = (await call(em, 'POST', ACCOUNTS, { form: {} })).json;
    const closed = await call(em, 'POST', accountPath(sub.sid), { form: { Status: 'closed' } });
    assert.equal(closed.status, 200, closed.text);
    assert.equal(closed.json.status, 'closed');
    const refused = await call(em, 'GET', triggersPath(sub.sid), { auth: [sub.sid, sub.auth_token] });
    assert.equal(refused.status, 401);
    assert.equal(refused.json.code, 20003);
    for (const status of ['active', 'suspended']) {
      const r = await call(em, 'POST', accountPath(sub.sid), { form: { Status: status } });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.code, 21479);
    }
    assert.equal((await call(em, 'GET', accountPath(sub.sid))).json.status, 'closed');
  });

  test("a suspended subaccount's triggers do not fire; they are evaluated again on reactivation", async () => {
    const rx = await startReceiver();
    try {
      const sub = (await call(em, 'POST', ACCOUNTS, { form: {} })).json;
      const t = await call(em, 'POST', triggersPath(sub.sid), { form: { CallbackUrl: rx.url, TriggerValue: '10', UsageCategory: 'sms', TriggerBy: 'count' } });
      assert.equal(t.status, 201, t.text);
      await call(em, 'POST', accountPath(sub.sid), { form: { Status: 'suspended' } });
      const u = await control(em, 'POST', '/emulator/usage', { AccountSid: sub.sid, Category: 'sms', Count: '20' });
      assert.equal(u.status, 200, u.text);
      await em.idle();
      assert.equal(rx.received.length, 0);
      assert.equal((await call(em, 'GET', `/2010-04-01/Accounts/${sub.sid}/Usage/Triggers/${t.json.sid}.json`)).json.date_fired, null);
      await call(em, 'POST', accountPath(sub.sid), { form: { Status: 'active' } });
      await em.idle();
      assert.equal(rx.received.length, 1);
      assert.notEqual((await call(em, 'GET', `/2010-04-01/Accounts/${sub.sid}/Usage/Triggers/${t.json.sid}.json`)).json.date_fired, null);
    } finally {
      await rx.close();
    }
  });

  test('an account status survives a restart with --state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'utrig-accounts-'));
    try {
      const statePath = join(dir, 'state.json');
      const a = await startEmulator({ statePath });
      const sub = (await call(a, 'POST', ACCOUNTS, { form: { FriendlyName: 'kept' } })).json;
      await call(a, 'POST', accountPath(sub.sid), { form: { Status: 'suspended' } });
      await a.close();
      const b = await startEmulator({ statePath });
      try {
        const r = await call(b, 'GET', accountPath(sub.sid));
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.status, 'suspended');
      } finally {
        await b.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('response headers and the concurrency limit', () => {
  test('every API answer has a unique Twilio-Request-Id (RQ + 32 hex), errors included', async () => {
    const em = await startEmulator();
    try {
      const answers = await Promise.all([
        ...Array.from({ length: 10 }, () => call(em, 'GET', triggersPath(em.accountSid))),
        call(em, 'GET', triggersPath(em.accountSid), { auth: null }),
        call(em, 'GET', '/2010-04-01/Nope.json'),
      ]);
      assert.deepEqual(
        answers.map((r) => r.status),
        [...Array(10).fill(200), 401, 404],
      );
      const ids = answers.map((r) => r.headers.get('twilio-request-id') ?? '');
      for (const id of ids) assert.match(id, /^RQ[0-9a-f]{32}$/);
      assert.equal(new Set(ids).size, ids.length);
      const ctl = await control(em, 'GET', '/emulator/clock');
      assert.equal(ctl.headers.get('twilio-request-id'), null, 'control routes are not the API');
    } finally {
      await em.close();
    }
  });

  test('Twilio-Concurrent-Requests counts the family in flight during the latency', async () => {
    const em = await startEmulator({ subaccounts: 1, latencyMs: 400 });
    try {
      const sub = em.subaccountSids[0] as string;
      const answers = await Promise.all([
        call(em, 'GET', triggersPath(em.accountSid)),
        call(em, 'GET', triggersPath(sub)),
        call(em, 'GET', accountPath(sub)),
      ]);
      assert.deepEqual(answers.map((r) => r.headers.get('twilio-concurrent-requests')).sort(), ['1', '2', '3']);
      const alone = await call(em, 'GET', triggersPath(em.accountSid));
      assert.equal(alone.headers.get('twilio-concurrent-requests'), '1');
    } finally {
      await em.close();
    }
  });

  test('past the limit, a request gets 429, code 20429 and Retry-After, and is in the request log', async () => {
    const limit = 3;
    const em = await startEmulator({ subaccounts: 1, latencyMs: 500, concurrencyLimit: limit });
    try {
      const sub = em.subaccountSids[0] as string;
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: limit + 1 }, (_, i) => call(em, 'GET', triggersPath(i % 2 === 0 ? em.accountSid : sub))),
      );
      const statuses = answers.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const refused = answers.find((r) => r.status === 429) as Res;
      assert.equal(refused.json.code, 20429);
      assert.equal(refused.json.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.match(refused.headers.get('twilio-request-id') ?? '', /^RQ[0-9a-f]{32}$/);
      assert.equal(refused.headers.get('twilio-concurrent-requests'), String(limit));
      assert.ok(Date.now() - started >= 450, 'the others were answered after the latency');
      assert.equal(em.requests.filter((r) => r.status === 429).length, 1);
      assert.equal(em.requests.filter((r) => r.status === 200).length, limit);
      // once they are done, the family may send again
      assert.equal((await call(em, 'GET', triggersPath(sub))).status, 200);
    } finally {
      await em.close();
    }
  });

  test('a path without .json is refused with a JSON 404 that says to add .json', async () => {
    const em = await startEmulator();
    try {
      for (const path of [
        `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers`,
        `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers.xml`,
        `/2010-04-01/Accounts/${em.accountSid}`,
        '/2010-04-01/Accounts',
      ]) {
        const r = await call(em, 'GET', path);
        assert.equal(r.status, 404, path);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(r.json.code, 20404);
        const bare = path.replace(/\.xml$/, '');
        assert.ok(r.json.message.includes(`${bare}.json`), r.json.message);
      }
      const created = await call(em, 'POST', `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers`, {
        form: { CallbackUrl: 'https://example.com/h', TriggerValue: '5', UsageCategory: 'sms' },
      });
      assert.equal(created.status, 404);
      assert.equal(em.store.triggerCount(em.accountSid), 0, 'nothing was created');
      assert.equal((await call(em, 'GET', '/2010-04-01/Accounts/Nope/Whatever')).json.message, 'The requested resource /2010-04-01/Accounts/Nope/Whatever was not found');
    } finally {
      await em.close();
    }
  });

  test('utrig emulator --subaccounts 3 --latency 300 --concurrency-limit 2 seeds 3 subaccounts and limits concurrency', async () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' };
    const args = [BIN, 'emulator', '--port', '0', '--subaccounts', '3', '--latency', '300', '--concurrency-limit', '2'];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      let out = '';
      let err = '';
      const em = await new Promise<RunningEmulator>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`emulator did not start in 15 s\n${out}\n${err}`)), 15_000);
        const check = (): void => {
          const url = /listening on (http:\/\/\S+)/.exec(err)?.[1];
          const accountSid = /TWILIO_ACCOUNT_SID=(\S+)/.exec(out)?.[1];
          const authToken = /TWILIO_AUTH_TOKEN=(\S+)/.exec(out)?.[1];
          if (!url || !accountSid || !authToken) return;
          clearTimeout(timer);
          resolve({ url, accountSid, authToken } as RunningEmulator);
        };
        child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), check()));
        child.stderr.setEncoding('utf8').on('data', (d: string) => ((err += d), check()));
        child.once('exit', (code) => reject(new Error(`emulator exited with ${code}\n${out}\n${err}`)));
      });
      const listed = await call(em, 'GET', ACCOUNTS);
      assert.equal(listed.json.accounts.length, 4, listed.text);
      const answers = await Promise.all([1, 2, 3].map(() => call(em, 'GET', triggersPath(em.accountSid))));
      assert.deepEqual(answers.map((r) => r.status).sort(), [200, 200, 429]);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('utrig emulator --concurrency-limit and --subaccounts are parsed and bounded', () => {
    assert.equal(parseEmulatorOptions({ concurrencyLimit: '20' }).concurrencyLimit, 20);
    assert.equal(parseEmulatorOptions({}).concurrencyLimit, undefined);
    assert.equal(parseEmulatorOptions({ subaccounts: '10000' }).subaccounts, 10_000);
    for (const v of ['0', '-1', 'many', '1.5']) {
      assert.throws(
        () => parseEmulatorOptions({ concurrencyLimit: v }),
        (e: unknown) => e instanceof UsageError && /^--concurrency-limit ".*" must be an integer from 1 to 100000$/.test(e.message),
        v,
      );
    }
  });
});
