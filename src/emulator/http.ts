import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StoreError, type Store } from './store.js';

/** What a route answers; `send` writes it. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** answered as a JSON array written entry by entry (the logs), instead of `body` */
  items?: readonly unknown[];
}

/** One API request as the emulator saw it. */
export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string> | null;
  /** the body as received, cut to the log's body limit (see `truncated`) */
  body: string;
  /** present when the body was cut: its full length in bytes (then `form` is null) */
  truncated?: number;
  /** the HTTP status answered; 0 while in flight or when a fault dropped the connection */
  status: number;
  /** with a Drop=after fault: the status the request was processed to before its answer was dropped */
  processed?: number;
  time: string;
}

/** The fault rule set through POST /emulator/faults. */
export interface Faults {
  status: number | null;
  count: number;
  retryAfter: number | null;
  latencyMs: number;
  method: string | null;
  /** drop the connection before the request is processed (nothing changes) */
  drop: boolean;
  /** process the request (the change is made and persisted), then drop the connection unanswered */
  dropAfter: boolean;
  /** only requests under this account's path (/2010-04-01/Accounts/{account}…) match the rule */
  account: string | null;
}

export const NO_FAULTS: Faults = { status: null, count: 0, retryAfter: null, latencyMs: 0, method: null, drop: false, dropAfter: false, account: null };

/** Does a request's path belong to this account (its resource or anything under it)? */
function underAccount(path: string, account: string): boolean {
  const base = `/2010-04-01/Accounts/${account}`;
  return path === `${base}.json` || path.startsWith(`${base}/`);
}

