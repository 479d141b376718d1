// Every name, label and annotation the Function reconciler puts on child objects, so the
// builders, the status logic and the controller's watches agree on them. Those that the
// platform and the CLI read too are in pkg/contracts/workload.ts, re-exported here.
import { API_VERSION } from '../../apis/meta.js';
import { FUNCTION_KIND, type KfnFunction } from '../../apis/function/types.js';
import { DEFAULT_NAMESPACE } from '../../apis/function/defaults.js';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { LABEL_FUNCTION, LABEL_MANAGED_BY, LABEL_NAME, MANAGED_BY, replicasServiceNameOf } from '../../contracts/workload.js';

export {
  CONTAINER_NAME,
  FIELD_MANAGER_AUTOSCALER,
  FIELD_MANAGER_CONTROLLER,
  LABEL_FUNCTION,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  MANAGED_BY,
  MAX_CHILD_NAME_LENGTH,
  PORT_NAME,
  REPLICAS_SERVICE_SUFFIX,
  childName,
  replicasServiceNameOf,
} from '../../contracts/workload.js';

/**
 * On the Deployment (not its pod template, or every Function edit would roll the pods):
 * the Function generation it was built from, so a reader can tell a stale Deployment.
 */
export const ANNOTATION_GENERATION = 'kfn.dev/function-generation';

/**
 * On every child: a hash of the configuration the controller last applied, so a steady
 * state is recognised from the informer cache without a write (apply.ts).
 */
export const ANNOTATION_APPLIED = 'kfn.dev/applied-config';

export function deploymentName(fn: KfnFunction): string {
  return fn.metadata.name;
}

/**
 * Headless; its EndpointSlices are the ready replicas the activator balances over.
 * `<fn>-replicas`, hashed for names longer than 54 characters (see childName).
 */
export function replicasServiceName(fn: KfnFunction): string {
  return replicasServiceNameOf(fn.metadata.name);
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
