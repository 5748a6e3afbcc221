// `utrig export`: live owned triggers written as a policy that `utrig plan` shows as no changes. Each
// trigger name goes into `triggers` with the settings most accounts have (when more than half of the
// accounts have it); accounts that differ get an override with only the differing fields, or null
// where they lack it; accounts with the same overrides share one entry.
import type { UsageTrigger } from '../api/types.js';
import { normRecurring } from '../rules.js';
import { normValue, ownedDescription, ownedName } from './identity.js';

/** One trigger of the policy file, as written (snake_case, defaults left out). */
type TriggerOut = Record<string, string | number>;

/** The policy trigger an owned live trigger is. */
function triggerOut(t: UsageTrigger): TriggerOut {
  const v = normValue(String(t.trigger_value));
  const o: TriggerOut = {
    name: ownedName(t.friendly_name)!,
    category: t.usage_category,
    trigger_by: String(t.trigger_by ?? 'usage'),
    value: String(Number(v)) === v ? Number(v) : v,
    recurring: normRecurring(t.recurring),
    callback_url: String(t.callback_url ?? ''),
    callback_method: String(t.callback_method ?? 'POST').toUpperCase(),
  };
  const d = ownedDescription(String(t.friendly_name ?? ''));
  if (d !== undefined && d !== '') o.description = d;
  return o;
}

/** Leaves out fields at their default, for a shorter file. */
function compact(t: TriggerOut): TriggerOut {
  const o = { ...t };
  if (o.trigger_by === 'usage') delete o.trigger_by;
  if (o.recurring === '') delete o.recurring;
  if (o.callback_method === 'POST') delete o.callback_method;
  return o;
}

const FIELDS = ['category', 'trigger_by', 'value', 'recurring', 'callback_url', 'callback_method', 'description'];

export interface ExportResult {
  doc: Record<string, unknown>;
  unowned: number;
  duplicates: number;
}

/**
 * Builds the policy document from each account's live triggers (accounts in selection order).
 * `accountsBlock` is the policy's `accounts` value.
 */
export function buildPolicy(accountsBlock: unknown, accounts: { sid: string; triggers: UsageTrigger[] }[]): ExportResult {
  let unowned = 0;
  let duplicates = 0;
  const per = new Map<string, Map<string, TriggerOut>>();
  const names: string[] = [];
  for (const a of accounts) {
    const m = new Map<string, TriggerOut>();
    for (const t of a.triggers) {
      const n = ownedName(t.friendly_name);
      if (n === undefined) {
        unowned++;
        continue;
      }
      if (m.has(n)) {
        duplicates++;
        continue;
      }
      m.set(n, triggerOut(t));
      if (!names.includes(n)) names.push(n);
    }
    per.set(a.sid, m);
  }
  names.sort();
  const base: TriggerOut[] = [];
  const overrides = new Map<string, Record<string, TriggerOut | null>>(accounts.map((a) => [a.sid, {}]));
  for (const n of names) {
    const having = accounts.filter((a) => per.get(a.sid)!.has(n));
    const counts = new Map<string, { t: TriggerOut; n: number }>();
    for (const a of having) {
      const t = per.get(a.sid)!.get(n)!;
      const k = JSON.stringify(t);
      const c = counts.get(k);
      if (c) c.n++;
      else counts.set(k, { t, n: 1 });
    }
    const common = [...counts.values()].sort((x, y) => y.n - x.n)[0]!.t;
    const inBase = having.length * 2 > accounts.length;
    if (inBase) base.push(compact(common));
    for (const a of accounts) {
      const t = per.get(a.sid)!.get(n);
      const ov = overrides.get(a.sid)!;
      if (!t) {
        if (inBase) ov[n] = null;
        continue;
      }
      if (!inBase) {
        const { name: _name, ...rest } = compact(t);
        ov[n] = rest;
        continue;
      }
      const diff: TriggerOut = {};
      for (const f of FIELDS) {
        if (t[f] !== common[f]) diff[f] = t[f] ?? (f === 'description' ? '' : '');
      }
      if (Object.keys(diff).length > 0) ov[n] = diff;
    }
  }
  // accounts with the same overrides share one entry
  const groups = new Map<string, { accounts: string[]; triggers: Record<string, TriggerOut | null> }>();
  for (const [sid, ov] of overrides) {
    if (Object.keys(ov).length === 0) continue;
    const k = JSON.stringify(ov);
    const g = groups.get(k);
    if (g) g.accounts.push(sid);
    else groups.set(k, { accounts: [sid], triggers: ov });
  }
  const doc: Record<string, unknown> = { version: 1, accounts: accountsBlock, triggers: base };
  if (groups.size > 0) doc.overrides = [...groups.values()];
  return { doc, unowned, duplicates };
}
