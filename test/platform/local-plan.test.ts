// The local platform's pure decisions: which replicas to start and drain, what a
// replica runs, how its output lines are read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import { LOCAL_DIR_ANNOTATION, launchSpec, notAppliedLocally } from '../../pkg/platform/local/launch.js';
import { lineSummary, parseLine } from '../../pkg/platform/local/output.js';
import { planReplicas, type PlannedReplica } from '../../pkg/platform/local/plan.js';

/** `r(3, 1, true)`: replica seq 3 of revision 1, ready. */
function r(seq: number, revision: number, ready: boolean): PlannedReplica {
  return { id: `r${seq}`, seq, revision, ready };
}

describe('planReplicas', () => {
  const rows: Array<{ name: string; desired: number; revision: number; live: PlannedReplica[]; drain: string[]; start: number }> = [
    { name: 'nothing wanted, nothing there', desired: 0, revision: 1, live: [], drain: [], start: 0 },
    { name: 'cold start', desired: 1, revision: 1, live: [], drain: [], start: 1 },
    { name: 'starting replicas count toward the scale', desired: 3, revision: 1, live: [r(1, 1, true), r(2, 1, false)], drain: [], start: 1 },
    { name: 'scale down takes the newest ready one', desired: 2, revision: 1, live: [r(1, 1, true), r(2, 1, true), r(3, 1, true)], drain: ['r3'], start: 0 },
    {
      name: 'scale down takes not-ready replicas before ready ones',
      desired: 1,
      revision: 1,
      live: [r(1, 1, true), r(2, 1, false), r(3, 1, true)],
      drain: ['r2', 'r3'],
      start: 0,
    },
    { name: 'scale to zero drains all', desired: 0, revision: 1, live: [r(1, 1, true), r(2, 1, false)], drain: ['r2', 'r1'], start: 0 },
    {
      name: 'a new revision starts replacements and keeps the old ready ones meanwhile',
      desired: 2,
      revision: 2,
      live: [r(1, 1, true), r(2, 1, true)],
      drain: [],
      start: 2,
    },
    {
      name: 'one replacement ready lets one old replica go, the newest first',
      desired: 2,
      revision: 2,
      live: [r(1, 1, true), r(2, 1, true), r(3, 2, true), r(4, 2, false)],
      drain: ['r2'],
      start: 0,
    },
    { name: 'old replicas that serve nothing go at once', desired: 1, revision: 2, live: [r(1, 1, false)], drain: ['r1'], start: 1 },
    {
      name: 'all replacements ready: every old replica goes',
      desired: 2,
      revision: 2,
      live: [r(1, 1, true), r(3, 2, true), r(4, 2, true)],
      drain: ['r1'],
      start: 0,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(planReplicas(row.desired, row.revision, row.live), { drain: row.drain, start: row.start });
    });
  }
});

function fn(spec: Partial<KfnFunction['spec']>, annotations: Record<string, string> = {}): KfnFunction {
  return {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Function',
    metadata: { name: 'f', namespace: 'ns', annotations },
    spec: { image: 'img', ...spec },
  };
}

describe('launchSpec', () => {
  it('runs command + args in the manifest folder joined with workingDir, with spec.env', () => {
    const res = launchSpec(
      fn(
        {
          command: ['kfn-node-runtime', '--x'],
          args: ['handler.js'],
          workingDir: 'sub',
          env: [{ name: 'A', value: '1' }, { name: 'B' }, { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
        },
        { [LOCAL_DIR_ANNOTATION]: '/srv/fns/f' },
      ),
    );
    assert.ok(res.ok);
    assert.equal(res.launch.command, 'kfn-node-runtime');
    assert.deepEqual(res.launch.args, ['--x', 'handler.js']);
    assert.equal(res.launch.cwd, '/srv/fns/f/sub');
    assert.deepEqual(res.launch.env, { A: '1', B: '' });
    assert.deepEqual(res.launch.readiness.check, { kind: 'tcp' });
  });

  it('names the fields a local process cannot have, and nothing for a plain Function', () => {
    assert.deepEqual(notAppliedLocally(fn({ command: ['x'], env: [{ name: 'A', value: '1' }], serviceAccountName: 'sa', nodeSelector: { a: 'b' } })), []);
    assert.deepEqual(
      notAppliedLocally(fn({
        env: [{ name: 'A', value: '1' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        envFrom: [{ secretRef: { name: 's' } }, { configMapRef: { name: 'c' } }],
        volumes: [{ name: 'v', emptyDir: {} }],
        volumeMounts: [{ name: 'v', mountPath: '/data' }, { name: 'v', mountPath: '/tmp', subPath: 'tmp' }],
      })),
      [
        'spec.env[1].valueFrom: POD is left unset',
        'spec.envFrom: the 2 Secret/ConfigMap source(s) add no variables',
        'spec.volumeMounts: nothing is mounted at /data, /tmp',
      ],
    );
    assert.deepEqual(notAppliedLocally(fn({ volumes: [{ name: 'v', emptyDir: {} }] })), ['spec.volumes: no volume exists locally']);
  });

  it('uses an httpGet readiness probe with its timings', () => {
    const res = launchSpec(fn({ command: ['x'], readinessProbe: { httpGet: { path: '/healthz' }, periodSeconds: 2, failureThreshold: 5 } }));
    assert.ok(res.ok);
    assert.deepEqual(res.launch.readiness, {
      check: { kind: 'http', path: '/healthz' },
      initialDelayMs: 0,
      periodMs: 2000,
      timeoutMs: 1000,
      failureThreshold: 5,
      successThreshold: 1,
    });
  });

  it('fails with NoCommand, explaining why, when there is no command', () => {
    const res = launchSpec(fn({}));
    assert.ok(!res.ok);
    assert.equal(res.failure.reason, 'NoCommand');
    assert.match(res.failure.message, /no container runtime/);
  });

  it('gives the same fingerprint for the same spec and a new one when what runs changes', () => {
    const a = launchSpec(fn({ command: ['x'], scale: { max: 3 } }));
    const b = launchSpec(fn({ command: ['x'], scale: { max: 9 }, containerConcurrency: 4 }));
    const c = launchSpec(fn({ command: ['x'], env: [{ name: 'A', value: '1' }] }));
    assert.ok(a.ok && b.ok && c.ok);
    assert.equal(a.launch.fingerprint, b.launch.fingerprint);
    assert.notEqual(a.launch.fingerprint, c.launch.fingerprint);
  });
});

describe('parseLine', () => {
  it('reads the runtime JSON lines with their level and fields', () => {
    assert.deepEqual(parseLine('{"level":"error","time":1,"msg":"handler failed","err":{"message":"boom"}}', 'stderr'), {
      level: 'error',
      msg: 'handler failed',
      fields: { err: { message: 'boom' } },
    });
    assert.equal(parseLine('{"level":40,"msg":"pino"}', 'stdout').level, 'warn');
  });

  it('takes other lines as text, stderr as warnings', () => {
    assert.deepEqual(parseLine('hello {', 'stdout'), { level: 'info', msg: 'hello {', fields: { stream: 'stdout' } });
    assert.equal(parseLine('{not json', 'stderr').level, 'warn');
  });

  it('summarises a line with its error message for failure messages', () => {
    assert.equal(lineSummary(parseLine('{"level":"fatal","msg":"cannot load handler","err":{"message":"ENOENT"}}', 'stderr')), 'cannot load handler: ENOENT');
  });
});
