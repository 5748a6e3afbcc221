import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RequestLogEntry } from '../src/emulator/server.js';
import { assertExit, BIN, harness, tempConfigDir, type Harness } from './helpers.js';

// Triggers as code (issue 13) over real HTTP: an emulator with 200 subaccounts, a policy of three
// triggers, and drift of every kind set up in the emulator's state. The tests run in order on one
// emulator: round trip, plan item by item, saved-plan refusal, apply killed midway and re-run.
// Over 300 lines on purpose: the cases build on one drifted 200-account state, which a split would repeat.

const N = 200;
const HOOK = 'http://127.0.0.1:9/hook'; // the discard port: a callback that fires is refused at once
let h: Harness;
let onRequest: ((r: RequestLogEntry) => void) | undefined;
const dir = tempConfigDir();
const subs = () => h.emu.subaccountSids;
const sub = (i: number) => subs()[i]!;

const POLICY = `# the fleet's alarms
version: 1
accounts:
  all_subaccounts: true
triggers:
  - name: spend
    category: totalprice
    trigger_by: price
    value: 500
    recurring: monthly
    callback_url: ${HOOK}/spend
    description: monthly spend
  - name: sms
    category: sms
    value: "1000.0"
    recurring: daily
    callback_url: ${HOOK}/sms
  - name: calls
    category: calls
    trigger_by: count
    value: 100
    callback_url: ${HOOK}/calls
    callback_method: GET
overrides:
  - account_name: Subaccount 200
    triggers:
      spend: { value: 5000 }
`;

function policyFile(text: string, name = 'policy.yaml'): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const mk = (account: string, form: Record<string, string>) => h.emu.store.createTrigger(account, form);
const spend = (value = '500') => ({ CallbackUrl: `${HOOK}/spend`, TriggerValue: value, UsageCategory: 'totalprice', TriggerBy: 'price', Recurring: 'monthly', FriendlyName: 'utrig:spend monthly spend' });
const sms = (category = 'sms') => ({ CallbackUrl: `${HOOK}/sms`, TriggerValue: '1000', UsageCategory: category, Recurring: 'daily', FriendlyName: 'utrig:sms' });
const calls = (value = '100') => ({ CallbackUrl: `${HOOK}/calls`, TriggerValue: value, UsageCategory: 'calls', TriggerBy: 'count', CallbackMethod: 'GET', FriendlyName: 'utrig:calls' });
const usage = (account: string, form: Record<string, string>) => h.api('POST', '/emulator/usage', { AccountSid: account, ...form });

/** What the test set up, account by account: the plan must say exactly this. */
const expected = new Map<string, string[]>();
const SUSPENDED = 40;

before(async () => {
  h = await harness({ subaccounts: N, concurrencyLimit: 20, concurrencyRetryAfter: 0, logEntries: 100_000, onRequest: (r) => onRequest?.(r) });
  for (let i = 0; i < N; i++) {
    const s = sub(i);
    const want: string[] = [];
    mk(s, spend(i === 199 ? '5000' : '500'));
    if (i < 10) want.push('create sms');
    else if (i >= 25 && i < 30) (mk(s, sms('sms-inbound')), want.push('replace sms category'));
    else mk(s, sms());
    if (i >= 20 && i < 25) (mk(s, calls('200')), want.push('replace calls value'));
    else mk(s, calls());
    if (i >= 10 && i < 20) {
      const t = h.emu.store.listTriggers(s, { usageCategory: 'totalprice' })[0]!;
      h.emu.store.updateTrigger(s, t.sid, { CallbackUrl: `${HOOK}/old-spend` });
      want.push('update spend callback_url');
    }
    if (i >= 30 && i < 35) mk(s, { ...calls(), FriendlyName: 'utrig:legacy old alarm' });
    if (i >= 35 && i < 40) {
      // not owned: other names, and near misses of the marker
      mk(s, { ...calls('7'), FriendlyName: 'customer alarm' });
      mk(s, { ...calls('8'), FriendlyName: 'UTRIG:calls' });
      mk(s, { ...calls('9'), FriendlyName: 'utrigger:calls' });
    }
    if (i !== SUSPENDED) expected.set(s, want.sort());
  }
  // the suspended account drifts too, but is not selected (active accounts only)
  const t = h.emu.store.listTriggers(sub(SUSPENDED), { usageCategory: 'calls' })[0]!;
  h.emu.store.deleteTrigger(sub(SUSPENDED), t.sid);
  assert.equal((await h.api('POST', `/2010-04-01/Accounts/${sub(SUSPENDED)}.json`, { Status: 'suspended' })).status, 200);
  // usage past the threshold: sms 1500 today where sms is created; 150 calls where calls (100) replaces 200
  for (const i of [0, 1, 2]) await usage(sub(i), { Category: 'sms', Usage: '1500' });
  await usage(sub(20), { Category: 'calls', Count: '150' });
  // a recurring trigger that fired today and is replaced: sms-inbound 2000 > its 1000
  await usage(sub(25), { Category: 'sms-inbound', Usage: '2000' });
  await h.emu.idle();
});
after(() => h.close());

