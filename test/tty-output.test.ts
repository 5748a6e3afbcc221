import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { harness, tempConfigDir, type Harness } from './helpers.js';
import { have, utrigOnTerminal } from './tty-helpers.js';

const HOOK = 'https://example.com/usage-hook';


describe('on a terminal', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = String((await h.create({ UsageCategory: 'sms', TriggerValue: '40', CallbackUrl: HOOK, FriendlyName: 'tty' })).sid);
    await fetch(`${h.emu.url}/emulator/usage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ AccountSid: h.emu.accountSid, Category: 'sms', Usage: '10' }).toString(),
    });
  });
  after(() => h.close());

  it('list defaults to a table, not JSON', async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, 'list', exitFile);
    try {
      assert.equal((await t.waitFile(exitFile)).trim(), 'EXIT=0', t.screen());
      const screen = t.screen();
      assert.match(screen, /^SID +CATEGORY +BY +VALUE +CURRENT +RECURRING +FIRED +NAME$/m);
      assert.match(screen, new RegExp(`^${sid} +sms +usage +40 +10 +once +tty$`, 'm'));
      assert.doesNotMatch(screen, /"sid"/);
    } finally {
      t.kill();
    }
  });

  it('get shows progress toward the threshold', async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, `get ${sid}`, exitFile);
    try {
      assert.equal((await t.waitFile(exitFile)).trim(), 'EXIT=0', t.screen());
      assert.match(t.screen(), /^Progress +█{5}░{15} 10 \/ 40 \(25%\)$/m);
    } finally {
      t.kill();
    }
  });

  it('delete asks first; answering no exits 130 and deletes nothing', async () => {
    const exitFile = join(tempConfigDir(), 'exit');
    const t = utrigOnTerminal(h.env, `delete ${sid}`, exitFile);
    try {
      // the confirmation names the trigger: SID, category, threshold, name
      const s = await t.waitScreen('Delete this usage trigger?');
      assert.match(s, new RegExp(`${sid}  sms usage ≥ 40  "tty"`));
      t.type('n');
      t.keys('Enter');
      assert.equal((await t.waitFile(exitFile)).trim(), 'EXIT=130', t.screen());
      assert.equal(h.emu.requests.filter((r) => r.method === 'DELETE').length, 0);
      assert.match(t.screen(), /not deleted/);
    } finally {
      t.kill();
    }
  });
});
