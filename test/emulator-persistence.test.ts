import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, chmod, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/server.js';
import { Persistence } from '../src/emulator/journal.js';
import { loadState } from '../src/emulator/state.js';
import { Store } from '../src/emulator/store.js';
import { assertExit, runCli } from './helpers.js';
import { call, startReceiver, triggersPath } from './emulator-helpers.js';
import { apiCall, crashRound, listSids, spawnEmulator, type Ledger } from './persistence-helpers.js';

const form = { CallbackUrl: 'https://example.com/hook', TriggerValue: '10', UsageCategory: 'sms' };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'utrig-persist-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('utrig emulator --state: acknowledged writes survive', () => {
  test('kill -9 during a stream of creates and deletes loses no acknowledged write (3 rounds)', async () => {
    const statePath = join(dir, 'crash.json');
    const ledger: Ledger = new Map();
    let em = await spawnEmulator(statePath);
    let acked = 0;
    try {
      for (let i = 0; i < 3; i++) {
        const { round, em: next } = await crashRound(em, statePath, ledger, 250 + i * 100);
        em = next;
        acked += round.creates + round.deletes;
        assert.equal(round.lost, 0, `round ${i + 1}: ${round.lost} acknowledged creates lost`);
        assert.equal(round.resurrected, 0, `round ${i + 1}: ${round.resurrected} acknowledged deletes came back`);
      }
      assert.ok(acked > 20, `only ${acked} writes were acknowledged: the stream did not run`);
    } finally {
      await em.kill9();
    }
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('crash.json.tmp-')), [], 'no orphan temporary files');
  });

  test('a failed write answers 500 and is logged at once; what was acknowledged survives', async () => {
    const statePath = join(dir, 'full.json');
    // a file size limit (EFBIG) stands in for a full disk; SIGXFSZ ignored so the write fails instead
    const em = await spawnEmulator(statePath, { shPrefix: "trap '' XFSZ; ulimit -f 40" });
    const path = triggersPath(em.accountSid);
    const acked: string[] = [];
    let failed: { status: number; json: any } | null = null;
    try {
      for (let i = 0; i < 400 && !failed; i++) {
        const r = await apiCall(em, 'POST', path, { ...form, FriendlyName: `trigger ${i}` });
        if (r.status === 201) acked.push(r.json.sid as string);
        else failed = r;
      }
      assert.ok(failed, 'every create was acknowledged although the journal could not grow');
      assert.equal(failed.status, 500);
      assert.match(failed.json.message, /cannot save a change to emulator state journal .*full\.json\.journal/);
      assert.match(em.output().stderr, /error: cannot save a change to emulator state journal .*full\.json\.journal: .*EFBIG/);
    } finally {
      await em.kill9();
    }
    const again = await spawnEmulator(statePath);
    try {
      const present = await listSids(again);
      assert.deepEqual(acked.filter((s) => !present.has(s)), [], 'acknowledged creates lost');
    } finally {
      await again.kill9();
    }
  });
});

describe('the journal', () => {
  test('concurrent writes share one write and fsync (group commit)', async () => {
    const statePath = join(dir, 'group.json');
    const em = await startEmulator({ statePath });
    try {
      const all = await Promise.all(Array.from({ length: 40 }, () => call(em, 'POST', triggersPath(em.accountSid), { form })));
      assert.deepEqual(new Set(all.map((r) => r.status)), new Set([201]));
      const lines = (await readFile(`${statePath}.journal`, 'utf8')).split('\n').filter(Boolean);
      assert.ok(lines.length >= 1 && lines.length < 40, `${lines.length} journal batches for 40 concurrent creates`);
    } finally {
      await em.close();
    }
  });

  test('compaction folds the journal into the snapshot; later batches replay on top', async () => {
    const statePath = join(dir, 'compact.json');
    const store = new Store();
    const p = await Persistence.open(statePath, { compactMinBytes: 2048 });
    store.onChange = (c) => p.mark(c);
    store.addAccount({ sid: `AC${'1'.repeat(32)}`, friendly_name: 'a', auth_token: 'token-1234', owner_account_sid: `AC${'1'.repeat(32)}`, type: 'Full' });
    await p.start(store);
    const sids: string[] = [];
    for (let i = 0; i < 30; i++) {
      sids.push(store.createTrigger(`AC${'1'.repeat(32)}`, { ...form, FriendlyName: `t${i}` }).sid);
      await p.commit();
    }
    store.deleteTrigger(`AC${'1'.repeat(32)}`, sids[0] as string);
    await p.flush();
    const journal = await readFile(`${statePath}.journal`, 'utf8');
    const snapshot = JSON.parse(await readFile(statePath, 'utf8'));
    assert.ok(journal.length < 2048 + 1024, `journal of ${journal.length} bytes was never compacted`);
    assert.ok(snapshot.seq > 0 && snapshot.triggers.length > 1, 'the snapshot holds folded batches');
    // replaying with the lock released: what a restart would see
    await p.abandon();
    const loaded = await loadState(statePath);
    assert.deepEqual(loaded?.triggers.map((t) => t.sid).sort(), sids.slice(1).sort());
  });
});

