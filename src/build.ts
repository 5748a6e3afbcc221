// Builds what users run: bin/utrig loads dist/bundle/cli.js, a bundle of the start-up path with every module
// that src/ reaches through import() (each command, the wizard, the emulator, listen/fire, conf, cli-table3,
// inquirer, completion) split into chunks that load only when reached. esbuild finds those import() calls
// itself, so a new command or module needs no edit here. Run by `npm run build`, `prepare` and `npm test`.
//   node dist/src/build.js [--root DIR]
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build, transform, type Metafile, type Plugin } from 'esbuild';

/**
 * What src/ may ask undici for: the slim entry exports these and nothing else. undici's own index loads
 * fetch, WebSocket, caches, cookies, mocks and EventSource (95 files); the CLI needs a dispatcher and request().
 */
export const UNDICI_SLIM_NAMES = ['Agent', 'Dispatcher', 'request', 'errors'] as const;

/** The slim entry that replaces `undici` in the bundle (undici's dispatcher and request API, its own files). */
function undiciSlimSource(undiciDir: string): string {
  const lib = (p: string) => JSON.stringify(join(undiciDir, 'lib', p));
  // request(url, opts) as undici's index wires it: a URL and options onto a dispatcher (opts.dispatcher or the global one)
  return `import Dispatcher from ${lib('dispatcher/dispatcher.js')};
import Agent from ${lib('dispatcher/agent.js')};
import apiRequest from ${lib('api/api-request.js')};
import errors from ${lib('core/errors.js')};
import util from ${lib('core/util.js')};
import globals from ${lib('global.js')};
Dispatcher.prototype.request = apiRequest;
function request(url, opts) {
  if (!url || (typeof url !== 'string' && typeof url !== 'object')) throw new errors.InvalidArgumentError('invalid url');
  if (opts != null && typeof opts !== 'object') throw new errors.InvalidArgumentError('invalid opts');
  if (opts && opts.path != null) throw new errors.InvalidArgumentError('opts.path is not supported by utrig\\'s slim undici');
  if (!opts) opts = typeof url === 'object' ? url : {};
  const u = util.parseURL(url);
  const { agent, dispatcher = globals.getGlobalDispatcher() } = opts;
  if (agent) throw new errors.InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  return apiRequest.call(dispatcher, { ...opts, origin: u.origin, path: u.search ? u.pathname + u.search : u.pathname, method: opts.method || (opts.body ? 'PUT' : 'GET') });
}
export { Agent, Dispatcher, errors, request };
`;
}

/** The names one source file asks undici for, static or through import() (directly or via a loader function). */
export function undiciNamesIn(text: string): string[] {
  const names: string[] = [];
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '' && !x.startsWith('type '))
      .map((x) => x.split(/\s+as\s+|\s*:\s*/)[0]!.trim());
  const q = `['"]undici['"]`;
  for (const m of text.matchAll(new RegExp(`\\bimport\\s+(?!type\\b)\\{([^}]*)\\}\\s*from\\s*${q}`, 'g'))) names.push(...list(m[1]!));
  for (const m of text.matchAll(new RegExp(`\\bexport\\s+(?!type\\b)\\{([^}]*)\\}\\s*from\\s*${q}`, 'g'))) names.push(...list(m[1]!));
  const whole = `\\bimport\\s+(?!type\\b)(?:[\\w$]+\\s*,?|\\*\\s*as\\s+[\\w$]+)[^;'"]*from\\s*${q}|\\bexport\\s+\\*[^;'"]*from\\s*${q}`;
  if (new RegExp(whole).test(text)) names.push("a default or * import (name what is used: import { request } from 'undici')");
  // import('undici') itself, and functions defined as () => import('undici')
  const loaders = [`import\\(\\s*${q}\\s*\\)`];
  for (const m of text.matchAll(new RegExp(`([\\w$]+)\\s*=\\s*(?:async\\s*)?\\(\\)\\s*=>\\s*import\\(\\s*${q}\\s*\\)`, 'g'))) loaders.push(`${m[1]}\\(\\s*\\)`);
  const call = `await\\s+(?:${loaders.join('|')})`;
  for (const m of text.matchAll(new RegExp(`\\{([\\w$\\s,:]*)\\}\\s*=\\s*${call}`, 'g'))) names.push(...list(m[1]!));
  for (const m of text.matchAll(new RegExp(`\\(\\s*${call}\\s*\\)\\s*\\.\\s*([\\w$]+)`, 'g'))) names.push(m[1]!);
  return [...new Set(names)];
}

