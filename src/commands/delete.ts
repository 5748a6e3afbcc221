import type { Deps } from '../deps.js';
import { UsageError, UtrigError } from '../errors.js';
import { parseTriggerSid } from './flags.js';

export interface DeleteOptions {
  sids: string[];
  yes: boolean;
}

/** Checks every SID before anything is sent. */
export function parseDeleteOptions(raw: Record<string, unknown>, args: string[]): DeleteOptions {
  return { sids: [...new Set(args.map((a) => parseTriggerSid('trigger SID', a)))], yes: raw.yes === true };
}

export interface DeleteResult {
  sid: string;
  error?: UtrigError;
}

/** Deletes each trigger in turn; a failure does not stop the rest. */
export async function run(deps: Deps, o: DeleteOptions): Promise<DeleteResult[]> {
  if (o.sids.length === 0) throw new UsageError('missing trigger SID: give one or more UT… SIDs');
  const client = await deps.client();
  const results: DeleteResult[] = [];
  for (const sid of o.sids) {
    try {
      await client.deleteTrigger(sid);
      results.push({ sid });
    } catch (err) {
      if (!(err instanceof UtrigError)) throw err;
      results.push({ sid, error: err });
    }
  }
  return results;
}
