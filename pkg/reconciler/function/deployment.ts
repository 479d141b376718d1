// The Deployment that runs a Function's replicas. Pure: the controller applies it
// (apply.ts), without spec.replicas once it exists.
import type {
  V1Container, V1Deployment, V1EnvVar, V1LifecycleHandler, V1Pod, V1PodSpec, V1PodTemplateSpec, V1Probe, V1SecurityContext,
} from '@kubernetes/client-node';
import type { KfnFunction, Probe } from '../../apis/function/types.js';
import { DEFAULT_PORT, DEFAULT_TIMEOUT_SECONDS } from '../../apis/function/defaults.js';
import { initialReplicas } from '../../apis/function/scale.js';
import type { ReconcilerConfig } from './config.js';
import {
  ANNOTATION_GENERATION,
  CONTAINER_NAME,
  deploymentName,
  functionLabels,
  namespaceOf,
  ownerReference,
  PORT_NAME,
  selectorLabels,
} from './names.js';

export interface DeploymentOptions {
  /** Replicas to create with; the default comes from spec.scale (see initialReplicas). */
  replicas?: number;
}

/** Env names kfn sets itself; a same-named entry in spec.env is dropped so ours is the one the replica sees. */
export const RESERVED_ENV = ['PORT', 'K_SERVICE', 'KFN_DRAIN_TIMEOUT_MS'] as const;

/** `fn` must have defaults applied (withDefaults) and a uid. */
export function makeDeployment(fn: KfnFunction, cfg: ReconcilerConfig, opts: DeploymentOptions = {}): V1Deployment {
  const timeoutSeconds = fn.spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const drainSeconds = cfg.drainAction === 'none' ? 0 : cfg.drainSeconds;
  const annotations: Record<string, string> = {};
  if (fn.metadata.generation !== undefined) annotations[ANNOTATION_GENERATION] = String(fn.metadata.generation);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(fn),
      namespace: namespaceOf(fn),
      labels: functionLabels(fn),
      annotations,
      ownerReferences: [ownerReference(fn)],
    },
    spec: {
      replicas: opts.replicas ?? initialReplicas(fn),
      selector: { matchLabels: selectorLabels(fn) },
      // Never fewer ready replicas than asked for during a rollout: the old ones keep
      // serving until new ones pass their probe.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      revisionHistoryLimit: cfg.revisionHistoryLimit,
      progressDeadlineSeconds: cfg.progressDeadlineSeconds,
      template: makePodTemplate(fn, cfg, timeoutSeconds, drainSeconds),
    },
  };
}

/**
 * A Pod as the Deployment's ReplicaSet would create it, for checking the template where
 * only Pods are judged: a server dry-run create in a namespace that enforces a Pod
 * Security level (admission checks Pods, not Deployments).
 */
export function podFromDeployment(d: V1Deployment): V1Pod {
  const template = structuredClone(d.spec?.template ?? {});
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...template.metadata, generateName: `${d.metadata?.name ?? 'pod'}-`, namespace: d.metadata?.namespace },
    spec: template.spec ?? { containers: [] },
  };
}

function makePodTemplate(fn: KfnFunction, cfg: ReconcilerConfig, timeoutSeconds: number, drainSeconds: number): V1PodTemplateSpec {
  const { spec } = fn;
  // kfn's labels last: the selector depends on them, and validation already refuses
  // podMetadata keys that would collide, so this is a second guard, not a policy.
  const metadata: NonNullable<V1PodTemplateSpec['metadata']> = { labels: { ...spec.podMetadata?.labels, ...functionLabels(fn) } };
  const annotations = spec.podMetadata?.annotations;
  if (annotations && Object.keys(annotations).length > 0) metadata.annotations = { ...annotations };
  const pod: V1PodSpec = {
    containers: [makeContainer(fn, cfg, timeoutSeconds, drainSeconds)],
    // A request may run timeoutSeconds after the drain pause; the margin covers
    // the runtime's own shutdown.
    terminationGracePeriodSeconds: timeoutSeconds + drainSeconds + cfg.terminationMarginSeconds,
    // Service links put every Service of the namespace into the env, which slows
    // starts in big namespaces and leaks names; Knative turns them off too.
    enableServiceLinks: false,
    // The user's ids and groups, with kfn's seccomp profile always on top.
    securityContext: { ...structuredClone(spec.podSecurityContext), seccompProfile: { type: 'RuntimeDefault' } },
  };
  if (spec.serviceAccountName) pod.serviceAccountName = spec.serviceAccountName;
  if (spec.imagePullSecrets?.length) pod.imagePullSecrets = spec.imagePullSecrets.map(({ name }) => ({ name }));
  // Copies, so the template never shares objects with the informer's cached Function.
  if (spec.volumes?.length) pod.volumes = structuredClone(spec.volumes);
  if (spec.nodeSelector && Object.keys(spec.nodeSelector).length > 0) pod.nodeSelector = { ...spec.nodeSelector };
  if (spec.tolerations?.length) pod.tolerations = structuredClone(spec.tolerations);
  if (spec.affinity && Object.keys(spec.affinity).length > 0) pod.affinity = structuredClone(spec.affinity);
  return { metadata, spec: pod };
}

