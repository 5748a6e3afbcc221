import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { parseEmulatorOptions } from '../src/commands/emulator.js';
import { UsageError } from '../src/errors.js';
import { call, control, startReceiver, triggersPath } from './emulator-helpers.js';
import { spawnEmulator } from './persistence-helpers.js';

// Written from Twilio's UsageTrigger documentation: triggers are evaluated about once a minute, a
// trigger that has not fired has a null date_fired, and a recurring trigger fires at most once per
// GMT period. With --evaluate-every the emulator keeps that timing on its virtual clock.

const trigger = (sid: string) => `${triggersPath(sid).replace(/\.json$/, '')}`;

describe('--evaluate-every: Twilio\'s evaluation timing on the virtual clock', () => {
  let em: RunningEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
    em = await startEmulator({ now: new Date('2026-05-10T12:00:00Z'), evaluateEverySeconds: 60, retryDelayMs: 0 });
  });
  after(async () => {
    await em.close();
    await receiver.close();
  });

  const fetchTrigger = async (sid: string) => (await call(em, 'GET', `${trigger(em.accountSid)}/${sid}.json`)).json;

  test('a crossed threshold fires at the next evaluation, not on the request that crossed it', async () => {
    await control(em, 'POST', '/emulator/usage', { Category: 'sms', Count: '12', Usage: '12' });
    const created = await call(em, 'POST', triggersPath(em.accountSid), {
      form: { CallbackUrl: receiver.url, TriggerValue: '10', UsageCategory: 'sms' },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.date_fired, null, 'the create answer has not fired yet');
    assert.equal(created.json.current_value, '12');
    await control(em, 'POST', '/emulator/clock', { Advance: '20' });
    assert.equal((await fetchTrigger(created.json.sid)).date_fired, null, '20 s later: not evaluated yet');
    await control(em, 'POST', '/emulator/clock', { Advance: '60' });
    const fired = await fetchTrigger(created.json.sid);
    assert.notEqual(fired.date_fired, null, 'evaluated within a minute');
    const at = Date.parse(fired.date_fired);
    assert.ok(at > Date.parse('2026-05-10T12:00:00Z') && at <= Date.parse('2026-05-10T12:01:21Z'), fired.date_fired);
    await em.idle();
    assert.equal(em.deliveries.filter((d) => d.trigger_sid === created.json.sid).length, 1);
  });

  test('usage that crossed a daily trigger fires it in that day, even when the clock then jumps days', async () => {
    const created = await call(em, 'POST', triggersPath(em.accountSid), {
      form: { CallbackUrl: receiver.url, TriggerValue: '3', UsageCategory: 'calls', Recurring: 'daily', TriggerBy: 'count' },
    });
    const day = (await control(em, 'GET', '/emulator/clock')).json.now.slice(0, 10);
    await control(em, 'POST', '/emulator/usage', { Category: 'calls', Count: '5' });
    assert.equal((await fetchTrigger(created.json.sid)).date_fired, null);
    await control(em, 'POST', '/emulator/clock', { Advance: String(3 * 86_400) });
    const fired = await fetchTrigger(created.json.sid);
    assert.notEqual(fired.date_fired, null);
    assert.equal(new Date(fired.date_fired).toISOString().slice(0, 10), day, 'fired in the day its usage crossed the value');
    await em.idle();
    assert.equal(em.deliveries.filter((d) => d.trigger_sid === created.json.sid).length, 1, 'once: the later days had no usage');
  });

  test('the setting is readable and changeable; 0 goes back to evaluating at once', async () => {
    assert.equal((await control(em, 'GET', '/emulator/settings')).json.evaluate_every, 60);
    for (const bad of ['-1', '1.5', 'soon', '86401']) {
      const r = await control(em, 'POST', '/emulator/settings', { EvaluateEvery: bad });
      assert.equal(r.status, 400, bad);
      assert.match(r.json.message, /^EvaluateEvery must be/);
    }
    const r = await control(em, 'POST', '/emulator/settings', { EvaluateEvery: '0' });
    assert.equal(r.json.evaluate_every, null);
    const created = await call(em, 'POST', triggersPath(em.accountSid), {
      form: { CallbackUrl: receiver.url, TriggerValue: '1', UsageCategory: 'sms' },
    });
    assert.notEqual(created.json.date_fired, null, 'immediate again: the create answer has fired');
    await control(em, 'POST', '/emulator/settings', { EvaluateEvery: '60' });
  });
});

test('with --evaluate-every, evaluations also run as real time passes', async () => {
  const em = await startEmulator({ evaluateEverySeconds: 1 });
  try {
    await control(em, 'POST', '/emulator/usage', { Category: 'mms', Count: '4', Usage: '4' });
    const created = await call(em, 'POST', triggersPath(em.accountSid), {
      form: { CallbackUrl: 'http://127.0.0.1:9/', TriggerValue: '2', UsageCategory: 'mms' },
    });
    assert.equal(created.json.date_fired, null);
    // no clock change: only the timer can fire it. Polled with a generous deadline, not timed.
    const deadline = Date.now() + 30_000;
    let fired = null;
    while (fired === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      fired = (await call(em, 'GET', `${trigger(em.accountSid)}/${created.json.sid}.json`)).json.date_fired;
    }
    assert.notEqual(fired, null, 'fired without any request moving the clock');
  } finally {
    await em.close();
  }
});

test('immediate evaluation stays the default', async () => {
  const em = await startEmulator();
  try {
    assert.equal((await control(em, 'GET', '/emulator/settings')).json.evaluate_every, null);
    await control(em, 'POST', '/emulator/usage', { Category: 'sms', Count: '4', Usage: '4' });
    const created = await call(em, 'POST', triggersPath(em.accountSid), { form: { CallbackUrl: 'http://127.0.0.1:9/', TriggerValue: '2', UsageCategory: 'sms' } });
    assert.notEqual(created.json.date_fired, null);
  } finally {
    await em.close();
  }
});

test('utrig emulator --evaluate-every and --parent-triggers-count-subaccounts are parsed and bounded', () => {
  assert.equal(parseEmulatorOptions({ evaluateEvery: '60' }).evaluateEvery, 60);
  assert.equal(parseEmulatorOptions({}).evaluateEvery, undefined);
  assert.equal(parseEmulatorOptions({ parentTriggersCountSubaccounts: true }).parentTriggersCountSubaccounts, true);
  assert.equal(parseEmulatorOptions({}).parentTriggersCountSubaccounts, undefined);
  for (const v of ['0', '-5', 'soon', '1.5', '86401']) {
    assert.throws(
      () => parseEmulatorOptions({ evaluateEvery: v }),
      (e: unknown) => e instanceof UsageError && /^--evaluate-every ".*" must be an integer from 1 to 86400$/.test(e.message),
      v,
    );
  }
});

test('utrig emulator --evaluate-every 30 --parent-triggers-count-subaccounts reach the running emulator', async () => {
  const em = await spawnEmulator(null, { args: ['--evaluate-every', '30', '--parent-triggers-count-subaccounts'] });
  try {
    const res = await fetch(`${em.url}/emulator/settings`);
    assert.deepEqual(await res.json(), { evaluate_every: 30, parent_triggers_count_subaccounts: true });
  } finally {
    await em.stop();
  }
});
