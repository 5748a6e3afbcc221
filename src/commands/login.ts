import type { Command } from 'commander';
import { ApiClient } from '../api/client.js';
import { resolveBaseUrl } from '../api/base-url.js';
import { ACCOUNT_SID_RE, API_KEY_SID_RE } from '../api/types.js';
import { PROFILE_NAME_RE, type Profile } from '../config/store.js';
import { LOCAL_PROFILE, type Deps } from '../deps.js';
import type { CommandContext } from '../deps.js';
import { AuthError, UsageError } from '../errors.js';
import { examples } from '../output/help.js';
import { ask, loadPrompts, promptContext, readSecretFromStdin } from '../prompt.js';
import { str } from './flags.js';

export interface LoginOptions {
  profile: string;
  accountSid?: string;
  apiKey?: string;
  authTokenStdin: boolean;
  apiSecretStdin: boolean;
}

/** The longest auth token or API secret accepted: Twilio's are 32 characters. */
const SECRET_MAX = 128;

/** Checks a secret before anything is sent: visible ASCII, 1 to SECRET_MAX characters. The secret itself is never shown. */
export function checkSecret(what: string, v: string): string | undefined {
  if (v.length === 0) return `the ${what} is empty`;
  if (v.length > SECRET_MAX) return `the ${what} is ${v.length} characters long: Twilio's are 32, and at most ${SECRET_MAX} are accepted`;
  if (!/^[\x21-\x7e]+$/.test(v)) {
    return `the ${what} contains a space, control or non-ASCII character: expected letters and digits (Twilio's are 32 characters)`;
  }
  return undefined;
}

/** Checks a profile name. */
export function parseProfileName(flag: string, v: string): string {
  if (!PROFILE_NAME_RE.test(v)) throw new UsageError(`${flag} "${v}" is not a profile name: use 1 to 64 letters, digits, ".", "_" or "-"`);
  if (v === LOCAL_PROFILE) throw new UsageError(`${flag} local is reserved for the built-in emulator: choose another name`);
  return v;
}

/** Reads login's flags. */
export function parseLoginOptions(raw: Record<string, unknown>): LoginOptions {
  const o: LoginOptions = {
    profile: parseProfileName('--profile', str(raw, 'profile') ?? 'default'),
    authTokenStdin: raw.authTokenStdin === true,
    apiSecretStdin: raw.apiSecretStdin === true,
  };
  const sid = str(raw, 'accountSid');
  if (sid !== undefined) {
    if (!ACCOUNT_SID_RE.test(sid)) throw new UsageError(`--account-sid "${sid}" is not an account SID: expected AC followed by 32 hex digits`);
    o.accountSid = sid;
  }
  const key = str(raw, 'apiKey');
  if (key !== undefined) {
    if (!API_KEY_SID_RE.test(key)) throw new UsageError(`--api-key "${key}" is not an API key SID: expected SK followed by 32 hex digits`);
    o.apiKey = key;
  }
  if (o.authTokenStdin && (o.apiKey || o.apiSecretStdin)) {
    throw new UsageError('--auth-token-stdin cannot be combined with --api-key/--api-secret-stdin: log in with one or the other');
  }
  if (o.apiSecretStdin && !o.apiKey) throw new UsageError('--api-secret-stdin needs --api-key SK…');
  if (o.apiKey && !o.apiSecretStdin) throw new UsageError('--api-key needs --api-secret-stdin (the secret is read from standard input, never a flag)');
  return o;
}

