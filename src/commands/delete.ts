import type { Command } from 'commander';
import type { CommandContext, Deps } from '../deps.js';
import { CancelledError, UsageError, UtrigError } from '../errors.js';
import { examples } from '../output/help.js';
import { parseTriggerSid } from './flags.js';

export interface DeleteOptions {
  sids: string[];
  yes: boolean;
}

/** Checks every SID before anything is sent. */
export function parseDeleteOptions(raw: Record<string, unknown>, args: string[]): DeleteOptions {
  return { sids: [...new Set(args.map((a) => parseTriggerSid('trigger SID', a)))], yes: raw.yes === true };
}

export interface DeleteResult {
  sid: string;
  error?: UtrigError;
}

/** Deletes each trigger in turn; a failure does not stop the rest. */
export async function run(deps: Deps, o: DeleteOptions): Promise<DeleteResult[]> {
  if (o.sids.length === 0) throw new UsageError('missing trigger SID: give one or more UT… SIDs');
  const client = await deps.client();
  const results: DeleteResult[] = [];
  for (const sid of o.sids) {
    try {
      await client.deleteTrigger(sid);
      results.push({ sid });
    } catch (err) {
      if (!(err instanceof UtrigError)) throw err;
      results.push({ sid, error: err });
    }
  }
  return results;
}

/** Declares `utrig delete` (alias `rm`); the picker and the confirmation load only when they ask. */
export function declareDelete(program: Command, { withDeps }: CommandContext): void {
  program
    .command('delete')
    .alias('rm')
    .summary('delete usage triggers')
    .description('Delete one or more usage triggers. Asks first on a terminal; elsewhere needs --yes.')
    .argument('[sids...]', 'trigger SIDs (UT…)')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      examples('utrig delete UT33c6aeeba34e48f38d6899ea5b765ad4', 'utrig list --category sms --json | jq -r ".[].sid" | xargs utrig delete --yes'),
    )
    .action(
      withDeps(async (deps, raw, args) => {
        let o = parseDeleteOptions(raw, args);
        if (o.sids.length === 0) {
          if (!deps.canPrompt) throw new UsageError('missing trigger SID: give one or more UT… SIDs');
          const { pickTriggersToDelete } = await import('./wizard.js');
          o = { ...o, sids: await pickTriggersToDelete(deps) };
          if (o.sids.length === 0) throw new CancelledError('nothing selected: nothing was deleted');
        }
        if (!o.yes) {
          if (!deps.canPrompt) {
            throw new UsageError('refusing to delete without confirmation: pass --yes (no terminal to ask)');
          }
          const { confirmDelete } = await import('./delete-confirm.js');
          if (!(await confirmDelete(deps, o.sids))) throw new CancelledError('not deleted');
        }
        const results = await run(deps, o);
        let last: UtrigError | undefined;
        for (const res of results) {
          if (res.error) {
            deps.messages.error(`${res.sid}: ${res.error.message}`);
            last = res.error;
          } else deps.messages.success(`Deleted usage trigger ${res.sid}`);
        }
        if (last) throw Object.assign(last, { reported: true });
      }),
    );
}
