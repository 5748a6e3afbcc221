import type { CommandContext, Deps } from '../deps.js';
import { CancelledError, PartialFailureError, UsageError, type UtrigError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import { chooseFormat, parseFields } from '../output/format.js';
import { cellText, renderList, type Column } from '../output/render.js';
import { FleetEngine, type AccountOutcome, type FleetEvent, type TaskContext } from './engine.js';
import { formatDuration, Progress } from './progress.js';
import { AccountList, type SelectionOptions } from './select.js';

// The glue every fleet command shares: resolve the accounts, build the engine (progress on a terminal,
// Ctrl-C wired to stop starting work), then one summary line and the exit code.

/** Failed accounts listed one a line under the summary; more are counted (--json has them all). */
const FAILURES_SHOWN = 50;

export interface Fleet {
  engine: FleetEngine;
  /** The selected accounts, arriving page by page while the first ones are worked on. */
  accounts: AccountList;
  signal: AbortSignal;
}

/** Runs task on every selected account through the engine, starting each as soon as it is listed. */
export function eachAccount<R, E>(fleet: Fleet, task: (t: TaskContext<E>) => Promise<R>): AsyncGenerator<FleetEvent<R, E>> {
  return fleet.engine.run(fleet.accounts.sids(fleet.signal), task, () => ({ count: fleet.accounts.items.length, complete: fleet.accounts.complete }));
}

/** The fleet flags' accounts and the engine (see openFleet). */
export async function startFleet(deps: Deps, ctx: CommandContext, sel: SelectionOptions): Promise<Fleet> {
  if (deps.globals.accountSid !== undefined) {
    throw new UsageError('--account-sid and the fleet flags contradict each other: use --accounts AC… to pick accounts');
  }
  return openFleet(deps, ctx, sel, sel.concurrency);
}

/**
 * Prepares the engine and starts listing the selected accounts (no selection: the current account alone);
 * returns once the first page is read. Ctrl-C from here on stops the run cleanly.
 */
export async function openFleet(deps: Deps, ctx: CommandContext, sel: SelectionOptions | undefined, concurrency: number): Promise<Fleet> {
  const stop = new AbortController();
  ctx.run.foreground = stop;
  const base = await deps.client();
  const progress = deps.io.stderrIsTTY ? new Progress(deps.io.stderr, deps.io.columns) : undefined;
  const engine = new FleetEngine(base, { concurrency, signal: stop.signal, progress });
  const accounts = sel === undefined ? AccountList.of([{ sid: base.accountSid }]) : await AccountList.open(base, sel, stop.signal, (fn) => engine.withSlot(fn));
  sayWhenStopping(deps, stop.signal, progress);
  return { engine, accounts, signal: stop.signal };
}

/** At the first Ctrl-C, says what happens now and what a second one does (on stderr; above the progress line). */
export function sayWhenStopping(deps: Deps, signal: AbortSignal, progress: Progress | undefined): void {
  const text = 'stopping: no more accounts are started; waiting for the requests in flight (Ctrl-C again to abandon them)';
  signal.addEventListener('abort', () => (progress ? progress.note(text) : deps.io.stderr.write(`${text}\n`)), { once: true });
}

/** Counts of outcomes, by the command's own words ("created", "unchanged"…). */
export class Tally {
  readonly counts = new Map<string, number>();
  readonly failures: { account: string; error: UtrigError }[] = [];
  interrupted = 0;
  notStarted = 0;
  /** Accounts whose request was abandoned in flight (a second Ctrl-C): their outcome is unknown. */
  readonly abandoned: string[] = [];

  add(word: string, n = 1): void {
    this.counts.set(word, (this.counts.get(word) ?? 0) + n);
  }

  /** Records an outcome; returns it for chaining. */
  record<R>(o: AccountOutcome<R>): AccountOutcome<R> {
    if (o.status === 'failed') this.failures.push({ account: o.account, error: o.error });
    else if (o.status === 'interrupted') this.interrupted++;
    else if (o.status === 'not-started') this.notStarted++;
    else if (o.status === 'abandoned') this.abandoned.push(o.account);
    return o;
  }
}

/**
 * Writes the one summary line (always, on stderr) and the failed accounts, then throws for the exit
 * code: 130 after Ctrl-C, 6 when some accounts failed.
 */
export function finishFleet(deps: Deps, fleet: Fleet, verb: string, tally: Tally): void {
  const st = fleet.engine.stats;
  const secs = (performance.now() - st.startedMs) / 1000;
  const parts = [...tally.counts].filter(([, n]) => n > 0).map(([w, n]) => `${n} ${w}`);
  if (tally.failures.length > 0) parts.push(`${tally.failures.length} failed`);
  if (tally.interrupted > 0) parts.push(`${tally.interrupted} interrupted`);
  if (tally.abandoned.length > 0) parts.push(`${tally.abandoned.length} abandoned in flight (outcome unknown)`);
  if (tally.notStarted > 0) parts.push(`${tally.notStarted} not started`);
  const reqs = `${st.requests} request${st.requests === 1 ? '' : 's'}${st.throttled > 0 ? ` (${st.throttled} answered 429)` : ''}`;
  const head = fleet.engine.abandoned ? `${verb} abandoned` : fleet.signal.aborted ? `${verb} interrupted` : verb;
  const n = fleet.accounts.items.length;
  deps.io.stderr.write(`${head}: ${n} account${n === 1 ? '' : 's'}: ${parts.join(', ') || 'nothing to do'}; ${reqs} in ${formatDuration(secs)}\n`);
  const listError = fleet.accounts.error;
  if (listError !== undefined) deps.io.stderr.write(`  the accounts list stopped after ${n} account${n === 1 ? '' : 's'}; those not listed were not touched\n`);
  for (const f of tally.failures.slice(0, FAILURES_SHOWN)) {
    deps.io.stderr.write(`  failed ${f.account}: ${escapeControls(f.error.message)}\n`);
  }
  if (tally.failures.length > FAILURES_SHOWN) {
    deps.io.stderr.write(`  … and ${tally.failures.length - FAILURES_SHOWN} more failed accounts (--json lists every account's status)\n`);
  }
  for (const a of tally.abandoned.slice(0, FAILURES_SHOWN)) {
    deps.io.stderr.write(`  unknown ${a}: a request was in flight when it was abandoned; check it with \`utrig list --accounts ${a}\`\n`);
  }
  if (tally.abandoned.length > FAILURES_SHOWN) deps.io.stderr.write(`  … and ${tally.abandoned.length - FAILURES_SHOWN} more abandoned accounts\n`);
  if (fleet.signal.aborted) {
    throw Object.assign(new CancelledError(`${verb} interrupted`), { reported: true });
  }
  // the listing's own error (its exit code and hint) before the accounts' failures: not every account was reached
  if (listError !== undefined) throw listError;
  if (tally.failures.length > 0) {
    throw Object.assign(new PartialFailureError(`${tally.failures.length} of ${n} accounts failed`), { reported: true });
  }
}

type Row = Record<string, unknown>;

/** The error of a failed account, for --json: message, HTTP status and Twilio code when known. */
function errorJson(e: UtrigError): Row {
  const r = e as unknown as { status?: unknown; code?: unknown };
  return { message: e.message, status: typeof r.status === 'number' ? r.status : null, code: typeof r.code === 'number' ? r.code : null, exit_code: e.exitCode };
}

/** Columns of a fleet result table (create, delete). */
const RESULT_COLUMNS: Column[] = [
  { header: 'ACCOUNT', get: (r) => cellText(r.account_sid) },
  { header: 'STATUS', get: (r) => cellText(r.status) },
  { header: 'TRIGGERS', get: (r) => cellText(r.trigger_sid ?? (Array.isArray(r.trigger_sids) ? r.trigger_sids.length : '')) },
  { header: 'ERROR', get: (r) => cellText((r.error as Row | null)?.message ?? ''), shrink: true },
];
const RESULT_FIELDS = ['account_sid', 'status', 'trigger_sid', 'trigger_sids', 'error'] as const;

/**
 * Writes one row per account as each finishes (stdout: data only), recording outcomes in the tally.
 * Machine formats carry each account's status: the command's word, failed, interrupted or not-started.
 */
export async function renderOutcomes<R>(
  deps: Deps,
  events: AsyncIterable<FleetEvent<R, unknown>>,
  tally: Tally,
  row: (value: R) => Row & { status: string },
): Promise<void> {
  async function* rows(): AsyncGenerator<Row> {
    for await (const ev of events) {
      if (ev.type !== 'done') continue;
      const o = tally.record(ev.outcome);
      if (o.status === 'ok') {
        const r = row(o.value);
        tally.add(r.status);
        yield { account_sid: o.account, ...r, error: null };
      } else if (o.status === 'failed') yield { account_sid: o.account, status: 'failed', error: errorJson(o.error) };
      else yield { account_sid: o.account, status: o.status, error: null };
    }
  }
  await renderList(rows(), {
    io: deps.io,
    format: chooseFormat(deps.io, deps.globals.output, deps.globals.json),
    fields: parseFields(deps.globals.fields, RESULT_FIELDS),
    csvFields: RESULT_FIELDS,
    columns: RESULT_COLUMNS,
  });
}
