import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { computeBodyHash, computeSignature } from '../src/api/signature.js';
import { BIN, harness, runCli, tempConfigDir, type CliResult, type Harness } from './helpers.js';

/** A long-running CLI process (listen): stdin ignored, output collected, killed by pid at the deadline. */
interface Bg {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the port from the startup line. */
  port: Promise<number>;
  exited: Promise<CliResult>;
}

function startCli(command: string, args: string[], env: Record<string, string>, timeoutMs = 30_000): Bg {
  const full: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env };
  const child = spawn(command, args, { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  const bg = { child, stdout: '', stderr: '' } as Bg;
  let gotPort: (p: number) => void = () => undefined;
  let noPort: (e: Error) => void = () => undefined;
  bg.port = new Promise<number>((res, rej) => {
    gotPort = res;
    noPort = rej;
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (bg.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    bg.stderr += d;
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(bg.stderr);
    if (m) gotPort(Number(m[1]));
  });
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, timeoutMs);
  bg.exited = new Promise((res) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      noPort(new Error(`listen exited (${code}) before its startup line\n--- stdout\n${bg.stdout}\n--- stderr\n${bg.stderr}`));
      res({ code, stdout: bg.stdout, stderr: bg.stderr });
    });
  });
  return bg;
}

function listen(h: Harness, args: string[]): Bg {
  return startCli(process.execPath, [BIN, 'listen', '--port', '0', ...args], h.env);
}

function assertExit(res: CliResult, code: number, what: string): void {
  assert.equal(res.code, code, `${what}: expected exit ${code}, got ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`);
}

type Event = { method: string; path: string; verified: boolean | null; status: number; params: Record<string, string>; forwarded: { status: number | null } | null; reason?: string };

function events(res: CliResult): Event[] {
  return res.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as Event;
      } catch {
        assert.fail(`listen wrote a line that is not JSON: ${l}\n--- stderr\n${res.stderr}`);
      }
    });
}

let h: Harness;
before(async () => {
  h = await harness({ retryDelayMs: 20 });
});
after(async () => {
  await h.close();
});

test('fire -> listen round trip: POST and GET from flags, and a trigger fetched from the API, all verified', async () => {
  const l = listen(h, ['--count', '3']);
  const port = await l.port;
  const url = `http://127.0.0.1:${port}/`;
  assert.match(l.stderr, /signatures verified with the auth token of environment/);

  const post = await h.run(['fire', '--category', 'sms', '--value', '100', '--recurring', 'monthly', '--to', url]);
  assertExit(post, 0, 'fire (POST)');
  const posted = JSON.parse(post.stdout) as { status: number; attempts: number; params: Record<string, string> };
  assert.equal(posted.status, 200);
  assert.equal(posted.attempts, 1);
  assert.equal(posted.params.AccountSid, h.emu.accountSid);
  assert.equal(posted.params.Recurring, 'monthly');
  assert.match(posted.params.UsageTriggerSid ?? '', /^UT[0-9a-f]{32}$/);

  const get = await h.run(['fire', '--category', 'calls', '--value', '5', '--method', 'GET', '--trigger-by', 'count', '--to', `${url}?tag=x`]);
  assertExit(get, 0, 'fire (GET)');

  const t = await h.create({ UsageCategory: 'totalprice', TriggerValue: '50', TriggerBy: 'price', CallbackUrl: url, CallbackMethod: 'POST' });
  const fetched = await h.run(['fire', String(t.sid)]);
  assertExit(fetched, 0, 'fire <sid>');

  const res = await l.exited;
  assertExit(res, 0, 'listen');
  const ev = events(res);
  assert.equal(ev.length, 3, res.stdout);
  assert.deepEqual(
    ev.map((e) => [e.method, e.verified, e.status]),
    [
      ['POST', true, 200],
      ['GET', true, 200],
      ['POST', true, 200],
    ],
  );
  assert.deepEqual(ev[0]!.params, posted.params);
  assert.equal(ev[1]!.params.TriggerBy, 'count');
  assert.equal(ev[1]!.params.tag, 'x');
  assert.equal(ev[2]!.params.UsageTriggerSid, t.sid);
  assert.equal(ev[2]!.params.TriggerBy, 'price');
  assert.equal(ev[2]!.params.TriggerValue, '50');
});

