// Backoff and jitter as pure functions of the attempt number.

export interface BackoffPolicy {
  kind: 'exponential' | 'linear';
  baseMs: number;
  maxMs: number;
}

/** Delay before retry `attempt` (1-based): exponential 1×, 2×, 4×… or linear 1×, 2×, 3×… of base, capped. */
export function backoffDelay(policy: BackoffPolicy, attempt: number): number {
  const n = Math.max(1, attempt);
  const raw = policy.kind === 'exponential' ? policy.baseMs * 2 ** (n - 1) : policy.baseMs * n;
  return Math.min(policy.maxMs, raw);
}

/** Full jitter in [delay/2, delay]: spreads retries without making them much earlier. */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  return delayMs / 2 + random() * (delayMs / 2);
}
