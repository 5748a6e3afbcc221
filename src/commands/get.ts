import type { UsageTrigger } from '../api/types.js';
import type { Deps } from '../deps.js';
import { parseTriggerSid } from './flags.js';

export interface GetOptions {
  sid: string;
}

/** Checks get's argument. */
export function parseGetOptions(args: string[]): GetOptions {
  return { sid: parseTriggerSid('trigger SID', args[0] ?? '') };
}

/** Fetches one trigger. */
export async function run(deps: Deps, o: GetOptions): Promise<UsageTrigger> {
  return (await deps.client()).fetchTrigger(o.sid);
}
