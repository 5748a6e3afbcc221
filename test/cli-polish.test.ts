// Issue 11, without a terminal: the built CLI as a subprocess against the emulator.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { assertExit, BIN, harness, runCli, tempConfigDir, type Harness } from './helpers.js';

const HOOK = 'https://example.com/hook';
const TRIGGERS = /\/Usage\/Triggers\.json$/;

describe('threshold already reached (11.4)', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
    const r = await h.api('POST', '/emulator/usage', { AccountSid: h.emu.accountSid, Category: 'sms', Usage: '12', Count: '3' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });
  after(() => h.close());

  it('create warns on stderr, still creates, and sends exactly one request', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['create', '--category', 'sms', '--value', '5', '--callback-url', HOOK]);
    assertExit(res, 0);
    assert.match(res.stderr, /^warning: sms usage so far is already 12, at or above the trigger value 5: the trigger fires at once$/m);
    assert.equal(h.emu.requests.length - n, 1, 'no extra request: the answer says how far usage is');
    assert.equal(JSON.parse(res.stdout).trigger_value, '5');
  });

  it('the warning follows --trigger-by: count 3 reaches 3', async () => {
    const res = await h.run(['create', '--category', 'sms', '--trigger-by', 'count', '--value', '3', '--callback-url', HOOK]);
    assertExit(res, 0);
    assert.match(res.stderr, /warning: sms count so far is already 3, at or above the trigger value 3/);
  });

  it('no warning above current usage, nor for +N', async () => {
    for (const value of ['12.5', '+1']) {
      const res = await h.run(['create', '--category', 'sms', '--value', value, '--callback-url', HOOK]);
      assertExit(res, 0);
      assert.doesNotMatch(res.stderr, /warning/, value);
    }
  });
});

describe('messages (11.6)', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  for (const [given, meant] of [
    ['SMS', 'sms'],
    ['sms_outbound', 'sms-outbound'],
    ['sms outbound', 'sms-outbound'],
    ['Calls_Outbound', 'calls-outbound'],
    ['SMS_outbund', 'sms-outbound'],
  ]) {
    it(`--category ${JSON.stringify(given)} suggests ${meant}, nothing sent`, async () => {
      const n = h.emu.requests.length;
      const res = await h.run(['create', '--category', given!, '--value', '5', '--callback-url', HOOK]);
      assertExit(res, 2);
      assert.match(res.stderr, new RegExp(`did you mean ${meant}[?,]`));
      assert.equal(h.emu.requests.length, n);
    });
  }

  it('the emulator suggests the same for UsageCategory=SMS', async () => {
    const r = await h.api('POST', `/2010-04-01/Accounts/${h.emu.accountSid}/Usage/Triggers.json`, {
      UsageCategory: 'SMS',
      TriggerValue: '5',
      CallbackUrl: HOOK,
    });
    assert.equal(r.status, 400);
    assert.match(String((r.json as { message?: string }).message), /did you mean sms\?/);
  });

  it('--value -5 says it must not be negative', async () => {
    const res = await h.run(['create', '--category', 'sms', '--value', '-5', '--callback-url', HOOK]);
    assertExit(res, 2);
    assert.match(res.stderr, /--value "-5" is negative/);
  });

  it('emulator usage --usage -5 gets advice about amounts, not trigger values', async () => {
    const res = await h.run(['emulator', 'usage', '--category', 'sms', '--usage', '-5']);
    assertExit(res, 2);
    assert.match(res.stderr, /--usage "-5" is negative: give an amount such as 40 or 0\.32/);
    assert.doesNotMatch(res.stderr, /\+30/);
  });
});

describe('categories match words at segment starts (11.7)', () => {
  it('"sms out" keeps sms-outbound and leaves out …southamerica', async () => {
    const res = await runCli(['categories', 'sms', 'out', '--json'], { env: { UTRIG_CONFIG_DIR: tempConfigDir() } });
    assertExit(res, 0);
    const cats = (JSON.parse(res.stdout) as { category: string }[]).map((r) => r.category);
    assert.ok(cats.includes('sms-outbound'));
    assert.ok(cats.includes('authy-sms-outbound'));
    assert.ok(!cats.includes('wireless-sms-centralandsouthamerica'), cats.join(' '));
  });
});