/** Every source file's undici names that the slim entry lacks, as messages; empty when all are there. */
export function checkUndiciNames(srcDir: string): string[] {
  const problems: string[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of walk(srcDir)) {
    for (const name of undiciNamesIn(readFileSync(file, 'utf8'))) {
      if (!(UNDICI_SLIM_NAMES as readonly string[]).includes(name)) {
        problems.push(
          `${relative(dirname(srcDir), file)} asks undici for ${name}, which the bundle's slim undici entry does not export ` +
            `(it has ${UNDICI_SLIM_NAMES.join(', ')}): add it to UNDICI_SLIM_NAMES and undiciSlimSource in src/build.ts`,
        );
      }
    }
  }
  return problems;
}

/**
 * Start-up edits to dependencies' sources, as exact text replacements; the build fails if one no longer
 * matches (a dependency changed), so an edit is never silently lost.
 */
const PATCHES: { file: RegExp; why: string; edits: [string, string][] }[] = [
  {
    file: /[\\/]commander[\\/]lib[\\/]command\.js$/,
    why: 'commander loads child_process only to run an executable subcommand (utrig has none)',
    edits: [
      [
        "const childProcess = require('node:child_process');",
        "let childProcessModule; const childProcess = { spawn: (...a) => (childProcessModule ??= require('node:child_process')).spawn(...a) };",
      ],
    ],
  },
  {
    file: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    why: 'HTTP/2 only when a server negotiates it, which needs allowH2: utrig does not set it, so client-h2 (and fetch\'s body code it needs) stays out of the bundle; node:http only for a --max-http-header-size given to node',
    edits: [
      [
        "const connectH2 = require('./client-h2.js')",
        "const connectH2 = async () => { throw new InvalidArgumentError('HTTP/2 is not in utrig\\'s slim undici (allowH2 is never set)') }",
      ],
      [
        "const http = require('node:http')",
        // 16 KiB is node's default (http.maxHeaderSize reads --max-http-header-size); node:http costs ~4 ms to load
        "const http = { get maxHeaderSize () { return /max-http-header-size/.test(process.execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS || '')) ? require('node:http').maxHeaderSize : 16384 } }",
      ],
    ],
  },
  {
    file: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/,
    why: "fetch's body code (web/fetch: 60 KB of the hot chunk) only to send a FormData body, which utrig never sends",
    edits: [
      [
        "extractBody = require('../web/fetch/body.js').extractBody",
        "extractBody = () => { throw new InvalidArgumentError('FormData bodies are not in utrig\\'s slim undici') }",
      ],
    ],
  },
  {
    file: /[\\/]undici[\\/]lib[\\/]core[\\/]util\.js$/,
    why: "node:http only to recognise an http.IncomingMessage being destroyed (one exists only once node:http is loaded)",
    edits: [
      ["const { IncomingMessage } = require('node:http')", ''],
      ['Object.getPrototypeOf(stream).constructor === IncomingMessage', "Object.getPrototypeOf(stream).constructor === require('node:http').IncomingMessage"],
    ],
  },
];

/** node:assert as undici uses it (assert(value) only): the real module loads only when a check fails. */
const LAZY_ASSERT = `'use strict';
function assert(value, message) { if (!value) require('node:assert').ok(value, message); }
assert.ok = assert;
module.exports = assert;
`;

