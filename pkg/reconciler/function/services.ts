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
      // An h2c function's port keeps the name the activators find endpoints by (a slice's
      // ports carry the Service's names) and says HTTP/2 cleartext the standard way.
      ports: [{ name: PORT_NAME, port, targetPort: port, protocol: 'TCP', ...(fn.spec.portName === 'h2c' ? { appProtocol: 'kubernetes.io/h2c' } : {}) }],
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
