import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyResponse, decideDelivery, parseRetryAfter, type DeliveryDecision, type DeliveryInput } from '../../../pkg/events/policy/classify.js';
import type { BackoffPolicy } from '../../../pkg/shared/backoff.js';

describe('classifyResponse', () => {
  const rows: Array<[DeliveryInput['outcome'], ReturnType<typeof classifyResponse>]> = [
    [{ status: 200 }, 'ack'],
    [{ status: 202 }, 'ack'],
    [{ status: 204 }, 'ack'],
    [{ status: 500 }, 'retry'],
    [{ status: 502 }, 'retry'],
    [{ status: 503 }, 'retry'],
    [{ status: 504 }, 'retry'],
    [{ status: 408 }, 'retry'],
    [{ status: 429 }, 'retry'],
    [{ status: 400 }, 'reject'],
    [{ status: 401 }, 'reject'],
    [{ status: 404 }, 'reject'],
    [{ status: 413 }, 'reject'],
    [{ status: 422 }, 'reject'],
    [{ status: 302 }, 'reject'],
    [{ error: 'timeout' }, 'retry'],
    [{ error: 'connection' }, 'retry'],
    [{ error: 'ECONNRESET' }, 'retry'],
  ];
  for (const [outcome, want] of rows) {
    it(`${JSON.stringify(outcome)} → ${want}`, () => assert.equal(classifyResponse(outcome), want));
  }
});

const exp: BackoffPolicy = { kind: 'exponential', baseMs: 1000, maxMs: 60_000 };
const lin: BackoffPolicy = { kind: 'linear', baseMs: 2000, maxMs: 5000 };
const NOW = Date.parse('2026-11-22T04:00:00Z');

describe('decideDelivery', () => {
  const rows: Array<{ name: string; input: DeliveryInput; want: DeliveryDecision }> = [
    { name: '200 on attempt 1 → ack', input: { outcome: { status: 200 }, attempt: 1, retries: 3, backoff: exp }, want: { action: 'ack' } },
    { name: '200 on the last attempt → ack', input: { outcome: { status: 200 }, attempt: 4, retries: 3, backoff: exp }, want: { action: 'ack' } },
    { name: 'exponential 1s base, 60s cap: 500 on attempt 1 → nak 1s', input: { outcome: { status: 500 }, attempt: 1, retries: 3, backoff: exp }, want: { action: 'nak', delayMs: 1000 } },
    { name: 'exponential 1s base, 60s cap: attempt 2 → 2s', input: { outcome: { status: 503 }, attempt: 2, retries: 10, backoff: exp }, want: { action: 'nak', delayMs: 2000 } },
    { name: 'exponential 1s base, 60s cap: attempt 3 → 4s', input: { outcome: { error: 'timeout' }, attempt: 3, retries: 10, backoff: exp }, want: { action: 'nak', delayMs: 4000 } },
    { name: 'exponential 1s base, 60s cap: attempt 7 → 64s capped to 60s', input: { outcome: { status: 500 }, attempt: 7, retries: 10, backoff: exp }, want: { action: 'nak', delayMs: 60_000 } },
    { name: 'linear 2s base, 5s cap: attempt 2 → 4s', input: { outcome: { error: 'connection' }, attempt: 2, retries: 5, backoff: lin }, want: { action: 'nak', delayMs: 4000 } },
    { name: 'linear 2s base, 5s cap: attempt 3 → 6s capped to 5s', input: { outcome: { status: 502 }, attempt: 3, retries: 5, backoff: lin }, want: { action: 'nak', delayMs: 5000 } },
    { name: '429 with Retry-After 7 → nak 7s instead of backoff 1s', input: { outcome: { status: 429 }, attempt: 1, retries: 3, backoff: exp, retryAfterHeader: '7' }, want: { action: 'nak', delayMs: 7000 } },
    { name: '503 with Retry-After 120 → capped at maxMs 60s', input: { outcome: { status: 503 }, attempt: 1, retries: 3, backoff: exp, retryAfterHeader: '120' }, want: { action: 'nak', delayMs: 60_000 } },
    {
      name: '503 with an HTTP-date Retry-After 30s from now → 30s',
      input: { outcome: { status: 503 }, attempt: 1, retries: 3, backoff: exp, retryAfterHeader: new Date(NOW + 30_000).toUTCString(), nowMs: NOW },
      want: { action: 'nak', delayMs: 30_000 },
    },
    { name: '500 ignores Retry-After: attempt 2 → backoff 2s', input: { outcome: { status: 500 }, attempt: 2, retries: 3, backoff: exp, retryAfterHeader: '30' }, want: { action: 'nak', delayMs: 2000 } },
    { name: 'unreadable Retry-After falls back to backoff 1s', input: { outcome: { status: 429 }, attempt: 1, retries: 3, backoff: exp, retryAfterHeader: 'soon' }, want: { action: 'nak', delayMs: 1000 } },
    {
      name: 'retries 3: 500 on attempt 4 (the last) → dead-letter, exhausted',
      input: { outcome: { status: 500 }, attempt: 4, retries: 3, backoff: exp },
      want: { action: 'deadletter', reason: 'retries-exhausted', status: 500, attempts: 4 },
    },
    {
      name: 'retries 3: timeout on attempt 4 → dead-letter with the error',
      input: { outcome: { error: 'timeout' }, attempt: 4, retries: 3, backoff: exp },
      want: { action: 'deadletter', reason: 'retries-exhausted', lastError: 'timeout', attempts: 4 },
    },
    {
      name: 'retries 0: 503 on attempt 1 → dead-letter at once',
      input: { outcome: { status: 503 }, attempt: 1, retries: 0, backoff: exp },
      want: { action: 'deadletter', reason: 'retries-exhausted', status: 503, attempts: 1 },
    },
    {
      name: 'attempt beyond the limit (redelivered after a crash) → dead-letter',
      input: { outcome: { status: 500 }, attempt: 6, retries: 3, backoff: exp },
      want: { action: 'deadletter', reason: 'retries-exhausted', status: 500, attempts: 6 },
    },
    {
      name: '400 on attempt 1 → dead-letter, rejected, no retry',
      input: { outcome: { status: 400 }, attempt: 1, retries: 3, backoff: exp },
      want: { action: 'deadletter', reason: 'rejected', status: 400, attempts: 1 },
    },
    {
      name: '404 on attempt 2 → dead-letter, rejected',
      input: { outcome: { status: 404 }, attempt: 2, retries: 3, backoff: exp },
      want: { action: 'deadletter', reason: 'rejected', status: 404, attempts: 2 },
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(decideDelivery(row.input), row.want));
  }
});

describe('parseRetryAfter', () => {
  const rows: Array<[string | undefined, number | undefined, number | undefined]> = [
    [undefined, undefined, undefined],
    ['', undefined, undefined],
    ['0', undefined, 0],
    [' 5 ', undefined, 5000],
    ['-1', undefined, undefined],
    ['1.5', undefined, undefined],
    [new Date(NOW + 10_000).toUTCString(), NOW, 10_000],
    [new Date(NOW - 10_000).toUTCString(), NOW, 0],
    [new Date(NOW + 10_000).toUTCString(), undefined, undefined],
  ];
  for (const [header, now, want] of rows) {
    it(`${JSON.stringify(header)} at ${now === undefined ? 'no clock' : 'now'} → ${String(want)}`, () => assert.equal(parseRetryAfter(header, now), want));
  }
});
