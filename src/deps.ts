import { join } from 'node:path';
import { resolveBaseUrl } from './api/base-url.js';
import { ApiClient, type ClientOptions, type Credentials } from './api/client.js';
import { ACCOUNT_SID_RE } from './api/types.js';
import { configDir, ConfigStore, PROFILE_NAME_RE, readStoredProfiles, type Profile, type ProfileView } from './config/store.js';
import { AuthError, UsageError } from './errors.js';
import type { IO } from './io.js';
import { Messages } from './output/messages.js';

/** The global flags, typed. */
export interface GlobalOptions {
  profile?: string | undefined;
  local: boolean;
  accountSid?: string | undefined;
  output?: string | undefined;
  json: boolean;
  fields?: string | undefined;
  verbose: boolean;
  /** Seconds. */
  timeout: number;
  input: boolean;
}

type Raw = Record<string, unknown>;

/** Reads the global flags from commander's merged values. */
export function parseGlobals(raw: Raw): GlobalOptions {
  const timeoutRaw = typeof raw.timeout === 'string' ? raw.timeout : '30';
  const timeout = parseDecimalFlag('--timeout', timeoutRaw, 0.1, 600);
  const profile = typeof raw.profile === 'string' ? raw.profile : undefined;
  if (profile !== undefined && !PROFILE_NAME_RE.test(profile)) {
    throw new UsageError(`--profile "${profile}" is not a profile name: use 1 to 64 letters, digits, ".", "_" or "-"`);
  }
  return {
    profile,
    local: raw.local === true,
    accountSid: typeof raw.accountSid === 'string' ? raw.accountSid : undefined,
    output: typeof raw.output === 'string' ? raw.output : undefined,
    json: raw.json === true,
    fields: typeof raw.fields === 'string' ? raw.fields : undefined,
    verbose: raw.verbose === true,
    timeout,
    input: raw.input !== false,
  };
}

/** A plain decimal (digits, an optional fraction) within bounds: no sign, exponent, hex or spaces. */
function parseDecimalFlag(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^(\d{1,15}(\.\d{1,15})?|\.\d{1,15})$/.test(v) || n < min || n > max) {
    throw new UsageError(`${flag} "${v}" must be a plain decimal number from ${min} to ${max}`);
  }
  return n;
}

/** What every command receives: IO, flags, and lazily built collaborators. */
export interface Deps {
  io: IO;
  env: NodeJS.ProcessEnv;
  globals: GlobalOptions;
  messages: Messages;
  version: string;
  /** True when a person can answer a prompt: stdin and stdout are terminals and --no-input is absent. */
  canPrompt: boolean;
  /** The API client for the chosen credentials (starts the embedded emulator for --local). */
  client(): Promise<ApiClient>;
  /** The config store (profiles). */
  config(): Promise<ConfigStore>;
  /** The stored profiles, read without loading conf (the store itself once config() has opened it). */
  storedProfiles(): Promise<ProfileView>;
  /** Where the credentials came from, for messages ("profile default", "environment", "local emulator"). */
  source(): Promise<string>;
  /** Work to finish before exit (closing the embedded emulator). */
  cleanup: (() => Promise<void>)[];
}

export const LOCAL_PROFILE = 'local';

/** True when the local emulator is wanted: --local, --profile local or UTRIG_PROFILE=local. */
export function wantsLocal(g: GlobalOptions, env: NodeJS.ProcessEnv): boolean {
  return g.local || g.profile === LOCAL_PROFILE || (!g.profile && env.UTRIG_PROFILE === LOCAL_PROFILE);
}

interface Resolved {
  baseUrl: string;
  credentials: Credentials;
  source: string;
}

/** Builds the Deps of one run; clientExtras tune the API client (retries, an abort signal). */
export function buildDeps(
  io: IO,
  env: NodeJS.ProcessEnv,
  globals: GlobalOptions,
  version: string,
  clientExtras: Pick<ClientOptions, 'maxRetries' | 'signal'> = {},
): Deps {
  let store: Promise<ConfigStore> | undefined;
  let resolved: Promise<Resolved> | undefined;
  let client: Promise<ApiClient> | undefined;
  const messages = new Messages(io);
  const deps: Deps = {
    io,
    env,
    globals,
    messages,
    version,
    canPrompt: io.stdinIsTTY && io.stdoutIsTTY && globals.input,
    cleanup: [],
    config: () => (store ??= ConfigStore.open(configDir(env))),
    storedProfiles: async () => (store ? store : readStoredProfiles(configDir(env))),
    source: async () => (await (resolved ??= resolve(deps))).source,
    // one client (one --timeout budget) however many callers ask at once: plan counts suspended
    // subaccounts while the fleet opens
    client: () =>
      (client ??= (resolved ??= resolve(deps)).then(
        (r) =>
          new ApiClient({
            baseUrl: r.baseUrl,
            credentials: r.credentials,
            userAgent: `utrig/${version} (node ${process.versions.node}; ${process.platform})`,
            timeoutMs: globals.timeout * 1000,
            trace: globals.verbose ? (line) => io.stderr.write(`${line}\n`) : undefined,
            ...clientExtras,
          }),
      )),
  };
  return deps;
}

