// kfn dispatcher: delivers events from JetStream to Functions, one durable consumer per
// Trigger (the controller makes the consumers), through the activator; serves the HTTP
// event ingress; writes each Trigger's counts for the controller to report.
import { loadKubeConfig } from '../../pkg/controller/kubeconfig.js';
import { runComponent, settingsOrExit } from '../../pkg/shared/startup.js';
import { userAgent } from '../../pkg/shared/user-agent.js';
import { DISPATCHER_SUMMARY, dispatcherFlags, dispatcherSettings } from './flags.js';
import { startClusterDispatcher } from './start.js';

const NAME = 'kfn-dispatcher';
const settings = settingsOrExit({ name: NAME, summary: DISPATCHER_SUMMARY, flags: dispatcherFlags, settings: dispatcherSettings });

if (settings) {
  const s = settings;
  await runComponent({
    name: NAME,
    metricsPort: s.metricsPort,
    host: s.host,
    async start({ log, metrics, signal, setReady }) {
      const kubeConfig = loadKubeConfig(userAgent(NAME));
      const dispatcher = await startClusterDispatcher({ kubeConfig, settings: s, userAgent: userAgent(NAME), log, metrics, signal });
      setReady(true);
      return { done: dispatcher.done.finally(() => setReady(false)) };
    },
  });
}
