// Start-up (issue 10), behaviour only (speed is measured by bench/startup.mjs): the launcher answers --version
// without the bundle, output survives the early exit on a slow pipe, and the build keeps undici slim.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkUndiciNames, undiciNamesIn, UNDICI_SLIM_NAMES } from '../src/build.js';
import { assertExit, BIN, harness, ROOT, runCli, runProcess, tempConfigDir } from './helpers.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('launcher', () => {
  it('answers a bare --version and -V from the version the build wrote, without loading the bundle', async () => {
    for (const flag of ['--version', '-V']) {
      const res = await runCli([flag]);
      assertExit(res, 0);
      assert.equal(res.stdout, `${VERSION}\n`);
      assert.equal(res.stderr, '');
    }
    // a copy of the launcher beside a dist/bundle that holds only the version: --version still answers
    const dir = mkdtempSync(join(tmpdir(), 'utrig-launcher-'));
    try {
      mkdirSync(join(dir, 'bin'));
      mkdirSync(join(dir, 'dist', 'bundle'), { recursive: true });
      cpSync(BIN, join(dir, 'bin', 'utrig'));
      cpSync(join(ROOT, 'bin', 'package.json'), join(dir, 'bin', 'package.json'));
      writeFileSync(join(dir, 'dist', 'bundle', 'version'), '9.8.7');
      const env = { PATH: process.env.PATH };
      const v = await runProcess(process.execPath, [join(dir, 'bin', 'utrig'), '--version'], { env });
      assertExit(v, 0);
      assert.equal(v.stdout, '9.8.7\n');
      // anything else needs the bundle, and says how to get it
      const help = await runProcess(process.execPath, [join(dir, 'bin', 'utrig'), '--version', '--help'], { env });
      assertExit(help, 1);
      assert.equal(help.stdout, '');
      assert.match(help.stderr, /^error: utrig is not built \(dist\/bundle is missing\)\nrun `npm run build`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--version with other words still goes through commander', async () => {
    const res = await runCli(['--no-color', '--version']);
    assertExit(res, 0);
    assert.equal(res.stdout, `${VERSION}\n`);
  });
});

