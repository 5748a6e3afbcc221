import type { Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';

/** Everything a command may read from or write to the outside world. */
export interface IO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Colour decision already made: 0 none, 1 basic, 2 256, 3 truecolor (chalk levels). */
  colorLevel: 0 | 1 | 2 | 3;
  /** Terminal width for tables; 80 when unknown. */
  columns: number;
  env: NodeJS.ProcessEnv;
}

/** Decides the chalk colour level from the stream, the environment and --no-color. */
export function decideColorLevel(isTTY: boolean, env: NodeJS.ProcessEnv, noColorFlag = false): 0 | 1 | 2 | 3 {
  if (noColorFlag) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' ) {
    if (force === '0' || force === 'false') return 0;
    const n = Number(force);
    if (n === 2 || n === 3) return n;
    return 1;
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!isTTY || env.TERM === 'dumb') return 0;
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 3;
  if (env.TERM && /256/.test(env.TERM)) return 2;
  return 1;
}

/**
 * The IO of the real process. stdin is opened only when a command reads it: opening it costs start-up time
 * (a file or /dev/null on fd 0 loads node's fs streams and fs/promises), and isatty(0) is what stdin.isTTY reports.
 */
export function systemIO(env: NodeJS.ProcessEnv = process.env): IO {
  const stdoutIsTTY = Boolean(process.stdout.isTTY);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    get stdin(): Readable {
      return process.stdin;
    },
    stdinIsTTY: isatty(0),
    stdoutIsTTY,
    stderrIsTTY: Boolean(process.stderr.isTTY),
    colorLevel: decideColorLevel(stdoutIsTTY, env),
    columns: process.stdout.columns || Number(env.COLUMNS) || 80,
    env,
  };
}
