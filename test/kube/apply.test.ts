// Server-side apply in the API server double, through the real client-node, as kfn's
// controller and autoscaler use it. Each behaviour here is one the Kubernetes docs
// ("Server-Side Apply": field management, conflicts, transferring ownership) describe.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from './apiserver.js';

const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function deployment(name: string, extra: { replicas?: number; labels?: Record<string, string>; image?: string } = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      ...(extra.replicas !== undefined ? { replicas: extra.replicas } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: extra.image ?? 'img:1' }] } },
    },
  };
}

function managers(d: V1Deployment | undefined): string[] {
  return (d?.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.operation}${m.subresource ? `/${m.subresource}` : ''}`).sort();
}

function ownsReplicas(d: V1Deployment | undefined, manager: string): boolean {
  return (d?.metadata?.managedFields ?? []).some((m) => m.manager === manager && JSON.stringify(m.fieldsV1 ?? {}).includes('"f:replicas"'));
}

describe('API server double: server-side apply', () => {
  let server: ApiServer;
  let apps: AppsV1Api;
  before(async () => {
    server = await startApiServer();
    apps = server.kubeConfig().makeApiClient(AppsV1Api);
  });
  after(async () => {
    await server.close();
  });
  const stored = (name: string): V1Deployment | undefined => server.store.get('deployments', 'default', name) as V1Deployment | undefined;
  const applyAs = (manager: string, body: V1Deployment, force = true): Promise<V1Deployment> =>
    apps.patchNamespacedDeployment({ name: body.metadata?.name ?? '', namespace: 'default', body, fieldManager: manager, force }, applyPatch);

  it('creates a missing object and records its manager as Apply', async () => {
    const got = await applyAs('ctl', deployment('create', { replicas: 2 }));
    assert.equal(got.spec?.replicas, 2);
    assert.deepEqual(managers(stored('create')), ['ctl/Apply']);
    assert.equal(server.requests.at(-1)?.status, 201);
  });

  it('refuses an apply without a fieldManager with 400, as the real server does', async () => {
    await assert.rejects(apps.patchNamespacedDeployment({ name: 'nofm', namespace: 'default', body: deployment('nofm') }, applyPatch), (err: { code?: number }) => err.code === 400);
    assert.equal(stored('nofm'), undefined);
  });

  it('applying the same configuration again writes nothing (no new resourceVersion)', async () => {
    await applyAs('ctl', deployment('noop', { replicas: 1 }));
    const rv = stored('noop')?.metadata?.resourceVersion;
    await applyAs('ctl', deployment('noop', { replicas: 1 }));
    assert.equal(stored('noop')?.metadata?.resourceVersion, rv);
  });

  it('(a) a field the manager stops applying is removed when no one else owns it', async () => {
    await applyAs('ctl', deployment('drop', { labels: { a: '1', b: '2' } }));
    await applyAs('ctl', deployment('drop', { labels: { a: '1' } }));
    assert.deepEqual(stored('drop')?.metadata?.labels, { a: '1' });
  });

  it('(a) …and kept when another manager owns it too', async () => {
    await applyAs('ctl', deployment('shared', { labels: { a: '1', b: '2' } }));
    await applyAs('other', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shared', namespace: 'default', labels: { b: '2' } } });
    await applyAs('ctl', deployment('shared', { labels: { a: '1' } }));
    assert.deepEqual(stored('shared')?.metadata?.labels, { a: '1', b: '2' });
  });

  it('(b) a scale write makes its manager the owner of spec.replicas; the applier no longer owns it', async () => {
    await applyAs('ctl', deployment('scaled', { replicas: 1 }));
    await apps.patchNamespacedDeploymentScale({ name: 'scaled', namespace: 'default', body: { spec: { replicas: 4 } }, fieldManager: 'scaler' }, mergePatch);
    const d = stored('scaled');
    assert.equal(d?.spec?.replicas, 4);
    assert.ok(ownsReplicas(d, 'scaler'));
    assert.ok(!ownsReplicas(d, 'ctl'));
    assert.ok(managers(d).includes('scaler/Update/scale'));
  });

  it('(c) a non-forced apply that changes a field another manager owns gets a 409 naming the field and manager', async () => {
    await applyAs('ctl', deployment('conflict', { replicas: 1 }));
    await apps.patchNamespacedDeploymentScale({ name: 'conflict', namespace: 'default', body: { spec: { replicas: 3 } }, fieldManager: 'scaler' }, mergePatch);
    const err = await applyAs('ctl', deployment('conflict', { replicas: 1 }), false).then(
      () => assert.fail('expected a conflict'),
      (e: unknown) => e as { code?: number; body?: unknown },
    );
    assert.equal(err.code, 409);
    const status = JSON.parse(String(err.body)) as { reason: string; message: string; details: { causes: Array<{ type: string; field: string }> } };
    assert.equal(status.reason, 'Conflict');
    assert.match(status.message, /^Apply failed with 1 conflict: conflict with "scaler" using apps\/v1: \.spec\.replicas$/);
    assert.deepEqual(status.details.causes.map((c) => [c.type, c.field]), [['FieldManagerConflict', '.spec.replicas']]);
    assert.equal(stored('conflict')?.spec?.replicas, 3);
  });

  it('(c) …a forced apply takes the field over', async () => {
    await applyAs('ctl', deployment('force', { replicas: 1 }));
    await apps.patchNamespacedDeploymentScale({ name: 'force', namespace: 'default', body: { spec: { replicas: 3 } }, fieldManager: 'scaler' }, mergePatch);
    await applyAs('ctl', deployment('force', { replicas: 1 }), true);
    const d = stored('force');
    assert.equal(d?.spec?.replicas, 1);
    assert.ok(ownsReplicas(d, 'ctl'));
    assert.ok(!ownsReplicas(d, 'scaler'));
  });

  it('the documented handover: replicas applied by the new owner, then dropped by the old, keep their value', async () => {
    await applyAs('ctl', deployment('handover', { replicas: 0 }));
    await applyAs('scaler', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'handover', namespace: 'default' }, spec: { replicas: 0 } } as V1Deployment, false);
    await applyAs('ctl', deployment('handover'));
    const d = stored('handover');
    assert.equal(d?.spec?.replicas, 0, 'not reset to the default 1');
    assert.ok(!ownsReplicas(d, 'ctl'));
    assert.ok(ownsReplicas(d, 'scaler'));
  });

  it('without a handover, dropping replicas resets them to the default, as on a real server', async () => {
    await applyAs('ctl', deployment('reset', { replicas: 0 }));
    await applyAs('ctl', deployment('reset'));
    assert.equal(stored('reset')?.spec?.replicas, 1);
  });

  it('status is not applied through the main resource', async () => {
    await applyAs('ctl', { ...deployment('status'), status: { replicas: 9 } });
    assert.equal(stored('status')?.status, undefined);
  });
});
