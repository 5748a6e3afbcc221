// The policy file (issue 13): which accounts, and which usage triggers each should have. YAML or JSON,
// one schema: JSON is read by the same YAML parser (JSON is YAML 1.2), so both give the same nodes,
// with a line for every field. Every field is checked with src/rules.ts before anything is sent; an
// error names the file, the line and the field, and is a UsageError (exit 2).
//
// Longer than ~300 lines because the walk over the YAML nodes and the checks of each key belong
// together: split, each half would need the other's node helpers.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Document, LineCounter, Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { UsageError } from '../errors.js';
import { globToRegExp, type AccountStatusFilter, type SelectionOptions } from '../fleet/select.js';
import {
  ACCOUNT_STATUSES,
  checkCallbackMethod,
  checkCallbackUrl,
  checkCategory,
  checkRecurring,
  checkSid,
  checkTriggerBy,
  checkTriggerValue,
  quote,
  type CallbackMethod,
  type Checked,
  type RecurringValue,
  type TriggerByValue,
} from '../rules.js';
import { checkOwnedName, friendlyNameFor } from './identity.js';

/** One trigger as the policy wants it (defaults filled in). */
export interface TriggerSpec {
  /** The identity: the live trigger's friendly name is `utrig:<name>` (see identity.ts). */
  name: string;
  category: string;
  triggerBy: TriggerByValue;
  /** As written: a plain decimal, or +N (N above the current value when the trigger is created). */
  value: string;
  /** '' is once ever (Twilio's alltime is the same). */
  recurring: RecurringValue;
  callbackUrl: string;
  callbackMethod: CallbackMethod;
  /** Free text after the marker in the friendly name. */
  description?: string | undefined;
}

/** Where the policy picks its accounts. `current`: the account of the credentials (or --account-sid). */
export type PolicyAccounts =
  | { kind: 'current' }
  | { kind: 'fleet'; selection: Omit<SelectionOptions, 'concurrency'>; accountsFile?: string | undefined };

/** Fields an override may change for the accounts it names; null in `triggers` removes a trigger there. */
export interface Override {
  line: number;
  accounts?: Set<string>;
  accountName?: RegExp;
  triggers: Map<string, Partial<TriggerSpec> | null>;
}

export interface Policy {
  file: string;
  accounts: PolicyAccounts;
  triggers: TriggerSpec[];
  overrides: Override[];
}

const TRIGGER_KEYS = ['name', 'category', 'trigger_by', 'value', 'recurring', 'callback_url', 'callback_method', 'description'] as const;
const ACCOUNT_KEYS = ['current', 'all_subaccounts', 'include_parent', 'accounts', 'accounts_file', 'account_name', 'account_status'] as const;

/** A located failure: the walk stops at the first one. */
class PolicyError extends Error {
  constructor(
    readonly line: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Reads and checks a policy file; a UsageError names the file, line and field. */
export async function loadPolicy(file: string): Promise<Policy> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`policy file ${quote(file)} cannot be read (${err.code ?? err.message})`);
  });
  return parsePolicy(text, file);
}

/** Parses policy text (YAML or JSON); `file` names it in errors and anchors accounts_file. */
export async function parsePolicy(text: string, file: string): Promise<Policy> {
  Y = (await import('./yaml.js')).yaml;
  const lc: LineCounter = new Y.LineCounter();
  const doc: Document = Y.parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const line = lc.linePos(first.pos[0]).line;
    throw new UsageError(`${file} line ${line}: not valid YAML or JSON: ${first.message.split('\n')[0]}`);
  }
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  try {
    return walk(doc, file, lineOf);
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(`${file} line ${err.line}: ${err.field} ${err.reason}`);
    throw err;
  }
}

type LineOf = (n: Node | null | undefined) => number;

