// Proves the pods config/ runs would start under Pod Security "restricted" (which
// 100-namespace.yaml enforces), are probed and bounded, and are wired to each other:
// every Service selects pods that have its target ports, every in-cluster URL in an env
// var names a Service port that exists, every ServiceAccount a pod uses exists.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  allContainers, configFiles, fromRoot, loadObjects, ref, selects, services, workloads, type Container, type PodSpec,
  type Probe, type SecurityContext, type Service, type Workload,
} from './load.js';

const config = loadObjects(configFiles());
const pods = workloads(config);
const svcs = services(config);
const kfnComponents = ['kfn-activator', 'kfn-autoscaler', 'kfn-controller', 'kfn-dispatcher'];

const workload = (name: string): Workload => {
  const w = pods.find((p) => p.metadata.name === name);
  assert.ok(w, `workload ${name}`);
  return w;
};
const service = (name: string): Service => {
  const s = svcs.find((x) => x.metadata.name === name);
  assert.ok(s, `Service ${name}`);
  return s;
};
const container = (w: Workload): Container => {
  const c = w.spec.template.spec.containers[0];
  assert.ok(c, `${ref(w)} has a container`);
  return c;
};

/** The container's setting, else the pod's, as Kubernetes resolves them. */
function effective<K extends keyof SecurityContext>(pod: PodSpec, c: Container, key: K): SecurityContext[K] {
  return c.securityContext?.[key] ?? pod.securityContext?.[key];
}

/** Parses CPU ("250m", "2") and memory ("128Mi", "1Gi", "512M") quantities into base units. */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi|Ti)?$/.exec(q);
  assert.ok(m, `quantity ${q}`);
  const unit = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] ?? ''] ?? NaN;
  return Number(m[1]) * unit;
}

function portOf(c: Container, port: string | number): number | undefined {
  return typeof port === 'number' ? c.ports?.find((p) => p.containerPort === port)?.containerPort : c.ports?.find((p) => p.name === port)?.containerPort;
}

function probePort(p: Probe): string | number | undefined {
  return p.httpGet?.port ?? p.tcpSocket?.port;
}

// Volume sources Pod Security "restricted" allows.
const RESTRICTED_VOLUMES = new Set(['configMap', 'emptyDir', 'projected', 'secret', 'downwardAPI', 'persistentVolumeClaim', 'ephemeral', 'csi']);

