import type { ApiClient } from '../api/client.js';
import { wantsLocal, type Deps } from '../deps.js';
import { AuthError } from '../errors.js';

/**
 * The client a control subcommand reaches the emulator with: the embedded one (--local) or
 * UTRIG_API_URL. Without either it would go to Twilio, which has no /emulator routes.
 */
export async function emulatorClient(deps: Deps): Promise<ApiClient> {
  if (!wantsLocal(deps.globals, deps.env) && !deps.env.UTRIG_API_URL) {
    throw new AuthError('no emulator configured: these commands talk to utrig\'s emulator, not to Twilio', {
      hint: 'use --local, or paste the export lines that `utrig emulator` prints',
    });
  }
  try {
    return await deps.client();
  } catch (err) {
    // UTRIG_API_URL without the other export lines: the account is unknown, and `utrig login` is not the fix
    if (err instanceof AuthError && !wantsLocal(deps.globals, deps.env)) {
      throw new AuthError(err.message, { cause: err, hint: 'paste all the export lines that `utrig emulator` prints (they set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN too), or use --local' });
    }
    throw err;
  }
}
