// The receiver of `utrig listen`: one small HTTP server whose parts share its state (the --count tally,
// the stop switch, the forwarding agent and the loop guard): the signed URL, a bounded body, verification,
// forwarding. Loaded only when listen runs.
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Agent, request } from 'undici';
import { checkRequestSignature, isFormRequest } from '../../api/signature.js';
import { UsageError } from '../../errors.js';
import type { ListenOptions } from './index.js';

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
