// Writing a Function's children (the Deployment, the headless replicas Service and the
// public Service) by server-side apply, field manager `kfn-controller`, forced: the
// controller is the one authority on the fields it applies ("Using Server-Side Apply in
// a controller", Kubernetes docs). What is applied comes from the pure builders and
// holds only fields kfn has an opinion on, so fields others set (the autoscaler's
// spec.replicas, a Service's clusterIP, `kubectl rollout restart`'s annotation) are
// merged by the API server, not read back and rewritten here.
//
// spec.replicas belongs to the autoscaler. A Deployment is created with the Function's
// initial replicas, so for one moment the controller owns that field; it is handed over
// as the docs' "Transferring ownership" describes: the same value is applied by
// `kfn-autoscaler`, then the controller applies without it, which leaves the value alone
// because another manager still owns it. Every later apply leaves replicas out.
//
// A steady state costs no write: each child carries a hash of the configuration last
// applied (ANNOTATION_APPLIED); when the cached child has the hash of what would be
// applied now and still shows every applied field (coveredBy: nobody edited one away),
// nothing is sent. The hash sees what coveredBy cannot: a field kfn stopped applying.
//
// A write the API server refuses is not thrown but reported per child (ChildWriteError),
// so the reconciler can write status naming the child and the server's message.
import { createHash } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type CoreV1Api, type KubernetesObject, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../apis/function/types.js';
import { apiRefusalOf } from '../../controller/api-status.js';
import { isConflict, isNotFound } from '../../controller/errors.js';
import type { ReconcilerConfig } from './config.js';
import { initialReplicas } from '../../apis/function/scale.js';
import { makeDeployment } from './deployment.js';
import { ANNOTATION_APPLIED, FIELD_MANAGER_AUTOSCALER, FIELD_MANAGER_CONTROLLER, namespaceOf } from './names.js';
import { makePublicService, makeReplicasService } from './services.js';
import { coveredBy } from './semantic.js';
import { REASON_CHILD_FORBIDDEN, REASON_CHILD_INVALID, REASON_CHILD_QUOTA_EXCEEDED, REASON_CHILD_WRITE_FAILED, REASON_NOT_OWNED } from './status.js';

export interface ChildApis {
  apps: AppsV1Api;
  core: CoreV1Api;
}

/** Informer caches of the children, tried before a read; optional. */
export interface ChildCache {
  deployment?: (namespace: string, name: string) => V1Deployment | undefined;
  service?: (namespace: string, name: string) => V1Service | undefined;
}

export interface ChildRef {
  kind: 'Deployment' | 'Service';
  namespace: string;
  name: string;
}

/** A child that could not be written: which one, why (a status reason), and what the server said. */
export class ChildWriteError extends Error {
  constructor(
    readonly child: ChildRef,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChildWriteError';
  }
}

export interface AppliedChildren {
  /** Undefined when it could not be written and does not exist. */
  deployment?: V1Deployment;
  replicasService?: V1Service;
  publicService?: V1Service;
  /** Children this pass created. */
  created: ChildRef[];
  /** Children the API server refused, or that belong to someone else. */
  failures: ChildWriteError[];
}

const serverSideApply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

interface ChildOps<T extends KubernetesObject> {
  kind: ChildRef['kind'];
  cached?: ((namespace: string, name: string) => T | undefined) | undefined;
  read(namespace: string, name: string): Promise<T>;
  apply(namespace: string, name: string, body: T, fieldManager: string, force: boolean): Promise<T>;
}

/** `fn` must have defaults applied and a uid. */
export async function applyChildren(apis: ChildApis, fn: KfnFunction, cfg: ReconcilerConfig, cache: ChildCache = {}): Promise<AppliedChildren> {
  const deployments: ChildOps<V1Deployment> = {
    kind: 'Deployment',
    cached: cache.deployment,
    read: (namespace, name) => apis.apps.readNamespacedDeployment({ namespace, name }),
    apply: (namespace, name, body, fieldManager, force) => apis.apps.patchNamespacedDeployment({ namespace, name, body, fieldManager, force }, serverSideApply),
  };
  const services: ChildOps<V1Service> = {
    kind: 'Service',
    cached: cache.service,
    read: (namespace, name) => apis.core.readNamespacedService({ namespace, name }),
    apply: (namespace, name, body, fieldManager, force) => apis.core.patchNamespacedService({ namespace, name, body, fieldManager, force }, serverSideApply),
  };
  const [d, rs, ps] = await Promise.all([
    applyChild(deployments, fn, deploymentConfig(fn, cfg), initialReplicas(fn)),
    applyChild(services, fn, makeReplicasService(fn, cfg)),
    applyChild(services, fn, makePublicService(fn, cfg)),
  ]);
  const out: AppliedChildren = { created: [], failures: [] };
  if (d.object) out.deployment = d.object;
  if (rs.object) out.replicasService = rs.object;
  if (ps.object) out.publicService = ps.object;
  for (const r of [d, rs, ps]) {
    if (r.created) out.created.push(r.child);
    if (r.error) out.failures.push(r.error);
  }
  return out;
}

/** The Deployment as the controller applies it: without spec.replicas, the autoscaler's. */
export function deploymentConfig(fn: KfnFunction, cfg: ReconcilerConfig): V1Deployment {
  const d = makeDeployment(fn, cfg);
  if (d.spec) delete d.spec.replicas;
  return d;
}