// Twilio error codes used, kept small on purpose:
//   400 20001  missing or invalid parameter ("Missing required parameter X in the post body")
//   401 20003  missing or wrong credentials ("Authenticate")
//   401 20005  a suspended account's credentials ("Account not active"; a closed one's get 20003)
//   403 20403  an account change Twilio reserves to the main account (see Store.updateAccount)
//   400 21479  reopening a closed subaccount
//   404 20404  unknown account, trigger or path, and accounts the caller may not see
//   405 20004  method not allowed on this resource
//   429 20429  over the concurrency limit ("Too Many Requests", with Retry-After)
//   429 20429, 5xx 20000+status  injected faults (Twilio's 20429 "Too Many Requests", 20500, 20503)
/** Twilio's JSON error body. */
export function errorBody(status: number, code: number, message: string): string {
  return JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

/** Default largest request body: the API's forms are a few hundred bytes. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** Past this much, an oversized body is no longer read to its end: the connection is closed. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

/** A body over the limit: answered 413; `close` when the rest of it was not read. */
export class BodyTooLarge extends StoreError {
  constructor(
    max: number,
    readonly close: boolean,
  ) {
    super(413, 20001, `request body too large: the emulator accepts bodies up to ${max} bytes`);
  }
}

/**
 * Reads the whole body as UTF-8, keeping at most `max` bytes. An oversized body rejects with
 * BodyTooLarge once it has been read (and dropped) to its end, so a client still sending gets the
 * 413 instead of a connection reset; only bodies past DRAIN_LIMIT are cut off.
 */
export function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > DRAIN_LIMIT) {
      reject(new BodyTooLarge(max, true));
      return;
    }
    let chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > DRAIN_LIMIT) {
        req.off('data', onData);
        reject(new BodyTooLarge(max, true));
        return;
      }
      if (over) return;
      if (size > max) {
        over = true;
        chunks = [];
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => (over ? reject(new BodyTooLarge(max, false)) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** Bounds of the request and delivery logs. */
export interface LogLimits {
  /** entries kept; the oldest go first */
  entries: number;
  /** bytes of each request body kept */
  bodyBytes: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = { entries: 1000, bodyBytes: 4096 };

/** Appends to a log that keeps only the last `limit` entries. */
export function appendBounded<T>(log: T[], item: T, limit: number): void {
  log.push(item);
  // V8 shifts a fast array in place, so a full log costs O(1) per entry
  while (log.length > limit) log.shift();
}

/** A log entry whose body (and form) stay within the limit, whatever was sent. */
export function makeLogEntry(
  method: string,
  path: string,
  query: Record<string, string>,
  form: Record<string, string> | null,
  raw: string,
  bodyBytes: number,
  time: string,
): RequestLogEntry {
  const size = Buffer.byteLength(raw);
  if (size <= bodyBytes) return { method, path, query, form, body: raw, status: 0, time };
  const body = Buffer.from(raw).subarray(0, bodyBytes).toString('utf8');
  return { method, path, query, form: null, body, truncated: size, status: 0, time };
}

/** URLSearchParams to a plain object (the last value of a repeated name wins). */
export function toRecord(p: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of p) out[k] = v;
  return out;
}

/** Is the body a form (application/x-www-form-urlencoded)? */
export function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Who is calling: the account acted for, and the API key used (null for the auth token). */
export interface Principal {
  account: string;
  apiKey: string | null;
}

/** Basic auth -> the principal acting, or null. */
export function authenticate(store: Store, req: IncomingMessage): Principal | null {
  const h = req.headers.authorization ?? '';
  const m = /^Basic\s+(\S+)$/i.exec(h);
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  const user = decoded.slice(0, i);
  const pass = decoded.slice(i + 1);
  const acct = store.accounts.get(user);
  if (acct) return acct.auth_token === pass ? { account: acct.sid, apiKey: null } : null;
  const key = store.apiKeys.get(user);
  if (key && key.secret === pass) return { account: key.account_sid, apiKey: key.sid };
  return null;
}

/** A new Twilio-Request-Id: RQ and 32 hex digits, as Twilio sends on every API response. */
export function newRequestId(): string {
  return 'RQ' + randomBytes(16).toString('hex');
}

/** The answer past the concurrency limit: Twilio's 429, error 20429, with Retry-After in seconds. */
export function tooManyRequests(retryAfterSeconds: number): Reply {
  return {
    status: 429,
    body: errorBody(429, 20429, 'Too Many Requests'),
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

/**
 * The answer to valid credentials of an account that is not active. Twilio documents error 20005
 * "Account not active" for a suspended account; a closed account's credentials no longer
 * authenticate at all (20003). Both are 401: the request is refused before any resource is read.
 */
export function inactiveAccount(status: string): Reply {
  if (status === 'closed') return unauthorized();
  return { status: 401, body: errorBody(401, 20005, 'Account not active'), headers: { 'www-authenticate': 'Basic realm="Twilio API"' } };
}

/** Writes a reply: JSON unless the status is 204 or the body null; `items` are streamed. */
export function send(res: ServerResponse, r: Reply): void {
  const headers: Record<string, string> = { ...r.headers };
  if (r.items) {
    headers['content-type'] = 'application/json; charset=utf-8';
    res.writeHead(r.status, headers);
    streamArray(res, r.items).catch(() => res.destroy());
    return;
  }
  if (r.status === 204 || r.body === null) {
    res.writeHead(r.status, headers);
    res.end();
    return;
  }
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  headers['content-type'] = 'application/json; charset=utf-8';
  res.writeHead(r.status, headers);
  res.end(text);
}

/**
 * Writes a JSON array one entry at a time, waiting for the socket to drain and yielding to other
 * requests every few entries: a full log never holds the event loop or a second copy in memory.
 */
async function streamArray(res: ServerResponse, items: readonly unknown[]): Promise<void> {
  const snapshot = items.slice();
  res.write('[');
  for (let i = 0; i < snapshot.length; i++) {
    if (res.destroyed) return;
    const more = res.write((i === 0 ? '' : ',') + JSON.stringify(snapshot[i]));
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    } else if (i % 64 === 63) await new Promise<void>((r) => setImmediate(r));
  }
  res.end(']');
}

/** A StoreError as Twilio's error reply; anything else is a 500. */
export function errorReply(err: unknown): Reply {
  if (err instanceof StoreError) return { status: err.status, body: errorBody(err.status, err.code, err.message) };
  return { status: 500, body: errorBody(500, 20500, `internal emulator error: ${err instanceof Error ? err.message : String(err)}`) };
}

/** The answer to a request without valid credentials. */
export function unauthorized(): Reply {
  return { status: 401, body: errorBody(401, 20003, 'Authenticate'), headers: { 'www-authenticate': 'Basic realm="Twilio API"' } };
}

/**
 * Applies the current fault rule to an API request: waits the latency, then answers with the
 * injected status or drops the connection when the rule matches. Returns the status answered
 * (0 for a drop), 'drop-after' when the request is to be processed and its answer then dropped
 * (the caller does both), or null when the request should go on to its route.
 */
export async function applyFaults(faults: Faults, method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<number | 'drop-after' | null> {
  const f = faults;
  // unref'd: a closed emulator (tests) is not kept alive by requests still waiting out an injected latency
  if (f.latencyMs > 0) await new Promise<void>((r) => setTimeout(r, f.latencyMs).unref());
  if ((f.status === null && !f.drop && !f.dropAfter) || f.count <= 0 || (f.method !== null && f.method !== method)) return null;
  if (f.account !== null && !underAccount(path, f.account)) return null;
  f.count -= 1;
  if (f.dropAfter) return 'drop-after';
  if (f.drop) {
    req.socket.destroy();
    return 0;
  }
  const status = f.status ?? 503;
  const headers: Record<string, string> = {};
  if (f.retryAfter !== null) headers['retry-after'] = String(f.retryAfter);
  const message = status === 429 ? 'Too Many Requests' : `injected fault: HTTP ${status}`;
  send(res, { status, body: errorBody(status, 20000 + status, message), headers });
  return status;
}