type PlanDoc = { accounts: { account_sid: string; actions: { action: string; name: string; forced_by?: string[]; changes?: { field: string }[]; warnings?: string[] }[]; kept: { name: string }[]; unowned: number; warnings: string[] }[]; summary: Record<string, number>; failed: unknown[] };

/** Each account's changes as words ("replace calls value"), sorted. */
function changesOf(doc: PlanDoc): Map<string, string[]> {
  return new Map(
    doc.accounts.map((a) => [
      a.account_sid,
      a.actions
        .filter((x) => x.action !== 'unchanged')
        .map((x) => [x.action, x.name, ...(x.forced_by ?? (x.action === 'update' ? (x.changes ?? []).map((c) => c.field) : []))].join(' '))
        .sort(),
    ]),
  );
}

/** Owned triggers per name in an account, from the emulator's state. */
function ownedCounts(account: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of h.emu.store.listTriggers(account, {})) {
    const m = /^utrig:([^ ]+)/.exec(t.friendly_name);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  }
  return out;
}

const writes = (from: number) => h.emu.requests.slice(from).filter((r) => r.method !== 'GET');

describe('policy errors: file, line and field; exit 2; nothing sent', () => {
  const cases: [string, string, string, string][] = [
    ['a lower-case method (YAML)', 'bad-method.yaml', POLICY.replace('callback_method: GET', 'callback_method: get'), `line 23: triggers[2].callback_method "get" is not one of GET, POST (method names are upper-case: did you mean GET?)`],
    ['a value in exponent form', 'bad-value.yaml', POLICY.replace('value: 500\n', 'value: 1e3\n'), `line 9: triggers[0].value "1e3" is not a number written in plain decimal (digits, optionally a point and more digits): give a value such as 1000 or 12.50, or +30 for 30 more than the current value`],
    ['an unknown field', 'typo.yaml', POLICY.replace('recurring: daily', 'recuring: daily'), `line 16: triggers[1].recuring is not a known field: accepted are name, category, trigger_by, value, recurring, callback_url, callback_method, description`],
    ['an override with a bad category (JSON)', 'bad.json', JSON.stringify({ accounts: { all_subaccounts: true }, triggers: [{ name: 'a', category: 'sms', value: 1, callback_url: HOOK }], overrides: [{ accounts: ['AC' + '0'.repeat(32)], triggers: { a: { category: 'smss' } } }] }, null, 2), `line 20: overrides[0].triggers.a.category "smss" is not a usage category utrig knows`],
  ];
  for (const [what, name, text, msg] of cases) {
    it(what, async () => {
      const file = policyFile(text, name);
      const n = h.emu.requests.length;
      for (const cmd of [['plan', '-f', file], ['apply', '-f', file, '--yes']]) {
        const res = await h.run(cmd);
        assertExit(res, 2);
        assert.equal(res.stderr, `error: ${file} ${msg}\n`);
        assert.equal(res.stdout, '');
      }
      assert.equal(h.emu.requests.length, n, 'nothing sent');
    });
  }
});

