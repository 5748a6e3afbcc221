// Planning (issue 13): one account's live triggers against what the policy wants, and the warnings that
// come before harm. Reads only: the trigger list, and Usage Records for the triggers a plan creates.
import type { ApiClient } from '../api/client.js';
import type { UsageTrigger } from '../api/types.js';
import { normRecurring, parseMicros, TRIGGER_SID_RE, usageRecordsPeriod } from '../rules.js';
import { diffTrigger, ownedName, seenJson, specJson, type Change } from './identity.js';
import type { TriggerSpec } from './schema.js';

/** Twilio's limit of usage triggers per account. */
export const MAX_TRIGGERS = 1000;

export type ActionKind = 'create' | 'update' | 'replace' | 'delete' | 'unchanged';

/** One step of a plan, as the machine plan writes it. */
export interface PlanAction {
  action: ActionKind;
  name: string;
  /** The live trigger acted on (update, replace, delete, unchanged). */
  sid?: string;
  /** Replace: the fields Twilio cannot update, which force the delete + create. */
  forced_by?: string[];
  /** Update and replace: every field that differs. */
  changes?: Change[];
  /** Create, update, replace: the trigger wanted, in the API's snake_case. */
  desired?: Record<string, string>;
  /** Delete: an owned trigger the policy no longer lists (--prune), or a second one of the same name. */
  reason?: 'prune' | 'duplicate';
  warnings?: string[];
  /** `+N` values are not compared after creation: said once per trigger in the plan. */
  note?: string;
}

/** One account's plan. */
export interface AccountPlan {
  account_sid: string;
  friendly_name?: string | undefined;
  actions: PlanAction[];
  /** Owned triggers that the policy does not list, left alone without --prune. */
  kept: { name: string; sid: string }[];
  /** Triggers the policy does not own: never touched. */
  unowned: number;
  /** Triggers in the account when it was read. */
  live_count: number;
  /** The owned triggers as read, so a saved plan can tell whether they changed since. */
  seen: Record<string, string>[];
  /** Account-wide warnings (the 1,000-trigger limit). */
  warnings: string[];
}

/** Every trigger of an account, all pages. */
export async function readTriggers(client: ApiClient): Promise<UsageTrigger[]> {
  const out: UsageTrigger[] = [];
  for await (const page of client.listTriggerPages(new URLSearchParams({ PageSize: '1000' }))) out.push(...(page.usage_triggers ?? []));
  return out;
}

/** Matches live triggers with the wanted ones. Pure: no request. */
export function matchAccount(account: string, live: UsageTrigger[], desired: Map<string, TriggerSpec>, prune: boolean): AccountPlan {
  const owned = new Map<string, UsageTrigger[]>();
  let unowned = 0;
  for (const t of live) {
    const n = ownedName(t.friendly_name);
    // a SID that is not UT + 32 hex is never put in a path: such a trigger is left alone
    if (n === undefined || !TRIGGER_SID_RE.test(String(t.sid))) unowned++;
    else owned.set(n, [...(owned.get(n) ?? []), t]);
  }
  const actions: PlanAction[] = [];
  for (const [name, want] of desired) {
    const cands = owned.get(name) ?? [];
    owned.delete(name);
    const desiredJ = specJson(want);
    const note = want.value.startsWith('+') ? `value ${want.value} is relative to the usage at creation: it is not compared later, so it never forces a replace` : undefined;
    if (cands.length === 0) {
      actions.push({ action: 'create', name, desired: desiredJ, ...(note ? { note } : {}) });
      continue;
    }
    // the best match is kept: fewest fields forcing a replace, then fewest to update
    const scored = cands.map((t) => ({ t, d: diffTrigger(want, t) })).sort((a, b) => a.d.replace.length - b.d.replace.length || a.d.update.length - b.d.update.length);
    const best = scored[0]!;
    for (const extra of scored.slice(1)) actions.push({ action: 'delete', name, sid: extra.t.sid, reason: 'duplicate' });
    const changes = [...best.d.replace, ...best.d.update];
    if (best.d.replace.length > 0) {
      actions.push({ action: 'replace', name, sid: best.t.sid, forced_by: best.d.replace.map((c) => c.field), changes, desired: desiredJ, ...(note ? { note } : {}) });
    } else if (best.d.update.length > 0) {
      actions.push({ action: 'update', name, sid: best.t.sid, changes, desired: desiredJ });
    } else actions.push({ action: 'unchanged', name, sid: best.t.sid });
  }
  const kept: { name: string; sid: string }[] = [];
  for (const [name, ts] of owned) {
    for (const t of ts) {
      if (prune) actions.push({ action: 'delete', name, sid: t.sid, reason: 'prune' });
      else kept.push({ name, sid: t.sid });
    }
  }
  const seen = live.filter((t) => ownedName(t.friendly_name) !== undefined && TRIGGER_SID_RE.test(String(t.sid))).map(seenJson);
  const plan: AccountPlan = { account_sid: account, actions, kept, unowned, live_count: live.length, seen, warnings: [] };
  const creates = actions.filter((a) => a.action === 'create').length;
  const deletes = actions.filter((a) => a.action === 'delete').length;
  const after = live.length + creates - deletes;
  if (after > MAX_TRIGGERS) {
    plan.warnings.push(`would have ${after} usage triggers, over Twilio's limit of ${MAX_TRIGGERS}: creates past the limit will fail`);
  } else if (after >= MAX_TRIGGERS && actions.some((a) => a.action === 'replace')) {
    plan.warnings.push(`at Twilio's limit of ${MAX_TRIGGERS} triggers: a replace deletes the old trigger before creating the new one, so the alarm is missing for a moment`);
  }
  return plan;
}

