import { createHash } from 'node:crypto';
import { formatRfc2822 } from '../api/callback.js';
import {
  checkCallbackMethod,
  checkCallbackUrl,
  checkCategory as categoryRule,
  checkFriendlyName as friendlyNameRule,
  checkPageSize,
  checkRecurring,
  checkTriggerBy,
  PAGE_SIZE_DEFAULT,
  type Checked,
} from '../rules.js';

// What every part of the store shares: the error it throws, the change it reports, and the
// request-parameter checks (the rules themselves live in src/rules.ts, shared with the CLI).

export const API_VERSION = '2010-04-01';

export type TriggerBy = 'count' | 'usage' | 'price';
export type Recurring = 'daily' | 'monthly' | 'yearly';

/** A 4xx the API should answer with (Twilio code, HTTP status). */
export class StoreError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** What one mutation touched, so persistence can journal just that (see journal.ts). */
export type StoreChange =
  | { kind: 'clock' }
  | { kind: 'account'; sid: string }
  | { kind: 'apiKey'; sid: string }
  /** created, updated, fired or deleted (absent from `triggers` afterwards) */
  | { kind: 'trigger'; sid: string }
  | { kind: 'usage'; account: string; category: string };

/** Derives a stable 32-hex string from text (fixed test credentials, subaccount SIDs). */
export function stableHex(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

const rfcCache = new Map<number, string>();
/** RFC 2822 by whole second, memoised: a page of 1,000 triggers repeats a handful of instants. */
export function cachedRfc2822(ms: number): string {
  const sec = Math.floor(ms / 1000);
  let s = rfcCache.get(sec);
  if (s === undefined) {
    if (rfcCache.size > 10_000) rfcCache.clear();
    s = formatRfc2822(new Date(sec * 1000));
    rfcCache.set(sec, s);
  }
  return s;
}

// Twilio answers every malformed or missing parameter of these endpoints with 400 and code 20001
// ("Missing required parameter X in the post body", "Invalid parameter"); see server.ts for the table.
export const BAD = 20001;

export function requireParam(v: string | undefined, name: string): string {
  if (v === undefined || v === '') throw new StoreError(400, BAD, `Missing required parameter ${name} in the post body`);
  return v;
}

/** The value of a passed rule (src/rules.ts, shared with the CLI), or a 400 naming the parameter. */
export function need<T>(name: string, c: Checked<T>): T {
  if (!c.ok) throw new StoreError(400, BAD, `${name} ${c.reason}`);
  return c.value;
}

export function checkUrl(v: string, name: string): string {
  return need(name, checkCallbackUrl(v));
}

export function checkMethod(v: string): 'GET' | 'POST' {
  return need('CallbackMethod', checkCallbackMethod(v));
}

export function checkFriendlyName(v: string): string {
  return need('FriendlyName', friendlyNameRule(v));
}

/** Parses a Recurring value; '' and 'alltime' mean non-recurring (null). */
export function parseRecurring(v: string): Recurring | null {
  const r = need('Recurring', checkRecurring(v));
  return r === '' || r === 'alltime' ? null : r;
}

export function parseTriggerBy(v: string): TriggerBy {
  return need('TriggerBy', checkTriggerBy(v));
}

export function checkCategory(v: string, name: string): string {
  return need(name, categoryRule(v)).category;
}

export function isKnownCategory(c: string): boolean {
  return categoryRule(c).ok;
}

/** The list's PageSize query parameter: absent or empty means Twilio's default, 50. */
export function pageSizeParam(v: string | null): number {
  return v === null || v === '' ? PAGE_SIZE_DEFAULT : need('PageSize', checkPageSize(v));
}
