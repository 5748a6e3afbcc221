import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, assertGolden, harness, normalize, runCli, tempConfigDir, type Harness } from './helpers.js';

const URL_OK = 'https://example.com/hook';

async function fault(h: Harness, form: Record<string, string>): Promise<void> {
  const res = await fetch(`${h.emu.url}/emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  assert.equal(res.status, 200);
}

describe('retries', () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = String((await h.create({ UsageCategory: 'sms', TriggerValue: '10', CallbackUrl: URL_OK })).sid);
  });
  after(() => h.close());

  it('GET is retried after 503s and succeeds', async () => {
    await fault(h, { Status: '503', Count: '2' });
    const n = h.emu.requests.length;
    const res = await h.run(['get', sid]);
    assertExit(res, 0);
    assert.deepEqual(h.emu.requests.slice(n).map((r) => r.status), [503, 503, 200]);
  });

  it('GET honours Retry-After after a 429', async () => {
    await fault(h, { Status: '429', Count: '1', RetryAfter: '1' });
    const n = h.emu.requests.length;
    const started = Date.now();
    const res = await h.run(['get', sid, '--verbose']);
    assertExit(res, 0);
    assert.deepEqual(h.emu.requests.slice(n).map((r) => r.status), [429, 200]);
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
    assert.match(res.stderr, /! HTTP 429; retrying in 1000 ms/);
  });

  it('GET gives up after three retries with the API error', async () => {
    await fault(h, { Status: '503', Count: '10' });
    const n = h.emu.requests.length;
    const res = await h.run(['get', sid]);
    await fetch(`${h.emu.url}/emulator/faults`, { method: 'DELETE' });
    assertExit(res, 1);
    assert.equal(h.emu.requests.length - n, 4);
    assert.match(res.stderr, /HTTP 503/);
  });

  it('a create that reached the server is never sent twice', async () => {
    await fault(h, { Status: '503', Count: '1', Method: 'POST' });
    const n = h.emu.requests.length;
    const res = await h.run(['create', '--category', 'sms', '--value', '5', '--callback-url', URL_OK]);
    assertExit(res, 1);
    assert.equal(h.emu.requests.length - n, 1);
    assert.match(res.stderr, /HTTP 503/);
  });

  it('a dropped connection on GET is retried', async () => {
    await fault(h, { Drop: 'true', Count: '1' });
    const res = await h.run(['get', sid]);
    assertExit(res, 0);
  });

  it('--timeout bounds a slow answer: a network error (exit 5) at the deadline', async () => {
    await fault(h, { LatencyMs: '3000' });
    try {
      const n = h.emu.requests.length;
      const res = await h.run(['get', sid, '--timeout', '0.3']);
      assertExit(res, 5);
      assert.match(res.stderr, /error: timed out: no answer from 127\.0\.0\.1:\d+ within --timeout 0\.3 s \(1 attempt\)/);
      assert.ok(h.emu.requests.length - n <= 1, 'no retry once the deadline has passed');
    } finally {
      await fetch(`${h.emu.url}/emulator/faults`, { method: 'DELETE' });
    }
    const bad = await h.run(['get', sid, '--timeout', 'soon']);
    assertExit(bad, 2);
    assert.match(bad.stderr, /--timeout "soon" must be a plain decimal number from 0\.1 to 600/);
  });

  it('an unreachable API is a network error (exit 5)', async () => {
    const res = await runCli(['list'], { env: { ...h.env, UTRIG_API_URL: 'http://127.0.0.1:9' }, secrets: [h.emu.authToken] });
    assertExit(res, 5);
    assert.match(res.stderr, /error: could not reach 127\.0\.0\.1:9/);
  });
});

describe('credentials, profiles and accounts', () => {
  let h: Harness;
  before(async () => (h = await harness({ subaccounts: 1 })));
  after(() => h.close());

  it('login verifies the token from stdin and stores it mode 0600 in a 0700 directory', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: join(dir, 'utrig') };
    const res = await runCli(['login', '--account-sid', h.emu.accountSid, '--auth-token-stdin'], { env, input: h.emu.authToken + '\n', secrets: [h.emu.authToken] });
    assertExit(res, 0);
    assert.match(res.stderr, /Logged in to AC[0-9a-f]{32}.* as profile "default"/);
    const file = join(dir, 'utrig', 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'utrig')).mode & 0o777, 0o700);
    // the stored profile works without any env credentials
    await h.create({ UsageCategory: 'mms', TriggerValue: '3', CallbackUrl: URL_OK });
    const list = await runCli(['list', '--fields', 'usage_category', '--output', 'csv'], { env, secrets: [h.emu.authToken] });
    assertExit(list, 0);
    assert.match(list.stdout, /^usage_category\nmms\n/);
    const profiles = await runCli(['profiles', 'list', '--json'], { env, secrets: [h.emu.authToken] });
    assertExit(profiles, 0);
    assert.deepEqual(JSON.parse(profiles.stdout), [{ name: 'default', account_sid: h.emu.accountSid, auth: 'auth token', api_key: null, active: true }]);
    const out = await runCli(['logout'], { env, secrets: [h.emu.authToken] });
    assertExit(out, 0);
    assert.ok(!readFileSync(file, 'utf8').includes(h.emu.authToken), 'logout removes the token from disk');
    const after = await runCli(['list'], { env });
    assertExit(after, 3);
    assert.match(after.stderr, /error: no credentials/);
  });

  it('login with a wrong token saves nothing and exits 3', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir };
    const wrong = 'f'.repeat(32);
    const res = await runCli(['login', '--account-sid', h.emu.accountSid, '--auth-token-stdin'], { env, input: wrong, secrets: [wrong] });
    assertExit(res, 3);
    assert.match(res.stderr, /did not accept these credentials .*; nothing was saved/);
    const profiles = await runCli(['profiles', 'list', '--json'], { env });
    assert.equal(profiles.stdout, '[]\n');
  });

  it('login with an API key and secret from stdin', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir };
    const res = await runCli(['login', '--profile', 'ci', '--account-sid', h.emu.accountSid, '--api-key', h.emu.apiKeySid, '--api-secret-stdin'], {
      env,
      input: h.emu.apiKeySecret,
      secrets: [h.emu.apiKeySecret],
    });
    assertExit(res, 0);
    const list = await runCli(['list', '--profile', 'ci'], { env, secrets: [h.emu.apiKeySecret] });
    assertExit(list, 0);
  });

  it('login without a terminal or stdin flags is a usage error, and a token is never a flag', async () => {
    const res = await runCli(['login'], { env: { UTRIG_CONFIG_DIR: tempConfigDir() } });
    assertExit(res, 2);
    assert.match(res.stderr, /login needs a terminal to ask, or --account-sid AC… with --auth-token-stdin/);
    const flag = await runCli(['login', '--auth-token', 'abc'], { env: { UTRIG_CONFIG_DIR: tempConfigDir() } });
    assertExit(flag, 2);
    assert.match(flag.stderr, /unknown option '--auth-token'/);
  });

  it('TWILIO_API_KEY + TWILIO_API_SECRET from the environment', async () => {
    const res = await runCli(['list'], {
      env: { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: tempConfigDir(), TWILIO_ACCOUNT_SID: h.emu.accountSid, TWILIO_API_KEY: h.emu.apiKeySid, TWILIO_API_SECRET: h.emu.apiKeySecret },
      secrets: [h.emu.apiKeySecret],
    });
    assertExit(res, 0);
  });

  it('a refused token exits 3 with a hint, and does not show the token', async () => {
    const wrong = 'e'.repeat(32);
    const res = await h.run(['list'], { env: { TWILIO_AUTH_TOKEN: wrong }, secrets: [wrong] });
    assertExit(res, 3);
    assert.match(res.stderr, /HTTP 401/);
    assert.match(res.stderr, /utrig login/);
  });

  it('--account-sid acts on a subaccount with the parent credentials', async () => {
    const sub = h.emu.subaccountSids[0]!;
    const n = h.emu.requests.length;
    const res = await h.run(['--account-sid', sub, 'create', '--category', 'sms', '--value', '9', '--callback-url', URL_OK]);
    assertExit(res, 0);
    assert.equal(h.emu.requests[n]!.path, `/2010-04-01/Accounts/${sub}/Usage/Triggers.json`);
    assert.equal((JSON.parse(res.stdout) as { account_sid: string }).account_sid, sub);
    const bad = await h.run(['--account-sid', 'ACnope', 'list']);
    assertExit(bad, 2);
    assert.match(bad.stderr, /--account-sid "ACnope" is not an account SID/);
  });

  it('--verbose traces requests with Authorization redacted', async () => {
    const res = await h.run(['list', '--verbose']);
    assertExit(res, 0);
    assert.match(res.stderr, /> GET http:\/\/127\.0\.0\.1:\d+\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Usage\/Triggers\.json\?PageSize=1000/);
    assert.match(res.stderr, /> Authorization: Basic \[redacted\]/);
    assert.match(res.stderr, /< 200 \(\d+ ms\)/);
    const basic = Buffer.from(`${h.emu.accountSid}:${h.emu.authToken}`).toString('base64');
    assert.ok(!res.stderr.includes(basic));
  });

  it('a corrupt config file is a clear error, never a silent reset', async () => {
    const dir = tempConfigDir();
    writeFileSync(join(dir, 'config.json'), '{"profiles": {"default": ');
    const res = await runCli(['list'], { env: { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir } });
    assertExit(res, 3);
    assert.match(res.stderr, /cannot read the config/);
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"profiles": {"default": ');
  });

  it('plain http is refused for a non-loopback UTRIG_API_URL', async () => {
    const res = await h.run(['list'], { env: { UTRIG_API_URL: 'http://example.com' } });
    assertExit(res, 2);
    assert.match(res.stderr, /UTRIG_API_URL uses plain http for example\.com: http is accepted only for loopback addresses/);
  });
});

describe('output formats (golden files)', () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = String((await h.create({ UsageCategory: 'sms', TriggerValue: '100', CallbackUrl: URL_OK, FriendlyName: 'sms quota, "team a"' })).sid);
    await h.create({ UsageCategory: 'totalprice', TriggerValue: '25.5', TriggerBy: 'price', Recurring: 'monthly', CallbackUrl: URL_OK, CallbackMethod: 'GET' });
    await fetch(`${h.emu.url}/emulator/usage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ AccountSid: h.emu.accountSid, Category: 'sms', Count: '57', Usage: '57', Price: '0.4275' }).toString(),
    });
  });
  after(() => h.close());

  const env = { COLUMNS: '80' };
  for (const [name, args] of [
    ['list.table.txt', ['list', '--output', 'table']],
    ['list.json', ['list']],
    ['list.ndjson', ['list', '--output', 'ndjson']],
    ['list.csv', ['list', '--output', 'csv']],
  ] as [string, string[]][]) {
    it(`list → ${name}`, async () => {
      const res = await h.run(args, { env });
      assertExit(res, 0);
      assertGolden(name, normalize(res.stdout));
    });
  }

  it('get → get.table.txt with a progress bar', async () => {
    const res = await h.run(['get', sid, '--output', 'table'], { env });
    assertExit(res, 0);
    assertGolden('get.table.txt', normalize(res.stdout));
  });

  it('get → get.color.txt: colour with FORCE_COLOR', async () => {
    const res = await h.run(['get', sid, '--output', 'table'], { env: { ...env, NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assertExit(res, 0);
    assert.match(res.stdout, /\u001b\[/);
    assertGolden('get.color.txt', normalize(res.stdout));
    const plain = await h.run(['get', sid, '--output', 'table', '--no-color'], { env: { ...env, NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.doesNotMatch(plain.stdout, /\u001b\[/);
  });

  it('help → help.create.txt', async () => {
    const res = await h.run(['create', '--help'], { env });
    assertExit(res, 0);
    assertGolden('help.create.txt', res.stdout);
  });
});

describe('the rest of the surface', () => {
  it('--version prints the package version', async () => {
    const res = await runCli(['--version']);
    assertExit(res, 0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(res.stdout.trim(), pkg.version);
  });

  it('every command has --help with at least two examples', async () => {
    const commands = [
      'create', 'get', 'list', 'update', 'delete', 'categories', 'login', 'logout', 'profiles', 'profiles list', 'profiles use',
      'profiles remove', 'emulator', 'emulator usage', 'emulator clock', 'emulator deliveries', 'listen', 'fire', 'completion',
    ];
    for (const cmd of commands) {
      const res = await runCli([...cmd.split(' '), '--help']);
      assertExit(res, 0);
      assert.ok((res.stdout.match(/^ {2}\$ utrig/gm) ?? []).length >= 2, `${cmd} --help has two examples:\n${res.stdout}`);
    }
  });

  it('an unknown command is a usage error with a suggestion', async () => {
    const res = await runCli(['lsit']);
    assertExit(res, 2);
    assert.match(res.stderr, /unknown command 'lsit'/);
    assert.match(res.stderr, /Did you mean list\?/);
  });

  it('categories filters by every word and knows 646', async () => {
    const all = await runCli(['categories', '--json']);
    assertExit(all, 0);
    assert.equal((JSON.parse(all.stdout) as unknown[]).length, 646);
    const res = await runCli(['categories', 'sms', 'outbound', '--output', 'csv']);
    assertExit(res, 0);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines[0], 'category,group');
    assert.ok(lines.length > 3);
    assert.ok(lines.slice(1).every((l) => /^sms-outbound[a-z0-9-]*,SMS$/.test(l) || l.includes('outbound')), lines.join('\n'));
  });

  it('--local creates and lists against the embedded emulator, with state in the config dir', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_CONFIG_DIR: dir };
    const c = await runCli(['--local', 'create', '--category', 'sms', '--value', '+30', '--callback-url', URL_OK], { env });
    assertExit(c, 0);
    // 11.2: the note is for a person at a terminal; a script's stderr stays quiet
    assert.doesNotMatch(c.stderr, /using the local emulator/);
    const sid = (JSON.parse(c.stdout) as { sid: string }).sid;
    const l = await runCli(['list', '--profile', 'local', '--output', 'ndjson'], { env });
    assertExit(l, 0);
    assert.equal((JSON.parse(l.stdout.trim()) as { sid: string }).sid, sid);
    assert.equal(statSync(join(dir, 'local-emulator.json')).mode & 0o777, 0o600);
  });
});