describe('state files are never followed, replaced or trusted blindly', () => {
  test('a symlink planted at the old temporary name is not written through', async () => {
    const statePath = join(dir, 'planted.json');
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'keep me');
    await symlink(victim, `${statePath}.tmp-${process.pid}`);
    const em = await startEmulator({ statePath });
    await call(em, 'POST', triggersPath(em.accountSid), { form });
    await em.close();
    assert.equal(await readFile(victim, 'utf8'), 'keep me');
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('planted.json.tmp-')), []);
  });

  test('a symlinked or read-only state file is an error, and stays as it was', async () => {
    const real = join(dir, 'real.json');
    const em = await startEmulator({ statePath: real });
    await em.close();
    const link = join(dir, 'link.json');
    await symlink(real, link);
    await assert.rejects(startEmulator({ statePath: link }), /link\.json is a symbolic link/);
    const ro = join(dir, 'ro.json');
    await writeFile(ro, await readFile(real, 'utf8'));
    await chmod(ro, 0o400);
    await assert.rejects(startEmulator({ statePath: ro }), /ro\.json is read-only/);
    assert.equal(await readFile(ro, 'utf8'), await readFile(real, 'utf8'));
  });

  test('a null trigger or trigger_value "abc" is refused with the item named, and nothing fires', async () => {
    const receiver = await startReceiver();
    try {
      const statePath = join(dir, 'items.json');
      const em = await startEmulator({ statePath });
      await call(em, 'POST', triggersPath(em.accountSid), { form: { ...form, CallbackUrl: receiver.url } });
      await em.close();
      // the snapshot with the journal replayed, as one file
      const good = JSON.parse(JSON.stringify(await loadState(statePath)));
      await rm(`${statePath}.journal`);
      await writeFile(statePath, JSON.stringify({ ...good, triggers: [null] }));
      await assert.rejects(startEmulator({ statePath }), /items\.json is corrupt: triggers\[0\]: it is null/);
      await writeFile(statePath, JSON.stringify({ ...good, triggers: [{ ...good.triggers[0], trigger_value: 'abc' }] }));
      await assert.rejects(startEmulator({ statePath }), /triggers\[0\]: trigger_value is "abc", expected a positive integer/);
      assert.equal(receiver.received.length, 0, 'a refused state fired a callback');
    } finally {
      await receiver.close();
    }
  });

  test('a torn final journal line is skipped; a bad line before others is refused', async () => {
    const statePath = join(dir, 'torn.json');
    const em = await startEmulator({ statePath });
    const sid = (await call(em, 'POST', triggersPath(em.accountSid), { form })).json.sid as string;
    await em.close();
    await appendFile(`${statePath}.journal`, '{"s":99,"c":[["td","' + sid);
    const em2 = await startEmulator({ statePath });
    assert.equal((await call(em2, 'GET', `${triggersPath(em2.accountSid).replace('.json', '')}/${sid}.json`)).status, 200);
    await em2.close();
    await writeFile(`${statePath}.journal`, `{"s":99,"c":[["td"\n{"s":100,"c":[]}\n`);
    await assert.rejects(startEmulator({ statePath }), /torn\.json\.journal line 1/);
  });
});