describe('help (11.8)', () => {
  const env = { UTRIG_CONFIG_DIR: tempConfigDir() };

  it('a subcommand lists the global flags as inherited flags', async () => {
    const res = await runCli(['list', '--help'], { env });
    assertExit(res, 0);
    assert.match(res.stdout, /\nInherited flags:\n(.*\n)*  --profile <name> /);
    assert.match(res.stdout, /\n  --local /);
    assert.doesNotMatch(res.stdout, /--version/);
  });

  it('logout and profiles have descriptions; login lists --account-sid once', async () => {
    const logout = await runCli(['logout', '--help'], { env });
    assert.match(logout.stdout, /Remove a stored profile and its secret from the config directory/);
    const profiles = await runCli(['profiles', '--help'], { env });
    assert.match(profiles.stdout, /List, choose and remove the profiles/);
    const login = await runCli(['login', '--help'], { env });
    assert.match(login.stdout, /--account-sid <AC…> +the account to log in to/);
    assert.equal(login.stdout.match(/--account-sid/g)?.length, [...login.stdout.matchAll(/--account-sid AC…/g)].length + 1);
  });

  it('utrig help nope is a usage error; utrig help create shows create', async () => {
    const bad = await runCli(['help', 'nope'], { env });
    assertExit(bad, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /unknown command "nope"/);
    const good = await runCli(['help', 'create'], { env });
    assertExit(good, 0);
    assert.match(good.stdout, /^Usage: utrig create /);
  });

  it('bare utrig prints help on stdout and exits 0; an unknown word is still exit 2', async () => {
    const bare = await runCli([], { env });
    assertExit(bare, 0);
    assert.match(bare.stdout, /^Usage: utrig \[options\] \[command\]/);
    assert.equal(bare.stderr, '');
    const nope = await runCli(['nope'], { env });
    assertExit(nope, 2);
    assert.match(nope.stderr, /unknown command 'nope'/);
  });
});

describe('consistency (11.9)', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('-i without a terminal is a usage error and sends nothing', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['create', '-i', '--category', 'sms', '--value', '5', '--callback-url', HOOK]);
    assertExit(res, 2);
    assert.match(res.stderr, /-i\/--interactive needs a terminal/);
    assert.equal(h.emu.requests.slice(n).filter((r) => TRIGGERS.test(r.path)).length, 0);
  });

  it('--limit 2 says more exist (stderr), and says nothing when none are left out', async () => {
    for (let i = 1; i <= 3; i++) await h.create({ UsageCategory: 'calls', TriggerValue: String(i * 100), CallbackUrl: HOOK });
    const cut = await h.run(['list', '--limit', '2', '--json']);
    assertExit(cut, 0);
    assert.equal((JSON.parse(cut.stdout) as unknown[]).length, 2);
    assert.match(cut.stderr, /showing the first 2: more usage triggers exist/);
    const all = await h.run(['list', '--limit', '3', '--json']);
    assertExit(all, 0);
    assert.doesNotMatch(all.stderr, /more usage triggers exist/);
  });

  it('UTRIG_PROFILE=nope fails as --profile nope does, even with TWILIO_* set', async () => {
    const n = h.emu.requests.length;
    const flag = await h.run(['--profile', 'nope', 'list']);
    const envv = await h.run(['list'], { env: { UTRIG_PROFILE: 'nope' } });
    assertExit(flag, 3);
    assertExit(envv, 3);
    assert.equal(envv.stderr, flag.stderr);
    assert.equal(h.emu.requests.length, n);
  });
});

describe('emulator commands (11.11)', () => {
  it('usage, clock and deliveries with no emulator configured say how to point at one', async () => {
    const env = { UTRIG_CONFIG_DIR: tempConfigDir(), TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'abcdefgh12345678' };
    for (const args of [['usage', '--category', 'sms', '--count', '1'], ['clock', '--advance', '60'], ['deliveries']]) {
      const res = await runCli(['emulator', ...args], { env });
      assertExit(res, 3);
      assert.match(res.stderr, /^error: no emulator configured/m);
      assert.match(res.stderr, /use --local, or paste the export lines that `utrig emulator` prints/);
    }
  });

  it('UTRIG_API_URL alone: the hint is the export lines, not utrig login', async () => {
    const res = await runCli(['emulator', 'deliveries'], { env: { UTRIG_CONFIG_DIR: tempConfigDir(), UTRIG_API_URL: 'http://127.0.0.1:9' } });
    assertExit(res, 3);
    assert.match(res.stderr, /^paste all the export lines that `utrig emulator` prints/m);
  });

  it('emulator --help lists --account-sid and --auth-token with its rules', async () => {
    const res = await runCli(['emulator', '--help'], { env: { UTRIG_CONFIG_DIR: tempConfigDir() } });
    assertExit(res, 0);
    assert.match(res.stdout, /--account-sid <AC…> +SID of the emulated account/);
    const flat = res.stdout.replace(/\s+/g, ' ');
    assert.match(flat, /--auth-token <token> auth token of the emulated account, a test credential: at least 8 characters; use letters and digits only \(twilio-go refuses others\)/);
  });

  it('prints the API key it creates beside the export lines; the default token is alphanumeric', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', UTRIG_CONFIG_DIR: tempConfigDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no API key lines within 15 s:\n${out}`)), 15_000);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (/TWILIO_API_SECRET=\S+\n/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`emulator exited:\n${out}`)));
      });
    } finally {
      child.kill('SIGTERM');
    }
    assert.match(out, /^export TWILIO_AUTH_TOKEN=[A-Za-z0-9]{32}$/m);
    assert.match(out, /^# export TWILIO_API_KEY=SK[0-9a-f]{32}$/m);
    assert.match(out, /^# export TWILIO_API_SECRET=[A-Za-z0-9]+$/m);
  });
});
