import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { call, control, startReceiver, triggersPath, type Received } from './emulator-helpers.js';

/** Independent of src/api/signature.ts on purpose: Twilio's documented algorithm, written out again. */
function twilioSignature(token: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', token).update(data).digest('base64');
}

function formOf(r: Received): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(r.body));
}

describe('trigger firing and callbacks', () => {
  let em: RunningEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    em = await startEmulator({ now: new Date('2024-01-31T22:00:00Z'), retryDelayMs: 5 });
    receiver = await startReceiver([200]);
  });
  after(async () => {
    await em.close();
    await receiver.close();
  });

  async function newAccount(): Promise<{ sid: string; auth: [string, string]; token: string }> {
    const a = (await control(em, 'POST', '/emulator/accounts', { FriendlyName: 'firing' })).json;
    return { sid: a.sid, auth: [a.sid, a.auth_token], token: a.auth_token };
  }

  async function usage(account: string, category: string, fields: Record<string, string>): Promise<void> {
    const r = await control(em, 'POST', '/emulator/usage', { AccountSid: account, Category: category, ...fields });
    assert.equal(r.status, 200, r.text);
  }

  function deliveriesFor(sid: string): typeof em.deliveries {
    return em.deliveries.filter((d) => d.trigger_sid === sid);
  }

  test('fires once per daily and monthly period across day and month boundaries', async () => {
    await control(em, 'POST', '/emulator/clock', { Now: '2024-01-31T22:00:00Z' });
    const a = await newAccount();
    const mk = async (Recurring: string, TriggerValue: string): Promise<string> => {
      const r = await call(em, 'POST', triggersPath(a.sid), {
        form: { CallbackUrl: receiver.url, UsageCategory: 'sms', TriggerBy: 'count', TriggerValue, Recurring },
        auth: a.auth,
      });
      assert.equal(r.status, 201, r.text);
      return r.json.sid;
    };
    const daily = await mk('daily', '5');
    const monthly = await mk('monthly', '8');
    const once = await mk('', '3');

    await usage(a.sid, 'sms', { Count: '4' });
    await em.idle();
    assert.equal(deliveriesFor(daily).length, 0);
    assert.equal(deliveriesFor(once).length, 1);
    await usage(a.sid, 'sms', { Count: '1' });
    await usage(a.sid, 'sms', { Count: '3' });
    await em.idle();
    assert.equal(deliveriesFor(daily).length, 1, 'daily fired on Jan 31');
    assert.equal(deliveriesFor(monthly).length, 1, 'monthly fired in January');
    const fetched = (await call(em, 'GET', `/2010-04-01/Accounts/${a.sid}/Usage/Triggers/${daily}.json`, { auth: a.auth })).json;
    assert.equal(fetched.date_fired, 'Wed, 31 Jan 2024 22:00:00 +0000');
    assert.equal(fetched.current_value, '8');

    // next day (and next month): clock change alone fires nothing, the period starts at zero
    const clock = await control(em, 'POST', '/emulator/clock', { Advance: String(3 * 3600) });
    assert.equal(clock.json.now.slice(0, 13), '2024-02-01T01');
    await em.idle();
    assert.equal(deliveriesFor(daily).length, 1);
    const feb = (await call(em, 'GET', `/2010-04-01/Accounts/${a.sid}/Usage/Triggers/${daily}.json`, { auth: a.auth })).json;
    assert.equal(feb.current_value, '0');
    await usage(a.sid, 'sms', { Count: '5' });
    await usage(a.sid, 'sms', { Count: '5' });
    await em.idle();
    assert.equal(deliveriesFor(daily).length, 2, 'daily fires again on Feb 1, once');
    assert.equal(deliveriesFor(monthly).length, 2, 'monthly fires again in February, once');
    assert.equal(deliveriesFor(once).length, 1, 'non-recurring never fires twice');
    const tokens = deliveriesFor(daily).map((d) => d.idempotency_token);
    assert.deepEqual(tokens, [`${a.sid}-FIRES-${daily}-2024-01-31`, `${a.sid}-FIRES-${daily}-2024-02-01`]);
    assert.deepEqual(
      deliveriesFor(monthly).map((d) => d.idempotency_token),
      [`${a.sid}-FIRES-${monthly}-2024-01-01`, `${a.sid}-FIRES-${monthly}-2024-02-01`],
    );
    await usage(a.sid, 'sms', { Count: '50' });
    await em.idle();
    assert.equal(deliveriesFor(daily).length, 2);
    assert.equal(deliveriesFor(monthly).length, 2);
  });

  test('totalprice sums price across categories', async () => {
    const a = await newAccount();
    const r = await call(em, 'POST', triggersPath(a.sid), {
      form: { CallbackUrl: receiver.url, UsageCategory: 'totalprice', TriggerBy: 'price', TriggerValue: '1.5' },
      auth: a.auth,
    });
    assert.equal(r.status, 201, r.text);
    await usage(a.sid, 'sms', { Count: '100', Price: '0.75' });
    await usage(a.sid, 'calls', { Usage: '10', Price: '0.5' });
    await em.idle();
    assert.equal(deliveriesFor(r.json.sid).length, 0);
    const mid = (await call(em, 'GET', r.json.uri, { auth: a.auth })).json;
    assert.equal(mid.current_value, '1.25');
    await usage(a.sid, 'recordings', { Price: '0.25' });
    await em.idle();
    const ds = deliveriesFor(r.json.sid);
    assert.equal(ds.length, 1);
    assert.equal(ds[0]?.params.CurrentValue, '1.5');
    assert.equal(ds[0]?.params.UsageCategory, 'totalprice');
  });

  test('a trigger already over its value at creation fires at once', async () => {
    const a = await newAccount();
    await usage(a.sid, 'mms', { Count: '10' });
    const r = await call(em, 'POST', triggersPath(a.sid), {
      form: { CallbackUrl: receiver.url, UsageCategory: 'mms', TriggerBy: 'count', TriggerValue: '10' },
      auth: a.auth,
    });
    await em.idle();
    assert.equal(deliveriesFor(r.json.sid).length, 1);
  });

  test('100 concurrent increments fire a trigger exactly once', async () => {
    const a = await newAccount();
    const r = await call(em, 'POST', triggersPath(a.sid), {
      form: { CallbackUrl: receiver.url, UsageCategory: 'calls', TriggerBy: 'usage', TriggerValue: '50' },
      auth: a.auth,
    });
    const before = receiver.received.length;
    const results = await Promise.all(Array.from({ length: 100 }, () => control(em, 'POST', '/emulator/usage', { AccountSid: a.sid, Category: 'calls', Usage: '1' })));
    assert.ok(results.every((x) => x.status === 200));
    await em.idle();
    assert.equal(deliveriesFor(r.json.sid).length, 1);
    const mine = receiver.received.slice(before).filter((x) => formOf(x).UsageTriggerSid === r.json.sid);
    assert.equal(mine.length, 1);
    assert.equal((await call(em, 'GET', r.json.uri, { auth: a.auth })).json.current_value, '100');
  });

  test('POST callback is a signed form with every parameter', async () => {
    const a = await newAccount();
    const r = await call(em, 'POST', triggersPath(a.sid), {
      form: { CallbackUrl: receiver.url, UsageCategory: 'sms', TriggerBy: 'count', TriggerValue: '2', Recurring: 'daily' },
      auth: a.auth,
    });
    const before = receiver.received.length;
    await usage(a.sid, 'sms', { Count: '2' });
    await em.idle();
    const got = receiver.received.slice(before);
    assert.equal(got.length, 1);
    const req = got[0] as Received;
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    const params = formOf(req);
    assert.deepEqual(Object.keys(params).sort(), [
      'AccountSid', 'CurrentValue', 'DateFired', 'IdempotencyToken', 'Recurring', 'TriggerBy', 'TriggerValue',
      'UsageCategory', 'UsageRecordUri', 'UsageTriggerSid',
    ]);
    assert.equal(params.AccountSid, a.sid);
    assert.equal(params.UsageTriggerSid, r.json.sid);
    assert.equal(params.Recurring, 'daily');
    assert.equal(params.TriggerValue, '2');
    assert.equal(params.CurrentValue, '2');
    assert.equal(params.UsageRecordUri, `/2010-04-01/Accounts/${a.sid}/Usage/Records.json?Category=sms`);
    assert.match(params.DateFired ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    const url = receiver.url.replace(/\/hook$/, '') + req.url;
    const expected = twilioSignature(a.token, url, params);
    assert.equal(req.headers['x-twilio-signature'], expected);
    assert.notEqual(twilioSignature(em.authToken, url, params), expected, 'signed with the owning account token');
  });

  test('GET callback carries params in the query and signs the full URL', async () => {
    const a = await newAccount();
    const r = await call(em, 'POST', triggersPath(a.sid), {
      form: { CallbackUrl: `${receiver.url}?tag=x`, CallbackMethod: 'GET', UsageCategory: 'sms', TriggerBy: 'count', TriggerValue: '1' },
      auth: a.auth,
    });
    const before = receiver.received.length;
    await usage(a.sid, 'sms', { Count: '1' });
    await em.idle();
    const req = receiver.received.slice(before)[0] as Received;
    assert.equal(req.method, 'GET');
    const full = receiver.url.replace(/\/hook$/, '') + req.url;
    const q = new URL(full).searchParams;
    assert.equal(q.get('tag'), 'x');
    assert.equal(q.get('UsageTriggerSid'), r.json.sid);
    assert.equal(req.headers['x-twilio-signature'], twilioSignature(a.token, full, {}));
  });

  test('retries three times after 5xx with one idempotency token, never after 4xx', async () => {
    const failing = await startReceiver([500]);
    const rejecting = await startReceiver([404]);
    try {
      const a = await newAccount();
      const mk = async (url: string): Promise<string> =>
        (await call(em, 'POST', triggersPath(a.sid), { form: { CallbackUrl: url, UsageCategory: 'calleridlookups', TriggerBy: 'count', TriggerValue: '1' }, auth: a.auth })).json.sid;
      const t5 = await mk(failing.url);
      const t4 = await mk(rejecting.url);
      await usage(a.sid, 'calleridlookups', { Count: '1' });
      await em.idle();
      assert.equal(failing.received.length, 4);
      assert.equal(new Set(failing.received.map((x) => formOf(x).IdempotencyToken)).size, 1);
      assert.deepEqual(deliveriesFor(t5).map((d) => [d.attempt, d.status]), [[1, 500], [2, 500], [3, 500], [4, 500]]);
      assert.equal(rejecting.received.length, 1);
      assert.deepEqual(deliveriesFor(t4).map((d) => [d.attempt, d.status]), [[1, 404]]);
    } finally {
      await failing.close();
      await rejecting.close();
    }
  });

  test('a refused connection is retried and recorded with its error', async () => {
    const gone = await startReceiver([200]);
    const deadUrl = gone.url;
    await gone.close();
    const a = await newAccount();
    const sid = (await call(em, 'POST', triggersPath(a.sid), { form: { CallbackUrl: deadUrl, UsageCategory: 'calleridlookups', TriggerBy: 'count', TriggerValue: '1' }, auth: a.auth })).json.sid;
    await usage(a.sid, 'calleridlookups', { Count: '1' });
    await em.idle();
    const ds = deliveriesFor(sid);
    assert.equal(ds.length, 4);
    assert.ok(ds.every((d) => d.status === null && d.error !== null));
    const listed = (await control(em, 'GET', '/emulator/deliveries')).json as { trigger_sid: string }[];
    assert.equal(listed.filter((d) => d.trigger_sid === sid).length, 4);
  });
});
