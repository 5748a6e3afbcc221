import { isIP } from 'node:net';
import type { Command } from 'commander';
import type { CommandContext } from '../deps.js';
import { emulatorClient } from './emulator-target.js';
import type { IO } from '../io.js';
import { ApiError, NetworkError, UsageError } from '../errors.js';
import { chooseFormat, parseFields } from '../output/format.js';
import { examples } from '../output/help.js';
import { renderList } from '../output/render.js';
import { parseCategory, parseUsageAmount } from './flags.js';

/** Flags of `utrig emulator`, parsed. */
export interface EmulatorCommandOptions {
  port: number;
  host: string;
  state?: string;
  accountSid?: string;
  authToken?: string;
  subaccounts?: number;
  latencyMs?: number;
  concurrencyLimit?: number;
  evaluateEvery?: number;
  parentTriggersCountSubaccounts?: boolean;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(v);
}

function intFlag(flag: string, v: unknown, min: number, max: number): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s.trim()) || Number(s) < min || Number(s) > max) {
    throw new UsageError(`${flag} "${s}" must be an integer from ${min} to ${max}`);
  }
  return Number(s);
}

/** Reads commander's raw values for `utrig emulator`; throws UsageError naming the flag. */
export function parseEmulatorOptions(raw: Record<string, unknown>): EmulatorCommandOptions {
  const opts: EmulatorCommandOptions = {
    port: intFlag('--port', raw.port, 0, 65535) ?? 4010,
    host: str(raw.host) ?? '127.0.0.1',
  };
  if (opts.host.trim() === '') throw new UsageError('--host must be an address or host name such as 127.0.0.1');
  const state = str(raw.state);
  if (state !== undefined) {
    if (state.trim() === '') throw new UsageError('--state must be a file path such as ./emulator.json');
    opts.state = state;
  }
  const accountSid = str(raw.accountSid);
  if (accountSid !== undefined) {
    if (!/^AC[0-9a-f]{32}$/i.test(accountSid)) throw new UsageError(`--account-sid "${accountSid}" must be AC followed by 32 hex digits`);
    opts.accountSid = accountSid;
  }
  const authToken = str(raw.authToken);
  if (authToken !== undefined) {
    if (!/^\S{8,}$/.test(authToken)) throw new UsageError('--auth-token must be at least 8 characters without spaces; letters and digits only is safest (twilio-go refuses others)');
    opts.authToken = authToken;
  }
  const subaccounts = intFlag('--subaccounts', raw.subaccounts, 0, 10_000);
  if (subaccounts !== undefined) opts.subaccounts = subaccounts;
  const latency = intFlag('--latency', raw.latencyMs ?? raw.latency, 0, 600_000);
  if (latency !== undefined) opts.latencyMs = latency;
  const limit = intFlag('--concurrency-limit', raw.concurrencyLimit, 1, 100_000);
  if (limit !== undefined) opts.concurrencyLimit = limit;
  const every = intFlag('--evaluate-every', raw.evaluateEvery, 1, 86_400);
  if (every !== undefined) opts.evaluateEvery = every;
  if (raw.parentTriggersCountSubaccounts === true) opts.parentTriggersCountSubaccounts = true;
  return opts;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/** Turns a failure to listen into a usage error with a hint, as `listen` does; other errors pass. */
function startFailure(err: unknown, opts: EmulatorCommandOptions): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') {
    return new UsageError(`port ${opts.port} on ${opts.host} is already in use`, { hint: 'pick another with --port, or --port 0 for a free one' });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new UsageError(`--host ${opts.host} is not an address of this machine`, { hint: 'try --host 127.0.0.1, or 0.0.0.0 for every interface' });
  }
  if (code === 'EACCES' && opts.port < 1024) {
    return new UsageError(`port ${opts.port} needs privileges this process does not have`, { hint: 'pick a port from 1024 up with --port, or --port 0' });
  }
  return err;
}

