import type { Command } from 'commander';
import { CATEGORIES } from '../categories.js';
import { categoryGroup } from '../category-groups.js';
import type { CommandContext } from '../deps.js';
import { chooseFormat, parseFields } from '../output/format.js';
import { examples } from '../output/help.js';
import { renderList } from '../output/render.js';

export interface CategoriesOptions {
  /** Words that must all appear in the category or its group (case-insensitive). */
  words: string[];
}

/** Reads the filter words ("sms out" -> ["sms", "out"]). */
export function parseCategoriesOptions(args: string[]): CategoriesOptions {
  return { words: args.join(' ').toLowerCase().split(/\s+/).filter(Boolean) };
}

/** True when word occurs in hay at the start of a segment: at the start, or after a hyphen or space. */
function atSegmentStart(hay: string, word: string): boolean {
  for (let i = hay.indexOf(word); i !== -1; i = hay.indexOf(word, i + 1)) {
    if (i === 0 || hay[i - 1] === '-' || hay[i - 1] === ' ') return true;
  }
  return false;
}

/**
 * True when every word starts a segment of the category or a word of its group label: "sms out"
 * matches sms-outbound, not wireless-sms-centralandsouthamerica ("out" inside "south").
 */
export function matchesCategory(category: string, words: string[]): boolean {
  const hay = `${category} ${categoryGroup(category).toLowerCase()}`;
  return words.every((w) => atSegmentStart(hay, w));
}

/** The known categories matching the filter, with their group. */
export function run(o: CategoriesOptions): { category: string; group: string }[] {
  return CATEGORIES.filter((c) => matchesCategory(c, o.words)).map((category) => ({ category, group: categoryGroup(category) }));
}

/** Declares `utrig categories`. */
export function declareCategories(program: Command, { withDeps }: CommandContext): void {
  program
    .command('categories')
    .summary('list the usage categories utrig knows')
    .description('List the usage categories utrig knows (646), filtered by words: "sms out" keeps the categories where both words start a hyphen-separated part (sms-outbound, not …-southamerica).')
    .argument('[words...]', 'filter words')
    .addHelpText('after', examples('utrig categories sms out', 'utrig categories --json | jq -r ".[].category"'))
    .action(
      withDeps(async (deps, _raw, args) => {
        const rows = run(parseCategoriesOptions(args));
        const n = await renderList(rows, {
          io: deps.io,
          format: chooseFormat(deps.io, deps.globals.output, deps.globals.json),
          fields: parseFields(deps.globals.fields, ['category', 'group']),
          csvFields: ['category', 'group'],
          columns: [
            { header: 'CATEGORY', get: (x) => String(x.category) },
            { header: 'GROUP', get: (x) => String(x.group) },
          ],
        });
        if (n === 0) deps.messages.note('no category matches; try fewer words');
      }),
    );
}
