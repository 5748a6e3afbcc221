import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoreSnapshot } from './store.js';

/** Reads a state file: null when it does not exist; throws naming the file when it cannot be used. */
export async function loadState(path: string): Promise<StoreSnapshot | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read emulator state file ${path}: ${(err as Error).message}; fix its permissions or move it aside to start fresh`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`emulator state file ${path} is corrupt (${(err as Error).message}); move it aside (e.g. mv ${path} ${path}.bad) to start with a fresh state`, { cause: err });
  }
  if (!isSnapshot(data)) {
    throw new Error(`emulator state file ${path} is not a utrig emulator state (version 1); move it aside to start with a fresh state`);
  }
  return data;
}

function isSnapshot(d: unknown): d is StoreSnapshot {
  if (typeof d !== 'object' || d === null) return false;
  const o = d as Record<string, unknown>;
  return (
    o.version === 1 &&
    typeof o.clockOffsetMs === 'number' &&
    Array.isArray(o.accounts) &&
    Array.isArray(o.apiKeys) &&
    Array.isArray(o.triggers) &&
    typeof o.usage === 'object' &&
    o.usage !== null
  );
}

/** Writes a snapshot atomically: a private temp file beside it, then rename. Mode 0600. */
export async function writeState(path: string, snapshot: StoreSnapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(snapshot));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/**
 * Coalesces writes: any number of `schedule()` calls within `delayMs` lead to one write of the
 * latest snapshot; `flush()` writes now if anything is pending and waits for it.
 */
export class StateWriter {
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  private writing: Promise<void> | null = null;
  lastError: Error | null = null;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => StoreSnapshot,
    private readonly delayMs = 25,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  get pending(): boolean {
    return this.dirty || this.writing !== null;
  }

  schedule(): void {
    this.dirty = true;
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.delayMs);
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    const snap = this.snapshot();
    this.writing = writeState(this.path, snap)
      .catch((err: Error) => {
        this.lastError = err;
        this.onError(err);
      })
      .finally(() => {
        this.writing = null;
      });
    await this.writing;
    // changes that arrived during the write are written by the next flush or timer
    if (this.dirty && !this.timer) this.schedule();
  }
}
