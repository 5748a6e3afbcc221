import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { UsageTrigger } from '../src/api/types.js';
import { UsageError } from '../src/errors.js';
import { buildPolicy } from '../src/policy/export.js';
import { diffTrigger, normValue, ownedName } from '../src/policy/identity.js';
import { matchAccount } from '../src/policy/plan.js';
import { desiredFor, parsePolicy, type TriggerSpec } from '../src/policy/schema.js';
import { ROOT } from './helpers.js';

// Pure parts of triggers as code: the policy parser, identity, comparison, overrides and export.

const A = 'AC' + 'a'.repeat(32);
const B = 'AC' + 'b'.repeat(32);

function live(over: Partial<UsageTrigger>): UsageTrigger {
  return {
    account_sid: A,
    api_version: '2010-04-01',
    callback_method: 'POST',
    callback_url: 'https://example.com/x',
    current_value: '0',
    date_created: null,
    date_fired: null,
    date_updated: null,
    friendly_name: 'utrig:x',
    recurring: null,
    sid: 'UT' + '1'.repeat(32),
    trigger_by: 'usage',
    trigger_value: '1000.000000',
    uri: '',
    usage_category: 'sms',
    usage_record_uri: '',
    ...over,
  };
}

const spec = (over: Partial<TriggerSpec> = {}): TriggerSpec => ({
  name: 'x',
  category: 'sms',
  triggerBy: 'usage',
  value: '1000',
  recurring: '',
  callbackUrl: 'https://example.com/x',
  callbackMethod: 'POST',
  ...over,
});

async function policyError(text: string): Promise<string> {
  try {
    await parsePolicy(text, 'p.yaml');
  } catch (err) {
    assert.ok(err instanceof UsageError);
    return err.message;
  }
  assert.fail('no error');
}

