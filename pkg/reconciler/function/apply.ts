// Create-or-update of a Function's children: the Deployment, the headless replicas
// Service and the public Service. What to write comes from the pure builders
// (makeDeployment, deploymentForUpdate…), which also keep what is not ours: an existing
// Deployment's spec.replicas belongs to the autoscaler and is never written back changed.
// Every update carries the resourceVersion it was built from, so a concurrent write makes
// it a 409; the child is then read fresh and the update rebuilt on top of it.
import type { AppsV1Api, CoreV1Api, KubernetesObject, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../apis/function/types.js';
import { isConflict, isNotFound } from '../../controller/errors.js';
import type { ReconcilerConfig } from './config.js';
import { deploymentForUpdate, makeDeployment } from './deployment.js';
import { namespaceOf } from './names.js';
import { makePublicService, makeReplicasService, serviceForUpdate } from './services.js';

export interface ChildApis {
  apps: AppsV1Api;
  core: CoreV1Api;
}

/** Informer caches of the children, tried before a read; optional. */
export interface ChildCache {
  deployment?: (namespace: string, name: string) => V1Deployment | undefined;
  service?: (namespace: string, name: string) => V1Service | undefined;
}

export interface AppliedChildren {
  deployment: V1Deployment;
  replicasService: V1Service;
  publicService: V1Service;
}

/** Writes that keep losing to others: give up and let the queue retry later. */
export const MAX_CONFLICT_RETRIES = 5;

/** A child's name is taken by an object this Function does not control; it is left alone. */
export class NotOwnedError extends Error {
  constructor(
    readonly kind: string,
    readonly namespace: string,
    readonly childName: string,
  ) {
    super(`${kind} ${namespace}/${childName} exists and is not controlled by this Function; delete or rename it`);
    this.name = 'NotOwnedError';
  }
}

interface ChildOps<T extends KubernetesObject> {
  kind: string;
  cached?: ((namespace: string, name: string) => T | undefined) | undefined;
  read(namespace: string, name: string): Promise<T>;
  create(namespace: string, body: T): Promise<T>;
  replace(namespace: string, name: string, body: T): Promise<T>;
  forUpdate(existing: T, desired: T): { object: T; changed: boolean };
}

/** `fn` must have defaults applied and a uid. */
export async function applyChildren(apis: ChildApis, fn: KfnFunction, cfg: ReconcilerConfig, cache: ChildCache = {}): Promise<AppliedChildren> {
  const deployments: ChildOps<V1Deployment> = {
    kind: 'Deployment',
    cached: cache.deployment,
    read: (namespace, name) => apis.apps.readNamespacedDeployment({ namespace, name }),
    create: (namespace, body) => apis.apps.createNamespacedDeployment({ namespace, body }),
    replace: (namespace, name, body) => apis.apps.replaceNamespacedDeployment({ namespace, name, body }),
    forUpdate: (existing, desired) => {
      const u = deploymentForUpdate(existing, desired);
      return { object: u.deployment, changed: u.changed };
    },
  };
  const services: ChildOps<V1Service> = {
    kind: 'Service',
    cached: cache.service,
    read: (namespace, name) => apis.core.readNamespacedService({ namespace, name }),
    create: (namespace, body) => apis.core.createNamespacedService({ namespace, body }),
    replace: (namespace, name, body) => apis.core.replaceNamespacedService({ namespace, name, body }),
    forUpdate: (existing, desired) => {
      const u = serviceForUpdate(existing, desired);
      return { object: u.service, changed: u.changed };
    },
  };
  const [deployment, replicasService, publicService] = await Promise.all([
    applyChild(deployments, fn, makeDeployment(fn, cfg)),
    applyChild(services, fn, makeReplicasService(fn, cfg)),
    applyChild(services, fn, makePublicService(fn, cfg)),
  ]);
  return { deployment, replicasService, publicService };
}

async function applyChild<T extends KubernetesObject>(ops: ChildOps<T>, fn: KfnFunction, desired: T): Promise<T> {
  const namespace = namespaceOf(fn);
  const name = desired.metadata?.name ?? '';
  let lastConflict: unknown;
  for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
    // The cache is good enough for a first try: a stale copy only costs a 409.
    const existing = attempt === 0 && ops.cached ? ops.cached(namespace, name) : await readOrUndefined(ops, namespace, name);
    try {
      if (!existing) return await ops.create(namespace, desired);
      if (!controlledBy(existing, fn)) throw new NotOwnedError(ops.kind, namespace, name);
      const { object, changed } = ops.forUpdate(existing, desired);
      if (!changed) return existing;
      return await ops.replace(namespace, name, object);
    } catch (err) {
      // 409 is both "already exists" on create and "stale resourceVersion" on replace.
      if (!isConflict(err)) throw err;
      lastConflict = err;
    }
  }
  throw new Error(`${ops.kind} ${namespace}/${name}: still conflicting after ${MAX_CONFLICT_RETRIES} retries`, { cause: lastConflict });
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
