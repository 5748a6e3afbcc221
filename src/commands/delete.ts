import { Option, type Command } from 'commander';
import type { ApiClient } from '../api/client.js';
import type { CommandContext, Deps } from '../deps.js';
import { CancelledError, UsageError, UtrigError } from '../errors.js';
import { addSelectionFlags, checkNoFleetOnlyFlags, globToRegExp, parseSelectionOptions, wantsFleet } from '../fleet/select.js';
import { examples } from '../output/help.js';
import { parseTriggerFilter, parseTriggerSid, str, triggerListQuery, type TriggerFilter } from './flags.js';

export interface DeleteOptions {
  sids: string[];
  yes: boolean;
}

/** Checks every SID before anything is sent. */
export function parseDeleteOptions(raw: Record<string, unknown>, args: string[]): DeleteOptions {
  return { sids: [...new Set(args.map((a) => parseTriggerSid('trigger SID', a)))], yes: raw.yes === true };
}

export interface DeleteResult {
  sid: string;
  error?: UtrigError;
}

/** Deletes each trigger in turn; a failure does not stop the rest. */
export async function run(deps: Deps, o: DeleteOptions): Promise<DeleteResult[]> {
  if (o.sids.length === 0) throw new UsageError('missing trigger SID: give one or more UT… SIDs');
  const client = await deps.client();
  const results: DeleteResult[] = [];
  for (const sid of o.sids) {
    try {
      await client.deleteTrigger(sid);
      results.push({ sid });
    } catch (err) {
      if (!(err instanceof UtrigError)) throw err;
      results.push({ sid, error: err });
    }
  }
  return results;
}

/** Which triggers a fleet delete removes in each account. */
export interface DeleteFilter extends TriggerFilter {
  friendlyName?: string;
}

/** Reads the fleet delete's filters. */
export function parseDeleteFilter(raw: Record<string, unknown>): DeleteFilter {
  const f: DeleteFilter = parseTriggerFilter(raw);
  const name = str(raw, 'friendlyName');
  if (name !== undefined) f.friendlyName = name;
  return f;
}

/** The SIDs of an account's triggers that match the filter (category, recurring, trigger-by by query; the name glob here). */
async function matchingTriggers(client: ApiClient, f: DeleteFilter): Promise<string[]> {
  const q = triggerListQuery(f, 1000);
  const name = f.friendlyName === undefined ? undefined : globToRegExp(f.friendlyName);
  const sids: string[] = [];
  for await (const page of client.listTriggerPages(q)) {
    for (const t of page.usage_triggers ?? []) if (!name || name.test(String(t.friendly_name ?? ''))) sids.push(t.sid);
  }
  return sids;
}

/** How many of each account's matches a confirmation lists before summing up the rest. */
const CONFIRM_LINES = 20;

/** `delete --all-subaccounts …`: finds the matches in every account, asks once, then deletes them. */
async function runFleetDelete(deps: Deps, ctx: CommandContext, raw: Record<string, unknown>, args: string[]): Promise<void> {
  if (args.length > 0) throw new UsageError('give trigger SIDs or the fleet flags, not both (the fleet flags delete by --category, --recurring, --trigger-by, --friendly-name)');
  const f = parseDeleteFilter(raw);
  const dryRun = raw.dryRun === true;
  const yes = raw.yes === true;
  if (!dryRun && !yes && !deps.canPrompt) throw new UsageError('refusing to delete without confirmation: pass --yes (no terminal to ask), or --dry-run to see what would go');
  const sel = await parseSelectionOptions(raw, deps.io.stdin);
  const { startFleet, finishFleet, eachAccount, Tally, renderOutcomes } = await import('../fleet/run.js');
  const { Interrupted } = await import('../fleet/engine.js');
  const { deleteIfPresent } = await import('../fleet/writes.js');
  const fleet = await startFleet(deps, ctx, sel);
  // first pass: find (reads only); only the SIDs are kept
  const found = new Map<string, string[]>();
  const findTally = new Tally();
  for await (const ev of eachAccount<string[], never>(fleet, (t) => matchingTriggers(t.client, f))) {
    if (ev.type === 'done' && findTally.record(ev.outcome).status === 'ok' && ev.outcome.status === 'ok' && ev.outcome.value.length > 0) {
      found.set(ev.outcome.account, ev.outcome.value);
    }
  }
  const total = [...found.values()].reduce((a, s) => a + s.length, 0);
  // a listing that stopped early ends here too: what was counted is not every selected account
  if (fleet.signal.aborted || dryRun || total === 0 || fleet.accounts.error !== undefined) {
    if (total === 0 && !fleet.signal.aborted) deps.messages.note('no matching usage triggers in the selected accounts');
    const tally = findTally;
    async function* plan() {
      for (const a of fleet.accounts.items) {
        const sids = found.get(a.sid);
        if (sids) yield { type: 'done' as const, outcome: { account: a.sid, status: 'ok' as const, value: sids } };
      }
    }
    if (dryRun) await renderOutcomes(deps, plan(), new Tally(), (sids: string[]) => ({ status: 'would-delete', trigger_sids: sids }));
    tally.add('would-delete', dryRun ? found.size : 0);
    finishFleet(deps, fleet, dryRun ? 'delete (dry run)' : 'delete', tally);
    return;
  }
  if (!yes) {
    const lines = [...found].slice(0, CONFIRM_LINES).map(([a, s]) => `  ${a}  ${s.length}`);
    if (found.size > CONFIRM_LINES) lines.push(`  … and ${found.size - CONFIRM_LINES} more accounts`);
    deps.io.stderr.write(`${lines.join('\n')}\n`);
    const { ask, loadPrompts, promptContext } = await import('../prompt.js');
    const { confirm } = await loadPrompts();
    const ok = await ask(confirm({ message: `Delete ${total} usage trigger${total === 1 ? '' : 's'} in ${found.size} account${found.size === 1 ? '' : 's'}?`, default: false }, promptContext(deps.io)));
    if (!ok) throw new CancelledError('not deleted');
  }
  // second pass: delete, one request at a time within an account
  const tally = new Tally();
  for (const x of findTally.failures) tally.failures.push(x);
  const events = fleet.engine.run<string[], never>([...found.keys()], async (t) => {
    const done: string[] = [];
    for (const sid of found.get(t.account) ?? []) {
      if (t.signal.aborted) throw new Interrupted();
      try {
        await deleteIfPresent(t.client, sid);
      } catch (err) {
        if (err instanceof UtrigError && done.length > 0) throw Object.assign(err, { message: `deleted ${done.length} of ${found.get(t.account)?.length}, then: ${err.message}` });
        throw err;
      }
      done.push(sid);
    }
    return done;
  });
  await renderOutcomes(deps, events, tally, (sids) => ({ status: 'deleted', trigger_sids: sids }));
  finishFleet(deps, fleet, 'delete', tally);
}

