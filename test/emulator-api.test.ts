import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN, type RunningEmulator } from '../src/emulator/server.js';
import { call, control, triggersPath } from './emulator-helpers.js';

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
const base = { CallbackUrl: 'https://example.com/hook', TriggerValue: '1000', UsageCategory: 'sms' };

describe('emulator API over HTTP', () => {
  let em: RunningEmulator;
  before(async () => {
    em = await startEmulator({ now: new Date('2024-03-10T12:00:00Z') });
  });
  after(async () => {
    await em.close();
  });

  test('local credentials are stable and well-formed', () => {
    assert.match(LOCAL_ACCOUNT_SID, /^AC[0-9a-f]{32}$/);
    assert.match(LOCAL_AUTH_TOKEN, /^[0-9a-f]{32}$/);
    assert.equal(em.accountSid, LOCAL_ACCOUNT_SID);
    assert.match(em.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('fetch account', async () => {
    const r = await call(em, 'GET', `/2010-04-01/Accounts/${em.accountSid}.json`);
    assert.equal(r.status, 200);
    assert.equal(r.json.sid, em.accountSid);
    assert.equal(r.json.status, 'active');
    assert.equal(r.json.owner_account_sid, em.accountSid);
    assert.equal(r.json.uri, `/2010-04-01/Accounts/${em.accountSid}.json`);
  });

  test('create, fetch, update, delete with the exact JSON fields', async () => {
    const c = await call(em, 'POST', triggersPath(em.accountSid), { form: base });
    assert.equal(c.status, 201);
    const t = c.json;
    assert.deepEqual(Object.keys(t).sort(), [
      'account_sid', 'api_version', 'callback_method', 'callback_url', 'current_value', 'date_created', 'date_fired',
      'date_updated', 'friendly_name', 'recurring', 'sid', 'trigger_by', 'trigger_value', 'uri', 'usage_category', 'usage_record_uri',
    ]);
    assert.match(t.sid, /^UT[0-9a-f]{32}$/);
    assert.equal(t.account_sid, em.accountSid);
    assert.equal(t.api_version, '2010-04-01');
    assert.equal(t.callback_method, 'POST');
    assert.equal(t.trigger_by, 'usage');
    assert.equal(t.trigger_value, '1000');
    assert.equal(t.current_value, '0');
    assert.equal(t.recurring, null);
    assert.equal(t.date_fired, null);
    assert.equal(t.friendly_name, 'Trigger for sms at usage of 1000');
    assert.match(t.date_created, RFC2822);
    assert.equal(t.date_created, 'Sun, 10 Mar 2024 12:00:00 +0000');
    assert.equal(t.uri, `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers/${t.sid}.json`);
    assert.equal(t.usage_record_uri, `/2010-04-01/Accounts/${em.accountSid}/Usage/Records.json?Category=sms`);

    const f = await call(em, 'GET', t.uri);
    assert.equal(f.status, 200);
    assert.deepEqual(f.json, t);

    const u = await call(em, 'POST', t.uri, {
      form: { FriendlyName: 'renamed', CallbackMethod: 'GET', CallbackUrl: 'http://example.org/x', UsageCategory: 'calls', TriggerValue: '5' },
    });
    assert.equal(u.status, 200);
    assert.equal(u.json.friendly_name, 'renamed');
    assert.equal(u.json.callback_method, 'GET');
    assert.equal(u.json.callback_url, 'http://example.org/x');
    // category and value cannot be updated; Twilio ignores them
    assert.equal(u.json.usage_category, 'sms');
    assert.equal(u.json.trigger_value, '1000');

    const d = await call(em, 'DELETE', t.uri);
    assert.equal(d.status, 204);
    assert.equal(d.text, '');
    const gone = await call(em, 'GET', t.uri);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.code, 20404);
  });

  test('list filters by Recurring, TriggerBy and UsageCategory', async () => {
    const acct = (await control(em, 'POST', '/emulator/accounts', { FriendlyName: 'filters' })).json;
    const auth: [string, string] = [acct.sid, acct.auth_token];
    const path = triggersPath(acct.sid);
    const specs = [
      { UsageCategory: 'sms', Recurring: 'daily', TriggerBy: 'count' },
      { UsageCategory: 'sms', Recurring: 'monthly', TriggerBy: 'price' },
      { UsageCategory: 'calls', Recurring: '', TriggerBy: 'usage' },
      { UsageCategory: 'calls', Recurring: 'alltime', TriggerBy: 'count' },
      { UsageCategory: 'totalprice', Recurring: 'yearly', TriggerBy: 'price' },
    ];
    for (const s of specs) {
      const r = await call(em, 'POST', path, { form: { ...base, ...s }, auth });
      assert.equal(r.status, 201, r.text);
    }
    const list = async (q: string): Promise<any[]> => {
      const r = await call(em, 'GET', `${path}?${q}`, { auth });
      assert.equal(r.status, 200, r.text);
      return r.json.usage_triggers;
    };
    assert.equal((await list('')).length, 5);
    assert.deepEqual((await list('Recurring=daily')).map((t) => t.usage_category), ['sms']);
    assert.equal((await list('Recurring=')).length, 2);
    assert.equal((await list('Recurring=alltime')).length, 2);
    assert.ok((await list('Recurring=alltime')).every((t) => t.recurring === null));
    assert.equal((await list('TriggerBy=count')).length, 2);
    assert.equal((await list('UsageCategory=calls')).length, 2);
    assert.equal((await list('UsageCategory=sms&TriggerBy=price')).length, 1);
    const env = (await call(em, 'GET', `${path}?UsageCategory=sms&PageSize=1`, { auth })).json;
    assert.equal(env.page, 0);
    assert.equal(env.page_size, 1);
    assert.equal(env.start, 0);
    assert.equal(env.end, 0);
    assert.equal(env.previous_page_uri, null);
    assert.match(env.first_page_uri, /^\/2010-04-01\/.*UsageCategory=sms.*Page=0/);
    assert.match(env.next_page_uri, /UsageCategory=sms&PageSize=1&Page=1&PageToken=PAUT[0-9a-f]{32}$/);
  });

  test('walks 1,000 triggers via next_page_uri; the 1,001st is refused', async () => {
    const acct = (await control(em, 'POST', '/emulator/accounts', { FriendlyName: 'thousand' })).json;
    const auth: [string, string] = [acct.sid, acct.auth_token];
    const path = triggersPath(acct.sid);
    const created = new Set<string>();
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, j) => call(em, 'POST', path, { form: { ...base, TriggerValue: String(i + j + 1) }, auth })),
      );
      for (const r of batch) {
        assert.equal(r.status, 201, r.text);
        created.add(r.json.sid);
      }
    }
    const over = await call(em, 'POST', path, { form: base, auth });
    assert.equal(over.status, 400);
    assert.equal(over.json.code, 20001);
    assert.match(over.json.message, /1000/);

    const seen: string[] = [];
    let next: string | null = `${path}?PageSize=77`;
    let pages = 0;
    while (next) {
      const r = await call(em, 'GET', next, { auth });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.page, pages);
      for (const u of ['uri', 'first_page_uri']) assert.ok(r.json[u].startsWith('/2010-04-01/'), r.json[u]);
      if (r.json.next_page_uri) assert.ok(r.json.next_page_uri.startsWith('/2010-04-01/'));
      if (r.json.previous_page_uri) assert.ok(r.json.previous_page_uri.startsWith('/2010-04-01/'));
      seen.push(...r.json.usage_triggers.map((t: { sid: string }) => t.sid));
      next = r.json.next_page_uri;
      pages++;
      // deleting and creating between pages must not shift the walk
      if (pages === 3) {
        const victim = seen[seen.length - 1] as string;
        assert.equal((await call(em, 'DELETE', `/2010-04-01/Accounts/${acct.sid}/Usage/Triggers/${victim}.json`, { auth })).status, 204);
        created.delete(victim);
      }
    }
    assert.equal(pages, Math.ceil(1000 / 77));
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.equal(seen.length, 1000);
    for (const sid of created) assert.ok(seen.includes(sid));

    const big = await call(em, 'GET', `${path}?PageSize=1000`, { auth });
    assert.equal(big.json.usage_triggers.length, 999);
    assert.equal(big.json.next_page_uri, null);
  });

  test('+30 offset is relative to the current value of the watched field', async () => {
    const acct = (await control(em, 'POST', '/emulator/accounts', { FriendlyName: 'offset' })).json;
    const auth: [string, string] = [acct.sid, acct.auth_token];
    assert.equal((await control(em, 'POST', '/emulator/usage', { AccountSid: acct.sid, Category: 'sms', Count: '12', Usage: '57' })).status, 200);
    const r = await call(em, 'POST', triggersPath(acct.sid), { form: { ...base, TriggerValue: '+30' }, auth });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.trigger_value, '87');
    assert.equal(r.json.current_value, '57');
    const byCount = await call(em, 'POST', triggersPath(acct.sid), { form: { ...base, TriggerValue: '+2.5', TriggerBy: 'count' }, auth });
    assert.equal(byCount.json.trigger_value, '14.5');
  });

  test('usage records report all-time totals as strings', async () => {
    const acct = (await control(em, 'POST', '/emulator/accounts', { FriendlyName: 'records' })).json;
    const auth: [string, string] = [acct.sid, acct.auth_token];
    const u = await control(em, 'POST', '/emulator/usage', { AccountSid: acct.sid, Category: 'calls', Count: '2', Usage: '3.5', Price: '0.0085' });
    assert.deepEqual(u.json, { account_sid: acct.sid, category: 'calls', count: '2', usage: '3.5', price: '0.0085' });
    await control(em, 'POST', '/emulator/usage', { AccountSid: acct.sid, Category: 'calls', Price: '0.0015' });
    const r = await call(em, 'GET', `/2010-04-01/Accounts/${acct.sid}/Usage/Records.json?Category=calls`, { auth });
    assert.equal(r.status, 200);
    assert.equal(r.json.usage_records.length, 1);
    const rec = r.json.usage_records[0];
    assert.equal(rec.category, 'calls');
    assert.equal(rec.count, '2');
    assert.equal(rec.usage, '3.5');
    assert.equal(rec.price, '0.01');
    assert.equal(rec.price_unit, 'usd');
    const all = await call(em, 'GET', `/2010-04-01/Accounts/${acct.sid}/Usage/Records.json`, { auth });
    assert.deepEqual(all.json.usage_records.map((x: { category: string }) => x.category), ['calls', 'totalprice']);
    assert.equal(all.json.usage_records[1].price, '0.01');
  });

  test('authentication errors are 401 / 20003', async () => {
    for (const auth of [null, [em.accountSid, 'wrong'] as [string, string], ['ACnope', 'x'] as [string, string]]) {
      const r = await call(em, 'GET', triggersPath(em.accountSid), { auth });
      assert.equal(r.status, 401);
      assert.equal(r.json.code, 20003);
      assert.equal(r.json.status, 401);
      assert.equal(r.json.more_info, 'https://www.twilio.com/docs/errors/20003');
      assert.match(r.headers.get('www-authenticate') ?? '', /Basic/);
    }
  });

  test('not found and method errors', async () => {
    const cases: [string, string, number, number][] = [
      ['GET', `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers/UT00000000000000000000000000000000.json`, 404, 20404],
      ['GET', `/2010-04-01/Accounts/AC00000000000000000000000000000000/Usage/Triggers.json`, 404, 20404],
      ['GET', `/2010-04-01/Accounts/${em.accountSid}/Nope.json`, 404, 20404],
      ['DELETE', triggersPath(em.accountSid), 405, 20004],
      ['PUT', `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers/UT00000000000000000000000000000000.json`, 405, 20004],
    ];
    for (const [method, path, status, code] of cases) {
      const r = await call(em, method, path);
      assert.equal(r.status, status, `${method} ${path}`);
      assert.equal(r.json.code, code);
      assert.equal(r.json.more_info, `https://www.twilio.com/docs/errors/${code}`);
    }
  });

  test('each validation error is 400 / 20001', async () => {
    const bad: Record<string, string>[] = [
      { CallbackUrl: '' },
      { TriggerValue: '' },
      { UsageCategory: '' },
      { CallbackMethod: 'PUT' },
      { CallbackMethod: 'HEAD' },
      { CallbackMethod: 'DELETE' },
      { FriendlyName: 'x'.repeat(65) },
      { TriggerValue: 'abc' },
      { TriggerValue: '-5' },
      { TriggerValue: '0' },
      { UsageCategory: 'not-a-category' },
      { CallbackUrl: 'not a url' },
      { CallbackUrl: 'ftp://example.com/x' },
      { CallbackUrl: '/relative/path' },
      { Recurring: 'weekly' },
      { TriggerBy: 'seconds' },
    ];
    const before = (await call(em, 'GET', `${triggersPath(em.accountSid)}?PageSize=1000`)).json.usage_triggers.length;
    for (const patch of bad) {
      const form = { ...base, ...patch };
      for (const [k, v] of Object.entries(form)) if (v === '') delete (form as Record<string, string>)[k];
      const r = await call(em, 'POST', triggersPath(em.accountSid), { form });
      assert.equal(r.status, 400, JSON.stringify(patch));
      assert.equal(r.json.code, 20001, JSON.stringify(patch));
      assert.equal(r.json.status, 400);
      assert.equal(r.json.more_info, 'https://www.twilio.com/docs/errors/20001');
    }
    const okName = await call(em, 'POST', triggersPath(em.accountSid), { form: { ...base, FriendlyName: 'y'.repeat(64) } });
    assert.equal(okName.status, 201);
    const afterCount = (await call(em, 'GET', `${triggersPath(em.accountSid)}?PageSize=1000`)).json.usage_triggers.length;
    assert.equal(afterCount, before + 1);
    for (const q of ['PageSize=0', 'PageSize=1001', 'PageSize=abc', 'Recurring=weekly', 'TriggerBy=x', 'UsageCategory=zzz', 'PageToken=garbage']) {
      const r = await call(em, 'GET', `${triggersPath(em.accountSid)}?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.code, 20001, q);
    }
    const upd = await call(em, 'POST', okName.json.uri, { form: { CallbackMethod: 'PATCH' } });
    assert.equal(upd.status, 400);
  });
});
