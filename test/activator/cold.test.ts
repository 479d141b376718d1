// A function with no ready replica: requests wait, the autoscaler is poked, and every
// waiting request ends with the function's answer or a clear 503/504.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '../util/wait.js';
import { codeOf, hello, hostOf, messageOf, send, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

describe('cold start', () => {
  let h: Harness;
  const replicas: TestReplica[] = [];
  beforeEach(async () => {
    h = await startActivator({ maxQueue: 3, retryAfterSeconds: 2 });
  });
  afterEach(async () => {
    await h.close();
    for (const r of replicas.splice(0)) await r.close();
  });

  it('buffers requests until endpoints appear, then serves them all; pokes once', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const pending = [1, 2, 3].map((i) => send(h.port, { path: `/n${i}`, headers: { host: hostOf(hello) } }));
    await waitFor('a poke', () => h.sink.pokes.length > 0);
    assert.deepEqual(h.sink.pokes, [hello]);
    const replica = await startReplica('r1');
    replicas.push(replica);
    h.act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
    const replies = await Promise.all(pending);
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
    assert.deepEqual(replies.map((r) => r.json().url).sort(), ['/n1', '/n2', '/n3']);
    assert.equal(h.sink.pokes.length, 1, 'one poke for the whole cold spell');
    const metrics = await h.registry.metrics();
    assert.match(metrics, /kfn_activator_cold_start_seconds_count\{namespace="default",name="hello"\} 1/);
    assert.match(metrics, /kfn_activator_requests_total\{namespace="default",name="hello",code="200"\} 3/);
  });

  it('answers 503 with Retry-After past the queue bound, naming the function', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const waiting = [1, 2, 3].map(() => send(h.port, { path: '/default/hello/' }));
    await waitFor('three queued', async () => /kfn_activator_queue_depth\{namespace="default",name="hello"\} 3/.test(await h.registry.metrics()));
    const over = await send(h.port, { path: '/default/hello/' });
    assert.equal(over.status, 503);
    assert.equal(over.headers['retry-after'], '2');
    assert.equal(codeOf(over), 'queue_full');
    assert.match(messageOf(over), /function default\/hello/);
    const replica = await startReplica('r1');
    replicas.push(replica);
    h.act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
    assert.deepEqual((await Promise.all(waiting)).map((r) => r.status), [200, 200, 200]);
  });

  it('answers 504 naming the function when it does not become ready within its timeout', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 0.2 });
    const r = await send(h.port, { path: '/default/hello/' });
    assert.equal(r.status, 504);
    assert.deepEqual(r.json(), { error: { code: 'activation_timeout', message: 'function default/hello did not become ready within 0.2s' } });
  });

  it('fails waiting and new requests fast with 503 naming the reason while activation fails', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 300 });
    const waiting = [send(h.port, { path: '/default/hello/' }), send(h.port, { path: '/default/hello/' })];
    await waitFor('a poke', () => h.sink.pokes.length > 0);
    const started = Date.now();
    h.act.updateEndpoints({ key: hello, endpoints: [], failure: { reason: 'ExitedAtStart', message: 'exit code 1: Cannot find module index.js' } });
    const replies = await Promise.all(waiting);
    for (const r of replies) {
      assert.equal(r.status, 503);
      assert.equal(codeOf(r), 'activation_failed');
      assert.match(messageOf(r), /default\/hello.*ExitedAtStart: exit code 1: Cannot find module index\.js/);
    }
    assert.ok(Date.now() - started < 5000, 'failed fast, not at the 300 s timeout');
    const fresh = await send(h.port, { path: '/default/hello/' });
    assert.equal(fresh.status, 503);
    assert.equal(codeOf(fresh), 'activation_failed');

    const replica = await startReplica('r1');
    replicas.push(replica);
    h.act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
    assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200, 'served again once a replica is ready');
  });

  it('drops a waiting request whose client disconnected', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const abort = new AbortController();
    const gone = send(h.port, { path: '/default/hello/gone', signal: abort.signal }).catch((err: unknown) => err);
    await waitFor('queued', async () => /queue_depth\{namespace="default",name="hello"\} 1/.test(await h.registry.metrics()));
    abort.abort();
    await gone;
    await waitFor('dequeued', async () => /queue_depth\{namespace="default",name="hello"\} 0/.test(await h.registry.metrics()));
    const replica = await startReplica('r1');
    replicas.push(replica);
    h.act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
    assert.equal((await send(h.port, { path: '/default/hello/kept' })).status, 200);
    assert.deepEqual(replica.seen.map((s) => s.url), ['/kept'], 'the abandoned request never reached the replica');
    assert.match(await h.registry.metrics(), /requests_total\{namespace="default",name="hello",code="499"\} 1/);
  });

  it('answers 503 to requests waiting for a function that is removed', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const waiting = send(h.port, { path: '/default/hello/' });
    await waitFor('a poke', () => h.sink.pokes.length > 0);
    h.act.removeFunction(hello);
    const r = await waiting;
    assert.equal(r.status, 503);
    assert.deepEqual(r.json(), { error: { code: 'function_removed', message: 'function default/hello was removed' } });
  });
});
