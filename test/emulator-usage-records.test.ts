import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { call, control, triggersPath, type Res } from './emulator-helpers.js';

// The client side of these tests is written from Twilio's documentation of the Usage Records
// resource (the ListUsageRecord operation in twilio-oai's api_v2010 document and its eight list
// subresources), not from the emulator's code:
// - a UsageRecord has exactly these properties:
const RECORD_KEYS = [
  'account_sid',
  'api_version',
  'as_of',
  'category',
  'count',
  'count_unit',
  'description',
  'end_date',
  'price',
  'price_unit',
  'start_date',
  'subresource_uris',
  'uri',
  'usage',
  'usage_unit',
];
// - the list envelope, as every v2010 list:
const ENVELOPE_KEYS = ['end', 'first_page_uri', 'next_page_uri', 'page', 'page_size', 'previous_page_uri', 'start', 'uri', 'usage_records'];
// - each record's subresource_uris (the documented example), each a path under .../Usage/Records/:
const SUBRESOURCES: Record<string, string> = {
  all_time: 'AllTime',
  daily: 'Daily',
  last_month: 'LastMonth',
  monthly: 'Monthly',
  this_month: 'ThisMonth',
  today: 'Today',
  yearly: 'Yearly',
  yesterday: 'Yesterday',
};
// - dates are GMT YYYY-MM-DD; StartDate/EndDate also take offsets from today such as -30days;
// - IncludeSubaccounts defaults to true: a main account's records include its subaccounts' usage;
// - as_of is formatted YYYY-MM-DDTHH:MM:SS+00:00; URIs are relative to the API's host.
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const AS_OF = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;

type UsageRecord = Record<string, unknown> & { category: string; count: string; usage: string; price: string; start_date: string; end_date: string };

/** Reads a list the way Twilio's libraries do: follow next_page_uri (host-relative) until null. */
async function readAll(em: RunningEmulator, first: string, auth: [string, string]): Promise<{ pages: Res[]; records: UsageRecord[] }> {
  const pages: Res[] = [];
  let next: string | null = first;
  while (next !== null) {
    const r = await call(em, 'GET', next, { auth });
    assert.equal(r.status, 200, `${next}: ${r.text}`);
    assert.deepEqual(Object.keys(r.json).sort(), ENVELOPE_KEYS, next);
    pages.push(r);
    assert.ok(pages.length < 100, 'paging must end');
    next = r.json.next_page_uri;
  }
  return { pages, records: pages.flatMap((p) => p.json.usage_records as UsageRecord[]) };
}

function assertRecordShape(rec: UsageRecord, account: string): void {
  assert.deepEqual(Object.keys(rec).sort(), RECORD_KEYS);
  assert.equal(rec.account_sid, account);
  assert.equal(rec.api_version, '2010-04-01');
  assert.match(String(rec.as_of), AS_OF);
  assert.match(rec.start_date, DAY);
  assert.match(rec.end_date, DAY);
  assert.ok(rec.start_date <= rec.end_date, `${rec.start_date} <= ${rec.end_date}`);
  assert.equal(typeof rec.uri, 'string');
  assert.ok(String(rec.uri).startsWith(`/2010-04-01/Accounts/${account}/Usage/Records`), String(rec.uri));
  const subs = rec.subresource_uris as Record<string, string>;
  assert.deepEqual(Object.keys(subs).sort(), Object.keys(SUBRESOURCES));
  for (const [k, name] of Object.entries(SUBRESOURCES)) {
    assert.equal(subs[k], `/2010-04-01/Accounts/${account}/Usage/Records/${name}.json?Category=${encodeURIComponent(rec.category)}`);
  }
}