function makeContainer(fn: KfnFunction, cfg: ReconcilerConfig, timeoutSeconds: number, drainSeconds: number): V1Container {
  const { spec } = fn;
  const port = spec.port ?? DEFAULT_PORT;
  const c: V1Container = {
    name: CONTAINER_NAME,
    image: spec.image,
    // Named as Knative names it, so tooling written for Knative sees an HTTP/2 container.
    ports: [{ name: spec.portName === 'h2c' ? 'h2c' : PORT_NAME, containerPort: port, protocol: 'TCP' }],
    env: makeEnv(fn, port, timeoutSeconds),
    readinessProbe: makeReadinessProbe(fn, port),
    securityContext: makeSecurityContext(fn),
  };
  if (spec.envFrom?.length) c.envFrom = structuredClone(spec.envFrom);
  if (spec.volumeMounts?.length) c.volumeMounts = structuredClone(spec.volumeMounts);
  // No default liveness probe: one that fails during a slow cold start would kill a
  // replica that is only starting. What the user set goes through as written.
  if (spec.livenessProbe) c.livenessProbe = makeProbe(spec.livenessProbe, port);
  if (spec.command?.length) c.command = [...spec.command];
  if (spec.args?.length) c.args = [...spec.args];
  if (spec.workingDir) c.workingDir = spec.workingDir;
  if (cfg.imagePullPolicy) c.imagePullPolicy = cfg.imagePullPolicy;
  const resources = makeResources(fn);
  if (resources) c.resources = resources;
  const preStop = makePreStop(cfg, drainSeconds);
  if (preStop) c.lifecycle = { preStop };
  return c;
}

/**
 * Non-root is not forced: the image's USER is unknown here (reading it means asking the
 * registry), and runAsNonRoot on a root image fails every start with
 * CreateContainerConfigError. The user opts in with spec.securityContext.runAsNonRoot (or
 * the pod's); everything else the restricted Pod Security profile wants is always set
 * and comes last, so nothing in the spec can weaken it. NET_BIND_SERVICE stays so an
 * image may still listen on a port < 1024 (the profile allows that one capability).
 */
function makeSecurityContext(fn: KfnFunction): V1SecurityContext {
  return {
    ...structuredClone(fn.spec.securityContext),
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
  };
}

function makeEnv(fn: KfnFunction, port: number, timeoutSeconds: number): V1EnvVar[] {
  // Ours first, so spec.env entries may refer to them as $(PORT).
  const env: V1EnvVar[] = [
    { name: 'PORT', value: String(port) },
    { name: 'K_SERVICE', value: fn.metadata.name },
    // kfn-node-runtime finishes in-flight requests for this long after SIGTERM.
    { name: 'KFN_DRAIN_TIMEOUT_MS', value: String(timeoutSeconds * 1000) },
  ];
  const reserved: readonly string[] = RESERVED_ENV;
  for (const e of fn.spec.env ?? []) {
    if (reserved.includes(e.name)) continue;
    const v: V1EnvVar = { name: e.name };
    if (e.value !== undefined) v.value = e.value;
    // Checked by validateFunction and the CRD; the kubelet resolves it.
    if (e.valueFrom !== undefined) v.valueFrom = structuredClone(e.valueFrom);
    env.push(v);
  }
  return env;
}

function makeResources(fn: KfnFunction): V1Container['resources'] {
  const r = fn.spec.resources;
  if (!r) return undefined;
  const out: NonNullable<V1Container['resources']> = {};
  if (r.requests && Object.keys(r.requests).length > 0) out.requests = { ...r.requests };
  if (r.limits && Object.keys(r.limits).length > 0) out.limits = { ...r.limits };
  return out.requests || out.limits ? out : undefined;
}

/**
 * spec.readinessProbe with its port defaulted to spec.port. Without one, a TCP probe
 * every second: the default 10 s period would add up to 10 s to every cold start.
 */
export function makeReadinessProbe(fn: KfnFunction, port: number): V1Probe {
  const p = fn.spec.readinessProbe;
  if (!p || (!p.httpGet && !p.tcpSocket)) {
    return { ...probeTimings(p), tcpSocket: { port }, periodSeconds: p?.periodSeconds ?? 1 };
  }
  return makeProbe(p, port);
}

/** `p` with its port defaulted to spec.port; a TCP check of spec.port when it names no handler. */
function makeProbe(p: Probe, port: number): V1Probe {
  const probe: V1Probe = probeTimings(p);
  if (p.httpGet) probe.httpGet = { path: p.httpGet.path || '/', port: p.httpGet.port ?? port };
  else probe.tcpSocket = { port: p.tcpSocket?.port ?? port };
  return probe;
}

function probeTimings(p: Probe | undefined): V1Probe {
  const out: V1Probe = {};
  if (!p) return out;
  if (p.initialDelaySeconds !== undefined) out.initialDelaySeconds = p.initialDelaySeconds;
  if (p.periodSeconds !== undefined) out.periodSeconds = p.periodSeconds;
  if (p.timeoutSeconds !== undefined) out.timeoutSeconds = p.timeoutSeconds;
  if (p.failureThreshold !== undefined) out.failureThreshold = p.failureThreshold;
  if (p.successThreshold !== undefined) out.successThreshold = p.successThreshold;
  return out;
}

function makePreStop(cfg: ReconcilerConfig, drainSeconds: number): V1LifecycleHandler | undefined {
  if (drainSeconds <= 0) return undefined;
  // The pause lets every activator see the endpoint go before the runtime gets SIGTERM;
  // the runtime then finishes what it has in flight.
  if (cfg.drainAction === 'exec') return { exec: { command: ['sleep', String(drainSeconds)] } };
  return { sleep: { seconds: drainSeconds } };
}
