import type { AccountRecord, ApiKeyRecord } from './accounts.js';
import { BAD, checkCategory, StoreError, type TriggerBy } from './store-common.js';
import { TriggerStore, type TriggerJson, type TriggerRecord } from './triggers.js';
import { formatScaled, parseScaled, periodKey, UsageBook, type Totals } from './usage-book.js';

// The store is layered along its seams: store-common.ts (errors, parameter checks), accounts.ts
// (clock, accounts, API keys), triggers.ts (triggers, their list and JSON), usage-book.ts (recorded
// usage), and this file: when triggers fire.
export * from './store-common.js';
export * from './accounts.js';
export * from './triggers.js';
export { formatScaled, parseScaled, type Totals } from './usage-book.js';

const FIELD_INDEX: Record<TriggerBy, 0 | 1 | 2> = { count: 0, usage: 1, price: 2 };
export const TOTALPRICE = 'totalprice';

/** A firing the store decided on; the server turns it into a callback delivery. */
export interface FireEvent {
  trigger: TriggerJson;
  firedAt: Date;
  authToken: string;
}

export interface StoreSnapshot {
  version: 1;
  clockOffsetMs: number;
  accounts: AccountRecord[];
  apiKeys: ApiKeyRecord[];
  triggers: TriggerRecord[];
  usage: Record<string, Record<string, Record<string, Totals>>>;
}



/**
 * The emulator's whole state: accounts, API keys and the clock (AccountStore), recorded usage
 * (UsageBook), triggers and when they fire. No I/O here; firings are reported through `onFire`,
 * changes through `onChange`.
 */
export class Store extends TriggerStore {
  readonly usage = new UsageBook((sid) => {
    const owner = this.accounts.get(sid)?.owner_account_sid;
    return owner !== undefined && owner !== sid ? owner : undefined;
  });
  onFire: (e: FireEvent) => void = () => {};

  /**
   * Does a main account's trigger count its subaccounts' usage too? Twilio does not document it;
   * off by default (each account's triggers watch that account's usage only).
   */
  parentTriggersCountSubaccounts = false;
  /** Twilio's timing: evaluate every this many virtual ms; null (the default) evaluates on every change. */
  private evaluateEveryMs: number | null = null;
  /** with evaluateEveryMs: the virtual time of the next evaluation */
  private nextEvaluationMs = 0;

  protected override clockMoved(): void {
    if (this.evaluateEveryMs === null) this.evaluateAll();
    else this.runDueEvaluations();
  }

  protected triggerCreated(t: TriggerRecord, ms: number): void {
    if (this.evaluateEveryMs === null) this.evaluate(t, ms);
  }

  protected override accountReactivated(sid: string): void {
    if (this.evaluateEveryMs !== null) return;
    const ms = this.nowMs();
    for (const t of [...(this.byAccount.get(sid) ?? [])]) this.evaluate(t, ms);
  }

  /** Turns the parent-triggers setting on or off (triggers are evaluated again at once when immediate). */
  setParentTriggersCountSubaccounts(on: boolean): void {
    this.parentTriggersCountSubaccounts = on;
    if (this.evaluateEveryMs === null) this.evaluateAll();
  }

  /** Evaluation every `seconds` of virtual time, or null: at once on every change (the default). */
  setEvaluateEvery(seconds: number | null): void {
    this.evaluateEveryMs = seconds === null ? null : Math.round(seconds * 1000);
    if (this.evaluateEveryMs === null) this.evaluateAll();
    else this.nextEvaluationMs = this.nowMs() + this.evaluateEveryMs;
  }

  get evaluateEverySeconds(): number | null {
    return this.evaluateEveryMs === null ? null : this.evaluateEveryMs / 1000;
  }

  /**
   * With --evaluate-every: runs the evaluations virtual time has reached. After a long jump only
   * the first and the last due ones run: no usage is recorded between them, so the ones in between
   * could fire nothing the two do not. Returns how many ran.
   */
  runDueEvaluations(): number {
    const every = this.evaluateEveryMs;
    if (every === null) return 0;
    const now = this.nowMs();
    if (now < this.nextEvaluationMs - every) {
      // the clock was set back before the last evaluation: start the schedule again from now
      this.nextEvaluationMs = now + every;
      return 0;
    }
    if (now < this.nextEvaluationMs) return 0;
    const first = this.nextEvaluationMs;
    const last = first + Math.floor((now - first) / every) * every;
    this.evaluateAt(first);
    if (last > first) this.evaluateAt(last);
    this.nextEvaluationMs = last + every;
    return last > first ? 2 : 1;
  }

  private evaluateAt(ms: number): void {
    for (const t of this.triggers.values()) if (t.date_created <= ms) this.evaluate(t, ms);
  }

  // ---- usage ----

  /**
   * Records usage at the virtual now and (unless evaluation is periodic) evaluates the triggers
   * watching that category, and totalprice when a price moved. Increments are decimal strings.
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
    const ms = this.nowMs();
    const priced = category !== TOTALPRICE && p > 0;
    // a direct totalprice increment: count and usage mirror the price
    if (category === TOTALPRICE) this.usage.add(account, TOTALPRICE, ms, [p, p, p]);
    else this.usage.add(account, category, ms, [c, u, p]);
    if (priced) this.usage.add(account, TOTALPRICE, ms, [p, p, p]);
    if (this.evaluateEveryMs === null) {
      const parent = this.familyOf(account);
      const watchers = this.parentTriggersCountSubaccounts && parent !== account ? [account, parent] : [account];
      for (const who of watchers) {
        this.evaluateCategory(who, category);
        if (priced) this.evaluateCategory(who, TOTALPRICE);
      }
    }
    this.onChange({ kind: 'usage', account, category });
    if (priced) this.onChange({ kind: 'usage', account, category: TOTALPRICE });
    return this.allTimeTotals(account, category);
  }

  /** The account's own all-time totals of a category. */
  allTimeTotals(account: string, category: string): { count: string; usage: string; price: string } {
    const t = this.usage.totals(account, category, 'all');
    return { count: formatScaled(t[0]), usage: formatScaled(t[1]), price: formatScaled(t[2]) };
  }

  protected currentValue(t: TriggerRecord, ms: number): number {
    const withSubs = this.parentTriggersCountSubaccounts && this.isParent(t.account_sid);
    return this.usage.value(t.account_sid, t.usage_category, periodKey(t.recurring, ms), FIELD_INDEX[t.trigger_by], withSubs);
  }

  // ---- evaluation ----

  private evaluate(t: TriggerRecord, ms: number): void {
    const period = periodKey(t.recurring, ms);
    // checked and marked synchronously: concurrent increments cannot fire a period twice
    if (t.fired_period === period) return;
    // a suspended or closed account's triggers do not fire (evaluated again on reactivation)
    if (this.effectiveStatus(t.account_sid) !== 'active') return;
    if (this.currentValue(t, ms) < t.trigger_value) return;
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

  // ---- persistence ----

  snapshot(): StoreSnapshot {
    return {
      version: 1,
      clockOffsetMs: this.clockOffsetMs,
      accounts: [...this.accounts.values()],
      apiKeys: [...this.apiKeys.values()],
      triggers: [...this.triggers.values()],
      usage: this.usage.snapshot(),
    };
  }

  /** The usage buckets of one account and category (bucket key -> totals), for the journal. */
  usageBuckets(account: string, category: string): Record<string, Totals> {
    return this.usage.bucketsRecord(account, category);
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
    this.usage.restore(s.usage);
  }
}