describe('plan, apply and export against 200 subaccounts with drift', () => {
  it('export round trip: plan against the exported policy shows no changes', async () => {
    const res = await h.run(['export', '--all-subaccounts', '--out', join(dir, 'exported.yaml')]);
    assertExit(res, 0);
    assert.match(res.stderr, /15 triggers not owned by a policy \(friendly name not utrig:<name>\) left out/);
    const exported = readFileSync(join(dir, 'exported.yaml'), 'utf8');
    assert.match(exported, /^ {2}all_subaccounts: true$/m);
    const plan = await h.run(['plan', '-f', join(dir, 'exported.yaml'), '--detailed-exitcode', '--json']);
    assertExit(plan, 0);
    const doc = JSON.parse(plan.stdout) as PlanDoc;
    assert.equal(doc.accounts.length, N - 1);
    assert.deepEqual({ ...doc.summary, unchanged: 0 }, { create: 0, update: 0, replace: 0, delete: 0, unchanged: 0, accounts: N - 1, accounts_changed: 0, warnings: 0, failed: 0, not_planned: 0 });
    // the same as JSON
    const asJson = await h.run(['export', '--all-subaccounts', '--json']);
    const jf = policyFile(asJson.stdout, 'exported.json');
    assertExit(await h.run(['plan', '-f', jf, '--detailed-exitcode', '--json']), 0);
  });

  it('plan: every change the test set up, account by account, and nothing else; warnings exactly where usage passed the threshold', async () => {
    const file = policyFile(POLICY);
    const n = h.emu.requests.length;
    const res = await h.run(['plan', '-f', file, '--json', '--detailed-exitcode', '--concurrency', '20']);
    assertExit(res, 7);
    assert.equal(writes(n).length, 0, 'plan sends only reads');
    const doc = JSON.parse(res.stdout) as PlanDoc;
    assert.deepEqual(changesOf(doc), expected);
    assert.ok(!doc.accounts.some((a) => a.account_sid === sub(SUSPENDED)), 'the suspended account is not planned');
    assert.deepEqual(doc.summary, { create: 10, update: 10, replace: 10, delete: 0, unchanged: 3 * (N - 1) - 30, accounts: N - 1, accounts_changed: 30, warnings: 5, failed: 0, not_planned: 0 });
    const kept = doc.accounts.filter((a) => a.kept.length > 0).map((a) => a.account_sid);
    assert.deepEqual(new Set(kept), new Set([30, 31, 32, 33, 34].map(sub)));
    assert.deepEqual(new Set(doc.accounts.filter((a) => a.unowned > 0).map((a) => a.account_sid)), new Set([35, 36, 37, 38, 39].map(sub)));
    const warned = doc.accounts.flatMap((a) => a.actions.flatMap((x) => (x.warnings ?? []).map((w) => `${subs().indexOf(a.account_sid)} ${x.name}: ${w}`))).sort();
    assert.deepEqual(warned, [
      '0 sms: fires within about a minute of apply: sms usage today is already 1500, at or above 1000.0',
      '1 sms: fires within about a minute of apply: sms usage today is already 1500, at or above 1000.0',
      '2 sms: fires within about a minute of apply: sms usage today is already 1500, at or above 1000.0',
      '20 calls: fires within about a minute of apply: calls count so far (all time) is already 150, at or above 100',
      '25 sms: the trigger being replaced already fired today: the new trigger may fire again this period',
    ]);
    // the readable diff
    const table = await h.run(['plan', '-f', file, '-o', 'table']);
    assertExit(table, 0);
    assert.match(table.stderr, /^1 suspended subaccount is not selected and left as it is \(account_status: all selects them\)$/m);
    assert.match(table.stdout, /^ {2}-\/\+ calls {16}replace {2}UT[0-9a-f]{32} \(forced by value\): value "200" -> "100"$/m);
    assert.match(table.stdout, /^ {6}! fires within about a minute of apply: sms usage today is already 1500, at or above 1000\.0$/m);
    assert.match(table.stdout, /\nPlan: 10 to create, 10 to update in place, 10 to replace, 0 to delete, 567 unchanged, in 30 of 199 accounts\. 5 warnings\.\n$/);
    // --prune adds the owned triggers the policy no longer lists, and only those
    const pruned = JSON.parse((await h.run(['plan', '-f', file, '--prune', '--json'])).stdout) as PlanDoc;
    const deletes = pruned.accounts.flatMap((a) => a.actions.filter((x) => x.action === 'delete').map((x) => `${subs().indexOf(a.account_sid)} ${x.name}`));
    assert.deepEqual(deletes.sort(), ['30 legacy', '31 legacy', '32 legacy', '33 legacy', '34 legacy']);
  });

  it('a saved plan refuses, naming what changed, once live state changed; nothing is sent', async () => {
    const file = policyFile(POLICY);
    const out = join(dir, 'plan.json');
    assertExit(await h.run(['plan', '-f', file, '--out', out, '--json']), 0);
    const t = h.emu.store.listTriggers(sub(12), { usageCategory: 'totalprice' })[0]!;
    h.emu.store.updateTrigger(sub(12), t.sid, { CallbackUrl: `${HOOK}/by-hand` });
    const n = h.emu.requests.length;
    const res = await h.run(['apply', out, '--yes']);
    assertExit(res, 1);
    assert.ok(
      res.stderr.includes(`  ${sub(12)}: ${t.sid} ("utrig:spend monthly spend") callback_url changed from "${HOOK}/old-spend" to "${HOOK}/by-hand" since the plan\n`),
      res.stderr,
    );
    assert.match(res.stderr, /error: the live triggers changed since the plan was made \(1 difference, listed above\); nothing was applied\n/);
    assert.equal(writes(n).length, 0, 'nothing changed');
  });

  it('apply --prune killed midway, then run again: converges with no duplicate and no unowned trigger touched', async () => {
    const file = policyFile(POLICY);
    const unownedBefore = [35, 36, 37, 38, 39].map((i) => h.emu.store.listTriggers(sub(i), {}).filter((t) => !t.friendly_name.startsWith('utrig:')).length);
    const suspendedBefore = JSON.stringify(h.emu.store.listTriggers(sub(SUSPENDED), {}).map((t) => t.sid));
    await h.api('POST', '/emulator/faults', { LatencyMs: '10' });
    const env = { ...h.env, PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
    const child = spawn(process.execPath, [BIN, 'apply', '-f', file, '--prune', '--yes', '--concurrency', '2'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let writesSeen = 0;
    const killed = new Promise<void>((resolve) => {
      onRequest = (r) => {
        if (r.method !== 'GET' && ++writesSeen === 6) {
          child.kill('SIGKILL');
          resolve();
        }
      };
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : code)));
    await killed;
    assert.equal(await exited, -9, stderr);
    onRequest = undefined;
    await h.api('DELETE', '/emulator/faults');
    const mid = JSON.parse((await h.run(['plan', '-f', file, '--prune', '--json'])).stdout) as PlanDoc;
    const left = mid.summary.create! + mid.summary.update! + mid.summary.replace! + mid.summary.delete!;
    assert.ok(left > 0 && left < 36, `the kill landed midway (${left} changes left)`);

    const again = await h.run(['apply', '-f', file, '--prune', '--yes']);
    assertExit(again, 0);
    const after = await h.run(['plan', '-f', file, '--prune', '--detailed-exitcode', '-o', 'table']);
    assertExit(after, 0);
    assert.match(after.stdout, /^No changes: 199 accounts match the policy \(597 triggers unchanged\)\.\n$/);
    for (let i = 0; i < N; i++) {
      if (i === SUSPENDED) continue;
      assert.deepEqual(ownedCounts(sub(i)), { spend: 1, sms: 1, calls: 1 }, `account ${i}`);
    }
    assert.deepEqual([35, 36, 37, 38, 39].map((i) => h.emu.store.listTriggers(sub(i), {}).filter((t) => !t.friendly_name.startsWith('utrig:')).length), unownedBefore);
    assert.equal(JSON.stringify(h.emu.store.listTriggers(sub(SUSPENDED), {}).map((t) => t.sid)), suspendedBefore, 'the suspended account is untouched');
    const v = h.emu.store.listTriggers(sub(199), { usageCategory: 'totalprice' })[0]!;
    assert.equal(v.trigger_value, 5000_000_000, 'the override kept its bigger value');
  });

  it('a saved plan applies exactly when nothing changed since', async () => {
    const file = policyFile(POLICY);
    const t = h.emu.store.listTriggers(sub(50), { usageCategory: 'calls' })[0]!;
    h.emu.store.updateTrigger(sub(50), t.sid, { CallbackMethod: 'POST' });
    const out = join(dir, 'plan2.json');
    assertExit(await h.run(['plan', '-f', file, '--out', out, '-o', 'table']), 0);
    const n = h.emu.requests.length;
    const res = await h.run(['apply', out, '--yes']);
    assertExit(res, 0);
    assert.deepEqual(writes(n).map((r) => `${r.method} ${r.path}`), [`POST /2010-04-01/Accounts/${sub(50)}/Usage/Triggers/${t.sid}.json`]);
    assert.equal(h.emu.store.getTrigger(sub(50), t.sid).callback_method, 'GET');
    assertExit(await h.run(['plan', '-f', file, '--detailed-exitcode', '--json']), 0);
  });
});

describe('Ctrl-C during apply', () => {
  it('stops starting accounts (exit 130, the summary says so); running it again converges', async () => {
    const file = policyFile(POLICY.replace(`${HOOK}/sms`, `${HOOK}/sms-v2`), 'v2.yaml');
    await h.api('POST', '/emulator/faults', { LatencyMs: '10' });
    const env = { ...h.env, PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
    const child = spawn(process.execPath, [BIN, 'apply', '-f', file, '--yes', '--concurrency', '2', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    let writesSeen = 0;
    onRequest = (r) => {
      if (r.method !== 'GET' && ++writesSeen === 5) child.kill('SIGINT');
    };
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    onRequest = undefined;
    await h.api('DELETE', '/emulator/faults');
    assert.equal(code, 130, stderr);
    assert.match(stderr, /^apply interrupted: 199 accounts: \d+ updated, \d+ not started; \d+ requests/m);
    const rows = JSON.parse(stdout) as { status: string }[];
    assert.ok(rows.some((r) => r.status === 'not-started') && rows.some((r) => r.status === 'applied'), stdout);
    assertExit(await h.run(['apply', '-f', file, '--yes']), 0);
    assertExit(await h.run(['plan', '-f', file, '--detailed-exitcode', '--json']), 0);
    for (const i of [0, 100, 199]) assert.deepEqual(ownedCounts(sub(i)), { spend: 1, sms: 1, calls: 1 });
  });
});

describe('a create with no certain answer', () => {
  it('is read back by its name before it is sent again, so it is made once', async () => {
    const s = sub(150);
    const file = policyFile(`accounts: {accounts: [${s}]}\ntriggers:\n  - {name: extra, category: sms-inbound, value: 9, callback_url: "${HOOK}/extra"}\n`, 'extra.yaml');
    await h.api('POST', '/emulator/faults', { Status: '500', Count: '1', Method: 'POST' });
    const n = h.emu.requests.length;
    const res = await h.run(['apply', '-f', file, '--yes', '--json']);
    await h.api('DELETE', '/emulator/faults');
    assertExit(res, 0);
    const path = `/2010-04-01/Accounts/${s}/Usage/Triggers.json`;
    assert.deepEqual(
      h.emu.requests.slice(n).filter((r) => r.path === path).map((r) => `${r.method} ${r.status}`),
      ['GET 200', 'POST 500', 'GET 200', 'POST 201'],
    );
    assert.equal(ownedCounts(s).extra, 1);
  });

  it('apply over the fleet with answers dropped after the create was made: each found by its name, zero duplicates', async () => {
    const file = policyFile(`accounts: {all_subaccounts: true}\ntriggers:\n  - {name: dropped, category: mms-inbound, value: 3, callback_url: "${HOOK}/dropped"}\n`, 'dropped.yaml');
    await h.api('POST', '/emulator/faults', { Drop: 'after', Count: '15', Method: 'POST' });
    const n = h.emu.requests.length;
    const res = await h.run(['apply', '-f', file, '--yes', '--json', '--concurrency', '20']);
    await h.api('DELETE', '/emulator/faults');
    assertExit(res, 0);
    const dropped = h.emu.requests.slice(n).filter((r) => r.method === 'POST' && r.status === 0);
    assert.equal(dropped.length, 15);
    assert.ok(dropped.every((r) => r.processed === 201), 'each dropped create was made');
    for (let i = 0; i < N; i++) assert.equal(ownedCounts(sub(i)).dropped ?? 0, i === SUSPENDED ? 0 : 1, `account ${i}`);
    assert.match(res.stderr, /^apply: 199 accounts: 199 created;/m);
    assertExit(await h.run(['plan', '-f', file, '--detailed-exitcode', '--json']), 0);
  });
});

describe('replace order', () => {
  it('creates the new trigger before deleting the old, so the account is never without its alarm', async () => {
    const s = sub(160);
    const old = h.emu.store.listTriggers(s, { usageCategory: 'calls' })[0]!;
    h.emu.store.deleteTrigger(s, old.sid);
    const stale = mk(s, calls('250'));
    const n = h.emu.requests.length;
    // only the calls trigger, only this account: the others it owns are kept as they are
    const file = policyFile(`accounts: {accounts: [${s}]}\ntriggers:\n  - {name: calls, category: calls, trigger_by: count, value: 100, callback_url: "${HOOK}/calls", callback_method: GET}\n`, 'calls.yaml');
    const res = await h.run(['apply', '-f', file, '--yes', '--json']);
    assertExit(res, 0);
    const made = h.emu.store.listTriggers(s, { usageCategory: 'calls' });
    assert.equal(made.length, 1);
    assert.deepEqual(writes(n).map((r) => `${r.method} ${r.path} ${r.status}`), [
      `POST /2010-04-01/Accounts/${s}/Usage/Triggers.json 201`,
      `DELETE /2010-04-01/Accounts/${s}/Usage/Triggers/${stale.sid}.json 204`,
    ]);
    assert.equal(made[0]!.trigger_value, 100_000_000);
  });
});
