// Unit tests of src/rules.ts, the one home of Twilio's parameter rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkCallbackMethod,
  checkCallbackUrl,
  checkCategory,
  checkFriendlyName,
  checkPageSize,
  checkRecurring,
  checkSid,
  checkTriggerBy,
  checkTriggerValue,
  checkUsageAmount,
  parseMicros,
  type Checked,
} from '../src/rules.js';

function value<T>(c: Checked<T>): T {
  assert.ok(c.ok, c.ok ? '' : c.reason);
  return c.value;
}

function reason<T>(c: Checked<T>): string {
  assert.ok(!c.ok, `expected a refusal, got ${JSON.stringify(c)}`);
  return c.reason;
}

describe('TriggerValue', () => {
  it('takes plain decimals and +offsets, in millionths, unchanged as text', () => {
    assert.deepEqual(value(checkTriggerValue('12.5')), { text: '12.5', offset: false, micros: 12_500_000 });
    assert.deepEqual(value(checkTriggerValue('+30')), { text: '+30', offset: true, micros: 30_000_000 });
    assert.equal(value(checkTriggerValue('0.000001')).micros, 1);
    assert.equal(value(checkTriggerValue('007')).micros, 7_000_000);
    assert.equal(value(checkTriggerValue('999999999.999999')).micros, 999_999_999_999_999);
  });
  it('refuses 0 in every spelling: Twilio asks for a positive value', () => {
    for (const v of ['0', '+0', '0.0', '000.000000']) assert.match(reason(checkTriggerValue(v)), /is not greater than 0/, v);
    assert.match(reason(checkTriggerValue('-0')), /is negative/);
  });
  it('refuses what is not plain decimal', () => {
    for (const v of ['1e3', '0x10', 'Infinity', 'NaN', '.5', '5.', '1,000', ' 10', '10 ', '++1', '+-1', '', '１０']) {
      assert.match(reason(checkTriggerValue(v)), /is not a number written in plain decimal/, JSON.stringify(v));
    }
  });
  it('refuses more than six decimal places and more than nine integer digits', () => {
    assert.match(reason(checkTriggerValue('0.0000001')), /has 7 decimal places: Twilio keeps six/);
    assert.match(reason(checkTriggerValue('1000000000')), /is too large: the largest value accepted is 999999999\.999999/);
    assert.match(reason(checkTriggerValue('+1000000000')), /is too large/);
  });
  it('usage amounts allow 0 and drop a "+"', () => {
    assert.equal(value(checkUsageAmount('0')), '0');
    assert.equal(value(checkUsageAmount('+5')), '5');
    assert.match(reason(checkUsageAmount('-1')), /is negative/);
    assert.equal(parseMicros('0.32'), 320_000);
    assert.equal(parseMicros('+1'), null);
  });
});

describe('FriendlyName', () => {
  it('counts UTF-16 code units: an emoji is 2, a combining accent 1', () => {
    assert.ok(checkFriendlyName('x'.repeat(64)).ok);
    assert.match(reason(checkFriendlyName('x'.repeat(65))), /^is 65 characters long: Twilio accepts at most 64$/);
    assert.ok(checkFriendlyName('\u{1F600}'.repeat(32)).ok);
    assert.match(reason(checkFriendlyName('\u{1F600}'.repeat(33))), /^is 66 characters long counted in UTF-16 code units.*at most 64$/);
    assert.ok(checkFriendlyName('\u00e9'.repeat(64)).ok);
    assert.ok(checkFriendlyName('e\u0301'.repeat(32)).ok);
    assert.match(reason(checkFriendlyName('e\u0301'.repeat(64))), /is 128 characters long counted in UTF-16/);
    assert.ok(checkFriendlyName('').ok);
  });
});

