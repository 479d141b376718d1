// Scale rules of a Function's spec that more than one component applies.
import type { KfnFunction } from './types.js';

/**
 * Replicas a new workload starts with: scale.initial (default 1), raised to scale.min and
 * capped by scale.max (0 = no cap), as the autoscaler would bound it on its first tick
 * anyway. The cluster controller creates the Deployment with it, and until a workload
 * exists both modes report it as the desired replicas. After creation the autoscaler
 * owns the number.
 */
export function initialReplicas(fn: KfnFunction): number {
  const scale = fn.spec.scale ?? {};
  let n = Math.max(scale.initial ?? 1, scale.min ?? 0);
  if (scale.max !== undefined && scale.max > 0) n = Math.min(n, scale.max);
  return n;
}