describe('policy parser', () => {
  it('keeps values as written: +30 stays an offset, 1000.000000 stays text; JSON reads the same', async () => {
    const y = await parsePolicy('triggers:\n  - {name: a, category: sms, value: +30, callback_url: "https://e.com/a"}\n  - {name: b, category: sms, value: 1000.000000, callback_url: "https://e.com/b", recurring: alltime}\n', 'p.yaml');
    assert.deepEqual(y.accounts, { kind: 'current' });
    assert.deepEqual(y.triggers.map((t) => [t.value, t.recurring, t.triggerBy, t.callbackMethod]), [['+30', '', 'usage', 'POST'], ['1000.000000', '', 'usage', 'POST']]);
    const j = await parsePolicy(JSON.stringify({ triggers: [{ name: 'a', category: 'sms', value: '+30', callback_url: 'https://e.com/a' }] }), 'p.json');
    assert.equal(j.triggers[0]!.value, '+30');
  });

  it('refuses numbers only some parsers read, naming line and field', async () => {
    for (const [v, why] of [['0x10', 'is not a number written in plain decimal'], ['.5', 'is not a number written in plain decimal'], ['-3', 'is negative'], ['0', 'is not greater than 0']]) {
      const msg = await policyError(`triggers:\n  - name: a\n    category: sms\n    value: ${v}\n    callback_url: https://e.com/a\n`);
      assert.ok(msg.startsWith(`p.yaml line 4: triggers[0].value "${v}" ${why}`), msg);
    }
  });

  it('names the line of a YAML syntax error, a missing field, a repeated name and a bad selector', async () => {
    assert.match(await policyError('triggers:\n  - name: a\n   bad: [\n'), /^p\.yaml line \d: not valid YAML or JSON: /);
    assert.equal(await policyError('triggers:\n  - name: a\n    category: sms\n'), 'p.yaml line 2: triggers[0] is missing value (each trigger needs name, category, value and callback_url)');
    assert.equal(
      await policyError('triggers:\n  - {name: a, category: sms, value: 1, callback_url: "https://e.com"}\n  - {name: a, category: sms, value: 2, callback_url: "https://e.com"}\n'),
      'p.yaml line 3: triggers[1].name "a" is listed twice: each trigger needs its own name',
    );
    assert.equal(await policyError('accounts:\n  accounts: [ACnope]\n'), 'p.yaml line 2: accounts.accounts[0] "ACnope" is not an account SID: expected AC followed by 32 hex digits');
    assert.equal(await policyError('accounts: {all_subaccounts: true, accounts: []}\n'), 'p.yaml line 1: accounts.all_subaccounts contradicts accounts/accounts_file: give one way to choose accounts');
    assert.match(await policyError('triggers:\n  - {name: "a b", category: sms, value: 1, callback_url: "https://e.com"}\n'), /^p\.yaml line 2: triggers\[0\]\.name "a b" is not a trigger name/);
    assert.match(await policyError(`triggers:\n  - {name: a, category: sms, value: 1, callback_url: "https://e.com", description: "${'d'.repeat(60)}"}\n`), /^p\.yaml line 2: triggers\[0\]\.description makes the friendly name is 68 characters long/);
  });

  it('overrides: by SID or name glob, later ones win, null leaves a trigger out, a new name needs every field', async () => {
    const p = await parsePolicy(
      `accounts: {accounts: [${A}, ${B}]}
triggers:
  - {name: a, category: sms, value: 1, callback_url: "https://e.com/a"}
  - {name: b, category: calls, value: 2, callback_url: "https://e.com/b"}
overrides:
  - accounts: [${B}]
    triggers: {a: {value: 10}, b: null, c: {category: sms, value: 3, callback_url: "https://e.com/c"}}
  - account_name: "Big *"
    triggers: {a: {value: 20, callback_method: GET}}
`,
      'p.yaml',
    );
    const values = (m: Map<string, TriggerSpec>) => [...m.values()].map((t) => `${t.name}=${t.value}/${t.callbackMethod}`);
    assert.deepEqual(values(desiredFor(p, A, 'Small')), ['a=1/POST', 'b=2/POST']);
    assert.deepEqual(values(desiredFor(p, B, 'Small')), ['a=10/POST', 'c=3/POST']);
    assert.deepEqual(values(desiredFor(p, B, 'Big Co')), ['a=20/GET', 'c=3/POST']);
    assert.equal(
      await policyError(`triggers: []\noverrides:\n  - accounts: [${A}]\n    triggers:\n      new: {value: 3}\n`),
      'p.yaml line 5: overrides[0].triggers.new is missing category (each trigger needs category, value and callback_url)',
    );
  });
});

describe('the README', () => {
  it("its policy example is a valid policy", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('# triggers.yaml (JSON');
    assert.ok(start > 0, 'the example is missing from the README');
    const p = await parsePolicy(readme.slice(start, readme.indexOf('```', start)), 'triggers.yaml');
    assert.deepEqual(p.triggers.map((t) => t.name), ['spend', 'sms']);
    assert.deepEqual([...desiredFor(p, A, 'Subaccount 3').values()].map((t) => `${t.name} ${t.value}`), ['spend 5000', 'voice 100']);
  });
});

describe('identity and comparison', () => {
  it('owns only utrig:<name>, optionally with a description', () => {
    assert.equal(ownedName('utrig:spend'), 'spend');
    assert.equal(ownedName('utrig:spend monthly alarm'), 'spend');
    for (const n of ['spend', 'UTRIG:spend', 'utrigger:spend', 'utrig:', 'utrig: spend', ' utrig:spend', null]) assert.equal(ownedName(n), undefined, String(n));
  });

  it('compares values normalised, methods without case, alltime as once; +N never forces a replace', () => {
    assert.deepEqual(diffTrigger(spec(), live({})), { replace: [], update: [] });
    assert.deepEqual(diffTrigger(spec({ value: '1000.0' }), live({ callback_method: 'post', recurring: 'alltime' })), { replace: [], update: [] });
    assert.deepEqual(diffTrigger(spec({ value: '+30' }), live({ trigger_value: '123.450000' })), { replace: [], update: [] });
    assert.deepEqual(diffTrigger(spec({ value: '1000.000001', category: 'calls' }), live({})).replace.map((c) => c.field), ['category', 'value']);
    assert.deepEqual(diffTrigger(spec({ callbackUrl: 'https://example.com/y', description: 'd' }), live({})).update.map((c) => c.field), ['callback_url', 'friendly_name']);
    assert.equal(normValue('1000.000000'), '1000');
    assert.equal(normValue('12.500000'), '12.5');
  });
});