/** Runs the emulator until `signal` aborts, printing the env to use and one line per request and callback. */
export async function runEmulatorForeground(io: IO, opts: EmulatorCommandOptions, signal: AbortSignal): Promise<void> {
  const [{ startEmulator }, { requestLine, deliveryLine }] = await Promise.all([import('../emulator/server.js'), import('../emulator/log-lines.js')]);
  if (!isLoopback(opts.host)) {
    io.stderr.write(`warning: listening on ${opts.host}, not a loopback address: anyone who can reach it can use the test credentials\n`);
  }
  const em = await startEmulator({
    port: opts.port,
    host: opts.host,
    statePath: opts.state,
    onStateError: (message) => io.stderr.write(`error: ${message}\n`),
    accountSid: opts.accountSid,
    authToken: opts.authToken,
    subaccounts: opts.subaccounts,
    latencyMs: opts.latencyMs,
    concurrencyLimit: opts.concurrencyLimit,
    evaluateEverySeconds: opts.evaluateEvery,
    parentTriggersCountSubaccounts: opts.parentTriggersCountSubaccounts,
    // request-derived text in these lines has its controls made visible (see log-lines.ts)
    onRequest: (r) => io.stdout.write(`${requestLine(r)}\n`),
    onDelivery: (d) => io.stdout.write(`${deliveryLine(d)}\n`),
  }).catch((err: unknown) => {
    throw startFailure(err, opts);
  });
  try {
    io.stderr.write(`utrig emulator listening on ${em.url}${opts.state ? ` (state: ${opts.state})` : ' (state in memory)'}\n`);
    if (em.subaccountSids.length > 0) io.stderr.write(`subaccounts: ${em.subaccountSids.join(' ')}\n`);
    io.stderr.write('paste into another shell:\n');
    // these are the emulator's own test credentials, never real ones, so printing them is safe
    io.stdout.write(`export UTRIG_API_URL=${em.url}\nexport TWILIO_ACCOUNT_SID=${em.accountSid}\nexport TWILIO_AUTH_TOKEN=${em.authToken}\n`);
    // the API key the emulator created, commented out: the lines above stay the ones that take effect
    io.stdout.write(`# or authenticate with the emulator's API key:\n# export TWILIO_API_KEY=${em.apiKeySid}\n# export TWILIO_API_SECRET=${em.apiKeySecret}\n`);
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await em.close();
    io.stderr.write('emulator stopped\n');
  }
}

