import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RequestLogEntry } from '../src/emulator/server.js';
import { assertExit, BIN, harness, tempConfigDir, type CliResult, type Harness } from './helpers.js';
import { waitFor } from './tty-helpers.js';

// Fleet commands (issue 12) over real HTTP against an emulator with 200 subaccounts and a concurrency
// limit of 10 (so the CLI's --concurrency 30 meets real 429s too). Each phase uses its own usage
// category, so the phases share one emulator and stay independent. Over 300 lines on purpose: the
// phases share that 200-account emulator, which a split would start (and seed) once per file.

const N = 200;
const HOOK = 'https://example.com/fleet';
let h: Harness;
let onRequest: ((r: RequestLogEntry) => void) | undefined;

before(async () => {
  h = await harness({ subaccounts: N, concurrencyLimit: 10, concurrencyRetryAfter: 0, logEntries: 50_000, onRequest: (r) => onRequest?.(r) });
});
after(() => h.close());

const subs = () => h.emu.subaccountSids;
const lines = (s: string) => s.split('\n').filter((l) => l !== '');
const ndjson = (s: string) => lines(s).map((l) => JSON.parse(l) as Record<string, unknown>);
/** Triggers of this category in each subaccount, in the emulator's own state. */
const countsOf = (category: string) => subs().map((s) => h.emu.store.listTriggers(s, { usageCategory: category }).length);
const createArgs = (category: string) => ['create', '--category', category, '--value', '100', '--callback-url', HOOK];
/** API requests since `from` (an index into the request log) that match. */
const since = (from: number, f: (r: RequestLogEntry) => boolean) => h.emu.requests.slice(from).filter(f);
const fault = (form: Record<string, string>) => h.api('POST', '/emulator/faults', form);
const clearFaults = () => h.api('DELETE', '/emulator/faults');
function accountsFile(text: string): string {
  const p = join(tempConfigDir(), 'accounts.csv');
  writeFileSync(p, text);
  return p;
}

describe('account selection', () => {
  before(() => {
    for (const s of [h.emu.accountSid, ...subs()]) h.emu.store.createTrigger(s, { CallbackUrl: HOOK, TriggerValue: '5', UsageCategory: 'sms' });
  });

  it('--all-subaccounts lists every subaccount (not the parent), rows keep account_sid; --include-parent adds it', async () => {
    const res = await h.run(['list', '--all-subaccounts', '--category', 'sms', '--output', 'ndjson', '--concurrency', '30']);
    assertExit(res, 0);
    const rows = ndjson(res.stdout);
    assert.equal(rows.length, N);
    assert.deepEqual(new Set(rows.map((r) => r.account_sid)), new Set(subs()));
    assert.match(res.stderr, new RegExp(`^list: ${N} accounts: ${N} listed, ${N} triggers; \\d+ requests`, 'm'));
    const withParent = await h.run(['list', '--all-subaccounts', '--include-parent', '--category', 'sms', '--output', 'ndjson']);
    assertExit(withParent, 0);
    assert.equal(ndjson(withParent.stdout).length, N + 1);
    assert.ok(ndjson(withParent.stdout).some((r) => r.account_sid === h.emu.accountSid));
  });

  it('--accounts, --accounts-file (CSV with comments and blank lines, or stdin) and --account-name', async () => {
    const two = await h.run(['list', '--accounts', `${subs()[3]},${subs()[7]}`, '--output', 'ndjson']);
    assertExit(two, 0);
    assert.deepEqual(new Set(ndjson(two.stdout).map((r) => r.account_sid)), new Set([subs()[3], subs()[7]]));

    const file = accountsFile(`# customers\nname,account_sid\n"Acme, Inc",${subs()[1]}\n\nBeta,${subs()[2]}\n`);
    const csv = await h.run(['list', '--accounts-file', file, '--output', 'ndjson']);
    assertExit(csv, 0);
    assert.deepEqual(new Set(ndjson(csv.stdout).map((r) => r.account_sid)), new Set([subs()[1], subs()[2]]));

    const stdin = await h.run(['list', '--accounts-file', '-', '--output', 'ndjson'], { input: `${subs()[5]}\n# skip\n${subs()[6]}\n` });
    assertExit(stdin, 0);
    assert.deepEqual(new Set(ndjson(stdin.stdout).map((r) => r.account_sid)), new Set([subs()[5], subs()[6]]));

    // the emulator names subaccounts "Subaccount 1" … "Subaccount 200"
    const named = await h.run(['list', '--all-subaccounts', '--account-name', 'Subaccount 1?', '--output', 'ndjson']);
    assertExit(named, 0);
    assert.deepEqual(new Set(ndjson(named.stdout).map((r) => r.account_sid)), new Set(subs().slice(9, 19)));
  });

  it('--account-status: active by default; suspended ones on request', async () => {
    const s = subs()[0]!;
    assert.equal((await h.api('POST', `/2010-04-01/Accounts/${s}.json`, { Status: 'suspended' })).status, 200);
    try {
      const active = await h.run(['list', '--all-subaccounts', '--category', 'sms', '--output', 'ndjson']);
      assert.equal(ndjson(active.stdout).length, N - 1);
      const suspended = await h.run(['list', '--all-subaccounts', '--account-status', 'suspended', '--output', 'ndjson']);
      assertExit(suspended, 0);
      assert.deepEqual(ndjson(suspended.stdout).map((r) => r.account_sid), [s]);
    } finally {
      await h.api('POST', `/2010-04-01/Accounts/${s}.json`, { Status: 'active' });
    }
  });

  it('a bad line in --accounts-file is exit 2, naming the file and line, and nothing is sent', async () => {
    const file = accountsFile(`${subs()[0]}\n\n# ok so far\nACnot-a-sid\n${subs()[1]}\n`);
    const n = h.emu.requests.length;
    const res = await h.run(['create', '--accounts-file', file, '--category', 'sms', '--value', '1', '--callback-url', HOOK]);
    assertExit(res, 2);
    assert.equal(res.stderr, `error: --accounts-file ${file} line 4: "ACnot-a-sid" is not an account SID: expected AC followed by 32 hex digits\n`);
    assert.equal(res.stdout, '');
    assert.equal(h.emu.requests.length, n, 'nothing sent');
  });
});