const PERIOD_WORDS: Record<string, string> = { daily: 'today', monthly: 'this month', yearly: 'this year', '': 'so far (all time)' };

/** Usage of one category in the current period, with the server's "now" (as_of). */
interface PeriodUsage {
  count: number;
  usage: number;
  price: number;
  asOf: string | undefined;
}

async function periodUsage(client: ApiClient, category: string, recurring: string): Promise<PeriodUsage> {
  const list = usageRecordsPeriod(recurring);
  const q = new URLSearchParams({ Category: category });
  const page = (await client.send('GET', `/2010-04-01/Accounts/${client.accountSid}/Usage/Records/${list}.json?${q}`)) as {
    usage_records?: Record<string, unknown>[];
  };
  const recs = (page.usage_records ?? []).filter((r) => r.category === category);
  const asOf = recs.map((r) => r.as_of).find((v): v is string => typeof v === 'string');
  // Yearly lists one record per year: the current one starts in the year of as_of
  const cur = list === 'Yearly' ? recs.filter((r) => asOf !== undefined && String(r.start_date ?? '').startsWith(asOf.slice(0, 4))) : recs;
  const sum = (k: string) => cur.reduce((a, r) => a + (Number(r[k] ?? 0) || 0), 0);
  return { count: sum('count'), usage: sum('usage'), price: Math.abs(sum('price')), asOf };
}

/** The GMT period key of a date for a recurring setting ("2026-12-03", "2026-12", "2026"). */
function periodKey(ms: number, recurring: string): string {
  const iso = new Date(ms).toISOString();
  return recurring === 'daily' ? iso.slice(0, 10) : recurring === 'monthly' ? iso.slice(0, 7) : iso.slice(0, 4);
}

/**
 * Adds the warnings that need usage: a create or replace whose threshold is at or below the current
 * usage of its period fires within about a minute of apply; a replace of a recurring trigger that
 * already fired this period may fire again in the same period. Reads one Usage Records list per
 * category and period the plan creates in.
 */
export async function addUsageWarnings(client: ApiClient, plan: AccountPlan, live: UsageTrigger[]): Promise<void> {
  const cache = new Map<string, Promise<PeriodUsage>>();
  const usageOf = (category: string, recurring: string) => {
    const k = `${category}\u0000${recurring}`;
    let p = cache.get(k);
    if (!p) cache.set(k, (p = periodUsage(client, category, recurring)));
    return p;
  };
  const bySid = new Map(live.map((t) => [t.sid, t]));
  for (const a of plan.actions) {
    if ((a.action !== 'create' && a.action !== 'replace') || !a.desired) continue;
    const d = a.desired;
    const rec = normRecurring(d.recurring);
    const warnings: string[] = [];
    const absolute = !String(d.trigger_value).startsWith('+');
    const old = a.sid !== undefined ? bySid.get(a.sid) : undefined;
    const oldFired = old?.date_fired ? Date.parse(old.date_fired) : NaN;
    if (!absolute && !(old && normRecurring(old.recurring) !== '' && Number.isFinite(oldFired))) continue;
    const u = await usageOf(d.usage_category!, rec);
    if (absolute) {
      const by = (d.trigger_by ?? 'usage') as 'count' | 'usage' | 'price';
      const current = u[by];
      const threshold = (parseMicros(String(d.trigger_value)) ?? 0) / 1_000_000;
      if (current >= threshold) {
        warnings.push(`fires within about a minute of apply: ${d.usage_category} ${by} ${PERIOD_WORDS[rec] ?? ''} is already ${trimNumber(current)}, at or above ${d.trigger_value}`);
      }
    }
    if (a.action === 'replace' && old && normRecurring(old.recurring) !== '' && Number.isFinite(oldFired) && u.asOf !== undefined) {
      const oldRec = normRecurring(old.recurring);
      if (periodKey(oldFired, oldRec) === periodKey(Date.parse(u.asOf), oldRec)) {
        warnings.push(`the trigger being replaced already fired ${PERIOD_WORDS[oldRec]}: the new trigger may fire again this period`);
      }
    }
    if (warnings.length > 0) a.warnings = warnings;
  }
}

function trimNumber(n: number): string {
  return String(Math.round(n * 1_000_000) / 1_000_000);
}

/** Counts of actions, for totals. */
export type Totals = Record<ActionKind, number>;

export function emptyTotals(): Totals {
  return { create: 0, update: 0, replace: 0, delete: 0, unchanged: 0 };
}

/** True when the account's plan changes something. */
export function hasChanges(p: AccountPlan): boolean {
  return p.actions.some((a) => a.action !== 'unchanged');
}
