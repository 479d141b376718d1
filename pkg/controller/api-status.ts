// What the API server said when it refused a call: the `Status` object in the body of a
// client-node 1.x ApiException (its `body` is the response text), reduced to what a
// person and a reconciler need.
import { describeError } from '../shared/describe-error.js';
import { apiStatusOf } from './errors.js';

export interface ApiRefusal {
  /** The HTTP status; undefined for a transport failure. */
  code?: number;
  /** Status.reason: `Invalid`, `Forbidden`, `Conflict`… */
  reason?: string;
  /** Status.message, else the error's own description. */
  message: string;
}

export function apiRefusalOf(err: unknown): ApiRefusal {
  const code = apiStatusOf(err);
  const status = typeof err === 'object' && err !== null ? statusFromBody((err as { body?: unknown }).body) : undefined;
  return {
    ...(code !== undefined ? { code } : {}),
    ...(status?.reason !== undefined ? { reason: status.reason } : {}),
    message: status?.message || describeError(err),
  };
}

/** A metav1.Status the API server answered with, when `body` (text, bytes or parsed) is one. */
export interface ApiStatus {
  message: string;
  reason: string | undefined;
  code: number | undefined;
}

export function statusFromBody(body: unknown): ApiStatus | undefined {
  let parsed = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      parsed = JSON.parse(body.toString()) as unknown;
    } catch {
      return undefined;
    }
  }
  const s = parsed as { kind?: unknown; message?: unknown; reason?: unknown; code?: unknown } | null;
  if (typeof s !== 'object' || s === null || s.kind !== 'Status') return undefined;
  return {
    message: typeof s.message === 'string' ? s.message : '',
    reason: typeof s.reason === 'string' ? s.reason : undefined,
    code: typeof s.code === 'number' ? s.code : undefined,
  };
}
