import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertExit, harness, type Harness } from './helpers.js';

const URL_OK = 'https://example.com/hook';

describe('create', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('sends every flag as Twilio form parameters, + encoded as %2B', async () => {
    const n = h.emu.requests.length;
    const res = await h.run([
      'create', '--category', 'sms', '--value', '+30', '--callback-url', URL_OK, '--callback-method', 'GET',
      '--trigger-by', 'count', '--recurring', 'daily', '--friendly-name', 'quota & more',
    ]);
    assertExit(res, 0);
    const req = h.emu.requests.slice(n);
    assert.equal(req.length, 1);
    assert.equal(req[0]!.method, 'POST');
    assert.equal(req[0]!.path, `/2010-04-01/Accounts/${h.emu.accountSid}/Usage/Triggers.json`);
    assert.equal(
      req[0]!.body,
      'CallbackUrl=https%3A%2F%2Fexample.com%2Fhook&TriggerValue=%2B30&UsageCategory=sms&CallbackMethod=GET&FriendlyName=quota+%26+more&Recurring=daily&TriggerBy=count',
    );
    const t = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.equal(t.usage_category, 'sms');
    assert.equal(t.trigger_value, '30');
    assert.equal(t.callback_method, 'GET');
    assert.match(res.stderr, /Created usage trigger UT[0-9a-f]{32}/);
  });

  it('sends only the required parameters when only they are given', async () => {
    const n = h.emu.requests.length;
    assertExit(await h.run(['create', '--category', 'calls', '--value', '12.5', '--callback-url', URL_OK]), 0);
    assert.equal(h.emu.requests[n]!.body, 'CallbackUrl=https%3A%2F%2Fexample.com%2Fhook&TriggerValue=12.5&UsageCategory=calls');
  });

  it('sends an unknown category with --allow-unknown-category, with a warning', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['create', '--category', 'brand-new-thing', '--value', '1', '--callback-url', URL_OK, '--allow-unknown-category']);
    // the emulator knows the same list, so it refuses: what matters is that utrig sent it and warned
    assert.match(res.stderr, /warning: "brand-new-thing" is not a category utrig knows/);
    assert.equal(h.emu.requests.length, n + 1);
    assert.equal(h.emu.requests[n]!.form?.UsageCategory, 'brand-new-thing');
    assertExit(res, 1);
    assert.match(res.stderr, /error: .*\(Twilio \d+, HTTP 400\)/);
  });

  const invalid: [string, string[], RegExp][] = [
    ['unknown category with a suggestion', ['--category', 'smss', '--value', '1', '--callback-url', URL_OK], /--category "smss" is not a usage category utrig knows; did you mean sms/],
    ['non-numeric value', ['--category', 'sms', '--value', 'lots', '--callback-url', URL_OK], /--value "lots" is not a number written in plain decimal \(.*\): give a value such as 1000/],
    ['negative value', ['--category', 'sms', '--value', '-5', '--callback-url', URL_OK], /--value "-5" is negative: give a value such as 1000/],
    ['a URL that is not http(s)', ['--category', 'sms', '--value', '1', '--callback-url', 'ftp://example.com/x'], /--callback-url must be an http or https URL; got ftp/],
    ['not a URL', ['--category', 'sms', '--value', '1', '--callback-url', 'example.com'], /--callback-url "example.com" is not a URL/],
    ['unknown method', ['--category', 'sms', '--value', '1', '--callback-url', URL_OK, '--callback-method', 'FETCH'], /--callback-method "FETCH" is not one of GET, POST/],
    ['legacy method PUT', ['--category', 'sms', '--value', '1', '--callback-url', URL_OK, '--callback-method', 'PUT'], /--callback-method PUT is not accepted: Twilio calls usage-trigger callbacks with GET or POST only/],
    ['unknown recurring', ['--category', 'sms', '--value', '1', '--callback-url', URL_OK, '--recurring', 'weekly'], /--recurring "weekly" is not one of daily, monthly, yearly, alltime/],
    ['unknown trigger-by', ['--category', 'sms', '--value', '1', '--callback-url', URL_OK, '--trigger-by', 'cost'], /--trigger-by "cost" is not one of count, usage, price/],
    ['friendly name over 64', ['--category', 'sms', '--value', '1', '--callback-url', URL_OK, '--friendly-name', 'x'.repeat(65)], /--friendly-name is 65 characters long: Twilio accepts at most 64/],
    ['missing required flags without a terminal', ['--category', 'sms'], /missing required flags --value, --callback-url \(no prompt: not a terminal\)/],
    ['missing required flags with --no-input', ['--no-input', '--value', '3'], /missing required flags --category, --callback-url \(no prompt: --no-input\)/],
    ['unknown flag', ['--category', 'sms', '--colour', 'red'], /unknown option '--colour'/],
  ];
  for (const [name, args, message] of invalid) {
    it(`refuses ${name}: exit 2, names the flag, sends nothing`, async () => {
      const n = h.emu.requests.length;
      const res = await h.run(['create', ...args]);
      assertExit(res, 2);
      assert.match(res.stderr, message);
      assert.equal(res.stdout, '');
      assert.equal(h.emu.requests.length, n, 'nothing may reach the API');
    });
  }
});

