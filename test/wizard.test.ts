import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, harness, runProcess, tempConfigDir, type Harness } from './helpers.js';
import { have, utrigOnTerminal, wrapperDir } from './tty-helpers.js';

const HOOK = 'https://example.com/usage-hook';
const TRIGGERS = /\/Usage\/Triggers\.json$/;

function creates(h: Harness) {
  return h.emu.requests.filter((r) => r.method === 'POST' && TRIGGERS.test(r.path));
}



describe('create wizard in a terminal', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  it('asks for every field, sends exactly the form, and prints a one-liner that sends the same', async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, 'create', exitFile);
    try {
      await t.waitScreen('Usage category');
      t.type('sms-outb');
      await t.waitScreen(/❯ sms-outbound +SMS/);
      t.keys('Enter');
      await t.waitScreen('Trigger by');
      t.keys('Enter');
      const s = await t.waitScreen('Trigger value');
      assert.match(s, /\+N for N more than now; sms-outbound usage is now 0/);
      t.type('+30');
      t.keys('Enter');
      await t.waitScreen('Recurring');
      t.keys('Enter');
      await t.waitScreen('Callback URL');
      t.type('not a url');
      t.keys('Enter');
      await t.waitScreen('is not a URL');
      t.keys('C-u');
      t.type(HOOK);
      t.keys('Enter');
      await t.waitScreen('Callback method');
      t.keys('Enter');
      await t.waitScreen('Friendly name');
      t.type("wizard's sms alarm");
      t.keys('Enter');
      await t.waitScreen('Create this usage trigger?');
      t.keys('Enter');
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.equal(exit.trim(), 'EXIT=0', screen);
      const sent = creates(h);
      assert.equal(sent.length, 1, screen);
      const expected = { UsageCategory: 'sms-outbound', TriggerValue: '+30', CallbackUrl: HOOK, FriendlyName: "wizard's sms alarm" };
      assert.deepEqual(sent[0]!.form, expected);
      assert.match(screen, /Created usage trigger UT[0-9a-f]{32}/);

      const line = /^equivalent command: (utrig create .*)$/m.exec(screen)?.[1];
      assert.ok(line, `no equivalent command on the screen:\n${screen}`);
      // Replay the printed line through a real shell, without a terminal, and compare what arrives.
      const before = creates(h).length;
      const bin = wrapperDir();
      const replay = await runProcess('sh', ['-c', line], { env: { ...h.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NO_COLOR: '1' } });
      assert.equal(replay.code, 0, replay.stderr);
      const again = creates(h).slice(before);
      assert.equal(again.length, 1);
      assert.deepEqual(again[0]!.form, expected);
      assert.equal(again[0]!.body, sent[0]!.body);
    } finally {
      t.kill();
    }
  });

  it('Ctrl-C midway exits 130 and sends nothing', async () => {
    const n = creates(h).length;
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, 'create --callback-url https://example.com/x', exitFile);
    try {
      await t.waitScreen('Usage category');
      t.type('sms');
      t.keys('Enter');
      await t.waitScreen('Trigger by');
      t.keys('C-c');
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.equal(exit.trim(), 'EXIT=130', screen);
      assert.match(screen, /error: cancelled: nothing was sent/);
      assert.doesNotMatch(screen, /\n\s+at .*:\d+:\d+/, 'no stack trace');
      assert.equal(creates(h).length, n);
    } finally {
      t.kill();
    }
  });

  it('Escape exits 130 and sends nothing', async () => {
    const n = creates(h).length;
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, 'create --category sms', exitFile);
    try {
      await t.waitScreen('Trigger by');
      t.keys('Escape');
      const exit = await t.waitFile(exitFile);
      assert.equal(exit.trim(), 'EXIT=130', t.screen());
      assert.equal(creates(h).length, n);
    } finally {
      t.kill();
    }
  });

  it('declining the confirmation exits 130 and sends nothing', async () => {
    const n = creates(h).length;
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, `create --category sms --value 5 --callback-url ${HOOK} --interactive`, exitFile);
    try {
      for (const prompt of ['Usage category', 'Trigger by', /Trigger value .*\(5\)/, 'Recurring', 'Callback URL', 'Callback method', 'Friendly name']) {
        await t.waitScreen(prompt);
        t.keys('Enter');
      }
      await t.waitScreen('Create this usage trigger?');
      t.type('n');
      t.keys('Enter');
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.equal(exit.trim(), 'EXIT=130', screen);
      assert.match(screen, /not created: nothing was sent/);
      assert.equal(creates(h).length, n);
    } finally {
      t.kill();
    }
  });

  it('--no-input on a terminal never prompts: exit 2 naming the missing flags', async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, '--no-input create --category sms', exitFile);
    try {
      const exit = await t.waitFile(exitFile);
      const screen = t.screen();
      assert.equal(exit.trim(), 'EXIT=2', screen);
      assert.match(screen, /missing required flags --value, --callback-url \(no prompt: --no-input\)/);
    } finally {
      t.kill();
    }
  });
});

