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
 * Resolves the auth token of the current credentials, as the rest of the CLI resolves credentials
 * (local emulator, then environment, then profile), without starting the embedded emulator or
 * calling the API: Twilio signs callbacks with the auth token, which API-key credentials lack,
 * so then only an env TWILIO_AUTH_TOKEN will do.
 */
export async function resolveSigningCredentials(deps: Deps): Promise<SigningCredentials> {
  const { globals: g, env } = deps;
  if (wantsLocal(g, env)) {
    const { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } = await import('../emulator/server.js');
    return { accountSid: subaccount(g, LOCAL_ACCOUNT_SID), authToken: LOCAL_AUTH_TOKEN, source: 'the local emulator' };
  }
  const envToken = env.TWILIO_AUTH_TOKEN ? env.TWILIO_AUTH_TOKEN : undefined;
  if (!g.profile) {
    const fromEnv = envCredentials(env);
    if (fromEnv) {
      if (envToken) return { accountSid: subaccount(g, fromEnv.accountSid), authToken: envToken, source: 'environment (TWILIO_AUTH_TOKEN)' };
      throw new AuthError('the credentials in the environment are an API key (TWILIO_API_KEY), and Twilio signs callbacks with the account auth token', {
        hint: API_KEY_HINT,
      });
    }
  }
  const { name, profile: p } = await chosenProfile(deps);
  if (p.authToken) return { accountSid: subaccount(g, p.accountSid), authToken: p.authToken, source: `profile ${name}` };
  if (envToken) return { accountSid: subaccount(g, p.accountSid), authToken: envToken, source: 'environment (TWILIO_AUTH_TOKEN)' };
  throw new AuthError(`profile "${name}" holds an API key, and Twilio signs callbacks with the account auth token`, { hint: API_KEY_HINT });
}
