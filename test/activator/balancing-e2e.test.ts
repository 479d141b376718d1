// spec.loadBalancing end to end: the real activator on a port, real replicas on port 0,
// requests over HTTP. consistentHash keeps a header's or a cookie's value on one replica;
// outlier detection takes a replica answering 5xx (or cutting connections) out of the
// rotation, and brings it back after the ejection time, moved by an injected clock.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../../pkg/shared/clock.js';
import { codeOf, hello, send, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

interface Counting {
  port: number;
  /** Requests (or connections, for a cutter) it got. */
  readonly count: number;
  close(): Promise<void>;
}

/** A replica that answers every request with `status`. */
async function answering(status: number): Promise<Counting> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    req.resume();
    res.writeHead(status, { 'x-replica': `answers-${status}` }).end('broken');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get count() {
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A replica process that accepts connections and cuts each one at once, answering nothing. */
async function cutting(): Promise<Counting> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get count() {
      return count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('load-balancing policies through the activator', () => {
  let h: Harness;
  let clock: FakeClock;
  const replicas: TestReplica[] = [];
  const others: Counting[] = [];
  beforeEach(async () => {
    clock = new FakeClock(Date.now());
    h = await startActivator({}, clock);
  });
  afterEach(async () => {
    await h.close();
    for (const r of replicas.splice(0)) await r.close();
    for (const o of others.splice(0)) await o.close();
  });
  async function three(): Promise<TestReplica[]> {
    const rs = await Promise.all(['r1', 'r2', 'r3'].map((n) => startReplica(n)));
    replicas.push(...rs);
    h.act.updateEndpoints({ key: hello, endpoints: rs.map((r) => r.endpoint()) });
    return rs;
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const replicaOf = async (headers: Record<string, string>): Promise<string> => {
    const r = await send(h.port, { path: '/default/hello/', headers, agent });
    assert.equal(r.status, 200, r.text);
    return String(r.headers['x-replica']);
  };

  it('keeps each x-user header value on one replica across requests, and spreads the values', async () => {
    h.act.upsertFunction(hello, { loadBalancing: { policy: 'consistentHash', consistentHash: { header: 'X-User' } } });
    await three();
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const home = new Map<string, string>();
    for (let round = 0; round < 5; round++) {
      for (const user of users) {
        const got = await replicaOf({ 'x-user': user });
        if (round === 0) home.set(user, got);
        else assert.equal(got, home.get(user), `${user} moved from ${home.get(user)} to ${got} in round ${round}`);
      }
    }
    assert.ok(new Set(home.values()).size >= 2, `12 users over 3 replicas used ${[...new Set(home.values())].join(', ')}`);
  });

  it('keeps a session cookie on one replica, and when a replica leaves moves only the sessions it had', async () => {
    h.act.upsertFunction(hello, { loadBalancing: { policy: 'consistentHash', consistentHash: { cookie: 'session' } } });
    const rs = await three();
    const sessions = Array.from({ length: 12 }, (_, i) => `s${i}`);
    const home = new Map<string, string>();
    for (const s of sessions) home.set(s, await replicaOf({ cookie: `theme=dark; session=${s}` }));
    for (const s of sessions) assert.equal(await replicaOf({ cookie: `session=${s}; theme=dark` }), home.get(s));
    const leaving = home.get('s0') as string;
    h.act.updateEndpoints({ key: hello, endpoints: rs.filter((r) => r.name !== leaving).map((r) => r.endpoint()) });
    for (const s of sessions) {
      const now = await replicaOf({ cookie: `session=${s}` });
      if (home.get(s) === leaving) assert.notEqual(now, leaving);
      else assert.equal(now, home.get(s), `${s} stayed on ${home.get(s)}`);
    }
  });

  it('keeps each client address on one replica (clients on 127.0.0.1 to 127.0.0.12)', async () => {
    h.act.upsertFunction(hello, { loadBalancing: { policy: 'consistentHash', consistentHash: { clientAddress: true } } });
    await three();
    const home = new Map<string, string>();
    for (let i = 1; i <= 12; i++) {
      const from = new http.Agent({ keepAlive: false, localAddress: `127.0.0.${i}` });
      const seen = new Set<string>();
      for (let k = 0; k < 4; k++) {
        const r = await send(h.port, { path: '/default/hello/', agent: from });
        assert.equal(r.status, 200, r.text);
        seen.add(String(r.headers['x-replica']));
      }
      from.destroy();
      assert.equal(seen.size, 1, `127.0.0.${i} went to ${[...seen].join(', ')}`);
      home.set(`127.0.0.${i}`, [...seen][0] as string);
    }
    assert.ok(new Set(home.values()).size >= 2, 'the addresses spread over the replicas');
  });

  it('takes a replica answering 500 out after 3 in a row, and back after baseEjectionTime', async () => {
    h.act.upsertFunction(hello, {
      containerConcurrency: 4, // round robin: every replica in turn
      loadBalancing: { outlierDetection: { consecutive5xx: 3, baseEjectionTime: '30s', maxEjectionPercent: 50 } },
    });
    const good = await startReplica('good');
    replicas.push(good);
    const bad = await answering(500);
    others.push(bad);
    h.act.updateEndpoints({ key: hello, endpoints: [good.endpoint(), { id: 'bad', host: '127.0.0.1', port: bad.port }] });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await send(h.port, { path: '/default/hello/', agent })).status);
    assert.equal(bad.count, 3, 'the bad replica got three requests, then none');
    assert.equal(statuses.filter((s) => s === 500).length, 3);
    clock.advance(29_000);
    for (let i = 0; i < 5; i++) assert.equal((await send(h.port, { path: '/default/hello/', agent })).status, 200);
    assert.equal(bad.count, 3, 'still out at 29 s');
    clock.advance(1_000);
    for (let i = 0; i < 10; i++) await send(h.port, { path: '/default/hello/', agent });
    assert.equal(bad.count, 6, 'back at 30 s, and out again after three more 500s (for 60 s now)');
    clock.advance(59_000);
    for (let i = 0; i < 5; i++) await send(h.port, { path: '/default/hello/', agent });
    assert.equal(bad.count, 6, 'the second ejection lasts 60 s');
  });

  it('takes a replica that cuts every connection out after 3 failed connections: it is not asked again', async () => {
    h.act.upsertFunction(hello, {
      containerConcurrency: 1, // first available: the cutter is asked first while it is in
      loadBalancing: { outlierDetection: { consecutive5xx: 3, maxEjectionPercent: 50 } },
    });
    const cutter = await cutting();
    others.push(cutter);
    const good = await startReplica('good');
    replicas.push(good);
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 'cutter', host: '127.0.0.1', port: cutter.port }, good.endpoint()] });
    const replies = [];
    for (let i = 0; i < 10; i++) replies.push(await send(h.port, { path: '/default/hello/' }));
    // Each cut either beat undici's write (nothing written: retried on the good replica,
    // 200) or came after it (not provably unseen: 502 replica_reset); either way it counts.
    for (const r of replies.slice(0, 3)) assert.ok(r.status === 200 || codeOf(r) === 'replica_reset', `${r.status} ${r.text}`);
    assert.deepEqual(replies.slice(3).map((r) => r.status), [200, 200, 200, 200, 200, 200, 200]);
    assert.equal(cutter.count, 3);
  });

  it('never takes the only replica out, however it fails', async () => {
    h.act.upsertFunction(hello, { loadBalancing: { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 } } });
    const bad = await answering(503);
    others.push(bad);
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 'bad', host: '127.0.0.1', port: bad.port }] });
    for (let i = 0; i < 5; i++) assert.equal((await send(h.port, { path: '/default/hello/', agent })).status, 503);
    assert.equal(bad.count, 5);
  });
});
