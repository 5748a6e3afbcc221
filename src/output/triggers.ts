import type { ChalkInstance } from 'chalk';
import { TRIGGER_FIELDS, type UsageTrigger } from '../api/types.js';
import type { Column } from './render.js';
import { cellText, keyValues } from './render.js';

type Row = Record<string, unknown>;

/** "Sat, 13 Oct 2012 21:32:30 +0000" -> "2012-10-13 21:32" (GMT), stable for golden files. */
export function shortDate(v: unknown): string {
  if (typeof v !== 'string' || v === '') return '';
  const t = Date.parse(v);
  if (!Number.isFinite(t)) return cellText(v);
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** "12.500000" -> "12.5": the API's older examples pad values with zeros. */
export function shortNumber(v: unknown): string {
  const s = cellText(v);
  return /^-?\d+\.\d+$/.test(s) ? s.replace(/\.?0+$/, '') : s;
}

/** Columns of `utrig list` as a table. */
export const TRIGGER_COLUMNS: Column[] = [
  { header: 'SID', get: (r) => cellText(r.sid), color: (c, t) => c.cyan(t) },
  { header: 'CATEGORY', get: (r) => cellText(r.usage_category) },
  { header: 'BY', get: (r) => cellText(r.trigger_by) },
  { header: 'VALUE', get: (r) => shortNumber(r.trigger_value) },
  { header: 'CURRENT', get: (r) => shortNumber(r.current_value) },
  { header: 'RECURRING', get: (r) => cellText(r.recurring) || 'once' },
  { header: 'FIRED', get: (r) => shortDate(r.date_fired), color: (c, t) => (t ? c.yellow(t) : t) },
  { header: 'NAME', get: (r) => cellText(r.friendly_name), shrink: true },
];

export const TRIGGER_CSV_FIELDS = TRIGGER_FIELDS;

/** A progress bar toward the threshold, e.g. "███████░░░░░ 57 / 100 (57%)". */
export function progressBar(c: ChalkInstance, current: number, target: number, cells = 20): string {
  if (!Number.isFinite(current) || !Number.isFinite(target) || target <= 0) return '';
  const ratio = Math.max(0, current / target);
  const filled = Math.min(cells, Math.round(ratio * cells));
  const bar = '█'.repeat(filled) + '░'.repeat(cells - filled);
  const pct = `${Math.floor(ratio * 100)}%`;
  return `${ratio >= 1 ? c.red(bar) : ratio >= 0.8 ? c.yellow(bar) : c.green(bar)} ${shortNumber(current)} / ${shortNumber(target)} (${pct})`;
}

/** The key/value view of one trigger (`utrig get` and friends on a terminal). */
export function triggerDetail(t: UsageTrigger | Row, withProgress: boolean): (c: ChalkInstance) => string {
  return (c) => {
    const pairs: [string, string][] = [
      ['SID', c.cyan(cellText(t.sid))],
      ['Name', cellText(t.friendly_name)],
      ['Category', cellText(t.usage_category)],
      ['Trigger', `${cellText(t.trigger_by)} reaches ${shortNumber(t.trigger_value)}`],
      ['Current', shortNumber(t.current_value)],
      ['Recurring', cellText(t.recurring) || 'once (not recurring)'],
      ['Callback', `${cellText(t.callback_method)} ${cellText(t.callback_url)}`],
      ['Created', cellText(t.date_created)],
      ['Updated', cellText(t.date_updated)],
      ['Fired', cellText(t.date_fired) || 'never'],
    ];
    if (withProgress) {
      const bar = progressBar(c, Number(t.current_value), Number(t.trigger_value));
      if (bar) pairs.splice(5, 0, ['Progress', bar]);
    }
    return keyValues(c, pairs);
  };
}
