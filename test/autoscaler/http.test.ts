// Stats over HTTP against a real server on port 0: what activators on a cluster send
// arrives at the autoscaler's StatSink, batched; bad batches are refused whole.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import fc from 'fast-check';
import { buildStatServer, HttpStatSink, MAX_STAT_VALUE, statsProblems } from '../../pkg/autoscaler/http.js';
import type { ConcurrencyStat, DemandNow, StatSink } from '../../pkg/autoscaler/stats.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { waitFor } from '../util/wait.js';

class RecordingSink implements StatSink {
  readonly stats: ConcurrencyStat[] = [];
  readonly pokes: FunctionKey[] = [];
  readonly demands: (DemandNow | undefined)[] = [];
  record(stat: ConcurrencyStat): void {
    this.stats.push(stat);
  }
  poke(key: FunctionKey, demand?: DemandNow): void {
    this.pokes.push(key);
    this.demands.push(demand);
  }
}

const stat = (name: string, averageConcurrency: number, time = 1_700_000_000_000): ConcurrencyStat => ({
  key: { namespace: 'default', name },
  source: 'activator-1',
  averageConcurrency,
  requestCount: 3,
  requestsPerSecond: 3,
  time,
});

describe('stat server and HttpStatSink', () => {
  let app: FastifyInstance;
  let url: string;
  let sink: RecordingSink;
  let posts = 0;
  /** The next this-many /stats or /poke/default/away requests get a 503, as while no leader listens. */
  let failing = 0;
  const failed: string[] = [];

  before(async () => {
    sink = new RecordingSink();
    app = buildStatServer(sink);
    app.addHook('onRequest', (req, reply, done) => {
      if (failing > 0 && (req.url === '/stats' || req.url === '/poke/default/away')) {
        failing--;
        failed.push(req.url);
        void reply.code(503).send({ error: 'NoLeader' });
        return;
      }
      if (req.url === '/stats') posts++;
      done();
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    assert.ok(addr && typeof addr === 'object');
    url = `http://127.0.0.1:${addr.port}`;
  });

  after(async () => {
    await app.close();
  });

  test('record() calls within an interval arrive as one POST, in order', async () => {
    const client = new HttpStatSink(url, { log: quietLogger(), intervalMs: 20 });
    const before = { posts, stats: sink.stats.length };
    client.record(stat('a', 1));
    client.record(stat('b', 2));
    client.record(stat('c', 3));
    await waitFor('three stats at the server', () => sink.stats.length >= before.stats + 3);
    assert.deepEqual(
      sink.stats.slice(before.stats).map((s) => [s.key.name, s.averageConcurrency]),
      [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ],
    );
    assert.equal(posts - before.posts, 1);
    await client.close();
  });

  test('poke() reaches the sink at once; a burst for one function is one poke', async () => {
    const client = new HttpStatSink(url, { log: quietLogger(), intervalMs: 60_000 });
    const before = sink.pokes.length;
    for (let i = 0; i < 10; i++) client.poke({ namespace: 'default', name: 'cold' });
    await waitFor('the poke at the server', () => sink.pokes.length > before);
    await client.close();
    assert.deepEqual(sink.pokes.slice(before), [{ namespace: 'default', name: 'cold' }]);
  });

  test('close() posts what is still buffered', async () => {
    const client = new HttpStatSink(url, { log: quietLogger(), intervalMs: 60_000 });
    const before = sink.stats.length;
    client.record(stat('late', 7));
    await client.close();
    assert.equal(sink.stats.length, before + 1);
    client.record(stat('after-close', 1));
    assert.equal(sink.stats.length, before + 1);
  });

  test('an unreachable autoscaler is logged, never thrown or left as an unhandled rejection', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    const client = new HttpStatSink('http://127.0.0.1:1', { log, intervalMs: 10, timeoutMs: 1000 });
    client.record(stat('lost', 1));
    await waitFor('the failure to be logged', () => lines.some((l) => l.includes('posting stats to the autoscaler failed')));
    await client.close();
  });

  test('while the autoscaler is away (a failover), failed stats are kept for the next post and a failed poke is retried until taken', async () => {
    failing = 3;
    const client = new HttpStatSink(url, { log: quietLogger(), intervalMs: 20 });
    const before = { stats: sink.stats.length, pokes: sink.pokes.length };
    client.record(stat('kept', 4));
    client.poke({ namespace: 'default', name: 'away' });
    await waitFor('the poke taken after failures', () => sink.pokes.length > before.pokes, { timeoutMs: 10_000 });
    await waitFor('the stat delivered after failures', () => sink.stats.slice(before.stats).some((s) => s.key.name === 'kept'), { timeoutMs: 10_000 });
    await client.close();
    assert.equal(failing, 0, `three requests failed first: ${failed.join(', ')}`);
    assert.deepEqual(sink.pokes.slice(before.pokes), [{ namespace: 'default', name: 'away' }]);
    assert.equal(sink.stats.slice(before.stats).filter((s) => s.key.name === 'kept').length, 1, 'kept once, not duplicated');
  });

  test('a poke that hangs (the Service still names a lost node) is given up after the poke timeout and sent again', async () => {
    // A router to "the Service": first a black hole that accepts and never answers (a
    // dead leader's address), then the real server (the new leader).
    const sockets: Socket[] = [];
    const blackhole = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const realPort = Number(new URL(url).port);
    let target = (blackhole.address() as AddressInfo).port;
    let heldPokes = 0;
    const router = createServer((client) => {
      if (target !== realPort) heldPokes++;
      const upstream = tcpConnect(target, '127.0.0.1');
      sockets.push(client, upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
    const client = new HttpStatSink(`http://127.0.0.1:${(router.address() as AddressInfo).port}`, { log: quietLogger(), pokeTimeoutMs: 200, timeoutMs: 60_000 });
    const before = sink.pokes.length;
    try {
      client.poke({ namespace: 'default', name: 'hung' });
      await waitFor('the poke held by the black hole', () => heldPokes > 0);
      target = realPort;
      await waitFor('the poke sent again and taken', () => sink.pokes.length > before, { timeoutMs: 5000 });
      assert.deepEqual(sink.pokes.slice(before), [{ namespace: 'default', name: 'hung' }]);
    } finally {
      await client.close();
      for (const sock of sockets) sock.destroy();
      await Promise.all([blackhole, router].map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
    }
  });

  test('a bad batch is refused with 400 naming the field, and nothing is recorded', async () => {
    const before = sink.stats.length;
    const res = await fetch(`${url}/stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([stat('ok', 1), { ...stat('bad', 1), averageConcurrency: -2 }, { key: { namespace: 'default' } }]),
    });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { code: string; message: string; problems: string[] } };
    assert.equal(error.code, 'invalid_stats');
    assert.match(error.message, /\[1\]\.averageConcurrency: must be a number from 0 to 10000000/);
    assert.match(error.message, /\[2\]\.key\.name: must be a non-empty string/);
    assert.equal(error.problems.length, 2);
    assert.equal(sink.stats.length, before);
  });

  test('requestsPerSecond travels with the stat, and a hostile one written as JSON (1e999 parses as Infinity, 1e300, -1) refuses the batch', async () => {
    const client = new HttpStatSink(url, { log: quietLogger(), intervalMs: 20 });
    const before = sink.stats.length;
    client.record({ ...stat('rps', 1), requestCount: 250, requestsPerSecond: 250 });
    await waitFor('the stat at the server', () => sink.stats.length > before);
    await client.close();
    assert.equal(sink.stats.at(-1)?.requestsPerSecond, 250);
    for (const raw of ['1e999', '1e300', '-1', '"5"', 'null']) {
      const body = JSON.stringify([stat('ok', 1)]).replace('"requestsPerSecond":3', `"requestsPerSecond":${raw}`);
      assert.ok(body.includes(raw), body);
      const res = await fetch(`${url}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 400, raw);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /\[0\]\.requestsPerSecond: must be a number from 0 to 10000000/, raw);
    }
    assert.equal(sink.stats.length, before + 1);
  });

  test('a body that is not an array is refused with 400', async () => {
    const res = await fetch(`${url}/stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'x' }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /JSON array/);
  });

  test('a poke carries the demand; demands that come while one is in flight are sent after it, the latest only', async () => {
    const client = new HttpStatSink(url, { log: quietLogger(), intervalMs: 60_000 });
    const before = sink.pokes.length;
    const demand = (concurrency: number): DemandNow => ({ source: 'activator-1', concurrency, requestsPerSecond: concurrency * 10, time: 1_700_000_000_000 + concurrency });
    client.poke({ namespace: 'default', name: 'surging' }, demand(2));
    client.poke({ namespace: 'default', name: 'surging' }, demand(4));
    client.poke({ namespace: 'default', name: 'surging' }, demand(50));
    await waitFor('two pokes at the server', () => sink.pokes.length >= before + 2);
    await client.close();
    assert.deepEqual(sink.demands.slice(before), [demand(2), demand(50)]);
  });

  test('a poke with a hostile demand is refused with 400 naming the field, and pokes nothing', async () => {
    const before = sink.pokes.length;
    const good = JSON.stringify({ source: 'a', concurrency: 3, requestsPerSecond: 1, time: 1 });
    for (const [body, want] of [
      [good.replace('"concurrency":3', '"concurrency":1e999'), /demand\.concurrency: must be a number from 0 to 10000000/],
      [good.replace('"concurrency":3', '"concurrency":-3'), /demand\.concurrency/],
      [good.replace('"requestsPerSecond":1', '"requestsPerSecond":1e300'), /demand\.requestsPerSecond/],
      [good.replace('"source":"a"', '"source":""'), /demand\.source/],
      ['[1,2]', /demand: must be an object/],
    ] as const) {
      const res = await fetch(`${url}/poke/default/hostile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 400, body);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, want, body);
    }
    assert.equal(sink.pokes.length, before);
  });

  test('POST /poke/:namespace/:name pokes that function', async () => {
    const before = sink.pokes.length;
    const res = await fetch(`${url}/poke/team-a/resize`, { method: 'POST' });
    assert.equal(res.status, 202);
    assert.deepEqual(sink.pokes.slice(before), [{ namespace: 'team-a', name: 'resize' }]);
  });
});

describe('statsProblems', () => {
  const cases: [name: string, body: unknown, want: RegExp | undefined][] = [
    ['a valid batch', [stat('a', 0)], undefined],
    ['an empty batch', [], undefined],
    ['a string', 'x', /body must be a JSON array/],
    ['null in the array', [null], /^\[0\]: must be an object/],
    ['a key that is a string', [{ ...stat('a', 1), key: 'default/a' }], /^\[0\]\.key: must be an object/],
    ['an empty source', [{ ...stat('a', 1), source: '' }], /^\[0\]\.source/],
    ['NaN-like concurrency', [{ ...stat('a', 1), averageConcurrency: '3' }], /^\[0\]\.averageConcurrency/],
    ['a missing time', [{ ...stat('a', 1), time: undefined }], /^\[0\]\.time/],
    ['no requestsPerSecond (an activator from before rps)', [{ ...stat('a', 1), requestsPerSecond: undefined }], undefined],
    ['NaN requestsPerSecond', [{ ...stat('a', 1), requestsPerSecond: Number.NaN }], /^\[0\]\.requestsPerSecond/],
    ['negative requestsPerSecond', [{ ...stat('a', 1), requestsPerSecond: -0.5 }], /^\[0\]\.requestsPerSecond/],
    ['huge concurrency', [{ ...stat('a', 1), averageConcurrency: 1e300 }], /^\[0\]\.averageConcurrency/],
    ['huge requestCount', [{ ...stat('a', 1), requestCount: MAX_STAT_VALUE + 1 }], /^\[0\]\.requestCount/],
  ];
  for (const [name, body, want] of cases) {
    test(name, () => {
      const problems = statsProblems(body);
      if (want === undefined) assert.deepEqual(problems, []);
      else assert.match(problems.join('; '), want);
    });
  }

  test('a number field is accepted exactly when it is finite and in [0, MAX_STAT_VALUE] (generated)', () => {
    const field = fc.constantFrom('averageConcurrency', 'requestCount', 'requestsPerSecond');
    const value = fc.oneof(fc.double(), fc.double({ min: 0, max: MAX_STAT_VALUE }), fc.constantFrom(0, MAX_STAT_VALUE, -0, Number.MIN_VALUE, -Number.MIN_VALUE));
    fc.assert(
      fc.property(field, value, (f, v) => {
        const ok = Number.isFinite(v) && v >= 0 && v <= MAX_STAT_VALUE;
        assert.equal(statsProblems([{ ...stat('a', 1), [f]: v }]).length === 0, ok, `${f} ${v}`);
      }),
    );
  });

  test('reports at most 5 problems for a large bad batch', () => {
    assert.equal(statsProblems(Array.from({ length: 100 }, () => ({}))).length, 5);
  });
});
