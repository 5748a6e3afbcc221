import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from './helpers.js';

/** True when a program is on PATH. */
export function have(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** Single-quotes a word for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A temp dir holding an executable `utrig` that runs this checkout's bin/utrig with this node. */
export function wrapperDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'utrig-bin-'));
  const file = join(dir, 'utrig');
  writeFileSync(file, `#!/bin/sh\nexec ${shq(process.execPath)} ${shq(BIN)} "$@"\n`);
  chmodSync(file, 0o755);
  return dir;
}

/** Polls until check returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 10_000, show: () => string = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- screen\n${show()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tmux server of its own (socket per test), one session running a shell script in a real pseudo-terminal. */
export class Tmux {
  readonly socket = `utrig-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly session = 't';

  /** Starts `sh script` in a width x height terminal with exactly this environment. */
  start(script: string, env: Record<string, string>, width = 100, height = 40): void {
    const dir = mkdtempSync(join(tmpdir(), 'utrig-tmux-'));
    const file = join(dir, 'run.sh');
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}=${shq(v)}`)
      .join('\n');
    // The trailing sleep keeps the pane readable after the command ends; the session is killed in a finally.
    writeFileSync(file, `${exports}\n${script}\nsleep 120\n`);
    this.tmux(['new-session', '-d', '-s', this.session, '-x', String(width), '-y', String(height), `sh ${shq(file)}`]);
  }

  tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Sends literal text. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.session, '-l', text]);
  }

  /** Sends named keys (Enter, Tab, C-c, Escape, Down). */
  keys(...names: string[]): void {
    this.tmux(['send-keys', '-t', this.session, ...names]);
  }

  /** The visible screen plus history, wrapped lines joined. */
  screen(): string {
    try {
      return this.tmux(['capture-pane', '-p', '-J', '-S', '-200', '-t', this.session]);
    } catch {
      return '';
    }
  }

  /** Waits until the screen shows text (or matches a pattern). */
  async waitScreen(what: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const hit = (s: string) => (typeof what === 'string' ? s.includes(what) : what.test(s));
    return waitFor(`"${String(what)}" on the screen`, () => {
      const s = this.screen();
      return hit(s) ? s : undefined;
    }, timeoutMs, () => this.screen());
  }

  /** Waits for a file to exist and returns its content. */
  async waitFile(path: string, timeoutMs = 10_000): Promise<string> {
    return waitFor(`file ${path}`, () => (existsSync(path) && readFileSync(path, 'utf8').endsWith('\n') ? readFileSync(path, 'utf8') : undefined), timeoutMs, () => this.screen());
  }

  /** Ends the session and its server. */
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore', timeout: 5000 });
  }
}

/** Runs `utrig <args>` in a real terminal (100 columns, no colour) with env; its exit code is written to exitFile. */
export function utrigOnTerminal(env: Record<string, string>, args: string, exitFile: string): Tmux {
  const t = new Tmux();
  t.start(`cd ${shq(ROOT)}\n${shq(process.execPath)} ${shq(BIN)} ${args}\necho EXIT=$? > ${shq(exitFile)}`, {
    ...env,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TERM: 'xterm',
    COLUMNS: '100',
    NO_COLOR: '1',
  });
  return t;
}
