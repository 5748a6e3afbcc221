import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { escapeControls } from '../src/output/escape.js';
import { assertExit, BIN, harness, runCli, tempConfigDir, type Harness } from './helpers.js';
import { have, shq, Tmux } from './tty-helpers.js';

// An OSC window title, clear screen + cursor home, a CR/LF that would forge a table row,
// a right-to-left override, a C1 CSI and DEL.
const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\x1b[Hq\r\nUT' + 'f'.repeat(32) + '  forged\u202erow\u009b31m\x7f';
const ACCOUNT = 'AC' + 'a'.repeat(32);
const TOKEN = 'b'.repeat(32);
const SID = 'UT' + '1'.repeat(32);
const ERROR_SID = 'UT' + '2'.repeat(32);
// answers 500 with a raw text body: escapes and a secret the --verbose trace must neither run nor show
const RAW_BODY_SID = 'UT' + '8'.repeat(32);
const LEAKED = 'l3akedS3cretValue';
// answers an error whose more_info holds line breaks (a hint keeps ours, never the server's)
const LF_INFO_SID = 'UT' + 'a'.repeat(32);
// an account whose trigger list holds SIDs that are not SIDs
const ODD_ACCOUNT = 'AC' + 'c'.repeat(32);
const GOOD_SID = 'UT' + '7'.repeat(32);
// what a terminal must never receive from the server's text
const RAW_CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

function trigger(sid: string, name: string): Record<string, unknown> {
  return {
    sid,
    account_sid: ACCOUNT,
    friendly_name: name,
    usage_category: 'sms',
    trigger_by: 'usage',
    trigger_value: '100',
    current_value: '57',
    recurring: '',
    callback_url: 'https://example.com/hook',
    callback_method: 'POST',
    date_created: 'Sun, 01 Nov 2026 12:00:00 +0000',
    date_updated: 'Sun, 01 Nov 2026 12:00:00 +0000',
    date_fired: null,
    usage_record_uri: `/2010-04-01/Accounts/${ACCOUNT}/Usage/Records.json?Category=sms`,
    uri: `/2010-04-01/Accounts/${ACCOUNT}/Usage/Triggers/${sid}.json`,
    api_version: '2010-04-01',
  };
}

let server: Server;
let env: Record<string, string>;

before(async () => {
  const base = `/2010-04-01/Accounts/${ACCOUNT}`;
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `/2010-04-01/Accounts/${ODD_ACCOUNT}/Usage/Triggers.json`) {
      const odd = ['UT' + '5'.repeat(32) + '\x1b]0;pwned\x07', 'UT' + '6'.repeat(32) + '\nrm -rf ~', '$(touch /tmp/pwned)', 42, null];
      send(200, { usage_triggers: [...odd.map((sid) => ({ ...trigger('x', HOSTILE), sid })), trigger(GOOD_SID, HOSTILE)], next_page_uri: null });
    } else if (path === `${base}/Usage/Triggers/${RAW_BODY_SID}.json`) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`oops\x1b]0;pwned\x07\x1b[2J\r\nforged line \u202e auth_token=${LEAKED}`);
    } else if (path === `${base}/Usage/Triggers/${LF_INFO_SID}.json`) {
      send(400, { code: 20001, message: 'bad', more_info: 'https://www.twilio.com/docs/errors/20001\nerror: forged line\r\n', status: 400 });
    } else if (path === `${base}/Usage/Triggers/${SID}.json`) send(200, trigger(SID, HOSTILE));
    else if (path === `${base}/Usage/Triggers.json`) {
      send(200, { usage_triggers: [trigger(SID, HOSTILE), trigger('UT' + '3'.repeat(32), 'plain')], next_page_uri: null, page: 0, page_size: 50 });
    } else if (path === `${base}/Usage/Records.json`) send(200, { usage_records: [] });
    else if (path === `${base}/Usage/Triggers/${ERROR_SID}.json`) {
      send(400, { code: 20001, message: `bad request${HOSTILE}`, more_info: 'https://www.twilio.com/docs/errors/20001\x1b]8;;https://evil.example/\x07', status: 400 });
    } else send(404, { code: 20404, message: `not found\x1b[2J\r\nerror: forged line`, status: 404 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  env = { UTRIG_API_URL: `http://127.0.0.1:${port}`, TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN, UTRIG_CONFIG_DIR: tempConfigDir() };
});

after(async () => {
  await new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
});

const run = (args: string[]) => runCli(args, { env, secrets: [TOKEN] });

