// When the controller may skip a write: upToDate(live, applied config). The live copies
// are what the API server keeps of an apply (fixtures' asStored*: defaults filled in,
// quantities canonicalised, server annotations and fields added), so each row proves a
// re-read is, or is not, a reason to apply again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { deploymentConfig, upToDate, withAppliedHash } from '../../../pkg/reconciler/function/apply.js';
import { makePublicService, makeReplicasService } from '../../../pkg/reconciler/function/services.js';
import { ANNOTATION_APPLIED } from '../../../pkg/reconciler/function/names.js';
import { asStoredDeployment, asStoredService, cfg, fn, withEnv, withGeneration, withImage, withInitialScale, withPort, withResources } from './fixtures.js';

// Values the server rewrites (quantities) or drops (an empty env value).
const BASE = [withEnv({ name: 'A', value: '1' }, { name: 'EMPTY', value: '' }), withResources({ requests: { cpu: '0.5', memory: '1024Mi' } })];
const applied = withAppliedHash(deploymentConfig(fn('default', 'hello', ...BASE), cfg()));
const edit = <T extends KubernetesObject>(o: T, f: (x: T) => void): T => {
  const c = structuredClone(o);
  f(c);
  return c;
};

const rows: Array<{ name: string; live: KubernetesObject; config: KubernetesObject; want: boolean }> = [
  {
    name: 'Deployment as stored (server defaults, canonical quantities, autoscaled replicas): up to date',
    live: asStoredDeployment(applied, 5),
    config: applied,
    want: true,
  },
  {
    name: 'scaled to zero by the autoscaler while scale.initial is 3: replicas are not applied, so up to date',
    live: asStoredDeployment(applied, 0),
    config: withAppliedHash(deploymentConfig(fn('default', 'hello', ...BASE, withInitialScale(3)), cfg())),
    want: true,
  },
  { name: 'a new image: apply', live: asStoredDeployment(applied, 5), config: withAppliedHash(deploymentConfig(fn('default', 'hello', ...BASE, withImage('registry.example/hello:2')), cfg())), want: false },
  {
    name: 'an env entry removed (the hash differs, though every remaining field is there): apply',
    live: asStoredDeployment(applied, 2),
    config: withAppliedHash(deploymentConfig(fn('default', 'hello', withResources({ requests: { cpu: '0.5', memory: '1024Mi' } })), cfg())),
    want: false,
  },
  { name: 'a new Function generation: apply', live: asStoredDeployment(applied, 2), config: withAppliedHash(deploymentConfig(fn('default', 'hello', ...BASE, withGeneration(2)), cfg())), want: false },
  {
    name: 'applied before this controller version (no hash annotation): apply once',
    live: edit(asStoredDeployment(applied, 2), (d) => delete d.metadata?.annotations?.[ANNOTATION_APPLIED]),
    config: applied,
    want: false,
  },
  {
    name: 'an applied field edited by hand (the owner reference removed): apply, to put it back',
    live: edit(asStoredDeployment(applied, 2), (d) => delete d.metadata?.ownerReferences),
    config: applied,
    want: false,
  },
  {
    name: 'labels and template annotations others added (kubectl rollout restart): up to date',
    live: edit(asStoredDeployment(applied, 2), (d) => {
      d.metadata!.labels = { ...d.metadata!.labels, team: 'a' };
      d.spec!.template.metadata!.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-11-21T00:00:00Z' };
    }),
    config: applied,
    want: true,
  },
];

const replicas = withAppliedHash(makeReplicasService(fn('default', 'hello'), cfg()));
const publicSvc = withAppliedHash(makePublicService(fn('default', 'hello'), cfg()));
rows.push(
  { name: 'replicas Service as stored (clusterIPs, ipFamilies added): up to date', live: asStoredService(replicas), config: replicas, want: true },
  { name: 'public Service as stored (sessionAffinity added): up to date', live: asStoredService(publicSvc), config: publicSvc, want: true },
  { name: 'a new port: apply', live: asStoredService(replicas), config: withAppliedHash(makeReplicasService(fn('default', 'hello', withPort(9090)), cfg())), want: false },
  { name: 'the activator moved: apply', live: asStoredService(publicSvc), config: withAppliedHash(makePublicService(fn('default', 'hello'), cfg({ activatorHost: 'a.b.svc.cluster.local' }))), want: false },
  { name: 'externalName edited by hand: apply, to put it back', live: edit(asStoredService(publicSvc), (s) => (s.spec!.externalName = 'elsewhere.example')), config: publicSvc, want: false },
  { name: 'our label removed by hand: apply', live: edit(asStoredService(replicas), (s) => (s.metadata!.labels = {})), config: replicas, want: false },
);

for (const row of rows) {
  test(`upToDate: ${row.name}`, () => {
    assert.equal(upToDate(row.live, row.config), row.want);
  });
}

test('withAppliedHash: stable, and blind to the annotation it adds', () => {
  const again = withAppliedHash(applied);
  assert.deepEqual(again, applied);
  assert.match(applied.metadata?.annotations?.[ANNOTATION_APPLIED] ?? '', /^[0-9a-f]{16}$/);
});

test('deploymentConfig: never carries spec.replicas, whatever scale.initial says', () => {
  assert.equal(deploymentConfig(fn('default', 'hello', withInitialScale(0)), cfg()).spec?.replicas, undefined);
  assert.equal(deploymentConfig(fn('default', 'hello', withInitialScale(4)), cfg()).spec?.replicas, undefined);
});
