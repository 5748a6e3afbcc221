import { CancelledError } from './errors.js';
import type { IO } from './io.js';

/** The prompts utrig shows (src/prompt-lib.ts): add one there when a command needs another. */
export type Prompts = typeof import('./prompt-lib.js');

/** The context every prompt gets: draw on stderr, read stdin. */
export function promptContext(io: IO): { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; clearPromptOnDone: boolean } {
  return { input: io.stdin, output: io.stderr, clearPromptOnDone: false };
}

/** Loads the prompt library only when a prompt is really shown (start-up stays quick). */
export async function loadPrompts(): Promise<Prompts> {
  return import('./prompt-lib.js');
}

/** Runs a prompt; Ctrl-C (and Escape, where a prompt maps it) becomes a CancelledError: exit 130, nothing sent. */
export async function ask<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') {
      throw new CancelledError('cancelled: nothing was sent');
    }
    throw err;
  }
}

/** Reads all of stdin as one trimmed secret (for --auth-token-stdin and friends). */
export async function readSecretFromStdin(io: IO): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').trim();
}
