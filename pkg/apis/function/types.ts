// The Function resource (kfn.dev/v1alpha1). The container part mirrors a Knative
// Service template; serving and scaling fields follow Knative's names and defaults.
import type { Condition, ObjectMeta } from '../meta.js';

export const FUNCTION_KIND = 'Function';
export const FUNCTION_PLURAL = 'functions';

export interface EnvVar {
  name: string;
  value?: string;
  /** Exactly one source; resolved by the kubelet on a cluster, not available locally (the variable is left unset there). */
  valueFrom?: EnvVarSource;
}

/** A key of a Secret or ConfigMap in the Function's namespace. */
export interface KeySelector {
  name: string;
  key: string;
  /** When true a missing object or key leaves the variable unset instead of failing the start. */
  optional?: boolean;
}

export interface EnvVarSource {
  secretKeyRef?: KeySelector;
  configMapKeyRef?: KeySelector;
  /** A field of the pod: metadata.name, metadata.namespace, status.podIP... */
  fieldRef?: { fieldPath: string; apiVersion?: string };
  /** A request or limit of the container: limits.memory, requests.cpu... */
  resourceFieldRef?: { resource: string; divisor?: string; containerName?: string };
}

/** A Secret or ConfigMap by name, for envFrom. */
export interface ObjectRef {
  name: string;
  optional?: boolean;
}

/** Every key of one Secret or ConfigMap as a variable; exactly one of the refs. */
export interface EnvFromSource {
  prefix?: string;
  secretRef?: ObjectRef;
  configMapRef?: ObjectRef;
}

export interface KeyToPath {
  key: string;
  /** Relative path of the file inside the volume; no `..`. */
  path: string;
  mode?: number;
}

/**
 * Exactly one source. Only the types the `restricted` Pod Security profile allows and
 * that stay inside the pod's own storage: no hostPath or other node-level volumes.
 */
export interface Volume {
  name: string;
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: string };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  /** `sources` are passed to the pod as written; the API server checks them. */
  projected?: { sources: Record<string, unknown>[]; defaultMode?: number };
}

export interface VolumeMount {
  /** A volume of spec.volumes. */
  name: string;
  /** Absolute; no `..` components. */
  mountPath: string;
  readOnly?: boolean;
  /** Relative path inside the volume; no `..`. */
  subPath?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** Passed to the pod as written below these keys; the API server checks the rest when the Deployment is written. */
export interface Affinity {
  nodeAffinity?: Record<string, unknown>;
  podAffinity?: Record<string, unknown>;
  podAntiAffinity?: Record<string, unknown>;
}

/** Labels and annotations for the pods; kfn's own keys are reserved. */
export interface PodMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * The container's security settings a user may choose. kfn's hardening (no privilege
 * escalation, every capability dropped but NET_BIND_SERVICE, seccomp RuntimeDefault)
 * always applies and cannot be turned off.
 */
export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
}

export interface PodSecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  supplementalGroups?: number[];
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface Probe {
  httpGet?: { path?: string; port?: number };
  tcpSocket?: { port?: number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

/** Durations are Go-style strings, as in Knative: `500ms`, `6s`, `1m30s`. */
export type Duration = string;

export interface ScaleSpec {
  /** Fewest replicas, even with no traffic. Default 0. */
  min?: number;
  /** Most replicas; 0 = unbounded. Default 0. */
  max?: number;
  /** Replicas on create, before any traffic has been seen. Default 1. */
  initial?: number;
  /** Concurrent requests per replica the autoscaler aims at. Default 100 (capped by containerConcurrency). */
  target?: number;
  /** Percent of `target` to actually aim at, leaving headroom. Default 70. */
  targetUtilization?: number;
  /** Stable window. Default 60s; 6s..1h. */
  window?: Duration;
  /** Panic window as a percent of the stable window. Default 10. */
  panicWindowPercentage?: number;
  /** Panic when panic-window demand reaches this percent of ready capacity. Default 200. */
  panicThreshold?: number;
  /** How long the last replica is kept after the decision to go to zero. Default 30s. */
  scaleToZeroGracePeriod?: Duration;
  /** Hold the highest recommendation this long before scaling down. Default 0s. */
  scaleDownDelay?: Duration;
  /** At most this many times the ready replicas per decision. Default 1000. */
  maxScaleUpRate?: number;
  /** At most ready / this many removed per decision. Default 2. */
  maxScaleDownRate?: number;
}

export interface FunctionSpec {
  image: string;
  command?: string[];
  args?: string[];
  /** Working directory of the container; locally relative to the manifest's folder. */
  workingDir?: string;
  env?: EnvVar[];
  resources?: ResourceRequirements;
  readinessProbe?: Probe;
  /** Port the function listens on, passed as $PORT. Default 8080. */
  port?: number;
  /** Hard limit of concurrent requests per replica; 0 = unlimited. Default 0. */
  containerConcurrency?: number;
  /** Longest a request may take, including waiting for a cold start. Default 300. */
  timeoutSeconds?: number;
  scale?: ScaleSpec;
  // The pod-level fields below only make sense on a cluster; local mode warns about the
  // ones that would change what the process sees (valueFrom, envFrom, volumeMounts).
  /** Runs the pods as this ServiceAccount of the namespace; the namespace's default when unset. */
  serviceAccountName?: string;
  imagePullSecrets?: { name: string }[];
  envFrom?: EnvFromSource[];
  volumes?: Volume[];
  volumeMounts?: VolumeMount[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
  podMetadata?: PodMetadata;
  /** Restarts a replica that fails it. Nothing by default. */
  livenessProbe?: Probe;
  securityContext?: SecurityContext;
  podSecurityContext?: PodSecurityContext;
}

export interface FunctionStatus {
  url?: string;
  replicas?: number;
  readyReplicas?: number;
  desiredReplicas?: number;
  /** Replicas that crashed and were restarted since the function was created. */
  restarts?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface KfnFunction {
  apiVersion: string;
  kind: typeof FUNCTION_KIND;
  metadata: ObjectMeta;
  spec: FunctionSpec;
  status?: FunctionStatus;
}
