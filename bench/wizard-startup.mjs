// Time from process start to the wizard's first prompt on a real terminal (tmux), median of 5 runs.
// Needs a build (npx tsc -p .) and tmux. Bounded: each run gives up after 10 s; the tmux server is always killed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 5;
const PROMPT = 'Usage category';
const socket = `utrig-bench-${process.pid}`;
const tmux = (...args) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout: 5000 });
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

if (spawnSync('sh', ['-c', 'command -v tmux'], { stdio: 'ignore' }).status !== 0) {
  console.error('wizard-startup: tmux is not installed');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'utrig-bench-'));
// Credentials point at a closed port: the first prompt needs no network, and nothing can be sent.
const script = join(dir, 'run.sh');
writeFileSync(
  script,
  `export UTRIG_API_URL=http://127.0.0.1:9 TWILIO_ACCOUNT_SID=AC${'0'.repeat(32)} TWILIO_AUTH_TOKEN=${'0'.repeat(32)} UTRIG_CONFIG_DIR=${q(dir)} NO_COLOR=1 TERM=xterm
cd ${q(ROOT)}
# wait for the go signal so tmux start-up is not counted
read go
${q(process.execPath)} bin/utrig create
sleep 30
`,
);

const times = [];
try {
  for (let i = 0; i < RUNS; i++) {
    // one server for all runs, a session per run: killing the server between runs races its restart
    const session = `b${i}`;
    let started = tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '40', `sh ${q(script)}`);
    if (started.status !== 0) {
      // a tmux server still shutting down from an earlier run can refuse once
      await new Promise((r) => setTimeout(r, 200));
      started = tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '40', `sh ${q(script)}`);
    }
    if (started.status !== 0) throw new Error(`tmux failed: ${started.stderr}`);
    const t0 = performance.now();
    tmux('send-keys', '-t', session, 'Enter');
    let ms;
    while (performance.now() - t0 < 10_000) {
      const screen = tmux('capture-pane', '-p', '-t', session).stdout ?? '';
      if (screen.includes(PROMPT)) {
        ms = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    tmux('kill-session', '-t', session);
    if (ms === undefined) throw new Error(`run ${i + 1}: no prompt within 10 s`);
    times.push(ms);
  }
} finally {
  tmux('kill-server');
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`wizard startup (process start to first prompt, tmux, median of ${RUNS}): ${median.toFixed(0)} ms  [runs: ${times.map((t) => t.toFixed(0)).join(', ')}]`);
