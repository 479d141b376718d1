// Shutting down: in-flight requests finish, waiting ones get a clear 503, nothing hangs.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { createActivator, listenActivator } from '../../pkg/activator/activator.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { waitFor } from '../util/wait.js';
import { codeOf, hello, messageOf, RecordingSink, send, startReplica } from './helpers.js';

describe('shutdown', () => {
  it('lets in-flight requests finish, fails waiting ones with 503 after the drain timeout, then refuses connections', async () => {
    const act = createActivator({ log: quietLogger(), statSink: new RecordingSink(), options: { drainTimeoutMs: 200 } });
    const listening = await listenActivator(act, { port: 0, host: '127.0.0.1', closeGraceMs: 5000 });
    const replica = await startReplica('r1');
    const cold = { namespace: 'default', name: 'cold' };
    act.upsertFunction(hello, {});
    act.upsertFunction(cold, { timeoutSeconds: 60 });
    act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
    const held = send(listening.port, { path: '/default/hello/?hold' });
    const waiting = send(listening.port, { path: '/default/cold/' });
    await waitFor('held at the replica', () => replica.inFlight === 1);

    const actClosed = act.close();
    const refused = await send(listening.port, { path: '/default/hello/' });
    assert.equal(refused.status, 503);
    assert.equal(codeOf(refused), 'shutting_down');

    const w = await waiting;
    assert.equal(w.status, 503);
    assert.match(messageOf(w), /shutting down.*default\/cold/);
    replica.openGate();
    assert.equal((await held).status, 200, 'the in-flight request finished');
    assert.equal(replica.seen.length, 1, 'and was not cut and sent again');
    await actClosed;
    await listening.close();
    await assert.rejects(send(listening.port, { path: '/default/hello/' }), /ECONNREFUSED/);
    await replica.close();
  });

  it('closing the server waits for an in-flight keep-alive request, then closes without waiting out the grace', async () => {
    const act = createActivator({ log: quietLogger(), statSink: new RecordingSink() });
    const listening = await listenActivator(act, { port: 0, host: '127.0.0.1', closeGraceMs: 60_000 });
    const replica = await startReplica('r1');
    act.upsertFunction(hello, {});
    act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await send(listening.port, { path: '/default/hello/', agent })).status, 200);
    const held = send(listening.port, { path: '/default/hello/?hold', agent });
    await waitFor('held at the replica', () => replica.inFlight === 1);
    const started = Date.now();
    const closing = listening.close();
    replica.openGate();
    assert.equal((await held).status, 200);
    await closing;
    assert.ok(Date.now() - started < 10_000, 'closed once the connection fell idle');
    agent.destroy();
    await act.close();
    await replica.close();
  });

  it('closes the server when its signal aborts', async () => {
    const act = createActivator({ log: quietLogger(), statSink: new RecordingSink() });
    const stop = new AbortController();
    const listening = await listenActivator(act, { port: 0, host: '127.0.0.1' }, stop.signal);
    assert.equal((await send(listening.port, { path: '/x/y/' })).status, 404);
    stop.abort();
    await listening.close();
    await assert.rejects(send(listening.port, { path: '/x/y/' }), /ECONNREFUSED/);
    await act.close();
  });
});
