// The manifest folder kfn dev watches: one name, one file. A second file defining a name
// another file already defines is refused with both files named, and removing either file
// never takes away a function the other one still defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ManifestDirLoader } from '../../pkg/dev/loader.js';
import { SOURCE_ANNOTATION } from '../../pkg/dev/apply.js';
import { FunctionStore, TriggerStore, type StoreEvent } from '../../pkg/dev/store.js';
import { quietLogger } from '../../pkg/shared/log.js';

const hello = (image: string, name = 'hello'): string => `apiVersion: kfn.dev/v1alpha1
kind: Function
metadata: { name: ${name} }
spec: { image: ${image} }
`;

async function folder(t: { after(fn: () => Promise<void>): void }): Promise<{ dir: string; loader: ManifestDirLoader; functions: FunctionStore; events: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-loader-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const functions = new FunctionStore();
  const events: string[] = [];
  functions.watch((e: StoreEvent) => events.push(`${e.type} ${e.obj.metadata.name} ${e.obj.spec.image ?? ''}`));
  const loader = new ManifestDirLoader(dir, { functions, triggers: new TriggerStore() }, quietLogger());
  return { dir, loader, functions, events };
}

const key = { namespace: 'default', name: 'hello' };

test('loader: a name already defined by another file is refused, naming both files', async (t) => {
  const { dir, loader, functions } = await folder(t);
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  await writeFile(a, hello('from-a'));
  await writeFile(b, hello('from-b'));
  const problems = await loader.scan();
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /default\/hello/);
  assert.ok(problems[0]!.includes(a) && problems[0]!.includes(b), `both files named: ${problems[0]}`);
  const fn = functions.get(key);
  assert.equal(fn?.spec.image, 'from-a', 'the first file keeps the function');
  assert.equal(fn?.metadata.annotations?.[SOURCE_ANNOTATION], a);
});

test('loader: removing the refused duplicate leaves the function the other file defines', async (t) => {
  const { dir, loader, functions, events } = await folder(t);
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  await writeFile(a, hello('from-a'));
  await loader.scan();
  // The copy appears later (an editor's backup, a renamed copy): it must not take the name over.
  await writeFile(b, hello('from-b'));
  await loader.scan();
  await rm(b);
  await loader.scan();
  assert.equal(functions.get(key)?.spec.image, 'from-a');
  assert.deepEqual(events, ['applied hello from-a'], 'never reconfigured nor deleted');
});

test('loader: removing the owning file hands the function to the other file without deleting it', async (t) => {
  const { dir, loader, functions, events } = await folder(t);
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  await writeFile(a, hello('from-a'));
  await writeFile(b, hello('from-b'));
  await loader.scan();
  await rm(a);
  const problems = await loader.scan();
  assert.deepEqual(problems, []);
  const fn = functions.get(key);
  assert.equal(fn?.spec.image, 'from-b');
  assert.equal(fn?.metadata.annotations?.[SOURCE_ANNOTATION], b);
  assert.ok(!events.some((e) => e.startsWith('deleted')), `no delete: ${events.join(', ')}`);
  // And b now owns it: removing b deletes it.
  await rm(b);
  await loader.scan();
  assert.equal(functions.get(key), undefined);
});

test('loader: a refused file is applied once the conflict is gone, even if it did not change', async (t) => {
  const { dir, loader, functions } = await folder(t);
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  await writeFile(a, hello('from-a'));
  await writeFile(b, `${hello('from-b')}---\n${hello('other-b', 'other')}`);
  assert.equal((await loader.scan()).length, 1);
  assert.equal(functions.get({ namespace: 'default', name: 'other' }), undefined, 'a refused file changes nothing');
  // a renames its function: b's definitions no longer clash.
  await writeFile(a, hello('from-a', 'renamed'));
  const later = new Date(Date.now() + 5000);
  await utimes(a, later, later);
  assert.deepEqual(await loader.scan(), []);
  assert.equal(functions.get(key)?.spec.image, 'from-b');
  assert.equal(functions.get({ namespace: 'default', name: 'other' })?.spec.image, 'other-b');
  assert.equal(functions.get({ namespace: 'default', name: 'renamed' })?.spec.image, 'from-a');
});
