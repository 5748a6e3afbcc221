// Over 300 lines: the create, update and delete wizards, with the plumbing they share: Escape/Ctrl-C
// handling, validators built from the flag parsers, the summary style, and escaping of API values shown as
// defaults or labels. The category search and the target/threshold checks live beside it. It loads only
// when a person is asked.
import { emitKeypressEvents } from 'node:readline';
import type { UsageTrigger } from '../api/types.js';
import type { Deps } from '../deps.js';
import { CancelledError, UsageError } from '../errors.js';
import { escapeControls } from '../output/escape.js';
import { stderrChalk } from '../output/messages.js';
import { cellText } from '../output/render.js';
import { TRIGGER_SID_RE } from '../rules.js';
import { ask, loadPrompts, promptContext, type Prompts } from '../prompt.js';
import { categoryChoices, cutTo, searchCategories } from './category-search.js';
import type { CreateOptions } from './create.js';
import {
  FRIENDLY_NAME_MAX,
  parseCallbackMethod,
  parseCallbackUrl,
  parseFriendlyName,
  parseTriggerValue,
  RECURRING,
  TRIGGER_BY,
} from './flags.js';
import { checkTargetReady, lookupThresholdWarning } from './trigger-checks.js';
import type { UpdateOptions } from './update.js';

type Ctx = ReturnType<typeof promptContext> & { signal: AbortSignal };

/** How long the wizard waits for the category's current usage before asking without it. */
const USAGE_LOOKUP_MS = 2000;
const NAME_COLUMN_MAX = 44;

/**
 * Runs one prompt so that Ctrl-C (inquirer's ExitPromptError) and Escape (our abort) both become a CancelledError.
 * Escape is read from the same keypress stream inquirer listens to; inquirer itself ignores it.
 */
async function prompt<T>(deps: Deps, make: (ctx: Ctx) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const stdin = deps.io.stdin;
  emitKeypressEvents(stdin);
  const onKey = (_s: unknown, key: { name?: string } | undefined) => {
    if (key?.name === 'escape') ac.abort();
  };
  stdin.on('keypress', onKey);
  try {
    return await ask(make({ ...promptContext(deps.io), signal: ac.signal }));
  } finally {
    stdin.off('keypress', onKey);
  }
}

/** A validator for inquirer built from one of our flag parsers: true, or the UsageError's text. */
function validator(check: (v: string) => unknown): (v: string) => true | string {
  return (v) => {
    try {
      check(v);
      return true;
    } catch (err) {
      return err instanceof UsageError ? err.message : String(err);
    }
  };
}