/** The yaml module, loaded by parsePolicy (kept off start-up). */
let Y: typeof import('yaml');
const isMap = (n: unknown): n is YAMLMap => Y.isMap(n);
const isSeq = (n: unknown): n is YAMLSeq => Y.isSeq(n);
const isScalar = (n: unknown): n is Scalar => Y.isScalar(n);

/** The pairs of a map node, keyed by their (string) key; unknown keys are an error listing the known ones. */
function entries(n: YAMLMap, field: string, known: readonly string[], lineOf: LineOf): Map<string, { node: Node | null; line: number }> {
  const out = new Map<string, { node: Node | null; line: number }>();
  for (const p of n.items as Pair[]) {
    const key = isScalar(p.key) ? String(p.key.value) : '';
    const line = lineOf(p.key as Node);
    if (!known.includes(key)) {
      throw new PolicyError(line, field === '' ? quote(key) : `${field}.${key}`, `is not a known field: accepted are ${known.join(', ')}`);
    }
    out.set(key, { node: (p.value as Node | null) ?? null, line });
  }
  return out;
}

/** A scalar as text, as written: a plain `+30` stays "+30" (YAML would read the number 30). */
function text(n: Node | null, line: number, field: string): string {
  if (!isScalar(n) || n.value === null) throw new PolicyError(line, field, 'needs a value (text or a number)');
  if (typeof n.value === 'object') throw new PolicyError(line, field, 'needs a single value, not a list or map');
  if (n.type === 'PLAIN' && typeof n.source === 'string' && typeof n.value !== 'string') return n.source;
  return String(n.value);
}

function bool(n: Node | null, line: number, field: string): boolean {
  if (isScalar(n) && typeof n.value === 'boolean') return n.value;
  throw new PolicyError(line, field, 'must be true or false');
}

function need<T>(c: Checked<T>, line: number, field: string): T {
  if (!c.ok) throw new PolicyError(line, field, c.reason);
  return c.value;
}

function walk(doc: Document, file: string, lineOf: LineOf): Policy {
  const root = doc.contents as Node | null;
  if (!isMap(root)) throw new PolicyError(lineOf(root), 'the policy', 'must be a map with accounts and triggers');
  const top = entries(root, '', ['version', 'accounts', 'triggers', 'overrides'], lineOf);
  const version = top.get('version');
  if (version && text(version.node, version.line, 'version') !== '1') throw new PolicyError(version.line, 'version', 'must be 1');
  const acc = top.get('accounts');
  const accounts: PolicyAccounts = acc ? parseAccounts(acc.node, acc.line, file, lineOf) : { kind: 'current' };
  const trg = top.get('triggers');
  const triggers: TriggerSpec[] = [];
  const names = new Set<string>();
  if (trg && trg.node !== null && !(isScalar(trg.node) && trg.node.value === null)) {
    if (!isSeq(trg.node)) throw new PolicyError(trg.line, 'triggers', 'must be a list of triggers');
    trg.node.items.forEach((item, i) => {
      const spec = parseTrigger(item as Node, `triggers[${i}]`, lineOf, undefined);
      if (names.has(spec.name)) throw new PolicyError(lineOf(item as Node), `triggers[${i}].name`, `${quote(spec.name)} is listed twice: each trigger needs its own name`);
      names.add(spec.name);
      triggers.push(spec);
    });
  }
  const ov = top.get('overrides');
  const overrides: Override[] = [];
  if (ov && ov.node !== null) {
    if (!isSeq(ov.node)) throw new PolicyError(ov.line, 'overrides', 'must be a list');
    ov.node.items.forEach((item, i) => overrides.push(parseOverride(item as Node, `overrides[${i}]`, lineOf, names)));
  }
  return { file, accounts, triggers, overrides };
}

