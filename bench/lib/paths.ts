// Where things are, from the compiled file's location (dist/bench/lib/paths.js).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The compiled benchmark entries. */
export const benchDist = path.join(repoRoot, 'dist/bench');
export const runtimeMain = path.join(repoRoot, 'dist/pkg/runtime/main.js');
export const helloDir = path.join(repoRoot, 'samples/hello');
export const helloHandler = path.join(helloDir, 'handler.js');
export const resultsDir = path.join(repoRoot, 'bench/results');
