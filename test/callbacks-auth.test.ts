import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkRequestSignature } from '../src/api/signature.js';
import { assertExit, harness, type Harness } from './helpers.js';

// listen and fire sign with the account's auth token; a profile stored by `login --api-key` has none,
// and a Standard API key may not read one from /Accounts.
describe('listen and fire with an API-key profile', () => {
  let h: Harness;
  let receiver: Server;
  let to: string;
  let sub: string;
  const received: { req: IncomingMessage; body: string }[] = [];
  // the API-key profile, not the harness's auth token, must be what the CLI uses
  const env = { TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined };

  before(async () => {
    h = await harness({ subaccounts: 1 });
    sub = h.emu.subaccountSids[0]!;
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        received.push({ req, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    to = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const login = await h.run(['login', '--account-sid', h.emu.accountSid, '--api-key', h.emu.apiKeySid, '--api-secret-stdin'], {
      env,
      input: h.emu.apiKeySecret,
    });
    assertExit(login, 0);
  });

  after(async () => {
    await new Promise<void>((r) => {
      receiver.close(() => r());
      receiver.closeAllConnections();
    });
    await h.close();
  });

  const cases: [string, string[], RegExp, boolean][] = [
    ['listen', ['listen', '--port', '0', '--count', '1'], /Twilio signs callbacks with the account auth token/, true],
    ['listen --account-sid', ['--account-sid', '', 'listen', '--port', '0', '--count', '1'], /Twilio signs subaccount AC[0-9a-f]{32}'s callbacks with its auth token/, true],
    ['fire', ['fire', '--category', 'sms', '--value', '1', '--to', ''], /Twilio signs callbacks with the account auth token/, false],
    ['fire --account-sid', ['--account-sid', '', 'fire', '--category', 'sms', '--value', '1', '--to', ''], /Twilio signs subaccount AC[0-9a-f]{32}'s callbacks with its auth token/, false],
  ];
  for (const [name, args, message, listen] of cases) {
    it(`${name}: exit 3 naming the API key and how to give the auth token; nothing sent`, async () => {
      const argv = args.map((a, i) => (a !== '' ? a : args[i - 1] === '--to' ? to : sub));
      const sent = h.emu.requests.length;
      const res = await h.run(argv, { env });
      assertExit(res, 3);
      const lines = res.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, res.stderr);
      assert.match(lines[0]!, /^error: profile "default" holds an API key, and /);
      assert.match(lines[0]!, message);
      assert.match(lines[1]!, /set TWILIO_AUTH_TOKEN to the auth token of (sub)?account AC[0-9a-f]{32}/);
      // only listen has --no-verify to offer
      assert.equal(lines[1]!.includes('--no-verify'), listen, lines[1]);
      assert.equal(res.stdout, '');
      assert.equal(h.emu.requests.length, sent, 'nothing reached the API');
      assert.equal(received.length, 0, 'no callback was sent');
    });
  }

  it('UTRIG_PROFILE wins over TWILIO_* for the signing token too, as it does for the API credentials', async () => {
    const subToken = ((await h.api('GET', `/2010-04-01/Accounts/${sub}.json`)).json as { auth_token: string }).auth_token;
    const login = await h.run(['login', '--profile', 'sub', '--account-sid', sub, '--auth-token-stdin'], { env, input: subToken, secrets: [subToken] });
    assertExit(login, 0);
    const before = received.length;
    const res = await h.run(['fire', '--category', 'sms', '--value', '1', '--to', to], {
      env: { UTRIG_PROFILE: 'sub', TWILIO_ACCOUNT_SID: h.emu.accountSid, TWILIO_AUTH_TOKEN: h.emu.authToken },
      secrets: [subToken],
    });
    assertExit(res, 0);
    assert.equal(received.length, before + 1);
    const { req, body } = received[received.length - 1]!;
    assert.match(body, new RegExp(`AccountSid=${sub}`));
    const signature = String(req.headers['x-twilio-signature']);
    const check = { url: to, method: 'POST', contentType: req.headers['content-type'], body };
    assert.equal(checkRequestSignature(subToken, signature, check), null, "signed with the profile's token");
    received.length = before;
  });

  it("fire --account-sid with TWILIO_AUTH_TOKEN signs with that token as the subaccount's, without asking the API", async () => {
    const parent = h.emu.authToken;
    const subAccount = await h.api('GET', `/2010-04-01/Accounts/${sub}.json`);
    const subToken = (subAccount.json as { auth_token: string }).auth_token;
    assert.notEqual(subToken, parent);
    const sent = h.emu.requests.length;
    const res = await h.run(['--account-sid', sub, 'fire', '--category', 'sms', '--value', '5', '--to', to], {
      env: { ...env, TWILIO_AUTH_TOKEN: subToken },
      secrets: [subToken],
    });
    assertExit(res, 0);
    assert.equal(h.emu.requests.length, sent, 'no request to /Accounts');
    assert.equal(received.length, 1);
    const { req, body } = received[0]!;
    assert.match(body, new RegExp(`AccountSid=${sub}`));
    const reason = checkRequestSignature(subToken, String(req.headers['x-twilio-signature']), {
      url: to,
      method: 'POST',
      contentType: req.headers['content-type'],
      body,
    });
    assert.equal(reason, null);
  });
});

describe('listen --help', () => {
  it('says --count counts accepted (verified) callbacks only', async () => {
    const { runCli } = await import('./helpers.js');
    const res = await runCli(['listen', '--help']);
    assertExit(res, 0);
    // help is wrapped to the terminal: compare with the line breaks folded
    const text = res.stdout.replace(/\s+/g, ' ');
    assert.match(text, /until --count N callbacks were accepted: only verified callbacks count \(any callback with --no-verify\); one answered 403 for its signature, or refused as a forwarding loop, does not\./);
    assert.match(text, /--count <n> exit after N accepted callbacks \(verified ones; refused ones do not count\)/);
  });
});
