// The pod a Function's Deployment creates: the pod-level fields of the spec arrive where
// Kubernetes reads them, kfn's selector and hardening cannot be changed by them, and with
// runAsNonRoot the pod meets every control of the `restricted` Pod Security Standard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import { assertValidFunction } from '../../../pkg/apis/function/validation.js';
import { makeDeployment, podFromDeployment } from '../../../pkg/reconciler/function/deployment.js';
import { cfg, fn, type FnOption } from './fixtures.js';

const withSpec = (patch: Partial<KfnFunction['spec']>): FnOption => (f) => void Object.assign(f.spec, patch);

/** Every pod-level field, each with a value Kubernetes would accept. */
const everything: Partial<KfnFunction['spec']> = {
  serviceAccountName: 'reports-reader',
  imagePullSecrets: [{ name: 'registry' }],
  env: [
    { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  ],
  envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings', optional: true } }],
  volumes: [
    { name: 'certs', secret: { secretName: 'tls', defaultMode: 0o400, items: [{ key: 'tls.crt', path: 'cert.pem' }] } },
    { name: 'templates', configMap: { name: 'templates' } },
    { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    { name: 'archive', persistentVolumeClaim: { claimName: 'archive', readOnly: true } },
    { name: 'identity', projected: { sources: [{ serviceAccountToken: { audience: 'vault', path: 'token' } }] } },
  ],
  volumeMounts: [
    { name: 'certs', mountPath: '/etc/tls', readOnly: true },
    { name: 'scratch', mountPath: '/tmp' },
    { name: 'templates', mountPath: '/etc/templates/monthly.html', subPath: 'monthly.html' },
  ],
  nodeSelector: { 'kubernetes.io/arch': 'amd64' },
  tolerations: [{ key: 'acme.com/batch', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }] } },
  podMetadata: { labels: { tier: 'batch' }, annotations: { 'prometheus.io/scrape': 'true' } },
  livenessProbe: { httpGet: { path: '/livez' }, initialDelaySeconds: 30, failureThreshold: 6 },
};

function podOf(f: KfnFunction): V1Pod {
  return podFromDeployment(makeDeployment(f, cfg()));
}
function specOf(f: KfnFunction): V1PodSpec {
  const spec = podOf(f).spec;
  assert.ok(spec);
  return spec;
}
function containerOf(f: KfnFunction): V1Container {
  const [c] = specOf(f).containers;
  assert.ok(c);
  return c;
}

test('the fixture is a valid Function, so the pods below are ones kfn would really build', () => {
  assertValidFunction({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'reports' }, spec: { image: 'x', ...everything } });
});

test('pod fields reach the pod spec and the container as written', () => {
  const f = fn('finance', 'reports', withSpec(everything));
  const spec = specOf(f);
  const c = containerOf(f);
  assert.equal(spec.serviceAccountName, 'reports-reader');
  assert.deepEqual(spec.imagePullSecrets, [{ name: 'registry' }]);
  assert.deepEqual(spec.volumes, everything.volumes);
  assert.deepEqual(spec.nodeSelector, everything.nodeSelector);
  assert.deepEqual(spec.tolerations, everything.tolerations);
  assert.deepEqual(spec.affinity, everything.affinity);
  assert.deepEqual(c.volumeMounts, everything.volumeMounts);
  assert.deepEqual(c.envFrom, everything.envFrom);
  assert.deepEqual(c.env?.slice(3), everything.env);
});

