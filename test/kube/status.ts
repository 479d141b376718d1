// Failures in the exact `Status` shape the API server returns, and the error that carries one.
import type { ResourceType } from './types.js';
import { resourceKey } from './resources.js';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  /** Field-level reasons, e.g. server-side apply conflicts. */
  causes?: Array<{ type: string; message: string; field: string }>;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function failure(code: number, message: string, reason?: string, details?: StatusDetails): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reason ?? REASONS[code] ?? 'Unknown', code };
  if (details) status.details = details;
  return status;
}

export function success(details: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

/** Thrown by the store and handlers; the router writes its status as the response. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function detailsFor(t: ResourceType, name: string): StatusDetails {
  return { name, group: t.group, kind: t.resource };
}

export const errors = {
  notFound: (t: ResourceType, name: string) =>
    new ApiError(failure(404, `${resourceKey(t)} "${name}" not found`, 'NotFound', detailsFor(t, name))),
  alreadyExists: (t: ResourceType, name: string) =>
    new ApiError(failure(409, `${resourceKey(t)} "${name}" already exists`, 'AlreadyExists', detailsFor(t, name))),
  conflict: (t: ResourceType, name: string) =>
    new ApiError(failure(409, `Operation cannot be fulfilled on ${resourceKey(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, 'Conflict', detailsFor(t, name))),
  /** A name the API server would refuse: Services need a DNS-1035 label (apimachinery IsDNS1035Label). */
  invalidName: (t: ResourceType, name: string, why: string) =>
    new ApiError(failure(422, `${t.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": ${why}`, 'Invalid', { name, group: t.group, kind: t.kind })),
  invalid: (t: ResourceType, name: string, why: string) =>
    new ApiError(failure(422, `${t.kind} "${name}" is invalid: ${why}`, 'Invalid', { name, group: t.group, kind: t.kind })),
  badRequest: (message: string) => new ApiError(failure(400, message, 'BadRequest')),
};