interface ChildResult<T> {
  child: ChildRef;
  /** What the server returned, else the live copy (a refused update leaves the old one running). */
  object?: T;
  created: boolean;
  error?: ChildWriteError;
}

/** The configuration as applied: `desired` plus the hash of itself. */
export function withAppliedHash<T extends KubernetesObject>(desired: T): T {
  const out = structuredClone(desired);
  const { [ANNOTATION_APPLIED]: _old, ...annotations } = out.metadata?.annotations ?? {};
  const hash = createHash('sha256')
    .update(JSON.stringify({ ...out, metadata: { ...out.metadata, annotations } }))
    .digest('hex')
    .slice(0, 16);
  out.metadata = { ...out.metadata, annotations: { ...annotations, [ANNOTATION_APPLIED]: hash } };
  return out;
}

/** Nothing to send: the live child was applied from this very configuration and nobody edited an applied field away. */
export function upToDate(live: KubernetesObject, config: KubernetesObject): boolean {
  // apiVersion and kind are left out: list items in an informer cache may not carry them.
  const { metadata, spec } = config as { metadata?: unknown; spec?: unknown };
  return live.metadata?.annotations?.[ANNOTATION_APPLIED] === config.metadata?.annotations?.[ANNOTATION_APPLIED] && coveredBy({ metadata, spec }, live);
}

/** `replicas`: for a Deployment, what to create it with (then handed to the autoscaler). */
async function applyChild<T extends KubernetesObject>(ops: ChildOps<T>, fn: KfnFunction, desired: T, replicas?: number): Promise<ChildResult<T>> {
  const namespace = namespaceOf(fn);
  const name = desired.metadata?.name ?? '';
  const child: ChildRef = { kind: ops.kind, namespace, name };
  const config = withAppliedHash(desired);
  let live: T | undefined;
  try {
    // Not in the cache: read, so a stale cache cannot make apply take over an object
    // someone else just created under this name.
    live = ops.cached?.(namespace, name) ?? (await readOrUndefined(ops, namespace, name));
    if (live && !controlledBy(live, fn)) {
      return { child, object: live, created: false, error: new ChildWriteError(child, REASON_NOT_OWNED, `${ops.kind} ${namespace}/${name} exists and is not controlled by this Function; delete or rename it`) };
    }
    if (live && upToDate(live, config)) return { child, object: live, created: false };
    if (!live && replicas !== undefined) {
      await ops.apply(namespace, name, withReplicas(config, replicas), FIELD_MANAGER_CONTROLLER, true);
      await handOverReplicas(ops, namespace, name, config, replicas);
    }
    const object = await ops.apply(namespace, name, config, FIELD_MANAGER_CONTROLLER, true);
    return { child, object, created: !live };
  } catch (err) {
    return { child, ...(live ? { object: live } : {}), created: false, error: childWriteError(child, err) };
  }
}

function withReplicas<T extends KubernetesObject>(config: T, replicas: number): T {
  const spec = (config as { spec?: Record<string, unknown> }).spec ?? {};
  return { ...config, spec: { ...spec, replicas } };
}

/**
 * `kfn-autoscaler` applies the replicas the Deployment was just created with, so it
 * co-owns them before the controller lets go. Not forced: a conflict means the autoscaler
 * already wrote a scale of its own, and owns the field outright.
 */
async function handOverReplicas<T extends KubernetesObject>(ops: ChildOps<T>, namespace: string, name: string, config: T, replicas: number): Promise<void> {
  const body = { apiVersion: config.apiVersion, kind: config.kind, metadata: { name, namespace }, spec: { replicas } } as unknown as T;
  try {
    await ops.apply(namespace, name, body, FIELD_MANAGER_AUTOSCALER, false);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}

async function readOrUndefined<T extends KubernetesObject>(ops: ChildOps<T>, namespace: string, name: string): Promise<T | undefined> {
  try {
    return await ops.read(namespace, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function controlledBy(obj: KubernetesObject, fn: KfnFunction): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === fn.metadata.uid);
}

/**
 * The reason a refused write gets in the Function's status:
 *   ChildInvalid        422: the object kfn built is refused (a name, a field value)
 *   ChildQuotaExceeded  403 "exceeded quota": a ResourceQuota on object counts
 *   ChildForbidden      403 otherwise: RBAC, or an admission webhook or policy said no
 *   ChildWriteFailed    anything else: 5xx, timeouts, the network
 */
export function childWriteError(child: ChildRef, err: unknown): ChildWriteError {
  const refusal = apiRefusalOf(err);
  let reason = REASON_CHILD_WRITE_FAILED;
  if (refusal.code === 422) reason = REASON_CHILD_INVALID;
  else if (refusal.code === 403) reason = /exceeded quota/i.test(refusal.message) ? REASON_CHILD_QUOTA_EXCEEDED : REASON_CHILD_FORBIDDEN;
  const answered = refusal.code !== undefined ? `the API server answered ${refusal.code}${refusal.reason ? ` ${refusal.reason}` : ''}: ` : '';
  return new ChildWriteError(child, reason, `cannot write ${child.kind} ${child.namespace}/${child.name}: ${answered}${refusal.message}`, { cause: err });
}
