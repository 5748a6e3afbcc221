import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, runCli, tempConfigDir } from './helpers.js';

// --all-subaccounts lists /Accounts.json a page (1,000 accounts) at a time. The first page is read before
// anything starts; later pages arrive while the first accounts are worked on. A fake Twilio with two
// pages of accounts shows both halves: work on page 1's accounts begins before page 2 is answered, and a
// page 2 that fails ends the run with the listed accounts done, a summary, and the listing's error.

const PARENT = `AC${'f'.repeat(32)}`;
const sid = (i: number) => `AC${String(i).padStart(32, '0')}`;
const PAGE1 = [1, 2, 3].map(sid);
const PAGE2 = [4, 5].map(sid);
const TOKEN = 'a'.repeat(32);

interface Fake {
  url: string;
  log: string[];
  close: () => Promise<void>;
}

/** page2: 'ok' answers page 2 once page 1's accounts have all been asked for their triggers (or after 5 s); 'fail' answers 500. */
async function fakeTwilio(page2: 'ok' | 'fail'): Promise<Fake> {
  const log: string[] = [];
  let triggerReads = 0;
  let release: (() => void) | undefined;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const account = (s: string) => ({ sid: s, friendly_name: `customer ${s.slice(-1)}`, status: 'active', owner_account_sid: PARENT });
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/2010-04-01/Accounts.json') {
      if (u.searchParams.get('Status') === 'suspended') return json(res, 200, { accounts: [], next_page_uri: null });
      if (!u.searchParams.has('PageToken')) {
        log.push('accounts page 1');
        return json(res, 200, { accounts: [account(PARENT), ...PAGE1.map(account)], next_page_uri: '/2010-04-01/Accounts.json?PageSize=1000&Status=active&Page=1&PageToken=PAx' });
      }
      if (page2 === 'fail') {
        log.push('accounts page 2: 500');
        return json(res, 500, { code: 20500, message: 'Internal Server Error', status: 500 });
      }
      if (triggerReads < PAGE1.length) await new Promise<void>((r) => ((release = r), setTimeout(r, 5000)));
      log.push('accounts page 2');
      return json(res, 200, { accounts: PAGE2.map(account), next_page_uri: null });
    }
    if (req.method !== 'GET') {
      log.push(`${req.method} ${u.pathname}`);
      return json(res, req.method === 'DELETE' ? 204 : 201, {});
    }
    if (/^\/2010-04-01\/Accounts\/AC\w+\/Usage\/Records/.test(u.pathname)) return json(res, 200, { usage_records: [], next_page_uri: null });
    const m = /^\/2010-04-01\/Accounts\/(AC\w+)\/Usage\/Triggers\.json$/.exec(u.pathname);
    if (m) {
      log.push(`triggers ${m[1]}`);
      if (++triggerReads === PAGE1.length) release?.();
      const t = { sid: `UT${m[1]!.slice(2)}`, account_sid: m[1], usage_category: 'sms', trigger_value: '10', trigger_by: 'usage', recurring: 'daily', callback_url: 'https://example.com/x', callback_method: 'POST', friendly_name: null };
      return json(res, 200, { usage_triggers: [t], next_page_uri: null });
    }
    json(res, 404, { code: 20404, message: 'not found', status: 404 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log, close: () => new Promise((r) => server.close(() => r())) };
}

const env = (url: string) => ({ UTRIG_API_URL: url, TWILIO_ACCOUNT_SID: PARENT, TWILIO_AUTH_TOKEN: TOKEN, UTRIG_CONFIG_DIR: tempConfigDir() });

describe('fleet: subaccounts listed page by page', () => {
  let ok: Fake;
  let failing: Fake;
  before(async () => {
    ok = await fakeTwilio('ok');
    failing = await fakeTwilio('fail');
  });
  after(async () => {
    await ok.close();
    await failing.close();
  });

  it("the first page's accounts are worked on before the second page is answered", async () => {
    const res = await runCli(['list', '--all-subaccounts', '--output', 'ndjson'], { env: env(ok.url), secrets: [TOKEN] });
    assertExit(res, 0);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { account_sid: string });
    assert.deepEqual(rows.map((r) => r.account_sid).sort(), [...PAGE1, ...PAGE2]);
    const page2 = ok.log.indexOf('accounts page 2');
    for (const s of PAGE1) assert.ok(ok.log.indexOf(`triggers ${s}`) < page2, `triggers of ${s} asked for before page 2 came: ${ok.log.join(', ')}`);
    assert.match(res.stderr, /^list: 5 accounts: 5 listed, 5 triggers;/m);
  });

  it('a later page that fails: the listed accounts are done, the summary says where the list stopped, exit 1', async () => {
    const res = await runCli(['list', '--all-subaccounts', '--output', 'ndjson'], { env: env(failing.url), secrets: [TOKEN] });
    assertExit(res, 1);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { account_sid: string });
    assert.deepEqual(rows.map((r) => r.account_sid).sort(), PAGE1);
    assert.match(res.stderr, /^list: 3 accounts: 3 listed, 3 triggers;/m);
    assert.match(res.stderr, /the accounts list stopped after 3 accounts; those not listed were not touched/);
    assert.match(res.stderr, /500/);
    for (const s of PAGE1) assert.equal(failing.log.filter((l) => l === `triggers ${s}`).length, 1);
  });

  it('a later page that fails: delete and apply change nothing, plan --out keeps no file', async () => {
    const dir = tempConfigDir();
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'accounts: { all_subaccounts: true }\ntriggers:\n  - { name: a, category: sms, value: 100, callback_url: "https://example.com/a" }\n');
    const del = await runCli(['delete', '--all-subaccounts', '--category', 'sms', '--yes'], { env: env(failing.url) });
    assertExit(del, 1);
    assert.match(del.stderr, /the accounts list stopped after 3 accounts/);
    const apply = await runCli(['apply', '-f', policy, '--yes'], { env: env(failing.url) });
    assertExit(apply, 1);
    assert.match(apply.stderr, /the accounts list stopped after 3 accounts/);
    assert.deepEqual(failing.log.filter((l) => !l.startsWith('triggers') && !l.startsWith('accounts')), [], 'no write was sent');
    const out = join(dir, 'plan.json');
    const plan = await runCli(['plan', '-f', policy, '--out', out], { env: env(failing.url) });
    assertExit(plan, 1);
    assert.equal(existsSync(out), false);
  });
});
