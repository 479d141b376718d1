import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import { FunctionStore, type StoreEvent } from '../../pkg/dev/store.js';
import { readManifests, ManifestError } from '../../pkg/dev/apply.js';

const fn = (spec: Partial<KfnFunction['spec']> = {}): KfnFunction => ({
  apiVersion: 'kfn.dev/v1alpha1',
  kind: 'Function',
  metadata: { name: 'hello', namespace: 'default' },
  spec: { image: 'kfn/hello', ...spec },
});

test('store: generation moves only when the spec changes, as on a cluster', () => {
  const store = new FunctionStore();
  const events: StoreEvent['type'][] = [];
  store.watch((e) => events.push(e.type));
  assert.equal(store.apply(fn()), 'created');
  assert.equal(store.apply(fn()), 'unchanged');
  assert.equal(store.apply(fn({ containerConcurrency: 4 })), 'configured');
  const key = { namespace: 'default', name: 'hello' };
  assert.equal(store.get(key)?.metadata.generation, 2);
  assert.equal(store.updateStatus(key, { replicas: 1 }), true);
  assert.equal(store.updateStatus(key, { replicas: 1 }), false, 'an equal status is not written');
  assert.equal(store.get(key)?.metadata.generation, 2, 'status does not move generation');
  assert.equal(store.delete(key), true);
  assert.deepEqual(events, ['applied', 'applied', 'status', 'deleted']);
});

test('readManifests: one bad document refuses the whole file, naming every problem', () => {
  const text = `
apiVersion: kfn.dev/v1alpha1
kind: Function
metadata: { name: good }
spec: { image: x }
---
apiVersion: kfn.dev/v1alpha1
kind: Function
metadata: { name: Bad_Name }
spec: { image: x, timeoutSeconds: 0 }
`;
  assert.throws(
    () => readManifests(text, { dir: '/tmp', source: 'f.yaml' }),
    (err: unknown) =>
      err instanceof ManifestError &&
      err.problems.some((p) => p.includes('metadata.name')) &&
      err.problems.some((p) => p.includes('spec.timeoutSeconds')),
  );
});

test('readManifests: defaults are applied and the manifest folder is recorded', () => {
  const [f] = readManifests('apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata: {name: a}\nspec: {image: x}\n', { dir: '/srv/fns', source: '/srv/fns/a.yaml' }).functions;
  assert.equal(f?.metadata.namespace, 'default');
  assert.equal(f?.spec.port, 8080);
  assert.equal(f?.metadata.annotations?.['kfn.dev/local-dir'], '/srv/fns');
});

test('readManifests: a Function defined twice in one apply is refused', () => {
  const doc = 'apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata: {name: a}\nspec: {image: x}\n';
  assert.throws(() => readManifests(`${doc}---\n${doc}`, { dir: '/', source: 'f' }), /defined twice/);
});

const triggerDoc = (name: string, spec: string): string => `apiVersion: kfn.dev/v1alpha1\nkind: Trigger\nmetadata: {name: ${name}}\nspec: ${spec}\n`;

test('readManifests: Functions and Triggers of one file, the Trigger in the default namespace', () => {
  const doc = 'apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata: {name: a}\nspec: {image: x}\n';
  const m = readManifests(`${doc}---\n${triggerDoc('on-orders', '{subject: orders.>, function: a}')}`, { dir: '/', source: 'f.yaml' });
  assert.equal(m.functions.length, 1);
  assert.equal(m.triggers[0]?.metadata.namespace, 'default');
  assert.equal(m.triggers[0]?.metadata.annotations?.['kfn.dev/source'], 'f.yaml');
});

test('readManifests: a bad Trigger refuses the whole file, naming the field', () => {
  const doc = 'apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata: {name: a}\nspec: {image: x}\n';
  assert.throws(
    () => readManifests(`${doc}---\n${triggerDoc('t', '{subject: "orders.>.x", function: a}')}`, { dir: '/', source: 'f.yaml' }),
    (err: unknown) => err instanceof ManifestError && err.problems.length === 1 && /Trigger default\/t: spec\.subject/.test(err.problems[0] ?? ''),
  );
});
