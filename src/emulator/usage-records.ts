import { isClockInRange } from './clock.js';
import type { Reply } from './http.js';
import { API_VERSION, BAD, checkCategory, pageSizeParam, StoreError, TOTALPRICE, type Store } from './store.js';
import { formatScaled, gmtDay, type Totals } from './usage-book.js';

// Twilio's Usage resource and its Usage Records (twilio-oai's ListUsageRecord and the eight list
// subresources): built from the emulator's recorded usage, which it keeps per GMT day, the finest
// grain these lists report. Only categories with usage are listed (Twilio lists every category,
// mostly zeros), unless Category names one; Daily, Monthly and Yearly list the periods with usage.

/** The list subresources, by their subresource_uris key. */
const SUBRESOURCES = {
  all_time: 'AllTime',
  daily: 'Daily',
  last_month: 'LastMonth',
  monthly: 'Monthly',
  this_month: 'ThisMonth',
  today: 'Today',
  yearly: 'Yearly',
  yesterday: 'Yesterday',
} as const;
type Subresource = (typeof SUBRESOURCES)[keyof typeof SUBRESOURCES];

export const USAGE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Usage\.json$/;
export const RECORDS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Usage\/Records(?:\/(AllTime|Daily|LastMonth|Monthly|ThisMonth|Today|Yearly|Yesterday))?\.json$/;

const DAY_MS = 86_400_000;

/** GET /Accounts/{Sid}/Usage.json: the Usage resource, which only points at its lists. */
export function usageResource(account: string): Reply {
  const base = `/${API_VERSION}/Accounts/${account}/Usage`;
  return { status: 200, body: { subresource_uris: { records: `${base}/Records.json`, triggers: `${base}/Triggers.json` }, uri: `${base}.json` } };
}

/** StartDate / EndDate: YYYY-MM-DD (GMT), or an offset in days from today such as -30days or +30days. */
function dateParam(q: URLSearchParams, name: string, nowMs: number): string | null {
  const v = q.get(name);
  if (v === null || v === '') return null;
  const rel = /^([+-])(\d{1,6})days?$/.exec(v);
  if (rel) {
    const ms = nowMs + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * DAY_MS;
    if (isClockInRange(ms)) return gmtDay(ms);
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(v) && gmtDay(Date.parse(`${v}T00:00:00Z`) || 0) === v) {
    return v;
  }
  throw new StoreError(400, BAD, `${name} must be a date YYYY-MM-DD (GMT) or an offset from today such as -30days, got ${v}`);
}

function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

function monthEnd(day: string): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return gmtDay(Date.UTC(y, m, 1) - DAY_MS);
}

/** The fixed range of Today, Yesterday, ThisMonth and LastMonth (they ignore StartDate/EndDate). */
function fixedRange(sub: Subresource, nowMs: number): [string, string] | null {
  const today = gmtDay(nowMs);
  switch (sub) {
    case 'Today':
      return [today, today];
    case 'Yesterday': {
      const y = gmtDay(nowMs - DAY_MS);
      return [y, y];
    }
    case 'ThisMonth':
      return [monthStart(today), today];
    case 'LastMonth': {
      const end = gmtDay(Date.parse(`${monthStart(today)}T00:00:00Z`) - DAY_MS);
      return [monthStart(end), end];
    }
    default:
      return null;
  }
}

