import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { call, control, triggersPath } from './emulator-helpers.js';
import { assertExit, harness } from './helpers.js';

// The emulator's fault rules over real HTTP: Drop=after (the request is processed and made durable,
// then the connection is destroyed unanswered) and Account= (a rule for one account's paths only).

const form = { CallbackUrl: 'https://example.com/hook', TriggerValue: '10', UsageCategory: 'sms' };

describe('Drop=after: processed, then the answer is dropped', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'utrig-faults-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  test('the create is applied and persisted with --state; the client gets no answer; the log says what was processed', async () => {
    const statePath = join(dir, 'state.json');
    let em: RunningEmulator = await startEmulator({ port: 0, statePath });
    try {
      const set = await control(em, 'POST', '/emulator/faults', { Drop: 'after', Count: '1', Method: 'POST' });
      assert.equal(set.status, 200);
      assert.equal(set.json.dropAfter, true);
      assert.equal(set.json.drop, false);
      await assert.rejects(call(em, 'POST', triggersPath(em.accountSid), { form }), 'no answer');
      const last = em.requests[em.requests.length - 1]!;
      assert.equal(last.status, 0, 'nothing was answered');
      assert.equal(last.processed, 201, 'but the create was processed');
      const listed = await call(em, 'GET', triggersPath(em.accountSid));
      assert.equal(listed.json.usage_triggers.length, 1, 'the trigger exists');
      // the rule is used up: the next create is answered
      assert.equal((await call(em, 'POST', triggersPath(em.accountSid), { form })).status, 201);
    } finally {
      await em.close();
    }
    em = await startEmulator({ port: 0, statePath });
    try {
      assert.equal((await call(em, 'GET', triggersPath(em.accountSid))).json.usage_triggers.length, 2, 'both creates survived a restart');
    } finally {
      await em.close();
    }
  });

  test('Drop=true and Drop=before drop unprocessed; anything else is refused', async () => {
    const em = await startEmulator({ port: 0 });
    try {
      for (const d of ['true', 'before']) {
        await control(em, 'POST', '/emulator/faults', { Drop: d, Count: '1', Method: 'POST' });
        await assert.rejects(call(em, 'POST', triggersPath(em.accountSid), { form }));
        assert.equal(em.requests[em.requests.length - 1]!.processed, undefined);
      }
      assert.equal(em.store.listTriggers(em.accountSid, {}).length, 0, 'nothing was created');
      const bad = await control(em, 'POST', '/emulator/faults', { Drop: 'later' });
      assert.equal(bad.status, 400);
      assert.match(bad.json.message, /^Drop must be true or before .*, after .* or false, got later$/);
    } finally {
      await em.close();
    }
  });
});

describe('Account=: a rule for one account', () => {
  test('only requests under that account match, and only they use up the count', async () => {
    const em = await startEmulator({ port: 0, subaccounts: 2 });
    try {
      const [a, b] = em.subaccountSids as [string, string];
      const set = await control(em, 'POST', '/emulator/faults', { Status: '403', Count: '2', Account: a });
      assert.equal(set.json.account, a);
      assert.equal((await call(em, 'GET', triggersPath(b))).status, 200);
      assert.equal((await call(em, 'GET', `/2010-04-01/Accounts/${em.accountSid}.json`)).status, 200);
      const refused = await call(em, 'GET', triggersPath(a));
      assert.equal(refused.status, 403);
      assert.equal(refused.json.code, 20403);
      assert.equal((await call(em, 'GET', `/2010-04-01/Accounts/${a}.json`)).status, 403, 'the account resource itself matches too');
      assert.equal((await call(em, 'GET', triggersPath(a))).status, 200, 'the count is used up');
      const bad = await control(em, 'POST', '/emulator/faults', { Status: '500', Account: 'ACnope' });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.message, 'Account must be an account SID (AC and 32 hex digits), got ACnope');
      await control(em, 'DELETE', '/emulator/faults');
      assert.equal((await control(em, 'GET', '/emulator/faults')).json.account, null);
    } finally {
      await em.close();
    }
  });
});

describe('single-account create when the answer is dropped after the create was made', () => {
  test('says the trigger may have been created and how to check (exit 5); it was sent once and exists once', async () => {
    const h = await harness();
    try {
      await h.api('POST', '/emulator/faults', { Drop: 'after', Count: '1', Method: 'POST' });
      const n = h.emu.requests.length;
      const res = await h.run(['create', '--category', 'sms', '--value', '5', '--callback-url', 'https://example.com/hook']);
      assertExit(res, 5);
      assert.match(res.stderr, /^error: the trigger may have been created: the connection to 127\.0\.0\.1:\d+ failed after the request was sent \(\w+\)$/m);
      assert.match(res.stderr, /^check with `utrig list --category sms` before creating it again$/m);
      assert.deepEqual(h.emu.requests.slice(n).map((r) => `${r.method} ${r.status} ${r.processed}`), ['POST 0 201']);
      assert.equal(h.emu.store.listTriggers(h.emu.accountSid, {}).length, 1);
    } finally {
      await h.close();
    }
  });
});
