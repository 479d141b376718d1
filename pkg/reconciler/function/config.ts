// What the Function reconciler's builders need to know about the cluster they build for.
// Filled from flags/env by the controller; the defaults suit `kubectl apply -f config/`.

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface ReconcilerConfig {
  /** The activator Service's DNS name; public Services are ExternalName aliases of it. */
  activatorHost: string;
  /** Function URLs are `http://<name>.<namespace>.<domain>`. */
  domain: string;
  /** Unset: Kubernetes decides (Always for `:latest` or no tag, IfNotPresent otherwise). */
  imagePullPolicy?: ImagePullPolicy;
  /**
   * Seconds a terminating replica keeps serving before it gets SIGTERM, so the endpoint
   * removal reaches every activator first (Knative's queue-proxy drains the same way).
   */
  drainSeconds: number;
  /**
   * How the drain pause is run. `sleep` is the kubelet's own sleep action (Kubernetes
   * 1.30+ by default) and needs nothing in the image; `exec` runs `sleep` in the
   * container, for older clusters, and needs a `sleep` binary; `none` skips the pause.
   */
  drainAction: 'sleep' | 'exec' | 'none';
  /** Added to timeoutSeconds (and the drain) for terminationGracePeriodSeconds. */
  terminationMarginSeconds: number;
  /** Old ReplicaSets kept for `kubectl rollout undo`. */
  revisionHistoryLimit: number;
  /** Seconds a rollout may make no progress before it is reported as failed. */
  progressDeadlineSeconds: number;
}

export const DEFAULT_ACTIVATOR_HOST = 'kfn-activator.kfn-system.svc.cluster.local';
export const DEFAULT_DOMAIN = 'kfn.local';

export const DEFAULT_RECONCILER_CONFIG: Readonly<ReconcilerConfig> = {
  activatorHost: DEFAULT_ACTIVATOR_HOST,
  domain: DEFAULT_DOMAIN,
  drainSeconds: 5,
  drainAction: 'sleep',
  terminationMarginSeconds: 10,
  revisionHistoryLimit: 3,
  // Kubernetes' own default; long enough for a slow image pull.
  progressDeadlineSeconds: 600,
};

export function reconcilerConfig(overrides: Partial<ReconcilerConfig> = {}): ReconcilerConfig {
  const cfg: ReconcilerConfig = { ...DEFAULT_RECONCILER_CONFIG };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  return cfg;
}