test('a Function without pod fields gets none of them, so existing Deployments do not change', () => {
  const spec = specOf(fn('default', 'hello'));
  for (const key of ['serviceAccountName', 'imagePullSecrets', 'volumes', 'nodeSelector', 'tolerations', 'affinity'] as const) {
    assert.equal(spec[key], undefined, key);
  }
  const c = containerOf(fn('default', 'hello'));
  for (const key of ['envFrom', 'volumeMounts', 'livenessProbe'] as const) assert.equal(c[key], undefined, key);
  assert.deepEqual(spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
});

test('podMetadata labels join kfn labels on the pods; the selector and Deployment labels stay kfn\'s own', () => {
  const f = fn('default', 'hello', withSpec({ podMetadata: { labels: { tier: 'web' }, annotations: { 'acme.com/owner': 'team' } } }));
  const d = makeDeployment(f, cfg());
  assert.deepEqual(d.spec?.selector, { matchLabels: { 'kfn.dev/function': 'hello' } });
  assert.deepEqual(d.metadata?.labels, { 'app.kubernetes.io/name': 'hello', 'app.kubernetes.io/managed-by': 'kfn', 'kfn.dev/function': 'hello' });
  assert.deepEqual(d.spec?.template.metadata, {
    labels: { tier: 'web', 'app.kubernetes.io/name': 'hello', 'app.kubernetes.io/managed-by': 'kfn', 'kfn.dev/function': 'hello' },
    annotations: { 'acme.com/owner': 'team' },
  });
  assert.equal(d.metadata?.annotations?.['acme.com/owner'], undefined, 'pod annotations stay on the pods');
});

test('kfn labels win over podMetadata even if validation were bypassed, so pods always match the selector', () => {
  const f = fn('default', 'hello', withSpec({ podMetadata: { labels: { 'kfn.dev/function': 'other', 'app.kubernetes.io/managed-by': 'me' } } }));
  const labels = makeDeployment(f, cfg()).spec?.template.metadata?.labels;
  assert.equal(labels?.['kfn.dev/function'], 'hello');
  assert.equal(labels?.['app.kubernetes.io/managed-by'], 'kfn');
});

test('no liveness probe by default; one that is set gets spec.port when it names none', () => {
  assert.equal(containerOf(fn('default', 'hello')).livenessProbe, undefined);
  const f = fn('default', 'hello', withSpec({ port: 9000, livenessProbe: { httpGet: { path: '/livez' }, initialDelaySeconds: 30, failureThreshold: 6 } }));
  assert.deepEqual(containerOf(f).livenessProbe, { httpGet: { path: '/livez', port: 9000 }, initialDelaySeconds: 30, failureThreshold: 6 });
  const timingsOnly = fn('default', 'hello', withSpec({ livenessProbe: { periodSeconds: 20 } }));
  assert.deepEqual(containerOf(timingsOnly).livenessProbe, { periodSeconds: 20, tcpSocket: { port: 8080 } });
});

test('the user\'s security settings join kfn\'s hardening, which they cannot weaken', () => {
  // Cast: validation refuses these fields; this proves the builder holds even if it did not.
  const weakened = { runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: true, capabilities: { add: ['SYS_ADMIN'] } };
  const f = fn('default', 'hello', withSpec({
    securityContext: weakened,
    podSecurityContext: { fsGroup: 2000, supplementalGroups: [3000], seccompProfile: { type: 'Unconfined' } } as KfnFunction['spec']['podSecurityContext'],
  }));
  assert.deepEqual(containerOf(f).securityContext, {
    runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
  });
  assert.deepEqual(specOf(f).securityContext, { fsGroup: 2000, supplementalGroups: [3000], seccompProfile: { type: 'RuntimeDefault' } });
});

test('the built pod shares no objects with the Function, so a change to one never reaches the other', () => {
  const f = fn('default', 'hello', withSpec(structuredClone(everything)));
  const before = structuredClone(f);
  const pod = podOf(f);
  const spec = pod.spec;
  assert.ok(spec);
  spec.volumes?.[0]?.secret?.items?.push({ key: 'x', path: 'x' });
  spec.tolerations?.pop();
  spec.containers[0]?.volumeMounts?.pop();
  assert.deepEqual(f, before);
});

test('podFromDeployment is a Pod with the template\'s metadata and spec, in the Deployment\'s namespace', () => {
  const d = makeDeployment(fn('shop', 'hello'), cfg());
  const pod = podFromDeployment(d);
  assert.deepEqual([pod.apiVersion, pod.kind, pod.metadata?.namespace, pod.metadata?.generateName], ['v1', 'Pod', 'shop', 'hello-']);
  assert.deepEqual(pod.metadata?.labels, d.spec?.template.metadata?.labels);
  assert.deepEqual(pod.spec, d.spec?.template.spec);
});

// ---- the restricted Pod Security Standard ----------------------------------------------
// The controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/
// (the Restricted profile includes every Baseline control), each as a check of a pod that
// returns what breaks it. The real admission check (a dry-run Pod in a namespace labelled
// pod-security.kubernetes.io/enforce=restricted) runs in the real-API-server suite.

type Control = (pod: V1PodSpec) => string[];
const containers = (pod: V1PodSpec): V1Container[] => [...pod.containers, ...(pod.initContainers ?? [])];
// Restricted "Volume Types": only these; Baseline "HostPath Volumes" is implied.
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range'];

const controls: Record<string, Control> = {
  // Baseline
  'HostProcess': (p) => (p.securityContext?.windowsOptions?.hostProcess || containers(p).some((c) => c.securityContext?.windowsOptions?.hostProcess) ? ['hostProcess'] : []),
  'Host Namespaces': (p) => (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => p[k] === true),
  'Privileged Containers': (p) => containers(p).filter((c) => c.securityContext?.privileged).map((c) => c.name),
  'HostPath Volumes': (p) => (p.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name),
  'Host Ports': (p) => containers(p).flatMap((c) => (c.ports ?? []).filter((port) => port.hostPort).map(() => c.name)),
  'AppArmor': (p) => [p.securityContext?.appArmorProfile, ...containers(p).map((c) => c.securityContext?.appArmorProfile)]
    .filter((a) => a && a.type !== 'RuntimeDefault' && a.type !== 'Localhost').map(() => 'appArmorProfile'),
  'SELinux': (p) => [p.securityContext?.seLinuxOptions, ...containers(p).map((c) => c.securityContext?.seLinuxOptions)]
    .filter((o) => o && (o.user || o.role || (o.type && !['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(o.type)))).map(() => 'seLinuxOptions'),
  '/proc Mount Type': (p) => containers(p).filter((c) => c.securityContext?.procMount && c.securityContext.procMount !== 'Default').map((c) => c.name),
  'Sysctls': (p) => (p.securityContext?.sysctls ?? []).filter((s) => !SAFE_SYSCTLS.includes(s.name)).map((s) => s.name),
  // Restricted
  'Volume Types': (p) => (p.volumes ?? []).filter((v) => !Object.keys(v).filter((k) => k !== 'name').every((k) => RESTRICTED_VOLUME_TYPES.includes(k))).map((v) => v.name),
  'Privilege Escalation (v1.8+)': (p) => containers(p).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name),
  'Running as Non-root': (p) => {
    const podNonRoot = p.securityContext?.runAsNonRoot === true;
    return containers(p).filter((c) => c.securityContext?.runAsNonRoot === false || (!podNonRoot && c.securityContext?.runAsNonRoot !== true)).map((c) => c.name);
  },
  'Running as Non-root user (v1.23+)': (p) => [p.securityContext?.runAsUser, ...containers(p).map((c) => c.securityContext?.runAsUser)].filter((u) => u === 0).map(() => 'runAsUser: 0'),
  'Seccomp (v1.19+)': (p) => {
    const ok = (t?: string): boolean => t === 'RuntimeDefault' || t === 'Localhost';
    const podOk = ok(p.securityContext?.seccompProfile?.type);
    return containers(p).filter((c) => {
      const t = c.securityContext?.seccompProfile?.type;
      return t === undefined ? !podOk : !ok(t);
    }).map((c) => c.name);
  },
  'Capabilities (v1.22+)': (p) => containers(p).filter((c) => {
    const caps = c.securityContext?.capabilities;
    return !caps?.drop?.includes('ALL') || (caps.add ?? []).some((a) => a !== 'NET_BIND_SERVICE');
  }).map((c) => c.name),
};

function restrictedViolations(pod: V1PodSpec): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, check] of Object.entries(controls)) {
    const broken = check(pod);
    if (broken.length > 0) out[name] = broken;
  }
  return out;
}

test('with securityContext.runAsNonRoot the pod meets every control of the restricted profile, with every pod field set', () => {
  const f = fn('locked', 'reports', withSpec({ ...everything, securityContext: { runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true } }));
  assert.deepEqual(restrictedViolations(specOf(f)), {});
});

test('with podSecurityContext.runAsNonRoot the pod meets every control of the restricted profile', () => {
  const f = fn('locked', 'reports', withSpec({ ...everything, podSecurityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 } }));
  assert.deepEqual(restrictedViolations(specOf(f)), {});
});

test('without the opt-in only "Running as Non-root" is missing: the image\'s USER is unknown, so kfn cannot set it', () => {
  assert.deepEqual(restrictedViolations(specOf(fn('default', 'hello', withSpec(everything)))), { 'Running as Non-root': ['user-container'] });
});

test('the controls catch what they are about, so a clean result means something', () => {
  const bad: V1PodSpec = {
    hostNetwork: true,
    securityContext: { runAsUser: 0, seccompProfile: { type: 'Unconfined' }, sysctls: [{ name: 'kernel.msgmax', value: '1' }] },
    volumes: [{ name: 'h', hostPath: { path: '/' } }],
    containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true, procMount: 'Unmasked', capabilities: { add: ['SYS_ADMIN'] } } }],
  };
  assert.deepEqual(Object.keys(restrictedViolations(bad)).sort(), [
    '/proc Mount Type', 'Capabilities (v1.22+)', 'Host Namespaces', 'Host Ports', 'HostPath Volumes', 'Privilege Escalation (v1.8+)',
    'Privileged Containers', 'Running as Non-root', 'Running as Non-root user (v1.23+)', 'Seccomp (v1.19+)', 'Sysctls', 'Volume Types',
  ]);
});
