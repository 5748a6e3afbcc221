import type { UsageTrigger } from '../api/types.js';
import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { parseCallbackMethod, parseCallbackUrl, parseFriendlyName, parseTriggerSid, str } from './flags.js';

export interface UpdateOptions {
  sid: string;
  callbackUrl?: string;
  callbackMethod?: 'GET' | 'POST';
  friendlyName?: string;
}

const FORBIDDEN: [string, string][] = [
  ['category', '--category'],
  ['value', '--value'],
  ['triggerBy', '--trigger-by'],
  ['recurring', '--recurring'],
];

/** Reads and checks update's argument and flags. */
export function parseUpdateOptions(raw: Record<string, unknown>, args: string[]): UpdateOptions {
  const sid = parseTriggerSid('trigger SID', args[0] ?? '');
  const forbidden = FORBIDDEN.filter(([k]) => raw[k] !== undefined).map(([, f]) => f);
  if (forbidden.length > 0) {
    throw new UsageError(
      `${forbidden.join(' and ')} cannot be changed: Twilio does not allow updating a trigger's category, value, trigger-by or recurrence`,
      {
        hint: `create a new trigger and delete the old one instead:\n  utrig get ${sid}            # note its settings\n  utrig create --category … --value … --callback-url …\n  utrig delete ${sid} --yes`,
      },
    );
  }
  const o: UpdateOptions = { sid };
  const url = str(raw, 'callbackUrl');
  if (url !== undefined) o.callbackUrl = parseCallbackUrl('--callback-url', url);
  const method = str(raw, 'callbackMethod');
  if (method !== undefined) o.callbackMethod = parseCallbackMethod('--callback-method', method);
  const name = str(raw, 'friendlyName');
  if (name !== undefined) o.friendlyName = parseFriendlyName('--friendly-name', name);
  return o;
}

/** True when at least one updatable field was given. */
export function hasChanges(o: UpdateOptions): boolean {
  return o.callbackUrl !== undefined || o.callbackMethod !== undefined || o.friendlyName !== undefined;
}

/** The update request body. */
export function buildForm(o: UpdateOptions): URLSearchParams {
  const f = new URLSearchParams();
  if (o.callbackUrl !== undefined) f.set('CallbackUrl', o.callbackUrl);
  if (o.callbackMethod !== undefined) f.set('CallbackMethod', o.callbackMethod);
  if (o.friendlyName !== undefined) f.set('FriendlyName', o.friendlyName);
  return f;
}

/** Sends the update. */
export async function run(deps: Deps, o: UpdateOptions): Promise<UsageTrigger> {
  if (!hasChanges(o)) {
    throw new UsageError('nothing to update: give at least one of --callback-url, --callback-method, --friendly-name');
  }
  return (await deps.client()).updateTrigger(o.sid, buildForm(o));
}