/**
 * undici's HTTP parser (llhttp WebAssembly, with SIMD and without) ships as two modules that each hold the binary
 * as a 64 KiB base64 string: in the bundle they made half of undici's chunk, read, deserialised and decoded on
 * every request. The build writes each binary beside the bundle instead, and the module reads it when undici
 * compiles it (the one without SIMD only if SIMD fails). Each module must still be exactly that one Buffer.from.
 */
const LLHTTP = /[\\/]undici[\\/]lib[\\/]llhttp[\\/](llhttp(?:_simd)?)-wasm\.js$/;
const LLHTTP_MODULES = ['llhttp', 'llhttp_simd'];
const LLHTTP_SOURCE = /^'use strict'\s*const \{ Buffer \} = require\('node:buffer'\)\s*module\.exports = Buffer\.from\('([A-Za-z0-9+/=]+)', 'base64'\)\s*$/;

/** esbuild plugins: undici becomes the slim entry, with a lazy node:assert and llhttp read from files (into wasm); PATCHES are applied. */
function plugins(root: string, wasm: Map<string, Buffer>): Plugin[] {
  const undiciDir = dirname(realpathSync(createRequire(join(root, 'package.json')).resolve('undici/package.json')));
  return [
    {
      name: 'llhttp-files',
      setup(b) {
        b.onLoad({ filter: LLHTTP }, (args) => {
          const name = LLHTTP.exec(args.path)![1]!;
          const m = LLHTTP_SOURCE.exec(readFileSync(args.path, 'utf8'));
          if (!m) return { errors: [{ text: `${relative(root, args.path)} is no longer one base64 Buffer: update LLHTTP in src/build.ts` }] };
          wasm.set(`${name}.wasm`, Buffer.from(m[1]!, 'base64'));
          // the chunk that holds this is in dist/bundle/chunks; the binary is in dist/bundle
          const contents = `'use strict';\nconst { join } = require('node:path');\nmodule.exports = require('node:fs').readFileSync(join(__dirname, __dirname.endsWith('chunks') ? '..' : '.', ${JSON.stringify(`${name}.wasm`)}));\n`;
          return { contents, loader: 'js' };
        });
      },
    },
    {
      name: 'undici-slim',
      setup(b) {
        b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici-slim', namespace: 'utrig-undici' }));
        b.onLoad({ filter: /^undici-slim$/, namespace: 'utrig-undici' }, () => ({ contents: undiciSlimSource(undiciDir), loader: 'js', resolveDir: undiciDir }));
        b.onResolve({ filter: /^node:assert$/ }, (args) =>
          args.importer.startsWith(undiciDir) ? { path: 'lazy-assert', namespace: 'utrig-undici' } : undefined,
        );
        b.onLoad({ filter: /^lazy-assert$/, namespace: 'utrig-undici' }, () => ({ contents: LAZY_ASSERT, loader: 'js' }));
      },
    },
    {
      name: 'patches',
      setup(b) {
        for (const patch of PATCHES) {
          b.onLoad({ filter: patch.file }, (args) => {
            let text = readFileSync(args.path, 'utf8');
            for (const [from, to] of patch.edits) {
              if (!text.includes(from)) {
                return { errors: [{ text: `${relative(root, args.path)} no longer has "${from}": update PATCHES in src/build.ts (${patch.why})` }] };
              }
              text = text.replace(from, to);
            }
            return { contents: text, loader: 'js' };
          });
        }
      },
    },
  ];
}

/** The bundle's output files that load before any command runs: the entry and what it imports statically. */
export function startupOutputs(meta: Metafile): Set<string> {
  const entry = Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint === 'src/cli.ts');
  if (!entry) throw new Error('build: the metafile has no output for src/cli.ts');
  const startup = new Set<string>();
  const follow = (o: string) => {
    if (startup.has(o)) return;
    startup.add(o);
    for (const i of meta.outputs[o]!.imports) if (i.kind === 'import-statement' && meta.outputs[i.path]) follow(i.path);
  };
  follow(entry);
  return startup;
}

