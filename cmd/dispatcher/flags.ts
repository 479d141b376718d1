// The dispatcher's flags, each with a KFN_<FLAG> env fallback (readFlags); NATS_URL too,
// as NATS clients spell it. Bad values fail start-up with the flag's name.
import { flagReader } from '../../pkg/shared/flags.js';
import { hostname } from 'node:os';
import { readFlags } from '../../pkg/shared/startup.js';
import { DEFAULT_ACK_WAIT_MS } from '../../pkg/events/jetstream/consumer.js';
import { DEFAULT_STATS_INTERVAL_MS } from '../../pkg/events/dispatcher/stats-kv.js';
import { DEFAULT_STREAM } from '../../pkg/reconciler/trigger/names.js';
import { DEFAULT_MAX_EVENT_BYTES } from '../../pkg/events/ingress/ingress.js';
import { streamReplicasProblem } from '../../pkg/events/jetstream/stream.js';

function streamReplicas(n: number | undefined): number {
  const problem = n === undefined ? undefined : streamReplicasProblem(n);
  if (problem) throw new Error(`--stream-replicas: ${problem}`);
  return n ?? 1;
}

const options = {
  port: { type: 'string' },
  'metrics-port': { type: 'string' },
  'nats-url': { type: 'string' },
  'activator-url': { type: 'string' },
  stream: { type: 'string' },
  'max-event-bytes': { type: 'string' },
  'ack-wait': { type: 'string' },
  'stats-interval': { type: 'string' },
  'stream-replicas': { type: 'string' },
} as const;

export const DEFAULT_NATS_URL = 'nats://nats.kfn-system.svc:4222';
export const DEFAULT_ACTIVATOR_URL = 'http://kfn-activator.kfn-system.svc:80';
/** As in local mode: 1 MiB, NATS's default max_payload (the ingress takes the smaller of the two). */
export { DEFAULT_MAX_EVENT_BYTES };

export interface DispatcherSettings {
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
  statsIntervalMs: number;
  /** num_replicas of the counts bucket if the dispatcher creates it; the controller's --stream-replicas must agree. */
  streamReplicas: number;
  /** This replica in the trigger counts bucket: the pod name. */
  instance: string;
}

export function dispatcherSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): DispatcherSettings {
  const { values } = readFlags(argv, options);
  const { str, int, duration } = flagReader<keyof typeof options>(values);
  const url = (name: keyof typeof options, fallback: string, schemes: readonly string[]): string => {
    const v = str(name) ?? (name === 'nats-url' ? env.NATS_URL || undefined : undefined) ?? fallback;
    let parsed: URL;
    try {
      // NATS clients take a comma-separated list of servers; the first shows the form.
      parsed = new URL(v.split(',')[0] ?? v);
    } catch {
      throw new Error(`--${name}: want a URL such as ${fallback}, got "${v}"`);
    }
    if (!schemes.includes(parsed.protocol)) throw new Error(`--${name}: want a ${schemes.join(' or ')} URL, got "${v}"`);
    return v;
  };
  return {
    port: int('port', 0) ?? 8080,
    metricsPort: int('metrics-port', 0) ?? 9090,
    natsUrl: url('nats-url', DEFAULT_NATS_URL, ['nats:', 'tls:', 'ws:', 'wss:']),
    activatorUrl: url('activator-url', DEFAULT_ACTIVATOR_URL, ['http:', 'https:']),
    stream: str('stream') ?? DEFAULT_STREAM,
    maxEventBytes: int('max-event-bytes', 1) ?? DEFAULT_MAX_EVENT_BYTES,
    ackWaitMs: duration('ack-wait') ?? DEFAULT_ACK_WAIT_MS,
    statsIntervalMs: duration('stats-interval') ?? DEFAULT_STATS_INTERVAL_MS,
    streamReplicas: streamReplicas(int('stream-replicas', 1)),
    instance: env.POD_NAME || hostname(),
  };
}
