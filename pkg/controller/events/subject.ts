// The `regarding` of kfn's Events about a Function. With the uid when known: `kubectl
// describe` selects a resource's Events on kind, name, namespace and uid, so an Event
// without it is listed by `kubectl get events` but not shown by describe.
import { FUNCTION_KIND } from '../../apis/function/types.js';
import { API_VERSION, type FunctionKey } from '../../apis/meta.js';
import type { EventSubject } from './types.js';

export function functionSubject(key: FunctionKey, uid: string | undefined): EventSubject {
  return { apiVersion: API_VERSION, kind: FUNCTION_KIND, namespace: key.namespace, name: key.name, ...(uid ? { uid } : {}) };
}
