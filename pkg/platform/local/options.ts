// The local platform's knobs, with the defaults that make cold starts fast and crash
// loops slow.
import type { BackoffPolicy } from '../../shared/backoff.js';

export interface LocalPlatformOptions {
  /** Interface replicas listen on and are probed at. Default 127.0.0.1. */
  host?: string;
  /** Probe interval while a replica starts. Default 2 ms: it bounds the platform's share of a cold start. */
  startProbeIntervalMs?: number;
  /** How long to probe at the start interval before backing off. Default 1000 ms. */
  startProbeFastMs?: number;
  /** Longest interval between start probes after backing off. Default 100 ms. */
  startProbeMaxIntervalMs?: number;
  /** Delay before replacing a replica that exited on its own. Default exponential 100 ms → 10 s. */
  restartBackoff?: BackoffPolicy;
  /** A replica that was up this long resets the restart backoff. Default 10 s. */
  backoffResetAfterMs?: number;
  /** Exits before ready in a row that mark the function failed (ExitedAtStart). Default 3. */
  startFailureThreshold?: number;
  /** Longest drain before SIGKILL. Default the function's spec.timeoutSeconds (300 s). */
  drainTimeoutMs?: number;
  /** kfn-node-runtime processes kept started and warm for replicas to take. Default 0. */
  warmRuntimes?: number;
  /** A taken warm runtime is replaced this long after. Default 200 ms. */
  warmRefillDelayMs?: number;
  /**
   * Replicas that may serve or start at once, all functions together; a scale above what
   * is left is held there and reported (ReplicaCapReached). Replicas draining, and those of
   * an old revision being replaced, do not count: they are on their way out. Default: no cap
   * (kfn dev sets one from the machine's memory, replica-cap.ts).
   */
  maxReplicas?: number;
}

export type ResolvedOptions = Required<Omit<LocalPlatformOptions, 'drainTimeoutMs'>> & { drainTimeoutMs?: number };

export function resolveOptions(o: LocalPlatformOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    host: o.host ?? '127.0.0.1',
    startProbeIntervalMs: o.startProbeIntervalMs ?? 2,
    startProbeFastMs: o.startProbeFastMs ?? 1000,
    startProbeMaxIntervalMs: o.startProbeMaxIntervalMs ?? 100,
    restartBackoff: o.restartBackoff ?? { kind: 'exponential', baseMs: 100, maxMs: 10_000 },
    backoffResetAfterMs: o.backoffResetAfterMs ?? 10_000,
    startFailureThreshold: o.startFailureThreshold ?? 3,
    warmRuntimes: o.warmRuntimes ?? 0,
    warmRefillDelayMs: o.warmRefillDelayMs ?? 200,
    maxReplicas: o.maxReplicas ?? Number.POSITIVE_INFINITY,
  };
  if (o.drainTimeoutMs !== undefined) resolved.drainTimeoutMs = o.drainTimeoutMs;
  return resolved;
}
