import { randomBytes } from 'node:crypto';
import { checkAccountStatus, type AccountStatus } from '../rules.js';
import { CLOCK_RANGE_TEXT, describeClockMs, isClockInRange } from './clock.js';
import { API_VERSION, BAD, cachedRfc2822, checkFriendlyName, need, pad, StoreError, type StoreChange } from './store-common.js';

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

/**
 * The store's first layer: the virtual clock, accounts (main and subaccounts, their status) and
 * API keys. Store (store.ts) adds usage and triggers on top, through the two hooks below.
 */
export class AccountStore {
  readonly accounts = new Map<string, AccountRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  clockOffsetMs = 0;
  onChange: (c: StoreChange) => void = () => {};

  /** Called after the clock moved (set or advanced). */
  protected clockMoved(): void {}

  /** Called when an account (or its parent) became active again. */
  protected accountReactivated(_sid: string): void {}

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
    this.clockMoved();
    this.onChange({ kind: 'clock' });
  }

  /** Moves the virtual now by `seconds`; a move past the emulator's range is a 400 and changes nothing. */
  advance(seconds: number): void {
    const target = this.nowMs() + seconds * 1000;
    if (!isClockInRange(target)) {
      throw new StoreError(400, BAD, `Advance ${seconds} would move the clock to ${describeClockMs(target)}; the clock must stay ${CLOCK_RANGE_TEXT}`);
    }
    this.clockOffsetMs += Math.round(seconds * 1000);
    this.clockMoved();
    this.onChange({ kind: 'clock' });
  }

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
  protected familyOrder: Map<string, AccountRecord[]> | null = null;
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
    if (!wasActive && this.effectiveStatus(sid) === 'active') this.accountReactivated(sid);
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
