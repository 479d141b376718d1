// Shapes shared by the API server double: stored objects, resource types, watch events.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** One manager's fields (metadata.managedFields), as server-side apply records them. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: Record<string, unknown>;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  managedFields?: ManagedFieldsEntry[];
  [field: string]: unknown;
}

/** A Kubernetes object as JSON. Everything but metadata is opaque to the double. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** A stored object always has its server-set metadata. */
export interface StoredObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; uid: string; resourceVersion: string; creationTimestamp: string };
}

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, lower case: 'deployments'. */
  resource: string;
  kind: string;
  namespaced: boolean;
  /** With a status subresource, the main resource ignores status writes and vice versa. */
  statusSubresource: boolean;
  /** Deployments: GET/PUT/PATCH .../scale as autoscaling/v1 Scale. */
  scaleSubresource: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One write, as retained in history for watches to replay. */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rv: number;
  resourceKey: string;
  object: StoredObject;
  /** The state before a MODIFIED, so selector watches can see objects enter and leave. */
  previous?: StoredObject;
}
