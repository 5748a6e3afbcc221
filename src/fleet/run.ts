import type { CommandContext, Deps } from '../deps.js';
import { CancelledError, PartialFailureError, UsageError, type UtrigError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import { FleetEngine, type AccountOutcome } from './engine.js';
import { formatDuration, Progress } from './progress.js';
import { resolveAccounts, type FleetAccount, type SelectionOptions } from './select.js';

// The glue every fleet command shares: resolve the accounts, build the engine (progress on a terminal,
// Ctrl-C wired to stop starting work), then one summary line and the exit code.

/** Failed accounts listed one a line under the summary; more are counted (--json has them all). */
const FAILURES_SHOWN = 50;

export interface Fleet {
  engine: FleetEngine;
  accounts: FleetAccount[];
  signal: AbortSignal;
}

/** Resolves the selected accounts and prepares the engine. Ctrl-C from here on stops the run cleanly. */
export async function startFleet(deps: Deps, ctx: CommandContext, sel: SelectionOptions): Promise<Fleet> {
  if (deps.globals.accountSid !== undefined) {
    throw new UsageError('--account-sid and the fleet flags contradict each other: use --accounts AC… to pick accounts');
  }
  const stop = new AbortController();
  ctx.run.foreground = stop;
  const base = await deps.client();
  const accounts = await resolveAccounts(base, sel);
  const progress = deps.io.stderrIsTTY ? new Progress(deps.io.stderr) : undefined;
  const engine = new FleetEngine(base, { concurrency: sel.concurrency, signal: stop.signal, progress });
  return { engine, accounts, signal: stop.signal };
}

/** Counts of outcomes, by the command's own words ("created", "unchanged"…). */
export class Tally {
  readonly counts = new Map<string, number>();
  readonly failures: { account: string; error: UtrigError }[] = [];
  interrupted = 0;
  notStarted = 0;

  add(word: string, n = 1): void {
    this.counts.set(word, (this.counts.get(word) ?? 0) + n);
  }

  /** Records an outcome; returns it for chaining. */
  record<R>(o: AccountOutcome<R>): AccountOutcome<R> {
    if (o.status === 'failed') this.failures.push({ account: o.account, error: o.error });
    else if (o.status === 'interrupted') this.interrupted++;
    else if (o.status === 'not-started') this.notStarted++;
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
  if (tally.notStarted > 0) parts.push(`${tally.notStarted} not started`);
  const reqs = `${st.requests} request${st.requests === 1 ? '' : 's'}${st.throttled > 0 ? ` (${st.throttled} answered 429)` : ''}`;
  const head = fleet.signal.aborted ? `${verb} interrupted` : verb;
  const n = fleet.accounts.length;
  deps.io.stderr.write(`${head}: ${n} account${n === 1 ? '' : 's'}: ${parts.join(', ') || 'nothing to do'}; ${reqs} in ${formatDuration(secs)}\n`);
  for (const f of tally.failures.slice(0, FAILURES_SHOWN)) {
    deps.io.stderr.write(`  failed ${f.account}: ${escapeControls(f.error.message)}\n`);
  }
  if (tally.failures.length > FAILURES_SHOWN) {
    deps.io.stderr.write(`  … and ${tally.failures.length - FAILURES_SHOWN} more failed accounts (--json lists every account's status)\n`);
  }
  if (fleet.signal.aborted) {
    throw Object.assign(new CancelledError(`${verb} interrupted`), { reported: true });
  }
  if (tally.failures.length > 0) {
    throw Object.assign(new PartialFailureError(`${tally.failures.length} of ${n} accounts failed`), { reported: true });
  }
}
