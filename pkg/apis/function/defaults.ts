// Defaults a Function gets before anything acts on it, as Knative's SetDefaults does.
// Scale settings are left unset on purpose: the autoscaler's global config fills them at
// decision time (as Knative's config-autoscaler does), so changing a cluster-wide default
// reaches every function that did not choose its own value.
import type { KfnFunction } from './types.js';

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_PORT = 8080;
/** 0 = no per-replica limit. */
export const DEFAULT_CONTAINER_CONCURRENCY = 0;
export const DEFAULT_TIMEOUT_SECONDS = 300;

/** A copy of `fn` with every unset defaulted field filled in; `fn` is not changed. */
export function withDefaults(fn: KfnFunction): KfnFunction {
  return {
    ...fn,
    metadata: {
      ...fn.metadata,
      // An empty namespace means the default one, as it does for kubectl.
      namespace: fn.metadata.namespace || DEFAULT_NAMESPACE,
    },
    spec: {
      ...fn.spec,
      port: fn.spec.port ?? DEFAULT_PORT,
      containerConcurrency: fn.spec.containerConcurrency ?? DEFAULT_CONTAINER_CONCURRENCY,
      timeoutSeconds: fn.spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    },
  };
}
