// Writing a kfn resource's status subresource as both reconcilers need it: only when it
// changed, and after a 409 again on a fresh read, unless the spec moved on meanwhile.
import { isDeepStrictEqual } from 'node:util';
import type { ObjectMeta } from '../apis/meta.js';
import type { Logger } from '../shared/log.js';
import type { CustomObjectClient } from './custom-objects.js';
import { isConflict, isNotFound } from './errors.js';

/** Conflicts retried before a status write gives up (the queue then retries the key). */
const MAX_CONFLICT_RETRIES = 3;

interface WithConditions {
  conditions?: readonly { type: string; status: string }[];
}

/**
 * Writes `statusOf(obj)` when it differs from obj.status. On a 409 the object is read
 * fresh and the status recomputed on it, unless its spec moved on (a new generation),
 * whose own reconcile is already queued by the watch. `what` names it in errors
 * (`trigger default/orders`).
 */
export async function writeStatus<S extends WithConditions, T extends { metadata: ObjectMeta; status?: S }>(
  client: Pick<CustomObjectClient<T>, 'get' | 'replaceStatus'>,
  stored: T,
  statusOf: (obj: T) => S,
  what: string,
  log: Logger,
): Promise<void> {
  let current: T | undefined = stored;
  for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES && current; attempt++) {
    const status = statusOf(current);
    if (sameStatus(current.status, status)) return;
    try {
      await client.replaceStatus({ ...current, status });
      log.debug({ ready: status.conditions?.find((c) => c.type === 'Ready')?.status }, 'status written');
      return;
    } catch (err) {
      // Deleted meanwhile: nothing left to report on.
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw new Error(`write status of ${what}`, { cause: err });
    }
    current = await client.get(stored.metadata.namespace ?? '', stored.metadata.name);
    if (current && current.metadata.generation !== stored.metadata.generation) return;
  }
  if (current) throw new Error(`write status of ${what}: still conflicting after ${MAX_CONFLICT_RETRIES} retries`);
}

/** Compared as JSON, the way it is stored: an unset field and an undefined one are the same. */
function sameStatus(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? {})), JSON.parse(JSON.stringify(b)));
}
