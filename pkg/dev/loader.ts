// Keeps the stores in step with a folder of manifests: a file added or changed is applied,
// a resource removed from its file (or the file removed) is deleted. A file that does not
// parse or validate is reported and changes nothing: its resources stay as they were.
// A name belongs to one file: a file defining a name another file already holds is refused
// (both files named) and retried on every scan, so it takes over only once the other file
// lets go of the name, and removing either file never deletes what the other defines.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { keyOf } from '../apis/meta.js';
import type { Logger } from '../shared/log.js';
import { sleep } from '../shared/abort.js';
import { applyManifests, readManifests, ManifestError, SOURCE_ANNOTATION, type ResourceKind, type Stores } from './apply.js';
import { keyOfResource } from './store.js';

interface LoadedFile {
  /** mtime and size: cheap to compare on every scan. */
  stamp: string;
  /** `<kind>:<namespace>/<name>` of what the file holds. */
  keys: Set<string>;
  /** Refused because another file holds one of its names: retried on every scan. */
  conflict?: string;
}

export class ManifestDirLoader {
  private readonly files = new Map<string, LoadedFile>();

  constructor(
    private readonly dir: string,
    private readonly stores: Stores,
    private readonly log: Logger,
  ) {}

  /** One pass over the folder. Returns the problems found, one line each. */
  async scan(): Promise<string[]> {
    const problems: string[] = [];
    const present = new Set(await findManifests(this.dir));
    // Removed files let go of their names first, so a file that was refused for one of
    // them takes it over in this pass (reconfigured, not deleted and created again).
    const removed: Array<[string, LoadedFile]> = [];
    for (const [file, loaded] of this.files) {
      if (present.has(file)) continue;
      this.files.delete(file);
      removed.push([file, loaded]);
    }
    for (const file of present) {
      const problem = await this.load(file);
      if (problem) problems.push(problem);
    }
    for (const [file, loaded] of removed) {
      for (const k of loaded.keys) this.deleteOwned(k, file);
      this.log.info({ file }, 'manifest removed');
    }
    return problems;
  }

  /** Scans every `intervalMs` until aborted. */
  async watch(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(intervalMs, signal);
      if (signal.aborted) break;
      try {
        await this.scan();
      } catch (err) {
        this.log.error({ err, dir: this.dir }, 'scanning manifests failed');
      }
    }
  }

  private async load(file: string): Promise<string | undefined> {
    let stamp: string;
    let text: string;
    try {
      const st = await stat(file);
      stamp = `${st.mtimeMs}:${st.size}`;
      const known = this.files.get(file);
      if (known?.stamp === stamp && known.conflict === undefined) return undefined;
      text = await readFile(file, 'utf8');
    } catch (err) {
      return `${file}: ${(err as Error).message}`;
    }
    const previous = this.files.get(file);
    try {
      const m = readManifests(text, { dir: path.dirname(file), source: file, onlyKfn: true });
      const keys = new Set([
        ...m.functions.map((fn) => `Function:${keyOf(keyOfResource(fn))}`),
        ...m.triggers.map((t) => `Trigger:${keyOf(keyOfResource(t))}`),
      ]);
      const conflict = this.conflicts(file, keys);
      if (conflict) {
        if (previous?.conflict !== conflict || previous.stamp !== stamp) this.log.error({ file }, `manifest rejected, nothing changed: ${conflict}`);
        this.files.set(file, { stamp, keys: previous?.keys ?? new Set(), conflict });
        return conflict;
      }
      for (const r of applyManifests(this.stores, m)) {
        if (r.action !== 'unchanged') this.log.info({ [r.kind === 'Function' ? 'fn' : 'trigger']: keyOf(r.key), file }, `${r.kind.toLowerCase()} ${r.action}`);
      }
      for (const k of previous?.keys ?? []) if (!keys.has(k)) this.deleteOwned(k, file);
      this.files.set(file, { stamp, keys });
      return undefined;
    } catch (err) {
      // Remember the stamp so a bad file is reported once, not on every scan.
      this.files.set(file, { stamp, keys: previous?.keys ?? new Set() });
      const problems = err instanceof ManifestError ? err.problems : [String(err)];
      for (const p of problems) this.log.error({ file }, `manifest rejected, nothing changed: ${p}`);
      return problems.join('\n');
    }
  }

  /** The names of `keys` another loaded file holds, both files named; undefined when none. */
  private conflicts(file: string, keys: ReadonlySet<string>): string | undefined {
    const clashes: string[] = [];
    for (const [other, loaded] of this.files) {
      if (other === file) continue;
      for (const k of keys) {
        if (loaded.keys.has(k)) clashes.push(`${k.replace(':', ' ')} is already defined in ${other}`);
      }
    }
    if (clashes.length === 0) return undefined;
    return `${file}: ${clashes.join('; ')}; a name can be defined in one file only (rename it in one of them, or remove one file)`;
  }

  private deleteOwned(owned: string, file: string): void {
    const colon = owned.indexOf(':');
    const kind = owned.slice(0, colon) as ResourceKind;
    const k = owned.slice(colon + 1);
    const slash = k.indexOf('/');
    const key = { namespace: k.slice(0, slash), name: k.slice(slash + 1) };
    const store = kind === 'Function' ? this.stores.functions : this.stores.triggers;
    // A resource applied later through the CLI belongs to that apply, not to this file.
    if (store.get(key)?.metadata.annotations?.[SOURCE_ANNOTATION] !== file) return;
    store.delete(key);
    this.log.info({ [kind === 'Function' ? 'fn' : 'trigger']: k, file }, `${kind.toLowerCase()} deleted`);
  }
}

async function findManifests(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await findManifests(full)));
    else if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(full);
  }
  return out.sort();
}