test('a wrong token or a tampered parameter is answered 403, reported and not counted; fire exits 1 on it', async () => {
  const l = listen(h, ['--count', '1']);
  const port = await l.port;
  const url = `http://127.0.0.1:${port}/hook`;
  const params = { AccountSid: h.emu.accountSid, UsageTriggerSid: 'UT' + '1'.repeat(32), UsageCategory: 'sms', TriggerValue: '10', CurrentValue: '10' };
  const send = (signature: string, body: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(body) });

  const wrongToken = await send(computeSignature('not-the-token', url, params), params);
  assert.equal(wrongToken.status, 403);
  assert.match(await wrongToken.text(), /invalid X-Twilio-Signature/);
  const tampered = await send(computeSignature(h.emu.authToken, url, params), { ...params, CurrentValue: '11' });
  assert.equal(tampered.status, 403);
  await tampered.text();

  const fire = await h.run(['fire', '--category', 'sms', '--value', '10', '--to', url], { env: { TWILIO_AUTH_TOKEN: 'f'.repeat(32) } });
  assertExit(fire, 1, 'fire with a wrong token');
  assert.match(fire.stderr, /^error: http:\/\/127\.0\.0\.1:\d+\/hook answered 403\n/);
  assert.equal((JSON.parse(fire.stdout) as { status: number }).status, 403);
  // --count 1 counts accepted callbacks only: three forgeries must not end the wait
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(l.child.exitCode, null, `listen ended after forged requests\n${l.stdout}\n${l.stderr}`);
  const good = await h.run(['fire', '--category', 'sms', '--value', '10', '--to', url]);
  assertExit(good, 0, 'fire with the right token');

  const res = await l.exited;
  assertExit(res, 0, 'listen');
  const ev = events(res);
  assert.deepEqual(ev.map((e) => [e.verified, e.status]), [
    [false, 403],
    [false, 403],
    [false, 403],
    [true, 200],
  ]);
  assert.equal(ev[1]!.params.CurrentValue, '11');
  assert.match(ev[0]!.reason ?? '', /X-Twilio-Signature does not match/);
  const warnings = res.stderr.split('\n').filter((line) => line.startsWith('warning: POST /hook: X-Twilio-Signature does not match'));
  assert.equal(warnings.length, 3, res.stderr);
  assert.match(res.stderr, /answered 403/);
});

test('fire to an unreachable URL exits 5; bad flags exit 2 and send nothing', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const res = await h.run(['fire', '--category', 'sms', '--value', '10', '--to', `http://127.0.0.1:${port}/`]);
  assertExit(res, 5, 'fire to a closed port');
  assert.match(res.stderr, /^error: could not reach http:\/\/127\.0\.0\.1:\d+\/: .*ECONNREFUSED/);
  const usage = await h.run(['fire', '--category', 'sms', '--to', 'ftp://x']);
  assertExit(usage, 2, 'fire without --value');
  assert.equal(usage.stderr, 'error: missing --value: give a trigger SID, or --category, --value and --to\nexample: utrig fire --category sms --value 100 --to http://127.0.0.1:3000/\n');
  const mixed = await h.run(['fire', 'UT' + 'a'.repeat(32), '--value', '3']);
  assertExit(mixed, 2, 'fire with a SID and --value');
});

test('a trigger crossing its threshold in the emulator reaches listen and verifies', async () => {
  const l = listen(h, ['--count', '1']);
  const port = await l.port;
  const t = await h.create({ UsageCategory: 'sms-outbound', TriggerValue: '10', CallbackUrl: `http://127.0.0.1:${port}/usage` });
  const usage = await fetch(`${h.emu.url}/emulator/usage`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ AccountSid: h.emu.accountSid, Category: 'sms-outbound', Usage: '12' }),
  });
  assert.equal(usage.status, 200, await usage.text());
  const res = await l.exited;
  assertExit(res, 0, 'listen');
  const ev = events(res);
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.verified, true, res.stdout);
  assert.equal(ev[0]!.path, '/usage');
  assert.equal(ev[0]!.params.UsageTriggerSid, t.sid);
  assert.equal(ev[0]!.params.CurrentValue, '12');
  assert.equal(ev[0]!.params.TriggerValue, '10');
});

