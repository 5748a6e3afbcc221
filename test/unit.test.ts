import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { resolveBaseUrl } from '../src/api/base-url.js';
import { buildForm, equivalentCommand, parseCreateOptions } from '../src/commands/create.js';
import {
  parseCallbackMethod,
  parseCallbackUrl,
  parseCategory,
  parseFriendlyName,
  parsePageSize,
  parseRecurring,
  parseTriggerBy,
  parseTriggerSid,
  parseTriggerValue,
  parseUsageAmount,
  suggestCategories,
} from '../src/commands/flags.js';
import { buildQuery, parseListOptions } from '../src/commands/list.js';
import { UsageError } from '../src/errors.js';
import { decideColorLevel, type IO } from '../src/io.js';
import { csvLine } from '../src/output/csv.js';
import { chooseFormat } from '../src/output/format.js';
import { renderList } from '../src/output/render.js';

function testIO(isTTY: boolean): IO & { out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  return {
    stdout,
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    stdinIsTTY: isTTY,
    stdoutIsTTY: isTTY,
    stderrIsTTY: isTTY,
    colorLevel: 0,
    columns: 80,
    env: {},
    out: () => text,
  };
}

describe('flags into form bodies', () => {
  it('buildForm encodes + as %2B and keeps Twilio parameter names, only for given fields', () => {
    const o = parseCreateOptions({ category: 'sms', value: '+30', callbackUrl: 'https://example.com/a?b=c', recurring: 'monthly' });
    assert.equal(buildForm(o).toString(), 'CallbackUrl=https%3A%2F%2Fexample.com%2Fa%3Fb%3Dc&TriggerValue=%2B30&UsageCategory=sms&Recurring=monthly');
  });

  it('equivalentCommand quotes what a shell would split', () => {
    const o = parseCreateOptions({ category: 'sms', value: '10', callbackUrl: 'https://example.com/x', friendlyName: "bob's quota" });
    assert.equal(equivalentCommand(o), `utrig create --category sms --value 10 --callback-url https://example.com/x --friendly-name 'bob'\\''s quota'`);
  });

  it('list query: filters and page size', () => {
    assert.equal(buildQuery(parseListOptions({ category: 'calls', triggerBy: 'price', limit: '30' })).toString(), 'UsageCategory=calls&TriggerBy=price&PageSize=30');
  });
});

describe('flags follow the shared rules (src/rules.ts) and name the flag', () => {
  const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message);
  it('returns accepted values unchanged', () => {
    assert.equal(parseTriggerValue('--value', '+30'), '+30');
    assert.equal(parseCallbackUrl('--callback-url', 'HTTPS://EXAMPLE.COM'), 'HTTPS://EXAMPLE.COM');
    assert.equal(parseCallbackMethod('--callback-method', 'POST'), 'POST');
    assert.equal(parseRecurring('--recurring', ''), '');
    assert.equal(parseTriggerBy('--trigger-by', 'count'), 'count');
    assert.equal(parseFriendlyName('--friendly-name', '\u{1F600}'.repeat(32)), '\u{1F600}'.repeat(32));
    assert.equal(parsePageSize('--page-size', '1000'), 1000);
    assert.equal(parseUsageAmount('--count', '+0'), '0');
  });
  it('refuses with a UsageError that starts with the flag', () => {
    assert.throws(() => parseTriggerValue('--value', '0'), usage(/^--value "0" is not greater than 0: /));
    assert.throws(() => parseTriggerValue('--value', '1e3'), usage(/^--value "1e3" is not a number written in plain decimal/));
    assert.throws(() => parseFriendlyName('--friendly-name', '\u{1F600}'.repeat(33)), usage(/^--friendly-name is 66 characters long counted in UTF-16 code units/));
    assert.throws(() => parseCallbackUrl('--to', 'https://example.com/a b'), usage(/^--to "https:\/\/example.com\/a b" is not a URL: it contains a space/));
    assert.throws(() => parseCallbackMethod('--method', 'post'), usage(/^--method "post" is not one of GET, POST \(method names are upper-case: did you mean POST\?\)$/));
    assert.throws(() => parseRecurring('--recurring', 'Monthly'), usage(/^--recurring "Monthly" is not one of .*did you mean monthly\?/));
    assert.throws(() => parseTriggerBy('--trigger-by', ''), usage(/^--trigger-by "" is not one of count, usage, price$/));
    assert.throws(() => parsePageSize('--page-size', '0'), usage(/^--page-size "0" must be a whole number from 1 to 1000$/));
    assert.throws(() => parseTriggerSid('trigger SID', 'UT123'), usage(/^trigger SID "UT123" is not a usage trigger SID/));
    assert.throws(() => parseCategory('--category', ' sms', false), usage(/^--category " sms" is not a usage category: .*see `utrig categories`$/));
    assert.throws(() => parseUsageAmount('--price', '-1'), usage(/^--price "-1" is negative/));
  });
});

