import { Option, type Command } from 'commander';
import type { UsageTrigger } from '../api/types.js';
import type { CommandContext, Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import type { SelectionOptions } from '../fleet/select.js';
import { addSelectionFlags, checkNoFleetOnlyFlags, parseSelectionOptions, wantsFleet } from '../fleet/select.js';
import { examples } from '../output/help.js';
import { cellText, renderList } from '../output/render.js';
import { triggerRender } from '../output/show-trigger.js';
import { PAGE_SIZE_MAX, parseIntFlag, parsePageSize, parseTriggerFilter, str, triggerListQuery, type TriggerFilter } from './flags.js';

export const MAX_PAGE_SIZE = PAGE_SIZE_MAX;
/** An account holds at most 1,000 triggers; --limit beyond that is still accepted for paging tests and subaccount growth. */
const LIMIT_MAX = 1_000_000;

export interface ListOptions extends TriggerFilter {
  limit?: number;
  pageSize: number;
}

/** Reads and checks list's flags. */
export function parseListOptions(raw: Record<string, unknown>): ListOptions {
  const limitRaw = str(raw, 'limit');
  if (limitRaw !== undefined && raw.all === true) throw new UsageError('--limit and --all contradict each other: give one of them');
  const limit = limitRaw === undefined ? undefined : parseIntFlag('--limit', limitRaw, 1, LIMIT_MAX);
  const psRaw = str(raw, 'pageSize');
  const pageSize =
    psRaw === undefined ? Math.min(limit ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE) : parsePageSize('--page-size', psRaw);
  const o: ListOptions = { pageSize };
  if (limit !== undefined) o.limit = limit;
  return Object.assign(o, parseTriggerFilter(raw));
}

/** The list query with Twilio's parameter names. */
export function buildQuery(o: ListOptions): URLSearchParams {
  return triggerListQuery(o, o.pageSize);
}

/** Streams triggers page by page, stopping after --limit; `cut.more` tells whether --limit left some out. */
export async function* run(deps: Deps, o: ListOptions, cut: { more: boolean } = { more: false }): AsyncGenerator<UsageTrigger> {
  const client = await deps.client();
  let n = 0;
  for await (const page of client.listTriggerPages(buildQuery(o))) {
    for (const t of page.usage_triggers ?? []) {
      if (o.limit !== undefined && n >= o.limit) {
        cut.more = true;
        return;
      }
      n++;
      yield t;
    }
    if (o.limit !== undefined && n >= o.limit) {
      cut.more = typeof page.next_page_uri === 'string' && page.next_page_uri !== '';
      return;
    }
  }
}

/**
 * Streams the triggers of every selected account as each account answers (accounts in any order, an
 * account's pages in order); rows keep the API's account_sid. Only unread pages are held: memory is flat.
 * Once the rows are consumed, finish() writes the summary and throws for the exit code.
 */
export async function runFleet(
  deps: Deps,
  ctx: CommandContext,
  o: ListOptions,
  sel: SelectionOptions,
): Promise<{ rows: AsyncGenerator<UsageTrigger>; finish: () => void }> {
  const { startFleet, finishFleet, eachAccount, Tally } = await import('../fleet/run.js');
  const { Interrupted } = await import('../fleet/engine.js');
  const fleet = await startFleet(deps, ctx, sel);
  const tally = new Tally();
  const q = buildQuery(o);
  async function* rows(): AsyncGenerator<UsageTrigger> {
    const events = eachAccount<number, UsageTrigger[]>(
      fleet,
      async (t) => {
        let n = 0;
        for await (const page of t.client.listTriggerPages(q)) {
          const got = page.usage_triggers ?? [];
          n += got.length;
          if (got.length > 0) await t.emit(got);
          if (t.signal.aborted && page.next_page_uri) throw new Interrupted();
        }
        return n;
      },
    );
    for await (const ev of events) {
      if (ev.type === 'item') yield* ev.item;
      else if (tally.record(ev.outcome).status === 'ok') {
        tally.add('listed');
        if (ev.outcome.status === 'ok') tally.add('triggers', ev.outcome.value);
      }
    }
  }
  return { rows: rows(), finish: () => finishFleet(deps, fleet, 'list', tally) };
}

/** Declares `utrig list` (alias `ls`). */
export function declareList(program: Command, ctx: CommandContext): void {
  const { withDeps } = ctx;
  const cmd = program
    .command('list')
    .alias('ls')
    .summary('list usage triggers (all of them, page by page)')
    .description('List usage triggers. Without --limit every trigger is listed, following every page.')
    .option('--category <category>', 'only triggers on this usage category')
    .addOption(new Option('--recurring <period>', 'only triggers with this period {daily|monthly|yearly|alltime}'))
    .addOption(new Option('--trigger-by <field>', 'only triggers watching {count|usage|price}'))
    .option('--limit <n>', 'stop after N triggers')
    .option('--all', 'list every trigger (the default)')
    .option('--page-size <n>', 'triggers per request, 1-1000 (default: 1000, or --limit)')
    .option('--allow-unknown-category', 'filter by a category newer than utrig knows');
  addSelectionFlags(cmd)
    .addHelpText(
      'after',
      examples(
        'utrig list',
        'utrig list --category sms --recurring daily',
        'utrig list --output ndjson | jq -c "{sid, current_value}"',
        'utrig list --all-subaccounts --output ndjson > every-trigger.ndjson',
      ),
    )
    .action(
      withDeps(async (deps, raw) => {
        const o = parseListOptions(raw);
        const render = triggerRender(deps);
        if (wantsFleet(raw)) {
          if (o.limit !== undefined) throw new UsageError('--limit counts one account\'s triggers: it does not work with the fleet flags');
          const sel = await parseSelectionOptions(raw, deps.io.stdin);
          const columns = [{ header: 'ACCOUNT', get: (r: Record<string, unknown>) => cellText(r.account_sid) }, ...render.columns];
          const fleet = await runFleet(deps, ctx, o, sel);
          const n = await renderList(fleet.rows, { ...render, columns });
          if (n === 0) deps.messages.note('no usage triggers found');
          fleet.finish();
          return;
        }
        checkNoFleetOnlyFlags(raw);
        const cut = { more: false };
        const n = await renderList(run(deps, o, cut), render);
        if (n === 0) deps.messages.note('no usage triggers found');
        if (cut.more) deps.messages.note(`showing the first ${n}: more usage triggers exist (raise --limit, or leave it out to list all)`);
      }),
    );
}
