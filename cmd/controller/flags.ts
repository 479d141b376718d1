// The controller's flags, each with a KFN_<FLAG> env fallback (readFlags), turned into
// typed settings. Bad values fail start-up with the flag's name.
import { flagReader } from '../../pkg/shared/flags.js';
import { hostname } from 'node:os';
import { readFlags } from '../../pkg/shared/startup.js';
import { reconcilerConfig, type ImagePullPolicy, type ReconcilerConfig } from '../../pkg/reconciler/function/config.js';
import { DEFAULT_ACK_WAIT_MS } from '../../pkg/events/jetstream/consumer.js';
import { streamReplicasProblem } from '../../pkg/events/jetstream/stream.js';
import { DEFAULT_STREAM } from '../../pkg/reconciler/trigger/names.js';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS } from '../../pkg/controller/leader.js';

const options = {
  'metrics-port': { type: 'string' },
  namespace: { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
  workers: { type: 'string' },
  'activator-host': { type: 'string' },
  domain: { type: 'string' },
  'image-pull-policy': { type: 'string' },
  'drain-seconds': { type: 'string' },
  'drain-action': { type: 'string' },
  'nats-url': { type: 'string' },
  stream: { type: 'string' },
  'ack-wait': { type: 'string' },
  'stream-replicas': { type: 'string' },
} as const;

export interface ControllerSettings {
  metricsPort: number;
  /** Where the leader-election Lease lives: the controller's own namespace. */
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  workers: number;
  reconciler: ReconcilerConfig;
  /** The NATS of Trigger streams, consumers and counts: --nats-url, else NATS_URL. */
  natsUrl: string;
  /** The stream of Triggers without spec.stream; the dispatcher's --stream must agree. */
  stream: string;
  /** Consumers' ack wait; the dispatcher's --ack-wait must agree. */
  ackWaitMs: number;
  /** num_replicas of the streams kfn makes: 3 with the nats-cluster component (KFN_STREAM_REPLICAS). */
  streamReplicas: number;
}

export const DEFAULT_NATS_URL = 'nats://nats.kfn-system.svc:4222';

function streamReplicas(n: number | undefined): number {
  const problem = n === undefined ? undefined : streamReplicasProblem(n);
  if (problem) throw new Error(`--stream-replicas: ${problem}`);
  return n ?? 1;
}

export function controllerSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ControllerSettings {
  const { values } = readFlags(argv, options);
  const { str, int, duration: durationOf } = flagReader<keyof typeof options>(values);
  const duration = (name: keyof typeof options): number | undefined => durationOf(name, { example: '15s' });
  const pull = str('image-pull-policy');
  if (pull !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pull)) {
    throw new Error(`--image-pull-policy: want Always, IfNotPresent or Never, got "${pull}"`);
  }
  const drainAction = str('drain-action');
  if (drainAction !== undefined && !['sleep', 'exec', 'none'].includes(drainAction)) {
    throw new Error(`--drain-action: want sleep, exec or none, got "${drainAction}"`);
  }
  return {
    metricsPort: int('metrics-port', 0) ?? 9090,
    namespace: str('namespace') ?? 'kfn-system',
    leaseName: str('lease-name') ?? 'kfn-controller',
    identity: env.POD_NAME || hostname(),
    leaseDurationMs: duration('lease-duration') ?? DEFAULT_LEASE_DURATION_MS,
    renewDeadlineMs: duration('renew-deadline') ?? DEFAULT_RENEW_DEADLINE_MS,
    retryPeriodMs: duration('retry-period') ?? DEFAULT_RETRY_PERIOD_MS,
    workers: int('workers', 1) ?? 4,
    reconciler: reconcilerConfig({
      activatorHost: str('activator-host'),
      domain: str('domain'),
      imagePullPolicy: pull as ImagePullPolicy | undefined,
      drainSeconds: int('drain-seconds', 0),
      drainAction: drainAction as ReconcilerConfig['drainAction'] | undefined,
    }),
    natsUrl: str('nats-url') ?? (env.NATS_URL || DEFAULT_NATS_URL),
    stream: str('stream') ?? DEFAULT_STREAM,
    ackWaitMs: duration('ack-wait') ?? DEFAULT_ACK_WAIT_MS,
    streamReplicas: streamReplicas(int('stream-replicas', 1)),
  };
}