describe('categories', () => {
  it('suggests near misses, including the real misspelling call-progess-events', () => {
    assert.deepEqual(suggestCategories('call-progress-events').slice(0, 1), ['call-progess-events']);
    assert.ok(suggestCategories('sms-outbond').includes('sms-outbound'));
  });
  it('rejects a malformed category even with --allow-unknown-category', () => {
    assert.throws(() => parseCategory('--category', 'SMS OUT', true), UsageError);
    assert.deepEqual(parseCategory('--category', 'brand-new', true), { category: 'brand-new', known: false });
  });
});

describe('base URL', () => {
  it('defaults to api.twilio.com and follows region and edge', () => {
    assert.equal(resolveBaseUrl({}), 'https://api.twilio.com');
    assert.equal(resolveBaseUrl({ TWILIO_REGION: 'ie1' }), 'https://api.ie1.twilio.com');
    assert.equal(resolveBaseUrl({ TWILIO_EDGE: 'dublin', TWILIO_REGION: 'ie1' }), 'https://api.dublin.ie1.twilio.com');
    assert.equal(resolveBaseUrl({ TWILIO_EDGE: 'sydney' }), 'https://api.sydney.us1.twilio.com');
    assert.equal(resolveBaseUrl({ UTRIG_API_URL: 'http://127.0.0.1:4010/' }), 'http://127.0.0.1:4010');
    assert.throws(() => resolveBaseUrl({ UTRIG_API_URL: 'http://10.0.0.1' }), /only for loopback/);
    assert.throws(() => resolveBaseUrl({ TWILIO_REGION: 'ie1/../x' }), /TWILIO_REGION must be a name/);
  });
});

describe('output', () => {
  it('chooses a table on a TTY and JSON when piped; --json wins', () => {
    assert.equal(chooseFormat(testIO(true), undefined, false), 'table');
    assert.equal(chooseFormat(testIO(false), undefined, false), 'json');
    assert.equal(chooseFormat(testIO(true), undefined, true), 'json');
    assert.throws(() => chooseFormat(testIO(true), 'csv', true), /--json and --output csv disagree/);
  });

  it('colour: NO_COLOR, TERM=dumb and --no-color turn it off; FORCE_COLOR turns it on', () => {
    assert.equal(decideColorLevel(true, {}), 1);
    assert.equal(decideColorLevel(true, { NO_COLOR: '1' }), 0);
    assert.equal(decideColorLevel(true, { TERM: 'dumb' }), 0);
    assert.equal(decideColorLevel(true, {}, true), 0);
    assert.equal(decideColorLevel(false, { FORCE_COLOR: '1' }), 1);
    assert.equal(decideColorLevel(false, {}), 0);
  });

  it('csv quotes commas, quotes and newlines', () => {
    assert.equal(csvLine(['a,b', 'say "hi"', 'x\ny', null, 3]), '"a,b","say ""hi""","x\ny",,3\n');
  });

  it('renders a list as a JSON array, ndjson and csv, in TTY and piped IO alike', async () => {
    const rows = [{ sid: 'UT1', n: 1 }, { sid: 'UT2', n: 2 }];
    for (const tty of [true, false]) {
      const json = testIO(tty);
      await renderList(rows, { io: json, format: 'json', csvFields: ['sid', 'n'], columns: [] });
      assert.deepEqual(JSON.parse(json.out()), rows);
      const nd = testIO(tty);
      await renderList(rows, { io: nd, format: 'ndjson', csvFields: ['sid', 'n'], columns: [] });
      assert.equal(nd.out(), '{"sid":"UT1","n":1}\n{"sid":"UT2","n":2}\n');
      const csv = testIO(tty);
      await renderList(rows, { io: csv, format: 'csv', fields: ['n'], csvFields: ['sid', 'n'], columns: [] });
      assert.equal(csv.out(), 'n\n1\n2\n');
    }
  });
});
