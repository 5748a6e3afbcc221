import type { Command } from 'commander';
import type { CommandContext, Deps } from '../deps.js';
import { CancelledError, UsageError, UtrigError } from '../errors.js';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../fleet/select.js';
import { examples } from '../output/help.js';
import type { Planned } from '../policy/run.js';
import { parseIntFlag, str } from './flags.js';

export interface ApplyOptions {
  /** -f: plan this policy now, then apply. */
  file?: string;
  /** A saved plan (`utrig plan --out`). */
  planFile?: string;
  prune: boolean;
  yes: boolean;
  concurrency: number;
}

/** Reads and checks apply's flags. */
export function parseApplyOptions(raw: Record<string, unknown>, args: string[]): ApplyOptions {
  const file = str(raw, 'file');
  if (args.length > 1) throw new UsageError('give one saved plan file');
  const planFile = args[0];
  if (file !== undefined && planFile !== undefined) throw new UsageError('give a policy with -f or a saved plan, not both');
  if (file === undefined && planFile === undefined) throw new UsageError('missing -f/--file POLICY or a saved plan file (utrig plan --out plan.json)');
  if (file === '') throw new UsageError('-f/--file is empty: give the policy file');
  const o: ApplyOptions = { prune: raw.prune === true, yes: raw.yes === true, concurrency: DEFAULT_CONCURRENCY };
  if (file !== undefined) o.file = file;
  if (planFile !== undefined) {
    if (o.prune) throw new UsageError('--prune works with -f only: a saved plan already says what it deletes');
    o.planFile = planFile;
  }
  const c = str(raw, 'concurrency');
  if (c !== undefined) o.concurrency = parseIntFlag('--concurrency', c, 1, MAX_CONCURRENCY);
  return o;
}

/** How many drift lines a refusal lists before summing up the rest. */
const DRIFT_SHOWN = 20;

