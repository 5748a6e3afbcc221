import { CATEGORIES } from '../categories.js';
import { categoryGroup } from '../category-groups.js';
import { matchesCategory } from './categories.js';

/**
 * The categories most usage triggers watch, in the order the wizard offers them before the rest
 * (the full list starts with a2p-10dlc-…, which almost nobody means). A judgement, not Twilio data:
 * the totals first, then the messaging and voice families, then other common products.
 */
export const MOST_USED_CATEGORIES = [
  'totalprice',
  'sms',
  'calls',
  'mms',
  'sms-outbound',
  'sms-inbound',
  'calls-outbound',
  'calls-inbound',
  'mms-outbound',
  'mms-inbound',
  'phonenumbers',
  'recordings',
  'transcriptions',
  'calls-client',
  'calls-sip',
  'shortcodes',
  'conversations',
  'lookups',
  'verify-push',
  'wireless',
] as const;

/** Every known category, the most used first, then the rest in list order. */
const BY_USE: string[] = [...MOST_USED_CATEGORIES, ...CATEGORIES.filter((c) => !(MOST_USED_CATEGORIES as readonly string[]).includes(c))];

/**
 * The categories matching a search term, best first: exact, then prefix, then the rest; the most used first within each.
 * Words separated by spaces must all match; "sms-outb" matches as typed or as the words "sms outb".
 */
export function searchCategories(term: string | undefined, first?: string): string[] {
  const t = (term ?? '').trim().toLowerCase();
  if (t === '') return first && CATEGORIES.includes(first) ? [first, ...BY_USE.filter((c) => c !== first)] : [...BY_USE];
  const words = t.split(/\s+/);
  const split = t.split(/[\s-]+/).filter(Boolean);
  const hits = BY_USE.filter((c) => matchesCategory(c, words) || matchesCategory(c, split));
  const rank = (c: string) => (c === t ? 0 : c.startsWith(t) || c.startsWith(words[0]!) ? 1 : 2);
  return hits.map((c, i) => ({ c, i, r: rank(c) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.c);
}

/** A search choice: the category padded, then its short group label ("sms-outbound  SMS"). */
export function categoryChoice(c: string, width: number): { value: string; name: string; short: string } {
  return { value: c, name: `${cutTo(c, width).padEnd(width)}  ${categoryGroup(c)}`, short: c };
}

/** The pointer inquirer draws before a choice ("❯ "), and the gap before the group label. */
const CHOICE_CHROME = 2 + 2;

/**
 * The choices of the category search for a terminal `columns` wide: the name column as wide as the
 * longest name shown, so every group label lines up, but never so wide that a line would wrap; then a
 * name longer than the column is cut with '…' (the value chosen is still the whole name).
 */
export function categoryChoices(hits: readonly string[], columns: number): { value: string; name: string; short: string }[] {
  let widest = 0;
  let group = 0;
  for (const h of hits) {
    widest = Math.max(widest, h.length);
    group = Math.max(group, categoryGroup(h).length);
  }
  // one column spare: a line exactly as wide as the terminal wraps on some terminals
  const room = Math.max(12, columns - CHOICE_CHROME - group - 1);
  const width = Math.min(widest, room);
  return hits.map((h) => categoryChoice(h, width));
}

/** Cuts text (one column a character) to width, ending in '…' when it was cut. */
export function cutTo(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
