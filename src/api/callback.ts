import { request } from 'undici';
import { computeSignature } from './signature.js';

/** The trigger fields a callback is built from (the API's snake_case JSON satisfies it). */
export interface TriggerLike {
  sid: string;
  account_sid: string;
  usage_category: string;
  trigger_by: string;
  trigger_value: string;
  current_value: string;
  recurring: string | null;
  usage_record_uri: string;
  callback_url: string;
  callback_method: string;
}

/** RFC 2822 in GMT, the way Twilio writes dates: "Sat, 13 Oct 2012 21:32:30 +0000". */
export function formatRfc2822(d: Date): string {
  return d.toUTCString().replace(/ GMT$/, ' +0000');
}

/** Start (GMT) of the period a firing belongs to; non-recurring triggers use the firing day. */
export function periodStart(recurring: string | null, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (recurring) {
    case 'monthly':
      return new Date(Date.UTC(y, m, 1));
    case 'yearly':
      return new Date(Date.UTC(y, 0, 1));
    default:
      return new Date(Date.UTC(y, m, d));
  }
}

/** The form parameters Twilio sends to a usage trigger's callback URL. */
export function buildCallbackParams(t: TriggerLike, firedAt: Date): Record<string, string> {
  const recurring = t.recurring === null || t.recurring === 'alltime' ? '' : t.recurring;
  const day = periodStart(recurring === '' ? null : recurring, firedAt).toISOString().slice(0, 10);
  return {
    AccountSid: t.account_sid,
    UsageTriggerSid: t.sid,
    DateFired: formatRfc2822(firedAt),
    Recurring: recurring,
    UsageCategory: t.usage_category,
    TriggerBy: t.trigger_by,
    TriggerValue: t.trigger_value,
    CurrentValue: t.current_value,
    UsageRecordUri: t.usage_record_uri,
    // stable across retries of one firing, distinct per period: receivers dedupe on it
    IdempotencyToken: `${t.account_sid}-FIRES-${t.sid}-${day}`,
  };
}

export interface DeliveryAttempt {
  attempt: number;
  status: number | null;
  error: string | null;
  ms: number;
}

export interface DeliverOptions {
  url: string;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  authToken: string;
  /** Further attempts after a 5xx or a connection error; default 3 (Twilio retries three times). */
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  onAttempt?: (a: DeliveryAttempt) => void;
  userAgent?: string;
}

/** Sends a signed usage-trigger callback, retrying after 5xx or connection errors, never after 2xx-4xx. */
export async function deliverCallback(opts: DeliverOptions): Promise<{ attempts: number; status: number | null }> {
  const retries = opts.retries ?? 3;
  const delay = opts.retryDelayMs ?? 200;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let target = opts.url;
  let body: string | undefined;
  let signature: string;
  const headers: Record<string, string> = { 'user-agent': opts.userAgent ?? 'TwilioProxy/1.1' };
  if (opts.method === 'GET') {
    const u = new URL(opts.url);
    for (const [k, v] of Object.entries(opts.params)) u.searchParams.append(k, v);
    target = u.toString();
    signature = computeSignature(opts.authToken, target);
  } else {
    body = new URLSearchParams(opts.params).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
    signature = computeSignature(opts.authToken, target, opts.params);
  }
  headers['x-twilio-signature'] = signature;

  let status: number | null = null;
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const started = performance.now();
    let error: string | null = null;
    status = null;
    try {
      const res = await request(target, {
        method: opts.method,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      await res.body.dump();
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    opts.onAttempt?.({ attempt, status, error, ms: Math.round(performance.now() - started) });
    const retryable = status === null || status >= 500;
    if (!retryable || attempt > retries) break;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  }
  return { attempts: attempt, status };
}
