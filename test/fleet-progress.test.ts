import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fitLine, progressLine } from '../src/fleet/progress.js';
import { assertExit, BIN, harness, ROOT, tempConfigDir, type Harness } from './helpers.js';
import { have, shq, Tmux } from './tty-helpers.js';

// The fleet's progress line (src/fleet/progress.ts) in a real terminal (tmux): it shows accounts
// done/total while the run goes on, and the final summary replaces it, leaving nothing stale on the
// screen, even in a terminal narrower than the line. Piped, stderr holds the summary line only.
// The emulator answers each request after 40 ms, so a run over 100 accounts lasts a few redraws.

const N = 100;
const PROGRESS = /accounts \d+\/100 · requests \d+/;
const SUMMARY = /^list: 100 accounts: 100 listed, 100 triggers; \d+ requests in [\d.]+ s$/m;
let h: Harness;

before(async () => {
  h = await harness({ subaccounts: N, latencyMs: 40 });
  for (const s of h.emu.subaccountSids) h.emu.store.createTrigger(s, { CallbackUrl: 'https://example.com/hook', TriggerValue: '5', UsageCategory: 'sms' });
});
after(() => h.close());

describe('fleet progress on stderr', { skip: have('tmux') ? false : 'tmux is not installed' }, () => {
  it('on a terminal: the progress line shows done/total, then the summary replaces it and none of it is left', async () => {
    const dir = tempConfigDir();
    const out = join(dir, 'rows.ndjson');
    const exitFile = join(dir, 'exit');
    const t = new Tmux();
    try {
      // 60 columns: narrower than the full progress line, which must still stay on one row
      t.start(`cd ${shq(ROOT)}\n${shq(process.execPath)} ${shq(BIN)} list --all-subaccounts --concurrency 2 --output ndjson > ${shq(out)}\necho EXIT=$? > ${shq(exitFile)}`, {
        ...h.env,
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        TERM: 'xterm',
        NO_COLOR: '1',
      }, 60, 20);
      const during = await t.waitScreen(PROGRESS, 30_000);
      assert.match(during, /accounts \d+\/100 · requests \d+ · failed 0 · /);
      assert.equal(await t.waitFile(exitFile, 60_000), 'EXIT=0\n');
      const screen = await t.waitScreen(SUMMARY);
      assert.doesNotMatch(screen, /accounts \d+\/100/, `stale progress left on the screen:\n${screen}`);
      assert.doesNotMatch(screen, /…/, `a cut progress line left on the screen:\n${screen}`);
      assert.equal(readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('{')).length, N, 'stdout holds the rows');
    } finally {
      t.kill();
    }
  });
});

describe('fleet progress when stderr is not a terminal', () => {
  it('there is no progress line, only the summary', async () => {
    const res = await h.run(['list', '--all-subaccounts', '--concurrency', '2', '--output', 'ndjson']);
    assertExit(res, 0);
    assert.match(res.stderr, /^list: 100 accounts: 100 listed, 100 triggers; \d+ requests in [\d.]+ s\n$/);
    assert.equal(res.stdout.split('\n').filter((l) => l !== '').length, N);
    assert.doesNotMatch(res.stderr, /\r|\x1b/);
  });
});

describe('the progress line', () => {
  it('says done/total, requests, failures, rate and ETA, and is cut to fit one row', () => {
    const line = progressLine({ total: 200, done: 50, failed: 2, requests: 61, throttled: 0, startedMs: 0 }, 10_000);
    assert.equal(line, 'accounts 50/200 · requests 61 · failed 2 · 5.0 accounts/s · ETA 30 s');
    assert.equal(fitLine(line, 20), 'accounts 50/200 · r…');
    assert.equal(fitLine(line, 200), line);
    assert.equal(fitLine(line, 0), '');
  });

  it('while accounts are still being listed, the total is "N+" and the ETA unknown', () => {
    const line = progressLine({ total: 1000, done: 50, failed: 0, requests: 51, throttled: 0, startedMs: 0, listing: true }, 10_000);
    assert.equal(line, 'accounts 50/1000+ · requests 51 · failed 0 · 5.0 accounts/s · ETA ?');
  });
});
