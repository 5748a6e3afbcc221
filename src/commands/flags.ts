import { UsageError } from '../errors.js';
import {
  checkCallbackMethod,
  checkCallbackUrl,
  checkCategory,
  checkFriendlyName,
  checkPageSize,
  checkRecurring,
  checkSid,
  checkTriggerBy,
  checkTriggerValue,
  checkUsageAmount,
  CATEGORY_SYNTAX,
  normalizeCategory,
  quote,
  type CallbackMethod,
  type Checked,
  type RecurringValue,
  type TriggerByValue,
} from '../rules.js';
import { CATEGORIES } from '../categories.js';

// Twilio's rules live in src/rules.ts, shared with the emulator; this file turns their reasons into
// UsageErrors that name the flag (exit 2, nothing sent) and adds what only a CLI user needs.
export { FRIENDLY_NAME_MAX, LEGACY_METHODS, METHODS, PAGE_SIZE_MAX, RECURRING, TRIGGER_BY } from '../rules.js';
export type { RecurringValue, TriggerByValue } from '../rules.js';

/** The value of a passed rule, or a UsageError "<flag> <reason>". */
function need<T>(flag: string, c: Checked<T>): T {
  if (!c.ok) throw new UsageError(`${flag} ${c.reason}`);
  return c.value;
}

/** Levenshtein distance, bounded: stops early once over max. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to three known categories close to a misspelt one. */
export function suggestCategories(input: string): string[] {
  const max = Math.max(2, Math.floor(input.length / 4));
  return CATEGORIES.map((c) => ({ c, d: distance(input, c, max) }))
    .filter((x) => x.d <= max)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, 3)
    .map((x) => x.c);
}

/** Checks a usage category; with allowUnknown an unknown one passes (the caller warns). */
export function parseCategory(flag: string, v: string, allowUnknown: boolean): { category: string; known: boolean } {
  const c = checkCategory(v, allowUnknown);
  if (c.ok) return c.value;
  if (!CATEGORY_SYNTAX.test(v)) {
    // "SMS_outbund": the rule suggests only an exact normalised hit; a near one is found here
    const near = /did you mean/.test(c.reason) ? [] : suggestCategories(normalizeCategory(v));
    const dym = near.length > 0 ? `; did you mean ${near.join(', ')}?` : '';
    throw new UsageError(`${flag} ${c.reason}${dym}; see \`utrig categories\``);
  }
  const near = suggestCategories(v);
  const dym = near.length > 0 ? `; did you mean ${near.join(', ')}?` : '';
  throw new UsageError(
    `${flag} ${c.reason}${dym} (see \`utrig categories\`, or pass --allow-unknown-category for one newer than utrig's list)`,
  );
}

/** A trigger value: a plain decimal greater than 0, or +N meaning N more than the current value. */
export function parseTriggerValue(flag: string, v: string): string {
  return need(flag, checkTriggerValue(v)).text;
}

/** An amount of simulated usage (`utrig emulator usage --count/--usage/--price`): 0 or more; a "+" is dropped. */
export function parseUsageAmount(flag: string, v: string): string {
  return need(flag, checkUsageAmount(v));
}

/** A callback URL: absolute http or https, ASCII, no spaces. */
export function parseCallbackUrl(flag: string, v: string): string {
  return need(flag, checkCallbackUrl(v));
}

/** The callback method: GET or POST, upper-case as Twilio's enum spells them. */
export function parseCallbackMethod(flag: string, v: string): CallbackMethod {
  return need(flag, checkCallbackMethod(v));
}

/** Recurring: daily, monthly, yearly, alltime, or empty (once ever). */
export function parseRecurring(flag: string, v: string): RecurringValue {
  return need(flag, checkRecurring(v));
}

/** TriggerBy: count, usage or price. */
export function parseTriggerBy(flag: string, v: string): TriggerByValue {
  return need(flag, checkTriggerBy(v));
}

/** One value of a fixed list, exactly as listed. */
export function parseEnum<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  const hit = allowed.find((a) => a === v);
  if (hit === undefined) throw new UsageError(`${flag} ${quote(v)} is not one of ${allowed.join(', ')}`);
  return hit;
}

/** A friendly name: at most 64 UTF-16 code units, as Twilio counts them. */
export function parseFriendlyName(flag: string, v: string): string {
  return need(flag, checkFriendlyName(v));
}

/** A usage trigger SID: UT followed by 32 hex digits. */
export function parseTriggerSid(what: string, v: string): string {
  return need(what, checkSid('UT', v));
}

/** --page-size: a whole number from 1 to 1000, Twilio's PageSize bounds. */
export function parsePageSize(flag: string, v: string): number {
  return need(flag, checkPageSize(v));
}

/** A whole number within bounds. */
export function parseIntFlag(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`${flag} "${v}" must be a whole number from ${min} to ${max}`);
  }
  return Number(v);
}

/** The trigger list's own filters (Twilio's UsageCategory, Recurring, TriggerBy), as list and a fleet delete take them. */
export interface TriggerFilter {
  category?: string;
  recurring?: RecurringValue;
  triggerBy?: TriggerByValue;
}

/** Reads and checks --category, --recurring and --trigger-by. */
export function parseTriggerFilter(raw: Record<string, unknown>): TriggerFilter {
  const f: TriggerFilter = {};
  const category = str(raw, 'category');
  if (category !== undefined) f.category = parseCategory('--category', category, raw.allowUnknownCategory === true).category;
  const rec = str(raw, 'recurring');
  if (rec !== undefined) f.recurring = parseRecurring('--recurring', rec);
  const by = str(raw, 'triggerBy');
  if (by !== undefined) f.triggerBy = parseTriggerBy('--trigger-by', by);
  return f;
}

/** The trigger list's query: the filters and a page size. */
export function triggerListQuery(f: TriggerFilter, pageSize: number): URLSearchParams {
  const q = new URLSearchParams();
  if (f.category !== undefined) q.set('UsageCategory', f.category);
  if (f.recurring !== undefined) q.set('Recurring', f.recurring);
  if (f.triggerBy !== undefined) q.set('TriggerBy', f.triggerBy);
  q.set('PageSize', String(pageSize));
  return q;
}

/** Reads an optional string option from commander's untyped values. */
export function str(raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  return typeof v === 'string' ? v : undefined;
}
