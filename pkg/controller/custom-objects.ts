// A kfn resource's own API on the cluster, through the CustomObjectsApi of
// @kubernetes/client-node: a fresh read, a replace of the object (its finalizers) and a
// replace of its status subresource. Each PUT carries metadata.resourceVersion, so a
// stale write gets a 409 (isConflict) for the reconciler to retry.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, VERSION, type ObjectMeta } from '../apis/meta.js';
import { isNotFound } from './errors.js';

export interface CustomObjectClient<T> {
  /** Undefined when it does not exist (any more). */
  get(namespace: string, name: string): Promise<T | undefined>;
  replace(obj: T): Promise<T>;
  replaceStatus(obj: T): Promise<T>;
}

export function customObjectClient<T extends { metadata: ObjectMeta }>(api: CustomObjectsApi, plural: string): CustomObjectClient<T> {
  const base = { group: GROUP, version: VERSION, plural };
  const target = (obj: T) => ({ ...base, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name, body: obj });
  return {
    async get(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...base, namespace, name })) as T;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async replace(obj) {
      return (await api.replaceNamespacedCustomObject(target(obj))) as T;
    },
    async replaceStatus(obj) {
      return (await api.replaceNamespacedCustomObjectStatus(target(obj))) as T;
    },
  };
}
