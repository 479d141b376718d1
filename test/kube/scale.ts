// The autoscaling/v1 Scale view of a Deployment, and writing one back.
import type { StoredObject, KubeObject } from './types.js';

export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string; creationTimestamp: string };
  spec: { replicas: number };
  status: { replicas: number; selector?: string };
}

interface DeploymentShape {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: { replicas?: number };
}

export function scaleOf(obj: StoredObject): Scale {
  const d = obj as DeploymentShape;
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  const labels = d.spec?.selector?.matchLabels;
  const selector = labels ? Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') : undefined;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name, ...(namespace !== undefined ? { namespace } : {}), uid, resourceVersion, creationTimestamp },
    // A real server defaults Deployment replicas to 1.
    spec: { replicas: d.spec?.replicas ?? 1 },
    status: { replicas: d.status?.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

/** The Deployment body a Scale write turns into; its resourceVersion carries the client's precondition. */
export function withScale(obj: StoredObject, scale: KubeObject): KubeObject {
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  const spec = { ...((obj.spec as Record<string, unknown> | undefined) ?? {}), replicas: typeof replicas === 'number' ? replicas : 0 };
  const rv = scale.metadata?.resourceVersion;
  return { ...obj, spec, metadata: { ...obj.metadata, resourceVersion: rv === undefined || rv === '' ? obj.metadata.resourceVersion : rv } };
}
