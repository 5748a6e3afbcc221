import type { ChalkInstance } from 'chalk';
import type { IO } from '../io.js';
import { csvLine } from './csv.js';
import { escapeControls } from './escape.js';
import type { Format } from './format.js';
import { pick } from './format.js';
import { chalkFor } from './messages.js';

type Row = Record<string, unknown>;

/** A column of a human table. */
export interface Column {
  header: string;
  /** The cell text (no colour); the renderer makes its control characters visible. */
  get: (row: Row) => string;
  /** Colour for the cell; applied after widths are decided. */
  color?: (c: ChalkInstance, text: string, row: Row) => string;
  /**
   * May be cut (to no less than 8 columns) when the table is wider than the terminal. A number ranks
   * the shrinkable columns: the highest is cut first, and a lower one only once every higher one is at
   * its floor (true is 1). Within a rank the widest is cut first, down to the next widest, then evenly.
   */
  shrink?: boolean | number;
}

export interface RenderOptions {
  io: IO;
  format: Format;
  /** --fields: keep these fields, in this order, in every format. */
  fields?: string[] | undefined;
  /** The fields of csv output (all of the object's fields, in a stable order). */
  csvFields: readonly string[];
  /** Table columns when no --fields was given. */
  columns: Column[];
}

/** Text of a value in a table cell or detail view, its control characters made visible. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return escapeControls(typeof v === 'object' ? JSON.stringify(v) : String(v));
}

function fieldColumns(fields: string[]): Column[] {
  return fields.map((f) => ({ header: f.toUpperCase(), get: (r: Row) => cellText(r[f]), shrink: true }));
}

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

/** Rows per cli-table3 instance: its layout pass spreads every row into one call, so a whole page would overflow the stack. */
const CHUNK_ROWS = 100;

type Measure = (text: string) => number;

/**
 * Loads cli-table3 (only when a table is drawn) and string-width. We declare string-width at the major
 * cli-table3 depends on (^4.2), so npm installs one copy and our widths come from the function its
 * padding uses: a column decided here is exactly as wide as the one it draws.
 */
async function loadTable(): Promise<{ Table: typeof import('cli-table3'); measure: Measure }> {
  const [{ default: Table }, { default: stringWidth }] = await Promise.all([import('cli-table3'), import('string-width')]);
  // printable ASCII is one column a character: skip string-width's regexes for the common case
  const measure = (text: string): number => (/^[\x20-\x7e]*$/.test(text) ? text.length : stringWidth(text));
  return { Table, measure };
}

/** Decides column widths (in terminal columns) so the table fits the terminal, shrinking the shrinkable columns first. */
function fitWidths(columns: Column[], heads: string[], cells: string[][], width: number, measure: Measure): number[] {
  // one pass, a loop rather than Math.max(...cells): a spread of a 300,000-row page overflows the stack
  const widths = heads.map(measure);
  for (const r of cells) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, measure(r[i] ?? ''));
  }
  const gap = 2 * (columns.length - 1);
  let over = widths.reduce((a, b) => a + b, 0) + gap - width;
  const rank = (c: Column): number => (c.shrink === true ? 1 : typeof c.shrink === 'number' ? c.shrink : 0);
  while (over > 0) {
    // the highest rank with a column still above the floor; in it, the widest and the next widest
    let top = 0;
    columns.forEach((c, i) => {
      if (widths[i]! > 8) top = Math.max(top, rank(c));
    });
    if (top <= 0) break;
    let widest = -1;
    let next = 8;
    columns.forEach((c, i) => {
      if (rank(c) !== top || widths[i]! <= 8) return;
      if (widest < 0 || widths[i]! > widths[widest]!) {
        if (widest >= 0) next = Math.max(next, widths[widest]!);
        widest = i;
      } else next = Math.max(next, widths[i]!);
    });
    // cut the widest down to the next widest (at least one column), so columns of a rank shrink evenly
    const cut = Math.min(over, Math.max(1, widths[widest]! - next));
    widths[widest]! -= cut;
    over -= cut;
  }
  return widths;
}

/**
 * The width a table must fit: the terminal's on a terminal. In a pipe there is no width to fit (as gh
 * prints full values when piped), so nothing is cut, unless COLUMNS asks for one explicitly.
 */
function tableWidth(io: IO): number {
  if (io.stdoutIsTTY) return io.columns;
  const asked = Number(io.env.COLUMNS);
  return Number.isInteger(asked) && asked > 0 ? asked : Number.POSITIVE_INFINITY;
}

let graphemes: Intl.Segmenter | undefined;

/** Cuts text to at most `width` terminal columns, ending in '…' when it was cut; never splits a character. */
function truncate(text: string, width: number, measure: Measure): string {
  if (measure(text) <= width) return text;
  const room = Math.max(0, width - 1);
  if (/^[\x20-\x7e]*$/.test(text)) return text.slice(0, room) + '…';
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let out = '';
  for (const { segment } of graphemes.segment(text)) {
    if (measure(out + segment) > room) break;
    out += segment;
  }
  return out + '…';
}

/**
 * Yields a borderless, gh-style table in pieces: columns two spaces apart, cells padded to the
 * column width (wide CJK and emoji count as two columns), trailing blanks trimmed. Widths are decided
 * once for the whole page; cli-table3 then draws CHUNK_ROWS rows at a time with those fixed widths.
 * Cells are cut to fit before they are coloured, so cli-table3 only pads and joins.
 */
