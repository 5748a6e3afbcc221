// fs.promises is read when a file is (node:fs/promises costs ~2 ms to load; create --help reaches this module)
import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { ApiClient } from '../api/client.js';
import { AuthError, UsageError } from '../errors.js';
import { ACCOUNT_STATUSES, checkSid, quote } from '../rules.js';

// Which accounts a fleet command acts on. Everything here is checked before the first request: a bad
// SID in --accounts or --accounts-file is a usage error (exit 2) that names the file and line.

export type AccountStatusFilter = (typeof ACCOUNT_STATUSES)[number] | 'all';

/** The account-selection flags, parsed. An absent field means "not given". */
export interface SelectionOptions {
  allSubaccounts: boolean;
  includeParent: boolean;
  accountStatus: AccountStatusFilter;
  /** SIDs from --accounts and --accounts-file, in order, without repeats. */
  accounts?: string[];
  accountName?: string;
  /** --concurrency: accounts worked on at once. */
  concurrency: number;
}

/**
 * Ten at once by default: Twilio's concurrency limit is per account family (the parent and every
 * subaccount) and shared with the customer's live traffic, which must not be starved by a background
 * job; Twilio answers past it with 429 (20429). Ten requests at a few hundred ms each still do 1,000
 * accounts in about a minute, and the engine lowers it further by itself on 429.
 */
export const DEFAULT_CONCURRENCY = 10;
export const MAX_CONCURRENCY = 100;

/** Adds the selection flags to a command (shared by list, create and delete). */
export function addSelectionFlags(cmd: Command): Command {
  return cmd
    .option('--all-subaccounts', 'act on every subaccount of the current account (active ones, unless --account-status)')
    .option('--include-parent', 'with the fleet flags: the current (parent) account too')
    .option('--accounts <AC…,AC…>', 'act on these accounts (comma-separated SIDs)')
    .option('--accounts-file <file>', 'act on the accounts listed in FILE ("-": stdin): one SID a line, or CSV with an account_sid column')
    .option('--account-name <glob>', 'with --all-subaccounts: only subaccounts whose friendly name matches (* and ? wildcards)')
    .option('--account-status <status>', 'with --all-subaccounts: {active|suspended|closed|all} (default: active)')
    .option('--concurrency <n>', 'accounts worked on at once, 1-100 (default: 10; lowered by itself on 429)');
}

/** True when any fleet selection flag was given. */
export function wantsFleet(raw: Record<string, unknown>): boolean {
  return raw.allSubaccounts === true || typeof raw.accounts === 'string' || typeof raw.accountsFile === 'string';
}

/** Throws when a flag that only means something to a fleet run was given without one. */
export function checkNoFleetOnlyFlags(raw: Record<string, unknown>): void {
  const only: [string, string][] = [
    ['includeParent', '--include-parent'],
    ['accountName', '--account-name'],
    ['accountStatus', '--account-status'],
    ['concurrency', '--concurrency'],
  ];
  for (const [k, flag] of only) {
    if (raw[k] !== undefined) throw new UsageError(`${flag} works with --all-subaccounts, --accounts or --accounts-file only`);
  }
}

