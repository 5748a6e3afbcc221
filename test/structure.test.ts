import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { Metafile } from 'esbuild';
import { startupOutputs } from '../src/build.js';
import { assertExit, harness, ROOT, runCli, runProcess, tempConfigDir } from './helpers.js';

const SRC = join(ROOT, 'src');
const DIST_SRC = join(ROOT, 'dist', 'src');

/** Every .ts file under src/, as paths relative to src/ ("commands/create.ts"). */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const abs = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(abs);
    return e.name.endsWith('.ts') ? [relative(SRC, abs)] : [];
  });
}

/**
 * The modules each source file loads at run time: static imports, re-exports and dynamic import() with a
 * relative specifier, read from the compiled JavaScript (type-only imports are gone there, as at run time).
 */
function importGraph(): Map<string, string[]> {
  const files = sourceFiles();
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const js = join(DIST_SRC, f.replace(/\.ts$/, '.js'));
    assert.ok(existsSync(js), `${js} is missing: build first (npm run build)`);
    const text = readFileSync(js, 'utf8');
    const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
    const deps = specs
      .map((s) => relative(SRC, resolve(dirname(join(SRC, f)), s)).replace(/\.js$/, '.ts'))
      .filter((d) => known.has(d));
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/** One import circle in the graph (as a path that starts and ends at the same file), or undefined. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | undefined => {
    if (state.get(f) === 'done') return undefined;
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(f, 'done');
    return undefined;
  };
  for (const f of [...graph.keys()].sort()) {
    const c = visit(f);
    if (c) return c;
  }
  return undefined;
}

describe('source layout', () => {
  it('finds a circle when there is one (self-check of the walker)', () => {
    const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', []]]);
    assert.deepEqual(findCycle(g), ['a.ts', 'b.ts', 'c.ts', 'a.ts']);
    assert.equal(findCycle(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), undefined);
  });

  it('no import circle under src/, counting dynamic import()', () => {
    const graph = importGraph();
    assert.ok(graph.size > 20 && (graph.get('cli.ts')?.length ?? 0) > 0, 'the walker found no imports: its pattern is broken');
    const cycle = findCycle(graph);
    assert.equal(cycle, undefined, `import circle: ${cycle?.join(' -> ')}`);
  });

  it('src/cli.ts declares no command itself, and registers every command module', () => {
    const cli = readFileSync(join(SRC, 'cli.ts'), 'utf8');
    assert.ok(!/\.command\(/.test(cli), 'src/cli.ts declares a command: declare it in its module under src/commands/');
    const declared = sourceFiles()
      .filter((f) => f.startsWith('commands/') || f.startsWith('completion/'))
      .flatMap((f) => [...readFileSync(join(SRC, f), 'utf8').matchAll(/^export function (declare\w+)\(/gm)].map((m) => m[1]!));
    assert.ok(declared.length >= 12, `only ${declared.join(', ')} found`);
    for (const d of declared) assert.ok(cli.includes(`.${d}`), `${d} is not in the list of commands in src/cli.ts`);
  });

  it('declaring every command loads none of undici, inquirer, cli-table3, conf or the emulator', async () => {
    // A resolve hook (run in the loader thread) prints every module resolved; the program then declares every command.
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; }`;
    const code = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
const { buildProgram } = await import(${JSON.stringify(join(DIST_SRC, 'cli.js'))});
const program = await buildProgram({ io: {}, env: {} });
process.stdout.write(program.commands.map((c) => c.name()).join(' '));`;
    const res = await runProcess(process.execPath, ['--input-type=module', '-e', code], { env: { PATH: process.env.PATH ?? '' } });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stdout.split(' ').length >= 12 && res.stdout.includes('create'), `commands declared: ${res.stdout}`);
    const loaded = res.stderr.split('\n').filter((l) => l.startsWith('LOADED '));
    assert.ok(loaded.some((l) => l.includes('/commands/create.js')), 'the hook saw no module: it is broken');
    const heavy = loaded.filter((l) => /node_modules\/(undici|@inquirer|cli-table3|conf)\/|\/dist\/src\/emulator\//.test(l));
    assert.deepEqual(heavy, [], 'declaring the commands loaded modules that only an action should load');
  });

  it('loads the command the line names, skipping the values of global flags', async () => {
    const env = { UTRIG_CONFIG_DIR: tempConfigDir() };
    // "create" here is the value of --profile: categories must still run (it needs no credentials)
    const named = await runCli(['--profile', 'create', '-o', 'json', 'categories', 'sms-outbound-longcode'], { env });
    assertExit(named, 0);
    assert.deepEqual(JSON.parse(named.stdout), [{ category: 'sms-outbound-longcode', group: 'SMS' }]);
    const help = await runCli(['help', 'rm'], { env });
    assertExit(help, 0);
    assert.match(help.stdout, /^Usage: utrig delete\|rm \[options\] \[sids\.\.\.\]/);
    const rootHelp = await runCli(['-h', 'create'], { env });
    assertExit(rootHelp, 0);
    assert.match(rootHelp.stdout, /^Usage: utrig \[options\] \[command\][^]*\n  listen \[options\]/);
    const typo = await runCli(['--json', 'creat'], { env });
    assertExit(typo, 2);
    assert.match(typo.stderr, /unknown command 'creat'\n\(Did you mean create\?\)/);
  });

  it('the bundle holds every module src/cli.ts reaches, and its start-up path none of the cold ones', () => {
    // dist/bundle/meta.json is esbuild's metafile: its inputs, and each output's inputs and imports
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as Metafile;
    const graph = importGraph();
    const reached = new Set<string>();
    const walk = (f: string) => {
      if (reached.has(f)) return;
      reached.add(f);
      for (const d of graph.get(f) ?? []) walk(d);
    };
    walk('cli.ts');
    assert.ok(reached.has('commands/create.ts') && reached.has('emulator/server.ts'), 'the walk from cli.ts found too little');
    const bundled = new Set(Object.keys(meta.inputs).filter((i) => i.startsWith('src/')).map((i) => i.slice(4)));
    assert.deepEqual([...reached].filter((f) => !bundled.has(f)), [], 'modules src/cli.ts reaches that the bundle lacks');
    // what loads before any command runs: the entry and the chunks it imports statically
    const startup = startupOutputs(meta);
    assert.ok(startup.size > 1, 'the walk of the bundle found no chunk');
    const cold = [...startup].flatMap((o) => Object.keys(meta.outputs[o]!.inputs)).filter((i) =>
      /node_modules\/(undici|@inquirer|cli-table3|conf|chalk)\/|^src\/emulator\/|^src\/commands\/(wizard|listen|fire|emulator)\.ts|^src\/completion\//.test(i),
    );
    assert.deepEqual(cold, [], 'the start-up path of the bundle holds modules only some commands need');
  });

  it('get with credentials from a stored profile loads no chunk holding conf or ajv; the profiles command does', async () => {
    // Which of the bundle's files a run loads: the launcher's plain require() (UTRIG_NO_CODE_CACHE=1), listed at exit
    // by a preloaded hook; each file's inputs come from dist/bundle/meta.json.
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const h = await harness();
    try {
      const sid = (await h.create({ UsageCategory: 'sms', TriggerValue: '5', CallbackUrl: 'https://example.com/hook' })).sid as string;
      const dir = tempConfigDir();
      const profile = { accountSid: h.emu.accountSid, authToken: h.emu.authToken };
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ profiles: { default: profile }, activeProfile: 'default' }, undefined, '\t'), { mode: 0o600 });
      const hook = join(dir, 'hook.cjs');
      const list = join(dir, 'loaded.txt');
      writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, Object.keys(require.cache).join('\\n')));\n`);
      const inputsOf = async (args: string[]): Promise<string[]> => {
        const env = { UTRIG_API_URL: h.emu.url, UTRIG_CONFIG_DIR: dir, UTRIG_NO_CODE_CACHE: '1', NODE_OPTIONS: `--require ${hook}` };
        const res = await runCli(args, { env, secrets: [h.emu.authToken] });
        assertExit(res, 0);
        const files = readFileSync(list, 'utf8').split('\n').map((f) => relative(ROOT, f).split('\\').join('/'));
        const loaded = files.filter((f) => meta.outputs[f]);
        assert.ok(loaded.length > 1, `the hook saw ${loaded.length} file(s) of the bundle: it is broken`);
        return loaded.flatMap((f) => Object.keys(meta.outputs[f]!.inputs));
      };
      const heavy = (inputs: string[]) => inputs.filter((i) => /node_modules\/(conf|ajv|ajv-formats|atomically)\//.test(i));
      const get = await inputsOf(['get', sid, '--json']);
      assert.ok(get.includes('src/commands/get.ts') && get.includes('src/config/store.ts'), 'get loaded neither its command nor the config reader');
      assert.deepEqual(heavy(get), [], 'get with a stored profile loaded conf or ajv: read the profile with readStoredProfiles');
      // the check can fail: a command that writes the config loads them
      assert.ok(heavy(await inputsOf(['profiles', 'use', 'default'])).length > 0, 'profiles use did not load conf: the check sees nothing');
    } finally {
      await h.close();
    }
  });
});
