// The CLI and the manifest folder as a user meets them: apply, get, invoke, delete, and
// bad manifests that are refused with the field named and change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { helloManifest, startDev } from '../util/dev.js';
import { waitFor } from '../util/wait.js';

const FAST = ['--stable-window', '3s', '--scale-to-zero-grace', '1s', '--tick', '500ms'];

test('kfn apply, get, invoke and delete work against kfn dev', async () => {
  const dev = await startDev({}, FAST);
  try {
    const file = path.join(dev.dir, 'applied.json');
    // min 1: the test must not race the (short) scale-to-zero window.
    await writeFile(file, helloManifest('applied', { scale: { min: 1 } }));
    // Not a .yaml file, so the folder scan leaves it to `kfn apply`.
    const applied = await dev.kfn('apply', '-f', file);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /function\.kfn\.dev\/applied created/);

    const again = await dev.kfn('apply', '-f', file);
    assert.match(again.stdout, /function\.kfn\.dev\/applied unchanged/);

    await dev.waitStatus('applied to be ready', 'applied', (fn) => (fn.status?.readyReplicas ?? 0) >= 1);
    const list = await dev.kfn('get');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /NAME\s+URL\s+READY\s+REPLICAS/);
    assert.match(list.stdout, /applied\s+http:\/\/\S+\/default\/applied\/\s+True\s+1\/1/, list.stdout);

    const detail = await dev.kfn('get', 'applied');
    assert.match(detail.stdout, /DeploymentReady\s+True/, detail.stdout);

    const invoked = await dev.kfn('invoke', 'applied', '--path', '/greet', '-d', 'hi there');
    assert.equal(invoked.code, 0, invoked.stderr);
    const echo = JSON.parse(invoked.stdout) as { method: string; path: string; body: string };
    assert.deepEqual([echo.method, echo.path, echo.body], ['POST', '/greet', 'hi there']);

    const deleted = await dev.kfn('delete', 'applied');
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await dev.kfn('get', 'applied');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /function default\/applied not found/);
  } finally {
    await dev.stop();
  }
});

// Each row is one kind of mistake; the error must name the field.
const badManifests: Array<{ name: string; spec: Record<string, unknown>; field: RegExp }> = [
  { name: 'max below min', spec: { scale: { min: 3, max: 2 } }, field: /spec\.scale\.max: must be >= spec\.scale\.min/ },
  { name: 'negative concurrency', spec: { containerConcurrency: -1 }, field: /spec\.containerConcurrency/ },
  { name: 'port out of range', spec: { port: 70000 }, field: /spec\.port/ },
  { name: 'window not a duration', spec: { scale: { window: 'soon' } }, field: /spec\.scale\.window/ },
  { name: 'PORT set in env', spec: { env: [{ name: 'PORT', value: '1' }] }, field: /spec\.env\[0\]\.name/ },
  { name: 'unknown field', spec: { replicas: 3 }, field: /spec\.replicas: unknown field/ },
  { name: 'empty image', spec: { image: '' }, field: /spec\.image/ },
];

test('bad manifests are refused with the field named, and nothing changes', async () => {
  const dev = await startDev({ 'good.yaml': helloManifest('good', { scale: { initial: 0 } }) }, FAST);
  try {
    const before = await dev.waitStatus('good to load', 'good', (fn) => fn.status?.url !== undefined);
    for (const row of badManifests) {
      const file = path.join(dev.dir, `bad-${badManifests.indexOf(row)}.json`);
      // The same name as the good function: a refused apply must leave it as it was.
      await writeFile(file, helloManifest('good', { scale: { initial: 0 }, ...row.spec }));
      const res = await dev.kfn('apply', '-f', file);
      assert.equal(res.code, 1, `${row.name}: ${res.stdout}`);
      assert.match(res.stderr, row.field, row.name);
    }
    // A bad document next to a good one: the good one is not applied either.
    const mixed = path.join(dev.dir, 'mixed.json');
    await writeFile(mixed, `${helloManifest('other')}---\n${helloManifest('good', { port: 0 })}`);
    const res = await dev.kfn('apply', '-f', mixed);
    assert.equal(res.code, 1);
    const after = await dev.get('good');
    assert.deepEqual(after.spec, before.spec);
    assert.equal(after.metadata.generation, before.metadata.generation);
    const list = await dev.kfn('get', '-o', 'json');
    const names = (JSON.parse(list.stdout) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name);
    assert.deepEqual(names, ['good']);
  } finally {
    await dev.stop();
  }
});

test('the manifest folder is watched: a change is applied, a bad edit is refused, a removed file deletes', async () => {
  const dev = await startDev({ 'w.yaml': helloManifest('w', { scale: { initial: 0 } }) }, FAST);
  try {
    const file = path.join(dev.dir, 'w.yaml');
    const first = await dev.waitStatus('w to load', 'w', (fn) => fn.status?.url !== undefined);

    await writeFile(file, helloManifest('w', { scale: { initial: 0 }, containerConcurrency: 5 }));
    const changed = await dev.waitStatus('the change to apply', 'w', (fn) => fn.spec.containerConcurrency === 5);
    assert.equal(changed.metadata.generation, (first.metadata.generation ?? 0) + 1);

    await writeFile(file, helloManifest('w', { scale: { initial: 0, min: 4, max: 1 } }));
    await waitForOutput(dev.output, /manifest rejected, nothing changed.*spec\.scale\.max/);
    assert.equal((await dev.get('w')).spec.containerConcurrency, 5);

    await rm(file);
    await waitForGone(dev.admin, 'w');
  } finally {
    await dev.stop();
  }
});

async function waitForOutput(output: () => string, re: RegExp): Promise<void> {
  await waitFor(`kfn dev to log ${re}`, () => re.test(output()));
}

async function waitForGone(admin: string, name: string): Promise<void> {
  await waitFor(`${name} to be deleted`, async () => (await fetch(`${admin}/api/functions/default/${name}`)).status === 404);
}

test('kfn apply, get and delete a Trigger; kfn publish reaches its function and the count shows', async () => {
  const dev = await startDev({}, FAST);
  try {
    const file = path.join(dev.dir, 'pipeline.json');
    const trigger = {
      apiVersion: 'kfn.dev/v1alpha1',
      kind: 'Trigger',
      metadata: { name: 'on-greet', namespace: 'default' },
      spec: { subject: 'greetings.>', function: 'greeter' },
    };
    await writeFile(file, `${helloManifest('greeter')}\n---\n${JSON.stringify(trigger)}\n`);
    const applied = await dev.kfn('apply', '-f', file);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /function\.kfn\.dev\/greeter created\ntrigger\.kfn\.dev\/on-greet created/);

    const published = await dev.kfn('publish', 'greetings.hello', '{"to":"you"}');
    assert.equal(published.code, 0, published.stderr);
    await waitFor('the event delivered and counted', async () => (await dev.getTrigger('on-greet')).status?.delivered === 1, { timeoutMs: 30_000 });

    const list = await dev.kfn('get', 'triggers');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /on-greet\s+greetings\.>\s+greeter\s+True\s+1\s+0\s+0/, list.stdout);
    const detail = await dev.kfn('get', 'trigger', 'on-greet');
    assert.match(detail.stdout, /Consumer:\s+kfn_default_on-greet/, detail.stdout);

    const deleted = await dev.kfn('delete', 'trigger', 'on-greet');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /trigger\.kfn\.dev\/on-greet deleted/);
    const gone = await dev.kfn('get', 'trigger', 'on-greet');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /trigger default\/on-greet not found/);
  } finally {
    await dev.stop();
  }
});
