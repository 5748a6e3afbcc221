import type { Command } from 'commander';
import type { CommandContext } from '../deps.js';
import { examples } from '../output/help.js';
import { logoutTarget, remove } from './profiles.js';

/** Declares `utrig logout`: removes the profile chosen by --profile, UTRIG_PROFILE or the active one. */
export function declareLogout(program: Command, { withDeps }: CommandContext): void {
  program
    .command('logout')
    .summary('remove a stored profile and its secret')
    .description(
      'Remove a stored profile and its secret from the config directory: the one named by --profile, else UTRIG_PROFILE, else the active one.\nNothing is sent to Twilio; the credentials stay valid there (rotate the token in the console to revoke them).',
    )
    .addHelpText('after', examples('utrig logout', 'utrig logout --profile ci'))
    .action(
      withDeps(async (deps) => {
        const name = await logoutTarget(deps);
        await remove(deps, name);
        deps.messages.success(`Removed profile "${name}"`);
      }),
    );
}