describe('every pod in config/ would be admitted under Pod Security "restricted"', () => {
  it('finds the workloads', () => {
    assert.deepEqual(pods.map((w) => w.metadata.name).sort(), [...kfnComponents, 'nats'].sort());
  });

  for (const w of pods) {
    const pod = w.spec.template.spec;
    it(`runs ${ref(w)} as non-root with a read-only root filesystem, no privilege escalation and no capabilities`, () => {
      assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, 'no host namespaces');
      for (const c of allContainers(pod)) {
        const at = `${ref(w)} container ${c.name}`;
        assert.equal(effective(pod, c, 'runAsNonRoot'), true, `${at}: runAsNonRoot`);
        const uid = effective(pod, c, 'runAsUser');
        assert.ok(typeof uid === 'number' && uid > 0, `${at}: runAsUser is set and not 0 (the image may default to root)`);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
        assert.notEqual(c.securityContext?.privileged, true, `${at}: privileged`);
        assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${at}: capabilities.drop`);
        assert.deepEqual(c.securityContext?.capabilities?.add ?? [], [], `${at}: capabilities.add`);
        assert.equal(effective(pod, c, 'seccompProfile')?.type, 'RuntimeDefault', `${at}: seccompProfile`);
      }
      for (const v of pod.volumes ?? []) {
        const source = Object.keys(v).find((k) => k !== 'name') ?? '';
        assert.ok(RESTRICTED_VOLUMES.has(source), `${ref(w)} volume ${v.name}: ${source} is not allowed`);
      }
    });

    it(`gives ${ref(w)} a writable /tmp and mounts only volumes it declares`, () => {
      const declared = new Set([...(pod.volumes ?? []).map((v) => v.name), ...(w.spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name)]);
      for (const c of allContainers(pod)) {
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        assert.ok(tmp, `${c.name} mounts /tmp`);
        assert.ok((pod.volumes ?? []).some((v) => v.name === tmp.name && 'emptyDir' in v), `${c.name}: /tmp is an emptyDir`);
        for (const m of c.volumeMounts ?? []) assert.ok(declared.has(m.name), `${c.name} mounts undeclared volume ${m.name}`);
      }
    });

    it(`probes ${ref(w)} for readiness and liveness on a port the container declares`, () => {
      for (const c of pod.containers) {
        for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
          const probe = c[kind];
          assert.ok(probe, `${c.name}: ${kind}`);
          const port = probePort(probe);
          assert.ok(port !== undefined && portOf(c, port) !== undefined, `${c.name}: ${kind} port ${String(port)} is declared`);
        }
        if (c.startupProbe) assert.ok(portOf(c, probePort(c.startupProbe) ?? -1), `${c.name}: startupProbe port`);
      }
    });

    it(`bounds ${ref(w)} with CPU and memory requests and limits, requests within limits`, () => {
      for (const c of allContainers(pod)) {
        for (const r of ['cpu', 'memory']) {
          const request = c.resources?.requests?.[r];
          const limit = c.resources?.limits?.[r];
          assert.ok(request && limit, `${c.name}: ${r} request and limit`);
          assert.ok(quantity(request) <= quantity(limit), `${c.name}: ${r} request ${request} > limit ${limit}`);
        }
      }
    });

    it(`runs ${ref(w)} under a ServiceAccount that exists, or without API access`, () => {
      const sa = pod.serviceAccountName;
      if (sa === undefined) {
        assert.equal(pod.automountServiceAccountToken, false, 'a pod with no ServiceAccount of its own gets no token');
        return;
      }
      assert.ok(
        config.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === sa && o.metadata.namespace === w.metadata.namespace),
        `ServiceAccount ${sa}`,
      );
    });

    it(`selects ${ref(w)}'s own pods`, () => {
      assert.ok(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels));
      for (const other of pods.filter((o) => o !== w)) {
        assert.ok(!selects(w.spec.selector.matchLabels, other.spec.template.metadata.labels), `also selects ${ref(other)}`);
      }
    });
  }
});

