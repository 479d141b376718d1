// Every name, label and annotation the Function reconciler puts on child objects, so the
// builders, the status logic and the controller's watches agree on them.
import { API_VERSION } from '../../apis/meta.js';
import { FUNCTION_KIND, type KfnFunction } from '../../apis/function/types.js';
import { DEFAULT_NAMESPACE } from '../../apis/function/defaults.js';
import { createHash } from 'node:crypto';
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

/**
 * On every child: a hash of the configuration the controller last applied, so a steady
 * state is recognised from the informer cache without a write (apply.ts).
 */
export const ANNOTATION_APPLIED = 'kfn.dev/applied-config';

/**
 * Server-side apply field managers, one per component that writes a Function's children.
 * The controller owns everything it applies but spec.replicas, which the autoscaler owns
 * (its scale writes, and the handover when a Deployment is created; see apply.ts).
 */
export const FIELD_MANAGER_CONTROLLER = 'kfn-controller';
export const FIELD_MANAGER_AUTOSCALER = 'kfn-autoscaler';

/** Knative's name for the one container it runs, so tooling written for it finds ours. */
export const CONTAINER_NAME = 'user-container';
export const PORT_NAME = 'http';

export function deploymentName(fn: KfnFunction): string {
  return fn.metadata.name;
}

/** The longest DNS-1035 label, which is what a Service name must be. */
export const MAX_CHILD_NAME_LENGTH = 63;
const MD5_HEX_LENGTH = 32;

/**
 * `parent + suffix`, or when that is longer than a Service name may be, a stable name of
 * exactly 63 characters: the parent cut short, the md5 of the whole parent in hex, then
 * the suffix. This is Knative's kmeta.ChildName (pkg/kmeta/names.go), so two parents
 * that share a long prefix still get distinct children, and a reader of a kfn cluster
 * who knows Knative finds the same names. `suffix` must be shorter than 31 characters
 * (kfn's are; kmeta has a second branch for longer ones that kfn does not need), and
 * start with '-' so a cut parent ending in '-' still makes a valid label.
 */
export function childName(parent: string, suffix: string): string {
  const keep = MAX_CHILD_NAME_LENGTH - MD5_HEX_LENGTH - suffix.length;
  if (keep <= 0) throw new Error(`childName: suffix ${JSON.stringify(suffix)} is too long to leave room for the parent`);
  if (parent.length + suffix.length <= MAX_CHILD_NAME_LENGTH) return parent + suffix;
  // md5 is an identifier here, not a defence: kmeta uses it, and names must match its.
  return parent.slice(0, keep) + createHash('md5').update(parent).digest('hex') + suffix;
}

export const REPLICAS_SERVICE_SUFFIX = '-replicas';

/**
 * Headless; its EndpointSlices are the ready replicas the activator balances over.
 * `<fn>-replicas`, hashed for names longer than 54 characters (see childName).
 */
export function replicasServiceName(fn: KfnFunction): string {
  return replicasServiceNameOf(fn.metadata.name);
}

export function replicasServiceNameOf(functionName: string): string {
  return childName(functionName, REPLICAS_SERVICE_SUFFIX);
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
