// Table renderer benchmark: time to draw a page of N triggers as a table (cli-table3, 100 rows an
// instance, widths decided once), against a floor taken in the same run (JSON.stringify of the same
// rows, which every format pays at least). Bounded; exits.
// Run after `npx tsc -p .`:  env -i PATH="$PATH" node bench/table.mjs
import { PassThrough } from 'node:stream';
import { renderList } from '../dist/src/output/render.js';
import { TRIGGER_COLUMNS, TRIGGER_CSV_FIELDS } from '../dist/src/output/triggers.js';

// [rows, runs]: cli-table3 costs ~0.1-0.3 ms a row here, so the 300,000-row page runs fewer times
const SIZES = [
  [1_000, 11],
  [30_000, 5],
  [300_000, 3],
];

function rowsOf(n) {
  return Array.from({ length: n }, (_, i) => ({
    sid: 'UT' + String(i).padStart(32, '0'),
    usage_category: 'sms',
    trigger_by: 'usage',
    trigger_value: '100',
    current_value: '57.250000',
    recurring: i % 2 ? 'monthly' : '',
    date_fired: i % 3 ? null : 'Sun, 01 Nov 2026 12:00:00 +0000',
    friendly_name: `quota ${i} \x1b]0;title\x07`,
  }));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeTable(rows) {
  const stdout = new PassThrough();
  stdout.resume();
  const io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: true, stderrIsTTY: false, colorLevel: 0, columns: 100, env: {} };
  const t = performance.now();
  await renderList(rows, { io, format: 'table', csvFields: TRIGGER_CSV_FIELDS, columns: TRIGGER_COLUMNS });
  return performance.now() - t;
}

function timeFloor(rows) {
  const t = performance.now();
  for (const r of rows) JSON.stringify(r);
  return performance.now() - t;
}

console.log('rows     table ms  floor ms  ratio  µs/row');
for (const [n, runs] of SIZES) {
  const rows = rowsOf(n);
  const table = [];
  const floor = [];
  for (let i = 0; i < runs; i++) {
    floor.push(timeFloor(rows));
    table.push(await timeTable(rows));
  }
  const t = median(table);
  const f = median(floor);
  console.log(`${String(n).padEnd(8)} ${t.toFixed(0).padStart(8)}  ${f.toFixed(0).padStart(8)}  ${(t / f).toFixed(1).padStart(5)}  ${((t * 1000) / n).toFixed(2).padStart(6)}`);
}