describe('the kfn components', () => {
  for (const name of kfnComponents) {
    it(`gives ${name} its namespace and pod name from the downward API, a log level and /healthz probes on the metrics port`, () => {
      const w = workload(name);
      const c = container(w);
      const env = new Map((c.env ?? []).map((e) => [e.name, e]));
      assert.equal(env.get('KFN_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
      assert.equal(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
      assert.ok(['trace', 'debug', 'info', 'warn', 'error'].includes(env.get('KFN_LOG_LEVEL')?.value ?? ''), 'KFN_LOG_LEVEL');
      assert.equal(portOf(c, 'metrics'), 9090);
      assert.equal(env.get('KFN_METRICS_PORT')?.value, '9090');
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
        assert.deepEqual(probe?.httpGet, { path: '/healthz', port: 'metrics' });
      }
    });
  }

  it('runs the controller twice (leader election) and the activator at least twice', () => {
    assert.equal(workload('kfn-controller').spec.replicas, 2);
    assert.ok((workload('kfn-activator').spec.replicas ?? 1) >= 2);
  });

  it('runs two autoscalers (leader and standby), rolled one new pod at a time, spread across nodes, one evictable at a time', () => {
    type Affinity = { podAntiAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: Array<{ podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } } }> } };
    const w = workload('kfn-autoscaler') as Workload & { spec: { strategy?: { type: string; rollingUpdate?: { maxUnavailable?: number } } } };
    assert.equal(w.spec.replicas, 2);
    assert.equal(w.spec.strategy?.type, 'RollingUpdate');
    assert.equal(w.spec.strategy?.rollingUpdate?.maxUnavailable, 0);
    const spread = ((w.spec.template.spec as { affinity?: Affinity }).affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])[0]?.podAffinityTerm;
    assert.equal(spread?.topologyKey, 'kubernetes.io/hostname');
    assert.ok(spread && selects(spread.labelSelector.matchLabels, w.spec.template.metadata.labels), 'anti-affinity to its own pods');
    const pdb = config.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'kfn-autoscaler') as
      | { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }
      | undefined;
    assert.equal(pdb?.spec.minAvailable, 1);
    assert.ok(pdb && selects(pdb.spec.selector.matchLabels, w.spec.template.metadata.labels));
    const env = container(w).env?.find((e) => e.name === 'POD_IP') as { valueFrom?: { fieldRef?: { fieldPath: string } } } | undefined;
    assert.equal(env?.valueFrom?.fieldRef?.fieldPath, 'status.podIP', 'the leader publishes its pod IP');
  });

  it('runs one dispatcher and replaces it stop-then-start, so orderingKey order is never split between two', () => {
    const w = workload('kfn-dispatcher') as Workload & { spec: { strategy?: { type: string } } };
    assert.equal(w.spec.replicas, 1);
    assert.equal(w.spec.strategy?.type, 'Recreate');
  });

  it('serves Function traffic on kfn-activator port 80 → the activator http port 8080', () => {
    const svc = service('kfn-activator');
    const http = svc.spec.ports.find((p) => p.port === 80);
    assert.equal(http?.targetPort, 'http');
    assert.equal(portOf(container(workload('kfn-activator')), 'http'), 8080);
    assert.ok(svc.spec.ports.some((p) => p.targetPort === 'metrics'), 'and the metrics port');
  });

  it('points the activators at the autoscaler Service, port stats', () => {
    const env = container(workload('kfn-activator')).env?.find((e) => e.name === 'KFN_AUTOSCALER_URL');
    assert.equal(env?.value, 'http://kfn-autoscaler.kfn-system.svc:8080');
    // No selector: the leader's EndpointSlice names its pod, with the port `stats` (cmd/autoscaler/main.ts).
    const svc = service('kfn-autoscaler');
    assert.equal(svc.spec.selector, undefined);
    assert.equal(svc.spec.ports.find((p) => p.port === 8080)?.name, 'stats');
    assert.equal(portOf(container(workload('kfn-autoscaler')), 'stats'), 8080);
  });

  it('points the dispatcher at the NATS client Service', () => {
    const env = container(workload('kfn-dispatcher')).env?.find((e) => e.name === 'NATS_URL');
    assert.equal(env?.value, 'nats://nats.kfn-system.svc:4222');
  });

  it('points the controller at the same NATS as the dispatcher, for Trigger consumers and counts', () => {
    const url = (name: string): string | undefined => container(workload(name)).env?.find((e) => e.name === 'NATS_URL')?.value;
    assert.equal(url('kfn-controller'), url('kfn-dispatcher'));
  });

  it('serves the event ingress on kfn-dispatcher port 80 → the dispatcher http port 8080', () => {
    assert.equal(service('kfn-dispatcher').spec.ports.find((p) => p.port === 80)?.targetPort, 'http');
    assert.equal(portOf(container(workload('kfn-dispatcher')), 'http'), 8080);
  });

  it('keeps an activator up through voluntary disruptions, without blocking node drains', () => {
    const pdb = config.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'kfn-activator') as
      | { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }
      | undefined;
    assert.ok(pdb, 'PodDisruptionBudget kfn-activator');
    assert.equal(pdb.spec.minAvailable, 1);
    const activator = workload('kfn-activator');
    assert.ok(selects(pdb.spec.selector.matchLabels, activator.spec.template.metadata.labels));
    assert.ok(pdb.spec.minAvailable < (activator.spec.replicas ?? 1), 'minAvailable below replicas, or no pod could ever be evicted');
  });
});

