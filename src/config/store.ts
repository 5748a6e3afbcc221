import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AuthError } from '../errors.js';

/** One stored set of credentials. Secrets live only here and in memory. */
export interface Profile {
  accountSid: string;
  authToken?: string;
  apiKey?: string;
  apiSecret?: string;
}

interface ConfigShape {
  activeProfile?: string;
  profiles: Record<string, Profile>;
}

/** Profile names: 1 to 64 letters, digits, ".", "_" or "-" (so never "__proto__"-like keys with special meaning). */
export const PROFILE_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Where utrig keeps its config: UTRIG_CONFIG_DIR, else $XDG_CONFIG_HOME/utrig, else ~/.config/utrig. */
export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.UTRIG_CONFIG_DIR) return env.UTRIG_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'utrig');
}

/**
 * Creates the config directory with mode 0700 when it is missing. An existing directory keeps its mode:
 * it may be one the user chose with UTRIG_CONFIG_DIR, and reading it must not change it.
 */
export function ensureConfigDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Takes group and other access away from the config directory; done only when a secret is written to it. */
function tightenConfigDir(dir: string): void {
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** The read side of the config: what choosing a profile needs. */
export interface ProfileView {
  profiles(): Record<string, Profile>;
  activeProfile(): string | undefined;
  /** The profile stored under name; never an inherited property such as "__proto__" or "constructor". */
  getProfile(name: string): Profile | undefined;
}

/** The config file in dir, named and placed as conf does (cwd + configName + ".json", resolved). */
export function configFile(dir: string): string {
  return resolve(dir, 'config.json');
}

/** The AuthError (exit 3) for a config that cannot be read or parsed: the same whoever reads it. */
function unreadable(dir: string, err: unknown): AuthError {
  return new AuthError(`cannot read the config in ${dir}: ${(err as Error).message}`, {
    cause: err,
    hint: `fix or move aside ${join(dir, 'config.json')}, then run \`utrig login\``,
  });
}

/**
 * Reads the stored profiles with a plain JSON read of the file conf writes (conf stores plain JSON, no
 * encryption key is set, no schema), so that using a profile does not load conf and ajv. Reads as conf's
 * constructor does: a missing file is an empty config, anything else that fails to read or parse is the same
 * exit-3 error, a value that is not an object holds no profiles. Unlike conf, a read never writes the file.
 */
export function readStoredProfiles(dir: string): ProfileView {
  ensureConfigDir(dir);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(configFile(dir), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== 'ENOENT') throw unreadable(dir, err);
  }
  const shape = (data !== null && typeof data === 'object' ? data : {}) as Partial<ConfigShape>;
  const own = <K extends keyof ConfigShape>(k: K): ConfigShape[K] | undefined => (Object.hasOwn(shape, k) ? shape[k] : undefined);
  const profiles = () => own('profiles') ?? {};
  return {
    profiles,
    activeProfile: () => own('activeProfile'),
    getProfile(name) {
      const all = profiles();
      return Object.hasOwn(all, name) ? all[name] : undefined;
    },
  };
}

/** Profiles and credentials in <configDir>/config.json, mode 0600; conf does the writing. */
export class ConfigStore implements ProfileView {
  private constructor(private readonly conf: import('conf').default<ConfigShape>, readonly path: string) {}

  /** Opens (creating when needed) the config in dir. conf is loaded lazily: it is not needed for env credentials. */
  static async open(dir: string): Promise<ConfigStore> {
    ensureConfigDir(dir);
    const { default: Conf } = await import('conf');
    try {
      const conf = new Conf<ConfigShape>({
        cwd: dir,
        configName: 'config',
        configFileMode: 0o600,
        defaults: { profiles: {} },
        clearInvalidConfig: false,
      });
      return new ConfigStore(conf, conf.path);
    } catch (err) {
      throw unreadable(dir, err);
    }
  }

  profiles(): Record<string, Profile> {
    return this.conf.get('profiles') ?? {};
  }

  activeProfile(): string | undefined {
    return this.conf.get('activeProfile');
  }

  /** The profile stored under name; never an inherited property such as "__proto__" or "constructor". */
  getProfile(name: string): Profile | undefined {
    const all = this.profiles();
    return Object.hasOwn(all, name) ? all[name] : undefined;
  }

  /** Stores a profile (mode 0600 file) and tightens the directory to 0700. */
  saveProfile(name: string, p: Profile, makeActive: boolean): void {
    tightenConfigDir(dirname(this.path));
    const all = { ...this.profiles(), [name]: p };
    this.conf.set('profiles', all);
    if (makeActive || !this.activeProfile()) this.conf.set('activeProfile', name);
  }

  removeProfile(name: string): boolean {
    const all = { ...this.profiles() };
    if (!Object.hasOwn(all, name)) return false;
    delete all[name];
    this.conf.set('profiles', all);
    if (this.activeProfile() === name) {
      const next = Object.keys(all)[0];
      if (next) this.conf.set('activeProfile', next);
      else this.conf.delete('activeProfile');
    }
    return true;
  }

  useProfile(name: string): void {
    this.conf.set('activeProfile', name);
  }
}
