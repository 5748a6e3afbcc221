import type { Command } from 'commander';
import type { CommandContext } from '../deps.js';
import { examples } from '../output/help.js';
import { logoutTarget, remove } from './profiles.js';

/** Declares `utrig logout`: removes the profile chosen by --profile, UTRIG_PROFILE or the active one. */
export function declareLogout(program: Command, { withDeps }: CommandContext): void {
  program
    .command('logout')
    .summary('remove a stored profile and its secret')
    .addHelpText('after', examples('utrig logout', 'utrig logout --profile ci'))
    .action(
      withDeps(async (deps) => {
        const name = await logoutTarget(deps);
        await remove(deps, name);
        deps.messages.success(`Removed profile "${name}"`);
      }),
    );
}
