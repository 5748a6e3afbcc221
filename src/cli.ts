import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { closeDispatcher } from './api/client.js';
import { buildDeps, parseGlobals, type CommandContext, type Run, type WithDeps } from './deps.js';
import { EXIT, UtrigError } from './errors.js';
import { systemIO, type IO } from './io.js';
import { escapeControlsKeepLines } from './output/escape.js';
import { examples } from './output/help.js';
import { styleHelp } from './output/help-style.js';
import { loadColour, Messages } from './output/messages.js';
import { handleSignals } from './signals.js';

/** Set by the bundle build (src/build.ts); the unbundled build reads package.json. */
declare const UTRIG_BUILD_VERSION: string | undefined;
const VERSION =
  typeof UTRIG_BUILD_VERSION === 'string'
    ? UTRIG_BUILD_VERSION
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type Raw = Record<string, unknown>;

/**
 * Every command, in the order help lists them, with the words that name it. A command's module loads only when
 * the command line names it (or when help needs them all), so start-up pays for one command, not every one.
 */
const COMMANDS: { names: string[]; load: () => Promise<(program: Command, ctx: CommandContext) => void> }[] = [
  { names: ['create'], load: () => import('./commands/create.js').then((m) => m.declareCreate) },
  { names: ['get'], load: () => import('./commands/get.js').then((m) => m.declareGet) },
  { names: ['list', 'ls'], load: () => import('./commands/list.js').then((m) => m.declareList) },
  { names: ['update'], load: () => import('./commands/update.js').then((m) => m.declareUpdate) },
  { names: ['delete', 'rm'], load: () => import('./commands/delete.js').then((m) => m.declareDelete) },
  { names: ['plan'], load: () => import('./commands/plan.js').then((m) => m.declarePlan) },
  { names: ['apply'], load: () => import('./commands/apply.js').then((m) => m.declareApply) },
  { names: ['export'], load: () => import('./commands/export.js').then((m) => m.declareExport) },
  { names: ['categories'], load: () => import('./commands/categories.js').then((m) => m.declareCategories) },
  { names: ['login'], load: () => import('./commands/login.js').then((m) => m.declareLogin) },
  { names: ['logout'], load: () => import('./commands/logout.js').then((m) => m.declareLogout) },
  { names: ['profiles'], load: () => import('./commands/profiles.js').then((m) => m.declareProfiles) },
  { names: ['emulator'], load: () => import('./commands/emulator.js').then((m) => m.declareEmulator) },
  { names: ['listen'], load: () => import('./commands/listen/index.js').then((m) => m.declareListen) },
  { names: ['fire'], load: () => import('./commands/fire.js').then((m) => m.declareFire) },
  { names: ['completion'], load: () => import('./completion/command.js').then((m) => m.declareCompletion) },
  { names: ['__complete'], load: () => import('./completion/command.js').then((m) => m.declareComplete) },
];

/** The commands to declare for argv: the one it names; none for a bare --version; all for help or an unknown word. */
function commandsFor(program: Command, argv: string[]): typeof COMMANDS {
  let version = false;
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return COMMANDS; // the help of utrig itself lists every command
    if (a.startsWith('-')) {
      version ||= a === '-V' || a === '--version';
      // a global flag that takes a value: the next word is that value, not a command
      if (program.options.find((o) => o.long === a || o.short === a)?.required) i++;
      continue;
    }
    const named = COMMANDS.filter((c) => c.names.includes(a));
    return named.length > 0 ? named : COMMANDS;
  }
  return version ? [] : COMMANDS;
}

