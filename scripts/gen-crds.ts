// Writes config/2xx-crd-*.yaml from the schemas in pkg/apis/*/schema.ts: `npm run gen:crds`.
// test/apis/crd-generated.test.ts fails when the committed files are not what this writes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CRD_SOURCES, renderCrd } from '../pkg/apis/crds.js';

/** Writes every CRD under `root` whose file differs from what its schema renders; returns the files written. */
export function generateCrds(root: string): string[] {
  const written: string[] = [];
  for (const src of CRD_SOURCES) {
    const file = path.join(root, src.file);
    const text = renderCrd(src);
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    writeFileSync(file, text);
    written.push(src.file);
  }
  return written;
}

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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const file of generateCrds(repoRoot())) process.stdout.write(`wrote ${file}\n`);
}
