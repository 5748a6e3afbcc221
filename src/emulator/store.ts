import type { UsageTrigger } from '../api/types.js';
import { createHash, randomBytes } from 'node:crypto';
import { formatRfc2822 } from '../api/callback.js';
import {
  checkCallbackMethod,
  checkCallbackUrl,
  checkCategory as categoryRule,
  checkFriendlyName as friendlyNameRule,
  checkAccountStatus,
  checkPageSize,
  checkRecurring,
  checkTriggerBy,
  checkTriggerValue,
  PAGE_SIZE_DEFAULT,
  parseMicros,
  type AccountStatus,
  type Checked,
} from '../rules.js';
import { CLOCK_RANGE_TEXT, describeClockMs, isClockInRange } from './clock.js';

/** Everything is kept in integer millionths so sums of fractional prices stay exact. */
const SCALE = 1_000_000;
export const API_VERSION = '2010-04-01';
export const MAX_TRIGGERS_PER_ACCOUNT = 1000;

export type TriggerBy = 'count' | 'usage' | 'price';
export type Recurring = 'daily' | 'monthly' | 'yearly';
const FIELD_INDEX: Record<TriggerBy, 0 | 1 | 2> = { count: 0, usage: 1, price: 2 };
export const TOTALPRICE = 'totalprice';

export interface AccountRecord {
  sid: string;
  friendly_name: string;
  auth_token: string;
  owner_account_sid: string;
  type: 'Full' | 'Trial';
  status: AccountStatus;
  date_created: number;
  date_updated: number;
}

/** The Accounts list's filters (FriendlyName exact, Status). */
export interface AccountFilter {
  friendlyName?: string;
  status?: AccountStatus;
}

/** Most subaccounts one control request may add. */
export const MAX_SUBACCOUNTS_PER_CALL = 10_000;

export interface ApiKeyRecord {
  sid: string;
  secret: string;
  account_sid: string;
  friendly_name: string;
}

export interface TriggerRecord {
  sid: string;
  account_sid: string;
  friendly_name: string;
  callback_url: string;
  callback_method: 'GET' | 'POST';
  usage_category: string;
  trigger_by: TriggerBy;
  /** millionths */
  trigger_value: number;
  recurring: Recurring | null;
  date_created: number;
  date_updated: number;
  date_fired: number | null;
  /** key of the period in which it last fired ("all" for non-recurring) */
  fired_period: string | null;
}

/** The trigger as the emulator answers it: the API's representation, with the fields it always fills. */
export type TriggerJson = UsageTrigger & { current_value: string; date_created: string; date_updated: string; friendly_name: string };

/** A firing the store decided on; the server turns it into a callback delivery. */
export interface FireEvent {
  trigger: TriggerJson;
  firedAt: Date;
  authToken: string;
}

/** A 4xx the API should answer with (Twilio code, HTTP status). */
export class StoreError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type Totals = [number, number, number];
/** account -> category -> bucket key ("all", "y2024", "m2024-01", "d2024-01-31") -> [count, usage, price] */
type UsageMap = Map<string, Map<string, Map<string, Totals>>>;

export interface StoreSnapshot {
  version: 1;
  clockOffsetMs: number;
  accounts: AccountRecord[];
  apiKeys: ApiKeyRecord[];
  triggers: TriggerRecord[];
  usage: Record<string, Record<string, Record<string, Totals>>>;
}

/** What one mutation touched, so persistence can journal just that (see journal.ts). */
export type StoreChange =
  | { kind: 'clock' }
  | { kind: 'account'; sid: string }
  | { kind: 'apiKey'; sid: string }
  /** created, updated, fired or deleted (absent from `triggers` afterwards) */
  | { kind: 'trigger'; sid: string }
  | { kind: 'usage'; account: string; category: string };

