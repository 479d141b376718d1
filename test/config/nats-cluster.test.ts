// The three-server NATS component (config/components/nats-cluster, used by overlays/ha)
// and the event size limits: NATS refuses a message over max_payload, headers included,
// so the ingress's limit (KFN_MAX_EVENT_BYTES in 450-dispatcher.yaml) plus room for
// headers must fit under the max_payload of both nats.conf variants. Builds the overlay
// with kubectl and checks the config with nats-server where they are installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { controllerSettings } from '../../cmd/controller/flags.js';
import { dispatcherSettings } from '../../cmd/dispatcher/flags.js';
import { DEFAULT_MAX_EVENT_BYTES } from '../../pkg/events/ingress/ingress.js';
import { configFiles, fromRoot, loadDocs, loadObjects, repoRoot, workloads, type K8sObject } from './load.js';

/**
 * Headers the ingress may add to an event of the largest body: the CloudEvent attributes
 * come from HTTP headers, which Node caps at 16 KiB by default, plus Nats-Msg-Id; 64 KiB
 * leaves room for both with a wide margin.
 */
const HEADER_ROOM = 64 * 1024;

const config = loadObjects(configFiles());
const COMPONENT = 'config/components/nats-cluster';

function natsConf(objs: readonly unknown[]): string {
  const cm = objs.find((o) => (o as K8sObject).kind === 'ConfigMap' && (o as K8sObject).metadata.name === 'nats-config') as { data?: Record<string, string> } | undefined;
  const conf = cm?.data?.['nats.conf'];
  assert.ok(conf, 'a nats-config ConfigMap with nats.conf');
  return conf;
}
const setting = (conf: string, key: string): string | undefined => new RegExp(`^\\s*${key}:\\s*(\\S+)`, 'm').exec(conf)?.[1];
const componentObjects = (file: string): unknown[] => loadDocs(`${COMPONENT}/${file}`).map((d) => d.value);

type Container = { name: string; env?: Array<{ name: string; value?: string }> };
const envOf = (objs: readonly unknown[], workload: string, name: string): string | undefined => {
  const w = objs.find((o) => (o as K8sObject).metadata?.name === workload && ['Deployment', 'StatefulSet'].includes((o as K8sObject).kind)) as
    | { spec: { template: { spec: { containers: Container[] } } } }
    | undefined;
  return w?.spec.template.spec.containers.flatMap((c) => c.env ?? []).find((e) => e.name === name)?.value;
};

