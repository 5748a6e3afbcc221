import { Option, type Command } from 'commander';
import { OutcomeUnknownError } from '../api/client.js';
import type { UsageTrigger } from '../api/types.js';
import type { CommandContext, Deps } from '../deps.js';
import { NetworkError, UsageError } from '../errors.js';
import { examples } from '../output/help.js';
import { showTrigger } from '../output/show-trigger.js';
import { createdThresholdWarning, interactiveNeedsTerminal, withTargetFlags } from './trigger-checks.js';
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

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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

/** Declares `utrig create` (cheap: the wizard loads only when it asks). */
export function declareCreate(program: Command, { withDeps }: CommandContext): void {
  program
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
    .addHelpText(
      'after',
      examples(
        'utrig create --category sms --value +30 --callback-url https://example.com/usage',
        'utrig create --category totalprice --trigger-by price --value 100 --recurring monthly \\\n      --callback-url https://example.com/spend --friendly-name "monthly spend alarm"',
      ),
    )
    .action(
      withDeps(async (deps, raw) => {
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
