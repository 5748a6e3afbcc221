import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fireCallbacks } from './callbacks.js';
import { Persistence } from './journal.js';
import { API_VERSION, stableHex, Store } from './store.js';
import { handleApi, notFound } from './api-routes.js';
import { checkEvaluateEvery, handleControl, type ControlContext, type Delivery } from './control-routes.js';
import { checkOrigin, servedHosts } from './guard.js';
import { CLOCK_RANGE_TEXT, isClockInRange } from './clock.js';
import {
  appendBounded,
  applyFaults,
  authenticate,
  BodyTooLarge,
  DEFAULT_LOG_LIMITS,
  DEFAULT_MAX_BODY_BYTES,
  errorReply,
  inactiveAccount,
  makeLogEntry,
  newRequestId,
  isForm,
  NO_FAULTS,
  readBody,
  send,
  toRecord,
  tooManyRequests,
  unauthorized,
  type Principal,
  type Reply,
  type RequestLogEntry,
} from './http.js';

export type { Delivery } from './control-routes.js';
export type { RequestLogEntry } from './http.js';
export type { EmulatorStartOptions, RunningEmulator } from './server-options.js';
import type { EmulatorStartOptions, RunningEmulator } from './server-options.js';

/** The built-in local test account: stable so a shell profile can keep pointing at it. */
export const LOCAL_ACCOUNT_SID = 'AC' + stableHex('utrig emulator local account');
export const LOCAL_AUTH_TOKEN = stableHex('utrig emulator local auth token');

