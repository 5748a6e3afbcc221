import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CATEGORIES } from '../src/categories.js';
import { readSharedCategories, renderCategoriesModule } from '../src/gen-categories.js';
import { ROOT } from './helpers.js';

const SHARED = join(ROOT, '..', 'shared');

describe('the category enum', () => {
  it('is the sorted union of both sources: 646, with the older enum and the newer list', () => {
    assert.equal(CATEGORIES.length, 646);
    assert.deepEqual([...CATEGORIES], [...CATEGORIES].sort());
    for (const c of ['rooms-group-bandwidth', 'rooms-group-minutes', 'rooms-peer-to-peer-minutes', 'call-progess-events', 'sms', 'totalprice']) {
      assert.ok(CATEGORIES.includes(c), c);
    }
  });

  // The team's shared data sits beside the checkout in CI; a user's clone has none, and needs none.
  it('matches the shared data it was generated from (drift)', { skip: !existsSync(SHARED) && 'no ../shared beside this checkout' }, () => {
    const { seed, list, all } = readSharedCategories(SHARED);
    assert.equal(seed.length, 245);
    assert.equal(list.length, 643);
    assert.deepEqual([...CATEGORIES], all);
    assert.equal(readFileSync(join(ROOT, 'src', 'categories.ts'), 'utf8'), renderCategoriesModule(all), 'run npm run gen:categories');
  });
});
