import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment } from '@kubernetes/client-node';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import { makeDeployment, type DeploymentOptions } from '../../../pkg/reconciler/function/deployment.js';
import type { ReconcilerConfig } from '../../../pkg/reconciler/function/config.js';
import {
  assertIncludes,
  at,
  cfg,
  fn,
  UID,
  withCommand,
  withConcurrency,
  withEnv,
  withImage,
  withInitialScale,
  withMaxScale,
  withMinScale,
  withPort,
  withProbe,
  withResources,
  withTimeout,
  withWorkingDir,
} from './fixtures.js';

const CONTAINER = 'spec.template.spec.containers.0';

const builds: Array<{
  name: string;
  given: { fn: KfnFunction; cfg?: ReconcilerConfig; opts?: DeploymentOptions };
  /** Fields that must be there with these values. */
  want?: Partial<V1Deployment> | Record<string, unknown>;
  /** Dotted paths with their exact value (undefined = absent). */
  wantAt?: Record<string, unknown>;
}> = [
  {
    name: 'names, labels and a controller owner reference to the Function',
    given: { fn: fn('shop', 'hello') },
    want: {
      metadata: {
        name: 'hello',
        namespace: 'shop',
        labels: { 'app.kubernetes.io/name': 'hello', 'app.kubernetes.io/managed-by': 'kfn', 'kfn.dev/function': 'hello' },
        annotations: { 'kfn.dev/function-generation': '1' },
        ownerReferences: [{ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', name: 'hello', uid: UID, controller: true, blockOwnerDeletion: true }],
      },
      spec: { selector: { matchLabels: { 'kfn.dev/function': 'hello' } }, template: { metadata: { labels: { 'kfn.dev/function': 'hello' } } } },
    },
    wantAt: { 'spec.template.metadata.annotations': undefined },
  },
  {
    name: 'replicas on create default to 1',
    given: { fn: fn('default', 'hello') },
    wantAt: { 'spec.replicas': 1 },
  },
  {
    name: 'replicas on create come from scale.initial',
    given: { fn: fn('default', 'hello', withInitialScale(3)) },
    wantAt: { 'spec.replicas': 3 },
  },
  {
    name: 'scale.initial 0 creates no replica',
    given: { fn: fn('default', 'hello', withInitialScale(0)) },
    wantAt: { 'spec.replicas': 0 },
  },
  {
    name: 'replicas on create are raised to scale.min',
    given: { fn: fn('default', 'hello', withMinScale(2)) },
    wantAt: { 'spec.replicas': 2 },
  },
  {
    name: 'replicas on create are capped by scale.max',
    given: { fn: fn('default', 'hello', withInitialScale(5), withMaxScale(2)) },
    wantAt: { 'spec.replicas': 2 },
  },
  {
    name: 'replicas from the options win',
    given: { fn: fn('default', 'hello', withInitialScale(3)), opts: { replicas: 7 } },
    wantAt: { 'spec.replicas': 7 },
  },
  {
    name: 'rolling update never drops below the asked replicas',
    given: { fn: fn('default', 'hello') },
    want: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } }, revisionHistoryLimit: 3, progressDeadlineSeconds: 600 } },
  },
  {
    name: 'container: an h2c function names its port h2c, as Knative does',
    given: { fn: fn('default', 'hello', (f) => void (f.spec.portName = 'h2c')) },
    wantAt: { [`${CONTAINER}.ports`]: [{ name: 'h2c', containerPort: 8080, protocol: 'TCP' }] },
  },
  {
    name: 'container: image, port and the env kfn sets, PORT first',
    given: { fn: fn('default', 'hello', withImage('registry.example/hello:2'), withPort(9090), withConcurrency(2)) },
    wantAt: {
      [`${CONTAINER}.name`]: 'user-container',
      [`${CONTAINER}.image`]: 'registry.example/hello:2',
      [`${CONTAINER}.ports`]: [{ name: 'http', containerPort: 9090, protocol: 'TCP' }],
      [`${CONTAINER}.env`]: [
        { name: 'PORT', value: '9090' },
        { name: 'K_SERVICE', value: 'hello' },
        { name: 'KFN_DRAIN_TIMEOUT_MS', value: '300000' },
      ],
      [`${CONTAINER}.imagePullPolicy`]: undefined,
    },
  },
  {
    name: 'default port is 8080',
    given: { fn: fn('default', 'hello') },
    wantAt: { [`${CONTAINER}.env.0`]: { name: 'PORT', value: '8080' }, [`${CONTAINER}.ports.0.containerPort`]: 8080 },
  },
  {
    name: 'spec env after ours, valueFrom passed through, a reserved name dropped',
    given: {
      fn: fn(
        'default',
        'hello',
        withEnv(
          { name: 'GREETING', value: 'hi' },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
          { name: 'K_SERVICE', value: 'spoofed' },
        ),
      ),
    },
    wantAt: {
      [`${CONTAINER}.env`]: [
        { name: 'PORT', value: '8080' },
        { name: 'K_SERVICE', value: 'hello' },
        { name: 'KFN_DRAIN_TIMEOUT_MS', value: '300000' },
        { name: 'GREETING', value: 'hi' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      ],
    },
  },
  {
    name: 'command, args, workingDir and resources from the spec',
    given: {
      fn: fn('default', 'hello', withCommand(['node'], ['server.js']), withWorkingDir('/app'), withResources({ requests: { cpu: '100m' }, limits: { memory: '256Mi' } })),
    },
    wantAt: {
      [`${CONTAINER}.command`]: ['node'],
      [`${CONTAINER}.args`]: ['server.js'],
      [`${CONTAINER}.workingDir`]: '/app',
      [`${CONTAINER}.resources`]: { requests: { cpu: '100m' }, limits: { memory: '256Mi' } },
    },
  },
  {
    name: 'no command, args or resources when the spec has none',
    given: { fn: fn('default', 'hello') },
    wantAt: { [`${CONTAINER}.command`]: undefined, [`${CONTAINER}.args`]: undefined, [`${CONTAINER}.resources`]: undefined, [`${CONTAINER}.workingDir`]: undefined },
  },
  {
    name: 'readiness probe defaults to TCP on the port every second',
    given: { fn: fn('default', 'hello', withPort(9000)) },
    wantAt: { [`${CONTAINER}.readinessProbe`]: { tcpSocket: { port: 9000 }, periodSeconds: 1 } },
  },
  {
    name: 'timings-only probe keeps its timings and gets the TCP check',
    given: { fn: fn('default', 'hello', withProbe({ initialDelaySeconds: 2, periodSeconds: 5 })) },
    wantAt: { [`${CONTAINER}.readinessProbe`]: { tcpSocket: { port: 8080 }, initialDelaySeconds: 2, periodSeconds: 5 } },
  },
  {
    name: 'httpGet probe without a port probes spec.port, path defaults to /',
    given: { fn: fn('default', 'hello', withPort(9000), withProbe({ httpGet: {}, failureThreshold: 5 })) },
    wantAt: { [`${CONTAINER}.readinessProbe`]: { httpGet: { path: '/', port: 9000 }, failureThreshold: 5 } },
  },
  {
    name: 'httpGet probe with its own path and port',
    given: { fn: fn('default', 'hello', withProbe({ httpGet: { path: '/healthz', port: 8081 } })) },
    wantAt: { [`${CONTAINER}.readinessProbe`]: { httpGet: { path: '/healthz', port: 8081 } } },
  },
  {
    name: 'tcpSocket probe with its own port',
    given: { fn: fn('default', 'hello', withProbe({ tcpSocket: { port: 7000 }, periodSeconds: 3 })) },
    wantAt: { [`${CONTAINER}.readinessProbe`]: { tcpSocket: { port: 7000 }, periodSeconds: 3 } },
  },
  {
    name: 'grace period covers the drain pause, the request timeout and a margin; the runtime drains for the timeout',
    given: { fn: fn('default', 'hello', withTimeout(60)) },
    wantAt: {
      'spec.template.spec.terminationGracePeriodSeconds': 75,
      [`${CONTAINER}.lifecycle`]: { preStop: { sleep: { seconds: 5 } } },
      [`${CONTAINER}.env.2`]: { name: 'KFN_DRAIN_TIMEOUT_MS', value: '60000' },
    },
  },
  {
    name: 'exec drain for clusters without the sleep action',
    given: { fn: fn('default', 'hello', withTimeout(60)), cfg: cfg({ drainAction: 'exec', drainSeconds: 3 }) },
    wantAt: {
      'spec.template.spec.terminationGracePeriodSeconds': 73,
      [`${CONTAINER}.lifecycle`]: { preStop: { exec: { command: ['sleep', '3'] } } },
    },
  },
  {
    name: 'no drain pause when turned off',
    given: { fn: fn('default', 'hello', withTimeout(60)), cfg: cfg({ drainAction: 'none' }) },
    wantAt: { 'spec.template.spec.terminationGracePeriodSeconds': 70, [`${CONTAINER}.lifecycle`]: undefined },
  },
  {
    name: 'restricted security settings, but runAsNonRoot left to the image',
    given: { fn: fn('default', 'hello') },
    wantAt: {
      'spec.template.spec.securityContext': { seccompProfile: { type: 'RuntimeDefault' } },
      [`${CONTAINER}.securityContext`]: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
      'spec.template.spec.enableServiceLinks': false,
    },
  },
  {
    name: 'image pull policy from the config',
    given: { fn: fn('default', 'hello'), cfg: cfg({ imagePullPolicy: 'Always' }) },
    wantAt: { [`${CONTAINER}.imagePullPolicy`]: 'Always' },
  },
];

for (const row of builds) {
  test(`makeDeployment: ${row.name}`, () => {
    const got = makeDeployment(row.given.fn, row.given.cfg ?? cfg(), row.given.opts);
    if (row.want) assertIncludes(got, row.want);
    for (const [path, value] of Object.entries(row.wantAt ?? {})) assert.deepEqual(at(got, path), value, path);
  });
}

test('makeDeployment: a Function without a uid is refused, since the owner reference needs one', () => {
  const f = fn('default', 'hello');
  delete f.metadata.uid;
  assert.throws(() => makeDeployment(f, cfg()), /no uid/);
});