describe('get, update, delete', () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = String((await h.create({ UsageCategory: 'sms', TriggerValue: '100', CallbackUrl: URL_OK })).sid);
  });
  after(() => h.close());

  it('get prints the API object as JSON when piped', async () => {
    const res = await h.run(['get', sid]);
    assertExit(res, 0);
    const t = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.equal(t.sid, sid);
    assert.equal(t.trigger_value, '100');
    assert.equal(res.stderr, '');
  });

  it('get of an unknown trigger exits 4', async () => {
    const res = await h.run(['get', 'UT' + '0'.repeat(32)]);
    assertExit(res, 4);
    assert.match(res.stderr, /^error: .*HTTP 404/m);
  });

  it('get refuses a malformed SID without sending', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['get', 'UT123']);
    assertExit(res, 2);
    assert.match(res.stderr, /trigger SID "UT123" is not a usage trigger SID: expected UT followed by 32 hex digits/);
    assert.equal(h.emu.requests.length, n);
  });

  it('update sends only the updatable fields', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['update', sid, '--callback-url', 'https://example.com/v2', '--callback-method', 'GET', '--friendly-name', 'v2']);
    assertExit(res, 0);
    assert.equal(h.emu.requests[n]!.body, 'CallbackUrl=https%3A%2F%2Fexample.com%2Fv2&CallbackMethod=GET&FriendlyName=v2');
    assert.equal((JSON.parse(res.stdout) as { friendly_name: string }).friendly_name, 'v2');
  });

  it('update refuses a change of category or value and shows delete + create', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['update', sid, '--value', '200', '--category', 'mms']);
    assertExit(res, 2);
    assert.match(res.stderr, /--category and --value cannot be changed: Twilio does not allow updating/);
    assert.match(res.stderr, /utrig create --category/);
    assert.match(res.stderr, new RegExp(`utrig delete ${sid} --yes`));
    assert.equal(h.emu.requests.length, n);
  });

  it('update with nothing to change is a usage error', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['update', sid]);
    assertExit(res, 2);
    assert.match(res.stderr, /nothing to update: give at least one of --callback-url, --callback-method, --friendly-name/);
    assert.equal(h.emu.requests.length, n);
  });

  it('delete without --yes and without a terminal refuses and sends nothing', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['delete', sid]);
    assertExit(res, 2);
    assert.match(res.stderr, /pass --yes/);
    assert.equal(h.emu.requests.length, n);
  });

  it('delete --yes deletes several triggers; a missing one exits 4 after the rest are done', async () => {
    const other = String((await h.create({ UsageCategory: 'calls', TriggerValue: '5', CallbackUrl: URL_OK })).sid);
    const ghost = 'UT' + 'f'.repeat(32);
    const res = await h.run(['delete', sid, ghost, other, '--yes']);
    assertExit(res, 4);
    assert.match(res.stderr, new RegExp(`Deleted usage trigger ${sid}`));
    assert.match(res.stderr, new RegExp(`Deleted usage trigger ${other}`));
    assert.match(res.stderr, new RegExp(`error: ${ghost}: `));
    assert.equal(res.stdout, '');
    const list = await h.run(['list']);
    assert.equal(list.stdout, '[]\n');
  });
});

