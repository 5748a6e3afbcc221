import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { IO } from '../src/io.js';
import { loadColour } from '../src/output/messages.js';
import { renderList, renderTable, type Column } from '../src/output/render.js';
import { TRIGGER_COLUMNS, TRIGGER_CSV_FIELDS } from '../src/output/triggers.js';
import { assertExit, harness, type Harness } from './helpers.js';

function testIO(columns: number, colorLevel: 0 | 1 = 0): IO & { text: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  const io: IO = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: true, stderrIsTTY: false, colorLevel, columns, env: {} };
  return Object.assign(io, { text: () => text });
}

// Terminal columns of the characters these tests use, written out here rather than taken from the
// renderer's own measure: CJK ideographs, kana, hangul and these emoji take two, combining marks none.
function columnsOf(text: string): number {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x300 && cp <= 0x36f) continue;
    n += (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0x1f300 && cp <= 0x1faff) ? 2 : 1;
  }
  return n;
}

const NAMES = ['日本語の名前', 'plain', '한국어 🎉', 'e\u0301 combining', 'カタカナ'];
const WIDE_COLUMNS: Column[] = [
  { header: 'NAME', get: (r) => String(r.name), shrink: true },
  { header: 'ID', get: (r) => String(r.id) },
];

describe('table renderer', () => {
  it('keeps the column after a wide-character (CJK, emoji, combining) column aligned', async () => {
    const rows = NAMES.map((name, i) => ({ name, id: `id${i}` }));
    const out = await renderTable(testIO(80), rows, WIDE_COLUMNS);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, NAMES.length + 1, out);
    // every ID starts at the same terminal column: the widest name (12) plus the two-space gap
    for (const line of lines) {
      const id = line.lastIndexOf(line.startsWith('NAME') ? 'ID' : 'id');
      assert.equal(columnsOf(line.slice(0, id)), 14, `misaligned:\n${out}`);
    }
    assert.match(lines[1]!, /^日本語の名前  id0$/);
    assert.match(lines[3]!, /^한국어 🎉     id2$/);
  });

  it('cuts wide text to the terminal by columns, with …, and never splits a character', async () => {
    const rows = NAMES.map((name, i) => ({ name, id: `id${i}` }));
    // 14 columns: the name column shrinks to 9 (14 - 2 - 3)
    const out = await renderTable(testIO(14), rows, WIDE_COLUMNS);
    const lines = out.trimEnd().split('\n');
    for (const line of lines) {
      assert.ok(columnsOf(line) <= 14, `wider than the terminal: ${JSON.stringify(line)}`);
      const id = line.lastIndexOf(line.startsWith('NAME') ? 'ID' : 'id');
      assert.equal(columnsOf(line.slice(0, id)), 11, `misaligned:\n${out}`);
    }
    assert.match(lines[1]!, /^日本語の…  id0$/);
    assert.match(lines[4]!, /^e\u0301 combin…  id3$/);
  });

  it('draws a 20,000-row page, its widths decided over the whole page (not per chunk)', async () => {
    const n = 20_000;
    const rows = Array.from({ length: n }, (_, i) => ({
      sid: 'UT' + String(i).padStart(32, '0'),
      // only the last row has a long category: every earlier row must still be padded to it
      usage_category: i === n - 1 ? 'calls-inbound-tollfree' : 'sms',
      trigger_by: 'usage',
      trigger_value: '100',
      current_value: '57',
      friendly_name: i === n / 2 ? '名前 \x1b[2J' : `n${i}`,
    }));
    const io = testIO(120);
    assert.equal(await renderList(rows, { io, format: 'table', csvFields: TRIGGER_CSV_FIELDS, columns: TRIGGER_COLUMNS }), n);
    const lines = io.text().split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, n + 1);
    const byAt = lines[0]!.indexOf('BY');
    assert.equal(byAt, 36 + 22 + 2, lines[0]);
    lines.slice(1).forEach((l, i) => assert.equal(l.indexOf(' usage ') + 1, byAt, `row ${i}: ${l}`));
    assert.match(lines[n / 2 + 1]!, / 名前 \\u001b\[2J$/);
    assert.match(lines[n]!, /^UT0+19999  calls-inbound-tollfree  usage .* n19999$/);
  });

  it('renders colour with the header bold and nothing else added', async () => {
    const io = testIO(80, 1);
    await loadColour(io); // main does this before any command runs
    const out = await renderTable(io, [{ name: '名前', id: 'x' }], [{ ...WIDE_COLUMNS[0]!, color: (c, t) => c.cyan(t) }, WIDE_COLUMNS[1]!]);
    assert.equal(out, '\x1b[1mNAME\x1b[22m  \x1b[1mID\x1b[22m\n\x1b[36m名前\x1b[39m  x\n');
  });
});

describe('utrig list as a table (subprocess)', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
    for (const name of ['日本語の名前', 'plain']) {
      await h.create({ UsageCategory: 'sms', TriggerValue: '10', CallbackUrl: 'https://example.com/hook', FriendlyName: name });
    }
  });
  after(() => h.close());

  it('aligns the columns after a CJK friendly name', async () => {
    const res = await h.run(['list', '-o', 'table', '--fields', 'friendly_name,trigger_value'], { env: { COLUMNS: '80' } });
    assertExit(res, 0);
    const lines = res.stdout.trimEnd().split('\n');
    // FRIENDLY_NAME (13 columns) is the widest; the 12-column name gets one blank, not seven
    assert.deepEqual(lines.slice(1).sort(), ['plain' + ' '.repeat(10) + '10', '日本語の名前' + ' '.repeat(3) + '10'], res.stdout);
    assert.equal(lines[0], 'FRIENDLY_NAME  TRIGGER_VALUE');
  });
});