test('listen --status 500: the emulator retries three times with the same IdempotencyToken', async () => {
  const l = listen(h, ['--status', '500', '--count', '4']);
  const port = await l.port;
  const t = await h.create({ UsageCategory: 'mms', TriggerValue: '1', TriggerBy: 'count', CallbackUrl: `http://127.0.0.1:${port}/` });
  const usage = await fetch(`${h.emu.url}/emulator/usage`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Category: 'mms', Count: '3' }),
  });
  assert.equal(usage.status, 200, await usage.text());
  const res = await l.exited;
  assertExit(res, 0, 'listen');
  const ev = events(res);
  assert.equal(ev.length, 4, res.stdout);
  assert.ok(ev.every((e) => e.verified === true && e.status === 500));
  const tokens = new Set(ev.map((e) => e.params.IdempotencyToken));
  assert.equal(tokens.size, 1);
  assert.match([...tokens][0] ?? '', new RegExp(`-FIRES-${String(t.sid)}-`));
  await h.emu.idle();
  const attempts = h.emu.deliveries.filter((d) => d.trigger_sid === t.sid);
  assert.deepEqual(
    attempts.map((d) => [d.attempt, d.status]),
    [
      [1, 500],
      [2, 500],
      [3, 500],
      [4, 500],
    ],
  );
});

test('listen | head -n 1 ends cleanly, with --count 1 and without it', async () => {
  for (const count of [['--count', '1'], []]) {
    const script = `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} listen --port 0 ${count.join(' ')} | head -n 1`;
    const l = startCli('bash', ['-c', script], h.env);
    const port = await l.port;
    const url = `http://127.0.0.1:${port}/`;
    const first = await h.run(['fire', '--category', 'sms', '--value', '1', '--to', url]);
    assertExit(first, 0, 'fire');
    if (count.length === 0) {
      // the next line meets a closed pipe; listen stops quietly; a further callback may find it gone
      await h.run(['fire', '--category', 'sms', '--value', '2', '--to', url]);
      await h.run(['fire', '--category', 'sms', '--value', '3', '--to', url]);
    }
    const res = await l.exited;
    assertExit(res, 0, `listen ${count.join(' ')} | head -n 1`);
    const ev = events(res);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.params.TriggerValue, '1');
  }
});

test('--forward-to relays method, query, headers and the exact body, and answers with the handler', async () => {
  const got: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const handler = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(202, { 'content-type': 'text/x-handler' });
      res.end('handled by the test');
    });
  });
  await new Promise<void>((r) => handler.listen(0, '127.0.0.1', () => r()));
  try {
    const hport = (handler.address() as AddressInfo).port;
    const l = listen(h, ['--count', '1', '--forward-to', `http://127.0.0.1:${hport}/handler?k=v`]);
    const port = await l.port;
    assert.match(l.stderr, /forwarding each verified callback to http:\/\/127\.0\.0\.1:\d+\/handler\?k=v/);
    const url = `http://127.0.0.1:${port}/cb?a=1&b=%2B2`;
    // a body with characters that must survive byte for byte (the order and encoding are the sender's)
    const body = 'UsageCategory=sms&AccountSid=' + h.emu.accountSid + '&Note=caf%C3%A9+%26+more&CurrentValue=12.50';
    const signature = computeSignature(h.emu.authToken, url, Object.fromEntries(new URLSearchParams(body)));
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, 'i-twilio-idempotency-token': 'tok-1', 'user-agent': 'TwilioProxy/1.1' },
      body,
    });
    assert.equal(answer.status, 202);
    assert.equal(answer.headers.get('content-type'), 'text/x-handler');
    assert.equal(await answer.text(), 'handled by the test');
    const res = await l.exited;
    assertExit(res, 0, 'listen --forward-to');
    assert.equal(got.length, 1);
    const r = got[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/handler?k=v&a=1&b=%2B2');
    assert.equal(r.body, body);
    assert.equal(r.headers['x-twilio-signature'], signature);
    assert.equal(r.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(r.headers['i-twilio-idempotency-token'], 'tok-1');
    assert.equal(r.headers['user-agent'], 'TwilioProxy/1.1');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(body)));
    // the Host the sender used, so a handler that checks the signature rebuilds the same URL
    assert.equal(r.headers.host, `127.0.0.1:${port}`);
    const ev = events(res);
    assert.equal(ev[0]!.verified, true);
    assert.equal(ev[0]!.status, 202);
    assert.equal(ev[0]!.forwarded?.status, 202);
  } finally {
    await new Promise<void>((r) => {
      handler.close(() => r());
      handler.closeAllConnections();
    });
  }
});

