import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorStartOptions, type RunningEmulator } from '../src/emulator/server.js';

/** The repository root (tests run from dist/test). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'utrig');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  /** Secrets that must appear in no stream (checked after every run). */
  secrets?: string[];
}

/** A fresh, empty config directory. */
export function tempConfigDir(): string {
  return mkdtempSync(join(tmpdir(), 'utrig-test-'));
}

/** Runs a program without a terminal, stdin from `input`; killed after timeoutMs. Real env is not inherited. */
export function runProcess(
  cmd: string,
  args: string[],
  o: { env: Record<string, string | undefined>; input?: string; cwd?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v;
    const child = spawn(cmd, args, { env, cwd: o.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
  });
}

/** Runs the built CLI as a subprocess; asserts no secret leaked into its output. */
export async function runCli(args: string[], o: RunOptions = {}): Promise<CliResult> {
  const res = await runProcess(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...o.env },
    input: o.input,
    timeoutMs: o.timeoutMs,
  });
  for (const s of o.secrets ?? []) {
    if (s && (res.stdout.includes(s) || res.stderr.includes(s))) {
      throw new Error(`a secret appeared in the output of utrig ${args.join(' ')}:\n${res.stdout}\n${res.stderr}`);
    }
  }
  return res;
}

/** Asserts an exit code, showing what the process wrote when it differs. */
export function assertExit(res: CliResult, code: number): void {
  assert.equal(res.code, code, `expected exit ${code}, got ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`);
}

/** An emulator plus the env that points the CLI at it with a fresh config directory. */
export interface Harness {
  emu: RunningEmulator;
  env: Record<string, string>;
  run: (args: string[], o?: RunOptions) => Promise<CliResult>;
  /** Creates a trigger directly through the API (not through the CLI). */
  create: (form: Record<string, string>) => Promise<Record<string, unknown>>;
  api: (method: string, path: string, form?: Record<string, string>) => Promise<{ status: number; json: unknown }>;
  close: () => Promise<void>;
}

/** Starts an emulator on an ephemeral loopback port. */
export async function harness(opts: EmulatorStartOptions = {}): Promise<Harness> {
  const emu = await startEmulator({ port: 0, ...opts });
  const configDir = tempConfigDir();
  const env = {
    UTRIG_API_URL: emu.url,
    TWILIO_ACCOUNT_SID: emu.accountSid,
    TWILIO_AUTH_TOKEN: emu.authToken,
    UTRIG_CONFIG_DIR: configDir,
  };
  const auth = 'Basic ' + Buffer.from(`${emu.accountSid}:${emu.authToken}`).toString('base64');
  const api = async (method: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(emu.url + path, {
      method,
      headers: { authorization: auth, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
  };
  return {
    emu,
    env,
    run: (args, o = {}) => runCli(args, { ...o, env: { ...env, ...o.env }, secrets: [emu.authToken, emu.apiKeySecret, ...(o.secrets ?? [])] }),
    create: async (form) => {
      const r = await api('POST', `/2010-04-01/Accounts/${emu.accountSid}/Usage/Triggers.json`, form);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json as Record<string, unknown>;
    },
    api,
    close: () => emu.close(),
  };
}

/** Compares text with a golden file in test/golden (UPDATE_GOLDEN=1 rewrites it; review the diff). */
export function assertGolden(name: string, actual: string): void {
  const path = join(ROOT, 'test', 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(path, actual);
    return;
  }
  const expected = readFileSync(path, 'utf8');
  assert.equal(actual, expected, `output differs from test/golden/${name} (UPDATE_GOLDEN=1 npm test regenerates it)`);
}

/** Replaces SIDs and dates, which differ on every run, with stable placeholders. */
export function normalize(text: string): string {
  const sids = new Map<string, string>();
  return text
    .replace(/UT[0-9a-f]{32}/g, (m) => {
      if (!sids.has(m)) sids.set(m, `UT${String(sids.size + 1).padStart(32, '0')}`);
      return sids.get(m)!;
    })
    .replace(/AC[0-9a-f]{32}/g, 'AC00000000000000000000000000000000')
    .replace(/[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000/g, 'Sun, 01 Nov 2026 00:00:00 +0000')
    .replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/g, '2026-11-01 00:00');
}
