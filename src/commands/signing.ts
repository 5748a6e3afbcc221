import { chosenProfile, envCredentials, subaccount, wantsLocal, type Deps } from '../deps.js';
import { AuthError } from '../errors.js';

/** The auth token Twilio signs callbacks with, and where it came from. */
export interface SigningCredentials {
  /** The account callbacks come from (the --account-sid subaccount when given). */
  accountSid: string;
  authToken: string;
  /** For messages: "environment (TWILIO_AUTH_TOKEN)", "profile default", "the local emulator". */
  source: string;
}

const API_KEY_HINT = 'set TWILIO_AUTH_TOKEN to the account auth token, or pass --no-verify to `utrig listen`';

/**
 * The auth token of the credentials' own account (not --account-sid), found as the rest of the CLI finds credentials
 * (local emulator, then environment, then profile), without starting the embedded emulator or
 * calling the API: Twilio signs callbacks with the auth token, which API-key credentials lack,
 * so then only an env TWILIO_AUTH_TOKEN will do.
 */
async function ownSigningCredentials(deps: Deps): Promise<SigningCredentials> {
  const { globals: g, env } = deps;
  if (wantsLocal(g, env)) {
    const { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } = await import('../emulator/server.js');
    return { accountSid: LOCAL_ACCOUNT_SID, authToken: LOCAL_AUTH_TOKEN, source: 'the local emulator' };
  }
  const envToken = env.TWILIO_AUTH_TOKEN ? env.TWILIO_AUTH_TOKEN : undefined;
  if (!g.profile) {
    const fromEnv = envCredentials(env);
    if (fromEnv) {
      if (envToken) return { accountSid: fromEnv.accountSid, authToken: envToken, source: 'environment (TWILIO_AUTH_TOKEN)' };
      throw new AuthError('the credentials in the environment are an API key (TWILIO_API_KEY), and Twilio signs callbacks with the account auth token', {
        hint: API_KEY_HINT,
      });
    }
  }
  const { name, profile: p } = await chosenProfile(deps);
  if (p.authToken) return { accountSid: p.accountSid, authToken: p.authToken, source: `profile ${name}` };
  if (envToken) return { accountSid: p.accountSid, authToken: envToken, source: 'environment (TWILIO_AUTH_TOKEN)' };
  throw new AuthError(`profile "${name}" holds an API key, and Twilio signs callbacks with the account auth token`, { hint: API_KEY_HINT });
}

/**
 * The signing credentials of the account callbacks come from. Twilio signs a subaccount's callbacks with
 * the subaccount's own auth token, so with --account-sid the parent's credentials fetch it from the API
 * (Twilio returns a subaccount's auth_token to its parent).
 */
export async function resolveSigningCredentials(deps: Deps): Promise<SigningCredentials> {
  const own = await ownSigningCredentials(deps);
  const target = subaccount(deps.globals, own.accountSid);
  if (target === own.accountSid) return own;
  const account = await (await deps.client()).fetchAccount(target);
  const token = account.auth_token;
  if (typeof token !== 'string' || token === '') {
    throw new AuthError(`the API did not give the auth token of ${target}, which Twilio signs its callbacks with`, {
      hint: 'set TWILIO_AUTH_TOKEN to that subaccount\'s auth token, or pass --no-verify to `utrig listen`',
    });
  }
  return { accountSid: target, authToken: token, source: `subaccount ${target}` };
}
