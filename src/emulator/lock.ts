import { constants } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** The lock is held by a live process and did not come free in time. */
export class LockBusyError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holderPid: number | null,
  ) {
    super(`${lockPath} is held by ${holderPid === null ? 'another process' : `process ${holderPid}`}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A lock file's holder: "pid host nonce". */
function parseHolder(text: string): { pid: number; host: string } | null {
  const m = /^(\d+) (\S+) [0-9a-f]+\n?$/.exec(text);
  return m ? { pid: Number(m[1]), host: m[2] as string } : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A holder is stale when its process is gone (same host), or when it never wrote its name (after 2 s). */
async function isStale(lockPath: string, text: string): Promise<boolean> {
  const h = parseHolder(text);
  if (h) return h.host === hostname() && !alive(h.pid);
  const st = await stat(lockPath).catch(() => null);
  return st !== null && Date.now() - st.mtimeMs > 2000;
}

/**
 * Removes a stale lock without removing a fresh one that replaced it meanwhile: the file is first
 * renamed to a private name (atomic), then checked; a fresh lock taken by mistake is linked back.
 */
async function breakLock(lockPath: string, staleText: string): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(8).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const text = await readFile(aside, 'utf8').catch(() => null);
  if (text !== staleText) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * Takes an exclusive lock: a file created with O_EXCL holding "pid host nonce". A lock whose process
 * has died is broken. Waits up to `waitMs` for a live holder; then throws LockBusyError.
 * Resolves to the release function.
 */
export async function acquireLock(lockPath: string, waitMs: number): Promise<() => Promise<void>> {
  const token = `${process.pid} ${hostname()} ${randomBytes(8).toString('hex')}\n`;
  const deadline = Date.now() + waitMs;
  let delay = 5;
  for (;;) {
    try {
      const fh = await open(lockPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      try {
        await fh.writeFile(token);
      } finally {
        await fh.close();
      }
      return async () => {
        const now = await readFile(lockPath, 'utf8').catch(() => null);
        if (now === token) await unlink(lockPath).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(lockPath, 'utf8').catch(() => null);
    if (text === null) continue;
    if (await isStale(lockPath, text)) {
      await breakLock(lockPath, text);
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(lockPath, parseHolder(text)?.pid ?? null);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}