describe('create in every subaccount, exactly once', () => {
  const check = (category: string, from: number) => {
    assert.deepEqual(countsOf(category), subs().map(() => 1), 'one trigger per account in the emulator');
    const made = since(from, (r) => r.method === 'POST' && r.status === 201 && r.path.endsWith('/Usage/Triggers.json'));
    assert.equal(made.length, N, 'one successful create per account in the request log');
    assert.equal(new Set(made.map((r) => r.path)).size, N);
  };

  it('under injected 429 + Retry-After', async () => {
    const from = h.emu.requests.length;
    await fault({ Status: '429', RetryAfter: '1', Count: '15', Method: 'POST' });
    try {
      const res = await h.run([...createArgs('calls'), '--all-subaccounts', '--concurrency', '30', '--output', 'ndjson']);
      assertExit(res, 0);
      assert.equal(ndjson(res.stdout).filter((r) => r.status === 'created').length, N);
      assert.ok(since(from, (r) => r.status === 429).length >= 15, 'the 429s were answered');
      check('calls', from);
    } finally {
      await clearFaults();
    }
  });

  it('under injected 503s', async () => {
    const from = h.emu.requests.length;
    await fault({ Status: '503', Count: '15', Method: 'POST' });
    try {
      const res = await h.run([...createArgs('mms'), '--all-subaccounts', '--concurrency', '30', '--output', 'ndjson']);
      assertExit(res, 0);
      assert.equal(since(from, (r) => r.status === 503).length, 15);
      check('mms', from);
    } finally {
      await clearFaults();
    }
  });

  it('under dropped connections', async () => {
    const from = h.emu.requests.length;
    await fault({ Drop: 'true', Count: '15', Method: 'POST' });
    try {
      const res = await h.run([...createArgs('calls-inbound'), '--all-subaccounts', '--concurrency', '30', '--output', 'ndjson']);
      assertExit(res, 0);
      assert.equal(since(from, (r) => r.method === 'POST' && r.status === 0).length, 15);
      check('calls-inbound', from);
    } finally {
      await clearFaults();
    }
  });

  it('under answers dropped after the create was made: read back before resending, never doubled', async () => {
    const from = h.emu.requests.length;
    await fault({ Drop: 'after', Count: '15', Method: 'POST' });
    try {
      const res = await h.run([...createArgs('mms-outbound'), '--all-subaccounts', '--concurrency', '30', '--output', 'ndjson']);
      assertExit(res, 0);
      const dropped = since(from, (r) => r.method === 'POST' && r.status === 0);
      assert.equal(dropped.length, 15);
      assert.ok(dropped.every((r) => r.processed === 201), 'each dropped create was made');
      assert.equal(ndjson(res.stdout).filter((r) => r.status === 'created').length, N);
      assert.deepEqual(countsOf('mms-outbound'), subs().map(() => 1), 'zero duplicates in the emulator');
      const made = since(from, (r) => r.method === 'POST' && (r.status === 201 || r.processed === 201) && r.path.endsWith('/Usage/Triggers.json'));
      assert.equal(made.length, N, 'one create made per account');
      assert.equal(new Set(made.map((r) => r.path)).size, N);
    } finally {
      await clearFaults();
    }
  });

  it('one account answering 403 does not stop the others: exit 6, the failure named', async () => {
    const refusing = subs()[17]!;
    await fault({ Status: '403', Count: '1000', Account: refusing });
    try {
      const res = await h.run([...createArgs('mms-inbound'), '--all-subaccounts', '--concurrency', '30', '--json']);
      assertExit(res, 6);
      const out = JSON.parse(res.stdout) as { account_sid: string; status: string; error: { status: number; code: number } | null }[];
      assert.deepEqual(out.filter((r) => r.status === 'failed').map((r) => [r.account_sid, r.error?.status, r.error?.code]), [[refusing, 403, 20403]]);
      assert.equal(out.filter((r) => r.status === 'created').length, N - 1);
      assert.match(res.stderr, new RegExp(`^create: ${N} accounts: ${N - 1} created, 1 failed;`, 'm'));
      assert.match(res.stderr, new RegExp(`^  failed ${refusing}: injected fault: HTTP 403 \\(Twilio 20403, HTTP 403\\)$`, 'm'));
      assert.deepEqual(countsOf('mms-inbound'), subs().map((s) => (s === refusing ? 0 : 1)));
    } finally {
      await clearFaults();
    }
  });

  it('a second run reports every account unchanged and creates nothing; --dry-run sends only reads', async () => {
    const from = h.emu.requests.length;
    const res = await h.run([...createArgs('calls'), '--all-subaccounts', '--output', 'ndjson']);
    assertExit(res, 0);
    assert.ok(ndjson(res.stdout).every((r) => r.status === 'unchanged'));
    assert.match(res.stderr, new RegExp(`^create: ${N} accounts: ${N} unchanged;`, 'm'));
    const dry = await h.run([...createArgs('calls-outbound'), '--all-subaccounts', '--dry-run', '--output', 'ndjson']);
    assertExit(dry, 0);
    assert.ok(ndjson(dry.stdout).every((r) => r.status === 'would-create'));
    assert.equal(since(from, (r) => r.method !== 'GET').length, 0);
    assert.deepEqual(countsOf('calls-outbound'), subs().map(() => 0));
  });

  it('one account failing (500, and an account outside the family: 404) does not stop the others: exit 6', async () => {
    const foreign = 'AC' + 'f'.repeat(32);
    const file = accountsFile([...subs(), foreign].join('\n'));
    await fault({ Status: '500', Count: '1', Method: 'GET' });
    try {
      const res = await h.run([...createArgs('sms-inbound'), '--accounts-file', file, '--json']);
      assertExit(res, 6);
      const out = JSON.parse(res.stdout) as { account_sid: string; status: string; error: { status: number } | null }[];
      assert.equal(out.length, N + 1);
      const failed = out.filter((r) => r.status === 'failed');
      assert.deepEqual(failed.map((r) => r.error?.status).sort(), [404, 500]);
      assert.equal(out.filter((r) => r.status === 'created').length, N - 1);
      assert.match(res.stderr, new RegExp(`^create: ${N + 1} accounts: ${N - 1} created, 2 failed;`, 'm'));
      assert.match(res.stderr, new RegExp(`^  failed ${foreign}: `, 'm'));
      assert.match(res.stderr, /^ {2}failed AC[0-9a-f]{32}: injected fault: HTTP 500/m);
      assert.equal(countsOf('sms-inbound').reduce((a, b) => a + b, 0), N - 1);
    } finally {
      await clearFaults();
    }
  });
});

