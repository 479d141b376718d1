// Kubernetes-shaped metadata and conditions shared by every kfn resource.

export const GROUP = 'kfn.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable: `ExitedAtStart`, `ScaledToZero`. */
  reason?: string;
  /** What a person should know or do. */
  message?: string;
  lastTransitionTime?: string;
}

/** Identifies one function everywhere: routes, stats, scale, logs. */
export interface FunctionKey {
  namespace: string;
  name: string;
}

export function keyOf(key: FunctionKey): string {
  return `${key.namespace}/${key.name}`;
}

export function parseKey(s: string): FunctionKey {
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1) throw new Error(`invalid function key "${s}": want <namespace>/<name>`);
  return { namespace: s.slice(0, slash), name: s.slice(slash + 1) };
}

/** One problem with a manifest, named by its field path (`spec.scale.max`). */
export interface FieldError {
  field: string;
  message: string;
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}
