// The activator's flags: one table that the parser and --help both read, each flag with
// a KFN_<FLAG> env fallback. Bad values stop start-up with the flag's name.
import { hostname } from 'node:os';
import { flagReader, given, parseFlags, type FlagTable } from '../../pkg/shared/flags.js';
import { DEFAULT_ACTIVATOR_NAMESPACE, DEFAULT_ACTIVATOR_SERVICE } from '../../pkg/platform/kubernetes/peers.js';

export const ACTIVATOR_SUMMARY =
  'The HTTP data plane on a cluster: routes requests to Functions by Host or path, holds them while a Function starts from zero, enforces containerConcurrency and reports concurrency to the autoscaler.';

export const activatorFlags = {
  host: { help: 'Address the data and metrics ports listen on (:: for IPv6).', default: '0.0.0.0' },
  port: { help: 'Port taking requests to Functions.', default: '8080' },
  'metrics-port': { help: 'Port of /metrics and /healthz.', default: '9090' },
  domain: { help: 'Domain of Function hosts: <name>.<namespace>.<domain>.', default: 'kfn.local' },
  'autoscaler-url': { help: 'Where concurrency stats and cold-start pokes go.', default: 'http://kfn-autoscaler.kfn-system.svc:8080' },
  namespace: { help: 'Namespace of the activator Service whose endpoints are the peer activators.', default: DEFAULT_ACTIVATOR_NAMESPACE },
  'activator-service': { help: 'The activator Service whose endpoints are the peer activators.', default: DEFAULT_ACTIVATOR_SERVICE },
  'queue-depth': { help: 'Requests held per Function while it has no ready replica.', defaultText: "the activator's built-in limit" },
} as const satisfies FlagTable;

export interface ActivatorSettings {
  host: string;
  port: number;
  metricsPort: number;
  domain: string;
  autoscalerUrl: string;
  /** Where the activator Service (whose endpoints are the peers) lives. */
  namespace: string;
  activatorService: string;
  /** This pod's name: how peers see it, and the source of its stats. */
  podName: string;
  queueDepth: number | undefined;
}

export function activatorSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): ActivatorSettings {
  const { values } = parseFlags(argv, activatorFlags, env);
  const { str, int, port, address, url } = flagReader<keyof typeof activatorFlags>(values);
  return {
    host: given('host', address('host')),
    port: given('port', port('port')),
    metricsPort: given('metrics-port', port('metrics-port')),
    domain: given('domain', str('domain')),
    autoscalerUrl: given('autoscaler-url', url('autoscaler-url', ['http:', 'https:'])),
    namespace: given('namespace', str('namespace')),
    activatorService: given('activator-service', str('activator-service')),
    podName: env.POD_NAME || hostname(),
    queueDepth: int('queue-depth', 1),
  };
}
