import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { escapeControls } from '../src/output/escape.js';
import { assertExit, runCli, tempConfigDir } from './helpers.js';

// An OSC window title, clear screen + cursor home, a CR/LF that would forge a table row,
// a right-to-left override, a C1 CSI and DEL.
const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\x1b[Hq\r\nUT' + 'f'.repeat(32) + '  forged\u202erow\u009b31m\x7f';
const ACCOUNT = 'AC' + 'a'.repeat(32);
const TOKEN = 'b'.repeat(32);
const SID = 'UT' + '1'.repeat(32);
const ERROR_SID = 'UT' + '2'.repeat(32);
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
    if (path === `${base}/Usage/Triggers/${SID}.json`) send(200, trigger(SID, HOSTILE));
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

  const missing = await run(['get', 'UT' + '4'.repeat(32)]);
  assertExit(missing, 4);
  assert.doesNotMatch(missing.stderr, RAW_CONTROLS, missing.stderr);
  assert.doesNotMatch(missing.stderr, /^error: forged line/m);
});
