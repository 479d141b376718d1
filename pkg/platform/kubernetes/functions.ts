// The Function objects of the cluster, as the activator and the autoscaler read them:
// validated and defaulted the way local mode does, handed on as upsert / remove. A
// Function that fails validation (the CRD schema should have stopped it) is logged and
// left out: bad input changes nothing, so the last good version stays in effect.
import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { withDefaults } from '../../apis/function/defaults.js';
import { FUNCTION_PLURAL, type KfnFunction } from '../../apis/function/types.js';
import { validateFunction } from '../../apis/function/validation.js';
import { formatFieldErrors, GROUP, keyOf, VERSION, type FunctionKey } from '../../apis/meta.js';
import type { Logger } from '../../shared/log.js';
import { Informer } from '../../controller/informer.js';

export interface FunctionHandlers {
  upsert(fn: KfnFunction): void;
  remove(key: FunctionKey): void;
}

export function functionKeyOf(fn: { metadata?: { namespace?: string; name?: string } }): FunctionKey | undefined {
  const name = fn.metadata?.name;
  return name ? { namespace: fn.metadata?.namespace || 'default', name } : undefined;
}

/** An informer over every Function in the cluster, feeding `handlers`; start it with a signal, wait for `synced`. */
export function functionInformer(kubeConfig: KubeConfig, log: Logger, handlers: FunctionHandlers): Informer<KubernetesObject> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const informer = new Informer<KubernetesObject>({
    name: 'functions',
    kubeConfig,
    path: `/apis/${GROUP}/${VERSION}/${FUNCTION_PLURAL}`,
    list: () => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: FUNCTION_PLURAL }) as Promise<KubernetesListObject<KubernetesObject>>,
    log,
  });
  const upsert = (obj: KubernetesObject): void => {
    const key = functionKeyOf(obj);
    if (!key) return;
    const problems = validateFunction(obj);
    if (problems.length > 0) {
      log.warn({ fn: keyOf(key), problems: formatFieldErrors(problems) }, 'ignoring an invalid Function; its last valid version stays in effect');
      return;
    }
    handlers.upsert(withDefaults(obj as unknown as KfnFunction));
  };
  informer.on('add', upsert).on('update', upsert);
  informer.on('delete', (obj) => {
    const key = functionKeyOf(obj);
    if (key) handlers.remove(key);
  });
  return informer;
}
