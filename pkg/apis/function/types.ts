// The Function resource (kfn.dev/v1alpha1). The container part mirrors a Knative
// Service template; serving and scaling fields follow Knative's names and defaults.
import type { Condition, ObjectMeta } from '../meta.js';

export const FUNCTION_KIND = 'Function';
export const FUNCTION_PLURAL = 'functions';

export interface EnvVar {
  name: string;
  value?: string;
  /** Passed through to Kubernetes untouched (secretKeyRef, configMapKeyRef...); ignored locally. */
  valueFrom?: Record<string, unknown>;
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