/** Runs the CLI and sends SIGINT once `when` says so (checked on each API request the emulator answers). */
function runInterrupted(args: string[], when: (r: RequestLogEntry) => boolean): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, NO_COLOR: '1', ...h.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    onRequest = (r) => {
      if (!sent && when(r)) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      onRequest = undefined;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('Ctrl-C and the re-run', () => {
  it('SIGINT mid-create exits 130 with a summary that matches the emulator; a re-run completes the rest', async () => {
    await fault({ LatencyMs: '15' });
    try {
      let created = 0;
      const res = await runInterrupted([...createArgs('totalprice'), '--all-subaccounts', '--concurrency', '4', '--output', 'ndjson'], (r) => r.method === 'POST' && r.status === 201 && ++created >= 30);
      assertExit(res, 130);
      const inState = countsOf('totalprice');
      const made = inState.filter((c) => c === 1).length;
      assert.ok(inState.every((c) => c <= 1));
      assert.ok(made >= 30 && made < N, `${made} created before the stop`);
      const m = /^create interrupted: 200 accounts: (\d+) created(?:, (\d+) interrupted)?, (\d+) not started;/m.exec(res.stderr);
      assert.ok(m, res.stderr);
      assert.equal(Number(m[1]), made, 'the summary matches the emulator');
      assert.equal(Number(m[1]) + Number(m[2] ?? 0) + Number(m[3]), N);
      const rows = ndjson(res.stdout);
      assert.equal(rows.filter((r) => r.status === 'created').length, made);
      assert.equal(rows.length, N, 'every account has a row: created, interrupted or not-started');

      const again = await h.run([...createArgs('totalprice'), '--all-subaccounts', '--concurrency', '10', '--output', 'ndjson']);
      assertExit(again, 0);
      assert.match(again.stderr, new RegExp(`^create: ${N} accounts: (${made} unchanged, ${N - made} created|${N - made} created, ${made} unchanged);`, 'm'));
      assert.deepEqual(countsOf('totalprice'), subs().map(() => 1));
    } finally {
      await clearFaults();
    }
  });
});

describe('a second Ctrl-C', () => {
  it('abandons the requests in flight: exit 130 before they are answered, the summary names the accounts whose outcome is unknown', async () => {
    // the creates in flight (--allow-duplicate: the create is each account's first request) take 20 s
    await fault({ LatencyMs: '20000' });
    const file = accountsFile(subs().join('\n'));
    const from = h.emu.requests.length;
    const args = [...createArgs('sms-outbound'), '--accounts-file', file, '--allow-duplicate', '--concurrency', '4', '--timeout', '60', '--output', 'ndjson'];
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, NO_COLOR: '1', ...h.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    try {
      await waitFor('4 creates in flight', () => (since(from, (r) => r.method === 'POST').length >= 4 ? true : undefined), 15_000);
      child.kill('SIGINT');
      await waitFor('the first Ctrl-C noted', () => (stderr.includes('Ctrl-C again to abandon them') ? true : undefined), 15_000, () => stderr);
      child.kill('SIGINT');
      const code = await closed;
      const inFlight = since(from, (r) => r.method === 'POST');
      assert.equal(inFlight.length, 4);
      assert.ok(inFlight.every((r) => r.status === 0), 'it exited while the requests were still unanswered');
      assert.equal(code, 130, stderr);
      const m = new RegExp(`^create abandoned: ${N} accounts: 4 abandoned in flight \\(outcome unknown\\), ${N - 4} not started;`, 'm');
      assert.match(stderr, m);
      const unknown = [...stderr.matchAll(/^ {2}unknown (AC[0-9a-f]{32}): a request was in flight when it was abandoned; check it with `utrig list --accounts \1`$/gm)].map((x) => x[1]);
      const rows = ndjson(stdout);
      assert.deepEqual(new Set(unknown), new Set(rows.filter((r) => r.status === 'abandoned').map((r) => r.account_sid)));
      assert.equal(unknown.length, 4);
      assert.equal(rows.filter((r) => r.status === 'not-started').length, N - 4);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
      await clearFaults();
    }
  });
});

describe('delete in every subaccount', () => {
  it('--dry-run shows the matches per account and deletes nothing; --yes deletes them (filters: category, name glob)', async () => {
    for (const s of subs().slice(0, 20)) {
      h.emu.store.createTrigger(s, { CallbackUrl: HOOK, TriggerValue: '7', UsageCategory: 'recordings', FriendlyName: 'spend alarm a' });
      h.emu.store.createTrigger(s, { CallbackUrl: HOOK, TriggerValue: '8', UsageCategory: 'recordings', FriendlyName: 'keep me' });
    }
    const from = h.emu.requests.length;
    const dry = await h.run(['delete', '--all-subaccounts', '--category', 'recordings', '--friendly-name', 'spend*', '--dry-run', '--output', 'ndjson']);
    assertExit(dry, 0);
    const plan = ndjson(dry.stdout);
    assert.equal(plan.length, 20);
    assert.ok(plan.every((r) => r.status === 'would-delete' && (r.trigger_sids as string[]).length === 1));
    assert.equal(since(from, (r) => r.method !== 'GET').length, 0);

    const refused = await h.run(['delete', '--all-subaccounts', '--category', 'recordings']);
    assertExit(refused, 2);
    assert.match(refused.stderr, /pass --yes/);

    const res = await h.run(['delete', '--all-subaccounts', '--category', 'recordings', '--friendly-name', 'spend*', '--yes', '--output', 'ndjson']);
    assertExit(res, 0);
    assert.equal(ndjson(res.stdout).filter((r) => r.status === 'deleted').length, 20);
    assert.deepEqual(countsOf('recordings').slice(0, 20), Array(20).fill(1));
    assert.ok(subs().slice(0, 20).every((s) => h.emu.store.listTriggers(s, { usageCategory: "recordings" })[0]?.friendly_name === 'keep me'));
  });
});
