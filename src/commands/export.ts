import type { Command } from 'commander';
import type { UsageTrigger } from '../api/types.js';
import type { CommandContext, Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { addSelectionFlags, checkNoFleetOnlyFlags, DEFAULT_CONCURRENCY, parseSelectionOptions, wantsFleet, type SelectionOptions } from '../fleet/select.js';
import { examples } from '../output/help.js';
import { str } from './flags.js';

export interface ExportOptions {
  /** Absent: the current account. */
  selection?: SelectionOptions;
  out?: string;
  json: boolean;
}

/** Reads and checks export's flags (an --accounts-file is read here, before anything is sent). */
export async function parseExportOptions(deps: Deps, raw: Record<string, unknown>): Promise<ExportOptions> {
  const o: ExportOptions = { json: deps.globals.json || deps.globals.output === 'json' };
  if (deps.globals.output !== undefined && deps.globals.output !== 'json' && deps.globals.output !== 'table') {
    throw new UsageError(`--output ${deps.globals.output} does not fit a policy: export writes YAML, or JSON with --json`);
  }
  if (wantsFleet(raw)) o.selection = await parseSelectionOptions(raw, deps.io.stdin);
  else checkNoFleetOnlyFlags(raw);
  const out = str(raw, 'out');
  if (out !== undefined) {
    if (out === '') throw new UsageError('--out is empty: give a file name such as triggers.yaml');
    o.out = out;
    if (/\.json$/i.test(out)) o.json = true;
  }
  return o;
}

/** The policy's `accounts` value for a selection: what was asked, so a later plan selects the same way. */
function accountsBlock(sel: SelectionOptions | undefined): unknown {
  if (sel === undefined) return 'current';
  const b: Record<string, unknown> = {};
  if (sel.allSubaccounts) b.all_subaccounts = true;
  if (sel.includeParent) b.include_parent = true;
  if (sel.accountName !== undefined) b.account_name = sel.accountName;
  if (sel.allSubaccounts && sel.accountStatus !== 'active') b.account_status = sel.accountStatus;
  if (sel.accounts !== undefined) b.accounts = sel.accounts;
  return b;
}

/** Reads every selected account's triggers and writes them as a policy. */
export async function run(deps: Deps, ctx: CommandContext, o: ExportOptions): Promise<void> {
  const { startPolicyFleet } = await import('../policy/run.js');
  const { readTriggers } = await import('../policy/plan.js');
  const { buildPolicy } = await import('../policy/export.js');
  const { Tally, finishFleet, eachAccount } = await import('../fleet/run.js');
  const concurrency = o.selection?.concurrency ?? DEFAULT_CONCURRENCY;
  const fleet = await startPolicyFleet(deps, ctx, o.selection, concurrency);
  const tally = new Tally();
  const got = new Map<string, UsageTrigger[]>();
  for await (const ev of eachAccount(fleet, (t) => readTriggers(t.client))) {
    if (ev.type !== 'done') continue;
    const oc = tally.record(ev.outcome);
    if (oc.status === 'ok') {
      tally.add('exported');
      got.set(oc.account, oc.value);
    }
  }
  if (fleet.signal.aborted || tally.failures.length > 0 || fleet.accounts.error !== undefined) return finishFleet(deps, fleet, 'export', tally);
  const accounts = fleet.accounts.items.map((a) => ({ sid: a.sid, triggers: got.get(a.sid) ?? [] }));
  const { doc, unowned, duplicates } = buildPolicy(accountsBlock(o.selection), accounts);
  let text: string;
  if (o.json) text = `${JSON.stringify(doc, null, 2)}\n`;
  else {
    const { stringify } = (await import('../policy/yaml.js')).yaml;
    text = `# utrig policy, exported ${new Date().toISOString()}: \`utrig plan -f FILE\` shows no changes against it\n${stringify(doc, { lineWidth: 0 })}`;
  }
  if (o.out !== undefined) {
    const { openPlanFile } = await import('../policy/plan-file.js');
    const f = await openPlanFile(o.out);
    f.stream.write(text);
    await f.commit();
    deps.messages.note(`policy written to ${o.out}`);
  } else deps.io.stdout.write(text);
  if (unowned > 0) deps.messages.note(`${unowned} trigger${unowned === 1 ? '' : 's'} not owned by a policy (friendly name not utrig:<name>) left out: plan and apply never touch them`);
  if (duplicates > 0) deps.messages.warn(`${duplicates} owned trigger${duplicates === 1 ? '' : 's'} share a name with another in the same account: only the first is exported, and apply deletes the others`);
  finishFleet(deps, fleet, 'export', tally);
}

/** Declares `utrig export`. */
export function declareExport(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command('export')
    .summary('write the live triggers as a policy file for plan and apply')
    .description(
      'Read the triggers of the current account (or, with the fleet flags, of many) and write the owned ones ' +
        '(friendly name utrig:<name>) as a policy file, YAML (JSON with --json or an --out ending in .json), ' +
        'such that `utrig plan -f FILE` shows no changes. Sends only reads.',
    )
    .usage('[--all-subaccounts|--accounts AC…|--accounts-file FILE] [--out FILE] [options]')
    .option('--out <file>', 'write the policy to FILE instead of stdout');
  addSelectionFlags(cmd)
    .addHelpText('after', examples('utrig export --all-subaccounts --out triggers.yaml', 'utrig export --accounts-file customers.csv --json > triggers.json'))
    .action(
      ctx.withDeps(async (deps, raw) => {
        await run(deps, ctx, await parseExportOptions(deps, raw));
      }),
    );
}
