// kfn controller: reconciles Functions into Deployments and Services. Of several
// replicas, the one holding the Lease acts; the others wait to take over.
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { runComponent } from '../../pkg/shared/startup.js';
import { leaseClient, runLeaderElection } from '../../pkg/controller/leader.js';
import { controllerMetrics } from '../../pkg/controller/metrics.js';
import { runFunctionController } from '../../pkg/reconciler/function/controller.js';
import { controllerSettings, type ControllerSettings } from './flags.js';

let settings: ControllerSettings | undefined;
try {
  settings = controllerSettings(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`kfn-controller: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}

if (settings) {
  const s = settings;
  await runComponent({
    name: 'kfn-controller',
    metricsPort: s.metricsPort,
    start({ log, metrics, signal, setReady }) {
      // In a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config.
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      const m = controllerMetrics(metrics, 'function');
      setReady(true);
      const done = runLeaderElection({
        client: leaseClient(kubeConfig.makeApiClient(CoordinationV1Api)),
        namespace: s.namespace,
        name: s.leaseName,
        identity: s.identity,
        leaseDurationMs: s.leaseDurationMs,
        renewDeadlineMs: s.renewDeadlineMs,
        retryPeriodMs: s.retryPeriodMs,
        log,
        signal,
        onStartedLeading: (leading) => {
          m.setLeader(true);
          return runFunctionController({ kubeConfig, cfg: s.reconciler, queue: { workers: s.workers }, metrics: m, log, signal: leading });
        },
        onStoppedLeading: () => m.setLeader(false),
      });
      return Promise.resolve({ done });
    },
  });
}
