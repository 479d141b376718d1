import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FunctionServing } from '../../../pkg/activator/activator.js';
import type { FunctionKey } from '../../../pkg/apis/meta.js';
import { ActivatorFeed, type ActivatorRoutes } from '../../../pkg/platform/kubernetes/activator-feed.js';
import type { EndpointsUpdate, ReadyEndpoint } from '../../../pkg/platform/types.js';

const hello: FunctionKey = { namespace: 'default', name: 'hello' };
const replicas = (n: number): ReadyEndpoint[] => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, host: `10.0.0.${i + 1}`, port: 8080 }));

/** Records what the activator is told, one line per call. */
class RecordingActivator implements ActivatorRoutes {
  readonly calls: string[] = [];
  upsertFunction(key: FunctionKey, serving: FunctionServing): void {
    this.calls.push(`upsert ${key.name} cc=${serving.containerConcurrency ?? 0} timeout=${serving.timeoutSeconds ?? '-'}${serving.portName ? ` ${serving.portName}` : ''}`);
  }
  removeFunction(key: FunctionKey): void {
    this.calls.push(`remove ${key.name}`);
  }
  updateEndpoints(u: EndpointsUpdate): void {
    this.calls.push(`endpoints ${u.key.name} [${u.endpoints.map((e) => e.id).join(' ')}]${u.failure ? ` ${u.failure.reason}` : ''}`);
  }
}

describe('ActivatorFeed: one activator of several, told only its share', () => {
  it('alone, it passes serving settings and endpoints through unchanged', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.upsertFunction(hello, { containerConcurrency: 4, timeoutSeconds: 30 });
    feed.updateEndpoints({ key: hello, endpoints: replicas(2) });
    assert.deepEqual(act.calls, ['upsert hello cc=4 timeout=30', 'endpoints hello [r0 r1]']);
  });

  it('holds endpoints of a function it does not know yet, and sends them with the function', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.updateEndpoints({ key: hello, endpoints: replicas(1) });
    assert.deepEqual(act.calls, []);
    feed.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 });
    assert.deepEqual(act.calls, ['upsert hello cc=1 timeout=30', 'endpoints hello [r0]']);
  });

  it('recomputes the share when peers come and go: subset, then split capacity, then whole again', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a1');
    feed.upsertFunction(hello, { containerConcurrency: 10, timeoutSeconds: 30 });
    feed.updateEndpoints({ key: hello, endpoints: replicas(2) });
    act.calls.length = 0;
    feed.setPeers(['a0', 'a1']);
    assert.deepEqual(act.calls, ['endpoints hello [r1]'], 'two replicas, two activators: one replica each at full cc');
    act.calls.length = 0;
    feed.setPeers(['a0', 'a1', 'a2']);
    assert.deepEqual(act.calls, ['upsert hello cc=3 timeout=30', 'endpoints hello [r0 r1]'], '2 replicas, 3 activators: cc 10 split 4/3/3');
    act.calls.length = 0;
    feed.setPeers(['a1']);
    assert.deepEqual(act.calls, ['upsert hello cc=10 timeout=30']);
  });

  it('unlimited functions are never cut down', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.setPeers(['a0', 'a1', 'a2']);
    feed.upsertFunction(hello, { containerConcurrency: 0 });
    feed.updateEndpoints({ key: hello, endpoints: replicas(2) });
    assert.deepEqual(act.calls, ['upsert hello cc=0 timeout=-', 'endpoints hello [r0 r1]']);
  });

  it('sends nothing when nothing this activator sees changed', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.setPeers(['a0', 'a1']);
    feed.upsertFunction(hello, { containerConcurrency: 2, timeoutSeconds: 30 });
    feed.updateEndpoints({ key: hello, endpoints: replicas(4) });
    act.calls.length = 0;
    // r3 belongs to a1; a0 keeps r0 and r2.
    feed.updateEndpoints({ key: hello, endpoints: replicas(4).map((e) => (e.id === 'r3' ? { ...e, host: '10.9.9.9' } : e)) });
    feed.upsertFunction(hello, { containerConcurrency: 2, timeoutSeconds: 30 });
    feed.setPeers(['a0', 'a1']);
    assert.deepEqual(act.calls, []);
  });

  it('tells the activator again when only portName changes (http1 → h2c)', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.upsertFunction(hello, { containerConcurrency: 2, timeoutSeconds: 30 });
    feed.upsertFunction(hello, { containerConcurrency: 2, timeoutSeconds: 30, portName: 'h2c' });
    feed.upsertFunction(hello, { containerConcurrency: 2, timeoutSeconds: 30, portName: 'h2c' });
    assert.deepEqual(act.calls, ['upsert hello cc=2 timeout=30', 'upsert hello cc=2 timeout=30 h2c']);
  });

  it('passes a failure on, and removes a function with its routes', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.upsertFunction(hello, { containerConcurrency: 1 });
    feed.updateEndpoints({ key: hello, endpoints: [], failure: { reason: 'ProgressDeadlineExceeded', message: 'no progress' } });
    feed.removeFunction(hello);
    feed.updateEndpoints({ key: hello, endpoints: replicas(1) });
    assert.deepEqual(act.calls, ['upsert hello cc=1 timeout=-', 'endpoints hello [] ProgressDeadlineExceeded', 'remove hello']);
  });
});

describe('ActivatorFeed: a function that cannot start, from its status', () => {
  const crash = { reason: 'CrashLoop', message: 'user-container exited with code 3' };

  it('fails waiting requests at once while no replica is ready, and clears when the status does', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 }, crash);
    feed.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 });
    assert.deepEqual(act.calls, ['upsert hello cc=1 timeout=30', 'endpoints hello [] CrashLoop', 'endpoints hello []']);
  });

  it('ignores it while old replicas still serve (a broken rollout), and applies it once they are gone', () => {
    const act = new RecordingActivator();
    const feed = new ActivatorFeed(act, 'a0');
    feed.updateEndpoints({ key: hello, endpoints: replicas(1) });
    feed.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 }, crash);
    feed.updateEndpoints({ key: hello, endpoints: [] });
    assert.deepEqual(act.calls, ['upsert hello cc=1 timeout=30', 'endpoints hello [r0]', 'endpoints hello [] CrashLoop']);
  });
});

describe('ActivatorFeed: retries and load balancing', () => {
  it('passes spec.retries and spec.loadBalancing on, and again when only they change', () => {
    const told: FunctionServing[] = [];
    const act: ActivatorRoutes = { upsertFunction: (_k, s) => void told.push(s), removeFunction: () => {}, updateEndpoints: () => {} };
    const feed = new ActivatorFeed(act, 'a0');
    const lb = { policy: 'consistentHash', consistentHash: { header: 'x-user' } } as const;
    feed.upsertFunction(hello, { containerConcurrency: 4, timeoutSeconds: 30, retryIdempotent: true, loadBalancing: lb });
    feed.upsertFunction(hello, { containerConcurrency: 4, timeoutSeconds: 30, retryIdempotent: true, loadBalancing: { ...lb } });
    feed.upsertFunction(hello, { containerConcurrency: 4, timeoutSeconds: 30, retryIdempotent: true, loadBalancing: { policy: 'leastRequest' } });
    feed.upsertFunction(hello, { containerConcurrency: 4, timeoutSeconds: 30, retryIdempotent: false, loadBalancing: { policy: 'leastRequest' } });
    assert.deepEqual(
      told.map((s) => [s.retryIdempotent, s.loadBalancing?.policy]),
      [
        [true, 'consistentHash'],
        [true, 'leastRequest'],
        [false, 'leastRequest'],
      ],
    );
  });
});