function add(a: Totals, b: Totals): Totals {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

/** One UsageRecord's period and totals, before it is dressed as JSON. */
interface Period {
  category: string;
  start: string;
  end: string;
  totals: Totals;
}

/** The periods of one category: a single one over the range, or one per day, month or year with usage. */
function periods(days: Map<string, Totals>, category: string, sub: Subresource, start: string, end: string): Period[] {
  const inRange = [...days].filter(([d]) => d >= start && d <= end).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (sub !== 'Daily' && sub !== 'Monthly' && sub !== 'Yearly') {
    const totals = inRange.reduce<Totals>((acc, [, t]) => add(acc, t), [0, 0, 0]);
    return [{ category, start, end, totals }];
  }
  const out: Period[] = [];
  for (const [day, t] of inRange) {
    const key = sub === 'Daily' ? day : sub === 'Monthly' ? day.slice(0, 7) : day.slice(0, 4);
    const last = out[out.length - 1];
    if (last && last.start.startsWith(key)) {
      last.totals = add(last.totals, t);
      continue;
    }
    const pStart = sub === 'Daily' ? day : sub === 'Monthly' ? monthStart(day) : `${key}-01-01`;
    const pEnd = sub === 'Daily' ? day : sub === 'Monthly' ? monthEnd(day) : `${key}-12-31`;
    out.push({ category, start: pStart < start ? start : pStart, end: pEnd > end ? end : pEnd, totals: t });
  }
  return out;
}

/**
 * GET /Usage/Records.json and /Usage/Records/{Subresource}.json: Category, StartDate, EndDate,
 * IncludeSubaccounts (default true: a main account's records include its subaccounts' usage),
 * paged with PageSize, Page and PageToken.
 */
export function listUsageRecords(store: Store, account: string, sub: Subresource | undefined, path: string, q: URLSearchParams): Reply {
  const nowMs = store.nowMs();
  const keep = new URLSearchParams();
  const category = q.get('Category');
  if (category !== null && category !== '') {
    checkCategory(category, 'Category');
    keep.set('Category', category);
  }
  const startParam = dateParam(q, 'StartDate', nowMs);
  const endParam = dateParam(q, 'EndDate', nowMs);
  if (startParam !== null) keep.set('StartDate', q.get('StartDate') as string);
  if (endParam !== null) keep.set('EndDate', q.get('EndDate') as string);
  const inc = q.get('IncludeSubaccounts');
  if (inc !== null && inc !== '' && !/^(true|false)$/i.test(inc)) throw new StoreError(400, BAD, `IncludeSubaccounts must be true or false, got ${inc}`);
  if (inc !== null && inc !== '') keep.set('IncludeSubaccounts', inc);
  const withSubs = inc === null || inc === '' || inc.toLowerCase() === 'true' ? store.isParent(account) : false;

  const kind: Subresource = sub ?? 'AllTime';
  const cats = category ? [category] : store.usage.categories(account, withSubs);
  const daysOf = new Map(cats.map((c) => [c, store.usage.days(account, c, withSubs)]));
  const fixed = fixedRange(kind, nowMs);
  let first = gmtDay(store.accounts.get(account)?.date_created ?? nowMs);
  for (const days of daysOf.values()) for (const d of days.keys()) if (d < first) first = d;
  const [start, end] = fixed ?? [startParam ?? first, endParam ?? gmtDay(nowMs)];
  if (start > end) throw new StoreError(400, BAD, `StartDate ${start} is after EndDate ${end}`);

  const all = cats.flatMap((c) => periods(daysOf.get(c) as Map<string, Totals>, c, kind, start, end));
  const asOf = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const base = `/${API_VERSION}/Accounts/${account}/Usage/Records`;
  const recordUri = sub === undefined ? `${base}.json` : `${base}/${sub}.json`;
  const json = (p: Period): Record<string, unknown> => {
    const enc = encodeURIComponent(p.category);
    const total = p.category === TOTALPRICE;
    return {
      account_sid: account,
      api_version: API_VERSION,
      as_of: asOf,
      category: p.category,
      count: formatScaled(p.totals[0]),
      count_unit: total ? '' : 'units',
      description: p.category,
      end_date: p.end,
      price: formatScaled(p.totals[2]),
      price_unit: 'usd',
      start_date: p.start,
      subresource_uris: Object.fromEntries(Object.entries(SUBRESOURCES).map(([k, s]) => [k, `${base}/${s}.json?Category=${enc}`])),
      uri: `${recordUri}?Category=${enc}&StartDate=${p.start}&EndDate=${p.end}`,
      usage: formatScaled(p.totals[1]),
      usage_unit: total ? 'usd' : 'units',
    };
  };
  return recordsPage(all.map(json), path, keep, q);
}

/** Twilio's list envelope over already built records; PageToken is "AP" + the base64 of an offset. */
function recordsPage(all: unknown[], path: string, keep: URLSearchParams, q: URLSearchParams): Reply {
  const pageSize = pageSizeParam(q.get('PageSize'));
  const pageText = q.get('Page');
  if (pageText !== null && pageText !== '' && !/^\d{1,15}$/.test(pageText)) throw new StoreError(400, BAD, `Page must be a non-negative integer, got ${pageText}`);
  const page = pageText ? Number(pageText) : 0;
  const token = q.get('PageToken');
  let from = page * pageSize;
  if (token !== null && token !== '') {
    const m = /^AP([A-Za-z0-9+/]+={0,2})$/.exec(token);
    const offset = m ? Buffer.from(m[1] as string, 'base64').toString('latin1') : '';
    if (!/^\d{1,15}$/.test(offset)) throw new StoreError(400, BAD, `PageToken is not valid: ${token}`);
    from = Number(offset);
  }
  const slice = all.slice(from, from + pageSize);
  const uri = (p: number, offset?: number): string => {
    const s = new URLSearchParams(keep);
    s.set('PageSize', String(pageSize));
    s.set('Page', String(p));
    if (offset !== undefined) s.set('PageToken', `AP${Buffer.from(String(offset)).toString('base64')}`);
    return `${path}?${s.toString()}`;
  };
  const start = page * pageSize;
  return {
    status: 200,
    body: {
      end: Math.max(start, start + slice.length - 1),
      first_page_uri: uri(0),
      next_page_uri: from + slice.length < all.length ? uri(page + 1, from + slice.length) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 && from > 0 ? uri(page - 1, Math.max(0, from - pageSize)) : null,
      start,
      uri: token ? uri(page, from) : uri(page),
      usage_records: slice,
    },
  };
}
