// Every name, label and annotation the Function reconciler puts on child objects, so the
// builders, the status logic and the controller's watches agree on them.
import { API_VERSION } from '../../apis/meta.js';
import { FUNCTION_KIND, type KfnFunction } from '../../apis/function/types.js';
import { DEFAULT_NAMESPACE } from '../../apis/function/defaults.js';
import type { V1OwnerReference } from '@kubernetes/client-node';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kfn';
/** Selects a function's replicas; the only label in the Deployment and Service selectors. */
export const LABEL_FUNCTION = 'kfn.dev/function';
/**
 * On the Deployment (not its pod template, or every Function edit would roll the pods):
 * the Function generation it was built from, so a reader can tell a stale Deployment.
 */
export const ANNOTATION_GENERATION = 'kfn.dev/function-generation';

/** Knative's name for the one container it runs, so tooling written for it finds ours. */
export const CONTAINER_NAME = 'user-container';
export const PORT_NAME = 'http';

export function deploymentName(fn: KfnFunction): string {
  return fn.metadata.name;
}

/** Headless; its EndpointSlices are the ready replicas the activator balances over. */
export function replicasServiceName(fn: KfnFunction): string {
  return `${fn.metadata.name}-replicas`;
}

/** ExternalName to the activator, so `http://<fn>.<ns>.svc` goes through it. */
export function publicServiceName(fn: KfnFunction): string {
  return fn.metadata.name;
}

export function namespaceOf(fn: KfnFunction): string {
  return fn.metadata.namespace || DEFAULT_NAMESPACE;
}

export function selectorLabels(fn: KfnFunction): Record<string, string> {
  return { [LABEL_FUNCTION]: fn.metadata.name };
}

export function functionLabels(fn: KfnFunction): Record<string, string> {
  return {
    [LABEL_NAME]: fn.metadata.name,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    ...selectorLabels(fn),
  };
}

/** Makes the Function the controller of a child, so deleting it garbage-collects the child. */
export function ownerReference(fn: KfnFunction): V1OwnerReference {
  if (!fn.metadata.uid) throw new Error(`Function ${namespaceOf(fn)}/${fn.metadata.name} has no uid; build children from the stored object`);
  return {
    apiVersion: API_VERSION,
    kind: FUNCTION_KIND,
    name: fn.metadata.name,
    uid: fn.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
