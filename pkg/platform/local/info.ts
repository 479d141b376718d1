// What the local platform tells beyond the Platform seam: replica start-up timings for
// metrics and benchmarks, and a view of the replicas for tests and `kfn dev` status.
import type { FunctionKey } from '../../apis/meta.js';
import type { ReplicaState } from './replica.js';

/** How long a replica took to come up; epoch ms with sub-ms precision. */
export interface ReplicaTiming {
  key: FunctionKey;
  replica: string;
  pid: number | undefined;
  /** When the platform decided to start it (before picking a port). */
  scheduledAt: number;
  /** Just before the launcher was asked to start it. */
  spawnedAt: number;
  /** Asking the launcher (a message; the fork and exec happen there), or handing a warm runtime its assignment. */
  spawnCallMs: number;
  /** A warm runtime became this replica (no spawn; its own start counts from its assignment). */
  warm: boolean;
  /** When the platform read the runtime's `listening` line (kfn-node-runtime only). */
  listeningSeenAt?: number;
  /** The runtime's own figure: node's process start (a warm runtime's assignment) → listening (kfn-node-runtime only). */
  listeningAfterMs?: number;
  /** From the runtime's line (kfn-node-runtime only): node's process start and its listen, same clock as ours. */
  processStartedAt?: number;
  listeningAt?: number;
  readyAt: number;
}

export interface TerminationInfo {
  replica: string;
  /** `ExitedAtStart`, `Error` (non-zero exit), `Completed` (exit 0) or `Killed` (signal). */
  reason: string;
  exitCode: number | null;
  signal: string | null;
  lastOutput?: string;
  /** Epoch ms. */
  at: number;
}

export interface ReplicaInfo {
  id: string;
  pid: number | undefined;
  port: number;
  state: ReplicaState;
  revision: number;
}

export interface LocalWorkloadInfo {
  revision: number;
  replicas: ReplicaInfo[];
  lastTermination?: TerminationInfo;
}
