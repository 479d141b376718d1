// activator.call: a caller in the same process (kfn dev's dispatcher) takes the same way
// as an HTTP request — queue while cold, containerConcurrency, the proxy, stats — and
// gets the answer, or the activator's error as a response, in memory.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { CallResult, CollectedResponse } from '../../pkg/activator/activator.js';
import { makeEvent } from '../../pkg/events/cloudevents/event.js';
import { activatorDeliverer } from '../../pkg/dev/deliver-local.js';
import { waitFor } from '../util/wait.js';
import { hello, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

function ok(r: CallResult): CollectedResponse {
  assert.ok('status' in r, `a response, not ${JSON.stringify(r)}`);
  return r;
}

const post = (path: string, body = '{"a":1}') => ({ method: 'POST', path, headers: { 'content-type': 'application/json', 'ce-id': '1' }, body: Buffer.from(body) });

describe('activator.call', () => {
  let h: Harness;
  const replicas: TestReplica[] = [];
  beforeEach(async () => {
    h = await startActivator({ maxQueue: 50 });
  });
  afterEach(async () => {
    await h.close();
    for (const r of replicas.splice(0)) await r.close();
  });
  const replica = async (name: string): Promise<TestReplica> => {
    const r = await startReplica(name);
    replicas.push(r);
    return r;
  };

  it('waits while the function is cold (poking the autoscaler), then relays the answer with its headers and body', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const pending = h.act.call(hello, post('/orders?echo', 'payload'));
    await waitFor('a poke', () => h.sink.pokes.length > 0);
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    const res = ok(await pending);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-replica'], 'r1');
    assert.equal(res.body.toString(), 'payload');
    const seen = r1.seen[0];
    assert.equal(seen?.headers.host, 'hello.default.kfn.local');
    assert.equal(seen?.headers['content-length'], '7');
    assert.equal(seen?.headers['ce-id'], '1');
    assert.match(await h.registry.metrics(), /kfn_activator_requests_total\{namespace="default",name="hello",code="200"\} 1/);
  });

  it('never gives a replica more than containerConcurrency calls at once', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 2, timeoutSeconds: 30 });
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => h.act.call(hello, post(`/n${i}?sleep=20`))));
    assert.deepEqual(results.map((r) => ok(r).status), Array(10).fill(200));
    assert.equal(r1.maxInFlight, 2);
  });

  it('answers an unknown function with a 404 response naming it', async () => {
    const res = ok(await h.act.call({ namespace: 'default', name: 'nope' }, post('/')));
    assert.equal(res.status, 404);
    assert.match(res.body.toString(), /function default\/nope not found/);
  });

  it('cuts a call at its timeout and frees the slot for the next one', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 });
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    assert.deepEqual(await h.act.call(hello, { ...post('/?hold'), timeoutMs: 50 }), { error: 'timeout' });
    const next = ok(await h.act.call(hello, post('/after')));
    assert.equal(next.status, 200);
  });

  it('activatorDeliverer maps answers and cuts as the delivery policy reads them', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    const deliver = activatorDeliverer(h.act);
    const event = makeEvent({ specversion: '1.0', id: 'e-1', type: 't', source: 's' }, Buffer.from('{"n":1}'));
    const signal = new AbortController().signal;
    const delivered = await deliver({ key: hello, path: '/hook', event, timeoutMs: 5000, signal });
    assert.ok('status' in delivered && delivered.status === 200);
    assert.equal(r1.seen.at(-1)?.headers['ce-id'], 'e-1');
    assert.equal(r1.seen.at(-1)?.url, '/hook');
    assert.deepEqual(await deliver({ key: hello, path: '/?hold', event, timeoutMs: 30, signal }), { error: 'timeout' });
    const stopping = new AbortController();
    const cut = deliver({ key: hello, path: '/?hold', event, timeoutMs: 5000, signal: stopping.signal });
    stopping.abort();
    assert.deepEqual(await cut, { error: 'dispatcher shutting down' });
  });
});
