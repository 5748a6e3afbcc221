import { Argument, type Command } from 'commander';
import type { CommandContext, Deps } from '../deps.js';
import { examples } from '../output/help.js';

/** How long listed SIDs stay fresh for completion. */
const SID_CACHE_MS = 30_000;
/** Completion must never stall the shell: after this the helper gives up and prints nothing. */
const SID_DEADLINE_MS = 2_000;
const SID_CACHE_FILE = 'completion-sids.json';
const SID_LIMIT = 200;

interface SidCache {
  key: string;
  time: number;
  sids: string[];
}

/** Declares `utrig completion bash|zsh|fish`: the script is generated from the whole command tree. */
export function declareCompletion(program: Command, { withDeps, wholeTree }: CommandContext): void {
  program
    .command('completion')
    .summary('print the shell completion script')
    .description('Print the completion script for bash, zsh or fish (generated from the command tree).')
    .addArgument(new Argument('<shell>', 'shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      examples('source <(utrig completion bash)', 'utrig completion zsh > "${fpath[1]}/_utrig"', 'utrig completion fish > ~/.config/fish/completions/utrig.fish'),
    )
    .action(
      withDeps(async (deps, _raw, args) => {
        const { generateCompletion } = await import('./generate.js');
        deps.io.stdout.write(generateCompletion(args[0] as 'bash' | 'zsh' | 'fish', await wholeTree()));
      }),
    );
}

/** Declares the hidden `utrig __complete sids` the completion scripts call. */
export function declareComplete(program: Command, { withDeps }: CommandContext): void {
  program
    .command('__complete', { hidden: true })
    .argument('<what>', 'sids')
    .action(
      withDeps(async (deps, _raw, args) => {
        if (args[0] !== 'sids') return;
        const sids = await completeSids(deps).catch(() => [] as string[]);
        if (sids.length > 0) deps.io.stdout.write(sids.join('\n') + '\n');
      }),
    );
}

/**
 * Trigger SIDs for completion: from a 30-second cache in the config directory, else one bounded list request.
 * Offline, unauthenticated or slow all give an empty list: a completion must never print errors into the prompt.
 * Only well-formed SIDs (UT + 32 hex digits) are kept, from the API and from the cache file alike: whatever
 * else a server answers (escapes, line breaks, shell syntax) never reaches the shell's completion list.
 */
export async function completeSids(deps: Deps, now = Date.now()): Promise<string[]> {
  const { join } = await import('node:path');
  const { readFile, writeFile } = await import('node:fs/promises');
  const { buildDeps } = await import('../deps.js');
  const { configDir, ensureConfigDir } = await import('../config/store.js');
  const { TRIGGER_SID_RE } = await import('../rules.js');
  const isSid = (v: unknown): v is string => typeof v === 'string' && TRIGGER_SID_RE.test(v);
  // One overall deadline: no retries, and the request in flight is aborted when it passes.
  const abort = new AbortController();
  const quick = buildDeps(deps.io, deps.env, { ...deps.globals, timeout: SID_DEADLINE_MS / 1000, verbose: false }, deps.version, {
    maxRetries: 0,
    signal: abort.signal,
  });
  deps.cleanup.push(async () => {
    for (const c of quick.cleanup) await c();
  });
  const dir = configDir(deps.env);
  const file = join(dir, SID_CACHE_FILE);

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => {
      resolve([]);
      abort.abort();
    }, SID_DEADLINE_MS);
    timer.unref();
  });
  const work = (async () => {
    const client = await quick.client();
    const key = `${client.baseUrl} ${client.accountSid}`;
    try {
      const c = JSON.parse(await readFile(file, 'utf8')) as SidCache;
      if (c.key === key && now - c.time >= 0 && now - c.time < SID_CACHE_MS && Array.isArray(c.sids)) return c.sids.filter(isSid);
    } catch {
      // no cache yet, or unreadable: ask the API
    }
    const sids: string[] = [];
    const pages = client.listTriggerPages(new URLSearchParams({ PageSize: String(SID_LIMIT) }));
    for await (const page of pages) {
      for (const t of page.usage_triggers) if (isSid(t?.sid)) sids.push(t.sid);
      if (sids.length >= SID_LIMIT) break;
    }
    try {
      ensureConfigDir(dir);
      await writeFile(file, JSON.stringify({ key, time: now, sids } satisfies SidCache), { mode: 0o600 });
    } catch {
      // a read-only config directory only costs the cache
    }
    return sids;
  })();
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
