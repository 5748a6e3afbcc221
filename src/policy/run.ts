// The glue of plan, apply and export: the policy's accounts, one engine, and a planning pass over every
// account through it.
import type { CommandContext, Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { eachAccount, openFleet, type Fleet, type Tally } from '../fleet/run.js';
import { readAccountsFile, resolveAccounts, type SelectionOptions } from '../fleet/select.js';
import { addUsageWarnings, matchAccount, readTriggers, type AccountPlan } from './plan.js';
import type { PlanCounter, PlanSink } from './render.js';
import { desiredFor, type Policy, type PolicyAccounts } from './schema.js';

/** Reads an accounts_file of the policy now, so a bad line fails before anything is sent. */
export async function selectionOf(accounts: PolicyAccounts, concurrency: number): Promise<SelectionOptions | undefined> {
  if (accounts.kind === 'current') return undefined;
  const sel: SelectionOptions = { ...accounts.selection, concurrency };
  if (accounts.accountsFile !== undefined) {
    sel.accounts = [...new Set([...(sel.accounts ?? []), ...(await readAccountsFile(accounts.accountsFile, 'accounts_file'))])];
  }
  return sel;
}

/** Resolves the accounts (the current one, or the fleet selection) and prepares the engine; Ctrl-C stops it cleanly. */
export async function startPolicyFleet(deps: Deps, ctx: CommandContext, sel: SelectionOptions | undefined, concurrency: number): Promise<Fleet> {
  if (sel !== undefined && deps.globals.accountSid !== undefined) {
    throw new UsageError('--account-sid and a policy that selects subaccounts contradict each other: use accounts: current, or drop --account-sid');
  }
  // a suspended customer is left as it is: say so, so that a missing account is not a surprise (counted
  // while the selected accounts are listed, not after: the listing is on the way to every account's first request)
  const countSuspended =
    sel?.allSubaccounts && sel.accountStatus === 'active'
      ? deps.client().then((base) => resolveAccounts(base, { ...sel, includeParent: false, accountStatus: 'suspended' })).then((a) => a.length)
      : Promise.resolve(0);
  const [fleet, suspended] = await Promise.all([openFleet(deps, ctx, sel, concurrency), countSuspended]);
  if (suspended > 0) {
    deps.messages.note(`${suspended} suspended subaccount${suspended === 1 ? ' is' : 's are'} not selected and left as ${suspended === 1 ? 'it is' : 'they are'} (account_status: all selects them)`);
  }
  return fleet;
}

/** What planning one account gives apply: the plan and the SIDs read (only those: apply holds one per changed account). */
export interface Planned {
  plan: AccountPlan;
  liveSids: string[];
}

/**
 * Plans every account of the fleet through the engine and hands each to the sink as it finishes.
 * `keep` receives the plans that change something (apply holds only those).
 */
export async function planFleet(
  fleet: Fleet,
  policy: Policy,
  prune: boolean,
  sink: PlanSink,
  counter: PlanCounter,
  tally: Tally,
  keep?: (p: Planned) => void,
): Promise<void> {
  const events = eachAccount<AccountPlan, never>(
    fleet,
    async (t) => {
      const live = await readTriggers(t.client);
      const name = fleet.accounts.nameOf(t.account);
      const plan = matchAccount(t.account, live, desiredFor(policy, t.account, name), prune);
      if (name) plan.friendly_name = name;
      await addUsageWarnings(t.client, plan, live);
      if (keep && plan.actions.some((a) => a.action !== 'unchanged')) keep({ plan, liveSids: live.map((x) => x.sid) });
      return plan;
    },
  );
  for await (const ev of events) {
    if (ev.type !== 'done') continue;
    const o = tally.record(ev.outcome);
    if (o.status === 'ok') {
      counter.add(o.value);
      tally.add('planned');
      await sink.account(o.value);
    } else if (o.status === 'failed') {
      counter.s.failed++;
      sink.failed(o.account, o.error);
    } else counter.s.notPlanned++;
  }
  await sink.end(counter.s);
}
