import type { UsageTrigger } from '../api/types.js';
import { randomBytes } from 'node:crypto';
import { checkTriggerValue } from '../rules.js';
import { AccountStore } from './accounts.js';
import {
  API_VERSION,
  BAD,
  cachedRfc2822,
  checkCategory,
  checkFriendlyName,
  checkMethod,
  checkUrl,
  need,
  parseRecurring,
  parseTriggerBy,
  requireParam,
  StoreError,
  type Recurring,
  type TriggerBy,
} from './store-common.js';
import { formatScaled } from './usage-book.js';

export const MAX_TRIGGERS_PER_ACCOUNT = 1000;

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

/**
 * The store's second layer: usage triggers, their list order and their JSON. What a trigger's
 * current value is and when it fires is the top layer's business (Store in store.ts).
 */
export abstract class TriggerStore extends AccountStore {
  readonly triggers = new Map<string, TriggerRecord>();
  /** account -> triggers sorted by (date_created, sid), the list order */
  protected readonly byAccount = new Map<string, TriggerRecord[]>();
  /** account -> category -> triggers watching it: one increment only visits these */
  protected readonly index = new Map<string, Map<string, Set<TriggerRecord>>>();
  private sidCounter = 0;

  /** The value the trigger compares with its trigger_value at `ms` (millionths). */
  protected abstract currentValue(t: TriggerRecord, ms: number): number;

  /** Called once a trigger is added (it may fire at once). */
  protected abstract triggerCreated(t: TriggerRecord, ms: number): void;

  private newTriggerSid(ms: number): string {
    // time-ordered prefix: sorting by SID equals sorting by creation, which keeps PageTokens stable
    this.sidCounter = (this.sidCounter + 1) & 0xffff;
    const t = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
    return 'UT' + t + this.sidCounter.toString(16).padStart(4, '0') + randomBytes(8).toString('hex');
  }

  protected insertSorted(t: TriggerRecord): void {
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
    this.triggerCreated(rec, ms);
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
}

/** List order: date_created, then SID. */
export function compareTriggers(a: TriggerRecord, b: TriggerRecord): number {
  if (a.date_created !== b.date_created) return a.date_created - b.date_created;
  return a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0;
}
