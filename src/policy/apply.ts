// Carrying out one account's plan (issue 13). Safe to interrupt and run again: every step is checked
// against Ctrl-C before it is sent; a create with no certain answer is looked for by identity before it
// is sent again; a replace creates the new trigger before deleting the old one, so the account is never
// without its alarm (except at Twilio's 1,000-trigger limit, where the old one must go first).
import type { ApiClient } from '../api/client.js';
import type { UsageTrigger } from '../api/types.js';
import { UtrigError } from '../errors.js';
import { Interrupted } from '../fleet/engine.js';
import { createOnce, deleteIfPresent } from '../fleet/writes.js';
import { TRIGGER_SID_RE } from '../rules.js';
import { createForm, diffTrigger, friendlyName, specFromJson, updateForm, seenJson, ownedName } from './identity.js';
import { MAX_TRIGGERS, type AccountPlan, type PlanAction } from './plan.js';
import type { TriggerSpec } from './schema.js';

/** What apply did in one account. */
export interface AppliedAccount {
  created: number;
  updated: number;
  replaced: number;
  deleted: number;
  /** SIDs of the triggers created. */
  trigger_sids: string[];
}

/** A trigger of this identity that is not one of `known` and is what was asked for: a create that landed. */
async function findLanded(client: ApiClient, spec: TriggerSpec, known: Set<string>): Promise<UsageTrigger | undefined> {
  const q = new URLSearchParams({ UsageCategory: spec.category, PageSize: '1000' });
  const name = friendlyName(spec);
  for await (const page of client.listTriggerPages(q)) {
    const hit = (page.usage_triggers ?? []).find((t) => !known.has(t.sid) && t.friendly_name === name && diffTrigger(spec, t).replace.length === 0);
    if (hit) return hit;
  }
  return undefined;
}

/** Creates an owned trigger exactly once (a create that landed unanswered is found by its name). */
async function createOwned(client: ApiClient, spec: TriggerSpec, known: Set<string>, signal: AbortSignal): Promise<UsageTrigger> {
  const t = await createOnce(client, createForm(spec), {
    findLanded: () => findLanded(client, spec, known),
    resend: true,
    signal,
    interrupted: () => new Interrupted(),
    mayHaveBeenCreated: (reason) => `the trigger ${spec.name} may have been created: ${reason}; the next plan finds it by its name`,
  });
  known.add(t.sid);
  return t;
}

/**
 * Carries out one account's plan: deletes (freeing room), creates, updates, then replaces. `live` holds
 * the SIDs read when planning (a created trigger is told apart from them).
 */
export async function applyAccount(client: ApiClient, plan: AccountPlan, liveSids: Iterable<string>, signal: AbortSignal): Promise<AppliedAccount> {
  const known = new Set(liveSids);
  const r: AppliedAccount = { created: 0, updated: 0, replaced: 0, deleted: 0, trigger_sids: [] };
  let count = plan.live_count;
  const step = () => {
    if (signal.aborted) throw new Interrupted();
  };
  const of = (kind: PlanAction['action']) => plan.actions.filter((a) => a.action === kind);
  try {
    for (const a of of('delete')) {
      step();
      await deleteIfPresent(client, a.sid!);
      r.deleted++;
      count--;
    }
    for (const a of of('create')) {
      step();
      const t = await createOwned(client, specFromJson(a.desired!), known, signal);
      r.trigger_sids.push(t.sid);
      r.created++;
      count++;
    }
    for (const a of of('update')) {
      step();
      const spec = specFromJson(a.desired!);
      await client.updateTrigger(a.sid!, updateForm(spec, a.changes ?? []));
      r.updated++;
    }
    for (const a of of('replace')) {
      step();
      const spec = specFromJson(a.desired!);
      if (count >= MAX_TRIGGERS) {
        await deleteIfPresent(client, a.sid!);
        step();
        const t = await createOwned(client, spec, known, signal);
        r.trigger_sids.push(t.sid);
      } else {
        const t = await createOwned(client, spec, known, signal);
        r.trigger_sids.push(t.sid);
        step();
        await deleteIfPresent(client, a.sid!);
      }
      r.replaced++;
    }
  } catch (err) {
    if (err instanceof UtrigError && !(err instanceof Interrupted) && r.created + r.updated + r.replaced + r.deleted > 0) {
      err.message = `${done(r)}, then: ${err.message}`;
    }
    throw err;
  }
  return r;
}

function done(r: AppliedAccount): string {
  return `${r.created} created, ${r.updated} updated, ${r.replaced} replaced, ${r.deleted} deleted`;
}

/**
 * What changed in an account since a saved plan read it: owned triggers gone, new, or with other
 * fields. Empty when the live state still matches.
 */
export function driftSince(plan: AccountPlan, live: UsageTrigger[]): string[] {
  const then = new Map(plan.seen.map((s) => [s.sid!, s]));
  const out: string[] = [];
  const nowOwned = live.filter((t) => ownedName(t.friendly_name) !== undefined && TRIGGER_SID_RE.test(String(t.sid)));
  for (const t of nowOwned) {
    const was = then.get(t.sid);
    const label = `${t.sid} (${JSON.stringify(t.friendly_name)})`;
    if (!was) {
      out.push(`${label} is new since the plan`);
      continue;
    }
    then.delete(t.sid);
    const now = seenJson(t);
    for (const k of Object.keys(now)) {
      if (now[k] !== was[k]) out.push(`${label} ${k} changed from ${JSON.stringify(was[k])} to ${JSON.stringify(now[k])} since the plan`);
    }
  }
  for (const [sid, s] of then) out.push(`${sid} (${JSON.stringify(s.friendly_name)}) is gone since the plan`);
  return out;
}
