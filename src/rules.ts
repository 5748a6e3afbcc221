// Twilio's rules for usage-trigger parameters, in one place: the CLI's flag parsing
// (src/commands/flags.ts) and the emulator's request checks (src/emulator/store.ts) both call these,
// so they accept and refuse exactly the same values (test/rules-agreement.test.ts holds them to it).
//
// Sources: Twilio's "REST API: UsageTrigger" page and the OpenAPI description
// (/work/shared/seeds, /work/shared/openapi). Where they are silent, the stricter reading is taken
// and the reason is written beside the rule. No rule trims or re-cases its input: what the CLI
// accepts is sent byte for byte, and what it refuses, the emulator refuses too.
import { CATEGORIES } from './categories.js';

/** A rule's answer: the typed value, or why the input was refused (a phrase that follows the name). */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

function ok<T>(value: T): Checked<T> {
  return { ok: true, value };
}

function no<T>(reason: string): Checked<T> {
  return { ok: false, reason };
}

/** Quotes input for a message: JSON escapes make control characters visible; long input is cut. */
export function quote(v: string): string {
  const s = JSON.stringify(v);
  return s.length > 90 ? `${s.slice(0, 80)}…"` : s;
}

// ---- UsageCategory ----

const CATEGORY_SET = new Set(CATEGORIES);
/** How every category is spelt: lower-case words joined by hyphens. */
export const CATEGORY_SYNTAX = /^[a-z0-9][a-z0-9-]*$/;

/**
 * A usage category: one of the 646 utrig knows (Twilio's last published enum plus the older
 * reference's). With allowUnknown a well-formed unknown one passes (`known: false`): Twilio adds
 * categories over time and no longer publishes the enum. The emulator never allows unknown ones.
 */
export function checkCategory(v: string, allowUnknown = false): Checked<{ category: string; known: boolean }> {
  if (CATEGORY_SET.has(v)) return ok({ category: v, known: true });
  if (!CATEGORY_SYNTAX.test(v)) {
    const near = normalizeCategory(v);
    const dym = CATEGORY_SET.has(near) ? `: did you mean ${near}?` : ', such as sms or calls-outbound';
    return no(`${quote(v)} is not a usage category: categories are lower-case words joined by hyphens${dym}`);
  }
  if (allowUnknown) return ok({ category: v, known: false });
  return no(`${quote(v)} is not a usage category utrig knows`);
}

/**
 * How a person may have meant a category: lower case, with spaces, underscores and dots read as
 * the hyphens that join words ("SMS Outbound", "sms_outbound" -> "sms-outbound"). Only used to
 * suggest; the rule itself never accepts the un-normalised form, so nothing else is sent.
 */