async function* tableChunks(io: IO, rows: Row[], columns: Column[]): AsyncGenerator<string> {
  const { Table, measure } = await loadTable();
  const c = chalkFor(io);
  // every cell is escaped here, so a table declared anywhere shows hostile text inert
  const heads = columns.map((col) => escapeControls(col.header));
  const cells = rows.map((r) => columns.map((col) => escapeControls(col.get(r))));
  const widths = fitWidths(columns, heads, cells, tableWidth(io), measure);
  const options = {
    chars: BORDERLESS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colWidths: widths,
    wordWrap: false,
    truncate: '…',
  };
  const trim = (drawn: string): string =>
    drawn
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n') + '\n';
  const head = heads.map((h, j) => c.bold(truncate(h, widths[j]!, measure)));
  if (rows.length === 0) {
    yield trim(new Table({ ...options, head }).toString());
    return;
  }
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const table = new Table({ ...options, head: start === 0 ? head : [] });
    const end = Math.min(rows.length, start + CHUNK_ROWS);
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      table.push(
        cells[i]!.map((t, j) => {
          const text = truncate(t, widths[j]!, measure);
          return columns[j]!.color ? columns[j]!.color!(c, text, r) : text;
        }),
      );
    }
    yield trim(table.toString());
  }
}

/** Renders rows as a borderless, gh-style table (see tableChunks). */
export async function renderTable(io: IO, rows: Row[], columns: Column[]): Promise<string> {
  let out = '';
  for await (const chunk of tableChunks(io, rows, columns)) out += chunk;
  return out;
}

/**
 * Writes a stream of objects in the chosen format. json is an array, ndjson and csv are written
 * as rows arrive; a table waits for all rows. Returns how many rows were written.
 */
export async function renderList(rows: AsyncIterable<Row> | Iterable<Row>, o: RenderOptions): Promise<number> {
  const out = o.io.stdout;
  let n = 0;
  if (o.format === 'table') {
    let all: Row[];
    if (Array.isArray(rows)) all = rows;
    else {
      all = [];
      for await (const r of rows) all.push(r);
    }
    if (all.length > 0) {
      for await (const chunk of tableChunks(o.io, all, o.fields ? fieldColumns(o.fields) : o.columns)) await write(o.io, chunk);
    }
    return all.length;
  }
  const csvFields = o.fields ?? o.csvFields;
  const batch = new Batch(o.io);
  for await (const r of rows) {
    const row = pick(r, o.fields);
    if (o.format === 'json') {
      const text = JSON.stringify(row, null, 2).replace(/\n/g, '\n  ');
      await batch.write((n === 0 ? '[\n  ' : ',\n  ') + text);
    } else if (o.format === 'ndjson') {
      await batch.write(JSON.stringify(row) + '\n');
    } else {
      if (n === 0) await batch.write(csvLine(csvFields as string[]));
      await batch.write(csvLine(csvFields.map((f) => r[f])));
    }
    n++;
  }
  await batch.flush();
  if (o.format === 'json') out.write(n === 0 ? '[]\n' : '\n]\n');
  return n;
}

/**
 * Rows for stdout, written together: the rows of one page arrive without a wait in between, and a write per row
 * cost ~10 ms per 1,000 rows (a pipe write each). What is held goes out as soon as the loop waits for anything
 * (setImmediate runs then, so a page's rows are on stdout before the next page is asked for), at 64 KiB, and
 * at the end; a full stdout still holds the next write back until it drains.
 */
class Batch {
  private text = '';
  private timer: NodeJS.Immediate | undefined;
  private drained: Promise<void> | undefined;
  constructor(private readonly io: IO) {}

  async write(chunk: string): Promise<void> {
    if (this.drained) await this.drained;
    this.text += chunk;
    if (this.text.length >= 65_536) await this.flush();
    else this.timer ??= setImmediate(() => void this.flush());
  }

  flush(): Promise<void> {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    if (this.text !== '') {
      const text = this.text;
      this.text = '';
      const drained: Promise<void> = write(this.io, text).then(() => {
        if (this.drained === drained) this.drained = undefined;
      });
      this.drained = drained;
    }
    return this.drained ?? Promise.resolve();
  }
}

/** Writes one object in the chosen format; for a table, the given key/value lines. */
export async function renderOne(row: Row, o: RenderOptions & { detail: (c: ChalkInstance) => string }): Promise<void> {
  const out = o.io.stdout;
  const r = pick(row, o.fields);
  switch (o.format) {
    case 'json':
      out.write(JSON.stringify(r, null, 2) + '\n');
      return;
    case 'ndjson':
      out.write(JSON.stringify(r) + '\n');
      return;
    case 'csv': {
      const fields = o.fields ?? o.csvFields;
      out.write(csvLine(fields as string[]) + csvLine(fields.map((f) => row[f])));
      return;
    }
    case 'table':
      if (o.fields) out.write(keyValues(chalkFor(o.io), o.fields.map((f) => [f, cellText(row[f])])));
      else out.write(o.detail(chalkFor(o.io)));
  }
}

/** Aligned "key  value" lines; values arrive escaped (cellText) and perhaps coloured. */
export function keyValues(c: ChalkInstance, pairs: [string, string][]): string {
  const keys = pairs.map(([k]) => escapeControls(k));
  const w = keys.reduce((m, k) => Math.max(m, k.length), 0);
  return pairs.map(([, v], i) => `${c.bold(keys[i]!.padEnd(w))}  ${v}`.trimEnd()).join('\n') + '\n';
}

/** Honours back-pressure so memory stays flat on long streams; ends quietly when the reader went away. */
function write(io: IO, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (io.stdout.write(chunk)) resolve();
    else io.stdout.once('drain', resolve);
  });
}
