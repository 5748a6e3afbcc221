// Identity and ownership of live triggers (issue 13). Twilio gives usage triggers no tags: the friendly
// name is the only label a client can write. So a trigger is *owned* by the policy when its friendly
// name is `utrig:<name>`, optionally followed by a space and free text (the policy's description);
// <name> is the policy trigger's name and identifies it within its account. Every other trigger is
// unowned: plan and apply never change or delete it.
import type { UsageTrigger } from '../api/types.js';
import { checkFriendlyName, normRecurring, parseMicros, quote, type Checked } from '../rules.js';
import type { TriggerSpec } from './schema.js';

/** The marker that makes a trigger the policy's. */
export const OWNER_PREFIX = 'utrig:';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/;
const OWNED_RE = /^utrig:([A-Za-z0-9][A-Za-z0-9._-]{0,47})(?: ([^]*))?$/;

/** A policy trigger name: letters, digits, ".", "_" and "-", starting with a letter or digit, up to 48. */
export function checkOwnedName(v: string): Checked<string> {
  if (NAME_RE.test(v)) return { ok: true, value: v };
  return { ok: false, reason: `${quote(v)} is not a trigger name: use 1 to 48 letters, digits, ".", "_" or "-", starting with a letter or digit` };
}

/** The owned name of a live trigger, or undefined when the policy does not own it. */
export function ownedName(friendlyName: string | null | undefined): string | undefined {
  const m = OWNED_RE.exec(friendlyName ?? '');
  return m ? m[1] : undefined;
}

/** The description part of an owned friendly name (after `utrig:<name> `). */
export function ownedDescription(friendlyName: string): string | undefined {
  const m = OWNED_RE.exec(friendlyName);
  return m?.[2];
}

/** The friendly name the policy writes for a trigger; refused when over Twilio's 64 characters. */
export function friendlyNameFor(t: Pick<TriggerSpec, 'name' | 'description'>): Checked<string> {
  const v = `${OWNER_PREFIX}${t.name}${t.description !== undefined && t.description !== '' ? ` ${t.description}` : ''}`;
  return checkFriendlyName(v);
}

/** The friendly name, unchecked (the policy was checked when read). */
export function friendlyName(t: Pick<TriggerSpec, 'name' | 'description'>): string {
  return `${OWNER_PREFIX}${t.name}${t.description !== undefined && t.description !== '' ? ` ${t.description}` : ''}`;
}

/** A value normalised for comparison and display: 1000.000000 -> "1000", 12.500000 -> "12.5". */
export function normValue(v: string): string {
  const micros = parseMicros(v);
  if (micros === null) return v;
  const int = Math.floor(micros / 1_000_000);
  const frac = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return frac === '' ? String(int) : `${int}.${frac}`;
}

/** One field that differs: its policy name, the live value and the wanted one. */
export interface Change {
  field: string;
  from: string;
  to: string;
}

/** What it takes to turn a live trigger into the wanted one. */
export interface TriggerDiff {
  /** Fields Twilio cannot update: the trigger must be deleted and created again. */
  replace: Change[];
  /** Fields updated in place. */
  update: Change[];
}

/**
 * Compares a live trigger with the wanted one. Values are compared normalised (1000 = 1000.000000); a
 * `+N` value is not compared at all: it became an absolute value when the trigger was made, so it
 * never forces a replace later. Methods compare without regard to case.
 */
export function diffTrigger(want: TriggerSpec, live: UsageTrigger): TriggerDiff {
  const replace: Change[] = [];
  const update: Change[] = [];
  const cmp = (list: Change[], field: string, from: string, to: string, same = from === to) => {
    if (!same) list.push({ field, from, to });
  };
  cmp(replace, 'category', live.usage_category, want.category);
  cmp(replace, 'trigger_by', String(live.trigger_by ?? 'usage'), want.triggerBy);
  cmp(replace, 'recurring', normRecurring(live.recurring), normRecurring(want.recurring));
  if (!want.value.startsWith('+')) {
    const a = parseMicros(String(live.trigger_value));
    const b = parseMicros(want.value);
    cmp(replace, 'value', normValue(String(live.trigger_value)), normValue(want.value), a !== null && a === b);
  }
  cmp(update, 'callback_url', String(live.callback_url ?? ''), want.callbackUrl);
  const lm = String(live.callback_method ?? 'POST');
  cmp(update, 'callback_method', lm, want.callbackMethod, lm.toUpperCase() === want.callbackMethod.toUpperCase());
  cmp(update, 'friendly_name', String(live.friendly_name ?? ''), friendlyName(want));
  return { replace, update };
}

/** The create form of a wanted trigger, with Twilio's parameter names. */
export function createForm(t: TriggerSpec): URLSearchParams {
  const f = new URLSearchParams();
  f.set('CallbackUrl', t.callbackUrl);
  f.set('TriggerValue', t.value);
  f.set('UsageCategory', t.category);
  f.set('CallbackMethod', t.callbackMethod);
  f.set('FriendlyName', friendlyName(t));
  if (t.recurring !== '') f.set('Recurring', t.recurring);
  f.set('TriggerBy', t.triggerBy);
  return f;
}

/** The update form for the fields that differ. */
export function updateForm(t: TriggerSpec, changes: Change[]): URLSearchParams {
  const f = new URLSearchParams();
  for (const c of changes) {
    if (c.field === 'callback_url') f.set('CallbackUrl', t.callbackUrl);
    if (c.field === 'callback_method') f.set('CallbackMethod', t.callbackMethod);
    if (c.field === 'friendly_name') f.set('FriendlyName', friendlyName(t));
  }
  return f;
}

/** The wanted trigger in the API's snake_case, for the machine plan. */
export function specJson(t: TriggerSpec): Record<string, string> {
  return {
    name: t.name,
    friendly_name: friendlyName(t),
    usage_category: t.category,
    trigger_by: t.triggerBy,
    trigger_value: t.value,
    recurring: t.recurring,
    callback_url: t.callbackUrl,
    callback_method: t.callbackMethod,
  };
}

/** A spec back from the machine plan's snake_case (a saved plan). */
export function specFromJson(j: Record<string, unknown>): TriggerSpec {
  const s = (k: string) => (typeof j[k] === 'string' ? (j[k] as string) : '');
  const fn = s('friendly_name');
  return {
    name: s('name'),
    category: s('usage_category'),
    triggerBy: s('trigger_by') as TriggerSpec['triggerBy'],
    value: s('trigger_value'),
    recurring: s('recurring') as TriggerSpec['recurring'],
    callbackUrl: s('callback_url'),
    callbackMethod: s('callback_method') as TriggerSpec['callbackMethod'],
    description: ownedDescription(fn),
  };
}

/** What a saved plan remembers of a live owned trigger, to see later whether it changed. */
export function seenJson(t: UsageTrigger): Record<string, string> {
  return {
    sid: t.sid,
    friendly_name: String(t.friendly_name ?? ''),
    usage_category: t.usage_category,
    trigger_by: String(t.trigger_by ?? 'usage'),
    trigger_value: normValue(String(t.trigger_value)),
    recurring: normRecurring(t.recurring),
    callback_url: String(t.callback_url ?? ''),
    callback_method: String(t.callback_method ?? 'POST').toUpperCase(),
  };
}