/**
 * hot.js: the files every command but a bare --version loads (cli.js and what it imports statically, found in the
 * metafile), each as a function in one script. bin/utrig compiles it with one V8 code cache instead of reading and
 * compiling a dozen small files; on Node 22.1+ (or UTRIG_NO_CODE_CACHE=1) the files load as they are.
 */
function hotPack(meta: Metafile, root: string, outdir: string, code: Map<string, string>): string {
  const rel = (o: string) => relative(outdir, join(root, o)).split(sep).join('/');
  const hot = startupOutputs(meta);
  const parts = [...hot].map((o) => `${JSON.stringify(rel(o))}: function (exports, require, module, __filename, __dirname) {${code.get(rel(o))!}\n}`);
  return `({${parts.join(',\n')}})\n`;
}

/** Builds root/src/cli.ts into root/dist/bundle; throws with every problem found. */
export async function buildBundle(root: string): Promise<Metafile> {
  const problems = checkUndiciNames(join(root, 'src'));
  if (problems.length > 0) throw new Error(`build refused:\n  ${problems.join('\n  ')}`);
  const outdir = join(root, 'dist', 'bundle');
  rmSync(outdir, { recursive: true, force: true });
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const wasm = new Map<string, Buffer>();
  const result = await build({
    absWorkingDir: root,
    entryPoints: { cli: join(root, 'src', 'cli.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunks/[name]-[hash]',
    define: { UTRIG_BUILD_VERSION: JSON.stringify(version) },
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'external',
    metafile: true,
    write: false,
    logLevel: 'error',
    plugins: plugins(root, wasm),
  });
  // esbuild splits code only in ES module output; each file then becomes CommonJS (import() a require() in a
  // promise), which Node loads faster than ES modules and bin/utrig can compile with a V8 code cache on Node 20
  const cjsCode = new Map<string, string>();
  for (const f of result.outputFiles) {
    mkdirSync(dirname(f.path), { recursive: true });
    if (!f.path.endsWith('.js')) {
      writeFileSync(f.path, f.contents);
      continue;
    }
    const cjs = await transform(f.text, {
      format: 'cjs',
      loader: 'js',
      platform: 'node',
      target: 'node20',
      supported: { 'dynamic-import': false },
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'eof',
      sourcefile: relative(outdir, f.path),
    });
    writeFileSync(f.path, cjs.code);
    cjsCode.set(relative(outdir, f.path).split(sep).join('/'), cjs.code);
  }
  const hotJs = hotPack(result.metafile, root, outdir, cjsCode);
  writeFileSync(join(outdir, 'hot.js'), hotJs);
  const missing = LLHTTP_MODULES.filter((n) => !wasm.has(`${n}.wasm`));
  if (missing.length > 0) throw new Error(`build refused: undici's ${missing.join(', ')} module(s) were not seen: update LLHTTP in src/build.ts`);
  for (const [name, bytes] of wasm) writeFileSync(join(outdir, name), bytes);
  writeFileSync(join(outdir, 'package.json'), '{"type":"commonjs"}\n');
  // names bin/utrig's V8 code caches: V8 checks a cache against the source's length only, so a rebuild needs new names
  const id = createHash('sha256');
  for (const f of result.outputFiles) id.update(f.path).update(f.contents);
  for (const [name, bytes] of wasm) id.update(name).update(bytes);
  id.update('hot.js').update(hotJs);
  writeFileSync(join(outdir, 'build-id'), id.digest('hex').slice(0, 16));
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  // bin/utrig answers a bare --version from this before loading anything
  writeFileSync(join(outdir, 'version'), version);
  return result.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--root');
  const root = i > 0 ? resolve(process.argv[i + 1] ?? '.') : resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  buildBundle(root).then(
    (meta) => {
      const files = Object.keys(meta.outputs).filter((f) => f.endsWith('.js'));
      process.stdout.write(`build: ${files.length} files in ${relative(process.cwd(), join(root, 'dist', 'bundle')) || '.'}\n`);
    },
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