export function normalizeCategory(v: string): string {
  return v
    .trim()
    .toLowerCase()
    .replace(/[\s_.]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

// ---- TriggerValue ----

/** Trigger values are kept in millionths: Twilio answers them with six decimal places ("1000.000000"). */
export const VALUE_SCALE = 1_000_000;
/**
 * The largest trigger value, 999999999.999999. Twilio is silent on a maximum; nine digits before
 * the point and six after make 15 significant digits, the most a double (what a JS or Java backend
 * computes with) holds exactly, so no larger value can be stored without rounding.
 */
export const TRIGGER_VALUE_MAX = 999_999_999_999_999;
/**
 * Plain decimal only: digits, an optional point followed by digits, and for TriggerValue an
 * optional leading "+" (Twilio's offset). Twilio says "a positive, numeric value" and no more, so
 * the stricter reading refuses what only some parsers read as numbers: 1e3, 0x10, Infinity, NaN,
 * .5, 5., a minus sign, spaces.
 */
const PLAIN_DECIMAL = /^(\+?)(\d+)(?:\.(\d+))?$/;

/** A decimal parsed into millionths. */
interface Decimal {
  plus: boolean;
  micros: number;
}

function parseDecimal(v: string): Checked<Decimal> {
  const m = PLAIN_DECIMAL.exec(v);
  if (!m) return no(`${quote(v)} is not a number written in plain decimal (digits, optionally a point and more digits)`);
  const [, plus = '', int = '', frac = ''] = m;
  if (frac.length > 6) {
    return no(`${quote(v)} has ${frac.length} decimal places: Twilio keeps six (such as 0.000001), the rest would be lost`);
  }
  const digits = int.replace(/^0+(?=\d)/, '');
  const micros = digits.length > 9 ? Infinity : Number(digits) * VALUE_SCALE + Number(frac.padEnd(6, '0'));
  if (micros > TRIGGER_VALUE_MAX) return no(`${quote(v)} is too large: the largest value accepted is 999999999.999999`);
  return ok({ plus: plus === '+', micros });
}

/** A checked TriggerValue: `+N` is an offset (N more than the current value). */
export interface TriggerValue {
  /** As given, sent unchanged. */
  text: string;
  offset: boolean;
  /** The number (or the offset) in millionths; always > 0. */
  micros: number;
}

const VALUE_HINT = 'give a value such as 1000 or 12.50, or +30 for 30 more than the current value';

/**
 * TriggerValue: a plain decimal greater than 0, or +N with N greater than 0. Twilio's page says
 * "Must be a positive, numeric value", so 0 is refused, and so are +0 and -0.
 */
export function checkTriggerValue(v: string): Checked<TriggerValue> {
  const d = parseDecimal(v);
  if (!d.ok) {
    if (/^-/.test(v)) return no(`${quote(v)} is negative: ${VALUE_HINT}`);
    return no(`${d.reason}: ${VALUE_HINT}`);
  }
  if (d.value.micros === 0) return no(`${quote(v)} is not greater than 0: Twilio needs a positive value; ${VALUE_HINT}`);
  return ok({ text: v, offset: d.value.plus, micros: d.value.micros });
}

/**
 * An amount of simulated usage (the emulator's own `/emulator/usage`, not a Twilio parameter): a
 * plain decimal, 0 allowed, at most six decimal places; a leading "+" is allowed and dropped.
 * Returns the amount without the "+".
 */
export function checkUsageAmount(v: string): Checked<string> {
  const d = parseDecimal(v);
  if (!d.ok) return no(`${/^-/.test(v) ? `${quote(v)} is negative` : d.reason}: give an amount such as 40 or 0.32`);
  return ok(d.value.plus ? v.slice(1) : v);
}

/** Parses a plain non-negative decimal (no "+") into millionths, or null; for stored and computed values. */
export function parseMicros(v: string): number | null {
  const d = parseDecimal(v);
  return d.ok && !d.value.plus ? d.value.micros : null;
}

// ---- FriendlyName ----

export const FRIENDLY_NAME_MAX = 64;

/**
 * FriendlyName: "up to 64 characters long". Twilio does not say how characters are counted; the
 * stricter reading counts UTF-16 code units, what a Java or JavaScript backend measures and stores:
 * an emoji outside the BMP counts 2, a combining accent counts 1 on its own. Any name that fits in
 * 64 code units fits in 64 characters however they are counted.
 */
export function checkFriendlyName(v: string): Checked<string> {
  const units = v.length;
  if (units <= FRIENDLY_NAME_MAX) return ok(v);
  const points = [...v].length;
  if (points === units && !/\p{M}/u.test(v)) return no(`is ${units} characters long: Twilio accepts at most ${FRIENDLY_NAME_MAX}`);
  return no(
    `is ${units} characters long counted in UTF-16 code units, as Twilio stores it (an emoji counts 2, a combining accent 1): Twilio accepts at most ${FRIENDLY_NAME_MAX}`,
  );
}

// ---- CallbackUrl ----

/** Characters RFC 3986 allows in a URI (percent escapes are checked apart). */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const URL_HINT = 'give an absolute http(s) URL such as https://example.com/usage-hook';

/**
 * CallbackUrl: an absolute http or https URL with a host. The spec types it `format: uri`, which is
 * RFC 3986: ASCII only, no spaces or control characters, `%` only in escapes. The stricter reading
 * refuses what browsers would quietly repair (spaces, non-ASCII, backslashes, `https:example.com`)
 * instead of sending something other than what was typed.
 * A scheme or host in capitals (`HTTPS://EXAMPLE.COM`) is accepted: RFC 3986 §3.1 and §3.2.2 make
 * both case-insensitive, so it is a valid URI, and Twilio's spec admits every valid URI.
 */
export function checkCallbackUrl(v: string): Checked<string> {
  if (/\s/.test(v)) return no(`${quote(v)} is not a URL: it contains a space or line break (write a space as %20); ${URL_HINT}`);
  if (/[\u0000-\u001f\u007f]/.test(v)) return no(`${quote(v)} is not a URL: it contains a control character; ${URL_HINT}`);
  if (/[^\u0000-\u007f]/.test(v)) {
    return no(`${quote(v)} is not a URL: it contains a non-ASCII character (percent-encode it, and write the host in punycode); ${URL_HINT}`);
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v);
  if (!scheme) return no(`${quote(v)} is not a URL: ${URL_HINT}`);
  const s = (scheme[1] as string).toLowerCase();
  if (s !== 'http' && s !== 'https') return no(`must be an http or https URL; got ${s}`);
  if (!URI_CHARS.test(v) || /%(?![0-9A-Fa-f]{2})/.test(v)) {
    return no(`${quote(v)} is not a URL: it contains a character a URL cannot hold (such as \\ " < > { } | ^ \` or a stray %); ${URL_HINT}`);
  }
  if (!/^[A-Za-z]+:\/\/[^/?#]/.test(v)) return no(`${quote(v)} is not a URL: it needs // and a host after ${s}:; ${URL_HINT}`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return no(`${quote(v)} is not a URL: its host or port is not valid; ${URL_HINT}`);
  }
  if (u.hostname === '') return no(`${quote(v)} is not a URL: it has no host; ${URL_HINT}`);
  return ok(v);
}

// ---- CallbackMethod ----

/** CallbackMethod: Twilio's docs and current spec accept GET and POST only. */
export const METHODS = ['GET', 'POST'] as const;
export type CallbackMethod = (typeof METHODS)[number];
/** The older API reference's enum also listed these; Twilio never calls callbacks with them. */
export const LEGACY_METHODS = ['HEAD', 'PATCH', 'PUT', 'DELETE'] as const;

/**
 * CallbackMethod: exactly GET or POST. The spec's enum is upper-case and HTTP method names are
 * case-sensitive (RFC 9110 §9.1), so `get` is refused rather than guessed at.
 */
export function checkCallbackMethod(v: string): Checked<CallbackMethod> {
  if (v === 'GET' || v === 'POST') return ok(v);
  if ((LEGACY_METHODS as readonly string[]).includes(v)) {
    return no(`${v} is not accepted: Twilio calls usage-trigger callbacks with GET or POST only (the older enum's HEAD, PATCH, PUT and DELETE are refused)`);
  }
  const up = v.toUpperCase();
  const dym = up === 'GET' || up === 'POST' ? ` (method names are upper-case: did you mean ${up}?)` : '';
  return no(`${quote(v)} is not one of ${METHODS.join(', ')}${dym}`);
}

// ---- Recurring, TriggerBy ----

/** Recurring's enum; "" (empty) also means non-recurring, as Twilio's prose says. */
export const RECURRING = ['daily', 'monthly', 'yearly', 'alltime'] as const;
export type RecurringValue = (typeof RECURRING)[number] | '';

/** Recurring: one of the enum, exactly (lower-case), or empty. */
export function checkRecurring(v: string): Checked<RecurringValue> {
  const hit = [...RECURRING, ''].find((r) => r === v);
  if (hit !== undefined) return ok(hit as RecurringValue);
  return no(`${quote(v)} is not one of ${RECURRING.join(', ')}, or empty (once ever)${caseHint(v, RECURRING)}`);
}

/**
 * The Usage Records list that counts a recurring setting's current period, as Twilio documents them
 * (/Usage/Records/Today.json, …): daily → Today, monthly → ThisMonth, yearly → Yearly (one record a
 * year), anything else (once, alltime) → AllTime.
 */
export function usageRecordsPeriod(recurring: unknown): 'Today' | 'ThisMonth' | 'Yearly' | 'AllTime' {
  return recurring === 'daily' ? 'Today' : recurring === 'monthly' ? 'ThisMonth' : recurring === 'yearly' ? 'Yearly' : 'AllTime';
}

/** Recurring normalised for comparing triggers: null, "" and "alltime" all mean once ever (alltime never resets). */
export function normRecurring(v: unknown): string {
  return v === null || v === undefined || v === '' || v === 'alltime' ? '' : String(v);
}

export const TRIGGER_BY = ['count', 'usage', 'price'] as const;
export type TriggerByValue = (typeof TRIGGER_BY)[number];

/**
 * TriggerBy: one of the enum, exactly. Twilio documents no meaning for an empty value (unlike
 * Recurring's), so empty is refused; leave the parameter out for the default, usage.
 */
export function checkTriggerBy(v: string): Checked<TriggerByValue> {
  const hit = TRIGGER_BY.find((t) => t === v);
  if (hit !== undefined) return ok(hit);
  return no(`${quote(v)} is not one of ${TRIGGER_BY.join(', ')}${caseHint(v, TRIGGER_BY)}`);
}

function caseHint(v: string, allowed: readonly string[]): string {
  const low = v.toLowerCase();
  return allowed.includes(low) ? ` (values are lower-case: did you mean ${low}?)` : '';
}

// ---- SIDs ----

export const ACCOUNT_SID_RE = /^AC[0-9a-fA-F]{32}$/;
export const TRIGGER_SID_RE = /^UT[0-9a-fA-F]{32}$/;
export const API_KEY_SID_RE = /^SK[0-9a-fA-F]{32}$/;

const SID_KINDS = {
  AC: ['an account SID', ACCOUNT_SID_RE],
  UT: ['a usage trigger SID', TRIGGER_SID_RE],
  SK: ['an API key SID', API_KEY_SID_RE],
} as const;

/** A SID of the given kind: its two-letter prefix and 32 hex digits, as the spec's patterns say. */
export function checkSid(kind: keyof typeof SID_KINDS, v: string): Checked<string> {
  const [what, re] = SID_KINDS[kind];
  return re.test(v) ? ok(v) : no(`${quote(v)} is not ${what}: expected ${kind} followed by 32 hex digits`);
}

// ---- PageSize ----

/** PageSize bounds and Twilio's default (spec: integer, minimum 1, maximum 1000; default 50). */
export const PAGE_SIZE_MIN = 1;
export const PAGE_SIZE_MAX = 1000;
export const PAGE_SIZE_DEFAULT = 50;

/** PageSize: a whole number from 1 to 1000, digits only. */
export function checkPageSize(v: string): Checked<number> {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < PAGE_SIZE_MIN || n > PAGE_SIZE_MAX) {
    return no(`${quote(v)} must be a whole number from ${PAGE_SIZE_MIN} to ${PAGE_SIZE_MAX}`);
  }
  return ok(n);
}

// ---- Account status ----

/** An account's Status (the Accounts resource's `status`, its list filter and its update). */
export const ACCOUNT_STATUSES = ['active', 'suspended', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** Status exactly as Twilio spells it (lower case). */
export function checkAccountStatus(v: string): Checked<AccountStatus> {
  return (ACCOUNT_STATUSES as readonly string[]).includes(v) ? ok(v as AccountStatus) : no(`${quote(v)} is not one of ${ACCOUNT_STATUSES.join(', ')}`);
}
