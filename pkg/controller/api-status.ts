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
  const status = statusBody(err);
  const message = typeof status?.message === 'string' && status.message !== '' ? status.message : describeError(err);
  return {
    ...(code !== undefined ? { code } : {}),
    ...(typeof status?.reason === 'string' ? { reason: status.reason } : {}),
    message,
  };
}

function statusBody(err: unknown): { message?: unknown; reason?: unknown } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  let body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof body !== 'object' || body === null || (body as { kind?: unknown }).kind !== 'Status') return undefined;
  return body;
}
