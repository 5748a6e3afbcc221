import { Option, type Command } from 'commander';
import type { Run, WithDeps } from '../deps.js';
import { examples } from '../output/help.js';


/** Declares `utrig listen` and `utrig fire` (cheap: implementations load when they run). */
export function declareCallbackCommands(program: Command, r: Run, withDeps: WithDeps): void {
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
      withDeps(async (deps, raw) => {
        const { parseListenOptions, startListener, describeStart, renderCallbackBlock } = await import('./listen.js');
        const o = parseListenOptions(raw);
        let signing: { authToken: string; source: string } | undefined;
        if (o.verify) {
          const { resolveSigningCredentials } = await import('./signing.js');
          signing = await resolveSigningCredentials(deps, 'listen');
        }
        // -o/--json pick JSON lines on a terminal too; -o table picks blocks in a pipe
        const asBlocks = deps.globals.output === 'table' || (deps.io.stdoutIsTTY && deps.globals.output === undefined && !deps.globals.json);
        const { chalkFor } = await import('../output/messages.js');
        const { escapeControls } = await import('../output/escape.js');
        const c = chalkFor(deps.io);
        let n = 0;
        r.foreground = new AbortController();
        const listener = await startListener(o, signing?.authToken, r.foreground.signal, {
          onEvent: (e) => {
            n += 1;
            if (e.verified === false) {
              const action = o.verify ? 'answered 403' : 'accepted anyway (--no-verify)';
              deps.messages.warn(
                `${e.method} ${e.path}: ${e.reason ?? 'bad signature'}; ${action}. Check the auth token (${signing?.source ?? 'none'}) and, behind a tunnel, --public-url`,
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

  program
    .command('fire')
    .summary('send one signed usage-trigger callback to a URL')
    .description(
      'Send one realistic, signed usage-trigger callback: for a trigger fetched from the API (to its callback URL unless ' +
        '--to is given, with its callback method), or for a trigger made up from the flags. Exits 0 on a 2xx answer.',
    )
    .usage('<UT…> [--to <url>] [options]\n       utrig fire --category <category> --value <n> --to <url> [options]')
    .argument('[sid]', 'trigger SID (UT…) to fire')
    .option('--to <url>', "where to send the callback (default with a SID: the trigger's callback URL)")
    .option('--category <category>', 'usage category of a made-up trigger')
    .option('--value <n>', 'value reached (TriggerValue and CurrentValue) of a made-up trigger')
    .addOption(new Option('--recurring <period>', 'period of a made-up trigger {daily|monthly|yearly|alltime} (default: once)'))
    .addOption(new Option('--trigger-by <field>', 'field a made-up trigger watches {count|usage|price} (default: usage)'))
    .addOption(new Option('--method <method>', 'HTTP method {GET|POST} (default: the trigger\'s callback method, or POST)'))
    .option('--retry', 'retry three times after a 5xx or no answer, as Twilio does')
    .option('--allow-unknown-category', 'send a category newer than utrig knows')
    .addHelpText(
      'after',
      examples(
        'utrig fire UT33c6aeeba34e48f38d6899ea5b765ad4 --to http://127.0.0.1:3000/',
        'utrig fire --category sms --value 100 --recurring monthly --to http://127.0.0.1:3000/ --retry',
        'utrig fire --category totalprice --trigger-by price --value 50 --method GET --to https://example.com/hook --json',
      ),
    )
    .action(
      withDeps(async (deps, raw, args) => {
        const { parseFireOptions, run, fireFailure, describeFire } = await import('./fire.js');
        const o = parseFireOptions(raw, args);
        if (o.unknownCategory) deps.messages.warn(`"${o.category}" is not a category utrig knows; sending it as given`);
        const res = await run(deps, o, (a, willRetry) => {
          if (willRetry) deps.messages.note(`attempt ${a.attempt}: ${a.status ?? a.error ?? 'no answer'} in ${a.ms} ms; retrying`);
        });
        if (deps.io.stdoutIsTTY && deps.globals.output === undefined && !deps.globals.json) deps.io.stdout.write(describeFire(res));
        else deps.io.stdout.write(JSON.stringify(res) + '\n');
        const failure = fireFailure(res);
        if (failure) throw failure;
      }),
    );
}
