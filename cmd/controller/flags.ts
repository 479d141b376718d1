// The controller's flags: one table that the parser and --help both read, each flag with
// a KFN_<FLAG> env fallback, turned into typed settings. Bad values stop start-up with
// the flag's name.
import { hostname } from 'node:os';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS, type LeaseSettings } from '../../pkg/controller/leader.js';
import { DEFAULT_ACK_WAIT_MS } from '../../pkg/events/jetstream/consumer.js';
import { CLUSTER_NATS_URL, DEFAULT_STREAM, streamReplicasFlag } from '../../pkg/events/jetstream/stream.js';
import { DEFAULT_RECONCILER_CONFIG, reconcilerConfig, type ImagePullPolicy, type ReconcilerConfig } from '../../pkg/reconciler/function/config.js';
import { formatDuration } from '../../pkg/shared/duration.js';
import { flagReader, given, parseFlags, UsageError, type FlagTable } from '../../pkg/shared/flags.js';


export const CONTROLLER_SUMMARY =
  'Reconciles Functions into Deployments and Services, and Triggers into JetStream stream subjects and consumers. Of several replicas only the one holding the Lease reconciles.';

export const controllerFlags = {
  host: { help: 'Address the metrics port listens on (:: for IPv6).', default: '0.0.0.0' },
  'metrics-port': { help: 'Port of /metrics and /healthz.', default: '9090' },
  namespace: { help: "Namespace of the leader-election Lease (the controller's own).", default: 'kfn-system' },
  'lease-name': { help: 'Name of the leader-election Lease.', default: 'kfn-controller' },
  'lease-duration': { help: 'How long a Lease not renewed keeps others from leading.', default: formatDuration(DEFAULT_LEASE_DURATION_MS) },
  'renew-deadline': { help: 'How long the leader keeps trying to renew before it stops leading.', default: formatDuration(DEFAULT_RENEW_DEADLINE_MS) },
  'retry-period': { help: 'How often the Lease is tried.', default: formatDuration(DEFAULT_RETRY_PERIOD_MS) },
  workers: { help: 'Reconciles run at once, per resource kind.', default: '4' },
  'activator-host': { help: "The activator Service's DNS name; Function Services alias it.", default: DEFAULT_RECONCILER_CONFIG.activatorHost },
  domain: { help: 'Function URLs are http://<name>.<namespace>.<domain>.', default: DEFAULT_RECONCILER_CONFIG.domain },
  'image-pull-policy': { help: 'imagePullPolicy of Function containers: Always, IfNotPresent or Never.', defaultText: 'unset (Kubernetes decides)' },
  'drain-seconds': { help: 'Seconds a terminating Function replica keeps serving before SIGTERM.', default: String(DEFAULT_RECONCILER_CONFIG.drainSeconds) },
  'drain-action': { help: 'How that pause runs: sleep (kubelet, 1.30+), exec (sleep in the image) or none.', default: DEFAULT_RECONCILER_CONFIG.drainAction },
  'nats-url': { help: 'NATS with JetStream for Trigger streams and consumers (a comma-separated list).', defaultText: `NATS_URL, else ${CLUSTER_NATS_URL}` },
  stream: { help: "Stream of Triggers without spec.stream; the dispatcher's --stream must agree.", default: DEFAULT_STREAM },
  'ack-wait': { help: "Consumers' ack wait; the dispatcher's --ack-wait must agree.", default: formatDuration(DEFAULT_ACK_WAIT_MS) },
  'stream-replicas': { help: "num_replicas of the streams and the counts bucket kfn makes: 3 with the nats-cluster component; controller and dispatcher must agree.", default: '1' },
} as const satisfies FlagTable;

type ControllerFlag = keyof typeof controllerFlags;

export interface ControllerSettings extends LeaseSettings {
  host: string;
  metricsPort: number;
  workers: number;
  reconciler: ReconcilerConfig;
  /** The NATS of Trigger streams, consumers and counts: --nats-url, else NATS_URL. */
  natsUrl: string;
  /** The stream of Triggers without spec.stream; the dispatcher's --stream must agree. */
  stream: string;
  /** Consumers' ack wait; the dispatcher's --ack-wait must agree. */
  ackWaitMs: number;
  /** num_replicas of the streams (and counts bucket) kfn makes: 3 with the nats-cluster component. */
  streamReplicas: number;
}

export function controllerSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ControllerSettings {
  const { values } = parseFlags(argv, controllerFlags, env);
  const { str, int, port, address, url, duration: durationOf } = flagReader<ControllerFlag>(values);
  const duration = (name: ControllerFlag): number => given(name, durationOf(name, { example: '15s' }));
  const pull = str('image-pull-policy');
  if (pull !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pull)) {
    throw new UsageError(`--image-pull-policy: want Always, IfNotPresent or Never, got "${pull}"`);
  }
  const drainAction = given('drain-action', str('drain-action'));
  if (!['sleep', 'exec', 'none'].includes(drainAction)) {
    throw new UsageError(`--drain-action: want sleep, exec or none, got "${drainAction}"`);
  }
  if (values['nats-url'] === undefined && env.NATS_URL) values['nats-url'] = env.NATS_URL;
  return {
    host: given('host', address('host')),
    metricsPort: given('metrics-port', port('metrics-port')),
    namespace: given('namespace', str('namespace')),
    leaseName: given('lease-name', str('lease-name')),
    identity: env.POD_NAME || hostname(),
    leaseDurationMs: duration('lease-duration'),
    renewDeadlineMs: duration('renew-deadline'),
    retryPeriodMs: duration('retry-period'),
    workers: given('workers', int('workers', 1)),
    reconciler: reconcilerConfig({
      activatorHost: str('activator-host'),
      domain: str('domain'),
      imagePullPolicy: pull as ImagePullPolicy | undefined,
      drainSeconds: int('drain-seconds', 0),
      drainAction: drainAction as ReconcilerConfig['drainAction'],
    }),
    natsUrl: url('nats-url', ['nats:', 'tls:', 'ws:', 'wss:'], { list: true }) ?? CLUSTER_NATS_URL,
    stream: given('stream', str('stream')),
    ackWaitMs: duration('ack-wait'),
    streamReplicas: streamReplicasFlag(given('stream-replicas', int('stream-replicas', 1))),
  };
}