/** Declares `utrig delete` (alias `rm`); the picker and the confirmation load only when they ask. */
export function declareDelete(program: Command, ctx: CommandContext): void {
  const { withDeps } = ctx;
  const cmd = program
    .command('delete')
    .alias('rm')
    .summary('delete usage triggers')
    .description('Delete one or more usage triggers. Asks first on a terminal; elsewhere needs --yes.')
    .argument('[sids...]', 'trigger SIDs (UT…)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--category <category>', 'with the fleet flags: only triggers on this usage category')
    .addOption(new Option('--recurring <period>', 'with the fleet flags: only triggers with this period {daily|monthly|yearly|alltime}'))
    .addOption(new Option('--trigger-by <field>', 'with the fleet flags: only triggers watching {count|usage|price}'))
    .option('--friendly-name <glob>', 'with the fleet flags: only triggers whose name matches (* and ? wildcards)')
    .option('--allow-unknown-category', 'filter by a category newer than utrig knows')
    .option('--dry-run', 'with the fleet flags: list what would be deleted; send nothing but reads');
  addSelectionFlags(cmd)
    .addHelpText(
      'after',
      examples(
        'utrig delete UT33c6aeeba34e48f38d6899ea5b765ad4',
        'utrig list --category sms --json | jq -r ".[].sid" | xargs utrig delete --yes',
        'utrig delete --all-subaccounts --category totalprice --friendly-name "spend alarm*" --dry-run',
      ),
    )
    .action(
      withDeps(async (deps, raw, args) => {
        if (wantsFleet(raw)) return runFleetDelete(deps, ctx, raw, args);
        checkNoFleetOnlyFlags(raw);
        for (const [k, flag] of [['category', '--category'], ['recurring', '--recurring'], ['triggerBy', '--trigger-by'], ['friendlyName', '--friendly-name'], ['dryRun', '--dry-run']] as const) {
          if (raw[k] !== undefined) throw new UsageError(`${flag} works with the fleet flags only (--all-subaccounts, --accounts, --accounts-file)`);
        }
        let o = parseDeleteOptions(raw, args);
        if (o.sids.length === 0) {
          if (!deps.canPrompt) throw new UsageError('missing trigger SID: give one or more UT… SIDs');
          const { pickTriggersToDelete } = await import('./wizard.js');
          o = { ...o, sids: await pickTriggersToDelete(deps) };
          if (o.sids.length === 0) throw new CancelledError('nothing selected: nothing was deleted');
        }
        if (!o.yes) {
          if (!deps.canPrompt) {
            throw new UsageError('refusing to delete without confirmation: pass --yes (no terminal to ask)');
          }
          const { confirmDelete } = await import('./delete-confirm.js');
          if (!(await confirmDelete(deps, o.sids))) throw new CancelledError('not deleted');
        }
        const results = await run(deps, o);
        let last: UtrigError | undefined;
        for (const res of results) {
          if (res.error) {
            deps.messages.error(`${res.sid}: ${res.error.message}`);
            last = res.error;
          } else deps.messages.success(`Deleted usage trigger ${res.sid}`);
        }
        if (last) throw Object.assign(last, { reported: true });
      }),
    );
}
