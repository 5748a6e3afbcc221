import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BIN, tempConfigDir } from './helpers.js';

const ACCOUNT = 'AC' + 'a'.repeat(32);
const TOKEN = 'b'.repeat(32);

function trigger(i: number): Record<string, unknown> {
  const sid = 'UT' + i.toString(16).padStart(32, '0');
  return { sid, account_sid: ACCOUNT, usage_category: 'sms', trigger_value: String(i), trigger_by: 'usage' };
}

describe('list streams pages as they arrive', () => {
  let server: Server;
  let url: string;
  let releaseSecondPage: () => void = () => undefined;
  const secondPage = new Promise<void>((r) => (releaseSecondPage = r));
  before(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const page = Number(u.searchParams.get('Page') ?? '0');
      const send = (rows: Record<string, unknown>[], next: string | null) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ usage_triggers: rows, next_page_uri: next, page, page_size: 2 }));
      };
      if (page === 0) send([trigger(1), trigger(2)], `/2010-04-01/Accounts/${ACCOUNT}/Usage/Triggers.json?PageSize=2&Page=1&PageToken=PA2`);
      else void secondPage.then(() => send([trigger(3)], null));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    releaseSecondPage();
    server.close();
  });

  it('writes the first page in ndjson before the last page is answered', async () => {
    const child = spawn(process.execPath, [BIN, 'list', '--output', 'ndjson', '--page-size', '2'], {
      env: { PATH: process.env.PATH, UTRIG_API_URL: url, TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN, UTRIG_CONFIG_DIR: tempConfigDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.split('\n').length > 2) resolve();
      });
    });
    assert.equal(out.trim().split('\n').length, 2, 'two rows are out while page 2 is still pending');
    releaseSecondPage();
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearTimeout(timer);
    assert.equal(code, 0, err);
    assert.deepEqual(
      out.trim().split('\n').map((l) => (JSON.parse(l) as { trigger_value: string }).trigger_value),
      ['1', '2', '3'],
    );
    assert.ok(!out.includes(TOKEN) && !err.includes(TOKEN));
  });

  it('stops quietly with exit 0 when the reader goes away (| head -n 1)', async () => {
    const child = spawn('bash', ['-c', `set -o pipefail; node "${BIN}" list --output ndjson --page-size 2 | head -n 1; echo "rc=\${PIPESTATUS[0]}" >&2`], {
      env: { PATH: process.env.PATH, UTRIG_API_URL: url, TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN, UTRIG_CONFIG_DIR: tempConfigDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await new Promise((r) => child.on('close', r));
    clearTimeout(timer);
    assert.equal(out.trim().split('\n').length, 1);
    assert.match(err, /rc=0/, err);
    assert.doesNotMatch(err, /EPIPE|Error/);
  });
});
