// The terminal output of `utrig listen`: the startup note and one block per callback, hostile text escaped.
import type { ChalkInstance } from 'chalk';
import { escapeControls } from '../../output/escape.js';
import { keyValues } from '../../output/render.js';
import type { ListenOptions } from './index.js';
import type { CallbackEvent } from './server.js';

/** The startup line (stderr). */
export function describeStart(url: string, source: string | undefined, o: ListenOptions): string {
  const how = source === undefined ? 'signatures not verified: --no-verify' : `signatures verified with the auth token of ${source}`;
  let line = `listening on ${url} (${how})`;
  if (o.publicUrl) line += `\nsigned URLs start with ${o.publicUrl.replace(/\/+$/, '')} (--public-url)`;
  if (o.forwardTo) line += `\nforwarding each verified callback to ${o.forwardTo}`;
  if (o.count !== undefined) line += `\nstopping after ${o.count} accepted callback${o.count === 1 ? '' : 's'}`;
  else line += '\npress Ctrl-C to stop';
  return line;
}

function formatValue(v: string | undefined): string {
  if (v === undefined || v === '') return '?';
  return /^-?\d+\.\d+$/.test(v) ? v.replace(/\.?0+$/, '') : v;
}

/** The path of a request target, without its query. */
export function pathOf(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
}

/** The human block for one callback (a terminal); everything from the request is shown escaped. */
export function renderCallbackBlock(c: ChalkInstance, e: CallbackEvent, n: number): string {
  const p: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.params)) p[k] = escapeControls(v);
  const check = e.verified === true ? c.green('✓ verified') : e.verified === false ? c.red('✗ NOT verified') : c.yellow('not checked');
  const answered = e.status < 300 ? c.green(String(e.status)) : c.red(String(e.status));
  // the path only: a GET callback's query is its parameters, shown in the block below
  const head = `${c.bold(`#${n}`)} ${e.time.slice(11, 19)}  ${escapeControls(e.method)} ${escapeControls(pathOf(e.path))}  ${check}  answered ${answered}\n`;
  const pairs: [string, string][] = [];
  if (p.UsageTriggerSid !== undefined) {
    pairs.push(['Trigger', c.cyan(p.UsageTriggerSid)]);
    pairs.push(['Category', p.UsageCategory ?? '?']);
    pairs.push(['Reached', `${p.TriggerBy ?? 'usage'} ${formatValue(p.CurrentValue)} (trigger value ${formatValue(p.TriggerValue)})`]);
    pairs.push(['Period', p.Recurring ? p.Recurring : 'once']);
    pairs.push(['Idempotency', p.IdempotencyToken ?? '']);
    pairs.push(['Fired', p.DateFired ?? '']);
    pairs.push(['Account', p.AccountSid ?? '']);
  } else {
    for (const [k, v] of Object.entries(p)) pairs.push([k, v]);
    if (pairs.length === 0) pairs.push(['Params', c.dim('none (not a usage-trigger callback?)')]);
  }
  if (e.reason !== undefined) pairs.push(['Signature', c.red(escapeControls(e.reason))]);
  if (e.refused !== undefined) pairs.push(['Refused', c.red(escapeControls(e.refused))]);
  if (e.forwarded) {
    pairs.push(['Forwarded', e.forwarded.status === null ? c.red(`failed after ${e.forwarded.ms} ms: ${escapeControls(e.forwarded.error ?? '')}`) : `${e.forwarded.status} in ${e.forwarded.ms} ms`]);
  }
  const body = keyValues(c, pairs)
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `${head}${body}\n\n`;
}
