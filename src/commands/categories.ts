import { CATEGORIES } from '../categories.js';
import { categoryGroup } from '../category-groups.js';

export interface CategoriesOptions {
  /** Words that must all appear in the category or its group (case-insensitive). */
  words: string[];
}

/** Reads the filter words ("sms out" -> ["sms", "out"]). */
export function parseCategoriesOptions(args: string[]): CategoriesOptions {
  return { words: args.join(' ').toLowerCase().split(/\s+/).filter(Boolean) };
}

/** True when every word occurs in the category or its group label. */
export function matchesCategory(category: string, words: string[]): boolean {
  const hay = `${category} ${categoryGroup(category).toLowerCase()}`;
  return words.every((w) => hay.includes(w));
}

/** The known categories matching the filter, with their group. */
export function run(o: CategoriesOptions): { category: string; group: string }[] {
  return CATEGORIES.filter((c) => matchesCategory(c, o.words)).map((category) => ({ category, group: categoryGroup(category) }));
}
