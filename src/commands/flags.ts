import { TRIGGER_SID_RE } from '../api/types.js';
import { CATEGORIES } from '../categories.js';
import { UsageError } from '../errors.js';

export const METHODS = ['GET', 'POST'] as const;
export const LEGACY_METHODS = ['HEAD', 'PATCH', 'PUT', 'DELETE'] as const;
export const RECURRING = ['daily', 'monthly', 'yearly', 'alltime'] as const;
export const TRIGGER_BY = ['count', 'usage', 'price'] as const;
export const FRIENDLY_NAME_MAX = 64;

const CATEGORY_SET = new Set(CATEGORIES);

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
  const category = v.trim();
  if (CATEGORY_SET.has(category)) return { category, known: true };
  if (category === '' || !/^[a-z0-9][a-z0-9-]*$/.test(category)) {
    throw new UsageError(
      `${flag} "${v}" is not a usage category: categories are lower-case words joined by hyphens, such as sms or calls-outbound; see \`utrig categories\``,
    );
  }
  if (allowUnknown) return { category, known: false };
  const near = suggestCategories(category);
  const dym = near.length > 0 ? `; did you mean ${near.join(', ')}?` : '';
  throw new UsageError(
    `${flag} "${v}" is not a usage category utrig knows${dym} (see \`utrig categories\`, or pass --allow-unknown-category for one newer than utrig's list)`,
  );
}

/** A trigger value: a non-negative decimal, or +N meaning N more than the current value. */
export function parseTriggerValue(flag: string, v: string): string {
  const s = v.trim();
  if (!/^\+?(\d+(\.\d+)?|\.\d+)$/.test(s)) {
    throw new UsageError(`${flag} "${v}" is not a number: give a value such as 1000 or 12.50, or +30 for 30 more than the current value`);
  }
  return s;
}

/** A callback URL: absolute http or https. */
export function parseCallbackUrl(flag: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`${flag} "${v}" is not a URL: give an absolute http(s) URL such as https://example.com/usage-hook`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http or https URL; got ${u.protocol.replace(/:$/, '')}`);
  }
  return v;
}

/** The callback method: GET or POST (any case). The older enum's other verbs are refused. */
export function parseCallbackMethod(flag: string, v: string): 'GET' | 'POST' {
  const m = v.trim().toUpperCase();
  if (m === 'GET' || m === 'POST') return m;
  if ((LEGACY_METHODS as readonly string[]).includes(m)) {
    throw new UsageError(
      `${flag} ${m} is not accepted: Twilio calls usage-trigger callbacks with GET or POST only (the older enum's HEAD, PATCH, PUT and DELETE are refused)`,
    );
  }
  return enumError(flag, v, METHODS);
}

function enumError(flag: string, v: string, allowed: readonly string[]): never {
  throw new UsageError(`${flag} "${v}" is not one of ${allowed.join(', ')}`);
}

/** One value of a fixed list, case-insensitive. */
export function parseEnum<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  const s = v.trim().toLowerCase();
  const hit = allowed.find((a) => a === s);
  return hit ?? enumError(flag, v, allowed);
}

/** A friendly name: at most 64 characters. */
export function parseFriendlyName(flag: string, v: string): string {
  const n = [...v].length;
  if (n > FRIENDLY_NAME_MAX) {
    throw new UsageError(`${flag} is ${n} characters long: Twilio accepts at most ${FRIENDLY_NAME_MAX}`);
  }
  return v;
}

/** A usage trigger SID: UT followed by 32 hex digits. */
export function parseTriggerSid(what: string, v: string): string {
  if (!TRIGGER_SID_RE.test(v)) {
    throw new UsageError(`${what} "${v}" is not a usage trigger SID: expected UT followed by 32 hex digits`);
  }
  return v;
}

/** A whole number within bounds. */
export function parseIntFlag(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`${flag} "${v}" must be a whole number from ${min} to ${max}`);
  }
  return Number(v);
}

/** Reads an optional string option from commander's untyped values. */
export function str(raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  return typeof v === 'string' ? v : undefined;
}

/** A plain decimal (digits, an optional fraction) within bounds: no sign, exponent, hex or spaces. */
export function parseDecimalFlag(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^(\d{1,15}(\.\d{1,15})?|\.\d{1,15})$/.test(v) || n < min || n > max) {
    throw new UsageError(`${flag} "${v}" must be a plain decimal number from ${min} to ${max}`);
  }
  return n;
}