/** Reads and checks the selection flags; reads --accounts-file (or stdin) so a bad line fails before anything is sent. */
export async function parseSelectionOptions(raw: Record<string, unknown>, stdin: Readable): Promise<SelectionOptions> {
  const all = raw.allSubaccounts === true;
  const list = typeof raw.accounts === 'string' ? raw.accounts : undefined;
  const file = typeof raw.accountsFile === 'string' ? raw.accountsFile : undefined;
  if (all && (list !== undefined || file !== undefined)) {
    throw new UsageError('--all-subaccounts and --accounts/--accounts-file contradict each other: give one way to choose accounts');
  }
  const name = typeof raw.accountName === 'string' ? raw.accountName : undefined;
  const statusRaw = typeof raw.accountStatus === 'string' ? raw.accountStatus : undefined;
  if (!all) {
    if (name !== undefined) throw new UsageError('--account-name works with --all-subaccounts only (it filters the subaccounts listed)');
    if (statusRaw !== undefined) throw new UsageError('--account-status works with --all-subaccounts only');
  }
  const statuses: readonly string[] = [...ACCOUNT_STATUSES, 'all'];
  if (statusRaw !== undefined && !statuses.includes(statusRaw)) {
    throw new UsageError(`--account-status ${quote(statusRaw)} is not one of ${statuses.join(', ')}`);
  }
  const concRaw = typeof raw.concurrency === 'string' ? raw.concurrency : undefined;
  let concurrency = DEFAULT_CONCURRENCY;
  if (concRaw !== undefined) {
    if (!/^\d+$/.test(concRaw) || Number(concRaw) < 1 || Number(concRaw) > MAX_CONCURRENCY) {
      throw new UsageError(`--concurrency ${quote(concRaw)} must be a whole number from 1 to ${MAX_CONCURRENCY}`);
    }
    concurrency = Number(concRaw);
  }
  const o: SelectionOptions = {
    concurrency,
    allSubaccounts: all,
    includeParent: raw.includeParent === true,
    accountStatus: (statusRaw ?? 'active') as AccountStatusFilter,
  };
  if (name !== undefined) {
    if (name === '') throw new UsageError('--account-name is empty: give a friendly name or a glob such as "Customer *"');
    o.accountName = name;
  }
  if (list !== undefined || file !== undefined) {
    const sids: string[] = [];
    if (list !== undefined) {
      const parts = list.split(',').map((s) => s.trim());
      if (parts.every((p) => p === '')) throw new UsageError('--accounts is empty: give account SIDs separated by commas (AC…,AC…)');
      parts.forEach((p, i) => {
        if (p === '') return;
        const c = checkSid('AC', p);
        if (!c.ok) throw new UsageError(`--accounts item ${i + 1}: ${c.reason}`);
        sids.push(p);
      });
    }
    if (file !== undefined) {
      sids.push(...(file === '-' ? parseAccountsText(await readStream(stdin), 'stdin') : await readAccountsFile(file, '--accounts-file')));
    }
    o.accounts = [...new Set(sids)];
    if (o.accounts.length === 0 && !o.includeParent) throw new UsageError(`--accounts-file ${quote(file ?? '')} lists no account SIDs`);
  }
  return o;
}

