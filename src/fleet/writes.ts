// The two writes fleet commands and apply make, done so that running them again is safe.
import { OutcomeUnknownError, type ApiClient } from '../api/client.js';
import type { UsageTrigger } from '../api/types.js';
import { ApiError, NetworkError, NotFoundError } from '../errors.js';

/** Resends of a create whose outcome was unknown, each after reading back that it did not land. */
const UNCERTAIN_RESENDS = 3;

export interface CreateOnceOptions {
  /** Looks for the trigger a create with no certain answer may have made. */
  findLanded: () => Promise<UsageTrigger | undefined>;
  /** False: a create with no certain answer is never resent (and never read back). */
  resend: boolean;
  signal: AbortSignal;
  /** The error thrown when the signal stopped the next attempt. */
  interrupted: () => Error;
  /** The message of the error when the last attempt's outcome stays unknown. */
  mayHaveBeenCreated: (reason: string) => string;
}

/**
 * Creates a trigger exactly once. A create with no certain answer (dropped connection, 5xx) is read back
 * with findLanded before it is sent again, so it is never doubled; after UNCERTAIN_RESENDS it says the
 * trigger may have been created.
 */
export async function createOnce(client: ApiClient, form: URLSearchParams, o: CreateOnceOptions): Promise<UsageTrigger> {
  for (let attempt = 0; ; attempt++) {
    if (o.signal.aborted) throw o.interrupted();
    try {
      return await client.createTrigger(form);
    } catch (err) {
      const uncertain = err instanceof OutcomeUnknownError || (err instanceof ApiError && err.status >= 500);
      if (!uncertain) throw err;
      if (!o.resend || attempt >= UNCERTAIN_RESENDS) {
        throw err instanceof OutcomeUnknownError ? new NetworkError(o.mayHaveBeenCreated(err.reason), { cause: err }) : err;
      }
      const landed = await o.findLanded();
      if (landed) return landed;
    }
  }
}

/** Deletes a trigger; one already gone (deleted meanwhile) is what was wanted. */
export async function deleteIfPresent(client: ApiClient, sid: string): Promise<void> {
  try {
    await client.deleteTrigger(sid);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}
