// Issue 11, first use, in a real terminal (tmux): the wizard checks the target before asking (11.1),
// so notes come before the prompts (11.2),
// its equivalent command keeps the flags that chose the target (11.3), it warns about a threshold
// already reached (11.4) and offers the most used categories first (11.7); delete names what it
// would delete (11.9).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, harness, runCli, runProcess, tempConfigDir, type Harness } from './helpers.js';
import { have, utrigOnTerminal, wrapperDir } from './tty-helpers.js';

const HOOK = 'https://example.com/usage-hook';

describe('the create wizard checks the target before the first question', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  it('no credentials: exit 3 with how to log in, and no question asked', async () => {
    const dir = tempConfigDir();
    const exitFile = join(dir, 'exit');
    const t = utrigOnTerminal({ UTRIG_CONFIG_DIR: dir }, 'create', exitFile);
    try {
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.equal(exit.trim(), 'EXIT=3', screen);
      assert.match(screen, /error: no credentials/);
      assert.match(screen, /run `utrig login`/);
      assert.doesNotMatch(screen, /Usage category/);
    } finally {
      t.kill();
    }
  });

  it('--local with an unusable state file: the error comes before any question', async () => {
    const dir = tempConfigDir();
    writeFileSync(join(dir, 'local-emulator.json'), 'not json');
    const exitFile = join(dir, 'exit');
    const t = utrigOnTerminal({ UTRIG_CONFIG_DIR: dir }, '--local create', exitFile);
    try {
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.notEqual(exit.trim(), 'EXIT=0', screen);
      assert.match(screen, /state file .* is corrupt/);
      assert.doesNotMatch(screen, /Usage category/);
    } finally {
      t.kill();
    }
  });

  it('refused credentials: exit 3 before any question', async () => {
    const h = await harness();
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal({ ...h.env, TWILIO_AUTH_TOKEN: 'wrongwrongwrong' }, 'create', exitFile);
    try {
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.equal(exit.trim(), 'EXIT=3', screen);
      assert.match(screen, /utrig login/);
      assert.doesNotMatch(screen, /Usage category/);
    } finally {
      t.kill();
      await h.close();
    }
  });
});

describe('the create wizard with --local', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  it('lists the most used categories first, warns about a reached threshold, and prints a command that keeps --local', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_CONFIG_DIR: dir };
    assertExit(await runCli(['--local', 'emulator', 'usage', '--category', 'sms', '--usage', '12'], { env }), 0);
    const exitFile = join(dir, 'exit');
    const t = utrigOnTerminal(env, '--local create', exitFile);
    try {
      const first = await t.waitScreen('Usage category');
      await t.waitScreen(/❯ totalprice/);
      // 11.2: the "using the local emulator" note comes before the first prompt, not inside one
      const note = first.indexOf('using the local emulator');
      assert.ok(note !== -1 && note < first.indexOf('Usage category'), first);
      const list = t.screen().split('\n');
      const shown = list.filter((l) => /^[❯ ] [a-z0-9-]+ {2,}/.test(l)).map((l) => l.slice(2).split(/\s+/)[0]);
      assert.deepEqual(shown.slice(0, 4), ['totalprice', 'sms', 'calls', 'mms'], first);
      t.type('sms');
      await t.waitScreen(/❯ sms +SMS/);
      t.keys('Enter');
      await t.waitScreen('Trigger by');
      t.keys('Enter');
      await t.waitScreen('Trigger value');
      t.type('5');
      t.keys('Enter');
      await t.waitScreen('Recurring');
      t.keys('Enter');
      await t.waitScreen('Callback URL');
      t.type(HOOK);
      t.keys('Enter');
      await t.waitScreen('Callback method');
      t.keys('Enter');
      await t.waitScreen('Friendly name');
      t.keys('Enter');
      const s = await t.waitScreen('Create it anyway?');
      assert.match(s, /warning: sms usage so far is already 12, at or above the trigger value 5: the trigger fires at once/);
      t.type('y');
      t.keys('Enter');
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.equal(exit.trim(), 'EXIT=0', screen);
      assert.equal(screen.match(/using the local emulator/g)?.length, 1, screen);
      assert.equal(screen.match(/Trigger by/g)?.length, 1, `no stale prompt line:\n${screen}`);
      const line = /^equivalent command: (utrig .*)$/m.exec(screen)?.[1];
      assert.equal(line, `utrig --local create --category sms --value 5 --callback-url ${HOOK}`);
      // pasted where no credentials exist, it still acts on the local emulator, not a real account
      const bin = wrapperDir();
      const replay = await runProcess('sh', ['-c', line!], { env: { ...env, PATH: `${bin}:${process.env.PATH ?? ''}`, NO_COLOR: '1' } });
      assert.equal(replay.code, 0, replay.stderr);
      assert.match(replay.stderr, /warning: sms usage so far is already 12/);
      const listed = await runCli(['--local', 'list', '--json'], { env });
      assertExit(listed, 0);
      assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 2);
    } finally {
      t.kill();
    }
  });
});

describe('delete names what it would delete', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  it('shows SID, category, value and name of the first five, then "and N more"', async () => {
    const sids: string[] = [];
    for (let i = 1; i <= 7; i++) {
      sids.push(String((await h.create({ UsageCategory: 'calls', TriggerValue: String(i * 10), CallbackUrl: HOOK, FriendlyName: `t${i}` })).sid));
    }
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, `delete ${sids.join(' ')}`, exitFile);
    try {
      const s = await t.waitScreen('Delete these 7 usage triggers?');
      for (let i = 0; i < 5; i++) assert.match(s, new RegExp(`${sids[i]}  calls usage ≥ ${(i + 1) * 10}  "t${i + 1}"`));
      assert.doesNotMatch(s, new RegExp(sids[5]!));
      assert.match(s, /and 2 more/);
      t.type('n');
      t.keys('Enter');
      assert.equal((await t.waitFile(exitFile)).trim(), 'EXIT=130', t.screen());
      assert.equal(h.emu.requests.filter((r) => r.method === 'DELETE').length, 0);
    } finally {
      t.kill();
    }
  });
});
