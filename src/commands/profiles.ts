import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';

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
