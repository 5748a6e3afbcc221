// Pure parts of issue 11's polish: the flags a printed command keeps (11.3), the threshold text (11.4),
// category suggestions (11.6) and search order (11.7).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { searchCategories } from '../src/commands/category-search.js';
import { matchesCategory } from '../src/commands/categories.js';
import { targetFlags, thresholdText, withTargetFlags } from '../src/commands/trigger-checks.js';
import { parseGlobals } from '../src/deps.js';
import { checkCategory, normalizeCategory } from '../src/rules.js';

const target = (raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => ({ globals: parseGlobals(raw), env });

describe('target flags of a printed command', () => {
  it('keeps --local, --profile (or UTRIG_PROFILE) and --account-sid', () => {
    assert.deepEqual(targetFlags(target({})), []);
    assert.deepEqual(targetFlags(target({ local: true })), ['--local']);
    assert.deepEqual(targetFlags(target({ profile: 'local' })), ['--local']);
    assert.deepEqual(targetFlags(target({}, { UTRIG_PROFILE: 'local' })), ['--local']);
    assert.deepEqual(targetFlags(target({ profile: 'ci' })), ['--profile', 'ci']);
    assert.deepEqual(targetFlags(target({}, { UTRIG_PROFILE: 'staging' })), ['--profile', 'staging']);
    const sub = `AC${'1'.repeat(32)}`;
    assert.deepEqual(targetFlags(target({ profile: 'ci', accountSid: sub })), ['--profile', 'ci', '--account-sid', sub]);
  });

  it('puts them after utrig', () => {
    assert.equal(withTargetFlags('utrig create --category sms', target({ profile: 'ci' })), 'utrig --profile ci create --category sms');
    assert.equal(withTargetFlags('utrig create --category sms', target({})), 'utrig create --category sms');
  });
});

describe('threshold already reached', () => {
  it('warns at or below current usage, never for +N', () => {
    assert.match(thresholdText({ category: 'sms', value: '5' }, '12', 'today') ?? '', /^sms usage today is already 12, at or above the trigger value 5/);
    assert.ok(thresholdText({ category: 'sms', value: '12' }, '12.000000', 'so far'));
    assert.equal(thresholdText({ category: 'sms', value: '12.000001' }, '12', 'so far'), undefined);
    assert.equal(thresholdText({ category: 'sms', value: '+5' }, '12', 'so far'), undefined);
    assert.match(thresholdText({ category: 'totalprice', value: '1', triggerBy: 'price' }, '3.5', 'this month') ?? '', /totalprice price this month/);
  });
});

describe('categories', () => {
  it('suggests the normalised spelling (rule shared with the emulator)', () => {
    assert.equal(normalizeCategory(' SMS_Outbound '), 'sms-outbound');
    assert.equal(normalizeCategory('sms  outbound'), 'sms-outbound');
    const c = checkCategory('SMS');
    assert.ok(!c.ok && /did you mean sms\?/.test(c.reason));
    const far = checkCategory('Not A Thing');
    assert.ok(!far.ok && /such as sms or calls-outbound/.test(far.reason));
  });

  it('words match at the start of a segment', () => {
    assert.ok(matchesCategory('sms-outbound', ['sms', 'out']));
    assert.ok(!matchesCategory('wireless-sms-centralandsouthamerica', ['sms', 'out']));
    assert.ok(matchesCategory('sms-outbound', ['sms-outb']));
  });

  it('the wizard offers the most used first', () => {
    assert.deepEqual(searchCategories('').slice(0, 4), ['totalprice', 'sms', 'calls', 'mms']);
    assert.equal(searchCategories('', 'pv')[0], 'pv');
    assert.deepEqual(searchCategories('sms').slice(0, 3), ['sms', 'sms-outbound', 'sms-inbound']);
  });
});
