import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AuthError } from '../errors.js';
import { CLOCK_RANGE_TEXT, describeClockMs, isClockInRange } from './clock.js';
import {
  compareTriggers,
  isKnownCategory,
  type AccountRecord,
  type ApiKeyRecord,
  type StoreSnapshot,
  type Totals,
  type TriggerRecord,
} from './store.js';

import { accountProblem, apiKeyProblem, bucketsProblem, isMillionths, isObj, show, triggerProblem, type Obj } from './state-items.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** Callback attempts kept in the state file: the last this many. */
export const MAX_PERSISTED_DELIVERIES = 1000;

/** The state file: the store's snapshot, the last journal batch it includes, recent deliveries. */
export interface StateFile extends StoreSnapshot {
  /** journal batches up to this sequence number are in the snapshot; later ones are replayed */
  seq?: number;
  deliveries?: object[];
}

/** A state file (or its journal or lock) that cannot be used. Exit 3, like an unreadable config. */
export class StateFileError extends AuthError {}

/** The journal beside a state file. */
export function journalPath(path: string): string {
  return `${path}.journal`;
}

/** The lock file beside a state file. */
export function lockPath(path: string): string {
  return `${path}.lock`;
}

function corrupt(path: string, what: string): StateFileError {
  return new StateFileError(`emulator state file ${path} is corrupt: ${what}; move it aside to start with a fresh state`, {
    hint: `mv ${path} ${path}.bad (and ${journalPath(path)} if present), or restore it from a backup`,
  });
}

/**
 * Refuses a state file, journal or lock that is a symlink or not a regular file, and a state file
 * without write permission: utrig replaces the file, so it would silently defeat either.
 */
export async function checkStatePaths(path: string): Promise<void> {
  for (const p of [path, journalPath(path), lockPath(path)]) {
    let st;
    try {
      st = await lstat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new StateFileError(`cannot use emulator state file ${p}: ${(err as Error).message}`, { cause: err });
    }
    if (st.isSymbolicLink()) {
      throw new StateFileError(`emulator state file ${p} is a symbolic link: utrig does not follow links for its state`, {
        hint: 'give the real path with --state, or remove the link',
      });
    }
    if (!st.isFile()) throw new StateFileError(`emulator state file ${p} is not a regular file`, { hint: 'give a file path with --state' });
    if ((st.mode & 0o200) === 0) {
      throw new StateFileError(`emulator state file ${p} is read-only: utrig would have to replace it to save changes`, {
        hint: `make it writable (chmod u+w ${p}) or give another file with --state`,
      });
    }
  }
}

/** Removes temporary files a killed process left beside the state file (call with the lock held). */
export async function removeOrphanTemps(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const n of names) if (n.startsWith(prefix)) await unlink(join(dirname(path), n)).catch(() => undefined);
}