/** Gathers the credentials (stdin or prompts), verifies them against the API, and saves the profile. */
export async function run(deps: Deps, o: LoginOptions): Promise<{ profile: string; accountSid: string; path: string; friendlyName: string }> {
  let p: Profile;
  if (o.authTokenStdin || o.apiSecretStdin) {
    if (!o.accountSid) throw new UsageError('missing --account-sid AC…: the account to log in to');
    const secret = await readSecretFromStdin(deps.io);
    const what = o.apiKey ? 'API secret' : 'auth token';
    if (!secret) throw new UsageError(`nothing on standard input: pipe the ${what} in`);
    const bad = checkSecret(`${what} on standard input`, secret);
    if (bad) throw new UsageError(bad);
    p = o.apiKey ? { accountSid: o.accountSid, apiKey: o.apiKey, apiSecret: secret } : { accountSid: o.accountSid, authToken: secret };
  } else if (deps.canPrompt) {
    p = await promptCredentials(deps, o);
  } else {
    throw new UsageError('login needs a terminal to ask, or --account-sid AC… with --auth-token-stdin (or --api-key SK… --api-secret-stdin)', {
      hint: 'example: printf %s "$TOKEN" | utrig login --account-sid AC… --auth-token-stdin',
    });
  }
  const client = new ApiClient({
    baseUrl: resolveBaseUrl(deps.env),
    credentials: { accountSid: p.accountSid, username: p.apiKey ?? p.accountSid, password: (p.apiKey ? p.apiSecret : p.authToken) ?? '' },
    userAgent: `utrig/${deps.version} (node ${process.versions.node}; ${process.platform})`,
    timeoutMs: deps.globals.timeout * 1000,
    trace: deps.globals.verbose ? (line) => deps.io.stderr.write(`${line}\n`) : undefined,
  });
  let friendlyName = '';
  try {
    if (p.apiKey) {
      // Standard API keys may not read /Accounts (nor Keys): verify with a request any key may make.
      await client.listTriggerPages(new URLSearchParams({ PageSize: '1' })).next();
    } else {
      friendlyName = String((await client.fetchAccount(p.accountSid)).friendly_name ?? '');
    }
  } catch (err) {
    if (err instanceof AuthError || (err as { exitCode?: number }).exitCode === 4) {
      throw new AuthError(`Twilio did not accept these credentials for ${p.accountSid}; nothing was saved`, {
        cause: err,
        hint: 'check the account SID and the token (or API key and secret) in the Twilio console',
      });
    }
    throw err;
  }
  const store = await deps.config();
  store.saveProfile(o.profile, p, true);
  return { profile: o.profile, accountSid: p.accountSid, path: store.path, friendlyName };
}

async function promptCredentials(deps: Deps, o: LoginOptions): Promise<Profile> {
  const { input, password, select } = await loadPrompts();
  const ctx = promptContext(deps.io);
  const accountSid =
    o.accountSid ??
    (await ask(input({ message: 'Account SID', validate: (v) => ACCOUNT_SID_RE.test(v.trim()) || 'expected AC followed by 32 hex digits' }, ctx))).trim();
  const kind = o.apiKey
    ? 'key'
    : await ask(
        select(
          { message: 'Authenticate with', choices: [{ name: 'Auth token', value: 'token' }, { name: 'API key and secret', value: 'key' }] },
          ctx,
        ),
      );
  if (kind === 'token') {
    const authToken = await ask(password({ message: 'Auth token', mask: '*', validate: (v) => checkSecret('auth token', v.trim()) ?? true }, ctx));
    return { accountSid, authToken: authToken.trim() };
  }
  const apiKey =
    o.apiKey ??
    (await ask(input({ message: 'API key SID', validate: (v) => API_KEY_SID_RE.test(v.trim()) || 'expected SK followed by 32 hex digits' }, ctx))).trim();
  const apiSecret = await ask(password({ message: 'API secret', mask: '*', validate: (v) => checkSecret('API secret', v.trim()) ?? true }, ctx));
  return { accountSid, apiKey, apiSecret: apiSecret.trim() };
}

/** Declares `utrig login`. */
export function declareLogin(program: Command, { withDeps }: CommandContext): void {
  program
    .command('login')
    .summary('store credentials in a profile')
    .description('Verify credentials with Twilio and store them in a profile (default "default"). Secrets are read from a masked prompt or stdin, never a flag.')
    .option('--account-sid <AC…>', 'the account to log in to (asked on a terminal; needed with --auth-token-stdin or --api-secret-stdin)')
    .option('--auth-token-stdin', 'read the auth token from standard input')
    .option('--api-key <SK…>', 'log in with an API key instead of the auth token')
    .option('--api-secret-stdin', 'read the API key secret from standard input')
    .addHelpText(
      'after',
      examples('utrig login', 'printf %s "$TWILIO_AUTH_TOKEN" | utrig login --account-sid AC… --auth-token-stdin', 'utrig login --profile ci --account-sid AC… --api-key SK… --api-secret-stdin < secret.txt'),
    )
    .action(
      withDeps(async (deps, raw) => {
        const res = await run(deps, parseLoginOptions(raw));
        deps.messages.success(`Logged in to ${res.accountSid}${res.friendlyName ? ` (${res.friendlyName})` : ''} as profile "${res.profile}"`);
        deps.messages.note(`credentials saved in ${res.path} (mode 0600)`);
      }),
    );
}
