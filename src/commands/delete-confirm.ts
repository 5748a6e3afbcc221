import type { Deps } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { escapeControls } from '../output/escape.js';

/** How many triggers a delete confirmation names before "and N more". */
export const CONFIRM_SHOWN = 5;

/** One line naming a trigger: SID, category, value and name, as a person checks them before deleting. */
function describe(t: { sid: string; usage_category: string; trigger_by: string; trigger_value: string; friendly_name: string | null }): string {
  const name = t.friendly_name ? `  "${escapeControls(t.friendly_name)}"` : '';
  return `${t.sid}  ${escapeControls(t.usage_category)} ${escapeControls(t.trigger_by)} ≥ ${escapeControls(t.trigger_value)}${name}`;
}

/**
 * Asks before deleting, naming what would go: the first few triggers (read from the API; one that
 * no longer exists is shown as not found), then "and N more". Resolves to the answer; Ctrl-C rejects.
 */
export async function confirmDelete(deps: Deps, sids: string[]): Promise<boolean> {
  const client = await deps.client();
  const lines: string[] = [];
  for (const sid of sids.slice(0, CONFIRM_SHOWN)) {
    try {
      lines.push(describe(await client.fetchTrigger(sid)));
    } catch (err) {
      // a trigger already gone is worth showing; anything else (credentials, network) stops here
      if (!(err instanceof NotFoundError)) throw err;
      lines.push(`${sid}  (not found)`);
    }
  }
  if (sids.length > CONFIRM_SHOWN) lines.push(`and ${sids.length - CONFIRM_SHOWN} more`);
  deps.io.stderr.write(`${lines.map((l) => `  ${l}`).join('\n')}\n`);
  const { ask, loadPrompts, promptContext } = await import('../prompt.js');
  const { confirm } = await loadPrompts();
  const what = sids.length === 1 ? 'this usage trigger' : `these ${sids.length} usage triggers`;
  return ask(confirm({ message: `Delete ${what}?`, default: false }, promptContext(deps.io)));
}
