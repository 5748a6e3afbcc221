// Issue 11.5: the README's "put utrig on your PATH" lines work without root, in a fresh HOME, run as written.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, runProcess, tempConfigDir } from './helpers.js';

/** The first sh block after the sentence that introduces putting utrig on PATH. */
function pathBlock(readme: string): string {
  const at = readme.indexOf('To put `utrig` on your PATH without');
  assert.ok(at !== -1, 'the README says how to put utrig on PATH without root');
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, 'a sh block follows');
  return m[1]!;
}

describe('README: utrig on PATH without root', () => {
  it('the lines, run in the checkout with a fresh HOME, give a working utrig', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const home = tempConfigDir();
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    // node's own directory stays on PATH (the launcher's #! finds node there); npm's global prefix is not used
    const nodeDir = process.execPath.replace(/\/[^/]+$/, '');
    const res = await runProcess('sh', ['-e', '-c', pathBlock(readme)], {
      env: { HOME: home, PATH: `${nodeDir}:/usr/bin:/bin`, UTRIG_CONFIG_DIR: home },
      cwd: ROOT,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), pkg.version);
  });

  it('ends the quick start with what to do next', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const intro = readme.slice(0, readme.indexOf('## Commands'));
    assert.match(intro, /What next:.*utrig --local listen/s);
    assert.match(intro, /write `utrig` for `\.\/bin\/utrig`/);
  });
});
