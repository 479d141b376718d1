import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import type { ReconcilerConfig } from '../../../pkg/reconciler/function/config.js';
import { makePublicService, makeReplicasService, serviceForUpdate } from '../../../pkg/reconciler/function/services.js';
import { asStoredService, assertIncludes, at, cfg, fn, UID, withPort } from './fixtures.js';

const OWNER = [{ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', name: 'hello', uid: UID, controller: true, blockOwnerDeletion: true }];
const LABELS = { 'app.kubernetes.io/name': 'hello', 'app.kubernetes.io/managed-by': 'kfn', 'kfn.dev/function': 'hello' };

const builds: Array<{
  name: string;
  given: { build: (f: KfnFunction, c: ReconcilerConfig) => V1Service; fn: KfnFunction; cfg?: ReconcilerConfig };
  want: V1Service;
}> = [
  {
    name: 'replicas Service: headless, selects the replicas, ready addresses only',
    given: { build: makeReplicasService, fn: fn('shop', 'hello') },
    want: {
      metadata: { name: 'hello-replicas', namespace: 'shop', labels: LABELS, ownerReferences: OWNER },
      spec: {
        type: 'ClusterIP',
        clusterIP: 'None',
        selector: { 'kfn.dev/function': 'hello' },
        ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }],
        publishNotReadyAddresses: false,
      },
    },
  },
  {
    name: 'replicas Service: port follows spec.port',
    given: { build: makeReplicasService, fn: fn('default', 'hello', withPort(9090)) },
    want: { spec: { ports: [{ name: 'http', port: 9090, targetPort: 9090, protocol: 'TCP' }] } },
  },
  {
    name: 'public Service: ExternalName to the activator on port 80',
    given: { build: makePublicService, fn: fn('shop', 'hello') },
    want: {
      metadata: { name: 'hello', namespace: 'shop', labels: LABELS, ownerReferences: OWNER },
      spec: { type: 'ExternalName', externalName: 'kfn-activator.kfn-system.svc.cluster.local', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    },
  },
  {
    name: 'public Service: activator host from the config',
    given: { build: makePublicService, fn: fn('default', 'hello'), cfg: cfg({ activatorHost: 'activator.other.svc.cluster.local' }) },
    want: { spec: { externalName: 'activator.other.svc.cluster.local' } },
  },
];

for (const row of builds) {
  test(`services: ${row.name}`, () => {
    assertIncludes(row.given.build(row.given.fn, row.given.cfg ?? cfg()), row.want);
  });
}

test('services: the public Service has no selector, so Kubernetes makes no endpoints for it', () => {
  assert.equal(makePublicService(fn('default', 'hello'), cfg()).spec?.selector, undefined);
});

const replicas = makeReplicasService(fn('default', 'hello'), cfg());
const publicSvc = makePublicService(fn('default', 'hello'), cfg());

const updates: Array<{
  name: string;
  given: { existing: V1Service; desired: V1Service };
  want: { changed: boolean; at?: Record<string, unknown> };
}> = [
  {
    name: 'replicas Service no-op against the stored copy: unchanged, server-set fields kept',
    given: { existing: asStoredService(replicas), desired: replicas },
    want: {
      changed: false,
      at: { 'spec.clusterIP': 'None', 'spec.clusterIPs': ['None'], 'spec.ipFamilies': ['IPv4'], 'spec.ipFamilyPolicy': 'SingleStack', 'metadata.resourceVersion': '7' },
    },
  },
  {
    name: 'public Service no-op against the stored copy: unchanged',
    given: { existing: asStoredService(publicSvc), desired: publicSvc },
    want: { changed: false, at: { 'spec.sessionAffinity': 'None' } },
  },
  {
    name: 'port change: changed, clusterIP kept',
    given: { existing: asStoredService(replicas), desired: makeReplicasService(fn('default', 'hello', withPort(9090)), cfg()) },
    want: { changed: true, at: { 'spec.clusterIP': 'None', 'spec.ports.0.port': 9090 } },
  },
  {
    name: 'activator moved: changed',
    given: { existing: asStoredService(publicSvc), desired: makePublicService(fn('default', 'hello'), cfg({ activatorHost: 'a.b.svc.cluster.local' })) },
    want: { changed: true, at: { 'spec.externalName': 'a.b.svc.cluster.local' } },
  },
  {
    name: 'a ClusterIP Service where the public one should be: changed, and its clusterIP is not carried over',
    given: {
      existing: asStoredService({ ...publicSvc, spec: { type: 'ClusterIP', selector: { app: 'x' }, ports: [{ port: 80 }] } }),
      desired: publicSvc,
    },
    want: { changed: true, at: { 'spec.clusterIP': undefined, 'spec.clusterIPs': undefined, 'spec.type': 'ExternalName' } },
  },
  {
    name: 'labels others added are kept',
    given: {
      existing: (() => {
        const s = asStoredService(replicas);
        s.metadata!.labels = { ...s.metadata!.labels, team: 'a' };
        return s;
      })(),
      desired: replicas,
    },
    want: { changed: false, at: { 'metadata.labels.team': 'a' } },
  },
  {
    name: 'our label missing on the live object: changed',
    given: {
      existing: (() => {
        const s = asStoredService(replicas);
        s.metadata!.labels = {};
        return s;
      })(),
      desired: replicas,
    },
    want: { changed: true, at: { 'metadata.labels': LABELS } },
  },
];

for (const row of updates) {
  test(`serviceForUpdate: ${row.name}`, () => {
    const before = structuredClone(row.given);
    const got = serviceForUpdate(row.given.existing, row.given.desired);
    assert.equal(got.changed, row.want.changed, 'changed');
    for (const [path, value] of Object.entries(row.want.at ?? {})) assert.deepEqual(at(got.service, path), value, path);
    assert.deepEqual(row.given, before, 'inputs are left alone');
  });
}
