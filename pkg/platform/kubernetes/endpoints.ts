// From EndpointSlices to the ready replicas the activator balances over. Pure.
//
// Which slices are a function's: the EndpointSlice controller names the owning Service
// in the reserved label `kubernetes.io/service-name`, and our replicas Service is
// replicasServiceNameOf(fn) (pkg/reconciler/function/names.ts): `<fn>-replicas`, or a
// hashed name when that would be too long. The controller also copies the Service's own
// labels onto its slices (upstream setEndpointSliceLabels), which is what lets the
// informer ask the server for `app.kubernetes.io/managed-by=kfn` slices only. A hashed
// name cannot be undone, so the copied `kfn.dev/function` label proposes the function
// name; it counts only when the replicas Service name derived from it is the reserved
// label's, so a label edited by hand cannot move a slice to another function.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { FunctionKey } from '../../apis/meta.js';
import { LABEL_FUNCTION, LABEL_MANAGED_BY, MANAGED_BY, PORT_NAME, REPLICAS_SERVICE_SUFFIX, replicasServiceNameOf } from '../../contracts/workload.js';
import type { ReadyEndpoint } from '../types.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export { REPLICAS_SERVICE_SUFFIX };
/** Server-side filter for what kfn made: its Deployments, and the slices of its Services (the labels are copied over). */
export const KFN_MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

/** The function whose replicas a slice lists; undefined for a slice of any other Service. */
export function functionKeyOfSlice(slice: V1EndpointSlice): FunctionKey | undefined {
  const namespace = slice.metadata?.namespace;
  const service = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  if (!namespace || !service?.endsWith(REPLICAS_SERVICE_SUFFIX)) return undefined;
  const labelled = slice.metadata?.labels?.[LABEL_FUNCTION];
  if (labelled && replicasServiceNameOf(labelled) === service) return { namespace, name: labelled };
  // Short names need no label: the suffix comes off.
  const name = service.slice(0, -REPLICAS_SERVICE_SUFFIX.length);
  return name !== '' && replicasServiceNameOf(name) === service ? { namespace, name } : undefined;
}

/**
 * The endpoints of `slices` (all of one Service) that may get traffic: `ready` not false
 * (unset means ready, as the API documents) and not terminating. id is the pod name
 * (the targetRef), else the address. A pod listed twice (dual-stack slices, or a pod
 * moving between slices) counts once, IPv4 first. The port is the slice's port named
 * `portName`, or its only port if it names none. Sorted by id.
 */
export function readyEndpoints(slices: readonly V1EndpointSlice[], portName: string = PORT_NAME): ReadyEndpoint[] {
  const ordered = [...slices].sort((a, b) => addressRank(a) - addressRank(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const byId = new Map<string, ReadyEndpoint>();
  for (const slice of ordered) {
    if (addressRank(slice) > 1) continue;
    const port = portOf(slice, portName);
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      const host = ep.addresses[0];
      if (!host) continue;
      const id = ep.targetRef?.name ?? host;
      if (!byId.has(id)) byId.set(id, { id, host, port });
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Same replicas at the same addresses; both sorted by id as readyEndpoints returns them. */
export function sameEndpoints(a: readonly ReadyEndpoint[], b: readonly ReadyEndpoint[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((e, i) => {
    const o = b[i];
    return o !== undefined && e.id === o.id && e.host === o.host && e.port === o.port;
  });
}

/** IPv4 before IPv6; FQDN (and anything else) is not an address we can dial by IP. */
function addressRank(slice: V1EndpointSlice): number {
  switch (slice.addressType) {
    case 'IPv4':
      return 0;
    case 'IPv6':
      return 1;
    default:
      return 2;
  }
}

function portOf(slice: V1EndpointSlice, portName: string): number | undefined {
  const ports = slice.ports ?? [];
  const named = ports.find((p) => p.name === portName);
  const port = named ?? (ports.length === 1 ? ports[0] : undefined);
  return typeof port?.port === 'number' ? port.port : undefined;
}
