// Only events get in: the ingress publishes only to subjects one of kfn's streams holds,
// never into NATS's own space, and calls nothing stored unless the expected stream's
// JetStream acknowledged it. Against a real nats-server, since the wire is the point:
// a core NATS subscriber or JetStream's own API answer a publish just like a stream.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, connect, type JetStreamManager, type NatsConnection } from 'nats';
import type { FastifyInstance } from 'fastify';
import { buildIngress } from '../../../pkg/events/ingress/ingress.js';
import { ensureStream } from '../../../pkg/events/jetstream/stream.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { startNatsServer, type NatsServer } from '../../util/nats.js';

const KFN = 'KFN';
const OTHER = 'NOT_KFN';
const ce = { 'ce-specversion': '1.0', 'ce-source': '/attacker', 'ce-type': 'demo', 'content-type': 'text/plain' };
type ErrorBody = { error: { code: string; message: string } };

describe('ingress: only events get in (real nats-server)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let app: FastifyInstance;
  let big: FastifyInstance;
  let n = 0;
  const post = (target: FastifyInstance, url: string, payload: string | Buffer = 'hi', headers: Record<string, string> = ce) =>
    target.inject({ method: 'POST', url, headers: { 'ce-id': `e-${++n}`, ...headers }, payload });
  const count = async (stream: string): Promise<number> => (await jsm.streams.info(stream)).state.messages;

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    await ensureStream(jsm, { name: KFN, subjects: ['in.>'], duplicateWindowMs: 60_000 });
    await jsm.consumers.add(KFN, { durable_name: 'trig', ack_policy: AckPolicy.Explicit });
    // Someone else's stream on the same server: kfn does not publish into it.
    await jsm.streams.add({ name: OTHER, subjects: ['other.>'] });
    // A core NATS service that answers anything with something shaped like a PubAck.
    const fake = nc.subscribe('svc.>');
    void (async () => {
      for await (const m of fake) m.respond(new TextEncoder().encode(JSON.stringify({ stream: KFN, seq: 1 })));
    })();
    app = buildIngress({ nc, log: quietLogger(), maxBodyBytes: 64 * 1024, streams: () => [KFN] });
    // Configured above the server's max_payload (1 MiB by default).
    big = buildIngress({ nc, log: quietLogger(), maxBodyBytes: 10 * 1024 * 1024, streams: () => [KFN] });
  });
  after(async () => {
    await app.close();
    await big.close();
    await nc.close();
    await nats.stop();
  });

  it('still accepts an event on a subject kfn\'s stream holds', async () => {
    const res = await post(app, '/in.orders');
    assert.equal(res.statusCode, 202, res.body);
  });

  it('refuses POST /$JS.API.STREAM.DELETE.KFN with 400 and the stream survives', async () => {
    // An empty body, as JetStream's API wants: today this deletes the stream and answers 202.
    const res = await post(app, `/$JS.API.STREAM.DELETE.${KFN}`, '');
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json<ErrorBody>().error.code, 'reserved_subject');
    assert.match(res.json<ErrorBody>().error.message, /\$JS\.API\.STREAM\.DELETE\.KFN.*NATS/);
    assert.equal((await jsm.streams.info(KFN)).config.name, KFN);
  });

  it('refuses POST /$JS.API.CONSUMER.DELETE.KFN.<consumer> with 400 and the consumer survives', async () => {
    const res = await post(app, `/$JS.API.CONSUMER.DELETE.${KFN}.trig`, '');
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json<ErrorBody>().error.code, 'reserved_subject');
    assert.equal((await jsm.consumers.info(KFN, 'trig')).name, 'trig');
  });

  for (const subject of ['$KV.kfn-trigger-stats.x', '$SYS.REQ.SERVER.PING', '$O.bucket.x', '_INBOX.abc', '_INBOX']) {
    it(`refuses ${subject} with 400 reserved_subject`, async () => {
      const res = await post(app, `/publish/${subject}`);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json<ErrorBody>().error.code, 'reserved_subject');
    });
  }

  it('answers 404 no_stream for a subject only a stream that is not kfn\'s holds, storing nothing there', async () => {
    const before = await count(OTHER);
    const res = await post(app, '/other.x');
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json<ErrorBody>().error.code, 'no_stream');
    assert.equal(await count(OTHER), before);
  });

  it('never answers 202 for a reply that is not the expected stream\'s PubAck (a core NATS responder)', async () => {
    const res = await post(app, '/svc.anything');
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json<ErrorBody>().error.code, 'no_stream');
  });

  it('refuses an event over the server\'s max_payload with 413, not a retryable 503', async () => {
    const before = await count(KFN);
    const res = await post(big, '/in.big', Buffer.alloc(nc.info?.max_payload ?? 1024 * 1024, 'x'));
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.json<ErrorBody>().error.code, 'body_too_large');
    assert.match(res.json<ErrorBody>().error.message, /max_payload|limit/);
    assert.equal(await count(KFN), before);
  });

  for (const contentType of ['', 'xyz', ';', '  ']) {
    it(`refuses binary-mode Content-Type ${JSON.stringify(contentType)} with kfn's 400 naming Content-Type`, async () => {
      const before = await count(KFN);
      const res = await post(app, '/in.ct', 'hi', { ...ce, 'content-type': contentType });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json<ErrorBody>().error.code, 'malformed_event');
      assert.match(res.json<ErrorBody>().error.message, /Content-Type/);
      assert.equal(await count(KFN), before);
    });
  }

  it('accepts a binary-mode event without Content-Type: it has no datacontenttype', async () => {
    const { 'content-type': _drop, ...noType } = ce;
    const res = await post(app, '/in.plain', 'raw', noType);
    assert.equal(res.statusCode, 202, res.body);
    const msg = await jsm.streams.getMessage(KFN, { seq: res.json<{ seq: number }>().seq });
    assert.equal(msg.header.get('ce-datacontenttype'), '');
  });
});

describe('ingress: what it stores', () => {
  it('stores no routing header with the event (dead letters and redrives copy its headers to other subjects)', async () => {
    const nats = await startNatsServer();
    const nc = await connect({ servers: nats.url });
    const app = buildIngress({ nc, log: quietLogger(), maxBodyBytes: 1024, streams: () => [KFN] });
    try {
      const jsm = await nc.jetstreamManager();
      await ensureStream(jsm, { name: KFN, subjects: ['in.>'], duplicateWindowMs: 60_000 });
      const res = await app.inject({ method: 'POST', url: '/in.x', headers: { ...ce, 'ce-id': 'h-1' }, payload: 'x' });
      assert.equal(res.statusCode, 202, res.body);
      const msg = await jsm.streams.getMessage(KFN, { seq: res.json<{ seq: number }>().seq });
      assert.deepEqual([...msg.header.keys()].filter((k) => k.toLowerCase().startsWith('nats-expected')), []);
    } finally {
      await app.close();
      await nc.close();
      await nats.stop();
    }
  });
});
