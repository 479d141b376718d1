// `kfn get <kind>` takes the names kubectl takes for kfn's CRDs, read from the CRD files
// themselves, so the CLI's names and the cluster's cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { KINDS } from '../../cmd/kfn/commands/resources.js';
import { fromRoot } from '../config/load.js';

interface CrdNames {
  plural: string;
  singular: string;
  shortNames?: string[];
}

function namesOf(file: string): CrdNames {
  const crd = parse(readFileSync(fromRoot(file), 'utf8')) as { spec: { names: CrdNames } };
  return crd.spec.names;
}

describe('kfn get: kind names are the CRDs\'', () => {
  for (const file of ['config/200-crd-function.yaml', 'config/210-crd-trigger.yaml']) {
    it(`${file}: plural, singular and every short name, and nothing else`, () => {
      const names = namesOf(file);
      assert.ok((names.shortNames ?? []).length > 0, 'the CRD has short names');
      const want = [names.plural, names.singular, ...(names.shortNames ?? [])].sort();
      const got = Object.entries(KINDS).filter(([, plural]) => plural === names.plural).map(([name]) => name).sort();
      assert.deepEqual(got, want);
    });
  }

  it('names no kind that has no CRD', () => {
    const plurals = new Set(['config/200-crd-function.yaml', 'config/210-crd-trigger.yaml'].map((f) => namesOf(f).plural));
    for (const [name, plural] of Object.entries(KINDS)) assert.ok(plurals.has(plural), `${name} → ${plural}`);
  });
});
