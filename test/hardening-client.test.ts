import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { resolveApiLink } from '../src/api/base-url.js';
import { Redactor } from '../src/api/redact.js';
import { startReceiver } from './emulator-helpers.js';
import { assertExit, harness, runCli, tempConfigDir, type Harness } from './helpers.js';

const URL_OK = 'https://example.com/hook';
const SID = 'UT' + 'a'.repeat(32);

/** A fake API on loopback: `answer` decides every reply; every request is recorded. */
async function fakeApi(
  host: string,
  answer: (req: IncomingMessage, url: string) => { status: number; body: unknown; headers?: Record<string, string> },
): Promise<{ url: string; origin: string; got: string[]; close(): Promise<void> }> {
  const got: string[] = [];
  const server: Server = createServer((req, res) => {
    got.push(`${req.method} ${req.url} ${req.headers.authorization ? 'with-auth' : 'no-auth'}`);
    req.resume();
    req.on('end', () => {
      const a = answer(req, req.url ?? '');
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    origin,
    got,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * A server that accepts connections and never answers; requests() counts the connections that sent one,
 * firstAt() is when the first arrived (so a test times the client, not its start-up on a loaded machine).
 */
async function silentServer(): Promise<{ url: string; requests: () => number; firstAt: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let n = 0;
  let first = 0;
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => {
      if (n++ === 0) first = Date.now();
    });
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => n,
    firstAt: () => first,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function trigger(sid: string): Record<string, unknown> {
  return {
    sid,
    account_sid: 'AC' + '0'.repeat(32),
    usage_category: 'sms',
    trigger_by: 'usage',
    trigger_value: '10',
    current_value: '1',
    recurring: null,
    callback_url: URL_OK,
    callback_method: 'POST',
    friendly_name: null,
    date_created: 'Sun, 01 Nov 2026 00:00:00 +0000',
    date_updated: 'Sun, 01 Nov 2026 00:00:00 +0000',
    date_fired: null,
    uri: `/2010-04-01/Accounts/AC${'0'.repeat(32)}/Usage/Triggers/${sid}.json`,
    usage_record_uri: '/2010-04-01/Accounts/AC/Usage/Records.json?Category=sms',
    api_version: '2010-04-01',
  };
}

async function fault(h: Harness, form: Record<string, string>): Promise<void> {
  const res = await fetch(`${h.emu.url}/emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  assert.equal(res.status, 200);
}

const clearFaults = (h: Harness) => fetch(`${h.emu.url}/emulator/faults`, { method: 'DELETE' });

describe('list follows next_page_uri only on the API origin (issue 8, point 1)', () => {
  const token = 'f'.repeat(32);
  let api: Awaited<ReturnType<typeof fakeApi>>;
  let thief: Awaited<ReturnType<typeof fakeApi>>;
  // The account SID in the path picks which next_page_uri the hostile API answers.
  const links = new Map<string, string>();
  before(async () => {
    thief = await fakeApi('127.0.0.2', () => ({ status: 200, body: { usage_triggers: [], next_page_uri: null } }));
    api = await fakeApi('127.0.0.1', (_req, url) => {
      const account = /Accounts\/(AC[0-9a-f]{32})\//.exec(url)?.[1] ?? '';
      return { status: 200, body: { usage_triggers: [trigger(SID)], next_page_uri: links.get(account) ?? null } };
    });
  });
  after(async () => {
    await api.close();
    await thief.close();
  });

  it('refuses other origins, protocol-relative and relative links, and repeated pages, sending nothing there', async () => {
    const port = new URL(thief.origin).port;
    const cases = [
      `${thief.origin}/steal`,
      `//127.0.0.2:${port}/steal`,
      `/\\127.0.0.2:${port}/steal`,
      `https://${new URL(api.origin).host}/2010-04-01/x.json`,
      'page2.json?Page=1',
      `${api.origin.replace('127.0.0.1', 'user:pw@127.0.0.1')}/2010-04-01/x.json`,
    ];
    const runs = cases.map(async (link, i) => {
      const account = 'AC' + String(i + 1).padStart(32, '0');
      links.set(account, link);
      const res = await runCli(['list', '--output', 'ndjson'], {
        env: { UTRIG_API_URL: api.url, TWILIO_ACCOUNT_SID: account, TWILIO_AUTH_TOKEN: token, UTRIG_CONFIG_DIR: tempConfigDir() },
        secrets: [token],
      });
      assertExit(res, 1);
      assert.equal(res.stdout.trim().split('\n').length, 1, 'the first page is listed');
      assert.ok(res.stderr.includes(`error: the API answered a next_page_uri that leaves ${api.origin}: ${JSON.stringify(link)}`), res.stderr);
    });
    await Promise.all(runs);
    assert.deepEqual(thief.got, [], 'nothing reached the other origin');
    assert.equal(api.got.length, cases.length, 'one page each, and no request for the refused link');
  });

  it('stops when next_page_uri repeats a page already listed', async () => {
    const account = 'AC' + 'b'.repeat(32);
    const first = `/2010-04-01/Accounts/${account}/Usage/Triggers.json?PageSize=1000`;
    const second = `/2010-04-01/Accounts/${account}/Usage/Triggers.json?Page=1&PageSize=1000`;
    // page 0 -> page 1 -> page 0 again
    const loop = await fakeApi('127.0.0.1', (_req, url) => ({
      status: 200,
      body: { usage_triggers: [trigger(SID)], next_page_uri: url.includes('Page=1') ? first : second },
    }));
    try {
      const res = await runCli(['list', '--output', 'ndjson'], {
        env: { UTRIG_API_URL: loop.url, TWILIO_ACCOUNT_SID: account, TWILIO_AUTH_TOKEN: token, UTRIG_CONFIG_DIR: tempConfigDir() },
        secrets: [token],
      });
      assertExit(res, 1);
      assert.match(res.stderr, /error: the API answered a next_page_uri that repeats a page already listed: ".*PageSize=1000"; stopped/);
      assert.equal(loop.got.length, 2);
      assert.equal(res.stdout.trim().split('\n').length, 2);
    } finally {
      await loop.close();
    }
  });
});

describe('secrets in response bodies stay out of traces and errors (issue 8, point 2)', () => {
  let h: Harness;
  before(async () => (h = await harness({ subaccounts: 1 })));
  after(() => h.close());

  it('login --verbose does not print the account auth_token', async () => {
    const res = await h.run(['login', '--account-sid', h.emu.accountSid, '--auth-token-stdin', '--verbose'], {
      input: h.emu.authToken,
      env: { UTRIG_CONFIG_DIR: tempConfigDir(), TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined },
      secrets: [h.emu.authToken],
    });
    assertExit(res, 0);
    assert.match(res.stderr, /"auth_token":"\[redacted\]"/);
  });

  it("fire --account-sid --verbose does not print the subaccount's auth token", async () => {
    const sub = h.emu.subaccountSids[0]!;
    const subToken = String(((await h.api('GET', `/2010-04-01/Accounts/${sub}.json`)).json as { auth_token: string }).auth_token);
    assert.match(subToken, /^[0-9a-f]{32}$/);
    const rx = await startReceiver();
    try {
      const res = await h.run(['--account-sid', sub, 'fire', '--category', 'sms', '--value', '10', '--to', rx.url, '--verbose'], {
        secrets: [subToken],
      });
      assertExit(res, 0);
      assert.match(res.stderr, /"auth_token":"\[redacted\]"/);
      assert.equal(rx.received.length, 1);
    } finally {
      await rx.close();
    }
  });

  it('an API error message that echoes a secret is redacted', async () => {
    const token = 'e'.repeat(32);
    const other = 'SECRETVALUE0123456789';
    const api = await fakeApi('127.0.0.1', () => ({
      status: 400,
      body: { code: 20001, message: `bad request from ${token}: auth_token=${other}`, status: 400 },
    }));
    try {
      const res = await runCli(['get', SID, '--verbose'], {
        env: { UTRIG_API_URL: api.url, TWILIO_ACCOUNT_SID: 'AC' + 'c'.repeat(32), TWILIO_AUTH_TOKEN: token, UTRIG_CONFIG_DIR: tempConfigDir() },
        secrets: [token, other],
      });
      assertExit(res, 1);
      assert.match(res.stderr, /error: bad request from \[redacted\]: auth_token=\[redacted\] \(Twilio 20001, HTTP 400\)/);
    } finally {
      await api.close();
    }
  });
});

describe('login --api-key verifies without /Accounts (issue 8, point 3)', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('lists one trigger instead of fetching the account', async () => {
    const n = h.emu.requests.length;
    const res = await h.run(['login', '--account-sid', h.emu.accountSid, '--api-key', h.emu.apiKeySid, '--api-secret-stdin'], {
      input: h.emu.apiKeySecret,
      env: { UTRIG_CONFIG_DIR: tempConfigDir(), TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined },
    });
    assertExit(res, 0);
    assert.match(res.stderr, new RegExp(`Logged in to ${h.emu.accountSid} as profile "default"`));
    const sent = h.emu.requests.slice(n).map((r) => [r.method, r.path, r.query]);
    assert.deepEqual(sent, [['GET', `/2010-04-01/Accounts/${h.emu.accountSid}/Usage/Triggers.json`, { PageSize: '1' }]]);
  });
});

describe('--timeout is one deadline for the whole command (issue 8, point 12)', () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = String((await h.create({ UsageCategory: 'sms', TriggerValue: '10', CallbackUrl: URL_OK })).sid);
  });
  after(() => h.close());

  it('a silent server ends the command at --timeout, saying so', async () => {
    const silent = await silentServer();
    try {
      const res = await runCli(['get', sid, '--timeout', '1'], { env: { ...h.env, UTRIG_API_URL: silent.url }, timeoutMs: 15_000 });
      const took = Date.now() - silent.firstAt();
      assertExit(res, 5);
      assert.match(res.stderr, /^error: timed out: no answer from 127\.0\.0\.1:\d+ within --timeout 1 s \(1 attempt\)$/m);
      assert.ok(took < 3000, `took ${took} ms after the request arrived`);
      assert.equal(silent.requests(), 1);
    } finally {
      await silent.close();
    }
  });

  it('a Retry-After beyond what is left of --timeout ends the command at once', async () => {
    await fault(h, { Status: '429', Count: '10', RetryAfter: '86400' });
    try {
      const n = h.emu.requests.length;
      // without the deadline this waits 3 x 60 s, and the 15 s kill fails the exit code
      const res = await h.run(['get', sid, '--timeout', '2'], { timeoutMs: 15_000 });
      assertExit(res, 1);
      assert.match(res.stderr, /^error: gave up within --timeout 2 s \(1 attempt; the server asked to retry after 86400 s\): Too Many Requests \(Twilio 20429, HTTP 429\)$/m);
      assert.equal(h.emu.requests.length - n, 1);
    } finally {
      await clearFaults(h);
    }
  });

  it('retries share the deadline: 503s with backoff stop when the next wait would pass it', async () => {
    await fault(h, { Status: '503', Count: '10', LatencyMs: '300' });
    try {
      const n = h.emu.requests.length;
      const res = await h.run(['get', sid, '--timeout', '1'], { timeoutMs: 15_000 });
      // Which limit is hit depends on the machine's speed; either way the message names --timeout.
      assert.match(res.stderr, /^error: (gave up within --timeout 1 s \(\d attempts?\): injected fault: HTTP 503|timed out: no answer from \S+ within --timeout 1 s)/m);
      assert.ok(h.emu.requests.length - n < 4, 'fewer attempts than the retry limit');
    } finally {
      await clearFaults(h);
    }
  });
});

