// Small option helpers for the Function reconciler's table tests:
// fn('default', 'hello', withImage('x'), withMinScale(1)), deployment(withReadyReplicas(2)),
// pod(withWaiting('ImagePullBackOff', '...')).
import assert from 'node:assert/strict';
import type { V1Deployment, V1DeploymentCondition, V1Pod, V1Service } from '@kubernetes/client-node';
import type { EnvVar, KfnFunction, Probe, ResourceRequirements, ScaleSpec } from '../../../pkg/apis/function/types.js';
import { withDefaults } from '../../../pkg/apis/function/defaults.js';
import { reconcilerConfig, type ReconcilerConfig } from '../../../pkg/reconciler/function/config.js';

export const NOW = new Date('2026-11-22T00:00:00Z');
export const UID = '6f1c1a4e-0000-4000-8000-000000000001';

export type FnOption = (fn: KfnFunction) => void;

/** A stored Function (uid, generation 1) with defaults applied, as the controller sees it. */
export function fn(namespace: string, name: string, ...opts: FnOption[]): KfnFunction {
  const f: KfnFunction = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Function',
    metadata: { name, namespace, uid: UID, generation: 1 },
    spec: { image: 'registry.example/hello:1' },
  };
  for (const o of opts) o(f);
  return withDefaults(f);
}

const scale = (patch: ScaleSpec): FnOption => (f) => {
  f.spec.scale = { ...f.spec.scale, ...patch };
};
export const withImage = (image: string): FnOption => (f) => void (f.spec.image = image);
export const withMinScale = (min: number): FnOption => scale({ min });
export const withMaxScale = (max: number): FnOption => scale({ max });
export const withInitialScale = (initial: number): FnOption => scale({ initial });
export const withConcurrency = (n: number): FnOption => (f) => void (f.spec.containerConcurrency = n);
export const withPort = (port: number): FnOption => (f) => void (f.spec.port = port);
export const withTimeout = (s: number): FnOption => (f) => void (f.spec.timeoutSeconds = s);
export const withGeneration = (g: number): FnOption => (f) => void (f.metadata.generation = g);
export const withEnv = (...env: EnvVar[]): FnOption => (f) => void (f.spec.env = [...(f.spec.env ?? []), ...env]);
export const withProbe = (p: Probe): FnOption => (f) => void (f.spec.readinessProbe = p);
export const withResources = (r: ResourceRequirements): FnOption => (f) => void (f.spec.resources = r);
export const withCommand = (command: string[], args?: string[]): FnOption => (f) => {
  f.spec.command = command;
  if (args) f.spec.args = args;
};
export const withWorkingDir = (dir: string): FnOption => (f) => void (f.spec.workingDir = dir);
export const withStatus = (status: KfnFunction['status']): FnOption => (f) => void (f.status = status);

export function cfg(overrides: Partial<ReconcilerConfig> = {}): ReconcilerConfig {
  return reconcilerConfig(overrides);
}

export type DeploymentOption = (d: V1Deployment) => void;

/** A live Deployment of `hello` as the API server would return it (status only as set by options). */
export function deployment(...opts: DeploymentOption[]): V1Deployment {
  const d: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', namespace: 'default', generation: 1 },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'kfn.dev/function': 'hello' } },
      template: { spec: { containers: [{ name: 'user-container', image: 'registry.example/hello:1' }] } },
    },
    status: {},
  };
  for (const o of opts) o(d);
  return d;
}

export const withSpecReplicas = (n: number): DeploymentOption => (d) => void (d.spec!.replicas = n);
export const withReplicas = (n: number): DeploymentOption => (d) => void (d.status = { ...d.status, replicas: n });
export const withReadyReplicas = (n: number): DeploymentOption => (d) => void (d.status = { ...d.status, readyReplicas: n });
export const withCondition =
  (type: string, status: string, reason?: string, message?: string): DeploymentOption =>
  (d) => {
    const c: V1DeploymentCondition = { type, status };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    d.status = { ...d.status, conditions: [...(d.status?.conditions ?? []), c] };
  };

export type PodOption = (p: V1Pod) => void;

let podSeq = 0;
/** A running pod of `hello` with one container that has not restarted. */
export function pod(...opts: PodOption[]): V1Pod {
  const p: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `hello-5d8f7c-${podSeq++}`, namespace: 'default', labels: { 'kfn.dev/function': 'hello' } },
    spec: { containers: [{ name: 'user-container', image: 'registry.example/hello:1' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'user-container', image: 'registry.example/hello:1', imageID: '', ready: false, restartCount: 0, state: { running: {} } }],
    },
  };
  for (const o of opts) o(p);
  return p;
}

