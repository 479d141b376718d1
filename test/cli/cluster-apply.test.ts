// `kfn apply` against the API server double's server-side apply: created, then updated
// with kfn-cli as the field manager; a field another manager owns is a conflict naming
// it and changes nothing, until --force-conflicts. Skipped, with one line, while the
// double has no server-side apply (it answers 415); helper B's double adds it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { kfn, tempHome } from './run.js';
import { writeKubeconfig } from './fake-cluster.js';

const PATH = '/apis/kfn.dev/v1alpha1/namespaces/shop/functions';

function manifest(name: string, image: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name }, spec: { image, ...extra } }) + '\n';
}

interface Stored {
  spec?: { image?: string; containerConcurrency?: number };
  metadata?: { managedFields?: Array<{ manager?: string; operation?: string }> };
}

describe('kfn apply against the API server double', () => {
  let api: ApiServer;
  let home: string;
  let kubeconfig: string;
  let supported = false;
  const run = (args: string[], stdin: string) => kfn(args, { home, env: { KUBECONFIG: kubeconfig }, stdin });
  const stored = (name: string) => api.store.get('functions.kfn.dev', 'shop', name) as Stored | undefined;
  const applyAs = (manager: string, body: string, force = false) => {
    const obj = JSON.parse(body) as { metadata: { name: string } };
    return fetch(`${api.url}${PATH}/${obj.metadata.name}?fieldManager=${manager}&force=${force}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer kfn-test-token', 'content-type': 'application/apply-patch+yaml' },
      body: JSON.stringify({ ...obj, metadata: { ...obj.metadata, namespace: 'shop' } }),
    });
  };

  before(async () => {
    api = await startApiServer();
    home = await tempHome();
    kubeconfig = await writeKubeconfig(home, [{ name: 'c', server: api.url, token: 'kfn-test-token', namespace: 'shop' }], 'c');
    const probe = await applyAs('probe', manifest('probe', 'x:1'));
    supported = probe.status !== 415;
  });
  after(async () => {
    await api.close();
  });

  it('creates, then updates, with kfn-cli as the manager', async (t) => {
    if (!supported) return t.skip('the API server double has no server-side apply in this branch');
    const created = await run(['apply', '-f', '-'], manifest('hello', 'ghcr.io/acme/hello:1'));
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'function.kfn.dev/hello created\n');
    const updated = await run(['apply', '-f', '-'], manifest('hello', 'ghcr.io/acme/hello:2', { containerConcurrency: 3 }));
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout, 'function.kfn.dev/hello serverside-applied\n');
    assert.equal(stored('hello')?.spec?.image, 'ghcr.io/acme/hello:2');
    assert.equal(stored('hello')?.spec?.containerConcurrency, 3);
    assert.ok(stored('hello')?.metadata?.managedFields?.some((m) => m.manager === 'kfn-cli' && m.operation === 'Apply'));
  });

  it('a field another manager owns: 409 naming it, nothing changed; --force-conflicts takes it', async (t) => {
    if (!supported) return t.skip('the API server double has no server-side apply in this branch');
    assert.equal((await applyAs('gitops', manifest('owned', 'ghcr.io/acme/owned:1'))).status, 201);
    const refused = await run(['apply', '-f', '-'], manifest('owned', 'ghcr.io/acme/owned:2'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error: Function shop\/owned: .*conflict.*"gitops".*\.spec\.image.*--force-conflicts/s);
    assert.equal(stored('owned')?.spec?.image, 'ghcr.io/acme/owned:1');
    const forced = await run(['apply', '-f', '-', '--force-conflicts'], manifest('owned', 'ghcr.io/acme/owned:2'));
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(stored('owned')?.spec?.image, 'ghcr.io/acme/owned:2');
  });
});