async function controlCall(baseUrl: string, method: 'GET' | 'POST', path: string, form?: Record<string, string | undefined>): Promise<unknown> {
  const url = baseUrl.replace(/\/+$/, '') + path;
  let body: string | undefined;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (form) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) if (v !== undefined) p.set(k, v);
    body = p.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  let status: number;
  let text: string;
  // undici loads here, not at start-up: declaring the emulator command must stay cheap
  const { request } = await import('undici');
  try {
    const res = await request(url, { method, headers, body, headersTimeout: 10_000, bodyTimeout: 10_000 });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw new NetworkError(`cannot reach the emulator at ${baseUrl}: ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'start it with: utrig emulator',
      cause: err,
    });
  }
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (status < 200 || status >= 300) {
    const e = (json ?? {}) as { message?: string; code?: number; more_info?: string };
    throw new ApiError(`emulator ${method} ${path} failed: ${e.message ?? `HTTP ${status}`}`, { status, code: e.code, moreInfo: e.more_info });
  }
  return json;
}

/** POST /emulator/usage: adds usage to a category; returns the new all-time totals. */
export async function postUsage(
  baseUrl: string,
  fields: { accountSid: string; category: string; count?: string; usage?: string; price?: string },
): Promise<unknown> {
  return controlCall(baseUrl, 'POST', '/emulator/usage', {
    AccountSid: fields.accountSid,
    Category: fields.category,
    Count: fields.count,
    Usage: fields.usage,
    Price: fields.price,
  });
}

/**
 * POST /emulator/clock: sets (now, ISO 8601) or advances (seconds) the virtual clock. A time the
 * emulator cannot represent is a UsageError and nothing is changed (an advance reads the clock first).
 */
export async function setClock(baseUrl: string, fields: { now?: string; advance?: string }): Promise<unknown> {
  const { CLOCK_RANGE_TEXT, describeClockMs, isClockInRange } = await import('../emulator/clock.js');
  if (fields.now !== undefined && !isClockInRange(Date.parse(fields.now))) {
    throw new UsageError(`--now "${fields.now}" is outside the times the emulator can represent: give a time ${CLOCK_RANGE_TEXT}`);
  }
  if (fields.advance !== undefined) {
    const current = (await controlCall(baseUrl, 'GET', '/emulator/clock')) as { now?: unknown } | null;
    const from = Date.parse(String(current?.now));
    const target = from + Number(fields.advance) * 1000;
    // an answer without a readable time leaves the check to the emulator
    if (Number.isFinite(from) && !isClockInRange(target)) {
      throw new UsageError(
        `--advance "${fields.advance}" would move the clock to ${describeClockMs(target)}, outside the times the emulator can represent (${CLOCK_RANGE_TEXT})`,
      );
    }
  }
  return controlCall(baseUrl, 'POST', '/emulator/clock', { Now: fields.now, Advance: fields.advance });
}

/** GET /emulator/deliveries: every callback attempt so far. */
export async function getDeliveries(baseUrl: string): Promise<unknown[]> {
  const res = await controlCall(baseUrl, 'GET', '/emulator/deliveries');
  return Array.isArray(res) ? res : [];
}

type Raw = Record<string, unknown>;

/** Declares `utrig emulator` and its control subcommands usage, clock and deliveries. */
export function declareEmulator(program: Command, { run: r, withDeps }: CommandContext): void {
  const emu = program
    .command('emulator')
    .summary('run the built-in Usage Triggers API emulator')
    .description(
      'Run a local, stateful emulator of the Usage Triggers API with simulated usage and real, signed callbacks.\nIt prints the environment to point utrig (or any Twilio client) at it.',
    )
    .option('--port <port>', 'port to listen on (0 picks a free one)', '4010')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--state <file>', 'keep state in this JSON file across restarts')
    .option('--account-sid <AC…>', 'SID of the emulated account (default: a fixed test SID)')
    .option(
      '--auth-token <token>',
      'auth token of the emulated account, a test credential: at least 8 characters; use letters and digits only (twilio-go refuses others). Default: 32 hex digits',
    )
    .option('--subaccounts <n>', 'create N subaccounts at start')
    .option('--latency <ms>', 'add this much latency to every API answer')
    .option('--concurrency-limit <n>', 'answer 429 (error 20429, Retry-After) past N requests in flight per account and its subaccounts')
    .option('--evaluate-every <seconds>', "evaluate triggers every N seconds of virtual time, as Twilio does (about 60), instead of at once")
    .option('--parent-triggers-count-subaccounts', "a main account's triggers count its subaccounts' usage too (undocumented at Twilio; off)")
    .addHelpText('after', examples('utrig emulator', 'utrig emulator --port 0 --state ./emulator.json', 'utrig emulator --evaluate-every 60', 'utrig emulator usage --category sms --count 40'))
    .action(
      withDeps(async (deps, raw) => {
        const opts = parseEmulatorOptions({ ...raw, accountSid: raw.accountSid, latencyMs: raw.latency });
        r.foreground = new AbortController();
        await runEmulatorForeground(deps.io, opts, r.foreground.signal);
      }),
    );
  emu
    .command('usage')
    .summary('add simulated usage to a category (triggers are evaluated at once)')
    .requiredOption('--category <category>', 'usage category')
    .option('--count <n>', 'add to the count')
    .option('--usage <n>', 'add to the usage')
    .option('--price <n>', 'add to the price')
    .option('--allow-unknown-category', 'accept a category newer than utrig knows')
    .addHelpText('after', examples('utrig --local emulator usage --category sms --count 40 --usage 40 --price 0.32', 'utrig emulator usage --category calls --usage 12.5'))
    .action(
      withDeps(async (deps, raw) => {
        const category = parseCategory('--category', String(raw.category), raw.allowUnknownCategory === true).category;
        const num = (flag: string, v: unknown) => (typeof v === 'string' ? parseUsageAmount(flag, v) : undefined);
        const fields = { count: num('--count', raw.count), usage: num('--usage', raw.usage), price: num('--price', raw.price) };
        if (!fields.count && !fields.usage && !fields.price) throw new UsageError('give at least one of --count, --usage, --price');
        const client = await emulatorClient(deps);
        const res = await postUsage(client.baseUrl, { accountSid: client.accountSid, category, ...stripUndefined(fields) });
        deps.io.stdout.write(JSON.stringify(res, null, 2) + '\n');
      }),
    );
  emu
    .command('clock')
    .summary("set or advance the emulator's virtual clock")
    .option('--now <iso>', 'set the time, e.g. 2026-12-01T00:00:00Z')
    .option('--advance <seconds>', 'move the clock forward')
    .addHelpText('after', examples('utrig emulator clock --advance 86400', 'utrig emulator clock --now 2027-01-01T00:00:00Z'))
    .action(
      withDeps(async (deps, raw) => {
        const now = typeof raw.now === 'string' ? raw.now : undefined;
        const advance = typeof raw.advance === 'string' ? raw.advance : undefined;
        if ((now === undefined) === (advance === undefined)) throw new UsageError('give exactly one of --now <iso> or --advance <seconds>');
        if (now !== undefined && !Number.isFinite(Date.parse(now))) throw new UsageError(`--now "${now}" is not an ISO 8601 time such as 2026-12-01T00:00:00Z`);
        if (advance !== undefined && !/^\d+(\.\d+)?$/.test(advance)) throw new UsageError(`--advance "${advance}" must be a number of seconds`);
        const client = await emulatorClient(deps);
        const res = await setClock(client.baseUrl, stripUndefined({ now, advance }));
        deps.io.stdout.write(JSON.stringify(res, null, 2) + '\n');
      }),
    );
  emu
    .command('deliveries')
    .summary('show every callback attempt the emulator made')
    .addHelpText('after', examples('utrig --local emulator deliveries', 'utrig emulator deliveries --json | jq ".[] | select(.status >= 500)"'))
    .action(
      withDeps(async (deps) => {
        const client = await emulatorClient(deps);
        const rows = (await getDeliveries(client.baseUrl)) as Raw[];
        const fields = ['time', 'trigger_sid', 'attempt', 'method', 'url', 'status', 'error', 'idempotency_token'];
        const n = await renderList(rows, {
          io: deps.io,
          format: chooseFormat(deps.io, deps.globals.output, deps.globals.json),
          fields: parseFields(deps.globals.fields, [...fields, 'account_sid', 'params']),
          csvFields: fields,
          // too wide for the terminal: cut the idempotency token first (it repeats the account and trigger
          // SIDs), then the error, then the URL and trigger SID evenly; times, attempts and statuses stay whole
          columns: fields.map((f) => ({ header: f.toUpperCase(), get: (x: Raw) => deliveryCell(f, x[f]), shrink: DELIVERY_SHRINK[f] ?? false })),
        });
        if (n === 0) deps.messages.note('no callbacks delivered yet');
      }),
    );
}

/** Which columns of the deliveries table may be cut, and in what order (highest first). */
const DELIVERY_SHRINK: Record<string, number> = { idempotency_token: 3, error: 2, url: 1, trigger_sid: 1 };

/** A deliveries table cell: the time to the second (still ISO 8601, UTC), the rest as given. */
function deliveryCell(field: string, v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = String(v);
  return field === 'time' ? text.replace(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z$/, '$1Z') : text;
}

function stripUndefined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}
