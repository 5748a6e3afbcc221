// Checks around creating a trigger that the wizard and `create` share: which global flags chose the
// target (so a printed command acts on the same account), that credentials work before the first
// prompt, and whether a threshold is already reached (the trigger would fire at once).
import type { ApiClient } from '../api/client.js';
import type { UsageTrigger } from '../api/types.js';
import { LOCAL_PROFILE, wantsLocal, type Deps } from '../deps.js';
import { AuthError, NotFoundError, UsageError } from '../errors.js';
import { parseMicros, usageRecordsPeriod } from '../rules.js';

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The global flags that chose the account a command acts on: --local (or the local profile),
 * --profile (given, or from UTRIG_PROFILE), --account-sid. A printed command keeps them, so pasting
 * it elsewhere does not act on another account.
 */
export function targetFlags(deps: Pick<Deps, 'globals' | 'env'>): string[] {
  const g = deps.globals;
  const flags: string[] = [];
  if (wantsLocal(g, deps.env)) flags.push('--local');
  else {
    const profile = g.profile ?? deps.env.UTRIG_PROFILE;
    if (profile !== undefined && profile !== '' && profile !== LOCAL_PROFILE) flags.push('--profile', shellQuote(profile));
  }
  if (g.accountSid !== undefined) flags.push('--account-sid', shellQuote(g.accountSid));
  return flags;
}

/** `utrig create …` with the target flags put right after `utrig`. */
export function withTargetFlags(command: string, deps: Pick<Deps, 'globals' | 'env'>): string {
  const flags = targetFlags(deps);
  return flags.length === 0 ? command : command.replace(/^utrig /, `utrig ${flags.join(' ')} `);
}

/**
 * Makes sure the target answers before a wizard asks anything: credentials exist and are accepted
 * (and for --local, the emulator's state could be loaded). One cheap request, a one-item list.
 */
export async function checkTargetReady(deps: Deps): Promise<ApiClient> {
  try {
    const client = await deps.client();
    await client.listTriggerPages(new URLSearchParams({ PageSize: '1' })).next();
    return client;
  } catch (err) {
    if (err instanceof AuthError && err.hint === undefined) {
      throw new AuthError(err.message, { cause: err, status: err.status, code: err.code, hint: 'run `utrig login`, or try `utrig --local …`' });
    }
    throw err;
  }
}

/** How a warning names each Usage Records period. */
const PERIOD_WORDS = { Today: 'today', ThisMonth: 'this month', Yearly: 'this year', AllTime: 'so far' } as const;

/** What a threshold check needs of a trigger. */
export interface ThresholdInput {
  category: string;
  value: string;
  triggerBy?: string | undefined;
  recurring?: string | undefined;
}

/** How long a threshold check waits for the usage records before giving up quietly. */
const LOOKUP_MS = 2000;

/**
 * The current usage of the trigger's field over its period, from Twilio's Usage Records routes
 * (Today, ThisMonth, Yearly, AllTime). A period route that answers 404 gives undefined, except
 * AllTime, which falls back to the plain records list (all time, as Twilio defines it).
 */
export async function periodUsage(client: ApiClient, t: ThresholdInput): Promise<{ value: string; words: string } | undefined> {
  const route = usageRecordsPeriod(t.recurring);
  const by = t.triggerBy ?? 'usage';
  const base = `/2010-04-01/Accounts/${client.accountSid}/Usage/Records`;
  const q = new URLSearchParams({ Category: t.category });
  let page: { usage_records?: Record<string, unknown>[] };
  try {
    page = (await client.send('GET', `${base}/${route}.json?${q}`)) as typeof page;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    if (route !== 'AllTime') return undefined;
    page = (await client.send('GET', `${base}.json?${q}`)) as typeof page;
  }
  const records = (page.usage_records ?? []).filter((r) => r.category === undefined || r.category === t.category);
  // Yearly lists every year since the account began: take the latest start_date, whatever order the page is in
  const rec = route === 'Yearly' ? records.reduce<Record<string, unknown> | undefined>((a, r) => (a === undefined || String(r.start_date) > String(a.start_date) ? r : a), undefined) : records[0];
  const v = rec?.[by];
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  return { value: String(v), words: PERIOD_WORDS[route] };
}

/** True when a plain decimal `now` is at or above `threshold` (both as Twilio writes them). */
function reached(now: string, threshold: string): boolean {
  const a = parseMicros(now.trim());
  const b = parseMicros(threshold);
  if (a !== null && b !== null) return a >= b;
  const x = Number(now);
  return Number.isFinite(x) && x >= Number(threshold);
}

/** The warning for a threshold the trigger's period has already reached, or undefined. */
export function thresholdText(t: ThresholdInput, now: string, words: string): string | undefined {
  if (t.value.startsWith('+') || !reached(now, t.value)) return undefined;
  return `${t.category} ${t.triggerBy ?? 'usage'} ${words} is already ${now}, at or above the trigger value ${t.value}: the trigger fires at once`;
}

/**
 * Before a wizard's confirmation: the warning for a threshold already reached, looked up in the
 * usage records. Never fails: a route that is missing, slow or refused means no warning.
 */
export async function lookupThresholdWarning(deps: Deps, t: ThresholdInput): Promise<string | undefined> {
  if (t.value.startsWith('+')) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), LOOKUP_MS);
  });
  const lookup = (async () => {
    const u = await periodUsage(await deps.client(), t);
    return u === undefined ? undefined : thresholdText(t, u.value, u.words);
  })().catch(() => undefined);
  try {
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After `create` without the wizard: the warning for a trigger whose value its period's usage has
 * already reached, from the answer's own current_value (no extra request, nothing asked).
 */
export function createdThresholdWarning(t: UsageTrigger): string | undefined {
  const now = t.current_value;
  if (typeof now !== 'string' || now === '') return undefined;
  const words = PERIOD_WORDS[usageRecordsPeriod(t.recurring)];
  return thresholdText(
    { category: t.usage_category, value: t.trigger_value, triggerBy: t.trigger_by, recurring: t.recurring ?? undefined },
    now,
    words,
  );
}

/** `-i` asks for every value, so it needs a terminal: without one it is a usage error, not ignored. */
export function interactiveNeedsTerminal(deps: Deps): UsageError {
  return new UsageError(`-i/--interactive needs a terminal to ask (${deps.globals.input ? 'stdin or stdout is not a terminal' : '--no-input was given'})`, {
    hint: 'give every value as a flag instead: utrig create --category sms --value +30 --callback-url https://example.com/hook',
  });
}
