// The Function controller against the API server double, with the real client-node:
// one server and one controller per suite, objects named per test.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { FunctionSpec, KfnFunction } from '../../pkg/apis/function/types.js';
import { reconcilerConfig, type ReconcilerConfig } from '../../pkg/reconciler/function/config.js';
import { runFunctionController } from '../../pkg/reconciler/function/controller.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';

export const fnApi = { group: 'kfn.dev', version: 'v1alpha1', plural: 'functions' };
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface Harness {
  server: ApiServer;
  apps: AppsV1Api;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  cfg: ReconcilerConfig;
  /** What `kubectl apply` of a new Function does. */
  createFunction(namespace: string, name: string, spec: Partial<FunctionSpec> & Record<string, unknown>): Promise<KfnFunction>;
  getFunction(namespace: string, name: string): Promise<KfnFunction>;
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const server = await startApiServer();
  const kc = server.kubeConfig();
  const cfg = reconcilerConfig({ activatorHost: 'kfn-activator.kfn-system.svc.cluster.local', domain: 'example.test' });
  const abort = new AbortController();
  const done = runFunctionController({
    kubeConfig: kc,
    cfg,
    log: quietLogger(),
    signal: abort.signal,
    // Fast retries so a test sees the outcome of a failure quickly.
    queue: { retry: { kind: 'exponential', baseMs: 5, maxMs: 200 } },
    informerBackoff: { kind: 'exponential', baseMs: 50, maxMs: 200 },
  });
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    server,
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    custom,
    cfg,
    async createFunction(namespace, name, spec) {
      const body = { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, namespace }, spec: { image: 'registry.example/hello:1', ...spec } };
      return (await custom.createNamespacedCustomObject({ ...fnApi, namespace, body })) as KfnFunction;
    },
    async getFunction(namespace, name) {
      return (await custom.getNamespacedCustomObject({ ...fnApi, namespace, name })) as KfnFunction;
    },
    async stop() {
      abort.abort();
      await done;
      await server.close();
    },
  };
}
