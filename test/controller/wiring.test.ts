// Which Function an event about a child concerns.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { owningFunctionKey } from '../../pkg/reconciler/function/controller.js';

describe('owningFunctionKey', () => {
  const owner = (kind: string, apiVersion: string, controller: boolean) => ({ kind, apiVersion, controller, name: 'hello', uid: 'u1' });
  const rows: Array<{ name: string; obj: KubernetesObject; want: string | undefined }> = [
    { name: 'a Deployment controlled by a Function', obj: { metadata: { namespace: 'ns', ownerReferences: [owner('Function', 'kfn.dev/v1alpha1', true)] } }, want: 'Function/ns/hello' },
    { name: 'a pod, owned by its ReplicaSet, found by its function label', obj: { metadata: { namespace: 'ns', labels: { 'kfn.dev/function': 'web' }, ownerReferences: [owner('ReplicaSet', 'apps/v1', true)] } }, want: 'Function/ns/web' },
    { name: 'a Function of another API group is not ours', obj: { metadata: { namespace: 'ns', ownerReferences: [owner('Function', 'other.dev/v1', true)] } }, want: undefined },
    { name: 'a non-controller owner reference does not count', obj: { metadata: { namespace: 'ns', ownerReferences: [owner('Function', 'kfn.dev/v1alpha1', false)] } }, want: undefined },
    { name: 'nothing to go by', obj: { metadata: { namespace: 'ns', labels: { app: 'x' } } }, want: undefined },
  ];
  for (const r of rows) {
    it(r.name, () => assert.equal(owningFunctionKey(r.obj), r.want));
  }
});
