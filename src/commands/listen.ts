// Over 300 lines: `utrig listen` is one small HTTP server whose parts share its state (the --count
// tally, the stop switch, the forwarding agent and the loop guard): options, the signed URL, reading a
// bounded body, verification, forwarding and the terminal block. Split it into src/commands/listen/
// when it grows further; today every part is read together when the receiver changes.
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ChalkInstance } from 'chalk';
import { Agent, request } from 'undici';
import { checkRequestSignature, isFormRequest } from '../api/signature.js';
import { UsageError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import { keyValues } from '../output/render.js';
import { parseCallbackUrl, parseIntFlag, str } from './flags.js';

/** The flags of `utrig listen`. */
export interface ListenOptions {
  port: number;
  host: string;
  /** Only this path is a callback; absent = any path. */
  path?: string | undefined;
  forwardTo?: string | undefined;
  /** What to answer when not forwarding (default 200). */
  status: number;
  verify: boolean;
  publicUrl?: string | undefined;
  count?: number | undefined;
}

/** One callback as `listen` reports it; the ndjson line is this object. */
export interface CallbackEvent {
  time: string;
  method: string;
  /** Path and query as requested. */
  path: string;
  /** null when not checked (--no-verify). */
  verified: boolean | null;
  params: Record<string, string>;
  /** What listen answered. */
  status: number;
  forwarded: { status: number | null; ms: number; error?: string } | null;
  /** Why verification failed, when it did. */
  reason?: string;
  /** Why listen refused a request whose signature was not the problem (a forwarding loop). */
  refused?: string;
}

/** Reads commander's values for `utrig listen`. */
export function parseListenOptions(raw: Record<string, unknown>): ListenOptions {
  const port = parseIntFlag('--port', str(raw, 'port') ?? '3000', 0, 65535);
  const host = (str(raw, 'host') ?? '127.0.0.1').trim();
  if (host === '') throw new UsageError('--host needs an address such as 127.0.0.1 or 0.0.0.0');
  const path = str(raw, 'path');
  if (path !== undefined && !path.startsWith('/')) throw new UsageError(`--path "${path}" must start with /, such as / or /usage-hook`);
  const forwardTo = str(raw, 'forwardTo');
  if (forwardTo !== undefined) parseCallbackUrl('--forward-to', forwardTo);
  const publicUrl = str(raw, 'publicUrl');
  if (publicUrl !== undefined) parseCallbackUrl('--public-url', publicUrl);
  const statusRaw = str(raw, 'status');
  const status = statusRaw === undefined ? 200 : parseIntFlag('--status', statusRaw, 200, 599);
  if (statusRaw !== undefined && forwardTo !== undefined) {
    throw new UsageError('--status and --forward-to disagree: with --forward-to listen answers with the status of your handler');
  }
  const countRaw = str(raw, 'count');
  const count = countRaw === undefined ? undefined : parseIntFlag('--count', countRaw, 1, 1_000_000);
  const verify = raw.verify !== false;
  return { port, host, path, forwardTo, status, verify, publicUrl, count };
}

/**
 * The URL Twilio signed: behind a tunnel, the public base URL plus the request's path and query;
 * otherwise http://<Host header><path and query>.
 */
export function signedUrlFor(publicUrl: string | undefined, hostHeader: string | undefined, fallbackHost: string, pathAndQuery: string): string {
  if (publicUrl !== undefined) {
    const u = new URL(publicUrl);
    const prefix = u.pathname.replace(/\/+$/, '');
    return `${u.protocol}//${u.host}${prefix}${pathAndQuery}`;
  }
  return `http://${hostHeader ?? fallbackHost}${pathAndQuery}`;
}

const MAX_BODY = 1 << 20;

// hop-by-hop headers belong to one connection; undici also refuses some of them outright
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'expect']);

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Marks a request listen forwarded; a marked request is never forwarded again, so no loop lasts. */
export const HOP_HEADER = 'x-utrig-forwarded';

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Addresses a URL's host may reach (a name resolved; an unresolvable one reaches nothing yet). */
async function resolveHost(hostname: string): Promise<string[]> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return [bare];
  try {
    return (await lookup(bare, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

function normalizeAddress(a: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return (v4 ? v4[1]! : a).toLowerCase();
}

const isWildcard = (a: string) => a === '0.0.0.0' || a === '::';
const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';

/** Whether connecting to `target` reaches a socket bound to `bound`. */
function reaches(target: string, bound: string): boolean {
  const t = normalizeAddress(target);
  const b = normalizeAddress(bound);
  if (t === b) return true;
  // 0.0.0.0 and :: as a destination mean this machine
  if (isWildcard(t)) return isWildcard(b) || isLoopback(b) || localAddresses().includes(b);
  if (isWildcard(b)) return isLoopback(t) || localAddresses().includes(t);
  return false;
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .map((i) => normalizeAddress(i.address));
}

function toRecord(p: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of p) out[k] = k in out ? `${out[k]},${v}` : v;
  return out;
}

/** A running listener. */
export interface Listener {
  /** The local URL, with the real port. */
  url: string;
  /** Resolves once stopped: after --count callbacks, or when the signal aborts. */
  done: Promise<void>;
}

export interface ListenHandlers {
  onEvent: (e: CallbackEvent) => void;
  /** A request outside --path (answered 404, not counted). */
  onIgnored?: (method: string, path: string) => void;
}

/** Starts the receiver; `authToken` undefined means signatures are not checked. */
export async function startListener(opts: ListenOptions, authToken: string | undefined, signal: AbortSignal, h: ListenHandlers): Promise<Listener> {
  // resolved before binding, so the check below runs before any request can arrive
  const forwardTarget = opts.forwardTo ? new URL(opts.forwardTo) : undefined;
  const forwardAddresses = forwardTarget ? await resolveHost(forwardTarget.hostname) : [];
  const agent = opts.forwardTo ? new Agent({ keepAliveTimeout: 1000, connect: { timeout: 10_000 } }) : undefined;
  let seen = 0;
  let stopping = false;
  let fallbackHost = `${opts.host}:${opts.port}`;
  let stop: () => void = () => undefined;

  async function forward(req: IncomingMessage, pathAndQuery: string, body: Buffer, res: ServerResponse): Promise<{ status: number; forwarded: NonNullable<CallbackEvent['forwarded']> }> {
    const target = new URL(opts.forwardTo as string);
    const search = new URL(pathAndQuery, 'http://x.invalid').search;
    if (search) target.search = target.search ? `${target.search}&${search.slice(1)}` : search;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue;
      headers[k] = v;
    }
    headers[HOP_HEADER] = '1';
    const started = performance.now();
    try {
      const out = await request(target, {
        method: req.method as 'GET',
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        dispatcher: agent,
        headersTimeout: 15_000,
        bodyTimeout: 15_000,
      });
      const answer = Buffer.from(await out.body.arrayBuffer());
      const ms = Math.round(performance.now() - started);
      const relay: Record<string, string> = {};
      const ct = out.headers['content-type'];
      if (typeof ct === 'string') relay['content-type'] = ct;
      res.writeHead(out.statusCode, relay);
      res.end(answer);
      return { status: out.statusCode, forwarded: { status: out.statusCode, ms } };
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      const error = err instanceof Error ? `${err.message}${(err as { code?: string }).code ? ` (${(err as { code?: string }).code})` : ''}` : String(err);
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`utrig listen could not reach ${opts.forwardTo}: ${error}\n`);
      return { status: 502, forwarded: { status: null, ms, error } };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const pathAndQuery = req.url ?? '/';
    const u = new URL(pathAndQuery, 'http://x.invalid');
    const body = await readBody(req);
    if (stopping) {
      res.writeHead(503, { connection: 'close' });
      res.end();
      return;
    }
    if (opts.path !== undefined && u.pathname !== opts.path) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`utrig listen expects callbacks on ${opts.path}\n`);
      h.onIgnored?.(method, pathAndQuery);
      return;
    }
    if (body === null) {
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end('body too large\n');
      return;
    }
    const raw = body.toString('utf8');
    const form = isFormRequest(method, req.headers['content-type']);
    const params = toRecord(form ? new URLSearchParams(raw) : u.searchParams);

    let verified: boolean | null = null;
    let reason: string | undefined;
    if (authToken !== undefined) {
      const url = signedUrlFor(opts.publicUrl, req.headers.host, fallbackHost, pathAndQuery);
      const sig = req.headers['x-twilio-signature'];
      if (typeof sig !== 'string' || sig === '') {
        verified = false;
        reason = 'no X-Twilio-Signature header';
      } else {
        reason = checkRequestSignature(authToken, sig, { url, method, contentType: req.headers['content-type'], body: raw }) ?? undefined;
        verified = reason === undefined;
      }
    }

    let status = opts.status;
    let forwarded: CallbackEvent['forwarded'] = null;
    let refused: string | undefined;
    if (verified === false && opts.verify) {
      status = 403;
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('invalid X-Twilio-Signature\n');
    } else if (opts.forwardTo && req.headers[HOP_HEADER] !== undefined) {
      status = 508;
      refused = `already forwarded by utrig listen (${HOP_HEADER} header): not forwarded again, to stop a loop`;
      res.writeHead(508, { 'content-type': 'text/plain' });
      res.end(`utrig listen ${refused}\n`);
    } else if (opts.forwardTo) {
      ({ status, forwarded } = await forward(req, pathAndQuery, body, res));
    } else {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok\n' : `utrig listen answered ${status} (--status)\n`);
    }
    if (stopping) return;
    // --count waits for accepted callbacks: a forged or looping request must not end a CI wait
    const accepted = !(verified === false && opts.verify) && refused === undefined;
    if (accepted) seen += 1;
    const event: CallbackEvent = { time: new Date().toISOString(), method, path: pathAndQuery, verified, params, status, forwarded };
    if (reason !== undefined) event.reason = reason;
    if (refused !== undefined) event.refused = refused;
    h.onEvent(event);
    if (opts.count !== undefined && seen >= opts.count) stop();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`utrig listen failed: ${err instanceof Error ? err.message : String(err)}\n`);
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new UsageError(`port ${opts.port} on ${opts.host} is already in use`, { hint: 'pick another with --port, or --port 0 for a free one' }));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new UsageError(`--host ${opts.host} is not an address of this machine`, { hint: 'try --host 127.0.0.1, or 0.0.0.0 for every interface' }));
      } else reject(err);
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  fallbackHost = `${shownHost}:${addr.port}`;
  if (forwardTarget) {
    const port = forwardTarget.port === '' ? DEFAULT_PORTS[forwardTarget.protocol] : Number(forwardTarget.port);
    if (port === addr.port && forwardAddresses.some((a) => reaches(a, addr.address))) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent?.close();
      throw new UsageError(`--forward-to ${opts.forwardTo} is this listener's own address (${fallbackHost}): every callback would loop back`, {
        hint: 'give the address of your handler, e.g. --forward-to http://127.0.0.1:8080/usage',
      });
    }
  }

  const done = new Promise<void>((resolve) => {
    stop = () => {
      if (stopping) return;
      stopping = true;
      signal.removeEventListener('abort', stop);
      server.close(() => {
        void (agent?.close() ?? Promise.resolve()).finally(resolve);
      });
      // answered connections kept alive by the sender would hold close() open
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 500).unref();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop);
  });
  return { url: `http://${fallbackHost}${opts.path ?? '/'}`, done };
}