describe('utrig emulator start-up failures have their exit codes', () => {
  test('a port in use exits 2 with a hint; a corrupt state file exits 3 with a hint', async () => {
    const em = await startEmulator({ port: 0 });
    try {
      const port = new URL(em.url).port;
      const r = await runCli(['emulator', '--port', port], { timeoutMs: 15_000 });
      assertExit(r, 2);
      assert.match(r.stderr, /^error: port \d+ on 127\.0\.0\.1 is already in use\n.*--port 0/m);
    } finally {
      await em.close();
    }
    const bad = join(dir, 'corrupt.json');
    await writeFile(bad, '{"version":1,');
    const r = await runCli(['emulator', '--port', '0', '--state', bad], { timeoutMs: 15_000 });
    assertExit(r, 3);
    assert.match(r.stderr, /^error: emulator state file .*corrupt\.json is corrupt: .*\nmv .*corrupt\.json .*corrupt\.json\.bad/m);
    assert.doesNotMatch(r.stderr, /unexpected failure/);
  });
});

describe('--local: the embedded emulator', () => {
  const hook = 'http://127.0.0.1:9/hook';

  test('two concurrent --local writers keep every trigger (2 x 6)', async () => {
    const env = { UTRIG_CONFIG_DIR: join(dir, 'local-concurrent') };
    const writer = async () => {
      for (let i = 0; i < 6; i++) {
        const r = await runCli(['--local', 'create', '--category', 'sms', '--value', '5', '--callback-url', hook, '--json'], { env, timeoutMs: 60_000 });
        assertExit(r, 0);
      }
    };
    await Promise.all([writer(), writer()]);
    const l = await runCli(['--local', 'list', '--output', 'ndjson'], { env });
    assertExit(l, 0);
    assert.equal(l.stdout.trim().split('\n').length, 12);
  });

  test('a failed state write is an error with its exit code, not "Created"', async () => {
    const configDir = join(dir, 'local-full');
    const env = { UTRIG_CONFIG_DIR: configDir };
    assertExit(await runCli(['--local', 'list'], { env }), 0);
    // the start snapshot fits in 2 KiB (4 KiB where sh counts ulimit -f in KiB); a trigger with a 6,000-character URL does not
    const long = `https://example.com/${'x'.repeat(6000)}`;
    const { runProcess, BIN } = await import('./helpers.js');
    const r = await runProcess(
      'sh',
      ['-c', `trap '' XFSZ; ulimit -f 4; exec "$0" "$@"`, process.execPath, BIN, '--local', 'create', '--category', 'sms', '--value', '5', '--callback-url', long],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env } },
    );
    assertExit(r, 1);
    assert.doesNotMatch(r.stderr, /Created/);
    assert.match(r.stderr, /cannot save a change to emulator state journal/);
    const l = await runCli(['--local', 'list', '--output', 'ndjson'], { env });
    assert.equal(l.stdout, '', 'the failed create is not in the state');
  });

  test('`utrig --local emulator deliveries` shows callbacks that earlier --local commands delivered', async () => {
    const receiver = await startReceiver();
    try {
      const env = { UTRIG_CONFIG_DIR: join(dir, 'local-deliveries') };
      assertExit(await runCli(['--local', 'create', '--category', 'sms', '--value', '10', '--callback-url', receiver.url], { env }), 0);
      assertExit(await runCli(['--local', 'emulator', 'usage', '--category', 'sms', '--usage', '12'], { env }), 0);
      assert.equal(receiver.received.length, 1);
      const d = await runCli(['--local', 'emulator', 'deliveries', '--json'], { env });
      assertExit(d, 0);
      const rows = JSON.parse(d.stdout) as { url: string; status: number }[];
      assert.equal(rows.length, 1, d.stdout);
      assert.equal(rows[0]?.url, receiver.url);
      assert.equal(rows[0]?.status, 200);
    } finally {
      await receiver.close();
    }
  });
});
