// NATS's reachability in local mode: the verdict from the supervised server's state and
// the connection's status events (pure, table-driven), the watch on a real connection to
// a real nats-server that goes and comes back, and closing that connection within a bound
// while the server is gone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from 'nats';
import { natsProblem, NatsHealth, REASON_NATS_UNAVAILABLE, watchConnection, type NatsProblem, type NatsView } from '../../pkg/dev/nats-health.js';
import { closeNats } from '../../pkg/shared/nats-close.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startNatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';

const URL = 'nats://127.0.0.1:4222';
const since = new Date('2026-01-02T03:04:05Z');

describe('natsProblem', () => {
  const cases: Array<{ name: string; view: NatsView; want: RegExp | undefined }> = [
    { name: 'own server running, connected: fine', view: { url: URL, server: { type: 'running', pid: 7 }, connected: true }, want: undefined },
    { name: 'NATS_URL, connected: fine', view: { url: URL, connected: true }, want: undefined },
    {
      name: 'own server restarting: says it exited, how, and that it is being restarted',
      view: { url: URL, server: { type: 'restarting', exit: 'signal SIGKILL', attempt: 2, retryInMs: 500, since }, connected: false, downSince: since },
      want: /nats-server at nats:\/\/127\.0\.0\.1:4222 exited \(signal SIGKILL\); restarting it \(attempt 2, next try within 500 ms\)/,
    },
    {
      name: 'own server back, client not reconnected yet: still down',
      view: { url: URL, server: { type: 'running', pid: 8 }, connected: false, downSince: since },
      want: /NATS at nats:\/\/127\.0\.0\.1:4222 is unreachable since 2026-01-02T03:04:05\.000Z.*reconnects by itself/,
    },
    {
      name: 'NATS_URL unreachable: names the setting to check',
      view: { url: URL, connected: false, downSince: since },
      want: /unreachable since 2026-01-02T03:04:05\.000Z.*check that the server given by NATS_URL \(or --nats-url\) is running/,
    },
    { name: 'own server stopped', view: { url: URL, server: { type: 'stopped' }, connected: true }, want: /stopped/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = natsProblem(c.view);
      if (c.want === undefined) return assert.equal(p, undefined);
      assert.equal(p?.reason, REASON_NATS_UNAVAILABLE);
      assert.match(p?.message ?? '', c.want);
    });
  }
});

describe('NatsHealth', () => {
  it('calls its listeners when the verdict changes, not for repeats', () => {
    const health = new NatsHealth(URL, { type: 'running', pid: 1 }, () => since);
    const seen: Array<NatsProblem | undefined> = [];
    health.onChange((p) => seen.push(p));
    health.setConnected(true);
    health.setConnected(false);
    health.setConnected(false);
    health.setConnected(true);
    assert.equal(seen.length, 2);
    assert.match(seen[0]?.message ?? '', /unreachable since 2026-01-02/);
    assert.equal(seen[1], undefined);
    assert.equal(health.current(), undefined);
  });
});

describe('watchConnection and closeNats on a real nats-server', () => {
  it('reports NATS down when the server goes, up when it is back, and stops when told to', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const health = new NatsHealth(server.url);
    const stop = new AbortController();
    const watching = watchConnection(nc, health, quietLogger(), stop.signal);
    try {
      const changes: Array<NatsProblem | undefined> = [];
      health.onChange((p) => changes.push(p));
      await server.restart();
      await waitFor('down then up', () => changes.length >= 2 && health.current() === undefined, { timeoutMs: 15_000 });
      assert.equal(changes[0]?.reason, REASON_NATS_UNAVAILABLE);
    } finally {
      stop.abort();
      await watching;
      await nc.close();
      await server.stop();
    }
  });

  it('with the server gone: closeNats returns within its bound with the connection closed, and the watch ends', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const health = new NatsHealth(server.url);
    const stop = new AbortController();
    const watching = watchConnection(nc, health, quietLogger(), stop.signal);
    // Something to drain: a subscription and a publish buffered while disconnected.
    nc.subscribe('some.subject');
    await server.stop();
    await waitFor('the client to notice', () => health.current() !== undefined);
    nc.publish('some.subject');

    const t0 = performance.now();
    await closeNats(nc, quietLogger(), 1000);
    assert.ok(performance.now() - t0 < 2000, `closeNats took ${Math.round(performance.now() - t0)} ms`);
    assert.equal(nc.isClosed(), true, 'closed, so no reconnect loop keeps the process alive');
    stop.abort();
    await watching;
  });
});
