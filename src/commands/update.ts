import { Option, type Command } from 'commander';
import type { UsageTrigger } from '../api/types.js';
import type { CommandContext, Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { examples } from '../output/help.js';
import { showTrigger } from '../output/show-trigger.js';
import { parseCallbackMethod, parseCallbackUrl, parseFriendlyName, parseTriggerSid, str } from './flags.js';

export interface UpdateOptions {
  sid: string;
  callbackUrl?: string;
  callbackMethod?: 'GET' | 'POST';
  friendlyName?: string;
}

const FORBIDDEN: [string, string][] = [
  ['category', '--category'],
  ['value', '--value'],
  ['triggerBy', '--trigger-by'],
  ['recurring', '--recurring'],
];

/** Reads and checks update's argument and flags. */
export function parseUpdateOptions(raw: Record<string, unknown>, args: string[]): UpdateOptions {
  const sid = parseTriggerSid('trigger SID', args[0] ?? '');
  const forbidden = FORBIDDEN.filter(([k]) => raw[k] !== undefined).map(([, f]) => f);
  if (forbidden.length > 0) {
    throw new UsageError(
      `${forbidden.join(' and ')} cannot be changed: Twilio does not allow updating a trigger's category, value, trigger-by or recurrence`,
      {
        hint: `create a new trigger and delete the old one instead:\n  utrig get ${sid}            # note its settings\n  utrig create --category … --value … --callback-url …\n  utrig delete ${sid} --yes`,
      },
    );
  }
  const o: UpdateOptions = { sid };
  const url = str(raw, 'callbackUrl');
  if (url !== undefined) o.callbackUrl = parseCallbackUrl('--callback-url', url);
  const method = str(raw, 'callbackMethod');
  if (method !== undefined) o.callbackMethod = parseCallbackMethod('--callback-method', method);
  const name = str(raw, 'friendlyName');
  if (name !== undefined) o.friendlyName = parseFriendlyName('--friendly-name', name);
  return o;
}

/** True when at least one updatable field was given. */
export function hasChanges(o: UpdateOptions): boolean {
  return o.callbackUrl !== undefined || o.callbackMethod !== undefined || o.friendlyName !== undefined;
}

/** The update request body. */
export function buildForm(o: UpdateOptions): URLSearchParams {
  const f = new URLSearchParams();
  if (o.callbackUrl !== undefined) f.set('CallbackUrl', o.callbackUrl);
  if (o.callbackMethod !== undefined) f.set('CallbackMethod', o.callbackMethod);
  if (o.friendlyName !== undefined) f.set('FriendlyName', o.friendlyName);
  return f;
}

/** Sends the update. */
export async function run(deps: Deps, o: UpdateOptions): Promise<UsageTrigger> {
  if (!hasChanges(o)) {
    throw new UsageError('nothing to update: give at least one of --callback-url, --callback-method, --friendly-name');
  }
  return (await deps.client()).updateTrigger(o.sid, buildForm(o));
}

/** Declares `utrig update` (the wizard loads only when it asks). */
export function declareUpdate(program: Command, { withDeps }: CommandContext): void {
  program
    .command('update')
    .summary("change a trigger's callback or name")
    .description("Change a trigger's callback URL, callback method or friendly name (Twilio allows no other changes).")
    .argument('<sid>', 'trigger SID (UT…)')
    .option('--callback-url <url>', 'new callback URL')
    .addOption(new Option('--callback-method <method>', 'new callback method {GET|POST}'))
    .option('--friendly-name <name>', 'new description, up to 64 characters')
    .addOption(new Option('--category <category>').hideHelp())
    .addOption(new Option('--value <n>').hideHelp())
    .addOption(new Option('--trigger-by <field>').hideHelp())
    .addOption(new Option('--recurring <period>').hideHelp())
    .addHelpText(
      'after',
      examples(
        'utrig update UT33c6aeeba34e48f38d6899ea5b765ad4 --callback-url https://example.com/v2/usage',
        'utrig update UT33c6aeeba34e48f38d6899ea5b765ad4 --callback-method GET --friendly-name "sms quota"',
      ),
    )
    .action(
      withDeps(async (deps, raw, args) => {
        let o = parseUpdateOptions(raw, args);
        if (!hasChanges(o) && deps.canPrompt) {
          const { runUpdateWizard } = await import('./wizard.js');
          o = await runUpdateWizard(deps, o);
        }
        const t = await run(deps, o);
        deps.messages.success(`Updated usage trigger ${t.sid}`);
        await showTrigger(deps, t);
      }),
    );
}
