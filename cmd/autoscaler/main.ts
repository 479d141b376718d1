// kfn autoscaler: takes the activators' concurrency stats and writes each Function's
// replica count. Of several replicas (a rollout, a node cut off from the cluster), only
// the one holding the Lease scales; the others wait to take over.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { componentRecorder } from '../../pkg/controller/events/recorder.js';
import { loadKubeConfig } from '../../pkg/controller/kubeconfig.js';
import { leaseClient, leaseOptions, runLeaderElection } from '../../pkg/controller/leader.js';
import { runComponent, settingsOrExit } from '../../pkg/shared/startup.js';
import { userAgent } from '../../pkg/shared/user-agent.js';
import { AUTOSCALER_SUMMARY, autoscalerFlags, autoscalerSettings } from './flags.js';
import { runLeaderTerm } from './start.js';

const NAME = 'kfn-autoscaler';
const settings = settingsOrExit({ name: NAME, summary: AUTOSCALER_SUMMARY, flags: autoscalerFlags, settings: autoscalerSettings });

if (settings) {
  await runComponent({
    name: NAME,
    metricsPort: settings.metricsPort,
    host: settings.host,
    start({ log, metrics, signal, setReady }) {
      const kubeConfig = loadKubeConfig(userAgent(NAME));
      const recorder = componentRecorder('autoscaler', { kubeConfig, log, metrics });
      setReady(true);
      const done = runLeaderElection({
        client: leaseClient(kubeConfig.makeApiClient(CoordinationV1Api)),
        ...leaseOptions(settings),
        log,
        signal,
        onStartedLeading: async (leading) => {
          // The autoscaler's metrics are registered per term and dropped with it, so a
          // later term can register them again.
          const before = new Set(metrics.getMetricsAsArray().map((m) => m.name));
          try {
            const endpoint = settings.podIP
              ? { namespace: settings.namespace, service: settings.service, portName: 'stats', podName: settings.identity, podIP: settings.podIP }
              : undefined;
            if (!endpoint) log.warn('POD_IP is not set: the autoscaler Service is not pointed at this leader');
            await runLeaderTerm({
              kubeConfig, config: settings.config, port: settings.port, host: settings.host, log, metrics, recorder, signal: leading, ...(endpoint ? { endpoint } : {}),
            });
          } finally {
            for (const m of metrics.getMetricsAsArray()) if (!before.has(m.name)) metrics.removeSingleMetric(m.name);
          }
        },
      });
      return Promise.resolve({ done: done.finally(() => recorder.close()) });
    },
  });
}
