// Where things are, from the compiled file's location (dist/bench/lib/paths.js).
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The compiled benchmark entries. */
export const benchDist = path.join(repoRoot, 'dist/bench');
export const runtimeMain = path.join(repoRoot, 'dist/pkg/runtime/main.js');
export const helloDir = path.join(repoRoot, 'samples/hello');
export const helloHandler = path.join(helloDir, 'handler.js');
export const resultsDir = path.join(repoRoot, 'bench/results');

/**
 * Whether the module at `moduleUrl` is the process's entry. Node loads the entry by its
 * real path, and `dist` is a symlink to the current build (scripts/build.sh), so argv[1]
 * is resolved the same way before comparing.
 */
export function isEntry(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(realpathSync(entry)).href;
}
