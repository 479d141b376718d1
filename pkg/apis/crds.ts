// The CRDs in config/ as generated from the schemas (pkg/apis/*/schema.ts). Pure: the
// writing is scripts/gen-crds.ts, and test/apis/crd-generated.test.ts compares what is
// committed with what this renders.
import { Document } from 'yaml';
import { customResourceDefinition, type CrdSource } from './schema.js';
import { functionCrd } from './function/schema.js';
import { triggerCrd } from './trigger/schema.js';

export const CRD_SOURCES: readonly CrdSource[] = [functionCrd, triggerCrd];

/** How to regenerate, for the files' header and the drift test's message. */
export const GENERATE_COMMAND = 'npm run gen:crds';

/** The text of `src.file`: a header saying where it comes from, then the CRD. */
export function renderCrd(src: CrdSource): string {
  const doc = new Document(customResourceDefinition(src), { version: '1.1' });
  doc.commentBefore = [
    ` GENERATED from ${src.schemaFile} by \`${GENERATE_COMMAND}\`; do not edit.`,
    ' That file is the one definition of this resource: the TypeScript types and the',
    ' validator kfn dev and the controller run are derived from it as well.',
    '',
    ...src.header.split('\n').map((l) => (l ? ` ${l}` : '')),
  ].join('\n');
  // YAML 1.1, as kubectl reads it: "on", "y" and the like stay quoted strings.
  return doc.toString({ lineWidth: 120 });
}