test('listen without an auth token (API-key credentials) says so; --no-verify accepts unsigned callbacks', async () => {
  const env = { TWILIO_ACCOUNT_SID: h.emu.accountSid, TWILIO_API_KEY: h.emu.apiKeySid, TWILIO_API_SECRET: h.emu.apiKeySecret, TWILIO_AUTH_TOKEN: undefined };
  const refused = await runCli(['listen', '--port', '0'], { env: { ...h.env, ...env } });
  assertExit(refused, 3, 'listen with an API key');
  assert.match(refused.stderr, /^error: the credentials in the environment are an API key \(TWILIO_API_KEY\), and Twilio signs callbacks with the account auth token\n.*--no-verify/);

  const l = startCli(process.execPath, [BIN, 'listen', '--port', '0', '--no-verify', '--count', '1'], {
    UTRIG_CONFIG_DIR: h.env.UTRIG_CONFIG_DIR!,
    TWILIO_ACCOUNT_SID: h.emu.accountSid,
    TWILIO_API_KEY: h.emu.apiKeySid,
    TWILIO_API_SECRET: h.emu.apiKeySecret,
  });
  const port = await l.port;
  assert.match(l.stderr, /signatures not verified: --no-verify/);
  const answer = await fetch(`http://127.0.0.1:${port}/?UsageCategory=sms`);
  assert.equal(answer.status, 200);
  await answer.text();
  const res = await l.exited;
  assertExit(res, 0, 'listen --no-verify');
  const ev = events(res);
  assert.equal(ev[0]!.verified, null);
  assert.deepEqual(ev[0]!.params, { UsageCategory: 'sms' });
});

