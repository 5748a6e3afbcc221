import type { Command } from 'commander';
import type { CommandContext, Deps } from '../deps.js';
import { EXIT, UsageError, UtrigError } from '../errors.js';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../fleet/select.js';
import { examples } from '../output/help.js';
import { parseIntFlag, str } from './flags.js';

export interface PlanOptions {
  file: string;
  prune: boolean;
  out?: string;
  concurrency: number;
  detailedExitcode: boolean;
}

/** Reads and checks plan's flags. */
export function parsePlanOptions(raw: Record<string, unknown>, args: string[]): PlanOptions {
  if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}: give the policy with -f FILE`);
  const file = str(raw, 'file');
  if (file === undefined || file === '') throw new UsageError('missing -f/--file: the policy file (YAML or JSON) to plan');
  const o: PlanOptions = { file, prune: raw.prune === true, concurrency: DEFAULT_CONCURRENCY, detailedExitcode: raw.detailedExitcode === true };
  const out = str(raw, 'out');
  if (out !== undefined) {
    if (out === '') throw new UsageError('--out is empty: give a file name such as plan.json');
    o.out = out;
  }
  const c = str(raw, 'concurrency');
  if (c !== undefined) o.concurrency = parseIntFlag('--concurrency', c, 1, MAX_CONCURRENCY);
  return o;
}

/** `--detailed-exitcode` and changes pending: exit 7, nothing more to say (the plan was printed). */
export class ChangesPending extends UtrigError {
  override readonly exitCode: number = EXIT.CHANGES;
  readonly reported = true;
}

/** Plans and writes the plan: stdout (diff or JSON) and, with --out, the machine plan to a file. */
export async function run(deps: Deps, ctx: CommandContext, o: PlanOptions): Promise<void> {
  const { loadPolicy } = await import('../policy/schema.js');
  const policy = await loadPolicy(o.file);
  const { selectionOf, startPolicyFleet, planFleet } = await import('../policy/run.js');
  const { HumanSink, JsonSink, TeeSink, PlanCounter } = await import('../policy/render.js');
  const { chooseFormat } = await import('../output/format.js');
  const format = chooseFormat(deps.io, deps.globals.output, deps.globals.json);
  if (format !== 'table' && format !== 'json') throw new UsageError(`--output ${format} does not fit a plan: use table or json`);
  const sel = await selectionOf(policy.accounts, o.concurrency);
  const { openPlanFile } = await import('../policy/plan-file.js');
  const fleet = await startPolicyFleet(deps, ctx, sel, o.concurrency);
  const head = { policy: o.file, prune: o.prune, created_at: new Date().toISOString() };
  const file = o.out !== undefined ? await openPlanFile(o.out) : undefined;
  const main = format === 'json' ? new JsonSink(deps.io.stdout, head) : new HumanSink(deps.io.stdout, deps.io.stdoutIsTTY && deps.io.stderrIsTTY);
  const sinks = [main, ...(file ? [new JsonSink(file.stream, head)] : [])];
  const counter = new PlanCounter();
  const { Tally, finishFleet } = await import('../fleet/run.js');
  const tally = new Tally();
  await planFleet(fleet, policy, o.prune, new TeeSink(sinks), counter, tally);
  if (file) {
    if (fleet.signal.aborted || fleet.accounts.error !== undefined) await file.discard();
    else {
      await file.commit();
      deps.messages.note(`plan saved to ${o.out}: apply it with \`utrig apply ${o.out}\``);
    }
  }
  finishFleet(deps, fleet, 'plan', tally);
  if (o.detailedExitcode && counter.changes > 0) throw new ChangesPending('changes pending');
}

/** Declares `utrig plan`. */
export function declarePlan(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .summary('show what apply would change to make live triggers match a policy file')
    .description(
      'Read the live triggers of the policy\'s accounts and show, per account, what `utrig apply` would do: ' +
        'create, update in place, replace (delete + create, naming the field that forces it), delete (--prune) or nothing. ' +
        'Sends only reads.',
    )
    .usage('-f <policy.yaml> [--prune] [--out plan.json] [options]')
    .option('-f, --file <policy>', 'the policy file, YAML or JSON')
    .option('--prune', 'also delete owned triggers (friendly name utrig:<name>) that the policy no longer lists')
    .option('--out <file>', 'save the machine plan to FILE, for `utrig apply FILE`')
    .option('--detailed-exitcode', 'exit 7 when changes are pending, 0 when there are none')
    .option('--concurrency <n>', 'accounts read at once, 1-100 (default: 10; lowered by itself on 429)')
    .addHelpText(
      'after',
      examples(
        'utrig plan -f triggers.yaml',
        'utrig plan -f triggers.yaml --prune --out plan.json && utrig apply plan.json',
        'utrig plan -f triggers.yaml --json | jq .summary',
      ),
    )
    .action(
      ctx.withDeps(async (deps, raw, args) => {
        await run(deps, ctx, parsePlanOptions(raw, args));
      }),
    );
}
