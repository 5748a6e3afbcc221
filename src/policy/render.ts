// How a plan is shown: a readable diff per account with totals for people, a JSON document for machines
// (and for `--out plan.json`). Both are written account by account as the reads finish, so memory
// stays flat in the number of accounts.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { UtrigError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import { emptyTotals, hasChanges, type AccountPlan, type PlanAction, type Totals } from './plan.js';

/** The machine plan's format tag: `utrig apply plan.json` refuses anything else. */
export const PLAN_FORMAT = 'utrig-plan/1';

/** Receives a plan account by account. */
export interface PlanSink {
  /** Resolves once the reader has taken it (a slow pipe holds the planning back, not memory). */
  account(p: AccountPlan): Promise<void>;
  failed(account: string, error: UtrigError): void;
  /** Totals, accounts skipped by Ctrl-C; resolves once everything is written. */
  end(s: PlanSummary): Promise<void>;
}

export interface PlanSummary {
  totals: Totals;
  accounts: number;
  accountsChanged: number;
  warnings: number;
  failed: number;
  notPlanned: number;
}

/** Tracks totals as accounts arrive. */
export class PlanCounter {
  readonly s: PlanSummary = { totals: emptyTotals(), accounts: 0, accountsChanged: 0, warnings: 0, failed: 0, notPlanned: 0 };
  add(p: AccountPlan): void {
    this.s.accounts++;
    if (hasChanges(p)) this.s.accountsChanged++;
    for (const a of p.actions) {
      this.s.totals[a.action]++;
      this.s.warnings += a.warnings?.length ?? 0;
    }
    this.s.warnings += p.warnings.length;
  }
  get changes(): number {
    const t = this.s.totals;
    return t.create + t.update + t.replace + t.delete;
  }
}

const SIGN: Record<PlanAction['action'], string> = { create: '+', update: '~', replace: '-/+', delete: '-', unchanged: '=' };

function describe(a: PlanAction): string {
  const d = a.desired;
  const show = (v: string) => escapeControls(v);
  switch (a.action) {
    case 'create':
      return `create   ${d!.usage_category} ${d!.trigger_by} ${d!.trigger_value}${d!.recurring ? ` ${d!.recurring}` : ' once'} -> ${d!.callback_method} ${show(d!.callback_url!)}`;
    case 'update':
      return `update   ${(a.changes ?? []).map((c) => `${c.field} ${show(JSON.stringify(c.from))} -> ${show(JSON.stringify(c.to))}`).join('; ')}`;
    case 'replace':
      return `replace  ${escapeControls(String(a.sid))} (forced by ${(a.forced_by ?? []).join(', ')}): ${(a.changes ?? []).map((c) => `${c.field} ${show(JSON.stringify(c.from))} -> ${show(JSON.stringify(c.to))}`).join('; ')}`;
    case 'delete':
      return `delete   ${escapeControls(String(a.sid))} (${a.reason === 'prune' ? 'not in the policy: --prune' : 'a second trigger with this name'})`;
    default:
      return `unchanged ${escapeControls(String(a.sid))}`;
  }
}

/** The lines of one account's block: changes and warnings; unchanged ones are counted. */
export function accountLines(p: AccountPlan): string[] {
  const head = `${p.account_sid}${p.friendly_name ? ` (${escapeControls(p.friendly_name)})` : ''}`;
  const lines = [head];
  for (const w of p.warnings) lines.push(`    ! ${w}`);
  let unchanged = 0;
  for (const a of p.actions) {
    if (a.action === 'unchanged') {
      unchanged++;
      continue;
    }
    lines.push(`  ${SIGN[a.action].padEnd(3)} ${a.name.padEnd(20)} ${describe(a)}`);
    if (a.note) lines.push(`      note: ${a.note}`);
    for (const w of a.warnings ?? []) lines.push(`      ! ${w}`);
  }
  const tail: string[] = [];
  if (unchanged > 0) tail.push(`${unchanged} unchanged`);
  if (p.kept.length > 0) tail.push(`${p.kept.length} owned not in the policy, kept (--prune deletes: ${p.kept.map((k) => k.name).join(', ')})`);
  if (p.unowned > 0) tail.push(`${p.unowned} not owned (never touched)`);
  if (tail.length > 0) lines.push(`  ${tail.join('; ')}`);
  return lines;
}

