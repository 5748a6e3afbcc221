import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildCallbackParams, deliverCallback } from '../api/callback.js';
import { Persistence } from './journal.js';
import {
  API_VERSION,
  checkCategory,
  parseRecurring,
  parseTriggerBy,
  stableHex,
  Store,
  StoreError,
  type FireEvent,
  type ListFilter,
  type TriggerRecord,
} from './store.js';

/** The built-in local test account: stable so a shell profile can keep pointing at it. */
export const LOCAL_ACCOUNT_SID = 'AC' + stableHex('utrig emulator local account');
export const LOCAL_AUTH_TOKEN = stableHex('utrig emulator local auth token');

export interface EmulatorStartOptions {
  port?: number;
  host?: string;
  /** persist state to this file (snapshot + journal, see journal.ts); absent = memory only */
  statePath?: string;
  /** wait this long for another process using statePath (default 0: fail at once) */
  stateLockWaitMs?: number;
  /** told at once when a state write fails (the request also fails with 500) */
  onStateError?: (message: string) => void;
  accountSid?: string;
  authToken?: string;
  /** create N subaccounts of the main account at start (stable SIDs derived from the parent) */
  subaccounts?: number;
  /** initial virtual time; default real now (or the persisted clock) */
  now?: Date;
  /** delay between callback retries, default 200 */
  retryDelayMs?: number;
  /** timeout of one callback attempt, default 15000 */
  callbackTimeoutMs?: number;
  /** called for every callback attempt */
  onDelivery?: (d: Delivery) => void;
  /** latency added to every API request from the start (like POST /emulator/faults LatencyMs) */
  latencyMs?: number;
  /** called for every /2010-04-01 request once answered */
  onRequest?: (r: RequestLogEntry) => void;
}

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

export interface Delivery {
  trigger_sid: string;
  account_sid: string;
  url: string;
  method: 'GET' | 'POST';
  attempt: number;
  status: number | null;
  error: string | null;
  idempotency_token: string;
  time: string;
  params: Record<string, string>;
}

