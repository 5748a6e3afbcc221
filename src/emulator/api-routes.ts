import { checkCategory, compareAccounts, parseRecurring, parseTriggerBy, pageSizeParam, Store, StoreError, type AccountFilter, type AccountRecord, type ListFilter, type TriggerRecord } from './store.js';
import { checkAccountStatus } from '../rules.js';
import type { Principal, Reply } from './http.js';
import { listUsageRecords, RECORDS_PATH, USAGE_PATH, usageResource } from './usage-records.js';

// Every path ends in .json: without it Twilio answers XML, which the emulator does not serve
// (see withoutJson).
const ACCOUNTS_PATH = /^\/2010-04-01\/Accounts\.json$/;
const ACCOUNT_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\.json$/;
const TRIGGERS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Usage\/Triggers\.json$/;
const TRIGGER_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Usage\/Triggers\/([^/]+)\.json$/;
const ROUTES = [ACCOUNTS_PATH, ACCOUNT_PATH, TRIGGERS_PATH, TRIGGER_PATH, USAGE_PATH, RECORDS_PATH];

/**
 * A resource path given without .json (or with .xml): Twilio would answer XML there. Refused with
 * a 404 that says what to add, rather than JSON that pretends to be Twilio's XML answer.
 */
function withoutJson(path: string): StoreError | null {
  const bare = path.replace(/\.xml$/, '');
  if (path.endsWith('.json') || !ROUTES.some((r) => r.test(`${bare}.json`))) return null;
  return new StoreError(
    404,
    20404,
    `The requested resource ${path} was not found: the emulator answers JSON only, at ${bare}.json (without .json Twilio answers XML)`,
  );
}

/** Twilio's 404 for an unknown path or one the caller may not see. */
export function notFound(path: string): StoreError {
  return new StoreError(404, 20404, `The requested resource ${path} was not found`);
}

function methodNotAllowed(method: string, path: string): StoreError {
  return new StoreError(405, 20004, `Method ${method} not allowed on ${path}`);
}

function resolveAccount(store: Store, principal: string, sid: string, path: string): string {
  // another account's resources look the same as missing ones (Twilio answers 20404)
  if (!store.accounts.has(sid) || !store.canAccess(principal, sid)) throw notFound(path);
  return sid;
}

function listTriggers(store: Store, account: string, path: string, q: URLSearchParams): Reply {
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
  const items = store.listTriggers(account, filter);
  // SIDs sort like (date_created, sid), so a token stays valid when its trigger was deleted
  return pageOf({ items, path, keep, q, key: 'usage_triggers', prefix: 'UT', json: (t) => store.triggerJson(t), seek: (sid, strict) => lowerBound(items, sid, strict) });
}

/** GET /Accounts.json: the caller and (for a main account) its subaccounts, filtered and paged. */
function listAccounts(store: Store, principal: string, path: string, q: URLSearchParams): Reply {
  const filter: AccountFilter = {};
  const keep = new URLSearchParams();
  const name = q.get('FriendlyName');
  if (name !== null && name !== '') {
    filter.friendlyName = name;
    keep.set('FriendlyName', name);
  }
  const status = q.get('Status');
  if (status !== null && status !== '') {
    const c = checkAccountStatus(status);
    if (!c.ok) throw new StoreError(400, 20001, `Status ${c.reason}`);
    filter.status = c.value;
    keep.set('Status', status);
  }
  const items = store.listAccounts(principal, filter);
  const seek = (sid: string, strict: boolean): number => {
    const at = store.accounts.get(sid);
    if (!at) throw new StoreError(400, 20001, `PageToken is not valid: it names an unknown account ${sid}`);
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareAccounts(items[mid] as AccountRecord, at);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return pageOf({ items, path, keep, q, key: 'accounts', prefix: 'AC', json: (a) => store.accountJson(a), seek });
}

/** One list resource's page request, for pageOf. */
interface PageSpec<T extends { sid: string }> {
  /** every matching item, in list order */
  items: readonly T[];
  path: string;
  /** the filters, kept in every page URI */
  keep: URLSearchParams;
  q: URLSearchParams;
  /** the list envelope's key (usage_triggers, accounts) */
  key: string;
  /** the SID prefix of the items, checked in PageToken */
  prefix: string;
  json: (item: T) => unknown;
  /** index of the first item after (strict) or at-or-after the one with this SID */
  seek: (sid: string, strict: boolean) => number;
}

/**
 * Twilio's paging, shared by every list: PageSize (default 50, max 1000), Page, and PageToken
 * (PA<sid>: the page after that item, PB<sid>: the page before), with the envelope's URIs
 * host-relative and keeping the filters.
 */
function pageOf<T extends { sid: string }>(spec: PageSpec<T>): Reply {
  const { items, path, keep, q } = spec;
  const pageSize = pageSizeParam(q.get('PageSize'));
  const page = intParam(q, 'Page', 0, 0, Number.MAX_SAFE_INTEGER);
  const token = q.get('PageToken');
  let startIdx: number;
  if (token !== null && token !== '') {
    const m = new RegExp(`^(PA|PB)(${spec.prefix}[0-9a-fA-F]{32})$`).exec(token);
    if (!m) throw new StoreError(400, 20001, `PageToken is not valid: ${token}`);
    const firstAfter = spec.seek(m[2] as string, m[1] === 'PA');
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
      [spec.key]: slice.map(spec.json),
      uri: uri(current),
      page_size: pageSize,
      start,
      next_page_uri:
        last && startIdx + slice.length < items.length ? uri({ PageSize: String(pageSize), Page: String(page + 1), PageToken: `PA${last.sid}` }) : null,
      page,
    },
  };
}