describe('code cache', () => {
  it('is written on the first run, used as it is afterwards, and a damaged one only costs speed', async () => {
    const h = await harness();
    const cache = mkdtempSync(join(tmpdir(), 'utrig-cache-'));
    try {
      const sid = (await h.create({ UsageCategory: 'sms', TriggerValue: '10', CallbackUrl: 'https://example.com/hook' })).sid as string;
      const get = (env: Record<string, string> = {}) => h.run(['get', sid, '--json'], { env: { XDG_CACHE_HOME: cache, ...env } });
      const first = await get();
      assertExit(first, 0);
      const files = () => {
        const dirs = readdirSync(join(cache, 'utrig')).map((d) => join(cache, 'utrig', d));
        return dirs.flatMap((d) => readdirSync(d).map((f) => join(d, f)));
      };
      const written = files();
      // Node 22.1+ keeps its own compile cache there instead; Node 20 gets one file per bundle file it loaded
      assert.ok(written.length > 3, `cache files: ${written.join(', ')}`);
      const stamps = () => new Map(files().map((f) => [f, statSync(f).mtimeMs]));
      const before = stamps();
      const second = await get();
      assertExit(second, 0);
      assert.equal(second.stdout, first.stdout);
      // a cache V8 refused would be written again on every run
      assert.deepEqual(stamps(), before, 'the second run rewrote cache files: V8 refused them');
      for (const f of files()) writeFileSync(f, 'not a code cache');
      const damaged = await get();
      assertExit(damaged, 0);
      assert.equal(damaged.stdout, first.stdout);
      rmSync(join(cache, 'utrig'), { recursive: true });
      const plain = await get({ UTRIG_NO_CODE_CACHE: '1' });
      assertExit(plain, 0);
      assert.equal(plain.stdout, first.stdout);
      assert.ok(!existsSync(join(cache, 'utrig')), 'UTRIG_NO_CODE_CACHE=1 still wrote a cache');
    } finally {
      await h.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('hot pack', () => {
  it('holds cli.js and the bundle files it imports statically, each exactly as the file is', async () => {
    const bundle = join(ROOT, 'dist', 'bundle');
    const { Script } = await import('node:vm');
    const hot = new Script(readFileSync(join(bundle, 'hot.js'), 'utf8')).runInThisContext() as Record<string, (...a: unknown[]) => unknown>;
    const keys = Object.keys(hot);
    assert.ok(keys.includes('cli.js') && keys.length > 3, `hot.js holds ${keys.join(', ')}`);
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { outputs: Record<string, { imports: { path: string; kind: string }[] }> };
    for (const i of meta.outputs['dist/bundle/cli.js']!.imports) {
      if (i.kind === 'import-statement' && meta.outputs[i.path]) assert.ok(keys.includes(i.path.slice('dist/bundle/'.length)), `hot.js lacks ${i.path}`);
    }
    for (const k of keys) {
      const text = hot[k]!.toString();
      const body = text.slice(text.indexOf('{') + 1, -2);
      assert.equal(body, readFileSync(join(bundle, k), 'utf8'), `hot.js's ${k} differs from the file`);
    }
  });
});

describe('early exit', () => {
  const ACCOUNT = 'AC' + 'a'.repeat(32);
  const ROWS = 6000;
  let server: Server;
  let url = '';
  before(async () => {
    // pages of 1,000 triggers, 6,000 in all (~3.5 MB of ndjson): more than a pipe and the reader's buffers hold
    server = createServer((req, res) => {
      const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('Page') ?? 0);
      const rows = [];
      for (let i = page * 1000; i < Math.min(ROWS, (page + 1) * 1000); i++) {
        const sid = 'UT' + i.toString(16).padStart(32, '0');
        rows.push({ sid, account_sid: ACCOUNT, usage_category: 'sms', trigger_value: String(i), friendly_name: 'x'.repeat(400), callback_url: 'https://example.com/hook' });
      }
      const next = (page + 1) * 1000 < ROWS ? `/2010-04-01/Accounts/${ACCOUNT}/Usage/Triggers.json?PageSize=1000&Page=${page + 1}` : null;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ usage_triggers: rows, next_page_uri: next, page, page_size: 1000 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('writes all of its output to a pipe that is read slowly, then exits', async () => {
    // nobody reads the pipe for a while, then reads it in small sips: the process must not exit before it drains
    const child = spawn(process.execPath, [BIN, 'list', '--output', 'ndjson'], {
      env: { PATH: process.env.PATH, NO_COLOR: '1', UTRIG_API_URL: url, TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: 'b'.repeat(32), UTRIG_CONFIG_DIR: tempConfigDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.pause();
    const timer = setTimeout(() => {
      child.stdout.on('readable', () => {
        let c: Buffer | null;
        while ((c = child.stdout.read(4096) as Buffer | null) !== null) chunks.push(c);
      });
    }, 1500);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearTimeout(timer);
    assert.equal(code, 0, stderr);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    assert.equal(lines.pop(), '', 'the output does not end with a line break');
    assert.equal(lines.length, ROWS, 'lines were lost');
    assert.equal((JSON.parse(lines[ROWS - 1]!) as { trigger_value: string }).trigger_value, String(ROWS - 1));
  });
});

describe('slim undici', () => {
  it('reads the undici names a source asks for, statically or through import()', () => {
    assert.deepEqual(undiciNamesIn(`import type { Dispatcher } from 'undici';\nimport { Agent, request as r, type Pool } from 'undici';`), ['Agent', 'request']);
    assert.deepEqual(undiciNamesIn(`const load = () => import('undici');\nasync function f() { const { fetch } = await load(); const { WebSocket: W } = await import('undici'); }`), ['fetch', 'WebSocket']);
    assert.deepEqual(undiciNamesIn(`const x = (await import("undici")).Headers;`), ['Headers']);
    assert.equal(undiciNamesIn(`import * as u from 'undici';`).length, 1);
    assert.equal(undiciNamesIn(`import u from 'undici';`).length, 1);
    assert.deepEqual(undiciNamesIn(`import { fetch } from 'node:somewhere';`), []);
  });

  it('every undici name src/ uses is in the slim entry', () => {
    assert.deepEqual(checkUndiciNames(join(ROOT, 'src')), []);
    assert.ok(UNDICI_SLIM_NAMES.includes('request'));
  });

  it("the bundle keeps undici's cold code out: llhttp as .wasm files beside it, no fetch body code, no HTTP/2 client", () => {
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((i) => /undici\/lib\/dispatcher\/client-h1\.js$/.test(i)), 'the metafile has no undici client: the check below proves nothing');
    assert.deepEqual(inputs.filter((i) => /undici\/lib\/(web\/|dispatcher\/client-h2\.js)/.test(i)), []);
    // each llhttp module reads its binary; the binary is the one undici ships (the module decoded at build time)
    const undiciLlhttp = join(ROOT, 'node_modules', 'undici', 'lib', 'llhttp');
    for (const name of ['llhttp', 'llhttp_simd']) {
      const shipped = /Buffer\.from\('([^']+)', 'base64'\)/.exec(readFileSync(join(undiciLlhttp, `${name}-wasm.js`), 'utf8'))![1]!;
      assert.deepEqual(readFileSync(join(ROOT, 'dist', 'bundle', `${name}.wasm`)), Buffer.from(shipped, 'base64'));
    }
    const chunks = readdirSync(join(ROOT, 'dist', 'bundle', 'chunks')).filter((f) => f.endsWith('.js'));
    const withBase64 = chunks.filter((f) => readFileSync(join(ROOT, 'dist', 'bundle', 'chunks', f), 'latin1').includes('AGFzbQEAAAAB'));
    assert.deepEqual(withBase64, [], 'a chunk still carries a WebAssembly binary as base64');
  });

  it('the build refuses a source that asks undici for a name outside the slim entry, naming the file and the name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'utrig-build-'));
    try {
      cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      writeFileSync(join(dir, 'src', 'api', 'extra.ts'), `export async function get(u: string) {\n  const { fetch } = await import('undici');\n  return fetch(u);\n}\n`);
      const res = await runProcess(process.execPath, [join(ROOT, 'dist', 'src', 'build.js'), '--root', dir], { env: { PATH: process.env.PATH }, timeoutMs: 60_000 });
      assertExit(res, 1);
      assert.match(res.stderr, /^build refused:\n {2}src\/api\/extra\.ts asks undici for fetch, which the bundle's slim undici entry does not export/);
      assert.ok(!existsSync(join(dir, 'dist', 'bundle')), 'a refused build wrote a bundle');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
