// `utrig listen`: its declaration and flags. The receiver (node:http, undici) is in server.ts and the
// terminal block in render.ts; both load inside the action, so declaring listen stays cheap.
import type { Command } from 'commander';
import type { CommandContext } from '../../deps.js';
import { UsageError } from '../../errors.js';
import { examples } from '../../output/help.js';
import { parseCallbackUrl, parseIntFlag, str } from '../flags.js';

/** The flags of `utrig listen`. */
export interface ListenOptions {
  port: number;
  host: string;
  /** Only this path is a callback; absent = any path. */
  path?: string | undefined;
  forwardTo?: string | undefined;
  /** What to answer when not forwarding (default 200). */
  status: number;
  verify: boolean;
  publicUrl?: string | undefined;
  count?: number | undefined;
}

/** Reads commander's values for `utrig listen`. */
export function parseListenOptions(raw: Record<string, unknown>): ListenOptions {
  const port = parseIntFlag('--port', str(raw, 'port') ?? '3000', 0, 65535);
  const host = (str(raw, 'host') ?? '127.0.0.1').trim();
  if (host === '') throw new UsageError('--host needs an address such as 127.0.0.1 or 0.0.0.0');
  const path = str(raw, 'path');
  if (path !== undefined && !path.startsWith('/')) throw new UsageError(`--path "${path}" must start with /, such as / or /usage-hook`);
  const forwardTo = str(raw, 'forwardTo');
  if (forwardTo !== undefined) parseCallbackUrl('--forward-to', forwardTo);
  const publicUrl = str(raw, 'publicUrl');
  if (publicUrl !== undefined) parseCallbackUrl('--public-url', publicUrl);
  const statusRaw = str(raw, 'status');
  const status = statusRaw === undefined ? 200 : parseIntFlag('--status', statusRaw, 200, 599);
  if (statusRaw !== undefined && forwardTo !== undefined) {
    throw new UsageError('--status and --forward-to disagree: with --forward-to listen answers with the status of your handler');
  }
  const countRaw = str(raw, 'count');
  const count = countRaw === undefined ? undefined : parseIntFlag('--count', countRaw, 1, 1_000_000);
  const verify = raw.verify !== false;
  return { port, host, path, forwardTo, status, verify, publicUrl, count };
}

/** Declares `utrig listen`. */
export function declareListen(program: Command, ctx: CommandContext): void {
  program
    .command('listen')
    .summary('receive usage-trigger callbacks locally and check their signatures')
    .description(
      'Receive usage-trigger callbacks on a local port, check each X-Twilio-Signature with the auth token of the current ' +
        'credentials (403 when it does not match), and show them: a block per callback on a terminal, one JSON object per ' +
        'line otherwise. Runs until Ctrl-C, or until --count N callbacks were accepted: only verified callbacks count (any ' +
        'callback with --no-verify); one answered 403 for its signature, or refused as a forwarding loop, does not.',
    )
    .option('--port <port>', 'port to listen on (0 picks a free one)', '3000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--path <path>', 'accept callbacks only on this path, e.g. /usage (default: any path)')
    .option('--forward-to <url>', "relay each verified callback unchanged to your handler and answer with its response")
    .option('--status <code>', 'HTTP status to answer with, e.g. 500 to watch Twilio retry (default: 200)')
    .option('--no-verify', 'accept callbacks without checking X-Twilio-Signature')
    .option('--public-url <url>', 'the public URL of this listener behind a tunnel (Twilio signs that URL)')
    .option('--count <n>', 'exit after N accepted callbacks (verified ones; refused ones do not count)')
    .addHelpText(
      'after',
      examples(
        'utrig --local listen',
        'utrig listen --port 0 --count 1 | jq .params',
        'utrig listen --public-url https://abc123.ngrok.app --forward-to http://127.0.0.1:8080/usage',
        'utrig listen --status 500 --count 4',
      ),
    )
    .action(
      ctx.withDeps(async (deps, raw) => {
        const o = parseListenOptions(raw);
        const { startListener } = await import('./server.js');
        const { describeStart, pathOf, renderCallbackBlock } = await import('./render.js');
        let signing: { authToken: string; source: string } | undefined;
        if (o.verify) {
          const { resolveSigningCredentials } = await import('../signing.js');
          signing = await resolveSigningCredentials(deps, 'listen');
        }
        // -o/--json pick JSON lines on a terminal too; -o table picks blocks in a pipe
        const asBlocks = deps.globals.output === 'table' || (deps.io.stdoutIsTTY && deps.globals.output === undefined && !deps.globals.json);
        const { chalkFor } = await import('../../output/messages.js');
        const { escapeControls } = await import('../../output/escape.js');
        const c = chalkFor(deps.io);
        let n = 0;
        ctx.run.foreground = new AbortController();
        const listener = await startListener(o, signing?.authToken, ctx.run.foreground.signal, {
          onEvent: (e) => {
            n += 1;
            if (e.verified === false) {
              const action = o.verify ? 'answered 403' : 'accepted anyway (--no-verify)';
              deps.messages.warn(
                `${e.method} ${pathOf(e.path)}: ${e.reason ?? 'bad signature'}; ${action}. Check the auth token (${signing?.source ?? 'none'}) and, behind a tunnel, --public-url`,
              );
            }
            if (asBlocks) deps.io.stdout.write(renderCallbackBlock(c, e, n));
            else deps.io.stdout.write(JSON.stringify(e) + '\n');
          },
          // a note keeps line feeds (ours are multi-line); the request's method and path must not
          onIgnored: (method, path) => deps.messages.note(`ignored ${escapeControls(`${method} ${path}`)}: not ${o.path} (answered 404)`),
        });
        deps.messages.note(describeStart(listener.url, signing?.source, o));
        await listener.done;
      }),
    );
}