async function readNoFollow(p: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(p, O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new StateFileError(`emulator state file ${p} is a symbolic link: utrig does not follow links for its state`);
    throw new StateFileError(`cannot read emulator state file ${p}: ${(err as Error).message}`, {
      hint: 'fix its permissions or move it aside to start fresh',
      cause: err,
    });
  }
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** The state being loaded: the snapshot's items, then journal batches applied in order. */
class LoadedState {
  clockOffsetMs = 0;
  seq = 0;
  readonly accounts = new Map<string, AccountRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly triggers = new Map<string, TriggerRecord>();
  readonly usage: Record<string, Record<string, Record<string, Totals>>> = Object.create(null);
  deliveries: object[] = [];

  constructor(private readonly path: string) {}

  private need(problem: string | null, where: string): void {
    if (problem !== null) throw corrupt(this.path, `${where}: ${problem}`);
  }

  account(a: unknown, where: string): void {
    this.need(accountProblem(a), where);
    const r = a as AccountRecord;
    this.accounts.set(r.sid, r);
  }

  apiKey(k: unknown, where: string): void {
    this.need(apiKeyProblem(k), where);
    const r = k as ApiKeyRecord;
    this.apiKeys.set(r.sid, r);
  }

  trigger(t: unknown, where: string): void {
    this.need(triggerProblem(t), where);
    const r = t as TriggerRecord;
    this.triggers.set(r.sid, r);
  }

  buckets(account: unknown, category: unknown, b: unknown, where: string): void {
    if (typeof account !== 'string' || !/^AC[0-9a-fA-F]{32}$/.test(account)) this.need(`account ${show(account)} is not an account SID`, where);
    if (typeof category !== 'string' || !isKnownCategory(category)) this.need(`category ${show(category)} is not a known usage category`, where);
    this.need(bucketsProblem(b), where);
    const cats = (this.usage[account as string] ??= Object.create(null) as Record<string, Record<string, Totals>>);
    cats[category as string] = b as Record<string, Totals>;
  }

  clock(v: unknown, where: string): void {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.need(`clock offset ${show(v)} is not a number of milliseconds`, where);
    const at = Date.now() + (v as number);
    if (!isClockInRange(at)) {
      this.need(`it sets the clock to ${describeClockMs(at)}, outside the times the emulator can represent (${CLOCK_RANGE_TEXT}): set it to 0`, where);
    }
    this.clockOffsetMs = v as number;
  }

  delivery(d: unknown, where: string): void {
    if (!isObj(d) || typeof d.trigger_sid !== 'string') this.need(`delivery ${show(d)} is not a callback attempt`, where);
    this.deliveries.push(d as object);
  }

  snapshot(s: unknown): void {
    if (!isObj(s) || s.version !== 1) throw corrupt(this.path, 'it is not a utrig emulator state (version 1)');
    this.clock(s.clockOffsetMs, 'clockOffsetMs');
    if (s.seq !== undefined) {
      if (!isMillionths(s.seq)) this.need(`seq is ${show(s.seq)}, expected a non-negative integer`, 'seq');
      this.seq = s.seq as number;
    }
    const list = (name: string): unknown[] => {
      const v = s[name];
      if (!Array.isArray(v)) throw corrupt(this.path, `${name} is ${show(v)}, expected a list`);
      return v;
    };
    list('accounts').forEach((a, i) => this.account(a, `accounts[${i}]`));
    list('apiKeys').forEach((k, i) => this.apiKey(k, `apiKeys[${i}]`));
    list('triggers').forEach((t, i) => this.trigger(t, `triggers[${i}]`));
    if (!isObj(s.usage)) throw corrupt(this.path, `usage is ${show(s.usage)}, expected an object`);
    for (const [acct, cats] of Object.entries(s.usage)) {
      if (!isObj(cats)) this.need(`it is ${show(cats)}, expected an object of categories`, `usage.${acct}`);
      for (const [cat, b] of Object.entries(cats as Obj)) this.buckets(acct, cat, b, `usage.${acct}.${cat}`);
    }
    if (s.deliveries !== undefined) list('deliveries').forEach((d, i) => this.delivery(d, `deliveries[${i}]`));
  }

  /** Applies one journal batch (see journal.ts for the operations). */
  batch(ops: unknown, where: string): void {
    if (!Array.isArray(ops)) this.need('the batch is not a list of changes', where);
    for (const op of ops as unknown[]) {
      if (!Array.isArray(op)) this.need(`change ${show(op)} is not a list`, where);
      const [kind, a, b, c] = op as unknown[];
      if (kind === 't') this.trigger(a, `${where}, trigger`);
      else if (kind === 'td') this.triggers.delete(String(a));
      else if (kind === 'u') this.buckets(a, b, c, `${where}, usage`);
      else if (kind === 'clock') this.clock(a, `${where}, clock`);
      else if (kind === 'a') this.account(a, `${where}, account`);
      else if (kind === 'k') this.apiKey(a, `${where}, API key`);
      else if (kind === 'd') this.delivery(a, `${where}, delivery`);
      else this.need(`unknown change ${show(kind)}`, where);
    }
  }

  result(): StateFile {
    for (const t of this.triggers.values()) {
      if (!this.accounts.has(t.account_sid)) throw corrupt(this.path, `trigger ${t.sid} belongs to account ${t.account_sid}, which the state does not have`);
    }
    return {
      version: 1,
      clockOffsetMs: this.clockOffsetMs,
      accounts: [...this.accounts.values()],
      apiKeys: [...this.apiKeys.values()],
      // list order, so that restoring inserts each trigger at the end of its account's list
      triggers: [...this.triggers.values()].sort(compareTriggers),
      usage: this.usage,
      seq: this.seq,
      deliveries: this.deliveries.slice(-MAX_PERSISTED_DELIVERIES),
    };
  }
}

/**
 * Reads a state file and replays its journal: null when neither exists. Throws StateFileError naming
 * the file and the refused item when anything is malformed; only a torn final journal line (a batch
 * whose write a crash interrupted, so never acknowledged) is skipped.
 */
export async function loadState(path: string): Promise<StateFile | null> {
  return (await readState(path)).state;
}

/** loadState, plus the length of the journal's whole lines (where appending may resume). */
export async function readState(path: string): Promise<{ state: StateFile | null; journalBytes: number }> {
  const text = await readNoFollow(path);
  const journal = await readNoFollow(journalPath(path));
  const journalBytes = journal === null ? 0 : Buffer.byteLength(journal.slice(0, journal.lastIndexOf('\n') + 1));
  if (text === null && journalBytes === 0) return { state: null, journalBytes };
  const st = new LoadedState(path);
  if (text !== null) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw corrupt(path, (err as Error).message);
    }
    st.snapshot(data);
  }
  if (journal !== null && journal !== '') {
    const lines = journal.split('\n');
    // the text after the last newline is a batch cut short by a crash (or nothing)
    lines.pop();
    lines.forEach((line, i) => {
      const where = `${journalPath(path)} line ${i + 1}`;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (err) {
        throw corrupt(path, `${where}: ${(err as Error).message}`);
      }
      if (!isObj(rec) || !isMillionths(rec.s)) throw corrupt(path, `${where}: not a journal batch`);
      if ((rec.s as number) <= st.seq) return; // already in the snapshot
      st.batch(rec.c, where);
      st.seq = rec.s as number;
    });
  }
  return { state: st.result(), journalBytes };
}

/**
 * Writes a file durably and atomically: a new temporary file beside it, created exclusively with an
 * unpredictable name (never through a planted link), fsynced, renamed over the target, then the
 * directory fsynced so the rename itself survives a crash. Mode 0600.
 */
export async function writeFileDurably(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `${basename(path)}.tmp-${randomBytes(12).toString('hex')}`);
  const fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

/** fsyncs a directory, so that a rename or a new file in it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, O_RDONLY);
  try {
    await fh.sync();
  } catch (err) {
    // some filesystems refuse fsync on a directory; the data itself was synced
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    await fh.close();
  }
}