describe('CallbackUrl', () => {
  it('accepts absolute http(s) URLs as typed, capitals included (RFC 3986: scheme and host are case-insensitive)', () => {
    for (const v of ['https://example.com/hook', 'HTTPS://EXAMPLE.COM', 'http://127.0.0.1:3000/x?a=1&b=%2B#f', 'http://[::1]:8080/', 'https://u:p@example.com/']) {
      assert.equal(value(checkCallbackUrl(v)), v);
    }
  });
  it('refuses spaces, control and non-ASCII characters, and what only a browser would repair', () => {
    const cases: [string, RegExp][] = [
      ['https://example.com/a b', /contains a space/],
      [' https://example.com/', /contains a space/],
      ['https://example.com/\t', /contains a space or line break/],
      ['https://example.com/\u0000', /control character/],
      ['https://ex\u00e4mple.com/', /non-ASCII/],
      ['https://example.com\\path', /a character a URL cannot hold/],
      ['https://example.com/%zz', /a character a URL cannot hold/],
      ['https:example.com', /needs \/\/ and a host/],
      ['http://', /needs \/\/ and a host/],
      ['https://example.com:99999/', /host or port is not valid/],
      ['ftp://example.com/x', /^must be an http or https URL; got ftp$/],
      ['javascript:alert(1)', /got javascript/],
      ['example.com', /is not a URL: give an absolute http\(s\) URL/],
      ['/relative/path', /is not a URL/],
      ['', /is not a URL/],
    ];
    for (const [v, re] of cases) assert.match(reason(checkCallbackUrl(v)), re, JSON.stringify(v));
  });
});

describe('enums', () => {
  it('CallbackMethod: exactly GET or POST, with a hint for lower case and the legacy verbs named', () => {
    assert.equal(value(checkCallbackMethod('GET')), 'GET');
    assert.match(reason(checkCallbackMethod('get')), /did you mean GET\?/);
    assert.match(reason(checkCallbackMethod('PUT')), /^PUT is not accepted: Twilio calls usage-trigger callbacks with GET or POST only/);
    assert.match(reason(checkCallbackMethod('')), /^"" is not one of GET, POST$/);
  });
  it('Recurring: the enum or empty; TriggerBy: the enum only', () => {
    for (const v of ['daily', 'monthly', 'yearly', 'alltime', '']) assert.equal(value(checkRecurring(v)), v);
    assert.match(reason(checkRecurring('Daily')), /did you mean daily\?/);
    assert.match(reason(checkRecurring('weekly')), /is not one of daily, monthly, yearly, alltime, or empty/);
    for (const v of ['count', 'usage', 'price']) assert.equal(value(checkTriggerBy(v)), v);
    assert.match(reason(checkTriggerBy('')), /is not one of count, usage, price/);
    assert.match(reason(checkTriggerBy('PRICE')), /did you mean price\?/);
  });
  it('UsageCategory: known ones; unknown but well-formed ones only when allowed', () => {
    assert.deepEqual(value(checkCategory('sms')), { category: 'sms', known: true });
    assert.match(reason(checkCategory('brand-new')), /is not a usage category utrig knows/);
    assert.deepEqual(value(checkCategory('brand-new', true)), { category: 'brand-new', known: false });
    for (const v of ['SMS', ' sms', 'sms ', '', '-sms']) assert.match(reason(checkCategory(v, true)), /lower-case words joined by hyphens/, JSON.stringify(v));
  });
});

describe('SIDs and PageSize', () => {
  it('SIDs: prefix and 32 hex digits', () => {
    const hex = '0123456789abcdefABCDEF0123456789';
    assert.ok(checkSid('AC', 'AC' + hex).ok);
    assert.ok(checkSid('UT', 'UT' + hex).ok);
    assert.ok(checkSid('SK', 'SK' + hex).ok);
    assert.match(reason(checkSid('UT', 'AC' + hex)), /is not a usage trigger SID: expected UT followed by 32 hex digits/);
    assert.match(reason(checkSid('AC', 'AC' + hex.slice(1))), /is not an account SID/);
    assert.match(reason(checkSid('SK', 'SK' + hex.slice(1) + 'g')), /is not an API key SID/);
  });
  it('PageSize: 1 to 1000, digits only', () => {
    assert.equal(value(checkPageSize('1')), 1);
    assert.equal(value(checkPageSize('1000')), 1000);
    for (const v of ['0', '1001', '+5', '1e3', ' 5', '', '5.0']) assert.match(reason(checkPageSize(v)), /must be a whole number from 1 to 1000/, v);
  });
});
