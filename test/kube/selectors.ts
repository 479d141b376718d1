// Label and field selectors, parsed once per request into predicates over stored objects.
import type { KubeObject } from './types.js';
import { errors } from './status.js';

export type ObjectPredicate = (obj: KubeObject) => boolean;

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** Splits on commas that are not inside `in (a,b)` parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function parseRequirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set) {
    const values = (set[3] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
    return { op: set[2] === 'in' ? 'in' : 'notin', key: set[1] ?? '', values };
  }
  const neq = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(term);
  if (neq) return { op: 'neq', key: neq[1] ?? '', value: neq[2] ?? '' };
  const eq = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(term);
  if (eq) return { op: 'eq', key: eq[1] ?? '', value: eq[2] ?? '' };
  const not = /^!\s*(\S+)$/.exec(term);
  if (not) return { op: 'notexists', key: not[1] ?? '' };
  if (/^[^\s!=(),]+$/.test(term)) return { op: 'exists', key: term };
  throw errors.badRequest(`unable to parse requirement: ${JSON.stringify(term)}`);
}

function matches(req: Requirement, value: string | undefined): boolean {
  switch (req.op) {
    case 'eq':
      return value === req.value;
    case 'neq':
      return value !== req.value;
    case 'in':
      return value !== undefined && req.values.includes(value);
    case 'notin':
      return value === undefined || !req.values.includes(value);
    case 'exists':
      return value !== undefined;
    case 'notexists':
      return value === undefined;
  }
}

export function parseLabelSelector(selector: string | null | undefined): ObjectPredicate {
  if (!selector) return () => true;
  const reqs = splitTerms(selector).map(parseRequirement);
  return (obj) => reqs.every((r) => matches(r, obj.metadata?.labels?.[r.key]));
}

/** Reads a dotted field path ('metadata.name', 'spec.nodeName') as the string a field selector compares. */
function fieldValue(obj: KubeObject, path: string): string | undefined {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}

/** Field selectors support only =, == and != on any dotted path; a missing field compares as ''. */
export function parseFieldSelector(selector: string | null | undefined): ObjectPredicate {
  if (!selector) return () => true;
  const reqs = splitTerms(selector).map(parseRequirement);
  for (const r of reqs) {
    if (r.op !== 'eq' && r.op !== 'neq') throw errors.badRequest(`invalid field selector term: only =, == and != are supported`);
  }
  return (obj) => reqs.every((r) => matches(r, fieldValue(obj, r.key) ?? ''));
}

export function both(a: ObjectPredicate, b: ObjectPredicate): ObjectPredicate {
  return (obj) => a(obj) && b(obj);
}
