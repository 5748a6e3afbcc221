import type { ChalkInstance } from 'chalk';
import type { IO } from '../io.js';
import { escapeControls, escapeControlsKeepLines } from './escape.js';

let chalkModule: typeof import('chalk') | undefined;

/**
 * Loads chalk when the IO may colour something (main calls it before a command runs): chalk costs start-up
 * time (issue 10), and most runs (pipes, NO_COLOR, scripts) colour nothing.
 */
export async function loadColour(io: IO): Promise<void> {
  if (io.colorLevel > 0) chalkModule ??= await import('chalk');
}

/** What chalk does at level 0: the text, several arguments joined by spaces; every style is the same. */
const plainText = (...text: unknown[]): string => (text.length === 1 ? String(text[0]) : text.join(' '));
const PLAIN: ChalkInstance = new Proxy(plainText, {
  get: (_t, key) => (typeof key === 'symbol' || key === 'then' ? undefined : key === 'level' ? 0 : PLAIN),
}) as unknown as ChalkInstance;

/** A chalk at this level, or plain text at level 0 (or when loadColour was not awaited). */
function painter(level: 0 | 1 | 2 | 3): ChalkInstance {
  return level === 0 || !chalkModule ? PLAIN : new chalkModule.Chalk({ level });
}

/** A chalk instance at the IO's colour level (never chalk's global default). */
export function chalkFor(io: IO): ChalkInstance {
  return painter(io.colorLevel);
}

/** A chalk instance for stderr: coloured only when stderr is a terminal too. */
export function stderrChalk(io: IO): ChalkInstance {
  return painter(io.stderrIsTTY || io.env.FORCE_COLOR ? io.colorLevel : 0);
}

/**
 * Human messages; all of them go to stderr. Their text may quote the server or a request (an API
 * error message, a friendly name, a callback's path), so control characters are shown escaped:
 * one-line messages escape line breaks too; notes and hints, which we write on several lines, keep them.
 */
export class Messages {
  private readonly c: ChalkInstance;
  constructor(private readonly io: IO, private readonly quiet = false) {
    this.c = stderrChalk(io);
  }

  /** A success note, e.g. "✓ Created UT…". */
  success(text: string): void {
    if (!this.quiet) this.io.stderr.write(`${this.c.green('✓')} ${escapeControls(text)}\n`);
  }

  /** A neutral note. */
  note(text: string): void {
    if (!this.quiet) this.io.stderr.write(`${this.c.dim(escapeControlsKeepLines(text))}\n`);
  }

  /** A warning that does not stop the command. */
  warn(text: string): void {
    this.io.stderr.write(`${this.c.yellow('warning:')} ${escapeControls(text)}\n`);
  }

  /** The one error line main prints. */
  error(text: string, hint?: string): void {
    this.io.stderr.write(`${this.c.red('error:')} ${escapeControls(text)}\n`);
    if (hint) this.io.stderr.write(`${this.c.dim(escapeControlsKeepLines(hint))}\n`);
  }
}
