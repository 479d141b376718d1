// The events.k8s.io/v1 recorder: one Event per distinct occurrence, repeats counted into
// a series written at most every 30 s, floods dropped per object, nothing thrown to the
// caller. Against a counting sink with a hand-moved clock, the API server double, and a
// raw HTTP server that shows the exact bytes client-node sends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { KubernetesEventRecorder } from '../../pkg/controller/events/recorder.js';
import { kubernetesEventSink, type EventBody, type EventSink } from '../../pkg/controller/events/sink.js';
import { SERIES_FLUSH_MS, SERIES_WINDOW_MS, SPAM_BURST } from '../../pkg/controller/events/decide.js';
import type { EventSubject } from '../../pkg/controller/events/types.js';
import { FakeClock } from '../../pkg/shared/clock.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startApiServer } from '../kube/apiserver.js';

const hello: EventSubject = { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', namespace: 'default', name: 'hello', uid: 'uid-hello' };
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0, 0);

interface Patch {
  namespace: string;
  name: string;
  series: { count: number; lastObservedTime: string };
}

function countingSink(opts: { failCreate?: boolean } = {}) {
  const created: EventBody[] = [];
  const patches: Patch[] = [];
  const sink: EventSink = {
    create: (e) => {
      if (opts.failCreate) return Promise.reject(new Error('connection refused'));
      created.push(e);
      return Promise.resolve();
    },
    patchSeries: (namespace, name, series) => {
      patches.push({ namespace, name, series });
      return Promise.resolve('ok');
    },
  };
  return { sink, created, patches };
}

function recorderWith(sink: EventSink, clock: FakeClock, metrics?: Registry): KubernetesEventRecorder {
  return new KubernetesEventRecorder({ sink, clock, reportingController: 'kfn.dev/test', reportingInstance: 'test-pod', log: quietLogger(), checkIntervalMs: 0, ...(metrics ? { metrics } : {}) });
}

describe('events recorder: aggregation', () => {
  it('a reconcile loop repeating one occurrence makes one Event and a series patch every 30 s, not a write per repeat', async () => {
    const clock = new FakeClock(T0);
    const { sink, created, patches } = countingSink();
    const rec = recorderWith(sink, clock);
    rec.record(hello, 'Warning', 'InvalidSpec', 'Reconcile', 'spec.image: required');
    await rec.settled();
    // 100 repeats within 29 s: no write at all.
    for (let i = 0; i < 100; i++) {
      clock.advance(290);
      rec.record(hello, 'Warning', 'InvalidSpec', 'Reconcile', 'spec.image: required');
      rec.flushDue();
    }
    await rec.settled();
    assert.equal(created.length, 1);
    assert.equal(patches.length, 0);
    clock.set(T0 + SERIES_FLUSH_MS);
    rec.flushDue();
    await rec.settled();
    assert.equal(patches.length, 1);
    assert.deepEqual(patches[0], { namespace: 'default', name: created[0]!.metadata.name, series: { count: 101, lastObservedTime: '2026-12-03T12:00:29.000000Z' } });
    // Nothing new: no second patch.
    clock.advance(SERIES_FLUSH_MS);
    rec.flushDue();
    await rec.settled();
    assert.equal(patches.length, 1);
    await rec.close();
  });

  it('different notes, types or objects are separate Events', async () => {
    const clock = new FakeClock(T0);
    const { sink, created } = countingSink();
    const rec = recorderWith(sink, clock);
    rec.record(hello, 'Warning', 'ActivationFailed', 'Activate', 'ImagePullFailed: no such image');
    rec.record(hello, 'Warning', 'ActivationFailed', 'Activate', 'CrashLoop: exit 1');
    rec.record({ ...hello, name: 'other', uid: 'uid-other' }, 'Warning', 'ActivationFailed', 'Activate', 'CrashLoop: exit 1');
    rec.record(hello, 'Warning', 'ActivationFailed', 'Activate', 'CrashLoop: exit 1');
    await rec.close();
    assert.deepEqual(created.map((e) => `${e.regarding.name}: ${e.note}`), ['hello: ImagePullFailed: no such image', 'hello: CrashLoop: exit 1', 'other: CrashLoop: exit 1']);
    assert.equal(new Set(created.map((e) => e.metadata.name)).size, 3, 'names are unique even within one millisecond');
  });

  it('after 6 quiet minutes the same occurrence is a new Event', async () => {
    const clock = new FakeClock(T0);
    const { sink, created } = countingSink();
    const rec = recorderWith(sink, clock);
    rec.record(hello, 'Normal', 'ScaledToZero', 'Scale', 'no traffic');
    await rec.settled();
    clock.advance(SERIES_WINDOW_MS + 1);
    rec.flushDue();
    rec.record(hello, 'Normal', 'ScaledToZero', 'Scale', 'no traffic');
    await rec.close();
    assert.equal(created.length, 2);
  });

  it('close() writes the pending series count at once', async () => {
    const clock = new FakeClock(T0);
    const { sink, patches } = countingSink();
    const rec = recorderWith(sink, clock);
    rec.record(hello, 'Normal', 'ScaledFromZero', 'Scale', 'a request arrived');
    await rec.settled();
    clock.advance(1000);
    rec.record(hello, 'Normal', 'ScaledFromZero', 'Scale', 'a request arrived');
    rec.record(hello, 'Normal', 'ScaledFromZero', 'Scale', 'a request arrived');
    await rec.close();
    assert.deepEqual(patches.map((p) => p.series.count), [3]);
    rec.record(hello, 'Normal', 'ScaledFromZero', 'Scale', 'after close');
    await rec.settled();
  });

  it('keeps at most 4096 keys: a stream of distinct notes cannot grow memory without bound', async () => {
    const clock = new FakeClock(T0);
    const { sink } = countingSink();
    const rec = recorderWith(sink, clock);
    for (let i = 0; i < 5000; i++) rec.record({ ...hello, name: `fn-${i}`, uid: `u${i}` }, 'Normal', 'X', 'Y', `note ${i}`);
    await rec.settled();
    const inside = rec as unknown as { series: Map<string, unknown>; buckets: Map<string, unknown> };
    assert.equal(inside.series.size, 4096);
    assert.equal(inside.buckets.size, 4096);
    await rec.close();
  });
});