test('the terminal block of a callback (fixed event, no colour)', async () => {
  const { parseListenOptions } = await import('../src/commands/listen/index.js');
  const { signedUrlFor } = await import('../src/commands/listen/server.js');
  const { renderCallbackBlock } = await import('../src/commands/listen/render.js');
  const { Chalk } = await import('chalk');
  const e = {
    time: '2026-11-01T12:34:56.000Z',
    method: 'POST',
    path: '/hook',
    verified: false,
    status: 403,
    forwarded: null,
    reason: 'no X-Twilio-Signature header',
    params: {
      AccountSid: 'AC' + '0'.repeat(32),
      UsageTriggerSid: 'UT' + '1'.repeat(32),
      DateFired: 'Sun, 01 Nov 2026 12:34:56 +0000',
      Recurring: '',
      UsageCategory: 'sms',
      TriggerBy: 'price',
      TriggerValue: '10.000000',
      CurrentValue: '12.50',
      IdempotencyToken: 'tok',
    },
  };
  assert.equal(
    renderCallbackBlock(new Chalk({ level: 0 }), e, 2),
    [
      '#2 12:34:56  POST /hook  ✗ NOT verified  answered 403',
      `  Trigger      UT${'1'.repeat(32)}`,
      '  Category     sms',
      '  Reached      price 12.5 (trigger value 10)',
      '  Period       once',
      '  Idempotency  tok',
      '  Fired        Sun, 01 Nov 2026 12:34:56 +0000',
      `  Account      AC${'0'.repeat(32)}`,
      '  Signature    no X-Twilio-Signature header',
      '',
      '',
    ].join('\n'),
  );
  assert.equal(signedUrlFor('https://abc.example.app/base/', '127.0.0.1:3000', 'x', '/cb?a=1'), 'https://abc.example.app/base/cb?a=1');
  assert.equal(signedUrlFor(undefined, 'localhost:3000', 'x', '/?a=1'), 'http://localhost:3000/?a=1');
  assert.throws(() => parseListenOptions({ port: '70000' }), /--port "70000" must be a whole number from 0 to 65535/);
  assert.throws(() => parseListenOptions({ path: 'hook' }), /--path "hook" must start with \//);
  assert.throws(() => parseListenOptions({ status: '500', forwardTo: 'http://127.0.0.1:1/' }), /--status and --forward-to disagree/);
});

test("a subaccount's callbacks verify with the subaccount's token, fetched with the parent's credentials", async () => {
  const hs = await harness({ subaccounts: 1, retryDelayMs: 20 });
  try {
    const sub = hs.emu.subaccountSids[0]!;
    const l = startCli(process.execPath, [BIN, '--account-sid', sub, 'listen', '--port', '0', '--count', '1'], hs.env);
    const port = await l.port;
    assert.match(l.stderr, new RegExp(`signatures verified with the auth token of subaccount ${sub}`));
    const created = await hs.run(['--account-sid', sub, 'create', '--category', 'sms', '--value', '5', '--callback-url', `http://127.0.0.1:${port}/`]);
    assertExit(created, 0, 'create on the subaccount');
    const usage = await fetch(`${hs.emu.url}/emulator/usage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ AccountSid: sub, Category: 'sms', Usage: '6' }),
    });
    assert.equal(usage.status, 200);
    const res = await l.exited;
    assertExit(res, 0, 'listen');
    const ev = events(res);
    assert.deepEqual(ev.map((e) => [e.verified, e.params.AccountSid]), [[true, sub]]);
  } finally {
    await hs.close();
  }
});

test('the README walk-through: --local listen, then --local create and usage in another process', async () => {
  const env = { UTRIG_CONFIG_DIR: tempConfigDir() };
  const l = startCli(process.execPath, [BIN, '--local', 'listen', '--port', '0', '--count', '1'], env);
  const port = await l.port;
  assert.match(l.stderr, /signatures verified with the auth token of the local emulator/);
  const created = await runCli(['--local', 'create', '--category', 'sms', '--value', '10', '--callback-url', `http://127.0.0.1:${port}/`], { env });
  assertExit(created, 0, '--local create');
  const usage = await runCli(['--local', 'emulator', 'usage', '--category', 'sms', '--usage', '12'], { env });
  assertExit(usage, 0, '--local emulator usage');
  assert.equal((JSON.parse(usage.stdout) as { usage: string }).usage, '12');
  const res = await l.exited;
  assertExit(res, 0, 'listen');
  const ev = events(res);
  assert.equal(ev.length, 1, res.stdout);
  assert.equal(ev[0]!.verified, true);
  assert.equal(ev[0]!.params.UsageTriggerSid, (JSON.parse(created.stdout) as { sid: string }).sid);
  assert.equal(ev[0]!.params.CurrentValue, '12');
});

/** A loopback handler for --forward-to that records what reaches it. */
async function startHandler(): Promise<{ url: string; got: { url: string; headers: IncomingMessage['headers']; body: string }[]; close: () => Promise<void> }> {
  const got: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/handler`,
    got,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

test('a signature captured from a GET callback does not vouch for a body it does not cover; --count counts accepted callbacks only', async () => {
  const handler = await startHandler();
  try {
    const l = listen(h, ['--count', '1', '--forward-to', handler.url]);
    const port = await l.port;
    const url = `http://127.0.0.1:${port}/cb?UsageCategory=sms&CurrentValue=10`;
    // what a GET callback carries: a signature over the URL alone
    const captured = computeSignature(h.emu.authToken, url);
    const replay = (contentType: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': contentType, 'x-twilio-signature': captured }, body });
    const json = await replay('application/json', '{"UsageTriggerSid":"UTevil","CurrentValue":"999999"}');
    assert.equal(json.status, 403);
    await json.text();
    const text = await replay('text/plain', 'anything at all');
    assert.equal(text.status, 403);
    await text.text();
    assert.equal(handler.got.length, 0, 'a replayed signature reached the handler');

    // a JSON body that the signature covers through bodySHA256 verifies, is forwarded and ends --count 1
    const body = '{"UsageTriggerSid":"UT1","CurrentValue":"10"}';
    const signedUrl = `http://127.0.0.1:${port}/cb?bodySHA256=${computeBodyHash(body)}`;
    const good = await fetch(signedUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': computeSignature(h.emu.authToken, signedUrl) }, body });
    assert.equal(good.status, 200);
    await good.text();

    const res = await l.exited;
    assertExit(res, 0, 'listen');
    const ev = events(res);
    assert.deepEqual(ev.map((e) => [e.method, e.verified, e.status]), [
      ['POST', false, 403],
      ['POST', false, 403],
      ['POST', true, 200],
    ]);
    assert.match(ev[0]!.reason ?? '', /^the signature does not cover the body: a body that is not a form needs a bodySHA256 query parameter$/);
    assert.equal(handler.got.length, 1);
    assert.equal(handler.got[0]!.body, body);
  } finally {
    await handler.close();
  }
});

test('--forward-to its own address is a usage error; a request utrig already forwarded is not forwarded again', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  for (const [host, target] of [
    ['127.0.0.1', `http://127.0.0.1:${port}/`],
    ['127.0.0.1', `http://localhost:${port}/usage`],
    ['::1', `http://[::1]:${port}/`],
  ] as const) {
    const res = await h.run(['listen', '--host', host, '--port', String(port), '--forward-to', target], { timeoutMs: 8000 });
    assertExit(res, 2, `listen --host ${host} --forward-to ${target}`);
    assert.match(res.stderr, new RegExp(`^error: --forward-to ${target.replace(/[[\]/.]/g, '\\$&')} is this listener's own address \\(.*:${port}\\): every callback would loop back\\n`));
    assert.equal(res.stdout, '');
  }

  const handler = await startHandler();
  try {
    const l = listen(h, ['--count', '1', '--forward-to', handler.url]);
    const port2 = await l.port;
    const url = `http://127.0.0.1:${port2}/cb`;
    const form = { UsageCategory: 'sms', CurrentValue: '10' };
    const send = (extra: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(h.emu.authToken, url, form), ...extra },
        body: new URLSearchParams(form),
      });
    const looped = await send({ 'x-utrig-forwarded': '1' });
    assert.equal(looped.status, 508);
    assert.match(await looped.text(), /not forwarded again/);
    assert.equal(handler.got.length, 0);
    const first = await send({});
    assert.equal(first.status, 200);
    await first.text();
    const res = await l.exited;
    assertExit(res, 0, 'listen');
    assert.deepEqual(events(res).map((e) => e.status), [508, 200]);
    assert.equal(handler.got.length, 1);
    assert.equal(handler.got[0]!.headers['x-utrig-forwarded'], '1');
  } finally {
    await handler.close();
  }
});

test("listen shows a rejected request's parameters with control characters escaped", async () => {
  const l = startCli(process.execPath, [BIN, 'listen', '--port', '0', '--count', '1', '-o', 'table'], h.env);
  const port = await l.port;
  const url = `http://127.0.0.1:${port}/hook`;
  const forged = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' },
    body: new URLSearchParams({ 'Evil\x1b[2J': '\x1b]0;pwned\x07\r\n#9 12:00:00  POST /  ✓ verified\u202e' }),
  });
  assert.equal(forged.status, 403);
  await forged.text();
  const good = await h.run(['fire', '--category', 'sms', '--value', '10', '--to', url]);
  assertExit(good, 0, 'fire');
  const res = await l.exited;
  assertExit(res, 0, 'listen -o table');
  const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/;
  assert.doesNotMatch(res.stdout, raw, res.stdout);
  assert.doesNotMatch(res.stderr, raw, res.stderr);
  assert.match(res.stdout, /^ {2}Evil\\u001b\[2J {2}\\u001b\]0;pwned\\u0007\\r\\n#9 12:00:00 {2}POST \/ {2}✓ verified\\u202e$/m);
  assert.equal(res.stdout.split('\n').filter((line) => line.startsWith('#')).length, 2, res.stdout);
});