/** Builds the command tree: the global flags, then the commands argv needs (every command when argv is not given). */
export async function buildProgram(r: Run, argv?: string[]): Promise<Command> {
  const program = new Command('utrig');
  const withDeps: WithDeps = (fn) =>
    async function (this: Command, ...params: unknown[]) {
      const cmd = params[params.length - 1] as Command;
      const raw = cmd.optsWithGlobals() as Raw;
      const g = parseGlobals(raw);
      // copied by descriptor, not spread: systemIO's stdin is a getter that opens stdin only when a command reads it
      const colorLevel = { value: raw.color === false ? 0 : r.io.colorLevel, enumerable: true, writable: true, configurable: true };
      const io = Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(r.io), colorLevel }) as IO;
      r.deps = buildDeps(io, r.env, g, VERSION);
      await fn(r.deps, raw, cmd.args, cmd);
    };

  program
    .description('Manage Twilio usage triggers: create, inspect and test the webhooks Twilio calls when usage crosses a threshold.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--profile <name>', 'use this stored profile (see `utrig profiles list`); "local" is the built-in emulator')
    .option('--local', 'run against the emulator embedded in utrig (state in the config directory)')
    .option('--account-sid <AC…>', 'act on this (sub)account with the current credentials')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'ndjson', 'csv']))
    .option('--json', 'shorthand for --output json')
    .option('--fields <a,b,c>', 'only these fields, in this order (e.g. sid,usage_category,current_value)')
    .option('--no-color', 'no colour, even on a terminal')
    .option('--verbose', 'trace requests and responses on stderr (Authorization redacted)')
    .option('--timeout <seconds>', 'overall time limit of the command in seconds, retries and waits included (0.1-600)', '30')
    .option('--no-input', 'never prompt; fail with a usage error instead')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      examples(
        'utrig --local create --category sms --value +30 --callback-url https://example.com/hook',
        'utrig list --category sms --json | jq -r ".[].sid"',
        'utrig get UT33c6aeeba34e48f38d6899ea5b765ad4',
      ) +
        '\nExit codes: 0 ok, 1 API error, 2 usage error, 3 auth/config, 4 not found, 5 network, 6 some accounts failed, 7 plan has changes (--detailed-exitcode), 130 interrupted.\n',
    );

  const ctx: CommandContext = { run: r, withDeps, wholeTree: () => buildProgram({ io: r.io, env: r.env }) };
  const declares = await Promise.all((argv === undefined ? COMMANDS : commandsFor(program, argv)).map((c) => c.load()));
  for (const declare of declares) declare(program, ctx);
  styleHelp(program);
  return program;
}

/** Routes commander's own output through IO and turns its exits into errors. */
function configure(cmd: Command, io: IO): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
  });
  for (const sub of cmd.commands) configure(sub, io);
}

/** Runs utrig with these arguments; resolves to the exit code. */
export async function main(argv: string[], io: IO = systemIO(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const r: Run = { io, env };
  const [program] = await Promise.all([buildProgram(r, argv), loadColour(io)]);
  configure(program, io);
  const removeHandlers = handleSignals(r, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    return report(err, io, r.deps?.globals.verbose ?? argv.includes('--verbose'));
  } finally {
    for (const c of r.deps?.cleanup ?? []) await c().catch(() => undefined);
    await closeDispatcher();
    removeHandlers();
  }
}

/** Maps an error to its exit code and prints one line (and a hint) on stderr. */
function report(err: unknown, io: IO, verbose: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
    // commander has printed its message; every parse error is a usage error
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  const m = new Messages(io);
  if (err instanceof UtrigError) {
    if (!(err as { reported?: boolean }).reported) m.error(err.message, err.hint);
    if (verbose && err.cause instanceof Error && err.cause.stack) io.stderr.write(`${escapeControlsKeepLines(err.cause.stack)}\n`);
    return err.exitCode;
  }
  m.error(`unexpected failure: ${(err as Error)?.message ?? String(err)}`, 'run again with --verbose for details, and report it');
  // a stack can quote server text (JSON.parse errors quote their input): shown inert, like every message
  if (verbose && err instanceof Error && err.stack) io.stderr.write(`${escapeControlsKeepLines(err.stack)}\n`);
  return EXIT.API;
}