test('escapeControls shows C0, DEL, C1, bidi and separators as \\uXXXX escapes and keeps the rest', () => {
  assert.equal(escapeControls('a\x1b]0;t\x07b'), 'a\\u001b]0;t\\u0007b');
  assert.equal(escapeControls('\t\r\n'), '\\t\\r\\n');
  assert.equal(escapeControls('\x7f\x9b\u202e\u2066\u2028\u2029\u200f'), '\\u007f\\u009b\\u202e\\u2066\\u2028\\u2029\\u200f');
  assert.equal(escapeControls('café ☃ 日本 \\e'), 'café ☃ 日本 \\e');
});

test('get and list as a table show a hostile friendly_name inert: no escape reaches the terminal, no forged row', async () => {
  const got = await run(['get', SID, '-o', 'table']);
  assertExit(got, 0);
  assert.doesNotMatch(got.stdout, RAW_CONTROLS, got.stdout);
  assert.match(got.stdout, /^Name +\\u001b\]0;pwned\\u0007\\u001b\[2J\\u001b\[Hq\\r\\nUTf{32}  forged\\u202erow\\u009b31m\\u007f$/m);
  assert.equal(got.stdout.split('\n').length, 12, got.stdout);

  const listed = await run(['list', '-o', 'table']);
  assertExit(listed, 0);
  assert.doesNotMatch(listed.stdout, RAW_CONTROLS, listed.stdout);
  const lines = listed.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3, listed.stdout);
  assert.match(lines[1]!, new RegExp(`^${SID} .*\\\\u001b`));
  assert.ok(lines.every((l) => !l.startsWith('UTf')), listed.stdout);

  const fields = await run(['list', '-o', 'table', '--fields', 'friendly_name']);
  assertExit(fields, 0);
  assert.doesNotMatch(fields.stdout, RAW_CONTROLS, fields.stdout);
  assert.equal(fields.stdout.trimEnd().split('\n').length, 3, fields.stdout);
});

test('json, ndjson and csv keep the hostile text byte for byte', async () => {
  const got = await run(['get', SID, '-o', 'json']);
  assertExit(got, 0);
  assert.equal(got.stdout, JSON.stringify(trigger(SID, HOSTILE), null, 2) + '\n');

  const nd = await run(['list', '-o', 'ndjson']);
  assertExit(nd, 0);
  assert.equal(nd.stdout.split('\n')[0], JSON.stringify(trigger(SID, HOSTILE)));

  const csv = await run(['list', '-o', 'csv', '--fields', 'sid,friendly_name']);
  assertExit(csv, 0);
  assert.equal(csv.stdout, `sid,friendly_name\n${SID},"${HOSTILE}"\nUT${'3'.repeat(32)},plain\n`);
});

test('a hostile API error message and more_info reach stderr escaped, on exactly the lines utrig writes', async () => {
  const bad = await run(['get', ERROR_SID]);
  assertExit(bad, 1);
  assert.doesNotMatch(bad.stderr, RAW_CONTROLS, bad.stderr);
  const lines = bad.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, bad.stderr);
  assert.match(lines[0]!, /^error: bad request\\u001b\]0;pwned\\u0007.*\\r\\nUTf{32}  forged/);
  assert.match(lines[1]!, /^see https:\/\/www\.twilio\.com\/docs\/errors\/20001\\u001b\]8;;/);

  const info = await run(['get', LF_INFO_SID]);
  assertExit(info, 1);
  assert.equal(info.stderr, 'error: bad (Twilio 20001, HTTP 400)\nsee https://www.twilio.com/docs/errors/20001\\nerror: forged line\\r\\n\n');

  const missing = await run(['get', 'UT' + '4'.repeat(32)]);
  assertExit(missing, 4);
  assert.doesNotMatch(missing.stderr, RAW_CONTROLS, missing.stderr);
  assert.doesNotMatch(missing.stderr, /^error: forged line/m);
});

test('__complete sids offers only well-formed trigger SIDs, from the API and from its cache', async () => {
  const dir = tempConfigDir();
  const e = { ...env, TWILIO_ACCOUNT_SID: ODD_ACCOUNT, UTRIG_CONFIG_DIR: dir };
  const got = await runCli(['__complete', 'sids'], { env: e, secrets: [TOKEN] });
  assertExit(got, 0);
  assert.equal(got.stdout, `${GOOD_SID}\n`);
  assert.equal(got.stderr, '');

  // a cache file planted with the same junk is filtered the same way
  const cache = { key: `${env.UTRIG_API_URL} ${ODD_ACCOUNT}`, time: Date.now(), sids: [`${GOOD_SID}\x1b[2J`, 'UT' + '9'.repeat(32), 'x\ny', 7] };
  writeFileSync(join(dir, 'completion-sids.json'), JSON.stringify(cache));
  const cached = await runCli(['__complete', 'sids'], { env: e, secrets: [TOKEN] });
  assertExit(cached, 0);
  assert.equal(cached.stdout, `${'UT' + '9'.repeat(32)}\n`);
});