describe('list', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
    for (let i = 0; i < 1000; i++) {
      h.emu.store.createTrigger(h.emu.accountSid, {
        UsageCategory: i % 2 === 0 ? 'sms' : 'calls',
        TriggerValue: String(i + 1),
        CallbackUrl: URL_OK,
        Recurring: i % 4 === 0 ? 'daily' : '',
        TriggerBy: i % 3 === 0 ? 'count' : 'usage',
      });
    }
  });
  after(() => h.close());

  it('walks all 1,000 triggers across pages, following next_page_uri', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['list', '--page-size', '100', '--output', 'ndjson']);
    assertExit(res, 0);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { sid: string });
    assert.equal(rows.length, 1000);
    assert.equal(new Set(rows.map((r) => r.sid)).size, 1000);
    const gets = h.emu.requests.slice(n);
    assert.equal(gets.length, 10);
    assert.ok(gets.every((g) => g.method === 'GET' && g.query.PageSize === '100'));
  });

  it('by default lists everything in one request of 1,000', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['list', '--json']);
    assertExit(res, 0);
    assert.equal((JSON.parse(res.stdout) as unknown[]).length, 1000);
    assert.equal(h.emu.requests.length - n, 1);
    assert.equal(h.emu.requests[n]!.query.PageSize, '1000');
  });

  it('--limit stops early and asks for no more than it needs', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['list', '--limit', '7', '--json']);
    assertExit(res, 0);
    assert.equal((JSON.parse(res.stdout) as unknown[]).length, 7);
    assert.equal(h.emu.requests.length - n, 1);
    assert.equal(h.emu.requests[n]!.query.PageSize, '7');
  });

  it('sends the filters with Twilio parameter names and gets only matching triggers', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['list', '--category', 'sms', '--recurring', 'daily', '--trigger-by', 'count', '--output', 'ndjson']);
    assertExit(res, 0);
    assert.deepEqual(h.emu.requests[n]!.query, { UsageCategory: 'sms', Recurring: 'daily', TriggerBy: 'count', PageSize: '1000' });
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    // i % 4 === 0 and i % 3 === 0 -> i % 12 === 0: 84 of 1000
    assert.equal(rows.length, 84);
    assert.ok(rows.every((r) => r.usage_category === 'sms' && r.recurring === 'daily' && r.trigger_by === 'count'));
  });

  it('--fields keeps the chosen fields in every format', async () => {
    const res = await h.run(['list', '--limit', '2', '--fields', 'sid,trigger_value', '--output', 'csv']);
    assertExit(res, 0);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines[0], 'sid,trigger_value');
    assert.match(lines[1]!, /^UT[0-9a-f]{32},\d+$/);
    const bad = await h.run(['list', '--fields', 'sid,price']);
    assertExit(bad, 2);
    assert.match(bad.stderr, /--fields: unknown field "price"; known fields: sid, account_sid/);
  });

  it('refuses bad list flags without sending', async () => {
    const n = h.emu.requests.length;
    for (const [args, msg] of [
      [['--page-size', '1001'], /--page-size "1001" must be a whole number from 1 to 1000/],
      [['--limit', '0'], /--limit "0" must be a whole number from 1/],
      [['--limit', '5', '--all'], /--limit and --all contradict each other/],
      [['--recurring', 'hourly'], /--recurring "hourly" is not one of daily, monthly, yearly, alltime/],
      [['--output', 'xml'], /option '-o, --output <format>' argument 'xml' is invalid/],
    ] as [string[], RegExp][]) {
      const res = await h.run(['list', ...args]);
      assertExit(res, 2);
      assert.match(res.stderr, msg);
    }
    assert.equal(h.emu.requests.length, n);
  });
});

describe('an empty account', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('list writes [] as JSON and nothing in other formats, with a note on stderr', async () => {
    const json = await h.run(['list']);
    assertExit(json, 0);
    assert.equal(json.stdout, '[]\n');
    const nd = await h.run(['list', '--output', 'ndjson']);
    assertExit(nd, 0);
    assert.equal(nd.stdout, '');
    assert.match(nd.stderr, /no usage triggers found/);
  });
});
