import { chosenProfile, envCredentialsInUse, subaccount, wantsLocal, type Deps } from '../deps.js';
import { AuthError } from '../errors.js';

/** The auth token Twilio signs callbacks with, and where it came from. */
export interface SigningCredentials {
  /** The account callbacks come from (the --account-sid subaccount when given). */
  accountSid: string;
  authToken: string;
  /** For messages: "environment (TWILIO_AUTH_TOKEN)", "profile default", "the local emulator". */
  source: string;
}

/** The credentials' own account, and its auth token unless they are an API key. */
interface Own {
  accountSid: string;
  /** Undefined for API-key credentials, which carry no auth token. */
  authToken?: string;
  source: string;
  /** The start of the message when these are an API key. */
  apiKeyIs: string;
}

async function ownCredentials(deps: Deps): Promise<Own> {
  const { globals: g, env } = deps;
  if (wantsLocal(g, env)) {
    const { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } = await import('../emulator/server.js');
    return { accountSid: LOCAL_ACCOUNT_SID, authToken: LOCAL_AUTH_TOKEN, source: 'the local emulator', apiKeyIs: '' };
  }
  const fromEnv = envCredentialsInUse(g, env);
  if (fromEnv) {
    const apiKeyIs = 'the credentials in the environment are an API key (TWILIO_API_KEY)';
    return fromEnv.username === fromEnv.accountSid
      ? { accountSid: fromEnv.accountSid, authToken: fromEnv.password, source: 'environment (TWILIO_AUTH_TOKEN)', apiKeyIs }
      : { accountSid: fromEnv.accountSid, source: 'environment', apiKeyIs };
  }
  const { name, profile: p } = await chosenProfile(deps);
  const apiKeyIs = `profile "${name}" holds an API key`;
  return p.authToken
    ? { accountSid: p.accountSid, authToken: p.authToken, source: `profile ${name}`, apiKeyIs }
    : { accountSid: p.accountSid, source: `profile ${name}`, apiKeyIs };
}

/**
 * The signing credentials of the account callbacks come from (the --account-sid subaccount when given),
 * found as the rest of the CLI finds credentials (local emulator, then environment, then profile).
 *
 * Twilio signs callbacks with that account's auth token. Auth-token credentials have it for their own
 * account and fetch a subaccount's from the API (Twilio gives a subaccount's auth_token to its parent).
 * API-key credentials have no auth token and cannot fetch one (Standard keys may not call /Accounts):
 * then TWILIO_AUTH_TOKEN, when set, is taken as the auth token of the account callbacks come from, and
 * without it the command stops with an AuthError (exit 3) before sending anything.
 */
export async function resolveSigningCredentials(deps: Deps, command: 'listen' | 'fire'): Promise<SigningCredentials> {
  const own = await ownCredentials(deps);
  const target = subaccount(deps.globals, own.accountSid);
  const orSkip = command === 'listen' ? ', or pass --no-verify to accept callbacks unchecked' : '';
  if (own.authToken === undefined) {
    const envToken = deps.env.TWILIO_AUTH_TOKEN;
    if (envToken) return { accountSid: target, authToken: envToken, source: 'environment (TWILIO_AUTH_TOKEN)' };
    const mine = target === own.accountSid;
    const signs = mine ? 'Twilio signs callbacks with the account auth token' : `Twilio signs subaccount ${target}'s callbacks with its auth token`;
    throw new AuthError(`${own.apiKeyIs}, and ${signs}`, {
      hint: `an API key cannot read an auth token from the API: set TWILIO_AUTH_TOKEN to the auth token of ${mine ? 'account' : 'subaccount'} ${target}${orSkip}`,
    });
  }
  if (target === own.accountSid) return { accountSid: own.accountSid, authToken: own.authToken, source: own.source };
  const account = await (await deps.client()).fetchAccount(target);
  const token = account.auth_token;
  if (typeof token !== 'string' || token === '') {
    throw new AuthError(`the API did not give the auth token of subaccount ${target}, which Twilio signs its callbacks with`, {
      hint: `check that ${target} is a subaccount of ${own.accountSid}${orSkip}`,
    });
  }
  return { accountSid: target, authToken: token, source: `subaccount ${target}` };
}
