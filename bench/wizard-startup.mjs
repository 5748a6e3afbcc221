// Time from process start to the wizard's first prompt on a real terminal (tmux), as a ratio to node drawing
// one line the same way: the wizard row of bench/startup.mjs alone. Needs `npm run build` and tmux.
//   node bench/wizard-startup.mjs [--wizard-runs 10] [--compare DIR]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const startup = fileURLToPath(new URL('./startup.mjs', import.meta.url));
const r = spawnSync(process.execPath, [startup, '--only', 'wizard', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exitCode = r.status ?? 1;
