import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertExit, harness, type Harness } from './helpers.js';

// A Standard API key may not read /Accounts.json (Twilio's rule, and the emulator's): a fleet command that
// must list subaccounts says so and what would work, instead of a bare 401.
describe('fleet selection with API-key credentials', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ subaccounts: 3 });
  });
  after(() => h.close());

  it('--all-subaccounts with an API key: exit 3 naming the limit and the flags that work', async () => {
    const env = { TWILIO_AUTH_TOKEN: undefined, TWILIO_API_KEY: h.emu.apiKeySid, TWILIO_API_SECRET: h.emu.apiKeySecret };
    const res = await h.run(['list', '--all-subaccounts', '--json'], { env });
    assertExit(res, 3);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /listing subaccounts with an API key/);
    assert.match(res.stderr, /--accounts or --accounts-file, or use a Main key or the auth token/);
  });

  it('--accounts with an API key lists without reading /Accounts.json', async () => {
    const env = { TWILIO_AUTH_TOKEN: undefined, TWILIO_API_KEY: h.emu.apiKeySid, TWILIO_API_SECRET: h.emu.apiKeySecret };
    const res = await h.run(['list', '--accounts', h.emu.accountSid, '--json'], { env });
    assertExit(res, 0);
    assert.deepEqual(JSON.parse(res.stdout), []);
  });
});
