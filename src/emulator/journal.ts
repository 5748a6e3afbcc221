// Over 300 lines on purpose: this file is one class, Persistence, whose parts (dirty set, group
// commit, append, compaction, close) share one invariant: an answer goes out only once its change
// is fsynced, and the journal never holds a torn batch after a failure. Split, each part would
// need the others' private state. The state file's format and checks live in state.ts and
// state-items.ts.
import { constants } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { acquireLock, LockBusyError } from './lock.js';
import {
  checkStatePaths,
  journalPath,
  lockPath,
  readState,
  MAX_PERSISTED_DELIVERIES,
  removeOrphanTemps,
  StateFileError,
  writeFileDurably,
  type StateFile,
} from './state.js';
import { StoreError, type Store, type StoreChange } from './store.js';

const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW } = constants;

/** A journal smaller than this is never compacted; above it, once it outgrows the last snapshot. */
const MIN_COMPACT_BYTES = 1 << 20;

export interface PersistenceOptions {
  /** how long to wait for another process holding the state file's lock; 0 fails at once */
  lockWaitMs?: number;
  /** told at once, one line, when a write fails */
  onError?: (message: string) => void;
  /** never compact a journal smaller than this (default 1 MiB; tests use less) */
  compactMinBytes?: number;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What changed since the last batch; entities are written whole, as they are when the batch starts. */
class Dirty {
  clock = false;
  readonly accounts = new Set<string>();
  readonly apiKeys = new Set<string>();
  readonly triggers = new Set<string>();
  readonly usage = new Map<string, [string, string]>();
  deliveries: object[] = [];

  get empty(): boolean {
    return !this.clock && this.accounts.size + this.apiKeys.size + this.triggers.size + this.usage.size + this.deliveries.length === 0;
  }

  mark(c: StoreChange): void {
    if (c.kind === 'clock') this.clock = true;
    else if (c.kind === 'account') this.accounts.add(c.sid);
    else if (c.kind === 'apiKey') this.apiKeys.add(c.sid);
    else if (c.kind === 'trigger') this.triggers.add(c.sid);
    else this.usage.set(`${c.account}\n${c.category}`, [c.account, c.category]);
  }

  /** Takes back a batch that could not be written, so that the next batch carries it. */
  merge(o: Dirty): void {
    this.clock ||= o.clock;
    for (const s of o.accounts) this.accounts.add(s);
    for (const s of o.apiKeys) this.apiKeys.add(s);
    for (const s of o.triggers) this.triggers.add(s);
    for (const [k, v] of o.usage) this.usage.set(k, v);
    this.deliveries = [...o.deliveries, ...this.deliveries];
  }
}

/**
 * The durable state of one emulator: a snapshot file plus an append-only journal beside it.
 *
 * Every change the store reports is marked dirty; `commit()` resolves once everything marked before
 * it is on disk. Commits that arrive while a write is in flight share the next write and fsync
 * (group commit), so throughput does not depend on the state's size. A journal line is one batch,
 * `{"s":seq,"c":[changes]}`, holding whole records (upserts), so replay is idempotent and a torn final
 * line loses only a batch nobody was told about. Once the journal outgrows the snapshot, the
 * snapshot is rewritten (tmp + fsync + rename) with the sequence number it includes, and the
 * journal is truncated; batches at or below that number are skipped on load.
 */
export class Persistence {
  private dirty = new Dirty();
  private busy: Promise<void> | null = null;
  /** the batch being written, for callers whose changes are already in it */
  private writing: Promise<void> | null = null;
  private next: Deferred | null = null;
  private store: Store | null = null;
  private snapshotBytes = 0;
  private compactFailedAt = 0;
  private compactMinBytes = MIN_COMPACT_BYTES;
  private closed = false;
  private readonly recent: object[];

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private journalBytes: number,
    private seq: number,
    readonly loaded: StateFile | null,
    private readonly release: () => Promise<void>,
    private readonly onError: (message: string) => void,
  ) {
    this.recent = loaded?.deliveries ? [...loaded.deliveries] : [];
  }

