// kfn dispatcher: delivers events from JetStream to Functions, one durable consumer per
// Trigger (the controller makes the consumers), through the activator; serves the HTTP
// event ingress; writes each Trigger's counts for the controller to report.
import { KubeConfig } from '@kubernetes/client-node';
import { runComponent } from '../../pkg/shared/startup.js';
import { dispatcherSettings, type DispatcherSettings } from './flags.js';
import { startClusterDispatcher } from './start.js';

let settings: DispatcherSettings | undefined;
try {
  settings = dispatcherSettings(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`kfn-dispatcher: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}

if (settings) {
  const s = settings;
  await runComponent({
    name: 'kfn-dispatcher',
    metricsPort: s.metricsPort,
    async start({ log, metrics, signal, setReady }) {
      // In a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config.
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      const dispatcher = await startClusterDispatcher({ kubeConfig, settings: s, log, metrics, signal });
      setReady(true);
      return { done: dispatcher.done.finally(() => setReady(false)) };
    },
  });
}