/** Derives a stable 32-hex string from text (fixed test credentials, subaccount SIDs). */
export function stableHex(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

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

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function bucketKeys(ms: number): [string, string, string, string] {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = `${y}-${pad(d.getUTCMonth() + 1)}`;
  return ['all', `y${y}`, `m${m}`, `d${m}-${pad(d.getUTCDate())}`];
}

let lastKeysMs = NaN;
let lastKeys: [string, string, string, string] = ['all', '', '', ''];
function periodKey(recurring: Recurring | null, ms: number): string {
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

export function isKnownCategory(c: string): boolean {
  return categoryRule(c).ok;
}

export interface CreateTriggerInput {
  CallbackUrl?: string;
  TriggerValue?: string;
  UsageCategory?: string;
  CallbackMethod?: string;
  FriendlyName?: string;
  Recurring?: string;
  TriggerBy?: string;
}

export interface ListFilter {
  recurring?: Recurring | null;
  triggerBy?: TriggerBy;
  usageCategory?: string;
}

// Twilio answers every malformed or missing parameter of these endpoints with 400 and code 20001
// ("Missing required parameter X in the post body", "Invalid parameter"); see server.ts for the table.
const BAD = 20001;

function requireParam(v: string | undefined, name: string): string {
  if (v === undefined || v === '') throw new StoreError(400, BAD, `Missing required parameter ${name} in the post body`);
  return v;
}

/** The value of a passed rule (src/rules.ts, shared with the CLI), or a 400 naming the parameter. */
function need<T>(name: string, c: Checked<T>): T {
  if (!c.ok) throw new StoreError(400, BAD, `${name} ${c.reason}`);
  return c.value;
}

function checkUrl(v: string, name: string): string {
  return need(name, checkCallbackUrl(v));
}

function checkMethod(v: string): 'GET' | 'POST' {
  return need('CallbackMethod', checkCallbackMethod(v));
}

function checkFriendlyName(v: string): string {
  return need('FriendlyName', friendlyNameRule(v));
}

/** Parses a Recurring value; '' and 'alltime' mean non-recurring (null). */
export function parseRecurring(v: string): Recurring | null {
  const r = need('Recurring', checkRecurring(v));
  return r === '' || r === 'alltime' ? null : r;
}

export function parseTriggerBy(v: string): TriggerBy {
  return need('TriggerBy', checkTriggerBy(v));
}

export function checkCategory(v: string, name: string): string {
  return need(name, categoryRule(v)).category;
}

/** The list's PageSize query parameter: absent or empty means Twilio's default, 50. */
export function pageSizeParam(v: string | null): number {
  return v === null || v === '' ? PAGE_SIZE_DEFAULT : need('PageSize', checkPageSize(v));
}

/**
 * The emulator's whole state: accounts, API keys, triggers, usage buckets and the virtual clock.
 * No I/O here; firings are reported through `onFire`, changes through `onChange`.
 */
export class Store {
  readonly accounts = new Map<string, AccountRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly triggers = new Map<string, TriggerRecord>();
  /** account -> triggers sorted by (date_created, sid), the list order */
  private readonly byAccount = new Map<string, TriggerRecord[]>();
  /** account -> category -> triggers watching it: one increment only visits these */
  private readonly index = new Map<string, Map<string, Set<TriggerRecord>>>();
  private readonly usage: UsageMap = new Map();
  clockOffsetMs = 0;
  private sidCounter = 0;
  onFire: (e: FireEvent) => void = () => {};
  onChange: (c: StoreChange) => void = () => {};

  /** Virtual now, in ms. */
  nowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Sets the virtual now; a time outside the emulator's range is a 400 and changes nothing. */
  setNow(d: Date): void {
    const ms = d.getTime();
    if (!isClockInRange(ms)) {
      throw new StoreError(400, BAD, `Now must be a time ${CLOCK_RANGE_TEXT}, got ${Number.isNaN(ms) ? 'an invalid date' : describeClockMs(ms)}`);
    }
    this.clockOffsetMs = Math.round(ms - Date.now());
    this.evaluateAll();
    this.onChange({ kind: 'clock' });
  }

  /** Moves the virtual now by `seconds`; a move past the emulator's range is a 400 and changes nothing. */
  advance(seconds: number): void {
    const target = this.nowMs() + seconds * 1000;
    if (!isClockInRange(target)) {
      throw new StoreError(400, BAD, `Advance ${seconds} would move the clock to ${describeClockMs(target)}; the clock must stay ${CLOCK_RANGE_TEXT}`);
    }
    this.clockOffsetMs += Math.round(seconds * 1000);
    this.evaluateAll();
    this.onChange({ kind: 'clock' });
  }

  // ---- accounts ----

  addAccount(a: Omit<AccountRecord, 'date_created' | 'date_updated' | 'status'> & { date_created?: number }): AccountRecord {
    const existing = this.accounts.get(a.sid);
    if (existing) return existing;
    const now = a.date_created ?? this.nowMs();
    const rec: AccountRecord = { ...a, status: 'active', date_created: now, date_updated: now };
    this.accounts.set(rec.sid, rec);
    this.familyOrder = null;
    this.onChange({ kind: 'account', sid: rec.sid });
    return rec;
  }

  addApiKey(k: ApiKeyRecord): ApiKeyRecord {
    const existing = this.apiKeys.get(k.sid);
    if (existing) return existing;
    this.apiKeys.set(k.sid, k);
    this.onChange({ kind: 'apiKey', sid: k.sid });
    return k;
  }

  /** Is this account a main (parent) account? Its owner is itself. */
  isParent(sid: string): boolean {
    return this.accounts.get(sid)?.owner_account_sid === sid;
  }

  /** The account family's key: the parent's SID (concurrency is counted per family). */
  familyOf(sid: string): string {
    return this.accounts.get(sid)?.owner_account_sid ?? sid;
  }

  /**
   * The status that applies: the account's own, or its parent's when the parent is not active
   * (Twilio: "If your main Twilio account is ever suspended, your subaccounts will also be suspended").
   */
  effectiveStatus(sid: string): AccountStatus | null {
    const a = this.accounts.get(sid);
    if (!a) return null;
    if (a.status !== 'active' || a.owner_account_sid === sid) return a.status;
    return this.accounts.get(a.owner_account_sid)?.status ?? a.status;
  }

  /**
   * Creates a subaccount of `owner` with a random SID and token. Only a main account may own
   * subaccounts (Twilio's subaccounts are one level deep), and only while active.
   */
  createSubaccount(owner: string, friendlyName: string | undefined): AccountRecord {
    const parent = this.accounts.get(owner);
    if (!parent) throw new StoreError(404, 20404, `The requested resource /2010-04-01/Accounts/${owner}.json was not found`);
    if (parent.owner_account_sid !== owner) {
      throw new StoreError(403, 20403, 'subaccounts cannot create subaccounts: use the main account\'s credentials');
    }
    if (parent.status !== 'active') throw new StoreError(403, 20403, `account ${owner} is ${parent.status}: only an active account can create subaccounts`);
    if (friendlyName !== undefined) checkFriendlyName(friendlyName);
    const sid = 'AC' + randomBytes(16).toString('hex');
    return this.addAccount({
      sid,
      friendly_name: friendlyName || `SubAccount Created at ${defaultAccountTime(this.nowMs())}`,
      auth_token: randomBytes(16).toString('hex'),
      owner_account_sid: owner,
      type: parent.type,
    });
  }

  /**
   * Creates `count` subaccounts of `owner` at once (the control route); `{n}` in the name is
   * replaced by 1..count.
   */
  createSubaccounts(owner: string, count: number, friendlyName: string | undefined): AccountRecord[] {
    if (!Number.isInteger(count) || count < 1 || count > MAX_SUBACCOUNTS_PER_CALL) {
      throw new StoreError(400, BAD, `Count must be an integer 1-${MAX_SUBACCOUNTS_PER_CALL}, got ${count}`);
    }
    if (friendlyName !== undefined) checkFriendlyName(friendlyName.replaceAll('{n}', String(count)));
    const out: AccountRecord[] = [];
    for (let i = 1; i <= count; i++) out.push(this.createSubaccount(owner, friendlyName?.replaceAll('{n}', String(i))));
    return out;
  }

  /**
   * The accounts `principal` may list, in list order (date_created, then SID): a main account
   * sees itself and its subaccounts, a subaccount only itself.
   */
  listAccounts(principal: string, f: AccountFilter): AccountRecord[] {
    const me = this.accounts.get(principal);
    if (!me) return [];
    const all = me.owner_account_sid === principal ? (this.families().get(principal) ?? [me]) : [me];
    return all.filter((a) => (f.friendlyName === undefined || a.friendly_name === f.friendlyName) && (f.status === undefined || a.status === f.status));
  }

  /** main account -> itself and its subaccounts in list order; rebuilt after an account is added */
  private familyOrder: Map<string, AccountRecord[]> | null = null;
  private families(): Map<string, AccountRecord[]> {
    if (this.familyOrder) return this.familyOrder;
    const m = new Map<string, AccountRecord[]>();
    for (const a of this.accounts.values()) {
      let list = m.get(a.owner_account_sid);
      if (!list) m.set(a.owner_account_sid, (list = []));
      list.push(a);
    }
    for (const list of m.values()) list.sort(compareAccounts);
    this.familyOrder = m;
    return m;
  }

  /**
   * POST /Accounts/{Sid}.json: FriendlyName and Status. Status changes follow Twilio's subaccount
   * rules: only the parent's credentials change a subaccount's Status, a main account's own Status
   * cannot be changed through the API, and a closed account stays closed (error 21479).
   */
  updateAccount(actor: string, sid: string, input: { FriendlyName?: string; Status?: string }): AccountRecord {
    const a = this.accounts.get(sid);
    if (!a) throw new StoreError(404, 20404, `The requested resource /2010-04-01/Accounts/${sid}.json was not found`);
    const name = input.FriendlyName === undefined ? undefined : checkFriendlyName(input.FriendlyName);
    let status: AccountStatus | undefined;
    if (input.Status !== undefined) {
      status = need('Status', checkAccountStatus(input.Status));
      if (a.owner_account_sid === sid) throw new StoreError(403, 20403, 'the main account\'s Status cannot be changed through the API');
      if (actor === sid) throw new StoreError(403, 20403, 'a subaccount cannot change its own Status: use the main account\'s credentials');
      if (a.status === 'closed' && status !== 'closed') {
        throw new StoreError(400, 21479, 'Unable to update Status for subaccount, subaccount is closed and can not be re-opened');
      }
    }
    const wasActive = this.effectiveStatus(sid) === 'active';
    if (name !== undefined) a.friendly_name = name;
    if (status !== undefined) a.status = status;
    a.date_updated = this.nowMs();
    this.onChange({ kind: 'account', sid });
    // reactivated: usage recorded while suspended may already be over a trigger's value
    if (!wasActive && this.effectiveStatus(sid) === 'active') {
      const ms = this.nowMs();
      for (const t of [...(this.byAccount.get(sid) ?? [])]) this.evaluate(t, ms);
    }
    return a;
  }

  /** May `principal` (an account SID) act on `target`? Itself or its direct subaccounts. */
  canAccess(principal: string, target: string): boolean {
    if (principal === target) return true;
    const t = this.accounts.get(target);
    return t !== undefined && t.owner_account_sid === principal;
  }

  /** The Account resource as Twilio answers it (twilio-python's test_account.py fixtures, twilio-node's account.ts). */
  accountJson(a: AccountRecord): Record<string, unknown> {
    const base = `/${API_VERSION}/Accounts/${a.sid}`;
    return {
      auth_token: a.auth_token,
      date_created: cachedRfc2822(a.date_created),
      date_updated: cachedRfc2822(a.date_updated),
      friendly_name: a.friendly_name,
      owner_account_sid: a.owner_account_sid,
      sid: a.sid,
      status: a.status,
      subresource_uris: Object.fromEntries(ACCOUNT_SUBRESOURCES.map(([k, p]) => [k, `${base}/${p}.json`])),
      type: a.type,
      uri: `${base}.json`,
    };
  }

  // ---- usage ----

  private totals(account: string, category: string, key: string): Totals | undefined {
    return this.usage.get(account)?.get(category)?.get(key);
  }

  private addTotals(account: string, category: string, keys: readonly string[], inc: Totals): void {
    let cats = this.usage.get(account);
    if (!cats) this.usage.set(account, (cats = new Map()));
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
   * Records usage at the virtual now and evaluates the triggers watching that category (and
   * totalprice when a price moved). Increments are decimal strings (fractions allowed).
   */
  addUsage(account: string, category: string, inc: { count?: string; usage?: string; price?: string }): { count: string; usage: string; price: string } {
    if (!this.accounts.has(account)) throw new StoreError(404, 20404, `account ${account} not found`);
    checkCategory(category, 'Category');
    const parse = (v: string | undefined, name: string): number => {
      if (v === undefined || v === '') return 0;
      const n = parseScaled(v);
      if (n === null) throw new StoreError(400, BAD, `${name} must be a non-negative decimal number, got ${v}`);
      return n;
    };
    const c = parse(inc.count, 'Count');
    const u = parse(inc.usage, 'Usage');
    const p = parse(inc.price, 'Price');
    const keys = bucketKeys(this.nowMs());
    if (category === TOTALPRICE) {
      // a direct totalprice increment: count and usage mirror the price
      this.addTotals(account, TOTALPRICE, keys, [p, p, p]);
    } else {
      this.addTotals(account, category, keys, [c, u, p]);
      if (p > 0) this.addTotals(account, TOTALPRICE, keys, [p, p, p]);
    }
    this.evaluateCategory(account, category);
    if (category !== TOTALPRICE && p > 0) this.evaluateCategory(account, TOTALPRICE);
    this.onChange({ kind: 'usage', account, category });
    if (category !== TOTALPRICE && p > 0) this.onChange({ kind: 'usage', account, category: TOTALPRICE });
    return this.allTimeTotals(account, category);
  }

  allTimeTotals(account: string, category: string): { count: string; usage: string; price: string } {
    const t = this.totals(account, category, 'all') ?? [0, 0, 0];
    return { count: formatScaled(t[0]), usage: formatScaled(t[1]), price: formatScaled(t[2]) };
  }

  /** Categories with any usage for the account, sorted. */
  usedCategories(account: string): string[] {
    return [...(this.usage.get(account)?.keys() ?? [])].sort();
  }

  private currentValue(t: TriggerRecord, ms: number): number {
    const tot = this.totals(t.account_sid, t.usage_category, periodKey(t.recurring, ms));
    return tot ? tot[FIELD_INDEX[t.trigger_by]] : 0;
  }

  // ---- evaluation ----

  private evaluate(t: TriggerRecord, ms: number): void {
    const period = periodKey(t.recurring, ms);
    // checked and marked synchronously: concurrent increments cannot fire a period twice
    if (t.fired_period === period) return;
    // a suspended or closed account's triggers do not fire (evaluated again on reactivation)
    if (this.effectiveStatus(t.account_sid) !== 'active') return;
    const tot = this.totals(t.account_sid, t.usage_category, period);
    const value = tot ? tot[FIELD_INDEX[t.trigger_by]] : 0;
    if (value < t.trigger_value) return;
    t.fired_period = period;
    t.date_fired = ms;
    this.onChange({ kind: 'trigger', sid: t.sid });
    const account = this.accounts.get(t.account_sid);
    this.onFire({ trigger: this.triggerJson(t, ms), firedAt: new Date(ms), authToken: account?.auth_token ?? '' });
  }

  private evaluateCategory(account: string, category: string): void {
    const set = this.index.get(account)?.get(category);
    if (!set) return;
    const ms = this.nowMs();
    for (const t of set) this.evaluate(t, ms);
  }

  /** Re-evaluates every trigger (after a clock jump: a new period may already be over its value). */
  evaluateAll(): void {
    const ms = this.nowMs();
    for (const t of this.triggers.values()) this.evaluate(t, ms);
  }

  // ---- triggers ----

  private newTriggerSid(ms: number): string {
    // time-ordered prefix: sorting by SID equals sorting by creation, which keeps PageTokens stable
    this.sidCounter = (this.sidCounter + 1) & 0xffff;
    const t = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
    return 'UT' + t + this.sidCounter.toString(16).padStart(4, '0') + randomBytes(8).toString('hex');
  }

  private insertSorted(t: TriggerRecord): void {
    let list = this.byAccount.get(t.account_sid);
    if (!list) this.byAccount.set(t.account_sid, (list = []));
    let i = list.length;
    while (i > 0 && compareTriggers(list[i - 1] as TriggerRecord, t) > 0) i--;
    list.splice(i, 0, t);
    let cats = this.index.get(t.account_sid);
    if (!cats) this.index.set(t.account_sid, (cats = new Map()));
    let set = cats.get(t.usage_category);
    if (!set) cats.set(t.usage_category, (set = new Set()));
    set.add(t);
  }

  /** Validates Twilio's create parameters and adds the trigger; it may fire at once. */
  createTrigger(account: string, input: CreateTriggerInput): TriggerJson {
    const callbackUrl = checkUrl(requireParam(input.CallbackUrl, 'CallbackUrl'), 'CallbackUrl');
    const value = need('TriggerValue', checkTriggerValue(requireParam(input.TriggerValue, 'TriggerValue')));
    const category = checkCategory(requireParam(input.UsageCategory, 'UsageCategory'), 'UsageCategory');
    const method = input.CallbackMethod === undefined ? 'POST' : checkMethod(input.CallbackMethod);
    const recurring = input.Recurring === undefined ? null : parseRecurring(input.Recurring);
    const triggerBy = input.TriggerBy === undefined ? 'usage' : parseTriggerBy(input.TriggerBy);
    if (input.FriendlyName !== undefined) checkFriendlyName(input.FriendlyName);
    const { offset, micros: parsed } = value;
    if ((this.byAccount.get(account)?.length ?? 0) >= MAX_TRIGGERS_PER_ACCOUNT) {
      throw new StoreError(400, BAD, `account ${account} already has ${MAX_TRIGGERS_PER_ACCOUNT} usage triggers, the maximum; delete some first`);
    }
    const ms = this.nowMs();
    const rec: TriggerRecord = {
      sid: this.newTriggerSid(ms),
      account_sid: account,
      friendly_name: '',
      callback_url: callbackUrl,
      callback_method: method,
      usage_category: category,
      trigger_by: triggerBy,
      trigger_value: parsed,
      recurring,
      date_created: ms,
      date_updated: ms,
      date_fired: null,
      fired_period: null,
    };
    if (offset) rec.trigger_value = this.currentValue(rec, ms) + parsed;
    rec.friendly_name = input.FriendlyName || `Trigger for ${category} at ${triggerBy} of ${formatScaled(rec.trigger_value)}`;
    this.triggers.set(rec.sid, rec);
    this.insertSorted(rec);
    this.evaluate(rec, ms);
    this.onChange({ kind: 'trigger', sid: rec.sid });
    return this.triggerJson(rec, ms);
  }

  getTrigger(account: string, sid: string): TriggerRecord {
    const t = this.triggers.get(sid);
    if (!t || t.account_sid !== account) {
      throw new StoreError(404, 20404, `The requested resource /${API_VERSION}/Accounts/${account}/Usage/Triggers/${sid}.json was not found`);
    }
    return t;
  }

  /**
   * Updates CallbackUrl, CallbackMethod, FriendlyName. Other parameters (UsageCategory,
   * TriggerValue, ...) are ignored, as Twilio ignores them: category and value cannot change.
   */
  updateTrigger(account: string, sid: string, input: { CallbackUrl?: string; CallbackMethod?: string; FriendlyName?: string }): TriggerJson {
    const t = this.getTrigger(account, sid);
    const url = input.CallbackUrl === undefined ? undefined : checkUrl(input.CallbackUrl, 'CallbackUrl');
    const method = input.CallbackMethod === undefined ? undefined : checkMethod(input.CallbackMethod);
    const name = input.FriendlyName === undefined ? undefined : checkFriendlyName(input.FriendlyName);
    if (url !== undefined) t.callback_url = url;
    if (method !== undefined) t.callback_method = method;
    if (name !== undefined) t.friendly_name = name;
    t.date_updated = this.nowMs();
    this.onChange({ kind: 'trigger', sid: t.sid });
    return this.triggerJson(t);
  }

  deleteTrigger(account: string, sid: string): void {
    const t = this.getTrigger(account, sid);
    this.triggers.delete(sid);
    const list = this.byAccount.get(account);
    if (list) {
      const i = list.indexOf(t);
      if (i >= 0) list.splice(i, 1);
    }
    this.index.get(account)?.get(t.usage_category)?.delete(t);
    this.onChange({ kind: 'trigger', sid });
  }

  /** The account's triggers in list order, filtered. */
  listTriggers(account: string, f: ListFilter): TriggerRecord[] {
    const list = this.byAccount.get(account) ?? [];
    return list.filter(
      (t) =>
        (f.recurring === undefined || t.recurring === f.recurring) &&
        (f.triggerBy === undefined || t.trigger_by === f.triggerBy) &&
        (f.usageCategory === undefined || t.usage_category === f.usageCategory),
    );
  }

  triggerCount(account: string): number {
    return this.byAccount.get(account)?.length ?? 0;
  }

  triggerJson(t: TriggerRecord, ms: number = this.nowMs()): TriggerJson {
    const base = `/${API_VERSION}/Accounts/${t.account_sid}`;
    const fmt = cachedRfc2822;
    return {
      account_sid: t.account_sid,
      api_version: API_VERSION,
      callback_method: t.callback_method,
      callback_url: t.callback_url,
      current_value: formatScaled(this.currentValue(t, ms)),
      date_created: fmt(t.date_created),
      date_fired: t.date_fired === null ? null : fmt(t.date_fired),
      date_updated: fmt(t.date_updated),
      friendly_name: t.friendly_name,
      recurring: t.recurring,
      sid: t.sid,
      trigger_by: t.trigger_by,
      trigger_value: formatScaled(t.trigger_value),
      uri: `${base}/Usage/Triggers/${t.sid}.json`,
      usage_category: t.usage_category,
      usage_record_uri: `${base}/Usage/Records.json?Category=${encodeURIComponent(t.usage_category)}`,
    };
  }

  // ---- persistence ----

  snapshot(): StoreSnapshot {
    const usage: StoreSnapshot['usage'] = {};
    for (const [acct, cats] of this.usage) {
      const o: Record<string, Record<string, Totals>> = (usage[acct] = {});
      for (const [cat, buckets] of cats) o[cat] = Object.fromEntries(buckets);
    }
    return {
      version: 1,
      clockOffsetMs: this.clockOffsetMs,
      accounts: [...this.accounts.values()],
      apiKeys: [...this.apiKeys.values()],
      triggers: [...this.triggers.values()],
      usage,
    };
  }

  /** The usage buckets of one account and category (bucket key -> totals), for the journal. */
  usageBuckets(account: string, category: string): Record<string, Totals> {
    return Object.fromEntries(this.usage.get(account)?.get(category) ?? []);
  }

  /** Replaces the state with a snapshot (already checked item by item by state.ts). */
  restore(s: StoreSnapshot): void {
    this.clockOffsetMs = s.clockOffsetMs;
    for (const a of s.accounts) this.accounts.set(a.sid, { ...a });
    this.familyOrder = null;
    for (const k of s.apiKeys) this.apiKeys.set(k.sid, { ...k });
    for (const t of s.triggers) {
      const rec = { ...t };
      this.triggers.set(rec.sid, rec);
      this.insertSorted(rec);
    }
    for (const [acct, cats] of Object.entries(s.usage)) {
      const m = new Map<string, Map<string, Totals>>();
      for (const [cat, buckets] of Object.entries(cats)) {
        m.set(cat, new Map(Object.entries(buckets).map(([k, v]) => [k, [v[0], v[1], v[2]] as Totals])));
      }
      this.usage.set(acct, m);
    }
  }
}

const rfcCache = new Map<number, string>();
/** RFC 2822 by whole second, memoised: a page of 1,000 triggers repeats a handful of instants. */
function cachedRfc2822(ms: number): string {
  const sec = Math.floor(ms / 1000);
  let s = rfcCache.get(sec);
  if (s === undefined) {
    if (rfcCache.size > 10_000) rfcCache.clear();
    s = formatRfc2822(new Date(sec * 1000));
    rfcCache.set(sec, s);
  }
  return s;
}

/** The Account resource's subresource_uris, as Twilio lists them (key, path under the account). */
const ACCOUNT_SUBRESOURCES: readonly [string, string][] = [
  ['available_phone_numbers', 'AvailablePhoneNumbers'],
  ['calls', 'Calls'],
  ['conferences', 'Conferences'],
  ['incoming_phone_numbers', 'IncomingPhoneNumbers'],
  ['notifications', 'Notifications'],
  ['outgoing_caller_ids', 'OutgoingCallerIds'],
  ['recordings', 'Recordings'],
  ['transcriptions', 'Transcriptions'],
  ['addresses', 'Addresses'],
  ['signing_keys', 'SigningKeys'],
  ['connect_apps', 'ConnectApps'],
  ['sip', 'SIP'],
  ['authorized_connect_apps', 'AuthorizedConnectApps'],
  ['usage', 'Usage'],
  ['keys', 'Keys'],
  ['applications', 'Applications'],
  ['short_codes', 'SMS/ShortCodes'],
  ['queues', 'Queues'],
  ['messages', 'Messages'],
  ['balance', 'Balance'],
];

/** Twilio's default subaccount name time, "{YYYY-MM-DD HH:MM meridian}" in GMT: 2026-11-23 07:48 pm. */
function defaultAccountTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(h12)}:${pad(d.getUTCMinutes())} ${h < 12 ? 'am' : 'pm'}`;
}

/** Accounts list order: date_created, then SID. */
export function compareAccounts(a: AccountRecord, b: AccountRecord): number {
  if (a.date_created !== b.date_created) return a.date_created - b.date_created;
  return a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0;
}

/** List order: date_created, then SID. */
export function compareTriggers(a: TriggerRecord, b: TriggerRecord): number {
  if (a.date_created !== b.date_created) return a.date_created - b.date_created;
  return a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0;
}
