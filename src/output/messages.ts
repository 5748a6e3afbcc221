import { Chalk, type ChalkInstance } from 'chalk';
import type { IO } from '../io.js';
import { escapeControls, escapeControlsKeepLines } from './escape.js';

/** A chalk instance at the IO's colour level (never chalk's global default). */
export function chalkFor(io: IO): ChalkInstance {
  return new Chalk({ level: io.colorLevel });
}

/** A chalk instance for stderr: coloured only when stderr is a terminal too. */
export function stderrChalk(io: IO): ChalkInstance {
  return new Chalk({ level: io.stderrIsTTY || io.env.FORCE_COLOR ? io.colorLevel : 0 });
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
