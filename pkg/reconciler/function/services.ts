// The two Services of a Function. `<fn>-replicas` is headless and selects the replicas:
// its EndpointSlices are the ready replicas the activator balances over. `<fn>` is an
// ExternalName alias of the activator, so an in-cluster caller of
// `http://<fn>.<ns>.svc` reaches the activator with that Host, and the activator routes
// `<name>.<namespace>.svc` hosts to the function. ExternalName is a DNS CNAME only: no
// port mapping happens, so the activator Service must listen on the port callers use (80).
import type { V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../apis/function/types.js';
import { DEFAULT_PORT } from '../../apis/function/defaults.js';
import type { ReconcilerConfig } from './config.js';
import { functionLabels, namespaceOf, ownerReference, PORT_NAME, publicServiceName, replicasServiceName, selectorLabels } from './names.js';
import { coveredBy, ownerReferencesCovered } from './semantic.js';

export const PUBLIC_PORT = 80;

export function makeReplicasService(fn: KfnFunction, _cfg: ReconcilerConfig): V1Service {
  const port = fn.spec.port ?? DEFAULT_PORT;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: replicasServiceName(fn),
      namespace: namespaceOf(fn),
      labels: functionLabels(fn),
      ownerReferences: [ownerReference(fn)],
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: 'None',
      selector: selectorLabels(fn),
      ports: [{ name: PORT_NAME, port, targetPort: port, protocol: 'TCP' }],
      // Only replicas that passed the readiness probe may get traffic.
      publishNotReadyAddresses: false,
    },
  };
}

export function makePublicService(fn: KfnFunction, cfg: ReconcilerConfig): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: publicServiceName(fn),
      namespace: namespaceOf(fn),
      labels: functionLabels(fn),
      ownerReferences: [ownerReference(fn)],
    },
    spec: {
      type: 'ExternalName',
      externalName: cfg.activatorHost,
      ports: [{ name: PORT_NAME, port: PUBLIC_PORT, protocol: 'TCP' }],
    },
  };
}

export interface ServiceUpdate {
  service: V1Service;
  /** False when the live Service already says everything `desired` says. */
  changed: boolean;
}

// Set by the API server and immutable (clusterIP) or defaulted from it; a write without
// them would be rejected or would flip them.
const SERVER_SET_SPEC_FIELDS = ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy', 'sessionAffinity', 'healthCheckNodePort'] as const;

/**
 * What to write over `existing`: `desired`, keeping the server-set spec fields (while the
 * type stays the same: a type change is a new address anyway), labels and annotations
 * others added, and resourceVersion for a conflict-checked write.
 */
export function serviceForUpdate(existing: V1Service, desired: V1Service): ServiceUpdate {
  const out = structuredClone(desired);
  out.metadata = {
    ...out.metadata,
    labels: { ...existing.metadata?.labels, ...desired.metadata?.labels },
    annotations: { ...existing.metadata?.annotations, ...desired.metadata?.annotations },
  };
  if (Object.keys(out.metadata.annotations ?? {}).length === 0) delete out.metadata.annotations;
  if (existing.metadata?.resourceVersion) out.metadata.resourceVersion = existing.metadata.resourceVersion;
  const sameType = (existing.spec?.type ?? 'ClusterIP') === (desired.spec?.type ?? 'ClusterIP');
  if (out.spec && existing.spec && sameType) {
    const spec = out.spec as Record<string, unknown>;
    const live = existing.spec as Record<string, unknown>;
    for (const f of SERVER_SET_SPEC_FIELDS) {
      if (spec[f] === undefined && live[f] !== undefined) spec[f] = structuredClone(live[f]);
    }
  }
  const changed =
    !coveredBy(desired.metadata?.labels, existing.metadata?.labels) ||
    !coveredBy(desired.metadata?.annotations, existing.metadata?.annotations) ||
    !ownerReferencesCovered(desired.metadata?.ownerReferences, existing.metadata?.ownerReferences) ||
    !coveredBy(desired.spec, existing.spec) ||
    // A selector we dropped would go unnoticed by coveredBy, and would select foreign pods.
    (desired.spec?.selector === undefined && existing.spec?.selector !== undefined && Object.keys(existing.spec.selector).length > 0);
  return { service: out, changed };
}
