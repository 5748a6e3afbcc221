// `utrig fire`: declaration, flags, and the sending (undici and the credentials load inside run).
import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { DeliveryAttempt, TriggerLike } from '../api/callback.js';
import type { CommandContext, Deps } from '../deps.js';
import { ApiError, NetworkError, UsageError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import { examples } from '../output/help.js';
import {
  parseCallbackMethod,
  parseCallbackUrl,
  parseCategory,
  parseRecurring,
  parseTriggerBy,
  parseTriggerSid,
  parseTriggerValue,
  str,
  type RecurringValue,
  type TriggerByValue,
} from './flags.js';

/** The flags of `utrig fire`. */
export interface FireOptions {
  /** Fire this trigger, fetched from the API. */
  sid?: string | undefined;
  /** Where to send it; defaults to the trigger's callback URL when a SID is given. */
  to?: string | undefined;
  category?: string | undefined;
  unknownCategory?: boolean | undefined;
  value?: string | undefined;
  recurring?: RecurringValue | undefined;
  triggerBy?: TriggerByValue | undefined;
  method?: 'GET' | 'POST' | undefined;
  retry: boolean;
}

/** What `fire` reports (the JSON on stdout). */
export interface FireResult {
  /** The final answer's status; null when the URL could not be reached. */
  status: number | null;
  attempts: number;
  /** Time of the final attempt. */
  ms: number;
  url: string;
  method: 'GET' | 'POST';
  params: Record<string, string>;
  error: string | null;
}

const FROM_FLAGS = ['category', 'value', 'recurring', 'triggerBy'] as const;
const FLAG_NAMES: Record<(typeof FROM_FLAGS)[number], string> = { category: '--category', value: '--value', recurring: '--recurring', triggerBy: '--trigger-by' };

/** Reads commander's values for `utrig fire`. */
export function parseFireOptions(raw: Record<string, unknown>, args: string[]): FireOptions {
  const o: FireOptions = { retry: raw.retry === true };
  const sid = args[0];
  const given = FROM_FLAGS.filter((k) => str(raw, k) !== undefined);
  if (sid !== undefined) {
    o.sid = parseTriggerSid('trigger SID', sid);
    if (given.length > 0) {
      throw new UsageError(`${given.map((k) => FLAG_NAMES[k]).join(', ')} cannot be combined with a trigger SID: the trigger's own values are sent`, {
        hint: `drop the SID to fire a made-up trigger: utrig fire --category sms --value 100 --to <url>`,
      });
    }
  } else {
    const missing = (['category', 'value'] as const).filter((k) => str(raw, k) === undefined).map((k) => FLAG_NAMES[k]);
    if (str(raw, 'to') === undefined) missing.push('--to');
    if (missing.length > 0) {
      throw new UsageError(`missing ${missing.join(', ')}: give a trigger SID, or --category, --value and --to`, {
        hint: 'example: utrig fire --category sms --value 100 --to http://127.0.0.1:3000/',
      });
    }
    const c = parseCategory('--category', str(raw, 'category')!, raw.allowUnknownCategory === true);
    o.category = c.category;
    o.unknownCategory = !c.known;
    const value = parseTriggerValue('--value', str(raw, 'value')!);
    if (value.startsWith('+')) throw new UsageError(`--value "${value}" must be the value reached, such as 100, not a relative +N`);
    o.value = value;
    const rec = str(raw, 'recurring');
    if (rec !== undefined) o.recurring = parseRecurring('--recurring', rec);
    const by = str(raw, 'triggerBy');
    if (by !== undefined) o.triggerBy = parseTriggerBy('--trigger-by', by);
  }
  const to = str(raw, 'to');
  if (to !== undefined) o.to = parseCallbackUrl('--to', to);
  const method = str(raw, 'method');
  if (method !== undefined) o.method = parseCallbackMethod('--method', method);
  return o;
}

function madeUpTriggerSid(): string {
  return 'UT' + randomBytes(16).toString('hex');
}

/** A trigger built from the flags, as the API would show it once fired. */
export function triggerFromFlags(o: FireOptions, accountSid: string, sid = madeUpTriggerSid()): TriggerLike {
  const category = o.category ?? 'sms';
  return {
    sid,
    account_sid: accountSid,
    usage_category: category,
    trigger_by: o.triggerBy ?? 'usage',
    trigger_value: o.value ?? '0',
    current_value: o.value ?? '0',
    recurring: o.recurring ?? null,
    usage_record_uri: `/2010-04-01/Accounts/${accountSid}/Usage/Records.json?Category=${encodeURIComponent(category)}`,
    callback_url: o.to ?? '',
    callback_method: o.method ?? 'POST',
  };
}

/** Sends one signed callback for the trigger (fetched or made up); never throws for the receiver's answer. */
export async function run(deps: Deps, o: FireOptions, onAttempt?: (a: DeliveryAttempt, willRetry: boolean) => void): Promise<FireResult> {
  // undici (through the sender) and the credentials load only when a callback is sent
  const { buildCallbackParams, deliverCallback } = await import('../api/callback.js');
  const { resolveSigningCredentials } = await import('./signing.js');
  const signing = await resolveSigningCredentials(deps, 'fire');
  let trigger: TriggerLike;
  if (o.sid !== undefined) {
    const client = await deps.client();
    const t = await client.fetchTrigger(o.sid);
    // a callback reports the value reached: at least the threshold, even when fired ahead of time
    const current = t.current_value !== null && Number(t.current_value) >= Number(t.trigger_value) ? t.current_value : t.trigger_value;
    trigger = { ...t, current_value: current };
    if (o.to !== undefined) trigger.callback_url = o.to;
    if (o.method !== undefined) trigger.callback_method = o.method;
    if (!trigger.callback_url) throw new UsageError(`trigger ${o.sid} has no callback URL: give one with --to`);
  } else {
    trigger = triggerFromFlags(o, signing.accountSid);
  }
  const method: 'GET' | 'POST' = trigger.callback_method.toUpperCase() === 'GET' ? 'GET' : 'POST';
  const params = buildCallbackParams(trigger, new Date());
  const retries = o.retry ? 3 : 0;
  let last: DeliveryAttempt = { attempt: 0, status: null, error: null, ms: 0 };
  const res = await deliverCallback({
    url: trigger.callback_url,
    method,
    params,
    authToken: signing.authToken,
    retries,
    retryDelayMs: 500,
    timeoutMs: deps.globals.timeout * 1000,
    userAgent: `TwilioProxy/1.1 (utrig/${deps.version} fire)`,
    onAttempt: (a) => {
      last = a;
      onAttempt?.(a, (a.status === null || a.status >= 500) && a.attempt <= retries);
    },
  });
  return { status: res.status, attempts: res.attempts, ms: last.ms, url: trigger.callback_url, method, params, error: last.error };
}

/** The error for a non-2xx final answer or an unreachable URL, or undefined on success. */
export function fireFailure(r: FireResult): ApiError | NetworkError | undefined {
  const tries = r.attempts === 1 ? '' : ` after ${r.attempts} attempts`;
  if (r.status === null) {
    return new NetworkError(`could not reach ${r.url}${tries}: ${r.error ?? 'no answer'}`, {
      hint: 'is the receiver running? `utrig listen` in another terminal receives callbacks on http://127.0.0.1:3000/',
    });
  }
  if (r.status < 200 || r.status > 299) {
    const retry = r.status >= 500 && r.attempts === 1 ? ' (Twilio would retry: add --retry to do the same)' : '';
    const hint = r.status === 403 ? 'a 403 usually means the receiver rejected X-Twilio-Signature: does it check with the same auth token, and the URL given to --to?' : undefined;
    return new ApiError(`${r.url} answered ${r.status}${tries}${retry}`, { status: r.status, hint });
  }
  return undefined;
}

/** The human line of a TTY. */
export function describeFire(r: FireResult): string {
  const what = r.status === null ? `no answer (${r.error ?? 'unreachable'})` : `answered ${r.status}`;
  const tries = r.attempts === 1 ? '1 attempt' : `${r.attempts} attempts`;
  return escapeControls(`${r.method} ${r.url} ${what} in ${r.ms} ms (${tries}; trigger ${r.params.UsageTriggerSid ?? '?'})`) + '\n';
}

/** Declares `utrig fire`. */
export function declareFire(program: Command, ctx: CommandContext): void {
  program
    .command('fire')
    .summary('send one signed usage-trigger callback to a URL')
    .description(
      'Send one realistic, signed usage-trigger callback: for a trigger fetched from the API (to its callback URL unless ' +
        '--to is given, with its callback method), or for a trigger made up from the flags. Exits 0 on a 2xx answer.',
    )
    .usage('<UT…> [--to <url>] [options]\n       utrig fire --category <category> --value <n> --to <url> [options]')
    .argument('[sid]', 'trigger SID (UT…) to fire')
    .option('--to <url>', "where to send the callback (default with a SID: the trigger's callback URL)")
    .option('--category <category>', 'usage category of a made-up trigger')
    .option('--value <n>', 'value reached (TriggerValue and CurrentValue) of a made-up trigger')
    .addOption(new Option('--recurring <period>', 'period of a made-up trigger {daily|monthly|yearly|alltime} (default: once)'))
    .addOption(new Option('--trigger-by <field>', 'field a made-up trigger watches {count|usage|price} (default: usage)'))
    .addOption(new Option('--method <method>', 'HTTP method {GET|POST} (default: the trigger\'s callback method, or POST)'))
    .option('--retry', 'retry three times after a 5xx or no answer, as Twilio does')
    .option('--allow-unknown-category', 'send a category newer than utrig knows')
    .addHelpText(
      'after',
      examples(
        'utrig fire UT33c6aeeba34e48f38d6899ea5b765ad4 --to http://127.0.0.1:3000/',
        'utrig fire --category sms --value 100 --recurring monthly --to http://127.0.0.1:3000/ --retry',
        'utrig fire --category totalprice --trigger-by price --value 50 --method GET --to https://example.com/hook --json',
      ),
    )
    .action(
      ctx.withDeps(async (deps, raw, args) => {
        const o = parseFireOptions(raw, args);
        if (o.unknownCategory) deps.messages.warn(`"${o.category}" is not a category utrig knows; sending it as given`);
        const res = await run(deps, o, (a, willRetry) => {
          if (willRetry) deps.messages.note(`attempt ${a.attempt}: ${a.status ?? a.error ?? 'no answer'} in ${a.ms} ms; retrying`);
        });
        if (deps.io.stdoutIsTTY && deps.globals.output === undefined && !deps.globals.json) deps.io.stdout.write(describeFire(res));
        else deps.io.stdout.write(JSON.stringify(res) + '\n');
        const failure = fireFailure(res);
        if (failure) throw failure;
      }),
    );
}
