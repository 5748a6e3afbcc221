import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildProgram } from './cli.js';
import { COMPLETION_FILES, generateCompletion, SHELLS } from './completion/generate.js';
import { systemIO } from './io.js';

/** The scripts for the real command tree, keyed by their checked-in path. */
export async function generateAll(): Promise<Record<string, string>> {
  const program = await buildProgram({ io: systemIO({}), env: {} });
  return Object.fromEntries(SHELLS.map((s) => [COMPLETION_FILES[s], generateCompletion(s, program)]));
}

/** The repository root (dist/src/gen-completions.js lives two levels below it). */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

// `node dist/src/gen-completions.js --write` regenerates completions/; `--check` fails when they drifted.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = await generateAll();
  const root = repoRoot();
  let drift = 0;
  for (const [rel, text] of Object.entries(files)) {
    const abs = root + rel;
    if (process.argv.includes('--write')) {
      mkdirSync(root + 'completions', { recursive: true });
      writeFileSync(abs, text);
      process.stdout.write(`wrote ${rel}\n`);
    } else {
      let old = '';
      try {
        old = readFileSync(abs, 'utf8');
      } catch {
        // missing counts as drift
      }
      if (old !== text) {
        drift++;
        process.stderr.write(`${rel} differs from the generator: run npm run gen:completions\n`);
      }
    }
  }
  process.exitCode = drift > 0 ? 1 : 0;
}
