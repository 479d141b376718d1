// The cluster backend, one class per role: EndpointSlices (endpoints), the scale
// subresource (scale), Deployments (workload status).
export { KubernetesEndpoints, type ClusterWatchOptions } from './endpoints-watcher.js';
export { KubernetesWorkloadStatuses } from './workloads.js';
export { functionKeyOfSlice, readyEndpoints, sameEndpoints, KFN_MANAGED_SELECTOR, LABEL_SERVICE_NAME, REPLICAS_SERVICE_SUFFIX } from './endpoints.js';
export { EndpointIndex } from './endpoint-index.js';
export { KubernetesScale } from './scale.js';
export { functionKeyOfDeployment, workloadStatusOf } from './status.js';
export { activatorShare, type Share, type ShareInput } from './share.js';
export { ActivatorFeed, type ActivatorRoutes } from './activator-feed.js';
export { activatorPeers, DEFAULT_ACTIVATOR_NAMESPACE, DEFAULT_ACTIVATOR_SERVICE, type PeerWatchOptions } from './peers.js';
export { functionInformer, functionKeyOf, type FunctionHandlers } from './functions.js';
