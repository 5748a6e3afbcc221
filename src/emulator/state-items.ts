import { isKnownCategory } from './store-common.js';

// Every item of a loaded state file (state.ts) is checked, and named when refused: a malformed
// item is an error, never silently dropped or reset.

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_TIME_MS = 8.64e15;
export const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_TIME_MS;
export const isMillionths = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function field(o: Obj, name: string, ok: (v: unknown) => boolean, expected: string): string | null {
  return ok(o[name]) ? null : `${name} is ${show(o[name])}, expected ${expected}`;
}

function httpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Why a trigger record is unusable, or null. */
export function triggerProblem(t: unknown): string | null {
  if (!isObj(t)) return `it is ${show(t)}, not a trigger object`;
  return (
    field(t, 'sid', (v) => typeof v === 'string' && /^UT[0-9a-f]{32}$/.test(v), 'UT followed by 32 hex digits') ??
    field(t, 'account_sid', (v) => typeof v === 'string' && /^AC[0-9a-fA-F]{32}$/.test(v), 'an account SID') ??
    field(t, 'friendly_name', (v) => typeof v === 'string', 'a string') ??
    field(t, 'callback_url', httpUrl, 'an absolute http(s) URL') ??
    field(t, 'callback_method', (v) => v === 'GET' || v === 'POST', 'GET or POST') ??
    field(t, 'usage_category', (v) => typeof v === 'string' && isKnownCategory(v), 'a known usage category') ??
    field(t, 'trigger_by', (v) => v === 'count' || v === 'usage' || v === 'price', 'count, usage or price') ??
    field(t, 'trigger_value', (v) => isMillionths(v) && v > 0, 'a positive integer (millionths)') ??
    field(t, 'recurring', (v) => v === null || v === 'daily' || v === 'monthly' || v === 'yearly', 'null, daily, monthly or yearly') ??
    field(t, 'date_created', isTime, 'a time in ms') ??
    field(t, 'date_updated', isTime, 'a time in ms') ??
    field(t, 'date_fired', (v) => v === null || isTime(v), 'null or a time in ms') ??
    field(t, 'fired_period', (v) => v === null || typeof v === 'string', 'null or a period key')
  );
}

export function accountProblem(a: unknown): string | null {
  if (!isObj(a)) return `it is ${show(a)}, not an account object`;
  const sid = (v: unknown) => typeof v === 'string' && /^AC[0-9a-fA-F]{32}$/.test(v);
  return (
    field(a, 'sid', sid, 'AC followed by 32 hex digits') ??
    field(a, 'friendly_name', (v) => typeof v === 'string', 'a string') ??
    field(a, 'auth_token', (v) => typeof v === 'string' && v !== '', 'a non-empty string') ??
    field(a, 'owner_account_sid', sid, 'an account SID') ??
    field(a, 'type', (v) => v === 'Full' || v === 'Trial', 'Full or Trial') ??
    field(a, 'status', (v) => v === 'active' || v === 'suspended' || v === 'closed', 'active, suspended or closed') ??
    field(a, 'date_created', isTime, 'a time in ms') ??
    field(a, 'date_updated', isTime, 'a time in ms')
  );
}

export function apiKeyProblem(k: unknown): string | null {
  if (!isObj(k)) return `it is ${show(k)}, not an API key object`;
  return (
    field(k, 'sid', (v) => typeof v === 'string' && /^SK[0-9a-fA-F]{32}$/.test(v), 'SK followed by 32 hex digits') ??
    field(k, 'secret', (v) => typeof v === 'string' && v !== '', 'a non-empty string') ??
    field(k, 'account_sid', (v) => typeof v === 'string' && /^AC[0-9a-fA-F]{32}$/.test(v), 'an account SID') ??
    field(k, 'friendly_name', (v) => typeof v === 'string', 'a string')
  );
}

export function bucketsProblem(b: unknown): string | null {
  if (!isObj(b)) return `it is ${show(b)}, not an object of usage buckets`;
  for (const [k, v] of Object.entries(b)) {
    if (!Array.isArray(v) || v.length !== 3 || !v.every(isMillionths)) return `bucket ${k} is ${show(v)}, expected [count, usage, price] in millionths`;
  }
  return null;
}