/** Routes one authenticated /2010-04-01 request; throws StoreError for Twilio's 4xx answers. */
export function handleApi(store: Store, method: string, path: string, q: URLSearchParams, form: Record<string, string>, who: Principal): Reply {
  const principal = who.account;
  const bare = withoutJson(path);
  if (bare) throw bare;
  let m: RegExpExecArray | null;
  if ((m = TRIGGERS_PATH.exec(path))) {
    const account = resolveAccount(store, principal, m[1] as string, path);
    if (method === 'GET') return listTriggers(store, account, path, q);
    if (method === 'POST') return { status: 201, body: store.createTrigger(account, form) };
    throw methodNotAllowed(method, path);
  }
  if ((m = TRIGGER_PATH.exec(path))) {
    const account = resolveAccount(store, principal, m[1] as string, path);
    const sid = m[2] as string;
    if (method === 'GET') return { status: 200, body: store.triggerJson(store.getTrigger(account, sid)) };
    if (method === 'POST') return { status: 200, body: store.updateTrigger(account, sid, form) };
    if (method === 'DELETE') {
      store.deleteTrigger(account, sid);
      return { status: 204, body: null };
    }
    throw methodNotAllowed(method, path);
  }
  if ((m = RECORDS_PATH.exec(path) ?? USAGE_PATH.exec(path))) {
    const account = resolveAccount(store, principal, m[1] as string, path);
    if (method !== 'GET') throw methodNotAllowed(method, path);
    if (m[0].endsWith('/Usage.json')) return usageResource(account);
    return listUsageRecords(store, account, m[2] as Parameters<typeof listUsageRecords>[2], path, q);
  }
  if (ACCOUNTS_PATH.test(path) || ACCOUNT_PATH.test(path)) {
    // Twilio: Standard API keys may use every resource except Accounts and Keys, and refuse them
    // with 401 and 20003 "Authenticate" (the answer twilio-python #259 and twilio-cli #146 show).
    // That also keeps the account's auth_token out of an API key's reach.
    if (who.apiKey !== null) throw new StoreError(401, 20003, 'Authenticate');
  }
  if (ACCOUNTS_PATH.test(path)) {
    if (method === 'GET') return listAccounts(store, principal, path, q);
    if (method === 'POST') return { status: 201, body: store.accountJson(store.createSubaccount(principal, form.FriendlyName)) };
    throw methodNotAllowed(method, path);
  }
  if ((m = ACCOUNT_PATH.exec(path))) {
    const account = resolveAccount(store, principal, m[1] as string, path);
    if (method === 'GET') return { status: 200, body: store.accountJson(store.accounts.get(account)!) };
    if (method === 'POST') return { status: 200, body: store.accountJson(store.updateAccount(principal, account, form)) };
    throw methodNotAllowed(method, path);
  }
  throw notFound(path);
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
