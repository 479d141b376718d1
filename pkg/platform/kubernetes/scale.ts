// The autoscaler's write and read: a function's replicas through its Deployment's scale
// subresource, which can change how many pods run and nothing else (RBAC grants the
// autoscaler deployments/scale only). The Deployment is named after the function.
import { AppsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { keyOf, type FunctionKey } from '../../apis/meta.js';
import { isNotFound } from '../../controller/errors.js';
import { FIELD_MANAGER_AUTOSCALER } from '../../contracts/workload.js';
import { WorkloadNotFoundError, type ScaleTarget } from '../types.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubernetesScale implements ScaleTarget {
  private readonly apps: AppsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  async setScale(key: FunctionKey, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`setScale ${keyOf(key)}: replicas must be a whole number ≥ 0, got ${replicas}`);
    try {
      // A merge patch of spec.replicas alone: no read first, no resourceVersion to conflict on.
      // Under kfn-autoscaler, the manager the controller hands spec.replicas over to, so
      // managedFields show one owner of the field (a scale write owns spec.replicas).
      await this.apps.patchNamespacedDeploymentScale(
        { namespace: key.namespace, name: key.name, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER_AUTOSCALER },
        mergePatch,
      );
    } catch (err) {
      throw scaleError('setScale', key, err);
    }
  }

  /** spec.replicas of the function's Deployment; undefined when it has none. */
  async getScale(key: FunctionKey): Promise<number | undefined> {
    try {
      const scale = await this.apps.readNamespacedDeploymentScale({ namespace: key.namespace, name: key.name });
      return scale.spec?.replicas ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw scaleError('getScale', key, err);
    }
  }
}

function scaleError(op: string, key: FunctionKey, cause: unknown): Error {
  if (isNotFound(cause)) {
    return new WorkloadNotFoundError(`${op} ${keyOf(key)}: function ${keyOf(key)} has no Deployment ${key.name} in namespace ${key.namespace} (not created by the controller yet, or deleted)`, { cause });
  }
  const code = (cause as { code?: unknown }).code;
  return new Error(`${op} ${keyOf(key)}: ${typeof code === 'number' ? `API server answered ${code}` : String((cause as Error).message ?? cause)}`, { cause });
}