describe('events recorder: spam filter and failures', () => {
  it('drops a flood of distinct events about one object after 25, counts the drops, and lets other objects through', async () => {
    const clock = new FakeClock(T0);
    const { sink, created } = countingSink();
    const metrics = new Registry();
    const rec = recorderWith(sink, clock, metrics);
    for (let i = 0; i < 40; i++) rec.record(hello, 'Warning', 'Failed', 'Reconcile', `attempt ${i}`);
    rec.record({ ...hello, name: 'other', uid: 'u-o' }, 'Warning', 'Failed', 'Reconcile', 'attempt 0');
    await rec.settled();
    assert.equal(created.filter((e) => e.regarding.name === 'hello').length, SPAM_BURST);
    assert.equal(created.filter((e) => e.regarding.name === 'other').length, 1);
    const text = await metrics.metrics();
    assert.match(text, /kfn_events_dropped_total\{reason="rate_limited"\} 15/);
    // Five minutes on, one more gets through.
    clock.advance(5 * 60_000);
    rec.record(hello, 'Warning', 'Failed', 'Reconcile', 'attempt 40');
    await rec.close();
    assert.equal(created.filter((e) => e.regarding.name === 'hello').length, SPAM_BURST + 1);
  });

  it('never throws to the caller when the API server is unreachable, and tries again on the next occurrence', async () => {
    const clock = new FakeClock(T0);
    const { sink, created } = countingSink({ failCreate: true });
    const rec = recorderWith(sink, clock);
    assert.doesNotThrow(() => rec.record(hello, 'Normal', 'Created', 'Apply', 'x'));
    await rec.settled();
    const inside = rec as unknown as { series: Map<string, unknown> };
    assert.equal(inside.series.size, 0, 'a failed create is forgotten');
    assert.equal(created.length, 0);
    await rec.close();
  });
});