describe('Usage Records over HTTP, as Twilio documents them', () => {
  let em: RunningEmulator;
  let parent: [string, string];
  let sub: [string, string];
  let P: string;
  let S: string;

  before(async () => {
    // usage on three days: 2026-03-01 (parent), 2026-03-03 (subaccount), 2026-04-02 (parent)
    em = await startEmulator({ now: new Date('2026-03-01T10:00:00Z') });
    const made = (await control(em, 'POST', '/emulator/accounts', { FriendlyName: 'records family' })).json;
    S = made.sid;
    sub = [made.sid, made.auth_token];
    parent = [em.accountSid, em.authToken];
    P = em.accountSid;
    const use = async (account: string, form: Record<string, string>) =>
      assert.equal((await control(em, 'POST', '/emulator/usage', { AccountSid: account, ...form })).status, 200);
    await use(P, { Category: 'sms', Count: '5', Usage: '5', Price: '0.25' });
    await control(em, 'POST', '/emulator/clock', { Now: '2026-03-03T08:00:00Z' });
    await use(S, { Category: 'sms', Count: '7', Usage: '7', Price: '0.35' });
    await use(S, { Category: 'calls', Count: '2', Usage: '9' });
    await control(em, 'POST', '/emulator/clock', { Now: '2026-04-02T12:00:00Z' });
    await use(P, { Category: 'sms', Count: '11', Usage: '11', Price: '0.55' });
  });
  after(async () => {
    await em.close();
  });

  const records = (account: string, rest = '') => `/2010-04-01/Accounts/${account}/Usage/Records${rest}`;
  const one = async (path: string, auth: [string, string]): Promise<UsageRecord[]> => (await readAll(em, path, auth)).records;
  const sms = (list: UsageRecord[]) => list.filter((r) => r.category === 'sms');

  test('the list: one record per category, every documented field, all time by default', async () => {
    const list = await one(records(P, '.json'), parent);
    for (const r of list) assertRecordShape(r, P);
    const s = sms(list);
    assert.equal(s.length, 1);
    // IncludeSubaccounts is true by default: the subaccount's 7 are in
    assert.equal(s[0]!.count, '23');
    assert.equal(s[0]!.price, '1.15');
    assert.equal(s[0]!.end_date, '2026-04-02');
    assert.ok(s[0]!.start_date <= '2026-03-01');
    assert.deepEqual(list.map((r) => r.category).sort(), ['calls', 'sms', 'totalprice']);
  });

  test('IncludeSubaccounts=false keeps the account\'s own usage; a subaccount sees its own', async () => {
    const own = sms(await one(records(P, '.json?IncludeSubaccounts=false'), parent));
    assert.equal(own[0]!.count, '16');
    const mine = await one(records(S, '.json'), sub);
    assert.equal(sms(mine)[0]!.count, '7');
    assert.equal(mine.find((r) => r.category === 'calls')!.usage, '9');
    for (const r of mine) assertRecordShape(r, S);
  });

  test('StartDate and EndDate bound the usage, and come back as start_date and end_date', async () => {
    const march = sms(await one(records(P, '.json?Category=sms&StartDate=2026-03-02&EndDate=2026-03-31'), parent));
    assert.equal(march.length, 1);
    assert.equal(march[0]!.count, '7');
    assert.equal(march[0]!.start_date, '2026-03-02');
    assert.equal(march[0]!.end_date, '2026-03-31');
    const firstDay = sms(await one(records(P, '.json?Category=sms&StartDate=2026-03-01&EndDate=2026-03-01'), parent));
    assert.equal(firstDay[0]!.count, '5');
    // offsets from today (2026-04-02): -1days is 2026-04-01, -31days is 2026-03-02
    const recent = sms(await one(records(P, '.json?Category=sms&StartDate=-1days'), parent));
    assert.equal(recent[0]!.start_date, '2026-04-01');
    assert.equal(recent[0]!.count, '11');
    const month = sms(await one(records(P, '.json?Category=sms&StartDate=-31days&EndDate=%2B0days'), parent));
    assert.equal(month[0]!.start_date, '2026-03-02');
    assert.equal(month[0]!.end_date, '2026-04-02');
    assert.equal(month[0]!.count, '18');
  });

  test('a bad StartDate, EndDate or IncludeSubaccounts is a 400 naming it', async () => {
    for (const [q, name] of [
      ['StartDate=2026-13-01', 'StartDate'],
      ['EndDate=yesterday', 'EndDate'],
      ['IncludeSubaccounts=maybe', 'IncludeSubaccounts'],
    ]) {
      const r = await call(em, 'GET', records(P, `.json?${q}`), { auth: parent });
      assert.equal(r.status, 400, q);
      assert.equal(r.json.code, 20001);
      assert.match(r.json.message, new RegExp(name as string));
    }
  });

  test('Daily, Monthly and Yearly split the usage into periods that add up', async () => {
    const daily = sms(await one(records(P, '/Daily.json?Category=sms'), parent));
    for (const r of daily) assert.equal(r.start_date, r.end_date, 'a daily record covers one day');
    const byDay = Object.fromEntries(daily.filter((r) => r.count !== '0').map((r) => [r.start_date, r.count]));
    assert.deepEqual(byDay, { '2026-03-01': '5', '2026-03-03': '7', '2026-04-02': '11' });
    const monthly = sms(await one(records(P, '/Monthly.json?Category=sms'), parent));
    for (const r of monthly) assert.equal(r.start_date.slice(0, 7), r.end_date.slice(0, 7), 'a monthly record stays in its month');
    const byMonth = Object.fromEntries(monthly.filter((r) => r.count !== '0').map((r) => [r.start_date.slice(0, 7), r.count]));
    assert.deepEqual(byMonth, { '2026-03': '12', '2026-04': '11' });
    const yearly = sms(await one(records(P, '/Yearly.json?Category=sms'), parent));
    const byYear = Object.fromEntries(yearly.filter((r) => r.count !== '0').map((r) => [r.start_date.slice(0, 4), r.count]));
    assert.deepEqual(byYear, { '2026': '23' });
    for (const r of [...daily, ...monthly, ...yearly]) assertRecordShape(r, P);
    // StartDate/EndDate bound the daily list too
    const bounded = sms(await one(records(P, '/Daily.json?Category=sms&StartDate=2026-03-02&EndDate=2026-03-31'), parent));
    assert.deepEqual(bounded.filter((r) => r.count !== '0').map((r) => r.start_date), ['2026-03-03']);
  });

  test('Today, Yesterday, ThisMonth, LastMonth and AllTime cover their periods (today is 2026-04-02)', async () => {
    const expect: [string, string, string, string][] = [
      ['Today', '2026-04-02', '2026-04-02', '11'],
      ['Yesterday', '2026-04-01', '2026-04-01', '0'],
      ['ThisMonth', '2026-04-01', '2026-04-02', '11'],
      ['LastMonth', '2026-03-01', '2026-03-31', '12'],
    ];
    for (const [name, start, end, count] of expect) {
      const r = sms(await one(records(P, `/${name}.json?Category=sms`), parent));
      assert.equal(r.length, 1, name);
      assert.equal(r[0]!.start_date, start, name);
      // ThisMonth may end today or at the month's end; both include today's usage
      if (name === 'ThisMonth') assert.ok(r[0]!.end_date >= end, name);
      else assert.equal(r[0]!.end_date, end, name);
      assert.equal(r[0]!.count, count, name);
      assertRecordShape(r[0]!, P);
    }
    const all = sms(await one(records(P, '/AllTime.json?Category=sms'), parent));
    assert.equal(all[0]!.count, '23');
  });

  test('every record\'s subresource_uris resolve, and /Usage.json points at records and triggers', async () => {
    const list = await one(records(P, '.json'), parent);
    for (const r of list) {
      for (const uri of Object.values(r.subresource_uris as Record<string, string>)) {
        const { records: got } = await readAll(em, uri, parent);
        for (const x of got) assert.equal(x.category, r.category, uri);
      }
    }
    const usage = await call(em, 'GET', `/2010-04-01/Accounts/${P}/Usage.json`, { auth: parent });
    assert.equal(usage.status, 200, usage.text);
    const subs = usage.json.subresource_uris as Record<string, string>;
    assert.equal(subs.records, `/2010-04-01/Accounts/${P}/Usage/Records.json`);
    assert.equal(subs.triggers, triggersPath(P));
    for (const uri of Object.values(subs)) assert.equal((await call(em, 'GET', uri, { auth: parent })).status, 200, uri);
    // the Account resource's usage subresource is this resource
    const acct = await call(em, 'GET', `/2010-04-01/Accounts/${P}.json`, { auth: parent });
    assert.equal(acct.json.subresource_uris.usage, `/2010-04-01/Accounts/${P}/Usage.json`);
    // another account's usage is not found; only GET is allowed
    assert.equal((await call(em, 'GET', `/2010-04-01/Accounts/${P}/Usage.json`, { auth: sub })).status, 404);
    assert.equal((await call(em, 'POST', records(P, '/Daily.json'), { auth: parent, form: {} })).status, 405);
  });

  test('paging: PageSize 1 walks every record once, the filters kept in every page URI', async () => {
    const whole = await one(records(P, '/Daily.json?StartDate=2026-03-01'), parent);
    const { pages, records: walked } = await readAll(em, records(P, '/Daily.json?StartDate=2026-03-01&PageSize=1'), parent);
    assert.equal(pages.length, whole.length);
    assert.deepEqual(walked, whole);
    for (const [i, p] of pages.entries()) {
      assert.equal(p.json.page, i);
      assert.equal(p.json.page_size, 1);
      assert.equal(p.json.usage_records.length, 1);
      for (const k of ['uri', 'first_page_uri', 'next_page_uri', 'previous_page_uri']) {
        const u = p.json[k] as string | null;
        if (u === null) continue;
        assert.ok(u.startsWith(records(P, '/Daily.json?')), `${k}: ${u}`);
        assert.match(u, /StartDate=2026-03-01/, k);
      }
      assert.equal(p.json.previous_page_uri === null, i === 0);
    }
    const back = await call(em, 'GET', pages[1]!.json.previous_page_uri, { auth: parent });
    assert.deepEqual(back.json.usage_records, pages[0]!.json.usage_records);
  });

  test('whether a main account\'s trigger counts its subaccounts\' usage is a setting, off by default', async () => {
    const settings = await control(em, 'GET', '/emulator/settings');
    assert.equal(settings.json.parent_triggers_count_subaccounts, false);
    // the parent's own calls usage is 0; its subaccount has 2 calls
    const t = await call(em, 'POST', triggersPath(P), {
      auth: parent,
      form: { CallbackUrl: 'http://127.0.0.1:9/none', TriggerValue: '2', UsageCategory: 'calls', TriggerBy: 'count' },
    });
    assert.equal(t.status, 201, t.text);
    assert.equal(t.json.date_fired, null);
    assert.equal(t.json.current_value, '0');
    const on = await control(em, 'POST', '/emulator/settings', { ParentTriggersCountSubaccounts: 'true' });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.json.parent_triggers_count_subaccounts, true);
    const fired = await call(em, 'GET', `/2010-04-01/Accounts/${P}/Usage/Triggers/${t.json.sid}.json`, { auth: parent });
    assert.equal(fired.json.current_value, '2');
    assert.notEqual(fired.json.date_fired, null);
    const off = await control(em, 'POST', '/emulator/settings', { ParentTriggersCountSubaccounts: 'off' });
    assert.equal(off.status, 400);
    await control(em, 'POST', '/emulator/settings', { ParentTriggersCountSubaccounts: 'false' });
  });
});

test('usage records survive a restart with --state, subaccounts\' usage still counted for the parent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'utrig-records-'));
  const statePath = join(dir, 'state.json');
  try {
    let em = await startEmulator({ statePath, now: new Date('2026-06-15T09:00:00Z'), subaccounts: 1 });
    const [S] = em.subaccountSids as [string];
    await control(em, 'POST', '/emulator/usage', { AccountSid: S, Category: 'sms', Count: '4' });
    await control(em, 'POST', '/emulator/usage', { Category: 'sms', Count: '1' });
    await em.close();
    em = await startEmulator({ statePath, now: new Date('2026-06-16T09:00:00Z'), subaccounts: 1 });
    try {
      const r = await call(em, 'GET', `/2010-04-01/Accounts/${em.accountSid}/Usage/Records/Yesterday.json?Category=sms`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.usage_records[0].start_date, '2026-06-15');
      assert.equal(r.json.usage_records[0].count, '5');
      const own = await call(em, 'GET', `/2010-04-01/Accounts/${em.accountSid}/Usage/Records/Yesterday.json?Category=sms&IncludeSubaccounts=false`);
      assert.equal(own.json.usage_records[0].count, '1');
    } finally {
      await em.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
