import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { harness, tempConfigDir, type Harness } from './helpers.js';
import { have, utrigOnTerminal } from './tty-helpers.js';

// `utrig apply` on a terminal: the plan is shown, then a confirmation; no sends nothing, yes applies.

describe('apply on a terminal', { skip: !have('tmux') && 'tmux is not installed' }, () => {
  let h: Harness;
  let policy: string;
  before(async () => {
    h = await harness();
    policy = join(tempConfigDir(), 'triggers.yaml');
    writeFileSync(policy, 'triggers:\n  - {name: spend, category: totalprice, trigger_by: price, value: 50, recurring: monthly, callback_url: "https://example.com/spend"}\n');
  });
  after(() => h.close());

  it('shows the plan and asks; no sends nothing (130), yes applies it', async () => {
    const dir = tempConfigDir();
    const no = utrigOnTerminal(h.env, `apply -f ${policy}`, join(dir, 'no'));
    try {
      await no.waitScreen('Apply these changes to 1 account?');
      assert.match(no.screen(), /^ {2}\+ {3}spend {16}create {3}totalprice price 50 monthly -> POST https:\/\/example\.com\/spend$/m);
      no.type('n');
      no.keys('Enter');
      assert.equal((await no.waitFile(join(dir, 'no'))).trim(), 'EXIT=130', no.screen());
      assert.equal(h.emu.requests.filter((r) => r.method !== 'GET').length, 0);
    } finally {
      no.kill();
    }
    const yes = utrigOnTerminal(h.env, `apply -f ${policy}`, join(dir, 'yes'));
    try {
      await yes.waitScreen('Apply these changes to 1 account?');
      yes.type('y');
      yes.keys('Enter');
      assert.equal((await yes.waitFile(join(dir, 'yes'))).trim(), 'EXIT=0', yes.screen());
      const made = h.emu.store.listTriggers(h.emu.accountSid, {});
      assert.deepEqual(made.map((t) => t.friendly_name), ['utrig:spend']);
    } finally {
      yes.kill();
    }
  });
});