describe('events recorder: against the API server double', () => {
  it('creates an events.k8s.io/v1 Event and patches its series', async () => {
    const server = await startApiServer();
    try {
      const clock = new FakeClock(T0);
      const rec = recorderWith(kubernetesEventSink(server.kubeConfig()), clock);
      rec.record(hello, 'Normal', 'ScaledFromZero', 'Scale', 'cold start: a request is waiting and no replica is ready');
      await rec.settled();
      const [ev] = server.store.list('events.events.k8s.io', 'default');
      assert.ok(ev);
      const e = ev as unknown as EventBody & { apiVersion: string };
      assert.equal(e.apiVersion, 'events.k8s.io/v1');
      assert.equal(e.reason, 'ScaledFromZero');
      assert.deepEqual(e.regarding, { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', namespace: 'default', name: 'hello', uid: 'uid-hello' });
      clock.advance(1_000);
      rec.record(hello, 'Normal', 'ScaledFromZero', 'Scale', 'cold start: a request is waiting and no replica is ready');
      await rec.close();
      const after = server.store.get('events.events.k8s.io', 'default', e.metadata.name) as unknown as EventBody;
      assert.deepEqual(after.series, { count: 2, lastObservedTime: '2026-12-03T12:00:01.000000Z' });
      assert.equal(server.store.list('events.events.k8s.io', 'default').length, 1);
    } finally {
      await server.close();
    }
  });

  it('an Event deleted by its TTL before the series is written is not an error, and the next occurrence makes a new one', async () => {
    const server = await startApiServer();
    try {
      const clock = new FakeClock(T0);
      const rec = recorderWith(kubernetesEventSink(server.kubeConfig()), clock);
      rec.record(hello, 'Normal', 'ScaledToZero', 'Scale', 'idle');
      await rec.settled();
      const [ev] = server.store.list('events.events.k8s.io', 'default');
      server.store.delete('events.events.k8s.io', 'default', ev!.metadata.name);
      rec.record(hello, 'Normal', 'ScaledToZero', 'Scale', 'idle');
      clock.advance(SERIES_FLUSH_MS);
      rec.flushDue();
      await rec.settled();
      assert.equal(server.store.list('events.events.k8s.io', 'default').length, 0);
      rec.record(hello, 'Normal', 'ScaledToZero', 'Scale', 'idle');
      await rec.close();
      assert.equal(server.store.list('events.events.k8s.io', 'default').length, 1);
    } finally {
      await server.close();
    }
  });
});

describe('events recorder: on the wire', () => {
  it('sends what events.k8s.io/v1 validation requires: MicroTime with 6 digits, reportingController/Instance, action, a merge patch of series only', async () => {
    const seen: { method: string; url: string; type: string; body: Record<string, unknown> }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'] ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json' });
        res.end(text || '{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const kc = new KubeConfig();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      kc.loadFromOptions({ clusters: [{ name: 'c', server: url, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
      const clock = new FakeClock(Date.UTC(2006, 0, 2, 15, 4, 5, 7));
      const rec = recorderWith(kubernetesEventSink(kc), clock);
      rec.record(hello, 'Warning', 'ActivationFailed', 'Activate', 'x'.repeat(2000));
      await rec.settled();
      clock.advance(SERIES_FLUSH_MS);
      rec.record(hello, 'Warning', 'ActivationFailed', 'Activate', 'x'.repeat(2000));
      rec.flushDue();
      await rec.close();

      assert.equal(seen.length, 2);
      const [post, patch] = seen;
      assert.equal(post!.method, 'POST');
      assert.equal(post!.url, '/apis/events.k8s.io/v1/namespaces/default/events');
      const b = post!.body;
      assert.equal(b.apiVersion, 'events.k8s.io/v1');
      assert.equal(b.kind, 'Event');
      assert.equal(b.eventTime, '2006-01-02T15:04:05.007000Z');
      assert.match(String(b.eventTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/);
      assert.equal(b.reportingController, 'kfn.dev/test');
      assert.equal(b.reportingInstance, 'test-pod');
      assert.equal(b.action, 'Activate');
      assert.equal(b.type, 'Warning');
      assert.ok(Buffer.byteLength(String(b.note)) <= 1024, 'note ≤ 1 kB');
      assert.match(String((b.metadata as { name: string }).name), /^hello\.[0-9a-f]+$/);
      assert.equal((b.metadata as { namespace: string }).namespace, 'default');
      for (const legacy of ['firstTimestamp', 'lastTimestamp', 'count', 'source', 'series']) assert.equal(b[legacy], undefined, `${legacy} must be unset on create`);

      assert.equal(patch!.method, 'PATCH');
      assert.equal(patch!.url, `/apis/events.k8s.io/v1/namespaces/default/events/${(b.metadata as { name: string }).name}`);
      assert.equal(patch!.type, 'application/merge-patch+json');
      assert.deepEqual(patch!.body, { series: { count: 2, lastObservedTime: '2006-01-02T15:04:35.007000Z' } });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
