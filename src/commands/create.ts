import { Option, type Command } from 'commander';
import { OutcomeUnknownError, type ApiClient } from '../api/client.js';
import type { UsageTrigger } from '../api/types.js';
import type { CommandContext, Deps } from '../deps.js';
import { NetworkError, UsageError } from '../errors.js';
import { addSelectionFlags, checkNoFleetOnlyFlags, parseSelectionOptions, wantsFleet, type SelectionOptions } from '../fleet/select.js';
import { examples } from '../output/help.js';
import { createOnce } from '../fleet/writes.js';
import { normRecurring, parseMicros } from '../rules.js';
import { showTrigger } from '../output/show-trigger.js';
import { createdThresholdWarning, interactiveNeedsTerminal, shellQuote, withTargetFlags } from './trigger-checks.js';
import {
  parseCallbackMethod,
  parseCallbackUrl,
  parseCategory,
  parseFriendlyName,
  parseRecurring,
  parseTriggerBy,
  parseTriggerValue,
  str,
  type RecurringValue,
  type TriggerByValue,
} from './flags.js';

export interface CreateOptions {
  category?: string;
  value?: string;
  callbackUrl?: string;
  callbackMethod?: 'GET' | 'POST';
  triggerBy?: TriggerByValue;
  recurring?: RecurringValue;
  friendlyName?: string;
  /** True when --allow-unknown-category let an unknown category through. */
  unknownCategory?: boolean;
  interactive: boolean;
}

/** The required flags of create, as the user types them. */
export const CREATE_REQUIRED = [
  ['category', '--category'],
  ['value', '--value'],
  ['callbackUrl', '--callback-url'],
] as const;

/** Reads and checks create's flags. Missing required flags are not an error here (the wizard may ask). */
export function parseCreateOptions(raw: Record<string, unknown>): CreateOptions {
  const o: CreateOptions = { interactive: raw.interactive === true };
  const category = str(raw, 'category');
  if (category !== undefined) {
    const c = parseCategory('--category', category, raw.allowUnknownCategory === true);
    o.category = c.category;
    if (!c.known) o.unknownCategory = true;
  }
  const value = str(raw, 'value');
  if (value !== undefined) o.value = parseTriggerValue('--value', value);
  const url = str(raw, 'callbackUrl');
  if (url !== undefined) o.callbackUrl = parseCallbackUrl('--callback-url', url);
  const method = str(raw, 'callbackMethod');
  if (method !== undefined) o.callbackMethod = parseCallbackMethod('--callback-method', method);
  const by = str(raw, 'triggerBy');
  if (by !== undefined) o.triggerBy = parseTriggerBy('--trigger-by', by);
  const rec = str(raw, 'recurring');
  if (rec !== undefined) o.recurring = parseRecurring('--recurring', rec);
  const name = str(raw, 'friendlyName');
  if (name !== undefined) o.friendlyName = parseFriendlyName('--friendly-name', name);
  return o;
}

/** The flags still missing, e.g. ["--value", "--callback-url"]. */
export function missingCreateFlags(o: CreateOptions): string[] {
  return CREATE_REQUIRED.filter(([k]) => o[k] === undefined).map(([, flag]) => flag);
}

/** The create request body with Twilio's parameter names, only for fields that were given. */
export function buildForm(o: CreateOptions): URLSearchParams {
  const f = new URLSearchParams();
  if (o.callbackUrl !== undefined) f.set('CallbackUrl', o.callbackUrl);
  if (o.value !== undefined) f.set('TriggerValue', o.value);
  if (o.category !== undefined) f.set('UsageCategory', o.category);
  if (o.callbackMethod !== undefined) f.set('CallbackMethod', o.callbackMethod);
  if (o.friendlyName !== undefined) f.set('FriendlyName', o.friendlyName);
  if (o.recurring !== undefined) f.set('Recurring', o.recurring);
  if (o.triggerBy !== undefined) f.set('TriggerBy', o.triggerBy);
  return f;
}

/** The one-line command that sends the same request (printed after the wizard). */
export function equivalentCommand(o: CreateOptions): string {
  const parts = ['utrig', 'create'];
  const add = (flag: string, v: string | undefined) => {
    if (v !== undefined) parts.push(flag, shellQuote(v));
  };
  add('--category', o.category);
  add('--value', o.value);
  add('--callback-url', o.callbackUrl);
  add('--callback-method', o.callbackMethod);
  add('--trigger-by', o.triggerBy);
  add('--recurring', o.recurring);
  add('--friendly-name', o.friendlyName);
  if (o.unknownCategory) parts.push('--allow-unknown-category');
  return parts.join(' ');
}

