// Writes config/2xx-crd-*.yaml from the schemas in pkg/apis/*/schema.ts: `npm run gen:crds`.
// test/apis/crd-generated.test.ts fails when the committed files are not what this writes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_SOURCES, renderCrd } from '../pkg/apis/crds.js';

/** The repository root, whether this runs from scripts/ (tsx) or dist/scripts/ (tsc). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above scripts/gen-crds');
    dir = parent;
  }
  return dir;
}

const root = repoRoot();
for (const src of CRD_SOURCES) {
  const file = path.join(root, src.file);
  const text = renderCrd(src);
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // A new CRD: nothing to compare with.
  }
  if (old === text) continue;
  writeFileSync(file, text);
  process.stdout.write(`wrote ${src.file}\n`);
}
