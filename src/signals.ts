import { EXIT } from './errors.js';
import type { IO } from './io.js';

/** What the handlers act on: the foreground command's controller, once a command set one. */
export interface ForegroundHolder {
  foreground?: AbortController | undefined;
}

/**
 * Installs the process-wide handlers of one run and returns the function that removes them.
 * A first Ctrl-C stops foreground work cleanly. A second one asks it to abandon what is in flight: an
 * 'abandon' event on its signal, which a fleet run cancels to say it is handling it (it then reports
 * what is unknown and exits 130 at once). After that, or where nobody handles it, one more exits at once
 * (the emulator and listen do not handle it: they keep their clean stop, which flushes the emulator's state).
 * SIGTERM stops foreground work, or exits 143; a reader that went away (`| head -n 1`) ends the run quietly.
 */
export function handleSignals(r: ForegroundHolder, io: IO): () => void {
  let abandoning = false;
  const onSigint = () => {
    const fg = r.foreground;
    if (fg && !fg.signal.aborted) fg.abort();
    else if (fg && !abandoning) abandoning = !fg.signal.dispatchEvent(new Event('abandon', { cancelable: true }));
    else {
      io.stderr.write('\n');
      process.exit(EXIT.CANCELLED);
    }
  };
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
  };
  const onSigterm = () => (r.foreground ? r.foreground.abort() : process.exit(128 + 15));
  process.on('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  io.stdout.on('error', onPipeError);
  return () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  };
}