/** The totals line. */
export function summaryLine(s: PlanSummary): string {
  const t = s.totals;
  const changes = t.create + t.update + t.replace + t.delete;
  const acc = `${s.accounts} account${s.accounts === 1 ? '' : 's'}`;
  let line =
    changes === 0
      ? `No changes: ${acc} match the policy (${t.unchanged} triggers unchanged).`
      : `Plan: ${t.create} to create, ${t.update} to update in place, ${t.replace} to replace, ${t.delete} to delete, ${t.unchanged} unchanged, in ${s.accountsChanged} of ${acc}.`;
  if (s.warnings > 0) line += ` ${s.warnings} warning${s.warnings === 1 ? '' : 's'}.`;
  if (s.failed > 0) line += ` ${s.failed} account${s.failed === 1 ? '' : 's'} could not be read.`;
  if (s.notPlanned > 0) line += ` ${s.notPlanned} not planned (interrupted).`;
  return line;
}

/** The readable diff: a block per account with changes or warnings, then the totals. */
export class HumanSink implements PlanSink {
  /** clearLine: stdout and stderr share a terminal, where the progress line must be wiped first. */
  constructor(
    private readonly out: Writable,
    private readonly clearLine = false,
  ) {}
  async account(p: AccountPlan): Promise<void> {
    if (!hasChanges(p) && p.warnings.length === 0) return;
    await write(this.out, `${this.clearLine ? '\r\x1b[K' : ''}${accountLines(p).join('\n')}\n\n`);
  }
  failed(account: string, error: UtrigError): void {
    this.out.write(`${account}\n  ! could not be read: ${escapeControls(error.message)}\n\n`);
  }
  async end(s: PlanSummary): Promise<void> {
    this.out.write(`${summaryLine(s)}\n`);
  }
}

/** The machine plan, written as a stream: `{"format":…,"accounts":[…],"failed":[…],"summary":{…}}`. */
export class JsonSink implements PlanSink {
  private first = true;
  private readonly failures: { account_sid: string; error: { message: string; exit_code: number } }[] = [];
  constructor(
    private readonly out: Writable,
    head: Record<string, unknown>,
  ) {
    const h = JSON.stringify({ format: PLAN_FORMAT, ...head });
    out.write(`${h.slice(0, -1)},"accounts":[`);
  }
  async account(p: AccountPlan): Promise<void> {
    const sep = this.first ? '\n' : ',\n';
    this.first = false;
    await write(this.out, `${sep}${JSON.stringify(p)}`);
  }
  failed(account: string, error: UtrigError): void {
    this.failures.push({ account_sid: account, error: { message: error.message, exit_code: error.exitCode } });
  }
  async end(s: PlanSummary): Promise<void> {
    const summary = { ...s.totals, accounts: s.accounts, accounts_changed: s.accountsChanged, warnings: s.warnings, failed: s.failed, not_planned: s.notPlanned };
    this.out.write(`\n],"failed":${JSON.stringify(this.failures)},"summary":${JSON.stringify(summary)}}\n`);
  }
}

/** Sends each call to every sink. */
export class TeeSink implements PlanSink {
  constructor(private readonly sinks: PlanSink[]) {}
  async account(p: AccountPlan): Promise<void> {
    for (const s of this.sinks) await s.account(p);
  }
  failed(account: string, error: UtrigError): void {
    for (const s of this.sinks) s.failed(account, error);
  }
  async end(s: PlanSummary): Promise<void> {
    for (const k of this.sinks) await k.end(s);
  }
}

/** Writes, and waits for 'drain' when the stream's buffer is full. */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
