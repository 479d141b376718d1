// One reconcile of one Function: read it from the cache, validate it, bring its children
// in line (apply.ts), and derive its status from what the cluster shows. Status is built
// in memory and written once, at the end, and only when it differs from the stored one,
// so a steady state costs no writes and no watch events.
//
// An invalid Function gets Ready=False/InvalidSpec naming the fields, and nothing is
// created or changed for it: children built from an earlier valid spec keep running, as
// an older Knative revision keeps serving when a new one fails.
import type { CustomObjectsApi, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { API_VERSION, type FieldError } from '../../apis/meta.js';
import { FUNCTION_KIND, FUNCTION_PLURAL, type FunctionStatus, type KfnFunction } from '../../apis/function/types.js';
import { withDefaults } from '../../apis/function/defaults.js';
import { validateFunction } from '../../apis/function/validation.js';
import { markDeploymentNotReady } from '../../apis/function/lifecycle.js';
import { customObjectClient, type CustomObjectClient } from '../../controller/custom-objects.js';
import type { Lister } from '../../controller/informer.js';
import { writeStatus } from '../../controller/write-status.js';
import { parseObjectKey, type Reconcile } from '../../controller/queue.js';
import type { Logger } from '../../shared/log.js';
import type { ReconcilerConfig } from './config.js';
import { applyChildren, NotOwnedError, type ChildApis, type ChildCache } from './apply.js';
import { deploymentName, LABEL_FUNCTION } from './names.js';
import { functionStatusFromCluster, type ClusterView } from './status.js';

export const REASON_NOT_OWNED = 'NotOwned';

/** The Function's own API: a fresh read, and the status subresource. */
export type FunctionClient = Pick<CustomObjectClient<KfnFunction>, 'get' | 'replaceStatus'>;

export function functionClient(api: CustomObjectsApi): FunctionClient {
  return customObjectClient<KfnFunction>(api, FUNCTION_PLURAL);
}

export interface FunctionReconcilerDeps {
  functions: Lister<KfnFunction>;
  deployments: Lister<V1Deployment>;
  pods: Lister<V1Pod>;
  /** Optional caches tried before reading a child. */
  childCache?: ChildCache;
  apis: ChildApis;
  client: FunctionClient;
  cfg: ReconcilerConfig;
  log: Logger;
  now?: () => Date;
}

type View = Omit<ClusterView, 'now' | 'domain'>;

export function newFunctionReconciler(deps: FunctionReconcilerDeps): Reconcile {
  const now = deps.now ?? (() => new Date());

  return async function reconcile(key: string): Promise<void> {
    const { kind, namespace, name } = parseObjectKey(key);
    if (kind !== FUNCTION_KIND) return;
    const stored = deps.functions.get(namespace, name);
    // Gone: owner references let the garbage collector remove the children.
    if (!stored || stored.metadata.deletionTimestamp) return;
    const log = deps.log.child({ fn: `${namespace}/${name}` });

    const pods = deps.pods.list(namespace).filter((p) => p.metadata?.labels?.[LABEL_FUNCTION] === name);
    const invalid = validateFunction(stored);
    let view: View;
    let notOwned: NotOwnedError | undefined;
    if (invalid.length > 0) {
      log.warn({ invalid }, 'invalid spec; nothing deployed from it');
      const deployment = deps.deployments.get(namespace, deploymentName(stored));
      view = { invalid, deployment, pods, desiredReplicas: deployment?.spec?.replicas ?? 0 };
    } else {
      try {
        const children = await applyChildren(deps.apis, withDefaults(stored), deps.cfg, deps.childCache);
        view = { deployment: children.deployment, pods };
      } catch (err) {
        if (!(err instanceof NotOwnedError)) throw new Error(`apply children of ${namespace}/${name}`, { cause: err });
        notOwned = err;
        view = { pods };
      }
    }

    const statusOf = (fn: KfnFunction): FunctionStatus => {
      const at = now();
      let status = functionStatusFromCluster(statusInput(fn, invalid), { ...view, now: at, domain: deps.cfg.domain });
      if (notOwned) status = markDeploymentNotReady(status, REASON_NOT_OWNED, notOwned.message, at);
      return status;
    };
    await writeStatus(deps.client, stored, statusOf, `${stored.metadata.namespace ?? ''}/${stored.metadata.name}`, log);
    // The status says what is wrong; the error makes the queue try again with backoff.
    if (notOwned) throw notOwned;
  };
}

/** What the status logic may read of `fn`: an invalid spec is not defaulted or trusted. */
function statusInput(fn: KfnFunction, invalid: readonly FieldError[]): KfnFunction {
  if (invalid.length === 0) return withDefaults(fn);
  return { ...fn, apiVersion: API_VERSION, kind: FUNCTION_KIND, spec: { image: '' } };
}

