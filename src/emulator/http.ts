import type { IncomingMessage, ServerResponse } from 'node:http';
import { StoreError, type Store } from './store.js';

/** What a route answers; `send` writes it. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One API request as the emulator saw it. */
export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string> | null;
  body: string;
  /** the HTTP status answered; 0 while in flight or when a fault dropped the connection */
  status: number;
  time: string;
}

/** The fault rule set through POST /emulator/faults. */
export interface Faults {
  status: number | null;
  count: number;
  retryAfter: number | null;
  latencyMs: number;
  method: string | null;
  drop: boolean;
}

export const NO_FAULTS: Faults = { status: null, count: 0, retryAfter: null, latencyMs: 0, method: null, drop: false };

// Twilio error codes used, kept small on purpose:
//   400 20001  missing or invalid parameter ("Missing required parameter X in the post body")
//   401 20003  missing or wrong credentials ("Authenticate")
//   404 20404  unknown account, trigger or path, and accounts the caller may not see
//   405 20004  method not allowed on this resource
//   429 20429, 5xx 20000+status  injected faults (Twilio's 20429 "Too Many Requests", 20500, 20503)
/** Twilio's JSON error body. */
export function errorBody(status: number, code: number, message: string): string {
  return JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

const MAX_BODY = 1 << 20;

/** Reads the whole body as UTF-8; rejects with a 413 StoreError past MAX_BODY. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new StoreError(413, 20001, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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

/** Basic auth -> the account SID acting, or null. */
export function authenticate(store: Store, req: IncomingMessage): string | null {
  const h = req.headers.authorization ?? '';
  const m = /^Basic\s+(\S+)$/i.exec(h);
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  const user = decoded.slice(0, i);
  const pass = decoded.slice(i + 1);
  const acct = store.accounts.get(user);
  if (acct) return acct.auth_token === pass ? acct.sid : null;
  const key = store.apiKeys.get(user);
  if (key && key.secret === pass) return key.account_sid;
  return null;
}

/** Writes a reply: JSON unless the status is 204 or the body null. */
export function send(res: ServerResponse, r: Reply): void {
  const headers: Record<string, string> = { ...r.headers };
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
 * (0 for a drop), or null when the request should go on to its route.
 */
export async function applyFaults(faults: Faults, method: string, req: IncomingMessage, res: ServerResponse): Promise<number | null> {
  const f = faults;
  if (f.latencyMs > 0) await sleep(f.latencyMs);
  if ((f.status === null && !f.drop) || f.count <= 0 || (f.method !== null && f.method !== method)) return null;
  f.count -= 1;
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
