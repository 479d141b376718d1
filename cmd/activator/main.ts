// kfn activator: the HTTP data plane on a cluster. Routes by Host or path, buffers while a
// Function has no ready replica, enforces containerConcurrency (its share of it, with
// several activators), and reports concurrency to the autoscaler.
import { KubeConfig } from '@kubernetes/client-node';
import { componentRecorder } from '../../pkg/controller/events/recorder.js';
import { runComponent } from '../../pkg/shared/startup.js';
import { activatorSettings } from './flags.js';
import { startClusterActivator } from './start.js';

const settings = activatorSettings(process.argv.slice(2));

await runComponent({
  name: 'kfn-activator',
  metricsPort: settings.metricsPort,
  async start({ log, metrics, signal, setReady }) {
    // In a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    const recorder = componentRecorder('activator', { kubeConfig, log, metrics });
    const activator = await startClusterActivator({ kubeConfig, settings, log, metrics, recorder, signal });
    setReady(true);
    return { done: activator.done.finally(() => setReady(false)).finally(() => recorder.close()) };
  },
});