describe('Services and in-cluster URLs are wired to real ports', () => {
  for (const svc of svcs) {
    const selector = svc.spec.selector;
    if (!selector) continue;
    it(`selects pods of ${ref(svc)} that have each target port`, () => {
      const targets = pods.filter((w) => w.metadata.namespace === svc.metadata.namespace && selects(selector, w.spec.template.metadata.labels));
      assert.ok(targets.length > 0, 'selects no workload');
      for (const w of targets) {
        for (const p of svc.spec.ports) {
          const target = p.targetPort ?? p.port;
          assert.ok(w.spec.template.spec.containers.some((c) => portOf(c, target) !== undefined), `${ref(w)} has no port ${String(target)}`);
        }
      }
    });
  }

  it('names in every env URL a Service and a port that exist', () => {
    const urls = pods.flatMap((w) => allContainers(w.spec.template.spec).flatMap((c) => (c.env ?? []).map((e) => ({ w, e }))))
      .filter(({ e }) => /^[a-z]+:\/\/[^/]+\.svc(:\d+)?/.test(e.value ?? ''));
    assert.ok(urls.length >= 3);
    for (const { w, e } of urls) {
      const url = new URL(e.value ?? '');
      const [name, namespace] = url.hostname.split('.');
      const svc = svcs.find((s) => s.metadata.name === name && s.metadata.namespace === namespace);
      assert.ok(svc, `${ref(w)} ${e.name}: no Service ${name} in ${namespace}`);
      const port = Number(url.port || (url.protocol === 'http:' ? 80 : NaN));
      assert.ok(svc.spec.ports.some((p) => p.port === port), `${ref(w)} ${e.name}: Service ${name} has no port ${port}`);
    }
  });
});

describe('NATS JetStream (500-nats.yaml)', () => {
  const nats = workload('nats');
  const c = container(nats);
  const configMap = config.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'nats-config') as { data: Record<string, string> } | undefined;
  const conf = configMap?.data['nats.conf'] ?? '';
  const setting = (key: string): string | undefined => new RegExp(`^\\s*${key}:\\s*(\\S+)`, 'm').exec(conf)?.[1];

  it('runs the official nats 2.x image as a StatefulSet with its config from the ConfigMap', () => {
    assert.equal(nats.kind, 'StatefulSet');
    assert.match(c.image, /^nats:2\.\d+/);
    assert.ok(conf.includes('jetstream'), 'JetStream is enabled');
    const configFlag = c.command?.[(c.command.indexOf('--config')) + 1] ?? '';
    const mount = c.volumeMounts?.find((m) => configFlag.startsWith(`${m.mountPath}/`));
    const volume = nats.spec.template.spec.volumes?.find((v) => v.name === mount?.name) as { configMap?: { name: string } } | undefined;
    assert.equal(volume?.configMap?.name, 'nats-config');
    assert.ok(configFlag.endsWith('/nats.conf'));
  });

  it('keeps the JetStream store on the PersistentVolumeClaim', () => {
    const dataMount = c.volumeMounts?.find((m) => (nats.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === m.name));
    assert.ok(dataMount, 'a volumeClaimTemplate is mounted');
    assert.ok((setting('store_dir') ?? '').startsWith(dataMount.mountPath), `store_dir ${setting('store_dir')} is under ${dataMount.mountPath}`);
    assert.equal(nats.spec.replicas, 1);
  });

  it('is ready only when JetStream is, as the monitoring port says', () => {
    assert.equal(Number(setting('http_port')), portOf(c, 'monitor'));
    assert.deepEqual(c.readinessProbe?.httpGet, { path: '/healthz?js-enabled-only=true', port: 'monitor' });
  });

  it('has a headless Service for stable server names and a client Service on 4222', () => {
    const headless = service(nats.spec.serviceName ?? '');
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(Number(setting('port')), portOf(c, 'client'));
    assert.equal(service('nats').spec.ports.find((p) => p.port === 4222)?.targetPort, 'client');
  });

  // Where nats-server is installed, let it check the file, and the three-server variant
  // the comment describes.
  const server = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  it('is a config nats-server accepts, also with the cluster block for three servers', { skip: server.status !== 0 && 'nats-server is not installed' }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfn-nats-'));
    const header = /^#[\s\S]*?(?=^apiVersion)/m.exec(readFileSync(fromRoot('config/500-nats.yaml'), 'utf8'))?.[0] ?? '';
    const cluster = /^#\s+cluster \{[\s\S]*?^#\s+\}$/m.exec(header)?.[0].replace(/^# ?/gm, '') ?? '';
    assert.ok(cluster.includes('routes'), 'the header comment shows the cluster block');
    try {
      for (const [name, text] of [['single.conf', conf], ['cluster.conf', `${conf}\n${cluster}\n`]] as const) {
        const file = path.join(dir, name);
        writeFileSync(file, text);
        const test = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env: { ...process.env, POD_NAME: 'nats-0' } });
        assert.equal(test.status, 0, `${name}: ${test.stderr}${test.stdout}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
