// config/'s CRDs are generated from the schemas in pkg/apis/*/schema.ts. This proves the
// committed files are exactly what the schemas generate, so a schema change without
// `npm run gen:crds` (or a hand edit of the YAML) fails here, with the command to run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateCrds } from '../../scripts/gen-crds.js';
import { parse as parseYaml } from 'yaml';
import { CRD_SOURCES, GENERATE_COMMAND, renderCrd } from '../../pkg/apis/crds.js';
import { customResourceDefinition } from '../../pkg/apis/schema.js';
import { fromRoot } from './crd-model.js';

/** The first line where the two texts differ, to say where the drift is. */
function firstDifference(want: string, got: string): string {
  const [w, g] = [want.split('\n'), got.split('\n')];
  const i = w.findIndex((line, n) => line !== g[n]);
  const at = i === -1 ? w.length : i;
  return `line ${at + 1}: generated ${JSON.stringify(w[at] ?? '<end>')}, committed ${JSON.stringify(g[at] ?? '<end>')}`;
}

describe('config/ CRDs are generated from pkg/apis/*/schema.ts', () => {
  it('has a source for both kinds', () => {
    assert.deepEqual(CRD_SOURCES.map((s) => s.kind), ['Function', 'Trigger']);
  });

  for (const src of CRD_SOURCES) {
    it(`${src.file} is what ${src.schemaFile} generates`, () => {
      const committed = readFileSync(fromRoot(src.file), 'utf8');
      const generated = renderCrd(src);
      assert.ok(
        committed === generated,
        `${src.file} is not what ${src.schemaFile} generates; run \`${GENERATE_COMMAND}\` and commit the result (${firstDifference(generated, committed)})`,
      );
    });

    it(`${src.file} reads back as the CRD object, through a YAML 1.1 reader's eyes too`, () => {
      const text = renderCrd(src);
      const want = JSON.parse(JSON.stringify(customResourceDefinition(src))) as unknown;
      assert.deepEqual(parseYaml(text), want);
      assert.deepEqual(parseYaml(text, { version: '1.1' }), want);
    });
  }

  it(`${GENERATE_COMMAND} rewrites a stale or missing CRD, and leaves an up-to-date one alone`, () => {
    const root = mkdtempSync(path.join(tmpdir(), 'kfn-gen-crds-'));
    try {
      mkdirSync(path.join(root, 'config'));
      const [fresh, stale] = CRD_SOURCES;
      assert.ok(fresh && stale);
      copyFileSync(fromRoot(fresh.file), path.join(root, fresh.file));
      writeFileSync(path.join(root, stale.file), '# edited by hand\n');
      assert.deepEqual(generateCrds(root), [stale.file]);
      assert.equal(readFileSync(path.join(root, stale.file), 'utf8'), renderCrd(stale));
      rmSync(path.join(root, fresh.file));
      assert.deepEqual(generateCrds(root), [fresh.file]);
      assert.deepEqual(generateCrds(root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
