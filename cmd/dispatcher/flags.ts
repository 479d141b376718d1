// The dispatcher's flags: one table that the parser and --help both read, each flag with
// a KFN_<FLAG> env fallback; NATS_URL too, as NATS clients spell it. Bad values stop
// start-up with the flag's name.
import { hostname } from 'node:os';
import { formatDuration } from '../../pkg/shared/duration.js';
import { flagReader, given, parseFlags, type FlagTable } from '../../pkg/shared/flags.js';
import { DEFAULT_ACK_WAIT_MS } from '../../pkg/events/jetstream/consumer.js';
import { CLUSTER_NATS_URL, DEFAULT_STREAM, streamReplicasFlag } from '../../pkg/events/jetstream/stream.js';
import { DEFAULT_STATS_INTERVAL_MS } from '../../pkg/events/dispatcher/stats-kv.js';
import { DEFAULT_MAX_EVENT_BYTES } from '../../pkg/events/ingress/ingress.js';

export const DISPATCHER_SUMMARY =
  'Delivers events from JetStream to Functions through the activator, one durable consumer per Trigger (the controller makes them), and serves the HTTP event ingress.';

export const DEFAULT_ACTIVATOR_URL = 'http://kfn-activator.kfn-system.svc:80';

export const dispatcherFlags = {
  host: { help: 'Address the ingress and metrics ports listen on (:: for IPv6).', default: '0.0.0.0' },
  port: { help: 'Port of the HTTP event ingress: POST a CloudEvent to /<subject>.', default: '8080' },
  'metrics-port': { help: 'Port of /metrics and /healthz.', default: '9090' },
  'nats-url': { help: 'NATS with JetStream (a comma-separated list of servers).', defaultText: `NATS_URL, else ${CLUSTER_NATS_URL}` },
  'activator-url': { help: 'Deliveries are POSTed to <activator-url>/<namespace>/<function><path>.', default: DEFAULT_ACTIVATOR_URL },
  stream: { help: "Stream of Triggers without spec.stream; the controller's --stream must agree.", default: DEFAULT_STREAM },
  'max-event-bytes': { help: "Largest event the ingress takes (never more than NATS's max_payload).", default: String(DEFAULT_MAX_EVENT_BYTES) },
  'ack-wait': { help: "Consumers' ack wait; the controller's --ack-wait must agree.", default: formatDuration(DEFAULT_ACK_WAIT_MS) },
  'stream-replicas': { help: "num_replicas of the streams and the counts bucket kfn makes: 3 with the nats-cluster component; controller and dispatcher must agree.", default: '1' },
  'stats-interval': { help: "How often each Trigger's counts are written for the controller.", default: formatDuration(DEFAULT_STATS_INTERVAL_MS) },
} as const satisfies FlagTable;

type DispatcherFlag = keyof typeof dispatcherFlags;

/** As in local mode: 1 MiB, NATS's default max_payload (the ingress takes the smaller of the two). */
export { DEFAULT_MAX_EVENT_BYTES };

export interface DispatcherSettings {
  /** Where the ingress and metrics ports listen. */
  host: string;
  /** The HTTP event ingress. */
  port: number;
  /** /metrics and /healthz. */
  metricsPort: number;
  natsUrl: string;
  /** Deliveries are POSTed here: `<activator>/<namespace>/<function><path>`. */
  activatorUrl: string;
  /** The stream of Triggers without spec.stream; the controller's --stream must agree. */
  stream: string;
  maxEventBytes: number;
  /** Consumers' ack wait; the controller's --ack-wait must agree. */
  ackWaitMs: number;
  /** num_replicas of the streams (and counts bucket) kfn makes: 3 with the nats-cluster component. */
  streamReplicas: number;
  statsIntervalMs: number;
  /** This replica in the trigger counts bucket: the pod name. */
  instance: string;
}

export function dispatcherSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): DispatcherSettings {
  const { values } = parseFlags(argv, dispatcherFlags, env);
  if (values['nats-url'] === undefined && env.NATS_URL) values['nats-url'] = env.NATS_URL;
  const { str, int, port, address, url, duration } = flagReader<DispatcherFlag>(values);
  return {
    host: given('host', address('host')),
    port: given('port', port('port')),
    metricsPort: given('metrics-port', port('metrics-port')),
    natsUrl: url('nats-url', ['nats:', 'tls:', 'ws:', 'wss:'], { list: true }) ?? CLUSTER_NATS_URL,
    activatorUrl: given('activator-url', url('activator-url', ['http:', 'https:'])),
    stream: given('stream', str('stream')),
    maxEventBytes: given('max-event-bytes', int('max-event-bytes', 1)),
    ackWaitMs: given('ack-wait', duration('ack-wait')),
    streamReplicas: streamReplicasFlag(given('stream-replicas', int('stream-replicas', 1))),
    statsIntervalMs: given('stats-interval', duration('stats-interval')),
    instance: env.POD_NAME || hostname(),
  };
}