describe('create without a terminal', () => {
  it('never prompts: exit 2, the missing flags named on stderr, nothing sent', async () => {
    const h = await harness();
    try {
      const res = await h.run(['create', '--category', 'sms']);
      assertExit(res, 2);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /^error: missing required flags --value, --callback-url \(no prompt: not a terminal\)$/m);
      assert.equal(creates(h).length, 0);
    } finally {
      await h.close();
    }
  });

  it('delete without SIDs and no terminal is a usage error, not a prompt', async () => {
    const h = await harness();
    try {
      const res = await h.run(['delete']);
      assertExit(res, 2);
      assert.match(res.stderr, /missing trigger SID/);
    } finally {
      await h.close();
    }
  });
});

describe('update and delete wizards in a terminal', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = String((await h.create({ UsageCategory: 'calls', TriggerValue: '100', CallbackUrl: HOOK, FriendlyName: 'old' })).sid);
  });
  after(() => h.close());

  it('update offers the current values and sends only the changed field', async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, `update ${sid}`, exitFile);
    try {
      await t.waitScreen(`Callback URL (${HOOK})`);
      t.keys('Enter');
      await t.waitScreen('Callback method');
      t.keys('Enter');
      await t.waitScreen('Friendly name');
      await t.waitScreen('(old)');
      t.keys('C-u');
      t.type('new name');
      t.keys('Enter');
      // a summary of what changes, then a confirmation, as create has
      const s = await t.waitScreen('Update this usage trigger?');
      assert.match(s, /name +old → new name/);
      assert.doesNotMatch(s, /callback +https/, 'unchanged fields are not listed');
      t.keys('Enter');
      const exit = await t.waitFile(exitFile);
      assert.equal(exit.trim(), 'EXIT=0', t.screen());
      const posts = h.emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${sid}.json`));
      assert.equal(posts.length, 1);
      assert.deepEqual(posts[0]!.form, { FriendlyName: 'new name' });
    } finally {
      t.kill();
    }
  });

  it('declining the update confirmation exits 130 and sends nothing', async () => {
    const n = h.emu.requests.filter((r) => r.method === 'POST').length;
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, `update ${sid}`, exitFile);
    try {
      await t.waitScreen('Callback URL');
      t.keys('C-u');
      t.type('https://example.com/v2');
      t.keys('Enter');
      await t.waitScreen('Callback method');
      t.keys('Enter');
      await t.waitScreen('Friendly name');
      t.keys('Enter');
      const s = await t.waitScreen('Update this usage trigger?');
      assert.match(s, /callback +https:\/\/example\.com\/usage-hook → https:\/\/example\.com\/v2/);
      t.type('n');
      t.keys('Enter');
      const exit = await t.waitFile(exitFile);
      assert.equal(exit.trim(), 'EXIT=130', t.screen());
      assert.match(t.screen(), /not updated: nothing was sent/);
      assert.equal(h.emu.requests.filter((r) => r.method === 'POST').length, n);
    } finally {
      t.kill();
    }
  });

  it('delete without SIDs lists the triggers to pick from', async () => {
    const other = String((await h.create({ UsageCategory: 'sms', TriggerValue: '7', CallbackUrl: HOOK })).sid);
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, 'delete', exitFile);
    try {
      await t.waitScreen(other);
      await t.waitScreen(sid);
      // The list is in creation order: the first is sid. Select it and accept, then confirm.
      t.type(' ');
      t.keys('Enter');
      const s = await t.waitScreen('Delete this usage trigger?');
      assert.match(s, new RegExp(`${sid}  calls usage ≥ 100  "new name"`));
      t.type('y');
      t.keys('Enter');
      const exit = await t.waitFile(exitFile);
      assert.equal(exit.trim(), 'EXIT=0', t.screen());
      const deletes = h.emu.requests.filter((r) => r.method === 'DELETE');
      assert.deepEqual(deletes.map((r) => r.path.split('/').pop()), [`${sid}.json`]);
    } finally {
      t.kill();
    }
  });
});
