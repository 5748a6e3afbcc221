// A saved plan (`utrig plan --out plan.json`, `utrig apply plan.json`): written whole or not at all,
// and checked field by field when read back, since it decides what is sent.
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { checkCallbackMethod, checkCallbackUrl, checkCategory, checkRecurring, checkSid, checkTriggerBy, checkTriggerValue, quote } from '../rules.js';
import { checkOwnedName, friendlyName, specFromJson } from './identity.js';
import type { AccountPlan, PlanAction } from './plan.js';
import { PLAN_FORMAT } from './render.js';

export interface PlanFile {
  stream: WriteStream;
  /** Finishes the file and puts it in place. */
  commit(): Promise<void>;
  /** Drops what was written. */
  discard(): Promise<void>;
}

/** Opens a temporary file beside `path`; commit renames it over `path`, so a reader never sees half a plan. */
export async function openPlanFile(path: string): Promise<PlanFile> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) => reject(new UsageError(`--out ${quote(path)} cannot be written (${err.code ?? err.message})`)));
  });
  const finish = () => new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return {
    stream,
    async commit() {
      await finish();
      await rename(tmp, path);
    },
    async discard() {
      await finish().catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

/** A saved plan, read back. */
export interface SavedPlan {
  accounts: AccountPlan[];
  prune: boolean;
}

const KINDS = ['create', 'update', 'replace', 'delete', 'unchanged'];

/** Reads a saved plan; anything malformed is a UsageError naming the file and the place (nothing sent). */
export async function loadPlanFile(path: string): Promise<SavedPlan> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`plan file ${quote(path)} cannot be read (${err.code ?? err.message})`);
  });
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not a saved plan: not JSON (${(err as Error).message}); make one with \`utrig plan -f POLICY --out ${path}\``);
  }
  const doc = j as { format?: unknown; accounts?: unknown; prune?: unknown };
  if (typeof j !== 'object' || j === null || doc.format !== PLAN_FORMAT || !Array.isArray(doc.accounts)) {
    throw new UsageError(`${path} is not a saved plan (format ${PLAN_FORMAT}): make one with \`utrig plan -f POLICY --out ${path}\``);
  }
  const accounts = doc.accounts.map((a, i) => checkAccount(a, `${path}: accounts[${i}]`));
  return { accounts, prune: doc.prune === true };
}

function bad(where: string, what: string): never {
  throw new UsageError(`${where} ${what}`);
}

function checkAccount(a: unknown, where: string): AccountPlan {
  if (typeof a !== 'object' || a === null) bad(where, 'is not an account plan');
  const p = a as Partial<AccountPlan>;
  const sid = checkSid('AC', String(p.account_sid));
  if (!sid.ok) bad(`${where}.account_sid`, sid.reason);
  if (!Array.isArray(p.actions) || !Array.isArray(p.seen) || typeof p.live_count !== 'number') bad(where, 'lacks actions, seen or live_count');
  p.actions.forEach((x, k) => checkAction(x, `${where}.actions[${k}]`));
  for (const s of p.seen) if (typeof s !== 'object' || s === null || typeof (s as { sid?: unknown }).sid !== 'string') bad(`${where}.seen`, 'holds an entry without a sid');
  return { account_sid: p.account_sid!, friendly_name: p.friendly_name, actions: p.actions, kept: Array.isArray(p.kept) ? p.kept : [], unowned: Number(p.unowned) || 0, live_count: p.live_count, seen: p.seen, warnings: Array.isArray(p.warnings) ? p.warnings : [] };
}

function checkAction(x: unknown, where: string): void {
  const a = x as Partial<PlanAction>;
  if (typeof x !== 'object' || x === null || !KINDS.includes(String(a.action))) bad(`${where}.action`, `must be one of ${KINDS.join(', ')}`);
  const n = checkOwnedName(String(a.name));
  if (!n.ok) bad(`${where}.name`, n.reason);
  if (a.action !== 'create') {
    const s = checkSid('UT', String(a.sid));
    if (!s.ok) bad(`${where}.sid`, s.reason);
  }
  if (a.action === 'create' || a.action === 'update' || a.action === 'replace') {
    if (typeof a.desired !== 'object' || a.desired === null) bad(`${where}.desired`, 'is missing');
    const d = specFromJson(a.desired);
    const checks: [string, { ok: boolean; reason?: string }][] = [
      ['usage_category', checkCategory(d.category)],
      ['trigger_by', checkTriggerBy(d.triggerBy)],
      ['trigger_value', checkTriggerValue(d.value)],
      ['recurring', checkRecurring(d.recurring)],
      ['callback_url', checkCallbackUrl(d.callbackUrl)],
      ['callback_method', checkCallbackMethod(d.callbackMethod)],
    ];
    for (const [k, c] of checks) if (!c.ok) bad(`${where}.desired.${k}`, c.reason ?? 'is not valid');
    if (d.name !== a.name || friendlyName(d) !== a.desired.friendly_name) bad(`${where}.desired.friendly_name`, `must be utrig:${a.name}, optionally followed by a space and a description`);
  }
  if (a.action === 'update' && !Array.isArray(a.changes)) bad(`${where}.changes`, 'is missing');
}
