// What to do with one delivery attempt's outcome. Pure: the attempt number comes from
// JetStream's delivery count and the clock (for an HTTP-date Retry-After) is an argument.
import { backoffDelay, type BackoffPolicy } from '../../shared/backoff.js';

/** The function answered with a status, or the request failed before it could. */
export type DeliveryOutcome = { status: number } | { error: 'timeout' | 'connection' | (string & {}) };

export type Classification = 'ack' | 'retry' | 'reject';

/**
 * 2xx → ack. 408, 429 and 5xx → retry: the function may answer differently later.
 * Any transport error (timeout, refused or reset connection) → retry: the event never
 * reached a decision. Other 4xx, and 3xx (we do not follow redirects), → reject: the
 * same event would fail the same way.
 */
export function classifyResponse(outcome: DeliveryOutcome): Classification {
  if (!('status' in outcome)) return 'retry';
  const { status } = outcome;
  if (status >= 200 && status < 300) return 'ack';
  if (status === 408 || status === 429) return 'retry';
  if (status >= 300 && status < 500) return 'reject';
  return 'retry';
}

export type DeadLetterReason = 'rejected' | 'retries-exhausted';

export type DeliveryDecision =
  | { action: 'ack' }
  | { action: 'nak'; delayMs: number }
  | { action: 'deadletter'; reason: DeadLetterReason; status?: number; lastError?: string; attempts: number };

export interface DeliveryInput {
  outcome: DeliveryOutcome;
  /** 1-based: JetStream's delivery count for this message. */
  attempt: number;
  /** Retries after the first attempt, so retries + 1 attempts in all. */
  retries: number;
  backoff: BackoffPolicy;
  /** The response's Retry-After, honoured on 429 and 503. */
  retryAfterHeader?: string;
  /** Now in epoch ms, needed only to read an HTTP-date Retry-After. */
  nowMs?: number;
}

/**
 * Ack on 2xx; dead-letter on reject or when the last attempt (attempt ≥ retries + 1)
 * failed; else nak with backoffDelay(policy, attempt), or the server's Retry-After on
 * 429/503 capped at maxMs. No jitter here: that is the caller's choice (withJitter).
 */
export function decideDelivery(input: DeliveryInput): DeliveryDecision {
  const { outcome, backoff } = input;
  const attempt = Math.max(1, Math.floor(input.attempt));
  const classification = classifyResponse(outcome);
  if (classification === 'ack') return { action: 'ack' };
  const why = 'status' in outcome ? { status: outcome.status } : { lastError: outcome.error };
  if (classification === 'reject') return { action: 'deadletter', reason: 'rejected', ...why, attempts: attempt };
  if (attempt >= Math.max(0, input.retries) + 1) return { action: 'deadletter', reason: 'retries-exhausted', ...why, attempts: attempt };
  const retryAfter = 'status' in outcome && (outcome.status === 429 || outcome.status === 503) ? parseRetryAfter(input.retryAfterHeader, input.nowMs) : undefined;
  const delayMs = retryAfter !== undefined ? Math.min(retryAfter, backoff.maxMs) : backoffDelay(backoff, attempt);
  return { action: 'nak', delayMs };
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms; undefined if unreadable. */
export function parseRetryAfter(header: string | undefined, nowMs?: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (nowMs === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