/** The account addressed in paths: --account-sid (a subaccount) or the credentials' own. */
export function subaccount(g: GlobalOptions, own: string): string {
  if (g.accountSid === undefined) return own;
  if (!ACCOUNT_SID_RE.test(g.accountSid)) {
    throw new UsageError(`--account-sid "${g.accountSid}" is not an account SID: expected AC followed by 32 hex digits`);
  }
  return g.accountSid;
}

async function resolve(deps: Deps): Promise<Resolved> {
  const { globals: g, env } = deps;
  if (wantsLocal(g, env)) {
    const dir = configDir(env);
    const { ensureConfigDir } = await import('./config/store.js');
    ensureConfigDir(dir);
    const statePath = join(dir, 'local-emulator.json');
    const { startEmulator } = await import('./emulator/server.js');
    // concurrent --local commands take turns on the state file instead of overwriting each other
    const emu = await startEmulator({ statePath, stateLockWaitMs: Math.max(g.timeout, 30) * 1000 });
    deps.cleanup.push(() => emu.close());
    // for a person at a terminal, once per command (resolve runs once): scripts and CI stay quiet
    if (deps.io.stderrIsTTY) deps.messages.note(`using the local emulator (state in ${statePath})`);
    return {
      baseUrl: emu.url,
      credentials: { accountSid: subaccount(g, emu.accountSid), username: emu.accountSid, password: emu.authToken },
      source: 'the local emulator',
    };
  }
  const baseUrl = resolveBaseUrl(env);
  const fromEnv = envCredentialsInUse(g, env);
  if (fromEnv) return { baseUrl, credentials: { ...fromEnv, accountSid: subaccount(g, fromEnv.accountSid) }, source: 'environment' };
  const { name, profile: p } = await chosenProfile(deps);
  const password = p.apiKey ? p.apiSecret : p.authToken;
  if (!password) throw new AuthError(`profile "${name}" has no secret stored`, { hint: `run \`utrig login --profile ${name}\`` });
  return {
    baseUrl,
    credentials: { accountSid: subaccount(g, p.accountSid), username: p.apiKey ?? p.accountSid, password },
    source: `profile ${name}`,
  };
}

/** The stored profile chosen by --profile, UTRIG_PROFILE or the active one; an AuthError when there is none. */
export async function chosenProfile(deps: Deps): Promise<{ name: string; profile: Profile }> {
  const store = await deps.storedProfiles();
  const name = deps.globals.profile ?? deps.env.UTRIG_PROFILE ?? store.activeProfile();
  if (!name) {
    throw new AuthError('no credentials: no profile is stored and TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are not set', {
      hint: 'run `utrig login`, set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or try `utrig --local …` against the built-in emulator',
    });
  }
  const profile = store.getProfile(name);
  if (!profile) {
    const known = Object.keys(store.profiles());
    throw new AuthError(`no profile named "${name}"`, {
      hint: known.length > 0 ? `known profiles: ${known.join(', ')}, and local` : 'run `utrig login` to create one',
    });
  }
  return { name, profile };
}

/**
 * The TWILIO_* credentials, unless a profile is named: a profile named by --profile or UTRIG_PROFILE wins
 * over the variables (and must exist). The API client and listen/fire's signing token both choose this way.
 */
export function envCredentialsInUse(g: GlobalOptions, env: NodeJS.ProcessEnv): Credentials | undefined {
  return g.profile || env.UTRIG_PROFILE ? undefined : envCredentials(env);
}

/** Credentials from Twilio's usual environment variables, if complete. */
export function envCredentials(env: NodeJS.ProcessEnv): Credentials | undefined {
  const sid = env.TWILIO_ACCOUNT_SID;
  if (env.TWILIO_API_KEY && env.TWILIO_API_SECRET) {
    if (!sid) {
      throw new AuthError('TWILIO_API_KEY is set but TWILIO_ACCOUNT_SID is not: an API key needs the account it belongs to', {
        hint: 'export TWILIO_ACCOUNT_SID=AC…',
      });
    }
    return { accountSid: sid, username: env.TWILIO_API_KEY, password: env.TWILIO_API_SECRET };
  }
  if (sid && env.TWILIO_AUTH_TOKEN) return { accountSid: sid, username: sid, password: env.TWILIO_AUTH_TOKEN };
  return undefined;
}

/** The state of one CLI run, shared by main and the actions. */
export interface Run {
  io: IO;
  env: NodeJS.ProcessEnv;
  deps?: Deps;
  /** Set by foreground commands (emulator, listen): Ctrl-C stops them cleanly instead of exiting 130. */
  foreground?: AbortController;
}

/** Wraps an action: parses the global flags, builds Deps, then calls fn with the command's raw options and arguments. */
export type WithDeps = (
  fn: (deps: Deps, raw: Record<string, unknown>, args: string[], cmd: import('commander').Command) => Promise<void>,
) => (...params: unknown[]) => Promise<void>;

/** What a command's declaration receives: the state of the run and the wrapper that gives its action Deps. */
export interface CommandContext {
  run: Run;
  withDeps: WithDeps;
  /** The complete command tree, for a command that describes every command (completion scripts). */
  wholeTree: () => Promise<import('commander').Command>;
}