describe('honest outcomes and edge validation (issue 8, point 13)', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());
  const create = ['create', '--category', 'sms', '--value', '5', '--callback-url', URL_OK];

  it('a create with no answer may have been created: it says so and how to check', async () => {
    const silent = await silentServer();
    try {
      const res = await runCli([...create, '--timeout', '1'], { env: { ...h.env, UTRIG_API_URL: silent.url }, timeoutMs: 15_000 });
      assertExit(res, 5);
      assert.match(res.stderr, /^error: the trigger may have been created: no answer from 127\.0\.0\.1:\d+ within --timeout 1 s \(1 attempt\)$/m);
      assert.match(res.stderr, /^check with `utrig list --category sms` before creating it again$/m);
      assert.doesNotMatch(res.stderr, /could not reach/);
      assert.equal(silent.requests(), 1, 'sent once, never resent');
    } finally {
      await silent.close();
    }
  });

  it('a create whose connection drops after sending may have been created', async () => {
    await fault(h, { Drop: 'true', Count: '1', Method: 'POST' });
    try {
      const n = h.emu.requests.length;
      const res = await h.run(create);
      assertExit(res, 5);
      assert.match(res.stderr, /^error: the trigger may have been created: the connection to 127\.0\.0\.1:\d+ failed after the request was sent \(\w+\)$/m);
      assert.match(res.stderr, /check with `utrig list --category sms`/);
      assert.equal(h.emu.requests.length - n, 1);
    } finally {
      await clearFaults(h);
    }
  });

  it('--timeout is a plain decimal in range; anything else is a usage error and nothing is sent', async () => {
    const n = h.emu.requests.length;
    for (const v of ['0.0001', '0x10', '1e3', '-1', '601', ' 5', 'Infinity', '']) {
      const res = await h.run(['list', '--timeout', v]);
      assertExit(res, 2);
      assert.ok(res.stderr.includes(`error: --timeout "${v}" must be a plain decimal number from 0.1 to 600`), res.stderr);
    }
    assert.equal(h.emu.requests.length, n);
    assertExit(await h.run(['list', '--timeout', '2.5']), 0);
  });

  it('login refuses an absurd or non-printable secret before sending anything', async () => {
    const n = h.emu.requests.length;
    const env = { UTRIG_CONFIG_DIR: tempConfigDir(), TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined };
    const login = ['login', '--account-sid', h.emu.accountSid, '--auth-token-stdin'];
    const huge = await h.run(login, { input: 'a'.repeat(1024 * 1024), env });
    assertExit(huge, 2);
    assert.match(huge.stderr, /^error: the auth token on standard input is 1048576 characters long: Twilio's are 32, and at most 128 are accepted$/m);
    const ctl = await h.run(login, { input: 'abc\u0007def\u001b[2J', env, secrets: ['abc\u0007def'] });
    assertExit(ctl, 2);
    assert.match(ctl.stderr, /error: the auth token on standard input contains a space, control or non-ASCII character/);
    const key = await h.run(['login', '--account-sid', h.emu.accountSid, '--api-key', h.emu.apiKeySid, '--api-secret-stdin'], { input: 'sécret-sécret', env });
    assertExit(key, 2);
    assert.match(key.stderr, /error: the API secret on standard input contains/);
    assert.equal(h.emu.requests.length, n);
  });

  it('profile names follow a safe pattern, and prototype keys are never profiles', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_CONFIG_DIR: dir, TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined };
    assertExit(await h.run(['login', '--account-sid', h.emu.accountSid, '--auth-token-stdin'], { input: h.emu.authToken, env }), 0);
    for (const name of ['a b', '../x', 'x'.repeat(65), '']) {
      const res = await h.run(['--profile', name, 'list'], { env });
      assertExit(res, 2);
      assert.ok(res.stderr.includes(`error: --profile "${name}" is not a profile name: use 1 to 64 letters, digits, ".", "_" or "-"`), res.stderr);
    }
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const res = await h.run(['--profile', name, 'list'], { env });
      assertExit(res, 3);
      assert.match(res.stderr, new RegExp(`^error: no profile named "${name}"$`, 'm'));
      const rm = await h.run(['profiles', 'remove', name], { env });
      assertExit(rm, 2);
      assert.match(rm.stderr, new RegExp(`^error: no profile named "${name}"; known profiles: default$`, 'm'));
    }
    const env2 = await h.run(['list'], { env: { ...env, UTRIG_PROFILE: '__proto__' } });
    assertExit(env2, 3);
    assert.match(env2.stderr, /^error: no profile named "__proto__"$/m);
  });

  it('read-only commands leave the mode of a UTRIG_CONFIG_DIR alone', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_CONFIG_DIR: dir, TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined };
    assertExit(await h.run(['login', '--account-sid', h.emu.accountSid, '--auth-token-stdin'], { input: h.emu.authToken, env }), 0);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'login keeps the secret in a 0700 directory');
    chmodSync(dir, 0o755);
    for (const args of [['list'], ['--profile', 'default', 'list'], ['profiles', 'list'], ['__complete', 'sids']]) {
      assertExit(await h.run(args, { env }), 0);
      assert.equal(statSync(dir).mode & 0o777, 0o755, `utrig ${args.join(' ')} changed the mode`);
    }
  });
});