/** Sends the create request. */
export async function run(deps: Deps, o: CreateOptions): Promise<UsageTrigger> {
  const missing = missingCreateFlags(o);
  if (missing.length > 0) throw new UsageError(`missing required flag${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const client = await deps.client();
  try {
    return await client.createTrigger(buildForm(o));
  } catch (err) {
    // Sent, but no answer: saying "could not reach" would invite a second create and a duplicate trigger.
    if (err instanceof OutcomeUnknownError) {
      throw new NetworkError(`the trigger may have been created: ${err.reason}`, {
        cause: err,
        hint: `check with \`utrig list --category ${o.category}\` before creating it again`,
      });
    }
    throw err;
  }
}

/** How a fleet create ended in one account. */
export interface FleetCreateResult {
  status: 'created' | 'unchanged' | 'would-create';
  trigger?: UsageTrigger;
}

/**
 * True when an existing trigger is the one create would make: same category, trigger-by, recurring,
 * callback URL and method, and the same value once normalised (100 = 100.000000). An offset value (+N)
 * was turned into an absolute one when that trigger was made, so with +N the value is not compared:
 * a re-run never stacks a second offset alarm.
 */
export function isIdentical(t: UsageTrigger, o: CreateOptions): boolean {
  const r = t as unknown as Record<string, unknown>;
  if (r.usage_category !== o.category) return false;
  if ((r.trigger_by ?? 'usage') !== (o.triggerBy ?? 'usage')) return false;
  if (normRecurring(r.recurring) !== normRecurring(o.recurring)) return false;
  if (r.callback_url !== o.callbackUrl) return false;
  if ((r.callback_method ?? 'POST') !== (o.callbackMethod ?? 'POST')) return false;
  if (o.value === undefined || o.value.startsWith('+')) return true;
  const want = parseMicros(o.value);
  return typeof r.trigger_value === 'string' && want !== null && parseMicros(r.trigger_value) === want;
}