function parseAccounts(n: Node | null, line: number, file: string, lineOf: LineOf): PolicyAccounts {
  if (isScalar(n) && n.value === 'current') return { kind: 'current' };
  if (!isMap(n)) throw new PolicyError(line, 'accounts', 'must be "current" or a map such as {all_subaccounts: true}');
  const e = entries(n, 'accounts', ACCOUNT_KEYS, lineOf);
  const get = (k: string) => e.get(k);
  const cur = get('current');
  if (cur && bool(cur.node, cur.line, 'accounts.current')) {
    if (e.size > 1) throw new PolicyError(cur.line, 'accounts.current', 'cannot be combined with other account selectors');
    return { kind: 'current' };
  }
  const all = get('all_subaccounts');
  const allOn = all ? bool(all.node, all.line, 'accounts.all_subaccounts') : false;
  const list = get('accounts');
  const fileE = get('accounts_file');
  if (!allOn && !list && !fileE) throw new PolicyError(line, 'accounts', 'selects nothing: give current: true, all_subaccounts: true, accounts: [AC…] or accounts_file');
  if (allOn && (list || fileE)) throw new PolicyError(all!.line, 'accounts.all_subaccounts', 'contradicts accounts/accounts_file: give one way to choose accounts');
  const sel: Omit<SelectionOptions, 'concurrency'> = { allSubaccounts: allOn, includeParent: false, accountStatus: 'active' };
  const inc = get('include_parent');
  if (inc) sel.includeParent = bool(inc.node, inc.line, 'accounts.include_parent');
  const name = get('account_name');
  if (name) {
    if (!allOn) throw new PolicyError(name.line, 'accounts.account_name', 'works with all_subaccounts only');
    sel.accountName = text(name.node, name.line, 'accounts.account_name');
  }
  const st = get('account_status');
  if (st) {
    if (!allOn) throw new PolicyError(st.line, 'accounts.account_status', 'works with all_subaccounts only');
    const v = text(st.node, st.line, 'accounts.account_status');
    const ok = [...ACCOUNT_STATUSES, 'all'];
    if (!ok.includes(v)) throw new PolicyError(st.line, 'accounts.account_status', `${quote(v)} is not one of ${ok.join(', ')}`);
    sel.accountStatus = v as AccountStatusFilter;
  }
  if (list) sel.accounts = sidList(list.node, list.line, 'accounts.accounts', lineOf);
  let accountsFile: string | undefined;
  if (fileE) accountsFile = resolve(dirname(file), text(fileE.node, fileE.line, 'accounts.accounts_file'));
  return { kind: 'fleet', selection: sel, accountsFile };
}

function sidList(n: Node | null, line: number, field: string, lineOf: LineOf): string[] {
  if (!isSeq(n)) throw new PolicyError(line, field, 'must be a list of account SIDs');
  return n.items.map((it, i) => need(checkSid('AC', text(it as Node, lineOf(it as Node), `${field}[${i}]`)), lineOf(it as Node), `${field}[${i}]`));
}

