// The Function resource (kfn.dev/v1alpha1). The container part mirrors a Knative
// Service template; serving and scaling fields follow Knative's names and defaults.
import type { ObjectMeta } from '../meta.js';
import type { Infer } from '../schema.js';
import type { functionSpecSchema, functionStatusSchema } from './schema.js';

export const FUNCTION_KIND = 'Function';
export const FUNCTION_PLURAL = 'functions';

// Inferred from the one definition in schema.ts (the CRD is generated from it too), so a
// field exists here exactly when the API server accepts it. Descriptions live there.
type Spec = Infer<typeof functionSpecSchema>;
type Item<T> = NonNullable<T> extends (infer I)[] ? I : never;

export type FunctionSpec = Spec;
export type EnvVar = Item<Spec['env']>;
export type EnvVarSource = NonNullable<EnvVar['valueFrom']>;
/** A key of a Secret or ConfigMap in the Function's namespace. */
export type KeySelector = NonNullable<EnvVarSource['secretKeyRef']>;
/** Every key of one Secret or ConfigMap as a variable; exactly one of the refs. */
export type EnvFromSource = Item<Spec['envFrom']>;
/** A Secret or ConfigMap by name, for envFrom. */
export type ObjectRef = NonNullable<EnvFromSource['secretRef']>;
export type Volume = Item<Spec['volumes']>;
export type KeyToPath = Item<NonNullable<Volume['secret']>['items']>;
export type VolumeMount = Item<Spec['volumeMounts']>;
export type Toleration = Item<Spec['tolerations']>;
export type Affinity = NonNullable<Spec['affinity']>;
export type PodMetadata = NonNullable<Spec['podMetadata']>;
export type SecurityContext = NonNullable<Spec['securityContext']>;
export type PodSecurityContext = NonNullable<Spec['podSecurityContext']>;
export type ResourceRequirements = NonNullable<Spec['resources']>;
/** A readiness probe; a liveness probe has the same fields. */
export type Probe = NonNullable<Spec['readinessProbe']>;
export type ScaleSpec = NonNullable<Spec['scale']>;
/** Durations are Go-style strings, as in Knative: `500ms`, `6s`, `1m30s`. */
export type Duration = string;
export type FunctionStatus = Infer<typeof functionStatusSchema>;

export interface KfnFunction {
  apiVersion: string;
  kind: typeof FUNCTION_KIND;
  metadata: ObjectMeta;
  spec: FunctionSpec;
  status?: FunctionStatus;
}
export type LoadBalancingSpec = NonNullable<Spec['loadBalancing']>;
export type RetriesSpec = NonNullable<Spec['retries']>;