test('the --verbose trace shows a raw hostile response body escaped, on one line, its secret redacted', async () => {
  const got = await run(['get', RAW_BODY_SID, '--verbose']);
  assertExit(got, 1);
  assert.doesNotMatch(got.stderr, RAW_CONTROLS, got.stderr);
  assert.ok(!got.stderr.includes(LEAKED), got.stderr);
  const body = got.stderr.split('\n').filter((l) => l.startsWith('< oops'));
  assert.equal(body.length, 1, got.stderr);
  assert.equal(body[0], '< oops\\u001b]0;pwned\\u0007\\u001b[2J\\r\\nforged line \\u202e auth_token=[redacted]');
  assert.doesNotMatch(got.stderr, /^forged line/m);

  // a JSON body keeps JSON's own escapes; what JSON leaves raw (U+202E, U+009B) is escaped too
  const json = await run(['get', SID, '--verbose']);
  assertExit(json, 0);
  assert.doesNotMatch(json.stderr, RAW_CONTROLS, json.stderr);
  assert.match(json.stderr, /^< \{.*forged\\u202erow\\u009b31m/m);
});

// a friendly name that would retitle the window, forge a line and clear the screen
const TITLE_NAME = '\x1b]0;title\x07\r\n\x1b[2J';
const TITLE_SHOWN = '\\u001b]0;title\\u0007\\r\\n\\u001b[2J';

describe('hostile friendly names from the emulator', () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = String((await h.create({ UsageCategory: 'sms', TriggerValue: '10', CallbackUrl: 'https://example.com/hook', FriendlyName: TITLE_NAME + '\u202e' })).sid);
  });
  after(() => h.close());

  test('list --verbose and __complete sids show nothing raw', async () => {
    const listed = await h.run(['list', '-o', 'table', '--verbose'], { env: { COLUMNS: '200' } });
    assertExit(listed, 0);
    assert.doesNotMatch(listed.stdout + listed.stderr, RAW_CONTROLS, listed.stderr);
    assert.ok(listed.stdout.includes(TITLE_SHOWN + '\\u202e'), listed.stdout);
    const sids = await h.run(['__complete', 'sids']);
    assertExit(sids, 0);
    assert.equal(sids.stdout, `${sid}\n`);
  });

  const terminal = { skip: !have('tmux') && 'tmux is not installed' };

  /** Runs utrig on a terminal after a marker line: a clear-screen that reached the terminal would wipe the marker. */
  const onTerminal = (args: string, exitFile: string): Tmux => {
    const t = new Tmux();
    const utrig = `${shq(process.execPath)} ${shq(BIN)}`;
    t.start(`echo MARKER-BEFORE-UTRIG\n${utrig} ${args}\necho EXIT=$? > ${shq(exitFile)}`, {
      ...h.env,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TERM: 'xterm',
      NO_COLOR: '1',
    });
    return t;
  };

  /** The pane's title: an OSC 0 that reached the terminal would have set it to "title". */
  const titleOf = (t: Tmux) => t.tmux(['display-message', '-p', '-t', t.session, '#{pane_title}']).trim();

  test('the delete picker shows the name escaped: the title, the screen and the rows stay intact', terminal, async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = onTerminal('delete', exitFile);
    try {
      const screen = await t.waitScreen(sid);
      assert.ok(screen.includes(`${sid}  sms  ${' '.repeat(6)}10  ${TITLE_SHOWN}\\u202e`), screen);
      assert.notEqual(titleOf(t), 'title');
      // the line written before the picker is still on the screen: nothing cleared it
      assert.match(screen, /^MARKER-BEFORE-UTRIG$/m);
      t.keys('C-c');
      const exit = await t.waitFile(exitFile);
      assert.equal(exit.trim(), 'EXIT=130', t.screen());
      assert.equal(h.emu.requests.filter((r) => r.method === 'DELETE').length, 0);
    } finally {
      t.kill();
    }
  });

  test('the update wizard offers the current name escaped, and keeping it sends nothing', terminal, async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = onTerminal(`update ${sid}`, exitFile);
    try {
      await t.waitScreen('Callback URL');
      t.keys('Enter');
      await t.waitScreen('Callback method');
      t.keys('Enter');
      await t.waitScreen('Friendly name');
      await t.waitScreen(TITLE_SHOWN);
      assert.notEqual(titleOf(t), 'title');
      assert.match(t.screen(), /^MARKER-BEFORE-UTRIG$/m);
      t.keys('Enter');
      const exit = await t.waitFile(exitFile);
      assert.equal(exit.trim(), 'EXIT=2', t.screen());
      assert.match(t.screen(), /nothing to update: every field kept its current value/);
      assert.equal(h.emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${sid}.json`)).length, 0);
    } finally {
      t.kill();
    }
  });
});