function container(p: V1Pod): NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number] {
  const cs = p.status?.containerStatuses?.[0];
  if (!cs) throw new Error('pod fixture without a container status');
  return cs;
}

export const withPodImage = (image: string): PodOption => (p) => {
  const c = p.spec?.containers[0];
  if (c) c.image = image;
  container(p).image = image;
};
export const withWaiting = (reason: string, message?: string): PodOption => (p) => {
  p.status!.phase = 'Pending';
  container(p).state = { waiting: message === undefined ? { reason } : { reason, message } };
};
export const withLastTermination = (exitCode: number, reason?: string, message?: string): PodOption => (p) => {
  const t: { exitCode: number; reason?: string; message?: string } = { exitCode };
  if (reason) t.reason = reason;
  if (message) t.message = message;
  container(p).lastState = { terminated: t };
};
export const withRestarts = (n: number): PodOption => (p) => void (container(p).restartCount = n);
export const withUnschedulable = (message: string): PodOption => (p) => {
  p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] };
};
export const withDeleting = (): PodOption => (p) => void (p.metadata!.deletionTimestamp = new Date(NOW));

/**
 * `obj` as the API server stores it: a deep copy with the defaults the server fills in and
 * the fields it manages, so "nothing changed" is tested against what a real read returns.
 */
export function asStoredDeployment(desired: V1Deployment, replicas = 1): V1Deployment {
  const d = structuredClone(desired);
  d.metadata = { ...d.metadata, uid: 'dep-uid', resourceVersion: '42', generation: 3, annotations: { ...d.metadata?.annotations, 'deployment.kubernetes.io/revision': '2' } };
  const spec = d.spec!;
  spec.replicas = replicas;
  spec.template.metadata = { ...spec.template.metadata, creationTimestamp: undefined };
  const pod = spec.template.spec!;
  pod.restartPolicy = 'Always';
  pod.dnsPolicy = 'ClusterFirst';
  pod.schedulerName = 'default-scheduler';
  for (const c of pod.containers) {
    c.terminationMessagePath = '/dev/termination-log';
    c.terminationMessagePolicy = 'File';
    c.imagePullPolicy ??= 'IfNotPresent';
    // omitempty: an empty env value comes back as no field.
    for (const e of c.env ?? []) if (e.value === '') delete e.value;
    if (c.readinessProbe) {
      c.readinessProbe.timeoutSeconds ??= 1;
      c.readinessProbe.successThreshold ??= 1;
      c.readinessProbe.failureThreshold ??= 3;
    }
    // The server canonicalizes quantities.
    for (const list of [c.resources?.requests, c.resources?.limits]) {
      if (!list) continue;
      for (const [k, v] of Object.entries(list)) list[k] = canonical(v);
    }
  }
  d.status = { replicas, readyReplicas: replicas, observedGeneration: 3 };
  return d;
}

function canonical(q: string): string {
  if (q === '0.5') return '500m';
  if (q === '1024Mi') return '1Gi';
  return q;
}

export function asStoredService(desired: V1Service): V1Service {
  const s = structuredClone(desired);
  s.metadata = { ...s.metadata, uid: 'svc-uid', resourceVersion: '7' };
  const spec = s.spec!;
  spec.sessionAffinity = 'None';
  // A plain bool with omitempty in the Go type: false comes back as no field.
  if (spec.publishNotReadyAddresses === false) delete spec.publishNotReadyAddresses;
  if (spec.type !== 'ExternalName') {
    spec.clusterIP ??= '10.96.0.17';
    spec.clusterIPs = [spec.clusterIP];
    spec.ipFamilies = ['IPv4'];
    spec.ipFamilyPolicy = 'SingleStack';
    spec.internalTrafficPolicy = 'Cluster';
  }
  return s;
}

/**
 * Fails unless every field in `want` is in `actual` with an equal value (arrays must match
 * in length). Written here, not borrowed from the code under test.
 */
export function assertIncludes(actual: unknown, want: unknown, path = '$'): void {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: want an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(want)) assertIncludes((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    return;
  }
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(actual), `${path}: want an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, want.length, `${path}: length of ${JSON.stringify(actual)}`);
    want.forEach((w, i) => assertIncludes(actual[i], w, `${path}[${i}]`));
    return;
  }
  assert.deepEqual(actual, want, path);
}

/** The value at a dotted path (`spec.template.spec.containers.0.env`). */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
