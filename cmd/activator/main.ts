// kfn activator: the HTTP data plane on a cluster. Routes by Host or path, buffers while a
// Function has no ready replica, enforces containerConcurrency (its share of it, with
// several activators), and reports concurrency to the autoscaler.
import { componentRecorder } from '../../pkg/controller/events/recorder.js';
import { loadKubeConfig } from '../../pkg/controller/kubeconfig.js';
import { runComponent, settingsOrExit } from '../../pkg/shared/startup.js';
import { userAgent } from '../../pkg/shared/user-agent.js';
import { ACTIVATOR_SUMMARY, activatorFlags, activatorSettings } from './flags.js';
import { startClusterActivator } from './start.js';

const NAME = 'kfn-activator';
const settings = settingsOrExit({ name: NAME, summary: ACTIVATOR_SUMMARY, flags: activatorFlags, settings: activatorSettings });

if (settings) {
  await runComponent({
    name: NAME,
    metricsPort: settings.metricsPort,
    host: settings.host,
    async start({ log, metrics, signal, setReady }) {
      const kubeConfig = loadKubeConfig(userAgent(NAME));
      const recorder = componentRecorder('activator', { kubeConfig, log, metrics });
      const activator = await startClusterActivator({ kubeConfig, settings, userAgent: userAgent(NAME), log, metrics, recorder, signal });
      setReady(true);
      return { done: activator.done.finally(() => setReady(false)).finally(() => recorder.close()) };
    },
  });
}
