// The build a kfn dev runs from, held for as long as it runs. `npm run build`
// (scripts/build.sh) compiles beside dist/ and swaps the dist symlink to the new build; it
// removes an old build only when no live kfn dev has claimed it. Node resolves the main
// module's symlinks, so this file's URL names the build folder itself, not dist.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled tree this module belongs to: <checkout>/dist.build-…, or dist/ in an image. */
export const buildRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** This build's kfn-node-runtime entry: replicas run it, so they keep this build's runtime too. */
export const buildRuntimeMain = path.join(buildRoot, 'pkg', 'runtime', 'main.js');

/** Claims the build for `pid`; resolves to the release. A tree not built by build.sh needs no claim. */
export async function claimBuild(pid = process.pid, root = buildRoot): Promise<() => Promise<void>> {
  if (!path.basename(root).startsWith('dist.build-')) return () => Promise.resolve();
  const file = path.join(root, '.kfn-dev', String(pid));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '');
  return () => rm(file, { force: true });
}
