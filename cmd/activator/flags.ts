// The activator's flags, each with a KFN_<FLAG> env fallback (readFlags). Bad values fail
// start-up with the flag's name.
import { flagReader } from '../../pkg/shared/flags.js';
import { hostname } from 'node:os';
import { readFlags } from '../../pkg/shared/startup.js';
import { DEFAULT_ACTIVATOR_NAMESPACE, DEFAULT_ACTIVATOR_SERVICE } from '../../pkg/platform/kubernetes/peers.js';

const options = {
  port: { type: 'string' },
  'metrics-port': { type: 'string' },
  domain: { type: 'string' },
  'autoscaler-url': { type: 'string' },
  namespace: { type: 'string' },
  'activator-service': { type: 'string' },
  'queue-depth': { type: 'string' },
} as const;

export interface ActivatorSettings {
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
  const { values } = readFlags(argv, options);
  const { str, int } = flagReader<keyof typeof options>(values);
  return {
    port: int('port', 0) ?? 8080,
    metricsPort: int('metrics-port', 0) ?? 9090,
    domain: str('domain') ?? 'kfn.local',
    autoscalerUrl: str('autoscaler-url') ?? 'http://kfn-autoscaler.kfn-system.svc:8080',
    namespace: str('namespace') ?? DEFAULT_ACTIVATOR_NAMESPACE,
    activatorService: str('activator-service') ?? DEFAULT_ACTIVATOR_SERVICE,
    podName: env.POD_NAME || hostname(),
    queueDepth: int('queue-depth', 1),
  };
}
