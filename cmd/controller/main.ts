// kfn controller: reconciles Functions into Deployments and Services, and Triggers into
// JetStream consumers. Of several replicas, the one holding the Lease runs both; the
// others wait to take over.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { componentRecorder } from '../../pkg/controller/events/recorder.js';
import { loadKubeConfig } from '../../pkg/controller/kubeconfig.js';
import { runComponent, settingsOrExit } from '../../pkg/shared/startup.js';
import { userAgent } from '../../pkg/shared/user-agent.js';
import { leaseClient, leaseOptions, runLeaderElection } from '../../pkg/controller/leader.js';
import { controllerMetrics } from '../../pkg/controller/metrics.js';
import { runFunctionController } from '../../pkg/reconciler/function/controller.js';
import { runTriggerController } from '../../pkg/reconciler/trigger/controller.js';
import { NatsTriggerJetStream } from '../../pkg/reconciler/trigger/jetstream.js';
import { DUPLICATE_WINDOW_MS } from '../../pkg/events/jetstream/stream.js';
import { CONTROLLER_SUMMARY, controllerFlags, controllerSettings } from './flags.js';

const NAME = 'kfn-controller';
const settings = settingsOrExit({ name: NAME, summary: CONTROLLER_SUMMARY, flags: controllerFlags, settings: controllerSettings });

if (settings) {
  const s = settings;
  await runComponent({
    name: NAME,
    metricsPort: s.metricsPort,
    host: s.host,
    start({ log, metrics, signal, setReady }) {
      const kubeConfig = loadKubeConfig(userAgent(NAME));
      const m = controllerMetrics(metrics, 'function');
      const tm = controllerMetrics(metrics, 'trigger');
      // Connects at the first Trigger, so Functions are served while NATS is not up.
      const jetstream = new NatsTriggerJetStream({
        servers: s.natsUrl, name: userAgent(NAME), log, duplicateWindowMs: DUPLICATE_WINDOW_MS, defaultStream: s.stream, streamReplicas: s.streamReplicas,
      });
      // One per process, across leadership terms: its series and spam filter outlive a term.
      const recorder = componentRecorder('controller', { kubeConfig, log, metrics });
      setReady(true);
      const done = runLeaderElection({
        client: leaseClient(kubeConfig.makeApiClient(CoordinationV1Api)),
        ...leaseOptions(s),
        log,
        signal,
        onStartedLeading: async (leading) => {
          m.setLeader(true);
          tm.setLeader(true);
          // One failing ends the term for both, and the term ends once both have stopped.
          const failed = new AbortController();
          const term = AbortSignal.any([leading, failed.signal]);
          const stopOthers = (err: unknown): never => {
            failed.abort();
            throw err;
          };
          const results = await Promise.allSettled([
            runFunctionController({ kubeConfig, cfg: s.reconciler, queue: { workers: s.workers }, metrics: m, recorder, log, signal: term }).catch(stopOthers),
            runTriggerController({ kubeConfig, jetstream, defaultStream: s.stream, ackWaitMs: s.ackWaitMs, queue: { workers: s.workers }, metrics: tm, recorder, log, signal: term }).catch(stopOthers),
          ]);
          for (const r of results) if (r.status === 'rejected') throw r.reason;
        },
        onStoppedLeading: () => {
          m.setLeader(false);
          tm.setLeader(false);
        },
      });
      return Promise.resolve({ done: done.finally(() => Promise.all([jetstream.close(), recorder.close()])) });
    },
  });
}
