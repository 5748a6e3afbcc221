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
  /** May be truncated when the table is wider than the terminal. */
  shrink?: boolean;
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

/** Decides column widths so the table fits the terminal, shrinking the shrinkable columns first. */
function fitWidths(columns: Column[], cells: string[][], width: number): number[] {
  // a loop, not Math.max(...cells): a spread of a 300,000-row page overflows the stack
  const widths = columns.map((c) => c.header.length);
  for (const r of cells) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  }
  const gap = 2 * (columns.length - 1);
  let over = widths.reduce((a, b) => a + b, 0) + gap - width;
  while (over > 0) {
    let widest = -1;
    columns.forEach((c, i) => {
      if (c.shrink && widths[i]! > 8 && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    const cut = Math.min(over, widths[widest]! - 8);
    widths[widest]! -= cut;
    over -= cut;
  }
  return widths;
}

/**
 * Renders rows as a borderless, gh-style table: columns two spaces apart, cells padded to the
 * column width, trailing blanks trimmed. Drawn here rather than by cli-table3, whose layout pass
 * spreads all rows into one call (a stack overflow at 300,000 rows) and costs about a millisecond a
 * row; cells are escaped single lines, so none of its wrapping or spanning is needed.
 */
export async function renderTable(io: IO, rows: Row[], columns: Column[]): Promise<string> {
  const c = chalkFor(io);
  // every cell is escaped here, so a table declared anywhere shows hostile text inert
  const cells = rows.map((r) => columns.map((col) => escapeControls(col.get(r))));
  const widths = fitWidths(columns, cells, io.columns);
  const line = (texts: string[], paint: (text: string, j: number) => string): string =>
    texts
      .map((t, j) => {
        const text = t.length > widths[j]! ? t.slice(0, Math.max(0, widths[j]! - 1)) + '…' : t;
        return paint(text, j) + (j < texts.length - 1 ? ' '.repeat(widths[j]! - text.length) : '');
      })
      .join('  ')
      .trimEnd();
  const lines = [line(columns.map((col) => escapeControls(col.header)), (t) => c.bold(t))];
  rows.forEach((r, i) => {
    lines.push(line(cells[i]!, (t, j) => (columns[j]!.color ? columns[j]!.color!(c, t, r) : t)));
  });
  return lines.join('\n') + '\n';
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
    if (all.length > 0) out.write(await renderTable(o.io, all, o.fields ? fieldColumns(o.fields) : o.columns));
    return all.length;
  }
  const csvFields = o.fields ?? o.csvFields;
  for await (const r of rows) {
    const row = pick(r, o.fields);
    if (o.format === 'json') {
      const text = JSON.stringify(row, null, 2).replace(/\n/g, '\n  ');
      await write(o.io, (n === 0 ? '[\n  ' : ',\n  ') + text);
    } else if (o.format === 'ndjson') {
      await write(o.io, JSON.stringify(row) + '\n');
    } else {
      if (n === 0) await write(o.io, csvLine(csvFields as string[]));
      await write(o.io, csvLine(csvFields.map((f) => r[f])));
    }
    n++;
  }
  if (o.format === 'json') out.write(n === 0 ? '[]\n' : '\n]\n');
  return n;
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
