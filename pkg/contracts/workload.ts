// What a function's workload on a cluster looks like to everyone who reads it: the labels
// and names the Function reconciler puts on its Deployment and Services, and the field
// managers of the components that write them. The reconciler writes them; the platform
// (endpoints, scale, workload status) and the CLI read them. They live here, below both,
// so neither imports the other.
import { createHash } from 'node:crypto';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kfn';
/** Selects a function's replicas; the only label in the Deployment and Service selectors. */
export const LABEL_FUNCTION = 'kfn.dev/function';

/**
 * Server-side apply field managers, one per component that writes a Function's children.
 * The controller owns everything it applies but spec.replicas, which the autoscaler owns
 * (its scale writes, and the handover when a Deployment is created; see
 * pkg/reconciler/function/apply.ts).
 */
export const FIELD_MANAGER_CONTROLLER = 'kfn-controller';
export const FIELD_MANAGER_AUTOSCALER = 'kfn-autoscaler';

/** Knative's name for the one container it runs, so tooling written for it finds ours. */
export const CONTAINER_NAME = 'user-container';
export const PORT_NAME = 'http';

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
 * The headless Service whose EndpointSlices are a function's ready replicas:
 * `<fn>-replicas`, hashed for names longer than 54 characters (see childName).
 */
export function replicasServiceNameOf(functionName: string): string {
  return childName(functionName, REPLICAS_SERVICE_SUFFIX);
}
