// Runs the benches one after another, each in a clean environment (PATH and HOME only), and prints their tables.
//   npm run bench                      every bench below except the soak (several minutes in all)
//   npm run bench -- startup           one or more by name; `soak` runs the 300 s emulator soak
//   npm run bench -- startup --compare ../main    arguments after the names go to each bench named
// Needs `npm run build` first.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = dirname(fileURLToPath(import.meta.url));
const BENCHES = {
  startup: 'startup.mjs',
  cli: 'cli.mjs',
  table: 'table.mjs',
  emulator: 'emulator.mjs',
  'emulator-fleet': 'emulator-fleet.mjs',
  fleet: 'fleet.mjs',
  plan: 'plan.mjs',
  persistence: 'persistence.mjs',
  soak: 'emulator-soak.mjs',
};
const DEFAULT = Object.keys(BENCHES).filter((b) => b !== 'soak');

const argv = process.argv.slice(2);
const names = [];
while (argv.length > 0 && !argv[0].startsWith('-')) names.push(argv.shift());
for (const n of names) {
  if (!BENCHES[n]) {
    console.error(`bench: unknown bench "${n}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
}
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' };
let failed = 0;
for (const n of names.length > 0 ? names : DEFAULT) {
  console.log(`\n## ${n} (bench/${BENCHES[n]}) ${new Date().toISOString()}\n`);
  const r = spawnSync(process.execPath, [join(DIR, BENCHES[n]), ...argv], { env, stdio: 'inherit', timeout: 30 * 60_000 });
  if (r.status !== 0) {
    failed++;
    console.log(`bench ${n} failed (exit ${r.status ?? r.signal})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