describe('matching', () => {
  it('keeps the best of two owned triggers with one name and deletes the other (an interrupted replace), prune or not', () => {
    const oldT = live({ sid: 'UT' + '2'.repeat(32), trigger_value: '5.000000' });
    const newT = live({ sid: 'UT' + '3'.repeat(32) });
    const plan = matchAccount(A, [oldT, newT], new Map([['x', spec()]]), false);
    assert.deepEqual(plan.actions, [
      { action: 'delete', name: 'x', sid: oldT.sid, reason: 'duplicate' },
      { action: 'unchanged', name: 'x', sid: newT.sid },
    ]);
  });

  it('never plans anything for a trigger it does not own, even with --prune', () => {
    const mine = [live({ friendly_name: 'mine' }), live({ friendly_name: 'UTRIG:x' }), live({ friendly_name: 'utrig:x', sid: 'UT../../x' })];
    const plan = matchAccount(A, mine, new Map(), true);
    assert.deepEqual(plan.actions, []);
    assert.equal(plan.unowned, 3);
  });
});

describe('the 1,000-trigger limit', () => {
  it('warns when an account would pass it, and when a replace must delete first', () => {
    const many = Array.from({ length: 999 }, (_, i) => live({ friendly_name: `other ${i}`, sid: 'UT' + i.toString(16).padStart(32, '0') }));
    const want = new Map([['a', spec({ name: 'a' })], ['b', spec({ name: 'b' })]]);
    assert.deepEqual(matchAccount(A, many, want, false).warnings, ["would have 1001 usage triggers, over Twilio's limit of 1000: creates past the limit will fail"]);
    const full = [...many, live({ friendly_name: 'utrig:a', sid: 'UT' + 'f'.repeat(32), trigger_value: '5' })];
    assert.deepEqual(matchAccount(A, full, new Map([['a', spec({ name: 'a' })]]), false).warnings, [
      "at Twilio's limit of 1000 triggers: a replace deletes the old trigger before creating the new one, so the alarm is missing for a moment",
    ]);
    assert.deepEqual(matchAccount(A, many, new Map([['a', spec({ name: 'a' })]]), false).warnings, []);
  });
});

describe('export', () => {
  it('writes a policy that plans as unchanged in every account, with overrides only where accounts differ', async () => {
    const mk = (account: string, name: string, over: Partial<UsageTrigger> = {}) =>
      live({ account_sid: account, friendly_name: `utrig:${name}`, sid: 'UT' + Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32), ...over });
    const C = 'AC' + 'c'.repeat(32);
    const accounts = [
      { sid: A, triggers: [mk(A, 'x'), mk(A, 'y', { usage_category: 'calls' }), live({ friendly_name: 'mine' })] },
      { sid: B, triggers: [mk(B, 'x', { trigger_value: '5000.000000', friendly_name: 'utrig:x big' }), mk(B, 'y', { usage_category: 'calls' })] },
      { sid: C, triggers: [mk(C, 'x'), mk(C, 'only-c', { recurring: 'daily', callback_method: 'GET' })] },
    ];
    const { doc, unowned } = buildPolicy({ accounts: [A, B, C] }, accounts);
    assert.equal(unowned, 1);
    const { stringify } = await import('yaml');
    const p = await parsePolicy(stringify(doc), 'exported.yaml');
    for (const a of accounts) {
      const plan = matchAccount(a.sid, a.triggers, desiredFor(p, a.sid, undefined), true);
      assert.deepEqual(plan.actions.filter((x) => x.action !== 'unchanged'), [], a.sid);
    }
    assert.deepEqual(doc.overrides, [
      { accounts: [B], triggers: { x: { value: 5000, description: 'big' } } },
      { accounts: [C], triggers: { y: null, 'only-c': { category: 'sms', value: 1000, recurring: 'daily', callback_url: 'https://example.com/x', callback_method: 'GET' } } },
    ]);
  });
});
