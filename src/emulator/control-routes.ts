import { MAX_SUBACCOUNTS_PER_CALL, StoreError, type Store } from './store.js';
import { NO_FAULTS, type Faults, type Reply, type RequestLogEntry } from './http.js';

/** One callback attempt the emulator made. */
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

/** What the control routes read and change. */
export interface ControlContext {
  store: Store;
  /** the main account: the default for AccountSid and OwnerAccountSid */
  accountSid: string;
  /** the last API requests (bounded) */
  requests: RequestLogEntry[];
  /** the last callback attempts (bounded) */
  deliveries: Delivery[];
  faults: Faults;
  /** told after POST /emulator/settings (the server re-arms its evaluation timer) */
  settingsChanged?: () => void;
}

/** Longest --evaluate-every / EvaluateEvery, in seconds: one day. */
export const MAX_EVALUATE_EVERY = 86_400;

/** Throws unless `s` is a whole number of seconds from 1 to a day. */
export function checkEvaluateEvery(s: number, given: string = String(s)): void {
  if (!Number.isInteger(s) || s < 1 || s > MAX_EVALUATE_EVERY) {
    throw new StoreError(400, 20001, `EvaluateEvery must be a whole number of seconds from 1 to ${MAX_EVALUATE_EVERY}, or 0 to evaluate at once, got ${given}`);
  }
}

function settingsJson(store: Store): Record<string, unknown> {
  return { evaluate_every: store.evaluateEverySeconds, parent_triggers_count_subaccounts: store.parentTriggersCountSubaccounts };
}

/** POST /emulator/settings: EvaluateEvery (seconds, 0 = at once), ParentTriggersCountSubaccounts (true/false). */
function changeSettings(ctx: ControlContext, form: Record<string, string>): Reply {
  const every = form.EvaluateEvery;
  const parent = form.ParentTriggersCountSubaccounts;
  if ((every === undefined || every === '') && (parent === undefined || parent === '')) {
    throw new StoreError(400, 20001, 'give EvaluateEvery (seconds, 0 to evaluate at once) or ParentTriggersCountSubaccounts (true or false)');
  }
  let seconds: number | null | undefined;
  if (every !== undefined && every !== '') {
    const n = /^\d{1,6}$/.test(every) ? Number(every) : Number.NaN;
    seconds = n === 0 ? null : n;
    if (seconds !== null) checkEvaluateEvery(seconds, every);
  }
  if (parent !== undefined && parent !== '' && !/^(true|false)$/.test(parent)) {
    throw new StoreError(400, 20001, `ParentTriggersCountSubaccounts must be true or false, got ${parent}`);
  }
  if (parent !== undefined && parent !== '') ctx.store.setParentTriggersCountSubaccounts(parent === 'true');
  if (seconds !== undefined) ctx.store.setEvaluateEvery(seconds);
  ctx.settingsChanged?.();
  return { status: 200, body: settingsJson(ctx.store) };
}

function isoNow(store: Store): string {
  return new Date(store.nowMs()).toISOString();
}

/** Routes one /emulator/* request (no credentials: the emulator's own test controls). */
export function handleControl(ctx: ControlContext, method: string, path: string, form: Record<string, string>): Reply {
  const { store } = ctx;
  switch (`${method} ${path}`) {
    case 'POST /emulator/usage': {
      const category = form.Category;
      if (!category) throw new StoreError(400, 20001, 'Missing required parameter Category');
      const account = form.AccountSid || ctx.accountSid;
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
      return { status: 200, body: { now: isoNow(store) } };
    }
    case 'GET /emulator/clock':
      return { status: 200, body: { now: isoNow(store) } };
    case 'GET /emulator/deliveries':
      return { status: 200, body: null, items: ctx.deliveries };
    case 'GET /emulator/requests':
      return { status: 200, body: null, items: ctx.requests };
    case 'POST /emulator/accounts': {
      const owner = form.OwnerAccountSid || ctx.accountSid;
      if (form.Count === undefined || form.Count === '') return { status: 201, body: store.accountJson(store.createSubaccount(owner, form.FriendlyName)) };
      // many at once: a short answer (SID, token, name) rather than 10,000 full Account resources
      if (!/^\d+$/.test(form.Count)) throw new StoreError(400, 20001, `Count must be an integer 1-${MAX_SUBACCOUNTS_PER_CALL}, got ${form.Count}`);
      const made = store.createSubaccounts(owner, Number(form.Count), form.FriendlyName);
      return {
        status: 201,
        body: { owner_account_sid: owner, count: made.length, accounts: made.map((a) => ({ sid: a.sid, auth_token: a.auth_token, friendly_name: a.friendly_name })) },
      };
    }
    case 'GET /emulator/settings':
      return { status: 200, body: settingsJson(store) };
    case 'POST /emulator/settings':
      return changeSettings(ctx, form);
    case 'GET /emulator/faults':
      return { status: 200, body: ctx.faults };
    case 'POST /emulator/faults': {
      const next: Faults = { ...ctx.faults };
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
      const drop = form.Drop;
      if (drop !== undefined && !/^(true|false|before|after)$/.test(drop)) {
        throw new StoreError(400, 20001, `Drop must be true or before (drop the connection unprocessed), after (process the request, then drop its answer) or false, got ${drop}`);
      }
      const account = form.Account;
      if (account !== undefined && account !== '' && !/^AC[0-9a-f]{32}$/.test(account)) {
        throw new StoreError(400, 20001, `Account must be an account SID (AC and 32 hex digits), got ${account}`);
      }
      if (status !== undefined || drop !== undefined) {
        // a Status or Drop defines a new fault rule; LatencyMs stays until DELETE
        next.drop = drop === 'true' || drop === 'before';
        next.dropAfter = drop === 'after';
        next.status = status ?? null;
        next.retryAfter = retryAfter ?? null;
        next.method = form.Method ? form.Method.toUpperCase() : null;
        next.account = account ? account : null;
        next.count = count ?? 1;
      } else if (count !== undefined) next.count = count;
      ctx.faults = next;
      return { status: 200, body: ctx.faults };
    }
    case 'DELETE /emulator/faults':
      ctx.faults = { ...NO_FAULTS };
      return { status: 200, body: ctx.faults };
    default:
      throw new StoreError(404, 20404, `no emulator control endpoint ${method} ${path}`);
  }
}
