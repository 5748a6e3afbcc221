import type { ChalkInstance } from 'chalk';
import type { IO } from '../io.js';
import { csvLine } from './csv.js';
import type { Format } from './format.js';
import { pick } from './format.js';
import { chalkFor } from './messages.js';

type Row = Record<string, unknown>;

/** A column of a human table. */
export interface Column {
  header: string;
  /** The cell text (no colour). */
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

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

/** Text of a value in a table cell. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function fieldColumns(fields: string[]): Column[] {
  return fields.map((f) => ({ header: f.toUpperCase(), get: (r: Row) => cellText(r[f]), shrink: true }));
}

/** Decides column widths so the table fits the terminal, shrinking the shrinkable columns first. */
function fitWidths(columns: Column[], cells: string[][], width: number): number[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
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

/** Renders rows as a borderless, gh-style table. */
export async function renderTable(io: IO, rows: Row[], columns: Column[]): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const c = chalkFor(io);
  const cells = rows.map((r) => columns.map((col) => col.get(r)));
  const widths = fitWidths(columns, cells, io.columns);
  const table = new Table({
    head: columns.map((col) => c.bold(col.header)),
    chars: BORDERLESS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colWidths: widths,
    wordWrap: false,
    truncate: '…',
  });
  rows.forEach((r, i) => {
    table.push(
      columns.map((col, j) => {
        let text = cells[i]![j]!;
        if (text.length > widths[j]!) text = text.slice(0, widths[j]! - 1) + '…';
        return col.color ? col.color(c, text, r) : text;
      }),
    );
  });
  return (
    table
      .toString()
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n') + '\n'
  );
}

/**
 * Writes a stream of objects in the chosen format. json is an array, ndjson and csv are written
 * as rows arrive; a table waits for all rows. Returns how many rows were written.
 */
export async function renderList(rows: AsyncIterable<Row> | Iterable<Row>, o: RenderOptions): Promise<number> {
  const out = o.io.stdout;
  let n = 0;
  if (o.format === 'table') {
    const all: Row[] = [];
    for await (const r of rows) all.push(r);
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

/** Aligned "key  value" lines. */
export function keyValues(c: ChalkInstance, pairs: [string, string][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${c.bold(k.padEnd(w))}  ${v}`.trimEnd()).join('\n') + '\n';
}

/** Honours back-pressure so memory stays flat on long streams; ends quietly when the reader went away. */
function write(io: IO, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (io.stdout.write(chunk)) resolve();
    else io.stdout.once('drain', resolve);
  });
}