  /**
   * Locks the state file, refuses links and read-only files, removes orphan temporary files, loads
   * the snapshot and replays the journal. Throws StateFileError (exit 3) with a hint.
   */
  static async open(path: string, opts: PersistenceOptions = {}): Promise<Persistence> {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StateFileError(`cannot create the directory of emulator state file ${path}: ${(err as Error).message}`, { cause: err });
    }
    await checkStatePaths(path);
    let release: () => Promise<void>;
    try {
      release = await acquireLock(lockPath(path), opts.lockWaitMs ?? 0);
    } catch (err) {
      if (err instanceof LockBusyError) {
        throw new StateFileError(
          `emulator state file ${path} is in use by ${err.holderPid === null ? 'another process' : `another utrig process (pid ${err.holderPid})`}`,
          { hint: 'wait for that command to finish or stop it; a second `utrig emulator` needs its own --state file' },
        );
      }
      throw new StateFileError(`cannot lock emulator state file ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      await removeOrphanTemps(path);
      const { state: loaded, journalBytes } = await readState(path);
      let fh: FileHandle;
      try {
        fh = await open(journalPath(path), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600);
      } catch (err) {
        throw new StateFileError(`cannot open emulator state journal ${journalPath(path)}: ${(err as Error).message}`, { cause: err });
      }
      // a torn final line (a batch a crash cut short, never acknowledged) is cut before appending
      if ((await fh.stat()).size !== journalBytes) await fh.truncate(journalBytes);
      const p = new Persistence(path, fh, journalBytes, loaded?.seq ?? 0, loaded, release, opts.onError ?? (() => undefined));
      p.compactMinBytes = opts.compactMinBytes ?? MIN_COMPACT_BYTES;
      return p;
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** Callback attempts loaded from the file (the last MAX_PERSISTED_DELIVERIES). */
  deliveries(): object[] {
    return [...this.recent];
  }

  /**
   * Attaches the store. A new state file gets its first snapshot now (which also proves the
   * directory writable); an existing one is left as it is, so start-up with a large state costs one
   * read. Throws StateFileError when the snapshot cannot be written.
   */
  async start(store: Store): Promise<void> {
    this.store = store;
    if (this.loaded) {
      // start-up may have set the clock or an account's token without a change event: next batch
      this.dirty.clock = true;
      for (const sid of store.accounts.keys()) this.dirty.accounts.add(sid);
      return;
    }
    try {
      await this.compact();
    } catch (err) {
      await this.abandon();
      throw new StateFileError(`cannot write emulator state file ${this.path}: ${(err as Error).message}`, {
        hint: 'check that its directory is writable and has space, or give another file with --state',
        cause: err,
      });
    }
  }

  /** Records a change of the store; it is written by the next commit. */
  mark(c: StoreChange): void {
    this.dirty.mark(c);
  }

  /** Records a callback attempt; kept (the last MAX_PERSISTED_DELIVERIES) by the next commit. */
  addDelivery(d: object): void {
    this.dirty.deliveries.push(d);
    this.recent.push(d);
    if (this.recent.length > MAX_PERSISTED_DELIVERIES * 2) this.recent.splice(0, this.recent.length - MAX_PERSISTED_DELIVERIES);
  }

  /** True when something is not yet on disk. */
  get pending(): boolean {
    return !this.dirty.empty || this.busy !== null;
  }

  /**
   * Resolves when every change marked so far is durable (written and fsynced); rejects with a
   * StoreError (500) when the write failed, after reporting the reason through onError.
   */
  commit(): Promise<void> {
    if (this.dirty.empty) return this.writing ?? Promise.resolve();
    if (this.closed) return Promise.reject(new StoreError(500, 20500, `emulator state file ${this.path} is closed; the change is not durable`));
    if (!this.next) this.next = deferred();
    const p = this.next.promise;
    this.pump();
    return p;
  }

  /** Like commit, and also waits for a compaction in progress. */
  async flush(): Promise<void> {
    await this.commit();
    while (this.busy) await this.busy;
  }

  private pump(): void {
    if (this.busy || this.closed) return;
    let work: Promise<void>;
    if (this.next && !this.dirty.empty) {
      const d = this.next;
      this.next = null;
      const batch = this.dirty;
      this.dirty = new Dirty();
      this.writing = this.append(batch);
      this.writing.then(d.resolve, d.reject);
      work = this.writing.then(
        () => this.maybeCompact(),
        () => undefined,
      );
    } else if (this.next) {
      // everything it waited for went out in an earlier batch
      this.next.resolve();
      this.next = null;
      return;
    } else return;
    this.busy = work.finally(() => {
      this.busy = null;
      this.writing = null;
      this.pump();
    });
  }

  private encode(batch: Dirty): string {
    const store = this.store;
    const ops: unknown[] = [];
    if (store) {
      if (batch.clock) ops.push(['clock', store.clockOffsetMs]);
      for (const sid of batch.accounts) {
        const a = store.accounts.get(sid);
        if (a) ops.push(['a', a]);
      }
      for (const sid of batch.apiKeys) {
        const k = store.apiKeys.get(sid);
        if (k) ops.push(['k', k]);
      }
      for (const sid of batch.triggers) {
        const t = store.triggers.get(sid);
        ops.push(t ? ['t', t] : ['td', sid]);
      }
      for (const [account, category] of batch.usage.values()) ops.push(['u', account, category, store.usageBuckets(account, category)]);
    }
    for (const d of batch.deliveries) ops.push(['d', d]);
    return `${JSON.stringify({ s: this.seq + 1, c: ops })}\n`;
  }

  private async append(batch: Dirty): Promise<void> {
    const buf = Buffer.from(this.encode(batch));
    try {
      let off = 0;
      while (off < buf.length) off += (await this.fh.write(buf, off, buf.length - off)).bytesWritten;
      await this.fh.datasync();
    } catch (err) {
      this.dirty.merge(batch);
      // cut a partly written line, so that later batches do not follow a torn one
      await this.fh.truncate(this.journalBytes).catch(() => undefined);
      const message = `cannot save a change to emulator state journal ${journalPath(this.path)}: ${(err as Error).message}`;
      this.onError(message);
      throw new StoreError(500, 20500, `${message}; the change is not durable`);
    }
    this.journalBytes += buf.length;
    this.seq += 1;
  }

  private async maybeCompact(): Promise<void> {
    if (this.journalBytes < Math.max(this.compactMinBytes, this.snapshotBytes)) return;
    // after a failure, wait for the journal to double before trying again
    if (this.compactFailedAt > 0 && this.journalBytes < this.compactFailedAt * 2) return;
    try {
      await this.compact();
      this.compactFailedAt = 0;
    } catch (err) {
      this.compactFailedAt = this.journalBytes;
      this.onError(`cannot compact emulator state file ${this.path} (changes stay safe in its journal): ${(err as Error).message}`);
    }
  }

  /** Rewrites the snapshot from the store (including changes not yet journaled), then empties the journal. */
  private async compact(): Promise<void> {
    if (!this.store) return;
    const file: StateFile = { ...this.store.snapshot(), seq: this.seq, deliveries: this.recent.slice(-MAX_PERSISTED_DELIVERIES) };
    const text = JSON.stringify(file);
    await writeFileDurably(this.path, text);
    this.snapshotBytes = text.length;
    // batches up to `seq` are in the snapshot: should this truncate not happen, load skips them
    await this.fh.truncate(0);
    await this.fh.datasync();
    this.journalBytes = 0;
  }

  /**
   * Writes what is pending, closes the journal and releases the lock (the journal is folded in by
   * compaction once it outgrows the snapshot, not at every stop). Throws a
   * StateFileError when the last changes could not be saved.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    let failure: unknown = null;
    try {
      await this.flush();
    } catch (err) {
      failure = err;
    }
    await this.abandon();
    if (failure) {
      throw new StateFileError(`emulator state file ${this.path}: the last changes were not saved: ${(failure as Error).message}`, { cause: failure });
    }
  }

  /** Closes the journal and releases the lock without writing anything. */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    await this.release();
  }
}