export interface RunningEmulator {
  url: string;
  accountSid: string;
  authToken: string;
  apiKeySid: string;
  apiKeySecret: string;
  subaccountSids: string[];
  requests: RequestLogEntry[];
  deliveries: Delivery[];
  /** the store behind the API, for in-process tests and benchmarks */
  store: Store;
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Faults {
  status: number | null;
  count: number;
  retryAfter: number | null;
  latencyMs: number;
  method: string | null;
  drop: boolean;
}

const NO_FAULTS: Faults = { status: null, count: 0, retryAfter: null, latencyMs: 0, method: null, drop: false };

// Twilio error codes used, kept small on purpose:
//   400 20001  missing or invalid parameter ("Missing required parameter X in the post body")
//   401 20003  missing or wrong credentials ("Authenticate")
//   404 20404  unknown account, trigger or path, and accounts the caller may not see
//   405 20004  method not allowed on this resource
//   429 20429, 5xx 20000+status  injected faults (Twilio's 20429 "Too Many Requests", 20500, 20503)
function errorBody(status: number, code: number, message: string): string {
  return JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
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

function toRecord(p: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of p) out[k] = v;
  return out;
}

function isForm(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const ACCOUNT_PATH = /^\/2010-04-01\/Accounts\/([^/]+?)(?:\.json)?$/;
const TRIGGERS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Usage\/Triggers(?:\.json)?$/;
const TRIGGER_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Usage\/Triggers\/([^/]+?)(?:\.json)?$/;
const RECORDS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Usage\/Records(?:\.json)?$/;

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Starts the emulator; resolves once it listens. Throws when a state file cannot be used. */
export async function startEmulator(opts: EmulatorStartOptions = {}): Promise<RunningEmulator> {
  const accountSid = opts.accountSid ?? LOCAL_ACCOUNT_SID;
  const authToken = opts.authToken ?? (accountSid === LOCAL_ACCOUNT_SID ? LOCAL_AUTH_TOKEN : stableHex(`${accountSid} auth token`));
  const store = new Store();
  const persist = opts.statePath ? await Persistence.open(opts.statePath, { lockWaitMs: opts.stateLockWaitMs, onError: opts.onStateError }) : null;
  if (persist?.loaded) store.restore(persist.loaded);
  if (opts.now) store.clockOffsetMs = Math.round(opts.now.getTime() - Date.now());
  store.onChange = (c) => persist?.mark(c);

  const main = store.addAccount({ sid: accountSid, friendly_name: 'utrig emulator', auth_token: authToken, owner_account_sid: accountSid, type: 'Full' });
  // an explicitly given token wins over a persisted one
  main.auth_token = authToken;
  const apiKey = store.addApiKey({
    sid: 'SK' + stableHex(`${accountSid} api key`),
    secret: stableHex(`${accountSid} api key secret`),
    account_sid: accountSid,
    friendly_name: 'utrig emulator key',
  });
  const subaccountSids: string[] = [];
  for (let i = 1; i <= (opts.subaccounts ?? 0); i++) {
    const sid = 'AC' + stableHex(`${accountSid} subaccount ${i}`);
    store.addAccount({ sid, friendly_name: `Subaccount ${i}`, auth_token: stableHex(`${sid} auth token`), owner_account_sid: accountSid, type: 'Full' });
    subaccountSids.push(sid);
  }
  await persist?.start(store);

  const requests: RequestLogEntry[] = [];
  const deliveries = (persist?.deliveries() ?? []) as Delivery[];
  const pending = new Set<Promise<unknown>>();
  let faults: Faults = { ...NO_FAULTS, latencyMs: opts.latencyMs ?? 0 };
  const isoNow = (): string => new Date(store.nowMs()).toISOString();

  store.onFire = (e: FireEvent) => {
    const params = buildCallbackParams(e.trigger, e.firedAt);
    const method = e.trigger.callback_method === 'GET' ? 'GET' : 'POST';
    const p = deliverCallback({
      url: e.trigger.callback_url,
      method,
      params,
      authToken: e.authToken,
      retryDelayMs: opts.retryDelayMs ?? 200,
      timeoutMs: opts.callbackTimeoutMs ?? 15_000,
      onAttempt: (a) => {
        const d: Delivery = {
          trigger_sid: e.trigger.sid,
          account_sid: e.trigger.account_sid,
          url: e.trigger.callback_url,
          method,
          attempt: a.attempt,
          status: a.status,
          error: a.error,
          idempotency_token: params.IdempotencyToken ?? '',
          time: isoNow(),
          params,
        };
        deliveries.push(d);
        persist?.addDelivery(d);
        opts.onDelivery?.(d);
      },
    })
      .catch(() => {})
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  // state restored from disk may already be over a value in a period that began while stopped
  store.evaluateAll();

  /** Basic auth -> the account SID acting, or null. */
  function authenticate(req: IncomingMessage): string | null {
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

  function notFound(path: string): StoreError {
    return new StoreError(404, 20404, `The requested resource ${path} was not found`);
  }

  function methodNotAllowed(method: string, path: string): StoreError {
    return new StoreError(405, 20004, `Method ${method} not allowed on ${path}`);
  }

  function resolveAccount(principal: string, sid: string, path: string): string {
    // another account's resources look the same as missing ones (Twilio answers 20404)
    if (!store.accounts.has(sid) || !store.canAccess(principal, sid)) throw notFound(path);
    return sid;
  }

  function listTriggers(account: string, path: string, q: URLSearchParams): Reply {
    const filter: ListFilter = {};
    const keep = new URLSearchParams();
    for (const name of ['UsageCategory', 'Recurring', 'TriggerBy']) {
      const v = q.get(name);
      if (v === null) continue;
      if (name === 'UsageCategory') {
        if (v !== '') filter.usageCategory = checkCategory(v, 'UsageCategory');
      } else if (name === 'Recurring') filter.recurring = parseRecurring(v);
      else if (v !== '') filter.triggerBy = parseTriggerBy(v);
      keep.append(name, v);
    }
    const pageSize = intParam(q, 'PageSize', 50, 1, 1000);
    const page = intParam(q, 'Page', 0, 0, Number.MAX_SAFE_INTEGER);
    const token = q.get('PageToken');
    const items = store.listTriggers(account, filter);
    let startIdx: number;
    if (token !== null && token !== '') {
      const m = /^(PA|PB)(UT[0-9a-fA-F]{32})$/.exec(token);
      if (!m) throw new StoreError(400, 20001, `PageToken is not valid: ${token}`);
      const sid = m[2] as string;
      // SIDs sort like (date_created, sid), so a token stays valid when its trigger was deleted
      const firstAfter = lowerBound(items, sid, m[1] === 'PA');
      startIdx = m[1] === 'PA' ? firstAfter : Math.max(0, firstAfter - pageSize);
    } else {
      startIdx = page * pageSize;
    }
    const slice = items.slice(startIdx, startIdx + pageSize);
    const uri = (extra: Record<string, string>): string => {
      const p = new URLSearchParams(keep);
      for (const [k, v] of Object.entries(extra)) p.set(k, v);
      return `${path}?${p.toString()}`;
    };
    const start = page * pageSize;
    const last = slice[slice.length - 1];
    const first = slice[0];
    const current: Record<string, string> = { PageSize: String(pageSize), Page: String(page) };
    if (token) current.PageToken = token;
    return {
      status: 200,
      body: {
        first_page_uri: uri({ PageSize: String(pageSize), Page: '0' }),
        end: Math.max(start, start + slice.length - 1),
        previous_page_uri:
          page > 0 && first && startIdx > 0 ? uri({ PageSize: String(pageSize), Page: String(page - 1), PageToken: `PB${first.sid}` }) : null,
        usage_triggers: slice.map((t) => store.triggerJson(t)),
        uri: uri(current),
        page_size: pageSize,
        start,
        next_page_uri:
          last && startIdx + slice.length < items.length ? uri({ PageSize: String(pageSize), Page: String(page + 1), PageToken: `PA${last.sid}` }) : null,
        page,
      },
    };
  }

  function listRecords(account: string, path: string, q: URLSearchParams): Reply {
    const cat = q.get('Category');
    const keep = new URLSearchParams();
    let cats: string[];
    if (cat !== null && cat !== '') {
      checkCategory(cat, 'Category');
      keep.set('Category', cat);
      cats = [cat];
    } else cats = store.usedCategories(account);
    const pageSize = intParam(q, 'PageSize', 50, 1, 1000);
    const page = intParam(q, 'Page', 0, 0, Number.MAX_SAFE_INTEGER);
    const nowMs = store.nowMs();
    const acct = store.accounts.get(account);
    const startDate = new Date(acct?.date_created ?? nowMs).toISOString().slice(0, 10);
    const endDate = new Date(nowMs).toISOString().slice(0, 10);
    const asOf = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const base = `/${API_VERSION}/Accounts/${account}/Usage/Records`;
    const all = cats.map((c) => {
      const t = store.allTimeTotals(account, c);
      const enc = encodeURIComponent(c);
      const priceUnit = 'usd';
      return {
        account_sid: account,
        api_version: API_VERSION,
        as_of: asOf,
        category: c,
        count: t.count,
        count_unit: c === 'totalprice' ? '' : 'units',
        description: c,
        end_date: endDate,
        price: t.price,
        price_unit: priceUnit,
        start_date: startDate,
        subresource_uris: {
          all_time: `${base}/AllTime.json?Category=${enc}`,
          daily: `${base}/Daily.json?Category=${enc}`,
          monthly: `${base}/Monthly.json?Category=${enc}`,
          yearly: `${base}/Yearly.json?Category=${enc}`,
          today: `${base}/Today.json?Category=${enc}`,
          this_month: `${base}/ThisMonth.json?Category=${enc}`,
        },
        uri: `${base}.json?Category=${enc}&StartDate=${startDate}&EndDate=${endDate}`,
        usage: t.usage,
        usage_unit: c === 'totalprice' ? 'usd' : 'units',
      };
    });
    const slice = all.slice(page * pageSize, (page + 1) * pageSize);
    const uri = (extra: Record<string, string>): string => {
      const p = new URLSearchParams(keep);
      for (const [k, v] of Object.entries(extra)) p.set(k, v);
      return `${path}?${p.toString()}`;
    };
    const start = page * pageSize;
    return {
      status: 200,
      body: {
        first_page_uri: uri({ PageSize: String(pageSize), Page: '0' }),
        end: Math.max(start, start + slice.length - 1),
        previous_page_uri: page > 0 ? uri({ PageSize: String(pageSize), Page: String(page - 1) }) : null,
        usage_records: slice,
        uri: uri({ PageSize: String(pageSize), Page: String(page) }),
        page_size: pageSize,
        start,
        next_page_uri: (page + 1) * pageSize < all.length ? uri({ PageSize: String(pageSize), Page: String(page + 1) }) : null,
        page,
      },
    };
  }

  function handleApi(method: string, path: string, q: URLSearchParams, form: Record<string, string>, principal: string): Reply {
    let m: RegExpExecArray | null;
    if ((m = TRIGGERS_PATH.exec(path))) {
      const account = resolveAccount(principal, m[1] as string, path);
      if (method === 'GET') return listTriggers(account, path, q);
      if (method === 'POST') return { status: 201, body: store.createTrigger(account, form) };
      throw methodNotAllowed(method, path);
    }
    if ((m = TRIGGER_PATH.exec(path))) {
      const account = resolveAccount(principal, m[1] as string, path);
      const sid = m[2] as string;
      if (method === 'GET') return { status: 200, body: store.triggerJson(store.getTrigger(account, sid)) };
      if (method === 'POST') return { status: 200, body: store.updateTrigger(account, sid, form) };
      if (method === 'DELETE') {
        store.deleteTrigger(account, sid);
        return { status: 204, body: null };
      }
      throw methodNotAllowed(method, path);
    }
    if ((m = RECORDS_PATH.exec(path))) {
      const account = resolveAccount(principal, m[1] as string, path);
      if (method === 'GET') return listRecords(account, path, q);
      throw methodNotAllowed(method, path);
    }
    if ((m = ACCOUNT_PATH.exec(path))) {
      const account = resolveAccount(principal, m[1] as string, path);
      if (method === 'GET') return { status: 200, body: store.accountJson(store.accounts.get(account)!) };
      throw methodNotAllowed(method, path);
    }
    throw notFound(path);
  }

  function handleControl(method: string, path: string, form: Record<string, string>): Reply {
    switch (`${method} ${path}`) {
      case 'POST /emulator/usage': {
        const category = form.Category;
        if (!category) throw new StoreError(400, 20001, 'Missing required parameter Category');
        const account = form.AccountSid || accountSid;
        const totals = store.addUsage(account, category, { count: form.Count, usage: form.Usage, price: form.Price });
        return { status: 200, body: { account_sid: account, category, ...totals } };
      }
      case 'POST /emulator/clock': {
        if (form.Now !== undefined && form.Now !== '') {
          const d = new Date(form.Now);
          if (Number.isNaN(d.getTime())) throw new StoreError(400, 20001, `Now must be an ISO 8601 date-time, got ${form.Now}`);
          store.setNow(d);
        } else if (form.Advance !== undefined && form.Advance !== '') {
          const s = Number(form.Advance);
          if (!/^[+-]?\d+(\.\d+)?$/.test(form.Advance.trim()) || !Number.isFinite(s)) {
            throw new StoreError(400, 20001, `Advance must be a number of seconds, got ${form.Advance}`);
          }
          store.advance(s);
        } else throw new StoreError(400, 20001, 'give Now (ISO 8601) or Advance (seconds)');
        return { status: 200, body: { now: isoNow() } };
      }
      case 'GET /emulator/clock':
        return { status: 200, body: { now: isoNow() } };
      case 'GET /emulator/deliveries':
        return { status: 200, body: deliveries };
      case 'GET /emulator/requests':
        return { status: 200, body: requests };
      case 'POST /emulator/accounts': {
        const owner = form.OwnerAccountSid || accountSid;
        return { status: 201, body: store.accountJson(store.createSubaccount(owner, form.FriendlyName)) };
      }
      case 'GET /emulator/faults':
        return { status: 200, body: faults };
      case 'POST /emulator/faults': {
        const next: Faults = { ...faults };
        const num = (name: string, min: number, max: number): number | undefined => {
          const v = form[name];
          if (v === undefined || v === '') return undefined;
          const n = Number(v);
          if (!Number.isInteger(n) || n < min || n > max) throw new StoreError(400, 20001, `${name} must be an integer ${min}-${max}, got ${v}`);
          return n;
        };
        const status = num('Status', 100, 599);
        const count = num('Count', 0, 1_000_000);
        const retryAfter = num('RetryAfter', 0, 86_400);
        const latency = num('LatencyMs', 0, 600_000);
        if (latency !== undefined) next.latencyMs = latency;
        if (status !== undefined || form.Drop !== undefined) {
          // a Status or Drop defines a new fault rule; LatencyMs stays until DELETE
          next.drop = form.Drop === 'true';
          next.status = status ?? null;
          next.retryAfter = retryAfter ?? null;
          next.method = form.Method ? form.Method.toUpperCase() : null;
          next.count = count ?? 1;
        } else if (count !== undefined) next.count = count;
        faults = next;
        return { status: 200, body: faults };
      }
      case 'DELETE /emulator/faults':
        faults = { ...NO_FAULTS };
        return { status: 200, body: faults };
      default:
        throw new StoreError(404, 20404, `no emulator control endpoint ${method} ${path}`);
    }
  }

  function send(res: ServerResponse, r: Reply): void {
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

  /** A reply goes out only once every change so far is durable; a failed write turns it into a 500. */
  async function durable(reply: Reply): Promise<Reply> {
    if (!persist) return reply;
    try {
      await persist.commit();
      return reply;
    } catch (err) {
      return errorReply(err);
    }
  }

  function errorReply(err: unknown): Reply {
    if (err instanceof StoreError) return { status: err.status, body: errorBody(err.status, err.code, err.message) };
    return { status: 500, body: errorBody(500, 20500, `internal emulator error: ${err instanceof Error ? err.message : String(err)}`) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const u = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = u.pathname;
    let raw = '';
    try {
      raw = await readBody(req);
    } catch (err) {
      send(res, errorReply(err));
      return;
    }
    const form = isForm(req) ? toRecord(new URLSearchParams(raw)) : null;

    if (path.startsWith('/emulator/')) {
      let reply: Reply;
      try {
        reply = handleControl(method, path, { ...toRecord(u.searchParams), ...(form ?? {}) });
      } catch (err) {
        reply = errorReply(err);
      }
      send(res, await durable(reply));
      return;
    }

    const entry: RequestLogEntry = { method, path, query: toRecord(u.searchParams), form, body: raw, status: 0, time: isoNow() };
    requests.push(entry);
    const f = faults;
    if (f.latencyMs > 0) await sleep(f.latencyMs);
    if ((f.status !== null || f.drop) && f.count > 0 && (f.method === null || f.method === method)) {
      f.count -= 1;
      if (f.drop) {
        req.socket.destroy();
        opts.onRequest?.(entry);
        return;
      }
      const status = f.status ?? 503;
      const headers: Record<string, string> = {};
      if (f.retryAfter !== null) headers['retry-after'] = String(f.retryAfter);
      const message = status === 429 ? 'Too Many Requests' : `injected fault: HTTP ${status}`;
      entry.status = status;
      send(res, { status, body: errorBody(status, 20000 + status, message), headers });
      opts.onRequest?.(entry);
      return;
    }

    let reply: Reply;
    if (!path.startsWith(`/${API_VERSION}/`)) {
      reply = errorReply(notFound(path));
    } else {
      const principal = authenticate(req);
      if (principal === null) {
        reply = { status: 401, body: errorBody(401, 20003, 'Authenticate'), headers: { 'www-authenticate': 'Basic realm="Twilio API"' } };
      } else {
        try {
          reply = handleApi(method, path, u.searchParams, form ?? {}, principal);
        } catch (err) {
          reply = errorReply(err);
        }
      }
    }
    reply = await durable(reply);
    entry.status = reply.status;
    send(res, reply);
    opts.onRequest?.(entry);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, errorReply(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await persist?.abandon();
    throw err;
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  async function idle(): Promise<void> {
    for (;;) {
      if (pending.size > 0) {
        await Promise.allSettled([...pending]);
        continue;
      }
      if (persist?.pending) {
        const failed = await persist.flush().then(
          () => false,
          () => true,
        );
        if (failed) return;
        continue;
      }
      return;
    }
  }

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing ??= (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 1000);
      await closed;
      clearTimeout(force);
      await idle();
      await persist?.close();
    })();
    return closing;
  }

  return {
    url: `http://${host}:${addr.port}`,
    accountSid,
    authToken,
    apiKeySid: apiKey.sid,
    apiKeySecret: apiKey.secret,
    subaccountSids,
    requests,
    deliveries,
    store,
    idle,
    close,
  };
}

function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!/^\d+$/.test(v)) throw new StoreError(400, 20001, `${name} must be an integer ${min}-${max}, got ${v}`);
  const n = Number(v);
  if (n < min || n > max) throw new StoreError(400, 20001, `${name} must be an integer ${min}-${max}, got ${v}`);
  return n;
}

/** Index of the first trigger after (strict) or at-or-after the SID, in list order. */
function lowerBound(items: TriggerRecord[], sid: string, strict: boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = (items[mid] as TriggerRecord).sid;
    if (s < sid || (strict && s === sid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