/** Starts the emulator; resolves once it listens. Throws when a state file cannot be used. */
export async function startEmulator(opts: EmulatorStartOptions = {}): Promise<RunningEmulator> {
  const accountSid = opts.accountSid ?? LOCAL_ACCOUNT_SID;
  const authToken = opts.authToken ?? (accountSid === LOCAL_ACCOUNT_SID ? LOCAL_AUTH_TOKEN : stableHex(`${accountSid} auth token`));
  const store = new Store();

  // checked before the state file is locked, so a bad option leaves nothing held
  if (opts.evaluateEverySeconds !== undefined) checkEvaluateEvery(opts.evaluateEverySeconds);
  // ---- persistence: load the state file; changes are journaled (see durable() below) ----
  if (opts.now && !isClockInRange(opts.now.getTime())) throw new Error(`the emulator's start time must be ${CLOCK_RANGE_TEXT}`);
  const persist = opts.statePath ? await Persistence.open(opts.statePath, { lockWaitMs: opts.stateLockWaitMs, onError: opts.onStateError }) : null;
  if (persist?.loaded) store.restore(persist.loaded);
  if (opts.now) store.clockOffsetMs = Math.round(opts.now.getTime() - Date.now());
  store.onChange = (c) => persist?.mark(c);
  // ---- end of persistence ----

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

  const ctx: ControlContext = {
    store,
    accountSid,
    requests: [],
    deliveries: (persist?.deliveries() ?? []) as Delivery[],
    faults: { ...NO_FAULTS, latencyMs: opts.latencyMs ?? 0 },
  };
  const logEntries = opts.logEntries ?? DEFAULT_LOG_LIMITS.entries;
  const logBodyBytes = opts.logBodyBytes ?? DEFAULT_LOG_LIMITS.bodyBytes;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const pending = new Set<Promise<unknown>>();
  /** family (main account SID) -> API requests in flight; an entry goes when its count is back to 0 */
  const inFlight = new Map<string, number>();
  const concurrencyLimit = opts.concurrencyLimit;
  if (concurrencyLimit !== undefined && (!Number.isInteger(concurrencyLimit) || concurrencyLimit < 1)) {
    throw new Error(`concurrencyLimit must be a positive integer, got ${concurrencyLimit}`);
  }
  const isoNow = (): string => new Date(store.nowMs()).toISOString();

  store.onFire = fireCallbacks({
    retryDelayMs: opts.retryDelayMs ?? 200,
    timeoutMs: opts.callbackTimeoutMs ?? 15_000,
    now: isoNow,
    track: (p) => {
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    record: (d) => {
      appendBounded(ctx.deliveries, d, logEntries);
      persist?.addDelivery(d);
      opts.onDelivery?.(d);
    },
  });
  store.parentTriggersCountSubaccounts = opts.parentTriggersCountSubaccounts === true;
  // state restored from disk may already be over a value in a period that began while stopped
  store.setEvaluateEvery(opts.evaluateEverySeconds ?? null);
  let evaluationTimer: NodeJS.Timeout | null = null;
  /** With periodic evaluation, a timer runs the evaluations that real time brings due. */
  function armEvaluationTimer(): void {
    if (evaluationTimer) clearInterval(evaluationTimer);
    evaluationTimer = null;
    const every = store.evaluateEverySeconds;
    if (every === null || closing) return;
    evaluationTimer = setInterval(() => {
      // a firing is a change: make it durable without waiting for the next request
      if (store.runDueEvaluations() > 0) persist?.commit().catch(() => undefined);
    }, Math.min(every * 1000, 1000));
    evaluationTimer.unref();
  }
  ctx.settingsChanged = armEvaluationTimer;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const u = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = u.pathname;
    const refused = checkOrigin(req, method, served, port);
    if (refused) {
      req.resume();
      send(res, refused);
      return;
    }
    let raw = '';
    try {
      raw = await readBody(req, maxBody);
    } catch (err) {
      // the rest of a huge body is not read: close rather than parse it as the next request
      if (err instanceof BodyTooLarge && err.close) res.setHeader('connection', 'close');
      send(res, errorReply(err));
      return;
    }
    const form = isForm(req) ? toRecord(new URLSearchParams(raw)) : null;

    if (path.startsWith('/emulator/')) {
      let reply: Reply;
      try {
        reply = handleControl(ctx, method, path, { ...toRecord(u.searchParams), ...(form ?? {}) });
      } catch (err) {
        reply = errorReply(err);
      }
      send(res, await durable(reply));
      return;
    }

    const entry = makeLogEntry(method, path, toRecord(u.searchParams), form, raw, logBodyBytes, isoNow());
    appendBounded(ctx.requests, entry, logEntries);
    res.setHeader('twilio-request-id', newRequestId());
    const isApi = path.startsWith(`/${API_VERSION}/`);
    const principal = isApi ? authenticate(store, req) : null;
    // counted from arrival to the last byte answered, latency included, per main account
    const family = principal ? store.familyOf(principal.account) : null;
    if (family !== null) {
      const n = (inFlight.get(family) ?? 0) + 1;
      if (concurrencyLimit !== undefined && n > concurrencyLimit) {
        res.setHeader('twilio-concurrent-requests', String(n - 1));
        entry.status = 429;
        send(res, tooManyRequests(opts.concurrencyRetryAfter ?? 1));
        opts.onRequest?.(entry);
        return;
      }
      inFlight.set(family, n);
      res.setHeader('twilio-concurrent-requests', String(n));
    }
    try {
      await answerApi(req, res, method, path, u.searchParams, form, principal, entry);
    } finally {
      if (family !== null) {
        const left = (inFlight.get(family) ?? 1) - 1;
        if (left > 0) inFlight.set(family, left);
        else inFlight.delete(family);
      }
    }
  }

  /** After the log entry and the concurrency count: faults, credentials, then the route. */
  async function answerApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    q: URLSearchParams,
    form: Record<string, string> | null,
    principal: Principal | null,
    entry: RequestLogEntry,
  ): Promise<void> {
    const faulted = await applyFaults(ctx.faults, method, path, req, res);
    if (typeof faulted === 'number') {
      entry.status = faulted;
      opts.onRequest?.(entry);
      return;
    }

    let reply: Reply;
    const status = principal ? store.effectiveStatus(principal.account) : null;
    if (!path.startsWith(`/${API_VERSION}/`)) {
      reply = errorReply(notFound(path));
    } else if (principal === null) {
      reply = unauthorized();
    } else if (status !== 'active') {
      reply = inactiveAccount(status ?? 'closed');
    } else {
      try {
        reply = handleApi(store, method, path, q, form ?? {}, principal);
      } catch (err) {
        reply = errorReply(err);
      }
    }
    reply = await durable(reply);
    if (faulted === 'drop-after') {
      // processed and durable, but the client never hears of it
      entry.processed = reply.status;
      req.socket.destroy();
      opts.onRequest?.(entry);
      return;
    }
    entry.status = reply.status;
    send(res, reply);
    opts.onRequest?.(entry);
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

  let closing: Promise<void> | null = null;
  const served = servedHosts(opts.host ?? '127.0.0.1', opts.allowedHosts);
  let port = 0;
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
  port = addr.port;
  armEvaluationTimer();
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

  async function close(): Promise<void> {
    closing ??= (async () => {
      if (evaluationTimer) clearInterval(evaluationTimer);
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
    requests: ctx.requests,
    deliveries: ctx.deliveries,
    store,
    idle,
    close,
  };
}
