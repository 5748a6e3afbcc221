import type { Command } from 'commander';
import type { CommandContext, Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import { chooseFormat, parseFields } from '../output/format.js';
import { examples } from '../output/help.js';
import { renderList } from '../output/render.js';

/** A profile as shown to people and scripts: never its secret. */
export interface ProfileView {
  name: string;
  account_sid: string;
  auth: 'auth token' | 'api key';
  api_key: string | null;
  active: boolean;
}

/** Every stored profile, secrets left out. */
export async function list(deps: Deps): Promise<ProfileView[]> {
  const store = await deps.config();
  const active = store.activeProfile();
  return Object.entries(store.profiles()).map(([name, p]) => ({
    name,
    account_sid: p.accountSid,
    auth: p.apiKey ? 'api key' : 'auth token',
    api_key: p.apiKey ?? null,
    active: name === active,
  }));
}

/** Makes a profile the active one. */
export async function use(deps: Deps, name: string): Promise<void> {
  const store = await deps.config();
  if (!store.getProfile(name)) throw unknownProfile(name, Object.keys(store.profiles()));
  store.useProfile(name);
}

/** Removes a profile and its secret. */
export async function remove(deps: Deps, name: string): Promise<void> {
  const store = await deps.config();
  if (!store.removeProfile(name)) throw unknownProfile(name, Object.keys(store.profiles()));
}

/** The profile logout removes: --profile, UTRIG_PROFILE, or the active one. */
export async function logoutTarget(deps: Deps): Promise<string> {
  const store = await deps.config();
  const name = deps.globals.profile ?? deps.env.UTRIG_PROFILE ?? store.activeProfile();
  if (!name) throw new UsageError('not logged in: no profile is stored');
  return name;
}

function unknownProfile(name: string, known: string[]): UsageError {
  return new UsageError(`no profile named "${name}"; known profiles: ${known.length > 0 ? known.join(', ') : '(none)'}`);
}

type Raw = Record<string, unknown>;

/** Declares `utrig profiles` and its subcommands list (the default), use and remove. */
export function declareProfiles(program: Command, { withDeps }: CommandContext): void {
  const profiles = program
    .command('profiles')
    .summary('list, choose and remove stored profiles')
    .description(
      'List, choose and remove the profiles `utrig login` stored (secrets are never shown). Without a subcommand, lists them.\nA command uses --profile, else UTRIG_PROFILE, else TWILIO_* variables, else the active profile; "local" is the built-in emulator.',
    )
    .addHelpText('after', examples('utrig profiles list', 'utrig profiles use ci', 'utrig profiles remove old'));
  profiles
    .command('list', { isDefault: true })
    .summary('list stored profiles (secrets are never shown)')
    .addHelpText('after', examples('utrig profiles list', 'utrig profiles list --json | jq -r ".[] | select(.active) | .name"'))
    .action(
      withDeps(async (deps) => {
        const rows = await list(deps);
        const fields = ['name', 'account_sid', 'auth', 'api_key', 'active'];
        const n = await renderList(rows as unknown as Raw[], {
          io: deps.io,
          format: chooseFormat(deps.io, deps.globals.output, deps.globals.json),
          fields: parseFields(deps.globals.fields, fields),
          csvFields: fields,
          columns: [
            { header: '', get: (x) => (x.active ? '*' : '') },
            { header: 'NAME', get: (x) => String(x.name) },
            { header: 'ACCOUNT', get: (x) => String(x.account_sid) },
            { header: 'AUTH', get: (x) => String(x.auth) + (x.api_key ? ` ${String(x.api_key)}` : '') },
          ],
        });
        if (n === 0) deps.messages.note('no profiles stored: run `utrig login`');
      }),
    );
  profiles
    .command('use')
    .argument('<name>', 'profile name')
    .summary('make a profile the active one')
    .addHelpText('after', examples('utrig profiles use ci', 'utrig --profile ci list   # for one command only'))
    .action(
      withDeps(async (deps, _raw, args) => {
        await use(deps, args[0]!);
        deps.messages.success(`Now using profile "${args[0]}"`);
      }),
    );
  profiles
    .command('remove')
    .argument('<name>', 'profile name')
    .summary('remove a profile and its secret')
    .addHelpText('after', examples('utrig profiles remove old', 'utrig profiles list --json | jq -r ".[].name"'))
    .action(
      withDeps(async (deps, _raw, args) => {
        await remove(deps, args[0]!);
        deps.messages.success(`Removed profile "${args[0]}"`);
      }),
    );
}
