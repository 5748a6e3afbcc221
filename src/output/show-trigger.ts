import type { UsageTrigger } from '../api/types.js';
import type { Deps } from '../deps.js';
import type { IO } from '../io.js';
import { chooseFormat, parseFields, type Format } from './format.js';
import { renderOne, type Column } from './render.js';
import { TRIGGER_COLUMNS, TRIGGER_CSV_FIELDS, triggerDetail } from './triggers.js';

/** Output settings for trigger data. */
export function triggerRender(deps: Deps): { format: Format; fields: string[] | undefined; csvFields: readonly string[]; columns: Column[]; io: IO } {
  return {
    io: deps.io,
    format: chooseFormat(deps.io, deps.globals.output, deps.globals.json),
    fields: parseFields(deps.globals.fields, TRIGGER_CSV_FIELDS),
    csvFields: TRIGGER_CSV_FIELDS,
    columns: TRIGGER_COLUMNS,
  };
}

/** Writes one trigger in the chosen format; on a terminal, with its details (and progress, for get). */
export async function showTrigger(deps: Deps, t: UsageTrigger, progress = false): Promise<void> {
  const o = triggerRender(deps);
  await renderOne(t, { ...o, detail: triggerDetail(t, progress) });
}
