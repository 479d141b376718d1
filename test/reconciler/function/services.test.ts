import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import type { ReconcilerConfig } from '../../../pkg/reconciler/function/config.js';
import { makePublicService, makeReplicasService } from '../../../pkg/reconciler/function/services.js';
import { assertIncludes, cfg, fn, UID, withPort } from './fixtures.js';

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
    // Knative's h2c port name; the name stays the one activators find endpoints by.
    name: 'replicas Service: an h2c function says so with appProtocol kubernetes.io/h2c',
    given: { build: makeReplicasService, fn: fn('default', 'hello', (f) => void (f.spec.portName = 'h2c')) },
    want: { spec: { ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }] } },
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
