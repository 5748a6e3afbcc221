import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertExit, harness, runCli, tempConfigDir, type Harness } from './helpers.js';

// Using a stored profile reads config.json with a plain JSON read (src/config/store.ts readStoredProfiles);
// login, logout and profiles write it through conf. These check that the two agree on the file.
const URL_OK = 'https://example.com/hook';

describe('stored profiles: read without conf, written with conf', () => {
  let h: Harness;
  let sid: string;
  before(async () => {
    h = await harness();
    sid = (await h.create({ UsageCategory: 'sms', TriggerValue: '5', CallbackUrl: URL_OK })).sid as string;
  });
  after(() => h.close());

  it('a profile written by `utrig login` is read back by `get` (auth token and API key profiles, --profile and the active one)', async () => {
    const dir = tempConfigDir();
    const env = { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir };
    const secrets = [h.emu.authToken, h.emu.apiKeySecret];
    assertExit(await runCli(['login', '--account-sid', h.emu.accountSid, '--auth-token-stdin'], { env, input: h.emu.authToken, secrets }), 0);
    const login = await runCli(['login', '--profile', 'ci', '--account-sid', h.emu.accountSid, '--api-key', h.emu.apiKeySid, '--api-secret-stdin'], {
      env,
      input: h.emu.apiKeySecret,
      secrets,
    });
    assertExit(login, 0);
    for (const args of [['get', sid, '--json'], ['get', sid, '--json', '--profile', 'ci'], ['get', sid, '--json', '--profile', 'default']]) {
      const res = await runCli(args, { env, secrets });
      assertExit(res, 0);
      assert.equal(JSON.parse(res.stdout).sid, sid);
    }
    // UTRIG_PROFILE picks a profile as --profile does; an unknown one names the known ones
    const viaEnv = await runCli(['get', sid, '--json'], { env: { ...env, UTRIG_PROFILE: 'ci' }, secrets });
    assertExit(viaEnv, 0);
    const unknown = await runCli(['get', sid, '--json', '--profile', 'nope'], { env, secrets });
    assertExit(unknown, 3);
    assert.match(unknown.stderr, /error: no profile named "nope"\n[^]*known profiles: default, ci, and local/);
    // flags > env > profile: TWILIO_* variables beat the active profile (wrong ones fail), --profile beats them
    const wrongEnv = { ...env, TWILIO_ACCOUNT_SID: h.emu.accountSid, TWILIO_AUTH_TOKEN: 'f'.repeat(32) };
    assertExit(await runCli(['get', sid, '--json'], { env: wrongEnv, secrets }), 3);
    assertExit(await runCli(['get', sid, '--json', '--profile', 'default'], { env: wrongEnv, secrets }), 0);
    // after `profiles use` (a conf write), the plain read sees the new active profile
    assertExit(await runCli(['profiles', 'use', 'ci'], { env, secrets }), 0);
    const signing = await runCli(['get', sid, '--json', '--verbose'], { env, secrets });
    assertExit(signing, 0);
    assert.match(signing.stderr, new RegExp(`> GET .*/Accounts/${h.emu.accountSid}/`));
    // after logout of every profile, `get` has no credentials
    assertExit(await runCli(['logout', '--profile', 'ci'], { env, secrets }), 0);
    assertExit(await runCli(['logout', '--profile', 'default'], { env, secrets }), 0);
    const none = await runCli(['get', sid, '--json'], { env, secrets });
    assertExit(none, 3);
    assert.match(none.stderr, /error: no credentials/);
  });

  it('an unreadable config is the same exit-3 error whether conf (profiles list) or the plain read (get) meets it', async () => {
    const cases: [string, (dir: string) => void][] = [
      ['truncated JSON', (d) => writeFileSync(join(d, 'config.json'), '{"profiles": {"default": ')],
      ['not JSON at all', (d) => writeFileSync(join(d, 'config.json'), 'profiles = default\n')],
      ['a directory where the file goes', (d) => mkdirSync(join(d, 'config.json'))],
    ];
    for (const [what, make] of cases) {
      const dir = tempConfigDir();
      make(dir);
      const env = { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir };
      const viaConf = await runCli(['profiles', 'list'], { env });
      const viaRead = await runCli(['get', sid, '--json'], { env });
      assertExit(viaConf, 3);
      assertExit(viaRead, 3);
      assert.match(viaRead.stderr, new RegExp(`^error: cannot read the config in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), what);
      assert.equal(viaRead.stderr, viaConf.stderr, what);
      assert.equal(viaRead.stdout, '', what);
    }
    const dir = tempConfigDir();
    writeFileSync(join(dir, 'config.json'), '{"profiles": {"default": ');
    await runCli(['get', sid, '--json'], { env: { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir } });
    assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"profiles": {"default": ', 'a read never resets the file');
  });

  it('a config that is JSON but holds no profiles is "no credentials", as with conf', async () => {
    for (const text of ['[]', 'null', '"default"', '{"profiles": null}', '{"activeProfile": "x"}']) {
      const dir = tempConfigDir();
      writeFileSync(join(dir, 'config.json'), text);
      const res = await runCli(['get', sid, '--json'], { env: { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir } });
      assertExit(res, 3);
      assert.match(res.stderr, text.includes('"x"') ? /error: no profile named "x"/ : /error: no credentials/, text);
    }
  });
});
