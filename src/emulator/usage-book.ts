import { parseMicros } from '../rules.js';
import { pad, type Recurring } from './store-common.js';

/** Everything is kept in integer millionths so sums of fractional prices stay exact. */
const SCALE = 1_000_000;

/** [count, usage, price] in millionths. */
export type Totals = [number, number, number];
/** bucket key ("all", "y2024", "m2024-01", "d2024-01-31") -> totals */
export type Buckets = Map<string, Totals>;
/** account -> category -> buckets */
type UsageMap = Map<string, Map<string, Buckets>>;

/** Formats millionths without trailing zeros: 30000000 -> "30", 2500000 -> "2.5". */
export function formatScaled(v: number): string {
  const neg = v < 0;
  const abs = Math.abs(v);
  const int = Math.floor(abs / SCALE);
  const frac = String(abs % SCALE).padStart(6, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + String(int) + (frac ? `.${frac}` : '');
}

/** Parses a plain non-negative decimal (at most six decimal places) into millionths, or null. */
export function parseScaled(text: string): number | null {
  return parseMicros(text);
}

/** The GMT day of an instant, YYYY-MM-DD. */
export function gmtDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function bucketKeys(ms: number): [string, string, string, string] {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = `${y}-${pad(d.getUTCMonth() + 1)}`;
  return ['all', `y${y}`, `m${m}`, `d${m}-${pad(d.getUTCDate())}`];
}

let lastKeysMs = NaN;
let lastKeys: [string, string, string, string] = ['all', '', '', ''];
/** The bucket a trigger of this recurrence watches at `ms` (also the key of the period it fired in). */
export function periodKey(recurring: Recurring | null, ms: number): string {
  // listing or evaluating many triggers asks for the same instant again and again
  if (ms !== lastKeysMs) {
    lastKeys = bucketKeys(ms);
    lastKeysMs = ms;
  }
  const keys = lastKeys;
  switch (recurring) {
    case 'yearly':
      return keys[1];
    case 'monthly':
      return keys[2];
    case 'daily':
      return keys[3];
    default:
      return keys[0];
  }
}

function addInto(map: UsageMap, account: string, category: string, keys: readonly string[], inc: Totals): void {
  let cats = map.get(account);
  if (!cats) map.set(account, (cats = new Map()));
  let buckets = cats.get(category);
  if (!buckets) cats.set(category, (buckets = new Map()));
  for (const k of keys) {
    const t = buckets.get(k);
    if (t) {
      t[0] += inc[0];
      t[1] += inc[1];
      t[2] += inc[2];
    } else buckets.set(k, [inc[0], inc[1], inc[2]]);
  }
}

/**
 * Recorded usage: per account and category, totals for all time and for every GMT year, month and
 * day in which usage was recorded (the day is the finest grain the Usage Records API reports).
 * Beside each main account it keeps the sum of its subaccounts' usage, so that "the family's
 * usage" (Usage Records' IncludeSubaccounts, the parent-triggers setting) costs one lookup.
 */
export class UsageBook {
  private readonly own: UsageMap = new Map();
  /** main account -> category -> buckets: the sum of its subaccounts' usage (not its own) */
  private readonly subs: UsageMap = new Map();

  /** `parentOf(sid)`: the main account owning a subaccount; undefined for a main account. */
  constructor(private readonly parentOf: (sid: string) => string | undefined) {}

  /** Adds an increment at `ms` to every bucket it falls in. */
  add(account: string, category: string, ms: number, inc: Totals): void {
    const keys = bucketKeys(ms);
    addInto(this.own, account, category, keys, inc);
    const parent = this.parentOf(account);
    if (parent !== undefined) addInto(this.subs, parent, category, keys, inc);
  }

  /** One field of one bucket: the account's own usage, plus its subaccounts' with `withSubs`. */
  value(account: string, category: string, key: string, field: 0 | 1 | 2, withSubs: boolean): number {
    const own = this.own.get(account)?.get(category)?.get(key)?.[field] ?? 0;
    return withSubs ? own + (this.subs.get(account)?.get(category)?.get(key)?.[field] ?? 0) : own;
  }

  /** The account's own totals in one bucket (zeros when none). */
  totals(account: string, category: string, key: string): Totals {
    const t = this.own.get(account)?.get(category)?.get(key);
    return t ? [t[0], t[1], t[2]] : [0, 0, 0];
  }

  /** Categories with any usage, sorted. */
  categories(account: string, withSubs: boolean): string[] {
    const set = new Set(this.own.get(account)?.keys() ?? []);
    if (withSubs) for (const c of this.subs.get(account)?.keys() ?? []) set.add(c);
    return [...set].sort();
  }

  /** Daily totals (YYYY-MM-DD -> totals) of a category, own usage plus subaccounts' with `withSubs`. */
  days(account: string, category: string, withSubs: boolean): Map<string, Totals> {
    const out = new Map<string, Totals>();
    const sources = [this.own.get(account)?.get(category), withSubs ? this.subs.get(account)?.get(category) : undefined];
    for (const buckets of sources) {
      for (const [k, t] of buckets ?? []) {
        if (k[0] !== 'd') continue;
        const day = k.slice(1);
        const prev = out.get(day);
        out.set(day, prev ? [prev[0] + t[0], prev[1] + t[1], prev[2] + t[2]] : [t[0], t[1], t[2]]);
      }
    }
    return out;
  }

  /** The buckets of one account and category (bucket key -> totals), for the journal. */
  bucketsRecord(account: string, category: string): Record<string, Totals> {
    return Object.fromEntries(this.own.get(account)?.get(category) ?? []);
  }

  snapshot(): Record<string, Record<string, Record<string, Totals>>> {
    const usage: Record<string, Record<string, Record<string, Totals>>> = {};
    for (const [acct, cats] of this.own) {
      const o: Record<string, Record<string, Totals>> = (usage[acct] = {});
      for (const [cat, buckets] of cats) o[cat] = Object.fromEntries(buckets);
    }
    return usage;
  }

  /** Loads a snapshot's usage (the accounts must already be known, for the subaccount sums). */
  restore(usage: Record<string, Record<string, Record<string, Totals>>>): void {
    for (const [acct, cats] of Object.entries(usage)) {
      const m = new Map<string, Buckets>();
      const parent = this.parentOf(acct);
      for (const [cat, buckets] of Object.entries(cats)) {
        m.set(cat, new Map(Object.entries(buckets).map(([k, v]) => [k, [v[0], v[1], v[2]] as Totals])));
        if (parent !== undefined) for (const [k, v] of Object.entries(buckets)) addInto(this.subs, parent, cat, [k], v);
      }
      this.own.set(acct, m);
    }
  }
}