/** The startup line (stderr). */
export function describeStart(url: string, source: string | undefined, o: ListenOptions): string {
  const how = source === undefined ? 'signatures not verified: --no-verify' : `signatures verified with the auth token of ${source}`;
  let line = `listening on ${url} (${how})`;
  if (o.publicUrl) line += `\nsigned URLs start with ${o.publicUrl.replace(/\/+$/, '')} (--public-url)`;
  if (o.forwardTo) line += `\nforwarding each verified callback to ${o.forwardTo}`;
  if (o.count !== undefined) line += `\nstopping after ${o.count} accepted callback${o.count === 1 ? '' : 's'}`;
  else line += '\npress Ctrl-C to stop';
  return line;
}

function formatValue(v: string | undefined): string {
  if (v === undefined || v === '') return '?';
  return /^-?\d+\.\d+$/.test(v) ? v.replace(/\.?0+$/, '') : v;
}

/** The human block for one callback (a terminal); everything from the request is shown escaped. */
export function renderCallbackBlock(c: ChalkInstance, e: CallbackEvent, n: number): string {
  const p: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.params)) p[k] = escapeControls(v);
  const check = e.verified === true ? c.green('✓ verified') : e.verified === false ? c.red('✗ NOT verified') : c.yellow('not checked');
  const answered = e.status < 300 ? c.green(String(e.status)) : c.red(String(e.status));
  const head = `${c.bold(`#${n}`)} ${e.time.slice(11, 19)}  ${escapeControls(e.method)} ${escapeControls(e.path)}  ${check}  answered ${answered}\n`;
  const pairs: [string, string][] = [];
  if (p.UsageTriggerSid !== undefined) {
    pairs.push(['Trigger', c.cyan(p.UsageTriggerSid)]);
    pairs.push(['Category', p.UsageCategory ?? '?']);
    pairs.push(['Reached', `${p.TriggerBy ?? 'usage'} ${formatValue(p.CurrentValue)} (trigger value ${formatValue(p.TriggerValue)})`]);
    pairs.push(['Period', p.Recurring ? p.Recurring : 'once']);
    pairs.push(['Idempotency', p.IdempotencyToken ?? '']);
    pairs.push(['Fired', p.DateFired ?? '']);
    pairs.push(['Account', p.AccountSid ?? '']);
  } else {
    for (const [k, v] of Object.entries(p)) pairs.push([k, v]);
    if (pairs.length === 0) pairs.push(['Params', c.dim('none (not a usage-trigger callback?)')]);
  }
  if (e.reason !== undefined) pairs.push(['Signature', c.red(escapeControls(e.reason))]);
  if (e.refused !== undefined) pairs.push(['Refused', c.red(escapeControls(e.refused))]);
  if (e.forwarded) {
    pairs.push(['Forwarded', e.forwarded.status === null ? c.red(`failed after ${e.forwarded.ms} ms: ${escapeControls(e.forwarded.error ?? '')}`) : `${e.forwarded.status} in ${e.forwarded.ms} ms`]);
  }
  const body = keyValues(c, pairs)
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `${head}${body}\n\n`;
}
