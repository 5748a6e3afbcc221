import type { Command } from 'commander';
import type { UsageTrigger } from '../api/types.js';
import type { CommandContext, Deps } from '../deps.js';
import { examples } from '../output/help.js';
import { showTrigger } from '../output/show-trigger.js';
import { parseTriggerSid } from './flags.js';

export interface GetOptions {
  sid: string;
}

/** Checks get's argument. */
export function parseGetOptions(args: string[]): GetOptions {
  return { sid: parseTriggerSid('trigger SID', args[0] ?? '') };
}

/** Fetches one trigger. */
export async function run(deps: Deps, o: GetOptions): Promise<UsageTrigger> {
  return (await deps.client()).fetchTrigger(o.sid);
}

/** Declares `utrig get`. */
export function declareGet(program: Command, { withDeps }: CommandContext): void {
  program
    .command('get')
    .summary('show one usage trigger')
    .description('Show one usage trigger; on a terminal, with progress toward its threshold.')
    .argument('<sid>', 'trigger SID (UT…)')
    .addHelpText('after', examples('utrig get UT33c6aeeba34e48f38d6899ea5b765ad4', 'utrig get UT33c6aeeba34e48f38d6899ea5b765ad4 --json | jq -r .current_value'))
    .action(
      withDeps(async (deps, _raw, args) => {
        const o = parseGetOptions(args);
        await showTrigger(deps, await run(deps, o), true);
      }),
    );
}