/** Plans (or reads and checks a saved plan), shows it, asks, then applies it account by account. */
export async function run(deps: Deps, ctx: CommandContext, o: ApplyOptions): Promise<void> {
  if (!o.yes && !deps.canPrompt) throw new UsageError('refusing to apply without confirmation: pass --yes (no terminal to ask), or run `utrig plan` to see the changes');
  const { startPolicyFleet, planFleet, selectionOf } = await import('../policy/run.js');
  const { HumanSink, PlanCounter, accountLines, summaryLine } = await import('../policy/render.js');
  const { Tally, finishFleet, eachAccount, renderOutcomes } = await import('../fleet/run.js');
  const { applyAccount, driftSince } = await import('../policy/apply.js');
  const { hasChanges, readTriggers } = await import('../policy/plan.js');
  const work = new Map<string, Planned>();
  let fleet: Awaited<ReturnType<typeof startPolicyFleet>>;
  const tally = new Tally();
  if (o.file !== undefined) {
    const { loadPolicy } = await import('../policy/schema.js');
    const policy = await loadPolicy(o.file);
    const sel = await selectionOf(policy.accounts, o.concurrency);
    fleet = await startPolicyFleet(deps, ctx, sel, o.concurrency);
    const counter = new PlanCounter();
    await planFleet(fleet, policy, o.prune, new HumanSink(deps.io.stderr, deps.io.stderrIsTTY), counter, tally, (p) => work.set(p.plan.account_sid, p));
    // a listing that stopped early: the plan shown is not the whole policy's, so none of it is applied
    if (fleet.signal.aborted || fleet.accounts.error !== undefined) return finishFleet(deps, fleet, 'apply', tally);
  } else {
    const { loadPlanFile } = await import('../policy/plan-file.js');
    const saved = await loadPlanFile(o.planFile!);
    const changed = saved.accounts.filter(hasChanges);
    fleet = await startPolicyFleet(deps, ctx, { allSubaccounts: false, includeParent: false, accountStatus: 'active', accounts: changed.map((a) => a.account_sid), concurrency: o.concurrency }, o.concurrency);
    const plans = new Map(changed.map((p) => [p.account_sid, p]));
    // read every account again: the plan is applied only if what it saw is still there
    const drift: string[] = [];
    for await (const ev of eachAccount(fleet, (t) => readTriggers(t.client))) {
      if (ev.type !== 'done') continue;
      const oc = tally.record(ev.outcome);
      if (oc.status !== 'ok') continue;
      const p = plans.get(oc.account)!;
      const d = driftSince(p, oc.value);
      for (const line of d) drift.push(`${oc.account}: ${line}`);
      if (d.length === 0) work.set(oc.account, { plan: p, liveSids: oc.value.map((x) => x.sid) });
    }
    if (fleet.signal.aborted) return finishFleet(deps, fleet, 'apply', tally);
    if (drift.length > 0) {
      const shown = drift.slice(0, DRIFT_SHOWN).map((l) => `  ${l}`);
      if (drift.length > DRIFT_SHOWN) shown.push(`  … and ${drift.length - DRIFT_SHOWN} more`);
      const { escapeControls } = await import('../output/escape.js');
      deps.io.stderr.write(`${shown.map(escapeControls).join('\n')}\n`);
      throw new UtrigError(`the live triggers changed since the plan was made (${drift.length} difference${drift.length === 1 ? '' : 's'}, listed above); nothing was applied`, {
        hint: `make a new plan: utrig plan -f POLICY --out ${o.planFile}`,
      });
    }
    for (const w of work.values()) deps.io.stderr.write(`${accountLines(w.plan).join('\n')}\n\n`);
    const counter = new PlanCounter();
    for (const w of work.values()) counter.add(w.plan);
    deps.io.stderr.write(`${summaryLine(counter.s)}\n`);
  }
  if (work.size === 0) {
    deps.messages.note('nothing to apply: the live triggers match the policy');
    return finishFleet(deps, fleet, 'apply', tally);
  }
  if (!o.yes) {
    const { ask, loadPrompts, promptContext } = await import('../prompt.js');
    const { confirm } = await loadPrompts();
    const ok = await ask(confirm({ message: `Apply these changes to ${work.size} account${work.size === 1 ? '' : 's'}?`, default: false }, promptContext(deps.io)));
    if (!ok) throw new CancelledError('not applied: nothing was changed');
  }
  const applyTally = new Tally();
  for (const f of tally.failures) applyTally.failures.push(f);
  const events = fleet.engine.run([...work.keys()], (t) => {
    const w = work.get(t.account)!;
    return applyAccount(t.client, w.plan, w.liveSids, t.signal);
  });
  await renderOutcomes(deps, events, applyTally, (r) => {
    applyTally.add('created', r.created);
    applyTally.add('updated', r.updated);
    applyTally.add('replaced', r.replaced);
    applyTally.add('deleted', r.deleted);
    return { status: 'applied', trigger_sids: r.trigger_sids, created: r.created, updated: r.updated, replaced: r.replaced, deleted: r.deleted };
  });
  applyTally.counts.delete('applied');
  finishFleet(deps, fleet, 'apply', applyTally);
}

/** Declares `utrig apply`. */
export function declareApply(program: Command, ctx: CommandContext): void {
  program
    .command('apply')
    .summary('make live triggers match a policy file (or apply a saved plan)')
    .description(
      'Plan the policy (as `utrig plan` does), show the plan, ask on a terminal (--yes elsewhere), then create, update, ' +
        'replace and delete through every account. A replace creates the new trigger before deleting the old. ' +
        'With a saved plan, the live triggers are read again first and nothing is applied if they changed since.',
    )
    .usage('{-f <policy.yaml> | <plan.json>} [--prune] [--yes] [options]')
    .argument('[plan]', 'a saved plan (utrig plan --out plan.json)')
    .option('-f, --file <policy>', 'the policy file, YAML or JSON')
    .option('--prune', 'also delete owned triggers (friendly name utrig:<name>) that the policy no longer lists')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--concurrency <n>', 'accounts worked on at once, 1-100 (default: 10; lowered by itself on 429)')
    .addHelpText('after', examples('utrig apply -f triggers.yaml', 'utrig apply -f triggers.yaml --prune --yes', 'utrig plan -f triggers.yaml --out plan.json && utrig apply plan.json --yes'))
    .action(
      ctx.withDeps(async (deps, raw, args) => {
        await run(deps, ctx, parseApplyOptions(raw, args));
      }),
    );
}