/** The first trigger of the account identical to the one asked for, if any (reads the category's triggers). */
async function findIdentical(client: ApiClient, o: CreateOptions): Promise<UsageTrigger | undefined> {
  const q = new URLSearchParams({ UsageCategory: o.category ?? '', PageSize: '1000' });
  for await (const page of client.listTriggerPages(q)) {
    const hit = (page.usage_triggers ?? []).find((t) => isIdentical(t, o));
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Ensures the trigger exists in one account: an identical one is left alone ("unchanged"), otherwise it
 * is created once. A create with no certain answer (dropped connection, 5xx) is read back before it is
 * sent again, so it is never doubled. With allowDuplicate nothing is read: it is sent, never resent unless
 * it certainly did not arrive.
 */
export async function ensureTrigger(
  client: ApiClient,
  o: CreateOptions,
  opts: { allowDuplicate: boolean; dryRun: boolean; signal: AbortSignal; interrupted: () => Error },
): Promise<FleetCreateResult> {
  if (!opts.allowDuplicate) {
    const found = await findIdentical(client, o);
    if (found) return { status: 'unchanged', trigger: found };
  }
  if (opts.dryRun) return { status: 'would-create' };
  const trigger = await createOnce(client, buildForm(o), {
    findLanded: () => findIdentical(client, o),
    resend: !opts.allowDuplicate,
    signal: opts.signal,
    interrupted: opts.interrupted,
    mayHaveBeenCreated: (reason) => `the trigger may have been created: ${reason}`,
  });
  return { status: 'created', trigger };
}

/** Declares `utrig create` (cheap: the wizard loads only when it asks). */
export function declareCreate(program: Command, ctx: CommandContext): void {
  const { withDeps } = ctx;
  const cmd = program
    .command('create')
    .summary('create a usage trigger')
    .description('Create a usage trigger: Twilio calls --callback-url when usage of --category reaches --value.')
    .usage('--category <category> --value <n|+n> --callback-url <url> [options]')
    .option('--category <category>', 'usage category to watch (see `utrig categories`)')
    .option('--value <n|+n>', 'threshold; +N means N more than the current value')
    .option('--callback-url <url>', 'http(s) URL Twilio calls when the trigger fires')
    .addOption(new Option('--callback-method <method>', 'HTTP method of the callback {GET|POST} (default: POST)'))
    .addOption(new Option('--trigger-by <field>', 'usage record field to watch {count|usage|price} (default: usage)'))
    .addOption(new Option('--recurring <period>', 'fire at most once per {daily|monthly|yearly|alltime} period (default: once ever; alltime never resets either)'))
    .option('--friendly-name <name>', 'description, up to 64 characters')
    .option('--allow-unknown-category', 'send a category newer than utrig knows (warns)')
    .option('-i, --interactive', 'ask for every value, starting from the flags given')
    .option('--allow-duplicate', 'with the fleet flags: create even where an identical trigger exists')
    .option('--dry-run', 'with the fleet flags: say what would be created; send nothing but reads');
  addSelectionFlags(cmd)
    .addHelpText(
      'after',
      examples(
        'utrig create --category sms --value +30 --callback-url https://example.com/usage',
        'utrig create --category totalprice --trigger-by price --value 100 --recurring monthly \\\n      --callback-url https://example.com/spend --friendly-name "monthly spend alarm"',
        'utrig create --all-subaccounts --category totalprice --trigger-by price --value 500 \\\n      --recurring monthly --callback-url https://example.com/spend',
      ),
    )
    .action(
      withDeps(async (deps, raw) => {
        if (wantsFleet(raw)) return runFleetCreate(deps, ctx, raw);
        checkNoFleetOnlyFlags(raw);
        if (raw.allowDuplicate === true) throw new UsageError('--allow-duplicate works with the fleet flags only (a single create never checks)');
        if (raw.dryRun === true) throw new UsageError('--dry-run works with the fleet flags only');
        let o = parseCreateOptions(raw);
        const missing = missingCreateFlags(o);
        let asked = false;
        if (o.interactive || missing.length > 0) {
          if (!deps.canPrompt) {
            if (o.interactive) throw interactiveNeedsTerminal(deps);
            if (missing.length > 0) {
              throw new UsageError(
                `missing required flag${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (no prompt: ${deps.globals.input ? 'not a terminal' : '--no-input'})`,
                { hint: 'example: utrig create --category sms --value +30 --callback-url https://example.com/hook' },
              );
            }
          } else {
            const { runCreateWizard } = await import('./wizard.js');
            o = await runCreateWizard(deps, o);
            deps.io.stderr.write(`equivalent command: ${withTargetFlags(equivalentCommand(o), deps)}\n`);
            asked = true;
          }
        }
        if (o.unknownCategory) deps.messages.warn(`"${o.category}" is not a category utrig knows; sending it as given`);
        const t = await run(deps, o);
        deps.messages.success(`Created usage trigger ${t.sid} (${t.usage_category} ${t.trigger_by} reaches ${t.trigger_value})`);
        const fires = asked ? undefined : createdThresholdWarning(t); // the wizard warned before asking
        if (fires) deps.messages.warn(fires);
        await showTrigger(deps, t);
      }),
    );
}

/** `create --all-subaccounts …`: ensures the trigger in every selected account; one row per account on stdout. */
async function runFleetCreate(deps: Deps, ctx: CommandContext, raw: Record<string, unknown>): Promise<void> {
  const o = parseCreateOptions(raw);
  if (o.interactive) throw new UsageError('--interactive does not work with the fleet flags: give every value as a flag');
  const missing = missingCreateFlags(o);
  if (missing.length > 0) throw new UsageError(`missing required flag${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const sel: SelectionOptions = await parseSelectionOptions(raw, deps.io.stdin);
  if (o.unknownCategory) deps.messages.warn(`"${o.category}" is not a category utrig knows; sending it as given`);
  const { startFleet, finishFleet, eachAccount, Tally, renderOutcomes } = await import('../fleet/run.js');
  const { Interrupted } = await import('../fleet/engine.js');
  const fleet = await startFleet(deps, ctx, sel);
  const tally = new Tally();
  const opts = { allowDuplicate: raw.allowDuplicate === true, dryRun: raw.dryRun === true, signal: fleet.signal, interrupted: () => new Interrupted() };
  const events = eachAccount<FleetCreateResult, never>(fleet, (t) => ensureTrigger(t.client, o, opts));
  await renderOutcomes(deps, events, tally, (v) => ({ status: v.status, trigger_sid: v.trigger?.sid ?? null, trigger: v.trigger ?? null }));
  finishFleet(deps, fleet, opts.dryRun ? 'create (dry run)' : 'create', tally);
}
