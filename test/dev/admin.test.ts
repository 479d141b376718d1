import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAdminApp } from '../../pkg/dev/admin.js';
import { FunctionStore, TriggerStore } from '../../pkg/dev/store.js';
import { newRegistry } from '../../pkg/shared/metrics.js';

const manifest = 'apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata: {name: a}\nspec: {image: x}\n';

test('admin API: apply, get, list, delete; a bad manifest is 422 with the field named and changes nothing', async () => {
  const store = new FunctionStore();
  const app = buildAdminApp({ stores: { functions: store, triggers: new TriggerStore() }, metrics: newRegistry(), info: () => ({}) });
  try {
    const applied = await app.inject({ method: 'POST', url: '/api/apply', payload: { manifest, dir: '/tmp' } });
    assert.equal(applied.statusCode, 200);
    assert.equal(applied.json<{ results: Array<{ action: string }> }>().results[0]?.action, 'created');

    const bad = await app.inject({ method: 'POST', url: '/api/apply', payload: { manifest: manifest.replace('image: x', 'image: x, port: -1'), dir: '/tmp' } });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'invalid_manifest');
    assert.match(bad.json<{ error: { problems: string[] } }>().error.problems.join('\n'), /spec\.port/);
    assert.equal(store.get({ namespace: 'default', name: 'a' })?.spec.port, 8080);

    const missingBody = await app.inject({ method: 'POST', url: '/api/apply', payload: { dir: '/tmp' } });
    assert.equal(missingBody.statusCode, 400);
    assert.equal(missingBody.json<{ error: { code: string } }>().error.code, 'bad_request');
    assert.match(missingBody.json<{ error: { message: string } }>().error.message, /manifest/);

    assert.equal((await app.inject({ url: '/api/functions/default/a' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/api/functions' })).json<{ items: unknown[] }>().items.length, 1);
    const gone = await app.inject({ url: '/api/functions/default/zz' });
    assert.equal(gone.statusCode, 404);
    assert.match(gone.body, /default\/zz not found/);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/functions/default/a' })).statusCode, 200);
    assert.equal(store.list().length, 0);
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  } finally {
    await app.close();
  }
});

test('admin API: a Trigger applies with its Function, is listed, read and deleted', async () => {
  const stores = { functions: new FunctionStore(), triggers: new TriggerStore() };
  const app = buildAdminApp({ stores, metrics: newRegistry(), info: () => ({}) });
  try {
    const trigger = 'apiVersion: kfn.dev/v1alpha1\nkind: Trigger\nmetadata: {name: t}\nspec: {subject: orders.>, function: a}\n';
    const applied = await app.inject({ method: 'POST', url: '/api/apply', payload: { manifest: `${manifest}---\n${trigger}`, dir: '/tmp' } });
    assert.equal(applied.statusCode, 200);
    assert.deepEqual(
      applied.json<{ results: Array<{ kind: string; action: string }> }>().results.map((r) => `${r.kind} ${r.action}`),
      ['Function created', 'Trigger created'],
    );
    assert.equal((await app.inject({ url: '/api/triggers' })).json<{ items: unknown[] }>().items.length, 1);
    assert.equal((await app.inject({ url: '/api/triggers/default/t' })).json<{ spec: { subject: string } }>().spec.subject, 'orders.>');
    const missing = await app.inject({ url: '/api/triggers/default/zz' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /trigger default\/zz not found/);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/triggers/default/t' })).statusCode, 200);
    assert.equal(stores.triggers.list().length, 0);
  } finally {
    await app.close();
  }
});

test('admin API: /healthz is "ok" while healthy, 503 naming each problem while not', async () => {
  let problems = [{ component: 'nats', reason: 'NatsUnavailable', message: 'NATS at nats://127.0.0.1:4222 is unreachable' }];
  const app = buildAdminApp({ stores: { functions: new FunctionStore(), triggers: new TriggerStore() }, metrics: newRegistry(), info: () => ({}), health: () => problems });
  try {
    const down = await app.inject({ url: '/healthz' });
    assert.equal(down.statusCode, 503);
    const problem = 'nats: NatsUnavailable: NATS at nats://127.0.0.1:4222 is unreachable';
    assert.deepEqual(down.json(), { error: { code: 'unhealthy', message: problem, problems: [problem] } });
    problems = [];
    const up = await app.inject({ url: '/healthz' });
    assert.equal(up.statusCode, 200);
    assert.equal(up.body, 'ok');
  } finally {
    await app.close();
  }
});
