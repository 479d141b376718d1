// One reconcile of one Function: read it from the cache, validate it, bring its children
// in line (apply.ts), and derive its status from what the cluster shows. Status is built
// in memory and written once, at the end, and only when it differs from the stored one,
// so a steady state costs no writes and no watch events.
//
// An invalid Function gets Ready=False/InvalidSpec naming the fields, and nothing is
// created or changed for it: children built from an earlier valid spec keep running, as
// an older Knative revision keeps serving when a new one fails.
//
// A child the API server refuses (or that belongs to someone else) does not stop the
// reconcile before status: the status says which child and what the server answered,
// then the error makes the queue retry with backoff. Events (kubectl describe fn) say
// what was created, an invalid spec, and each refused write; the recorder aggregates
// repeats, so a retry loop does not flood the API server.
import type { CustomObjectsApi, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { API_VERSION, type FieldError } from '../../apis/meta.js';
import { FUNCTION_KIND, FUNCTION_PLURAL, type FunctionStatus, type KfnFunction } from '../../apis/function/types.js';
import { withDefaults } from '../../apis/function/defaults.js';
import { validateFunction } from '../../apis/function/validation.js';
import { formatFieldErrors } from '../../apis/meta.js';
import { noEvents, type EventRecorder, type EventSubject } from '../../controller/events/types.js';
import { customObjectClient, type CustomObjectClient } from '../../controller/custom-objects.js';
import type { Lister } from '../../controller/informer.js';
import { writeStatus } from '../../controller/write-status.js';
import { parseObjectKey, type Reconcile } from '../../controller/queue.js';
import type { Logger } from '../../shared/log.js';
import type { ReconcilerConfig } from './config.js';
import { applyChildren, type ChildApis, type ChildCache, type ChildWriteError } from './apply.js';
import { deploymentName, LABEL_FUNCTION } from './names.js';
import { functionStatusFromCluster, REASON_INVALID_SPEC, REASON_NOT_OWNED, type ClusterView } from './status.js';

export { REASON_NOT_OWNED };
export const EVENT_CREATED = 'Created';

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
  /** Where Events about Functions go; none by default. */
  recorder?: EventRecorder;
}

type View = Omit<ClusterView, 'now' | 'domain' | 'childFailures'>;

export function newFunctionReconciler(deps: FunctionReconcilerDeps): Reconcile {
  const now = deps.now ?? (() => new Date());
  const recorder = deps.recorder ?? noEvents;

  return async function reconcile(key: string): Promise<void> {
    const { kind, namespace, name } = parseObjectKey(key);
    if (kind !== FUNCTION_KIND) return;
    const stored = deps.functions.get(namespace, name);
    // Gone: owner references let the garbage collector remove the children.
    if (!stored || stored.metadata.deletionTimestamp) return;
    const log = deps.log.child({ fn: `${namespace}/${name}` });

    const pods = deps.pods.list(namespace).filter((p) => p.metadata?.labels?.[LABEL_FUNCTION] === name);
    const subject: EventSubject = { apiVersion: API_VERSION, kind: FUNCTION_KIND, namespace, name, ...(stored.metadata.uid ? { uid: stored.metadata.uid } : {}) };
    const invalid = validateFunction(stored);
    let view: View;
    let failures: ChildWriteError[] = [];
    if (invalid.length > 0) {
      log.warn({ invalid }, 'invalid spec; nothing deployed from it');
      recorder.record(subject, 'Warning', REASON_INVALID_SPEC, 'Validate', `the spec is invalid and was not deployed: ${formatFieldErrors(invalid)}`);
      const deployment = deps.deployments.get(namespace, deploymentName(stored));
      view = { invalid, deployment, pods, desiredReplicas: deployment?.spec?.replicas ?? 0 };
    } else {
      let children;
      try {
        children = await applyChildren(deps.apis, withDefaults(stored), deps.cfg, deps.childCache);
      } catch (err) {
        throw new Error(`apply children of ${namespace}/${name}`, { cause: err });
      }
      for (const c of children.created) recorder.record(subject, 'Normal', EVENT_CREATED, 'Create', `Created ${c.kind} ${c.name}`);
      failures = children.failures;
      for (const f of failures) {
        log.warn({ child: f.child, reason: f.reason, err: f.cause ?? f }, 'child not written');
        recorder.record(subject, 'Warning', f.reason, 'Apply', f.message);
      }
      view = { pods, ...(children.deployment ? { deployment: children.deployment } : {}) };
    }

    const childFailures = failures.map((f) => ({ reason: f.reason, message: f.message }));
    const statusOf = (fn: KfnFunction): FunctionStatus =>
      functionStatusFromCluster(statusInput(fn, invalid), { ...view, childFailures, now: now(), domain: deps.cfg.domain });
    await writeStatus(deps.client, stored, statusOf, `${namespace}/${name}`, log);
    // The status says what is wrong; the error makes the queue try again with backoff.
    const [only] = failures;
    if (failures.length === 1 && only) throw only;
    if (failures.length > 1) throw new AggregateError(failures, failures.map((f) => f.message).join('; '));
  };
}

/** What the status logic may read of `fn`: an invalid spec is not defaulted or trusted. */
function statusInput(fn: KfnFunction, invalid: readonly FieldError[]): KfnFunction {
  if (invalid.length === 0) return withDefaults(fn);
  return { ...fn, apiVersion: API_VERSION, kind: FUNCTION_KIND, spec: { image: '' } };
}

