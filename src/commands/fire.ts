import { randomBytes } from 'node:crypto';
import { buildCallbackParams, deliverCallback, type DeliveryAttempt, type TriggerLike } from '../api/callback.js';
import type { Deps } from '../deps.js';
import { ApiError, NetworkError, UsageError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import {
  parseCallbackMethod,
  parseCallbackUrl,
  parseCategory,
  parseRecurring,
  parseTriggerBy,
  parseTriggerSid,
  parseTriggerValue,
  str,
  type RecurringValue,
  type TriggerByValue,
} from './flags.js';
import { resolveSigningCredentials } from './signing.js';

/** The flags of `utrig fire`. */
export interface FireOptions {
  /** Fire this trigger, fetched from the API. */
  sid?: string | undefined;
  /** Where to send it; defaults to the trigger's callback URL when a SID is given. */
  to?: string | undefined;
  category?: string | undefined;
  unknownCategory?: boolean | undefined;
  value?: string | undefined;
  recurring?: RecurringValue | undefined;
  triggerBy?: TriggerByValue | undefined;
  method?: 'GET' | 'POST' | undefined;
  retry: boolean;
}

/** What `fire` reports (the JSON on stdout). */
export interface FireResult {
  /** The final answer's status; null when the URL could not be reached. */
  status: number | null;
  attempts: number;
  /** Time of the final attempt. */
  ms: number;
  url: string;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  error: string | null;
}

const FROM_FLAGS = ['category', 'value', 'recurring', 'triggerBy'] as const;
const FLAG_NAMES: Record<(typeof FROM_FLAGS)[number], string> = { category: '--category', value: '--value', recurring: '--recurring', triggerBy: '--trigger-by' };

/** Reads commander's values for `utrig fire`. */
export function parseFireOptions(raw: Record<string, unknown>, args: string[]): FireOptions {
  const o: FireOptions = { retry: raw.retry === true };
  const sid = args[0];
  const given = FROM_FLAGS.filter((k) => str(raw, k) !== undefined);
  if (sid !== undefined) {
    o.sid = parseTriggerSid('trigger SID', sid);
    if (given.length > 0) {
      throw new UsageError(`${given.map((k) => FLAG_NAMES[k]).join(', ')} cannot be combined with a trigger SID: the trigger's own values are sent`, {
        hint: `drop the SID to fire a made-up trigger: utrig fire --category sms --value 100 --to <url>`,
      });
    }
  } else {
    const missing = (['category', 'value'] as const).filter((k) => str(raw, k) === undefined).map((k) => FLAG_NAMES[k]);
    if (str(raw, 'to') === undefined) missing.push('--to');
    if (missing.length > 0) {
      throw new UsageError(`missing ${missing.join(', ')}: give a trigger SID, or --category, --value and --to`, {
        hint: 'example: utrig fire --category sms --value 100 --to http://127.0.0.1:3000/',
      });
    }
    const c = parseCategory('--category', str(raw, 'category')!, raw.allowUnknownCategory === true);
    o.category = c.category;
    o.unknownCategory = !c.known;
    const value = parseTriggerValue('--value', str(raw, 'value')!);
    if (value.startsWith('+')) throw new UsageError(`--value "${value}" must be the value reached, such as 100, not a relative +N`);
    o.value = value;
    const rec = str(raw, 'recurring');
    if (rec !== undefined) o.recurring = parseRecurring('--recurring', rec);
    const by = str(raw, 'triggerBy');
    if (by !== undefined) o.triggerBy = parseTriggerBy('--trigger-by', by);
  }
  const to = str(raw, 'to');
  if (to !== undefined) o.to = parseCallbackUrl('--to', to);
  const method = str(raw, 'method');
  if (method !== undefined) o.method = parseCallbackMethod('--method', method);
  return o;
}

function madeUpTriggerSid(): string {
  return 'UT' + randomBytes(16).toString('hex');
}

/** A trigger built from the flags, as the API would show it once fired. */
export function triggerFromFlags(o: FireOptions, accountSid: string, sid = madeUpTriggerSid()): TriggerLike {
  const category = o.category ?? 'sms';
  return {
    sid,
    account_sid: accountSid,
    usage_category: category,
    trigger_by: o.triggerBy ?? 'usage',
    trigger_value: o.value ?? '0',
    current_value: o.value ?? '0',
    recurring: o.recurring ?? null,
    usage_record_uri: `/2010-04-01/Accounts/${accountSid}/Usage/Records.json?Category=${encodeURIComponent(category)}`,
    callback_url: o.to ?? '',
    callback_method: o.method ?? 'POST',
  };
}

/** Sends one signed callback for the trigger (fetched or made up); never throws for the receiver's answer. */
export async function run(deps: Deps, o: FireOptions, onAttempt?: (a: DeliveryAttempt, willRetry: boolean) => void): Promise<FireResult> {
  const signing = await resolveSigningCredentials(deps, 'fire');
  let trigger: TriggerLike;
  if (o.sid !== undefined) {
    const client = await deps.client();
    const t = await client.fetchTrigger(o.sid);
    // a callback reports the value reached: at least the threshold, even when fired ahead of time
    const current = t.current_value !== null && Number(t.current_value) >= Number(t.trigger_value) ? t.current_value : t.trigger_value;
    trigger = { ...t, current_value: current };
    if (o.to !== undefined) trigger.callback_url = o.to;
    if (o.method !== undefined) trigger.callback_method = o.method;
    if (!trigger.callback_url) throw new UsageError(`trigger ${o.sid} has no callback URL: give one with --to`);
  } else {
    trigger = triggerFromFlags(o, signing.accountSid);
  }
  const method: 'GET' | 'POST' = trigger.callback_method.toUpperCase() === 'GET' ? 'GET' : 'POST';
  const params = buildCallbackParams(trigger, new Date());
  const retries = o.retry ? 3 : 0;
  let last: DeliveryAttempt = { attempt: 0, status: null, error: null, ms: 0 };
  const res = await deliverCallback({
    url: trigger.callback_url,
    method,
    params,
    authToken: signing.authToken,
    retries,
    retryDelayMs: 500,
    timeoutMs: deps.globals.timeout * 1000,
    userAgent: `TwilioProxy/1.1 (utrig/${deps.version} fire)`,
    onAttempt: (a) => {
      last = a;
      onAttempt?.(a, (a.status === null || a.status >= 500) && a.attempt <= retries);
    },
  });
  return { status: res.status, attempts: res.attempts, ms: last.ms, url: trigger.callback_url, method, params, error: last.error };
}

/** The error for a non-2xx final answer or an unreachable URL, or undefined on success. */
export function fireFailure(r: FireResult): ApiError | NetworkError | undefined {
  const tries = r.attempts === 1 ? '' : ` after ${r.attempts} attempts`;
  if (r.status === null) {
    return new NetworkError(`could not reach ${r.url}${tries}: ${r.error ?? 'no answer'}`, {
      hint: 'is the receiver running? `utrig listen` in another terminal receives callbacks on http://127.0.0.1:3000/',
    });
  }
  if (r.status < 200 || r.status > 299) {
    const retry = r.status >= 500 && r.attempts === 1 ? ' (Twilio would retry: add --retry to do the same)' : '';
    const hint = r.status === 403 ? 'a 403 usually means the receiver rejected X-Twilio-Signature: does it check with the same auth token, and the URL given to --to?' : undefined;
    return new ApiError(`${r.url} answered ${r.status}${tries}${retry}`, { status: r.status, hint });
  }
  return undefined;
}

/** The human line of a TTY. */
export function describeFire(r: FireResult): string {
  const what = r.status === null ? `no answer (${r.error ?? 'unreachable'})` : `answered ${r.status}`;
  const tries = r.attempts === 1 ? '1 attempt' : `${r.attempts} attempts`;
  return escapeControls(`${r.method} ${r.url} ${what} in ${r.ms} ms (${tries}; trigger ${r.params.UsageTriggerSid ?? '?'})`) + '\n';
}
