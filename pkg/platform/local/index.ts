// The local backend: Function replicas as child processes of this one.
export { LocalPlatform, type LocalPlatformDeps } from './platform.js';
export type { LocalPlatformOptions } from './options.js';
export type { LocalWorkloadInfo, ReplicaInfo, ReplicaTiming, TerminationInfo } from './info.js';
export type { ReplicaState } from './replica.js';
export { LOCAL_DIR_ANNOTATION } from './launch.js';
