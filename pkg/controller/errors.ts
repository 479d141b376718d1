// How @kubernetes/client-node 1.x reports a failed call: an ApiException whose `code` is
// the HTTP status. Watches report `statusCode` instead. Node's own errors carry string
// codes ('ECONNREFUSED'), so only a numeric match counts.

export function apiStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

export function isApiError(err: unknown, status: number): boolean {
  return apiStatusOf(err) === status;
}

export const isNotFound = (err: unknown): boolean => isApiError(err, 404);
export const isConflict = (err: unknown): boolean => isApiError(err, 409);
