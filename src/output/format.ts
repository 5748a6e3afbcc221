import { UsageError } from '../errors.js';
import type { IO } from '../io.js';

export const FORMATS = ['table', 'json', 'ndjson', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** Picks the output format: --output or --json wins; a TTY gets a table; anything else JSON. */
export function chooseFormat(io: IO, output: string | undefined, json: boolean | undefined): Format {
  if (json && output !== undefined && output !== 'json') {
    throw new UsageError(`--json and --output ${output} disagree: give one of them`);
  }
  if (json) return 'json';
  if (output !== undefined) {
    if (!(FORMATS as readonly string[]).includes(output)) {
      throw new UsageError(`--output must be one of ${FORMATS.join(', ')}; got "${output}"`);
    }
    return output as Format;
  }
  return io.stdoutIsTTY ? 'table' : 'json';
}

/** Parses --fields against the fields an object may have. */
export function parseFields(raw: string | undefined, known: readonly string[]): string[] | undefined {
  if (raw === undefined) return undefined;
  const fields = raw
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (fields.length === 0) throw new UsageError(`--fields needs at least one field name: ${known.join(', ')}`);
  const unknown = fields.filter((f) => !known.includes(f));
  if (unknown.length > 0) {
    throw new UsageError(`--fields: unknown field ${unknown.map((f) => `"${f}"`).join(', ')}; known fields: ${known.join(', ')}`);
  }
  return fields;
}

/** Keeps only the chosen fields, in the order given. */
export function pick(obj: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  if (!fields) return obj;
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f] = obj[f] ?? null;
  return out;
}
