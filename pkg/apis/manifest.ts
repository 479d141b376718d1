// Reading multi-document YAML manifests, as `kubectl apply -f` does. A file with any bad
// document is rejected whole, naming every bad document, so applying it changes nothing.
// Documents of other API groups come back with their kind, for callers to skip.
import { parseAllDocuments } from 'yaml';
import { GROUP } from './meta.js';
import { FUNCTION_KIND } from './function/types.js';
import { TRIGGER_KIND } from './trigger/types.js';

/** The kinds of the kfn.dev group; a document of any other kfn.dev kind is an error. */
export const KFN_KINDS: readonly string[] = [FUNCTION_KIND, TRIGGER_KIND];

/** A document as parsed: apiVersion and kind are known to be set, the rest is unchecked. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata?: unknown;
  spec?: unknown;
  [field: string]: unknown;
}

export interface ParsedDoc {
  kind: string;
  apiVersion: string;
  /** Unvalidated: run the kind's validator before treating it as that kind. */
  object: ManifestObject;
  /** The file (or other origin) named in errors. */
  source: string;
  /** Position of the document in the stream, from 0, counting empty documents. */
  index: number;
}

export interface ManifestProblem {
  source: string;
  index: number;
  message: string;
}

export class ManifestParseError extends Error {
  constructor(readonly problems: ManifestProblem[]) {
    super(problems.map((p) => `${p.source}: document ${p.index + 1}: ${p.message}`).join('\n'));
    this.name = 'ManifestParseError';
  }
}

/** Every non-empty document of `text`; throws ManifestParseError naming each bad one. */
export function parseManifests(text: string, source = '<input>'): ParsedDoc[] {
  const docs: ParsedDoc[] = [];
  const problems: ManifestProblem[] = [];
  parseAllDocuments(text).forEach((doc, index) => {
    const fail = (message: string): void => void problems.push({ source, index, message });
    const syntaxError = doc.errors[0];
    if (syntaxError) return fail(firstLine(syntaxError.message));
    if (doc.contents === null) return;
    let object: unknown;
    try {
      // A bounded alias count keeps a "billion laughs" document from exhausting memory.
      object = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      return fail(err instanceof Error ? firstLine(err.message) : String(err));
    }
    if (object == null) return;
    if (typeof object !== 'object' || Array.isArray(object)) return fail('must be a mapping with apiVersion and kind');
    const fields = object as Record<string, unknown>;
    const { apiVersion, kind } = fields;
    if (typeof apiVersion !== 'string' || apiVersion === '') return fail('apiVersion is missing');
    if (typeof kind !== 'string' || kind === '') return fail('kind is missing');
    if (apiVersion.startsWith(`${GROUP}/`) && !KFN_KINDS.includes(kind)) {
      return fail(`unknown kind "${kind}" in ${GROUP}; known kinds: ${KFN_KINDS.join(', ')}`);
    }
    docs.push({ kind, apiVersion, object: { ...fields, apiVersion, kind }, source, index });
  });
  if (problems.length > 0) throw new ManifestParseError(problems);
  return docs;
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
