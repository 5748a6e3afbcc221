// Issue 11.10 (tables fit the width they have and degrade legibly) and 11.2 (the --local note is for a
// person at a terminal). Terminal behaviour runs in tmux; the rest runs the built CLI as a subprocess.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { categoryChoices } from '../src/commands/category-search.js';
import { assertExit, BIN, harness, runCli, tempConfigDir, type CliResult, type Harness } from './helpers.js';
import { have, shq, Tmux, utrigOnTerminal } from './tty-helpers.js';

/** A receiver on loopback that answers 200 to every callback. */
async function receiver(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok\n'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('a piped -o table', () => {
  let h: Harness;
  const long = 'quota for the EMEA messaging team, raised after the spring launch';
  before(async () => {
    h = await harness();
    await h.create({ UsageCategory: 'sms', TriggerValue: '10', CallbackUrl: 'https://example.com/hook', FriendlyName: long.slice(0, 64) });
    await h.create({ UsageCategory: 'sms', TriggerValue: '20', CallbackUrl: 'https://example.com/hook', FriendlyName: 'line one\nUTforged  row' });
  });
  after(() => h.close());

  it('cuts nothing (there is no width to fit), and a name with a newline stays on its row', async () => {
    const res = await h.run(['list', '-o', 'table']);
    assertExit(res, 0);
    const lines = res.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, res.stdout);
    assert.ok(lines[0]!.startsWith('SID'), res.stdout);
    assert.ok(res.stdout.includes(long.slice(0, 64)), `the name was cut:\n${res.stdout}`);
    assert.doesNotMatch(res.stdout, /…/);
    assert.ok(lines.some((l) => l.endsWith('line one\\nUTforged  row')), res.stdout);
  });

  it('fits COLUMNS when it is set explicitly', async () => {
    const res = await h.run(['list', '-o', 'table', '--fields', 'trigger_value,friendly_name'], { env: { COLUMNS: '40' } });
    assertExit(res, 0);
    for (const l of res.stdout.trimEnd().split('\n')) assert.ok(l.length <= 40, `wider than 40: ${JSON.stringify(l)}`);
    assert.match(res.stdout, /quota for the EMEA.*…/);
  });
});

describe('--local note', () => {
  it('is not printed when stderr is not a terminal (scripts, CI)', async () => {
    const env = { UTRIG_CONFIG_DIR: tempConfigDir() };
    const res = await runCli(['--local', 'create', '--category', 'sms', '--value', '5', '--callback-url', 'https://example.com/hook'], { env });
    assertExit(res, 0);
    assert.doesNotMatch(res.stderr, /local emulator/, res.stderr);
    const listed = await runCli(['--local', 'list', '-o', 'ndjson'], { env });
    assertExit(listed, 0);
    assert.equal(listed.stderr, '');
  });
});

describe('listen on a GET callback', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('shows the path in the header line; the query is the params block', async () => {
    const child = spawn(process.execPath, [BIN, 'listen', '--port', '0', '--count', '1', '-o', 'table'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...h.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 30_000);
    const exited = new Promise<CliResult>((r) => child.on('close', (code) => r({ code, stdout, stderr })));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      child.on('close', () => reject(new Error(`listen exited before its startup line\n${stderr}`)));
    });
    try {
      const fired = await h.run(['fire', '--category', 'sms', '--value', '10', '--method', 'GET', '--to', `http://127.0.0.1:${port}/hook`]);
      assertExit(fired, 0);
      const res = await exited;
      assertExit(res, 0);
      const head = res.stdout.split('\n').find((l) => l.startsWith('#1 '));
      assert.match(head ?? '', /^#1 \d\d:\d\d:\d\d {2}GET \/hook {2}✓ verified {2}answered 200$/, res.stdout);
      assert.match(res.stdout, /^ {2}Category +sms$/m);
    } finally {
      clearTimeout(timer);
    }
  });
});

describe('on a terminal', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  it('emulator deliveries at 120 columns cuts the idempotency token before the URL and never wraps', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_CONFIG_DIR: dir };
    const hook = await receiver();
    try {
      assertExit(await runCli(['--local', 'create', '--category', 'sms', '--value', '10', '--callback-url', hook.url], { env }), 0);
      assertExit(await runCli(['--local', 'emulator', 'usage', '--category', 'sms', '--usage', '12'], { env }), 0);
      const json = await runCli(['--local', 'emulator', 'deliveries', '--json'], { env });
      assertExit(json, 0);
      assert.equal((JSON.parse(json.stdout) as unknown[]).length, 1, json.stdout);
    } finally {
      await hook.close();
    }
    const exitFile = join(dir, 'exit');
    const t = new Tmux();
    t.start(`${shq(process.execPath)} ${shq(BIN)} --local emulator deliveries\necho EXIT=$? > ${shq(exitFile)}`, {
      ...env,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TERM: 'xterm',
      NO_COLOR: '1',
    }, 120, 20);
    try {
      assert.equal((await t.waitFile(exitFile)).trim(), 'EXIT=0', t.screen());
      // screen() joins wrapped lines: a table line wider than the terminal shows up longer than 120
      const lines = t.screen().split('\n');
      const at = lines.findIndex((l) => l.startsWith('TIME'));
      assert.ok(at >= 0, lines.join('\n'));
      const [head, row] = [lines[at]!, lines[at + 1]!];
      for (const l of [head, row]) assert.ok(l.length <= 120, `wraps at 120 columns (${l.length}):\n${lines.join('\n')}`);
      assert.ok(row.includes(hook.url), `the URL was cut:\n${head}\n${row}`);
      assert.match(row, /AC[0-9a-f]+…$/, `the token should be the column cut:\n${head}\n${row}`);
    } finally {
      t.kill();
    }
  });

  it("the wizard's category list keeps its group column aligned with names over 45 characters", async () => {
    const dir = tempConfigDir();
    const exitFile = join(dir, 'exit');
    const t = utrigOnTerminal({ UTRIG_CONFIG_DIR: dir }, '--local create', exitFile);
    try {
      await t.waitScreen('Usage category');
      t.type('whitepages');
      await t.waitScreen('marketplace-whitepages-pro-caller-identification');
      const rows = t
        .screen()
        .split('\n')
        .filter((l) => /^[❯ ] marketplace-whitepages-/.test(l));
      assert.equal(rows.length, 3, t.screen());
      const groupAt = rows.map((l) => l.indexOf('Marketplace'));
      assert.ok(groupAt.every((i) => i > 0 && i === groupAt[0]), `group labels misaligned:\n${rows.join('\n')}`);
      assert.ok(rows.every((l) => l.length <= 100), rows.join('\n'));
      t.keys('C-c');
      await t.waitFile(exitFile);
    } finally {
      t.kill();
    }
  });
});

describe('category choices', () => {
  it('cut names that do not fit a narrow terminal, with …, keeping the whole name as the value', () => {
    const hits = ['sms', 'marketplace-whitepages-pro-caller-identification'];
    const wide = categoryChoices(hits, 100);
    assert.equal(wide[0]!.name.indexOf('SMS'), wide[1]!.name.indexOf('Marketplace'));
    const narrow = categoryChoices(hits, 40);
    for (const c of narrow) assert.ok(c.name.length + 2 < 40, c.name);
    assert.match(narrow[1]!.name, /^marketplace-whitepages-…  Marketplace$/);
    assert.equal(narrow[1]!.value, 'marketplace-whitepages-pro-caller-identification');
    assert.equal(narrow[0]!.name.indexOf('SMS'), narrow[1]!.name.indexOf('Marketplace'));
  });
});
