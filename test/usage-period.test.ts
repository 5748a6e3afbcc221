// Issue 11.4: the wizard's threshold check reads the usage of the trigger's period from Twilio's documented
// Usage Records routes. A loopback server written from Twilio's docs (not from the emulator) answers them,
// so the paths, the record picked and the quiet fallback on 404 are checked over real HTTP.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiClient, closeDispatcher } from '../src/api/client.js';
import { periodUsage } from '../src/commands/trigger-checks.js';

const SID = `AC${'a'.repeat(32)}`;
const BASE = `/2010-04-01/Accounts/${SID}/Usage/Records`;
const rec = (category: string, usage: string, start = '2026-12-03') => ({ category, usage, count: '1', price: '0.5', start_date: start });

describe('usage of a trigger period from the Usage Records routes', () => {
  let server: Server;
  let url = '';
  const seen: string[] = [];
  /** path (with query) -> records; anything else answers 404 as Twilio does. */
  const routes = new Map<string, unknown[]>([
    [`${BASE}/Today.json?Category=sms`, [rec('sms', '7')]],
    [`${BASE}/Yearly.json?Category=sms`, [rec('sms', '40', '2026-01-01'), rec('sms', '900', '2025-01-01')]],
    [`${BASE}.json?Category=calls`, [rec('calls', '33')]],
    [`${BASE}/AllTime.json?Category=mms`, [rec('mms', '5')]],
  ]);

  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const body = routes.get(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (!body) {
        res.statusCode = 404;
        res.end(JSON.stringify({ code: 20404, message: 'The requested resource was not found', status: 404 }));
        return;
      }
      res.end(JSON.stringify({ usage_records: body, next_page_uri: null }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await closeDispatcher();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const client = () => new ApiClient({ baseUrl: url, credentials: { accountSid: SID, username: SID, password: 'x'.repeat(32) }, userAgent: 'test', timeoutMs: 5000 });

  it('daily reads Today.json', async () => {
    assert.deepEqual(await periodUsage(client(), { category: 'sms', value: '5', recurring: 'daily' }), { value: '7', words: 'today' });
    assert.equal(seen.at(-1), `GET ${BASE}/Today.json?Category=sms`);
  });

  it('yearly reads Yearly.json and takes the latest year', async () => {
    assert.deepEqual(await periodUsage(client(), { category: 'sms', value: '5', recurring: 'yearly' }), { value: '40', words: 'this year' });
  });

  it('monthly: ThisMonth.json answering 404 means no answer, and nothing else is asked', async () => {
    const n = seen.length;
    assert.equal(await periodUsage(client(), { category: 'sms', value: '5', recurring: 'monthly' }), undefined);
    assert.deepEqual(seen.slice(n), [`GET ${BASE}/ThisMonth.json?Category=sms`]);
  });

  it('once: AllTime.json, and when it is 404 the plain records list (all time)', async () => {
    assert.deepEqual(await periodUsage(client(), { category: 'mms', value: '5', triggerBy: 'usage' }), { value: '5', words: 'so far' });
    const n = seen.length;
    assert.deepEqual(await periodUsage(client(), { category: 'calls', value: '5', recurring: 'alltime' }), { value: '33', words: 'so far' });
    assert.deepEqual(seen.slice(n), [`GET ${BASE}/AllTime.json?Category=calls`, `GET ${BASE}.json?Category=calls`]);
  });

  it('trigger-by picks the field', async () => {
    assert.deepEqual(await periodUsage(client(), { category: 'sms', value: '5', recurring: 'daily', triggerBy: 'price' }), { value: '0.5', words: 'today' });
  });
});
