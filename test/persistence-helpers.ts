import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './helpers.js';

/** A `utrig emulator --state` process, for crash tests (also used by bench/persistence.mjs). */
export interface EmulatorProcess {
  url: string;
  accountSid: string;
  authToken: string;
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** kill -9, resolved once the process is gone (and reaped, so its lock is seen as stale). */
  kill9(): Promise<void>;
  /** SIGTERM, resolved with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `utrig emulator --port 0 --state <path>` (no --state for null; `args` added), optionally
 * through `sh -c` with a prefix (such as a ulimit); rejects with what it wrote when it exits or
 * prints no URL within 15 s.
 */
export function spawnEmulator(
  statePath: string | null,
  o: { shPrefix?: string; env?: Record<string, string>; args?: string[] } = {},
): Promise<EmulatorProcess> {
  const args = [BIN, 'emulator', '--port', '0', ...(statePath === null ? [] : ['--state', statePath]), ...(o.args ?? [])];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...o.env };
  const child = o.shPrefix
    ? spawn('sh', ['-c', `${o.shPrefix}; exec "$0" "$@"`, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emulator did not start in 15 s\n${stdout}\n${stderr}`));
    }, 15_000);
    const check = () => {
      const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
      const sid = /TWILIO_ACCOUNT_SID=(\S+)/.exec(stdout)?.[1];
      const token = /TWILIO_AUTH_TOKEN=(\S+)/.exec(stdout)?.[1];
      if (!url || !sid || !token) return;
      clearTimeout(timer);
      resolve({
        url,
        accountSid: sid,
        authToken: token,
        child,
        output: () => ({ stdout, stderr }),
        kill9: async () => {
          child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => ((stdout += d), check()));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => ((stderr += d), check()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`emulator exited with ${code} before listening\n${stdout}\n${stderr}`), { exitCode: code, stderr }));
    });
  });
}

/** A request with the emulator's credentials; resolves to status and JSON, rejects when the connection fails. */
export async function apiCall(em: EmulatorProcess, method: string, path: string, form?: Record<string, string>): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { authorization: 'Basic ' + Buffer.from(`${em.accountSid}:${em.authToken}`).toString('base64') };
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(em.url + path, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Every trigger SID of the account, following pages. */
export async function listSids(em: EmulatorProcess): Promise<Set<string>> {
  const out = new Set<string>();
  let path: string | null = `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers.json?PageSize=1000`;
  while (path) {
    const r = await apiCall(em, 'GET', path);
    if (r.status !== 200) throw new Error(`list answered ${r.status}`);
    for (const t of r.json.usage_triggers as { sid: string }[]) out.add(t.sid);
    path = r.json.next_page_uri as string | null;
  }
  return out;
}

/** What the client was told: live = create acknowledged, deleted = delete acknowledged, unsure = delete in flight at the crash. */
export type Ledger = Map<string, 'live' | 'deleted' | 'unsure'>;

export interface CrashRound {
  creates: number;
  deletes: number;
  /** acknowledged creates missing after the restart */
  lost: number;
  /** acknowledged deletes back after the restart */
  resurrected: number;
}

/**
 * One round: a stream of creates and deletes from `concurrency` clients against a running emulator,
 * kill -9 after `ms`, restart on the same state file and compare with what was acknowledged.
 * Resolves to the round's figures and the restarted emulator; throws when the restart fails (a corrupt file).
 */
export async function crashRound(
  em: EmulatorProcess,
  statePath: string,
  ledger: Ledger,
  ms: number,
  concurrency = 4,
  minWrites = 10,
): Promise<{ round: CrashRound; em: EmulatorProcess }> {
  const path = `/2010-04-01/Accounts/${em.accountSid}/Usage/Triggers.json`;
  let stop = false;
  let creates = 0;
  let deletes = 0;
  const live = () => [...ledger].filter(([, s]) => s === 'live').map(([sid]) => sid);
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const alive = live();
      try {
        if (alive.length > 0 && (alive.length > 400 || (i + w) % 3 === 2)) {
          const sid = alive[(i * 7 + w) % alive.length] as string;
          ledger.set(sid, 'unsure');
          const r = await apiCall(em, 'DELETE', `${path.replace('.json', '')}/${sid}.json`);
          if (r.status === 204) {
            ledger.set(sid, 'deleted');
            deletes++;
          } else if (r.status === 404) ledger.set(sid, 'deleted');
        } else {
          const r = await apiCall(em, 'POST', path, { UsageCategory: 'sms', TriggerValue: '100', CallbackUrl: 'http://127.0.0.1:9/hook' });
          if (r.status === 201) {
            ledger.set(r.json.sid as string, 'live');
            creates++;
          }
        }
      } catch {
        return; // the emulator was killed
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  // at least `ms`, and on a loaded machine until some writes were acknowledged (at most 10 s)
  const start = Date.now();
  while (Date.now() - start < ms || (creates + deletes < minWrites && Date.now() - start < 10_000)) await new Promise((r) => setTimeout(r, 10));
  await em.kill9();
  stop = true;
  await Promise.all(workers);
  const next = await spawnEmulator(statePath);
  const present = await listSids(next);
  let lost = 0;
  let resurrected = 0;
  for (const [sid, s] of ledger) {
    if (s === 'live' && !present.has(sid)) lost++;
    if (s === 'deleted' && present.has(sid)) resurrected++;
    if (s === 'unsure') ledger.set(sid, present.has(sid) ? 'live' : 'deleted');
  }
  // creates that were in flight at the crash and did survive: known from now on
  for (const sid of present) if (!ledger.has(sid)) ledger.set(sid, 'live');
  return { round: { creates, deletes, lost, resurrected }, em: next };
}