describe('event size: the ingress limit fits under NATS max_payload', () => {
  const base = natsConf(config);
  const cluster = natsConf(componentObjects('nats-config.yaml'));
  const maxEvent = Number(envOf(config, 'kfn-dispatcher', 'KFN_MAX_EVENT_BYTES'));

  it('sets the dispatcher’s limit explicitly, to the default the code and kfn dev use', () => {
    assert.equal(maxEvent, DEFAULT_MAX_EVENT_BYTES);
    assert.equal(dispatcherSettings(['--max-event-bytes', String(maxEvent)]).maxEventBytes, maxEvent);
  });

  for (const [name, conf] of [['500-nats.yaml', base], ['components/nats-cluster', cluster]] as const) {
    it(`${name}: max_payload ≥ the largest event plus ${HEADER_ROOM} bytes of headers, and within NATS's 64 MiB`, () => {
      const maxPayload = Number(setting(conf, 'max_payload'));
      assert.ok(Number.isInteger(maxPayload), `max_payload is a plain byte count, got ${setting(conf, 'max_payload')}`);
      assert.ok(maxPayload >= maxEvent + HEADER_ROOM, `max_payload ${maxPayload} < ${maxEvent} + ${HEADER_ROOM}`);
      assert.ok(maxPayload <= 64 * 1024 * 1024);
    });
  }

  it('the cluster nats.conf is the single-server one plus the cluster block, nothing else', () => {
    const withoutCluster = cluster.replace(/^ *# The three servers[^\n]*\n *cluster \{[\s\S]*?^ *\}\n/m, '');
    assert.notEqual(withoutCluster, cluster, 'found the cluster block');
    assert.equal(withoutCluster, base);
  });
});

describe('the nats-cluster component', () => {
  const cluster = natsConf(componentObjects('nats-config.yaml'));
  const nats = workloads(config).find((w) => w.metadata.name === 'nats') as unknown as { spec: { serviceName: string; podManagementPolicy?: string } };
  const statefulSetPatch = componentObjects('nats-statefulset.yaml')[0] as { spec: { replicas: number } };

  it('routes each of the StatefulSet’s servers by its stable name on the cluster port', () => {
    const routes = [...cluster.matchAll(/nats:\/\/(nats-(\d+))\.([a-z-]+)\.kfn-system\.svc:(\d+)/g)];
    assert.equal(statefulSetPatch.spec.replicas, 3);
    assert.deepEqual(routes.map((r) => Number(r[2])), [0, 1, 2], 'one route per pod');
    for (const r of routes) {
      assert.equal(r[3], nats.spec.serviceName, 'through the headless Service');
      assert.equal(r[4], '6222', 'the cluster port');
    }
    assert.match(cluster, /cluster \{\s*name: kfn\s*port: 6222/);
    assert.equal(nats.spec.podManagementPolicy, 'Parallel', 'the three start together to elect a meta leader');
  });

  it('has the controller and the dispatcher make kfn’s streams and counts bucket with 3 replicas', () => {
    const patches = componentObjects('stream-replicas.yaml');
    for (const name of ['kfn-controller', 'kfn-dispatcher']) assert.equal(envOf(patches, name, 'KFN_STREAM_REPLICAS'), '3', name);
    // KFN_STREAM_REPLICAS is --stream-replicas (readFlags's env fallback).
    assert.equal(controllerSettings(['--stream-replicas', '3']).streamReplicas, 3);
    assert.equal(dispatcherSettings(['--stream-replicas', '3']).streamReplicas, 3);
    assert.equal(controllerSettings([]).streamReplicas, 1);
  });

  const bad: Array<[string, RegExp]> = [
    ['0', /--stream-replicas/],
    ['6', /--stream-replicas: want a whole number from 1 to 5, got 6/],
    ['2.5', /--stream-replicas/],
    ['three', /--stream-replicas/],
  ];
  for (const [value, want] of bad) {
    it(`refuses --stream-replicas ${value}, naming the flag`, () => {
      assert.throws(() => controllerSettings(['--stream-replicas', value]), want);
      assert.throws(() => dispatcherSettings(['--stream-replicas', value]), want);
    });
  }

  const server = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  it('is a nats.conf nats-server accepts', { skip: server.status !== 0 && 'nats-server is not installed' }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfn-nats-'));
    try {
      const file = path.join(dir, 'cluster.conf');
      writeFileSync(file, cluster);
      const test = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env: { ...process.env, POD_NAME: 'nats-0' } });
      assert.equal(test.status, 0, `${test.stderr}${test.stdout}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  it('builds with `kubectl kustomize overlays/ha` into config/ with three servers, their PDB and 3-replica streams', { skip: kubectl.status !== 0 && 'kubectl is not installed' }, () => {
    const built = spawnSync('kubectl', ['kustomize', fromRoot('overlays/ha')], { encoding: 'utf8', cwd: repoRoot() });
    assert.equal(built.status, 0, built.stderr);
    const objs = parseAllDocuments(built.stdout).map((d) => d.toJS() as K8sObject).filter(Boolean);
    const sts = objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats') as { spec: { replicas: number; volumeClaimTemplates?: unknown[] } } | undefined;
    assert.equal(sts?.spec.replicas, 3);
    assert.ok((sts?.spec.volumeClaimTemplates ?? []).length > 0, 'a JetStream store per server');
    assert.ok(objs.some((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'nats' && o.metadata.namespace === 'kfn-system'));
    assert.match(natsConf(objs), /cluster \{/);
    for (const name of ['kfn-controller', 'kfn-dispatcher']) assert.equal(envOf(objs, name, 'KFN_STREAM_REPLICAS'), '3', name);
    // Every object of config/ is still there, once.
    assert.equal(objs.length, config.length + 1);
  });
});