/** One trigger; `named`: the name is the key of an override (not a field); `partial`: every field is optional (an override of a listed name). */
function parseTrigger(n: Node, field: string, lineOf: LineOf, named: string | undefined, partial = false): TriggerSpec {
  const line = lineOf(n);
  if (!isMap(n)) throw new PolicyError(line, field, 'must be a map with name, category, value and callback_url');
  const e = entries(n, field, named !== undefined ? TRIGGER_KEYS.filter((k) => k !== 'name') : TRIGGER_KEYS, lineOf);
  const out: Partial<TriggerSpec> = named !== undefined ? { name: named } : {};
  for (const [k, { node, line: l }] of e) {
    const f = `${field}.${k}`;
    const v = text(node, l, f);
    switch (k) {
      case 'name':
        out.name = need(checkOwnedName(v), l, f);
        break;
      case 'category':
        out.category = need(checkCategory(v), l, f).category;
        break;
      case 'trigger_by':
        out.triggerBy = need(checkTriggerBy(v), l, f);
        break;
      case 'value':
        out.value = need(checkTriggerValue(v), l, f).text;
        break;
      case 'recurring':
        out.recurring = need(checkRecurring(v), l, f);
        break;
      case 'callback_url':
        out.callbackUrl = need(checkCallbackUrl(v), l, f);
        break;
      case 'callback_method':
        out.callbackMethod = need(checkCallbackMethod(v), l, f);
        break;
      case 'description':
        out.description = v;
        break;
    }
  }
  if (partial) return out as TriggerSpec;
  const keys = named !== undefined ? 'category, value and callback_url' : 'name, category, value and callback_url';
  for (const [k, key] of [['name', 'name'], ['category', 'category'], ['value', 'value'], ['callbackUrl', 'callback_url']] as const) {
    if (out[k] === undefined) throw new PolicyError(line, field, `is missing ${key} (each trigger needs ${keys})`);
  }
  const spec: TriggerSpec = {
    name: out.name!,
    category: out.category!,
    triggerBy: out.triggerBy ?? 'usage',
    value: out.value!,
    recurring: out.recurring === 'alltime' ? '' : (out.recurring ?? ''),
    callbackUrl: out.callbackUrl!,
    callbackMethod: out.callbackMethod ?? 'POST',
    description: out.description,
  };
  const fn = friendlyNameFor(spec);
  if (!fn.ok) throw new PolicyError(line, `${field}.description`, `makes the friendly name ${fn.reason}`);
  return spec;
}

function parseOverride(n: Node, field: string, lineOf: LineOf, names: Set<string>): Override {
  const line = lineOf(n);
  if (!isMap(n)) throw new PolicyError(line, field, 'must be a map with accounts (or account_name) and triggers');
  const e = entries(n, field, ['accounts', 'account_name', 'triggers'], lineOf);
  const o: Override = { line, triggers: new Map() };
  const acc = e.get('accounts');
  if (acc) o.accounts = new Set(sidList(acc.node, acc.line, `${field}.accounts`, lineOf));
  const nm = e.get('account_name');
  if (nm) {
    o.accountName = globToRegExp(text(nm.node, nm.line, `${field}.account_name`));
  }
  if (!acc && !nm) throw new PolicyError(line, field, 'names no accounts: give accounts: [AC…] or account_name: "glob"');
  const t = e.get('triggers');
  if (!t || !isMap(t.node)) throw new PolicyError(t?.line ?? line, `${field}.triggers`, 'must be a map of trigger names to the fields to change (or null to leave the trigger out)');
  for (const p of t.node.items as Pair[]) {
    const key = isScalar(p.key) ? String(p.key.value) : '';
    const kl = lineOf(p.key as Node);
    const f = `${field}.triggers.${key}`;
    need(checkOwnedName(key), kl, f);
    const v = p.value as Node | null;
    if (v === null || (isScalar(v) && v.value === null)) {
      o.triggers.set(key, null);
      continue;
    }
    // a name the policy does not list: a trigger only these accounts have, so every field is needed
    o.triggers.set(key, parseTrigger(v, f, lineOf, key, names.has(key)));
  }
  return o;
}

/** The triggers one account should have: the policy's, changed by each override that names the account (later ones win). */
export function desiredFor(p: Policy, account: string, accountName: string | undefined): Map<string, TriggerSpec> {
  const out = new Map(p.triggers.map((t) => [t.name, t]));
  for (const o of p.overrides) {
    const hit = (o.accounts?.has(account) ?? false) || (o.accountName !== undefined && accountName !== undefined && o.accountName.test(accountName));
    if (!hit) continue;
    for (const [name, change] of o.triggers) {
      if (change === null) out.delete(name);
      else {
        const base = out.get(name);
        const merged = { ...(base ?? {}), ...stripUndefined(change) } as TriggerSpec;
        if (merged.recurring === 'alltime') merged.recurring = '';
        merged.triggerBy ??= 'usage';
        merged.callbackMethod ??= 'POST';
        merged.recurring ??= '';
        out.set(name, merged);
      }
    }
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
