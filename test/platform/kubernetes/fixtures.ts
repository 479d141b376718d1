// Small builders for EndpointSlices and Deployments as the cluster would hold them.
import { replicasServiceNameOf } from '../../../pkg/reconciler/function/names.js';
import type { V1Deployment, V1Endpoint, V1EndpointSlice } from '@kubernetes/client-node';

export interface EndpointOpts {
  ready?: boolean | null;
  terminating?: boolean;
  /** Pod name; null = no targetRef. */
  pod?: string | null;
}

/** An endpoint at `ip`, ready, owned by pod `p-<ip>` unless told otherwise. */
export function ep(ip: string, opts: EndpointOpts = {}): V1Endpoint {
  const conditions: NonNullable<V1Endpoint['conditions']> = {};
  if (opts.ready !== null) conditions.ready = opts.ready ?? true;
  if (opts.terminating !== undefined) conditions.terminating = opts.terminating;
  const pod = opts.pod === undefined ? `p-${ip}` : opts.pod;
  return { addresses: [ip], conditions, ...(pod === null ? {} : { targetRef: { kind: 'Pod', name: pod, namespace: 'default' } }) };
}

export interface SliceOpts {
  namespace?: string;
  name?: string;
  service?: string;
  addressType?: string;
  ports?: Array<{ name?: string; port: number }>;
  labels?: Record<string, string>;
}

/** A slice of `<fn>-replicas` in `default`, port http 8080, labelled as the EndpointSlice controller would. */
export function slice(fn: string, endpoints: V1Endpoint[], opts: SliceOpts = {}): V1EndpointSlice {
  const service = opts.service ?? replicasServiceNameOf(fn);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${service}-abcde`,
      namespace: opts.namespace ?? 'default',
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'app.kubernetes.io/managed-by': 'kfn',
        'app.kubernetes.io/name': fn,
        'kfn.dev/function': fn,
        ...opts.labels,
      },
    },
    addressType: opts.addressType ?? 'IPv4',
    ports: opts.ports ?? [{ name: 'http', port: 8080 }],
    endpoints,
  };
}

export function deployment(fn: string, opts: { namespace?: string; replicas?: number; status?: V1Deployment['status'] } = {}): V1Deployment {
  const labels = { 'app.kubernetes.io/managed-by': 'kfn', 'app.kubernetes.io/name': fn, 'kfn.dev/function': fn };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: fn, namespace: opts.namespace ?? 'default', labels },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { 'kfn.dev/function': fn } },
      template: { metadata: { labels }, spec: { containers: [{ name: 'user-container', image: 'example/hello:1' }] } },
    },
    ...(opts.status ? { status: opts.status } : {}),
  };
}
