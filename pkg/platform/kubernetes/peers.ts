// The activators that share the traffic, so each can take its part of every function's
// capacity (share.ts): the ready endpoints of the activator Service, by pod name.
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.js';
import { LABEL_SERVICE_NAME, readyEndpoints } from './endpoints.js';
import { Informer } from '../../controller/informer.js';

export const DEFAULT_ACTIVATOR_NAMESPACE = 'kfn-system';
export const DEFAULT_ACTIVATOR_SERVICE = 'kfn-activator';

export interface PeerWatchOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  namespace?: string;
  service?: string;
  /** Called with the sorted names of the ready activators whenever they change. */
  onPeers: (names: readonly string[]) => void;
}

/** An informer over the activator Service's EndpointSlices, feeding `onPeers`; start it with a signal. */
export function activatorPeers(opts: PeerWatchOptions): Informer<V1EndpointSlice> {
  const namespace = opts.namespace ?? DEFAULT_ACTIVATOR_NAMESPACE;
  const selector = `${LABEL_SERVICE_NAME}=${opts.service ?? DEFAULT_ACTIVATOR_SERVICE}`;
  const discovery = opts.kubeConfig.makeApiClient(DiscoveryV1Api);
  let last: readonly string[] = [];
  const informer = new Informer<V1EndpointSlice>({
    name: 'activator-peers',
    kubeConfig: opts.kubeConfig,
    path: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
    labelSelector: selector,
    list: () => discovery.listNamespacedEndpointSlice({ namespace, labelSelector: selector }),
    log: opts.log,
  });
  const changed = (): void => {
    const names = readyEndpoints(informer.list(namespace)).map((e) => e.id);
    if (names.length === last.length && names.every((n, i) => n === last[i])) return;
    last = names;
    opts.onPeers(names);
  };
  informer.on('add', changed).on('update', changed).on('delete', changed);
  return informer;
}
