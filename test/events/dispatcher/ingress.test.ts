// The HTTP ingress: 202 only once JetStream holds the event; malformed or oversized
// requests are refused with a reason and publish nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import type { FastifyInstance } from 'fastify';
import { buildIngress } from '../../../pkg/events/ingress/ingress.js';
import { ensureStream } from '../../../pkg/events/jetstream/stream.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { startNatsServer, type NatsServer } from '../../util/nats.js';

const STREAM = 'KFN_INGRESS';

describe('event ingress on a real nats-server', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let app: FastifyInstance;
  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    await ensureStream(jsm, { name: STREAM, subjects: ['in.>'], duplicateWindowMs: 60_000 });
    app = buildIngress({ nc, log: quietLogger(), maxBodyBytes: 1024, streams: () => [STREAM] });
  });
  after(async () => {
    await app.close();
    await nc.close();
    await nats.stop();
  });

  const stored = async (): Promise<number> => (await jsm.streams.info(STREAM)).state.messages;
  const binary = { 'ce-specversion': '1.0', 'ce-id': 'b-1', 'ce-source': '/curl', 'ce-type': 'demo.created', 'content-type': 'application/json' };

  it('accepts a binary-mode event with 202 after JetStream stored it, keyed by its id', async () => {
    const before = await stored();
    const res = await app.inject({ method: 'POST', url: '/publish/in.orders', headers: binary, payload: '{"n":1}' });
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json<{ id: string; stream: string; seq: number; duplicate: boolean }>();
    assert.equal(body.id, 'b-1');
    assert.equal(body.stream, STREAM);
    assert.equal(await stored(), before + 1);
    const msg = await jsm.streams.getMessage(STREAM, { seq: body.seq });
    assert.equal(msg.header.get('ce-type'), 'demo.created');
    // De-duplicated on the event's identity, source + id (spec.md, "id").
    assert.equal(msg.header.get('Nats-Msg-Id'), createHash('sha256').update('/curl').update('\0').update('b-1').digest('base64url'));
    // The same event POSTed again (a client retry) is not stored twice.
    const again = await app.inject({ method: 'POST', url: '/in.orders', headers: binary, payload: '{"n":1}' });
    assert.equal(again.statusCode, 202);
    assert.equal(again.json<{ duplicate: boolean }>().duplicate, true);
    assert.equal(await stored(), before + 1);
  });

  it('accepts a structured-mode event', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/publish/in.orders',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({ specversion: '1.0', id: 's-1', source: '/curl', type: 'demo.created', data: { n: 2 } }),
    });
    assert.equal(res.statusCode, 202, res.body);
  });

  const malformed: { name: string; headers: Record<string, string>; payload: string; url?: string; want: RegExp }[] = [
    { name: 'no CloudEvent headers at all', headers: { 'content-type': 'application/json' }, payload: '{}', want: /specversion|required/ },
    { name: 'binary mode without ce-source', headers: { ...binary, 'ce-source': '' }, payload: '{}', want: /source/ },
    { name: 'structured mode that is not JSON', headers: { 'content-type': 'application/cloudevents+json' }, payload: '{oops', want: /JSON/ },
    { name: 'a wildcard subject', headers: binary, payload: '{}', url: '/publish/in.*', want: /subject/ },
  ];
  for (const row of malformed) {
    it(`refuses ${row.name} with 400 naming the problem, publishing nothing`, async () => {
      const before = await stored();
      const res = await app.inject({ method: 'POST', url: row.url ?? '/publish/in.orders', headers: row.headers, payload: row.payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json<{ error: { message: string } }>().error.message, row.want);
      assert.equal(await stored(), before);
    });
  }

  it('refuses a body over the limit with 413, publishing nothing', async () => {
    const before = await stored();
    const res = await app.inject({ method: 'POST', url: '/publish/in.orders', headers: { ...binary, 'ce-id': 'big' }, payload: JSON.stringify({ x: 'y'.repeat(2000) }) });
    assert.equal(res.statusCode, 413, res.body);
    assert.match(res.body, /1024-byte limit/);
    assert.equal(await stored(), before);
  });

  it('answers 404 when no stream holds the subject', async () => {
    const res = await app.inject({ method: 'POST', url: '/publish/nowhere.at.all', headers: { ...binary, 'ce-id': 'lost' }, payload: '{}' });
    assert.equal(res.statusCode, 404, res.body);
    assert.match(res.body, /no JetStream stream of kfn's Triggers holds subject/);
  });
});