/** The current count/usage/price of a category, or undefined when the API cannot tell quickly. */
async function currentUsage(deps: Deps, category: string): Promise<Record<string, unknown> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), USAGE_LOOKUP_MS);
  });
  const lookup = (async () => (await deps.client()).fetchUsageRecord(category))().catch(() => undefined);
  try {
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function recordValue(rec: Record<string, unknown> | undefined, by: string): string | undefined {
  const v = rec?.[by];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** Recurring as the summaries show it; alltime is Twilio's name for a trigger that never resets, like once. */
export function recurringText(r: string | undefined): string {
  if (r === undefined || r === '') return 'once';
  return r === 'alltime' ? 'alltime (never resets, as once)' : r;
}

/** Asks for what create is missing, starting from the flags given; with --interactive asks for every field. */
export async function runCreateWizard(deps: Deps, given: CreateOptions): Promise<CreateOptions> {
  // no question is worth asking when the answers cannot be sent: fail now, saying how to log in
  await checkTargetReady(deps);
  const p: Prompts = await loadPrompts();
  const all = given.interactive;
  const o: CreateOptions = { ...given };
  const c = stderrChalk(deps.io);

  if (all || o.category === undefined) {
    const chosen: string = await prompt(deps, (ctx) =>
      p.search<string>(
        {
          message: 'Usage category (type to filter, e.g. "sms out")',
          pageSize: 12,
          source: (term) => {
            return categoryChoices(searchCategories(term, o.category), deps.io.columns);
          },
        },
        ctx,
      ),
    );
    if (chosen !== o.category) delete o.unknownCategory;
    o.category = chosen;
  }
  const category = o.category;
  // Start the lookup now so it overlaps the trigger-by question.
  const usage = o.value === undefined || all ? currentUsage(deps, category) : Promise.resolve(undefined);

  if (all || o.triggerBy === undefined) {
    const by = await prompt(deps, (ctx) =>
      p.select<(typeof TRIGGER_BY)[number]>(
        {
          message: 'Trigger by',
          default: o.triggerBy ?? 'usage',
          choices: [
            { value: 'usage', name: 'usage', description: 'the amount used (minutes, messages, …)' },
            { value: 'count', name: 'count', description: 'the number of items' },
            { value: 'price', name: 'price', description: 'the price, in the account currency' },
          ],
        },
        ctx,
      ),
    );
    o.triggerBy = by === 'usage' && given.triggerBy === undefined ? undefined : by;
  }
  const by = o.triggerBy ?? 'usage';

  if (all || o.value === undefined) {
    const now = recordValue(await usage, by);
    // the value comes from the API: shown with its control characters made visible
    const nowText = now === undefined ? '' : `; ${escapeControls(category)} ${by} is now ${escapeControls(now)}`;
    const v = await prompt(deps, (ctx) =>
      p.input(
        {
          message: `Trigger value (a number, or +N for N more than now${nowText})`,
          ...(o.value !== undefined ? { default: o.value } : {}),
          validate: validator((s) => parseTriggerValue('value', s)),
        },
        ctx,
      ),
    );
    o.value = parseTriggerValue('value', v);
  }

  if (all || o.recurring === undefined) {
    const choices: { value: string; name: string }[] = [
      { value: 'once', name: 'once (never resets)' },
      { value: 'daily', name: 'daily' },
      { value: 'monthly', name: 'monthly' },
      { value: 'yearly', name: 'yearly' },
    ];
    if (o.recurring === 'alltime') choices.push({ value: 'alltime', name: recurringText('alltime') });
    const rec = await prompt(deps, (ctx) => p.select<string>({ message: 'Recurring', default: o.recurring ?? 'once', choices }, ctx));
    if (rec === 'once') delete o.recurring;
    else o.recurring = rec as (typeof RECURRING)[number];
  }

  if (all || o.callbackUrl === undefined) {
    const url = await prompt(deps, (ctx) =>
      p.input(
        {
          message: 'Callback URL (http or https)',
          ...(o.callbackUrl !== undefined ? { default: o.callbackUrl } : {}),
          validate: validator((s) => parseCallbackUrl('callback URL', s.trim())),
        },
        ctx,
      ),
    );
    o.callbackUrl = parseCallbackUrl('callback URL', url.trim());
  }

  if (all || o.callbackMethod === undefined) {
    const m = await prompt(deps, (ctx) =>
      p.select<'GET' | 'POST'>(
        {
          message: 'Callback method',
          default: o.callbackMethod ?? 'POST',
          choices: [
            { value: 'POST', name: 'POST' },
            { value: 'GET', name: 'GET' },
          ],
        },
        ctx,
      ),
    );
    o.callbackMethod = m === 'POST' && given.callbackMethod === undefined ? undefined : parseCallbackMethod('callback method', m);
  }

  if (all || o.friendlyName === undefined) {
    const name = await prompt(deps, (ctx) =>
      p.input(
        {
          message: `Friendly name (optional, up to ${FRIENDLY_NAME_MAX} characters)`,
          ...(o.friendlyName !== undefined ? { default: o.friendlyName } : {}),
          validate: validator((s) => parseFriendlyName('friendly name', s)),
        },
        ctx,
      ),
    );
    if (name === '') delete o.friendlyName;
    else o.friendlyName = name;
  }

  const rows: [string, string | undefined][] = [
    ['category', category],
    ['trigger by', by],
    ['value', o.value],
    ['recurring', recurringText(o.recurring)],
    ['callback', `${o.callbackMethod ?? 'POST'} ${o.callbackUrl}`],
    ['name', o.friendlyName],
  ];
  deps.io.stderr.write(`\n${rows.map(([k, v]) => `  ${c.dim(k.padEnd(11))}${v === undefined ? c.dim('(none)') : escapeControls(v)}`).join('\n')}\n\n`);
  const fires = await lookupThresholdWarning(deps, { category, value: o.value, triggerBy: by, recurring: o.recurring });
  if (fires) deps.messages.warn(fires);
  const yes = await prompt(deps, (ctx) =>
    p.confirm({ message: fires ? 'Create it anyway?' : 'Create this usage trigger?', default: fires === undefined }, ctx),
  );
  if (!yes) throw new CancelledError('not created: nothing was sent');
  return { ...o, interactive: given.interactive };
}

/**
 * A current value from the API offered as a prompt's default: `shown` escaped; `or` accepts the shown
 * text unchanged before the real check; `back` turns the shown text into the stored value again.
 */
function kept(current: string): { shown: string; or: (check: (v: string) => true | string) => (v: string) => true | string; back: (v: string) => string } {
  const shown = escapeControls(current);
  return {
    shown,
    or: (check) => (v) => (v === shown ? true : check(v)),
    back: (v) => (v === shown ? current : v),
  };
}

/** Offers the updatable fields of a trigger with their current values; returns only the changed ones. */
export async function runUpdateWizard(deps: Deps, given: UpdateOptions): Promise<UpdateOptions> {
  const p = await loadPrompts();
  const t: UsageTrigger = await (await deps.client()).fetchTrigger(given.sid);
  const o: UpdateOptions = { sid: given.sid };
  // The current values come from the API and are shown as defaults: escaped, and mapped back to the
  // stored value when accepted unchanged (so keeping a value never rewrites it in its escaped form).
  const currentUrl = kept(t.callback_url);
  const url = currentUrl.back(
    await prompt(deps, (ctx) =>
      p.input(
        {
          message: 'Callback URL',
          default: given.callbackUrl ?? currentUrl.shown,
          validate: currentUrl.or(validator((s) => parseCallbackUrl('callback URL', s.trim()))),
        },
        ctx,
      ),
    ),
  );
  if (url.trim() !== t.callback_url) o.callbackUrl = url.trim();
  const current = (t.callback_method || 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST';
  const method = await prompt(deps, (ctx) =>
    p.select<'GET' | 'POST'>(
      {
        message: 'Callback method',
        default: given.callbackMethod ?? current,
        choices: [
          { value: 'POST', name: 'POST' },
          { value: 'GET', name: 'GET' },
        ],
      },
      ctx,
    ),
  );
  if (method !== current) o.callbackMethod = method;
  const currentName = kept(t.friendly_name ?? '');
  const name = currentName.back(
    await prompt(deps, (ctx) =>
      p.input(
        {
          message: `Friendly name (up to ${FRIENDLY_NAME_MAX} characters)`,
          default: given.friendlyName ?? currentName.shown,
          validate: currentName.or(validator((s) => parseFriendlyName('friendly name', s))),
        },
        ctx,
      ),
    ),
  );
  if (name !== (t.friendly_name ?? '')) o.friendlyName = name;
  if (o.callbackUrl === undefined && o.callbackMethod === undefined && o.friendlyName === undefined) {
    throw new UsageError('nothing to update: every field kept its current value');
  }
  const c = stderrChalk(deps.io);
  const rows: [string, string, string | undefined][] = [
    ['callback', t.callback_url, o.callbackUrl],
    ['method', current, o.callbackMethod],
    ['name', t.friendly_name ?? '', o.friendlyName],
  ];
  const shown = (v: string) => (v === '' ? c.dim('(none)') : escapeControls(v));
  const lines = rows.filter(([, , to]) => to !== undefined).map(([k, from, to]) => `  ${c.dim(k.padEnd(9))}${shown(from)} → ${shown(to!)}`);
  deps.io.stderr.write(`\n  ${t.sid} (${escapeControls(t.usage_category)})\n${lines.join('\n')}\n\n`);
  const yes = await prompt(deps, (ctx) => p.confirm({ message: 'Update this usage trigger?', default: true }, ctx));
  if (!yes) throw new CancelledError('not updated: nothing was sent');
  return o;
}

/** Lets the user pick triggers to delete from the list; returns their SIDs. */
export async function pickTriggersToDelete(deps: Deps): Promise<string[]> {
  const p = await loadPrompts();
  const client = await deps.client();
  const triggers: UsageTrigger[] = [];
  for await (const page of client.listTriggerPages(new URLSearchParams({ PageSize: '1000' }))) triggers.push(...page.usage_triggers);
  if (triggers.length === 0) throw new UsageError('there are no usage triggers to delete');
  // Only a well-formed SID can be offered: it becomes a request path and the confirmation's text.
  const offered = triggers.filter((t) => typeof t.sid === 'string' && TRIGGER_SID_RE.test(t.sid));
  if (offered.length < triggers.length) {
    deps.messages.warn(`${triggers.length - offered.length} listed trigger(s) with a malformed SID left out of the picker`);
  }
  if (offered.length === 0) throw new UsageError('there are no usage triggers with a valid SID to delete');
  // Every label's text comes from the API: escaped (cellText), the category column measured in a loop.
  const rows = offered.map((t) => ({ sid: t.sid, category: cellText(t.usage_category), value: cellText(t.trigger_value), name: cellText(t.friendly_name) }));
  let width = 0;
  for (const r of rows) width = Math.max(width, r.category.length);
  width = Math.min(NAME_COLUMN_MAX, width);
  return prompt(deps, (ctx) =>
    p.checkbox<string>(
      {
        message: 'Usage triggers to delete (space selects, enter accepts)',
        pageSize: 15,
        choices: rows.map((r) => ({
          value: r.sid,
          name: `${r.sid}  ${cutTo(r.category, width).padEnd(width)}  ${r.value.padStart(8)}  ${r.name}`.trimEnd(),
          short: r.sid,
        })),
      },
      ctx,
    ),
  );
}