/** The SIDs of an accounts file (one a line, or a CSV with an account_sid column); `label` names it in errors. */
export async function readAccountsFile(file: string, label: string): Promise<string[]> {
  const text = await fsp.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${label} ${quote(file)} cannot be read (${err.code ?? err.message})`);
  });
  return parseAccountsText(text, file);
}

async function readStream(s: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits one CSV line into fields: commas, double quotes ("" inside quotes is one quote). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (out.push(cur), (cur = ''));
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * The SIDs of an accounts file: one SID a line, or a CSV whose header has an account_sid column (any
 * other columns are ignored). Blank lines and lines starting with # are skipped. A bad SID names the line.
 */
export function parseAccountsText(text: string, name: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let column = -1;
  let headerSeen = false;
  const sids: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!headerSeen) {
      headerSeen = true;
      const fields = splitCsvLine(line).map((f) => f.trim().toLowerCase());
      if (fields.length > 1 || fields[0] === 'account_sid') {
        column = fields.indexOf('account_sid');
        if (column < 0) {
          throw new UsageError(`--accounts-file ${name} line ${i + 1}: a CSV needs an account_sid column in its header line (or give one SID a line)`);
        }
        continue;
      }
    }
    const v = column < 0 ? line : (splitCsvLine(line)[column] ?? '').trim();
    const c = checkSid('AC', v);
    if (!c.ok) throw new UsageError(`--accounts-file ${name} line ${i + 1}: ${c.reason}`);
    sids.push(v);
  }
  return sids;
}

/** A glob (* any run, ? one character; everything else literal) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'su');
}

/** True when a glob has wildcards (otherwise it is an exact name the API can filter by). */
export function isGlob(glob: string): boolean {
  return /[*?]/.test(glob);
}

/** An account the fleet acts on. */
export interface FleetAccount {
  sid: string;
  friendlyName?: string;
}

interface AccountsPage {
  accounts?: { sid?: unknown; friendly_name?: unknown; status?: unknown }[];
  next_page_uri?: unknown;
}

/**
 * The accounts selected, a page at a time: the given SIDs (one batch), or every subaccount listed by
 * GET /Accounts.json (paged, filtered by status and name), the parent first with --include-parent. Only
 * SIDs and names are kept.
 */
async function* accountPages(client: ApiClient, o: SelectionOptions): AsyncGenerator<FleetAccount[]> {
  const parent = client.accountSid;
  const head: FleetAccount[] = o.includeParent ? [{ sid: parent }] : [];
  if (o.accounts) {
    yield [...head, ...o.accounts.filter((sid) => sid !== parent || !o.includeParent).map((sid) => ({ sid }))];
    return;
  }
  const q = new URLSearchParams({ PageSize: '1000' });
  if (o.accountStatus !== 'all') q.set('Status', o.accountStatus);
  const match = o.accountName === undefined ? undefined : globToRegExp(o.accountName);
  if (o.accountName !== undefined && !isGlob(o.accountName)) q.set('FriendlyName', o.accountName);
  try {
    // walkPages refuses a link that leaves the API's origin or repeats a page
    for await (const page of client.walkPages<AccountsPage>(`/2010-04-01/Accounts.json?${q}`)) {
      const out = head.splice(0);
      for (const a of page.accounts ?? []) {
        if (typeof a.sid !== 'string' || a.sid === parent || !checkSid('AC', a.sid).ok) continue;
        const friendlyName = typeof a.friendly_name === 'string' ? a.friendly_name : '';
        if (match && !match.test(friendlyName)) continue;
        out.push({ sid: a.sid, friendlyName });
      }
      yield out;
    }
  } catch (err) {
    throw apiKeyHint(client, err);
  }
}

/** Every account selected (see accountPages). */
export async function resolveAccounts(client: ApiClient, o: SelectionOptions): Promise<FleetAccount[]> {
  const out: FleetAccount[] = [];
  for await (const page of accountPages(client, o)) out.push(...page);
  return out;
}

/** Runs one request within the fan-out's concurrency. */
export type Slot = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * The selected accounts as they are listed. The first page is read before anything starts, so a refusal
 * fails the command before any account is touched; later pages of /Accounts.json (1,000 accounts each)
 * arrive while the first accounts are worked on, instead of one round trip each before any is started.
 * A later page that fails ends the listing: `error` says why, and the accounts listed so far are worked on.
 */
export class AccountList {
  /** The accounts listed so far, in order; every selected one once the listing has ended without error. */
  readonly items: FleetAccount[] = [];
  /** Why the listing ended early (a later page failed). */
  error: unknown;
  private readonly names = new Map<string, string | undefined>();
  private ended = false;
  private wakers: (() => void)[] = [];

  private constructor() {}

  /** A list known in advance (the current account alone). */
  static of(accounts: FleetAccount[]): AccountList {
    const list = new AccountList();
    list.add(accounts);
    list.end();
    return list;
  }

  /**
   * Reads the first page now (its errors are the caller's), then the rest in the background until signal
   * aborts, each page within `slot` (the engine's concurrency: a page is a request like any other).
   */
  static async open(client: ApiClient, o: SelectionOptions, signal: AbortSignal, slot: Slot): Promise<AccountList> {
    const list = new AccountList();
    const pages = accountPages(client, o);
    const first = await pages.next();
    if (first.done) list.end();
    else {
      list.add(first.value);
      signal.addEventListener('abort', () => list.wake(), { once: true });
      void list.pump(pages, signal, slot);
    }
    return list;
  }

  private async pump(pages: AsyncGenerator<FleetAccount[]>, signal: AbortSignal, slot: Slot): Promise<void> {
    try {
      while (!signal.aborted) {
        const r = await slot(() => pages.next());
        if (r.done) break;
        this.add(r.value);
      }
      if (signal.aborted) await pages.return(undefined);
    } catch (err) {
      this.error = err;
    }
    this.end();
  }

  private add(accounts: FleetAccount[]): void {
    for (const a of accounts) {
      this.items.push(a);
      this.names.set(a.sid, a.friendlyName);
    }
    this.wake();
  }

  private end(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  /** True once the listing has ended (every page read, a page failed, or Ctrl-C stopped it). */
  get complete(): boolean {
    return this.ended;
  }

  /** The friendly name the listing gave an account. */
  nameOf(sid: string): string | undefined {
    return this.names.get(sid);
  }

  /** The SIDs in listing order, waiting for later pages; after signal aborts, only those already listed. */
  async *sids(signal: AbortSignal): AsyncGenerator<string> {
    for (let i = 0; ; i++) {
      while (i >= this.items.length && !this.ended && !signal.aborted) await new Promise<void>((r) => this.wakers.push(r));
      if (i >= this.items.length) return;
      yield this.items[i]!.sid;
    }
  }
}

/** A refusal of API-key credentials on the Accounts list says what would work. */
function apiKeyHint(client: ApiClient, err: unknown): unknown {
  if (!(err instanceof AuthError) || !client.usesApiKey) return err;
  return new AuthError(`${err.message} (listing subaccounts with an API key)`, {
    status: err.status,
    code: err.code,
    cause: err,
    hint:
      'Twilio lets only Main API keys and the auth token read /Accounts.json: name the accounts with --accounts or ' +
      '--accounts-file, or use a Main key or the auth token (utrig login)',
  });
}