describe('pure parts: link resolution and redaction', () => {
  it('resolveApiLink keeps links on the base origin only', () => {
    const base = 'https://api.twilio.com';
    assert.equal(resolveApiLink(base, '/2010-04-01/a.json?Page=1')?.href, 'https://api.twilio.com/2010-04-01/a.json?Page=1');
    assert.equal(resolveApiLink(base, 'https://api.twilio.com/x')?.href, 'https://api.twilio.com/x');
    for (const bad of ['//evil.example/x', '/\\evil.example/x', '/\t/evil.example/x', 'http://api.twilio.com/x', 'https://api.twilio.com:444/x',
      'https://u:p@api.twilio.com/x', 'x.json', 'javascript:alert(1)', 'file:///etc/passwd', '']) {
      assert.equal(resolveApiLink(base, bad), undefined, bad);
    }
  });

  it('Redactor blanks secret fields, JSON or not, and every echo of a value it has seen', () => {
    const r = new Redactor();
    const key = JSON.stringify({ sid: 'SK1', secret: 'k'.repeat(32), nested: [{ auth_token: 't'.repeat(32), idempotency_token: 'AC-FIRES-UT' }] });
    assert.equal(r.body(key), '{"sid":"SK1","secret":"[redacted]","nested":[{"auth_token":"[redacted]","idempotency_token":"AC-FIRES-UT"}]}');
    assert.equal(r.scrub(`echo ${'t'.repeat(32)}`), 'echo [redacted]');
    assert.equal(r.body('<p>AuthToken = abcdefgh12 and password="p@ss word!"</p>'), '<p>AuthToken = [redacted] and password="[redacted]"</p>');
    assert.equal(r.body('{"next_page_uri":"/x?PageToken=PA123"}'), '{"next_page_uri":"/x?PageToken=PA123"}');
  });
});
