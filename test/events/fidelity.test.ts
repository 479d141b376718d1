// Events arrive as they were sent, across every hop kfn makes: HTTP ingress → JetStream →
// the function (binary mode) → its reply → a dead letter → a redrive, on a real
// nats-server with a real HTTP function. Generated payloads, binary and structured mode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { headers as natsHeaders } from 'nats';
import { redriveDeadLetters } from '../../pkg/events/dlq/dlq.js';
import { buildIngress } from '../../pkg/events/ingress/ingress.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { jsonSpace, jsonText } from '../util/json-text.js';
import { waitFor } from '../util/wait.js';
import { header, startSuite, STREAM, trigger, type Received, type Suite } from './dispatcher/harness.js';

describe('event fidelity end to end on a real nats-server', () => {
  let s: Suite;
  let ingress: FastifyInstance;
  const echo = trigger('events.fid.in', { path: '/echo', reply: { subject: 'events.fid.out' } });
  const failing = trigger('events.fid.out', { path: '/fail', delivery: { retries: 0, deadLetterSubject: 'dl.fid' } });
  const failingKey = `default/${failing.metadata.name}`;
  before(async () => {
    s = await startSuite();
    ingress = buildIngress({ nc: s.nc, log: quietLogger(), maxBodyBytes: 1024 * 1024, streams: () => [STREAM] });
    // The echo function answers with the request's body and Content-Type; the failing one
    // refuses an event the first time it sees it (a dead letter) and takes its redrive.
    s.fn.behaviour = (r, n) => {
      if (r.path.endsWith('/echo')) return { status: 200, body: r.body, headers: copyContentType(r) };
      if (r.path.endsWith('/fail')) return { status: n === 0 ? 400 : 200 };
      return { status: 200 };
    };
    await s.dispatcher.upsertTrigger(echo);
    await s.dispatcher.upsertTrigger(failing);
  });
  after(async () => {
    await ingress.close();
    await s.stop();
  });

  /** Posts one event, then follows it through every hop; returns the bodies each hop saw. */
  async function roundTrip(post: { headers: Record<string, string>; payload: Buffer }): Promise<{ hops: Buffer[]; contentTypes: Array<string | undefined> }> {
    const res = await ingress.inject({ method: 'POST', url: '/events.fid.in', headers: post.headers, payload: post.payload });
    assert.equal(res.statusCode, 202, res.body);
    const { id } = res.json<{ id: string }>();
    const atEcho = await waitFor('the echo function to get it', () => s.fn.received.find((r) => r.path.endsWith('/echo') && header(r.headers, 'ce-id') === id));
    const firstFail = await waitFor('the reply to reach the failing function', () =>
      s.fn.received.find((r) => r.path.endsWith('/fail') && header(r.headers, 'ce-kfnparentid') === id),
    );
    const replyId = header(firstFail.headers, 'ce-id') ?? '';
    const letter = await waitFor('the dead letter', async () => {
      const m = await s.jsm.streams.getMessage('KFN_TEST', { last_by_subj: 'dl.fid' }).catch(() => undefined);
      return m && m.header.get('ce-id') === replyId ? m : undefined;
    });
    const result = await redriveDeadLetters(s.js, s.jsm, { trigger: failingKey, deadLetterSubject: 'dl.fid' });
    assert.deepEqual(result.failed, []);
    const redriven = await waitFor('the redriven event', () => s.fn.forId(replyId).filter((r) => r.path.endsWith('/fail'))[1]);
    return {
      hops: [atEcho.body, firstFail.body, Buffer.from(letter.data), redriven.body],
      contentTypes: [atEcho, firstFail, redriven].map((r) => header(r.headers, 'content-type')),
    };
  }

  it('binary mode: any bytes under any content type, byte for byte at every hop', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.constantFrom('application/json', 'application/octet-stream', 'text/plain', 'application/cloudevents+json; note=x', 'image/png'), async (data, type) => {
        // A CloudEvents media type as Content-Type would mean structured mode; send it as an extension-free binary type instead.
        const contentType = type.startsWith('application/cloudevents') ? 'application/vnd.kfn.test' : type;
        const { hops, contentTypes } = await roundTrip({
          headers: { 'ce-specversion': '1.0', 'ce-id': `bin-${n++}`, 'ce-source': '/fidelity', 'ce-type': 'test.bytes', 'content-type': contentType },
          payload: Buffer.from(data),
        });
        for (const hop of hops) assert.deepEqual(hop, Buffer.from(data));
        assert.deepEqual(contentTypes, [contentType, contentType, contentType]);
      }),
      { numRuns: 15 },
    );
  });

  it('structured mode: JSON data as the producer wrote it (every digit, every space) at every hop', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(jsonText, jsonSpace, async (text, space) => {
        const payload = Buffer.from(`{"specversion":"1.0","id":"json-${n++}","source":"/fidelity","type":"test.json",${space}"data":${space}${text}${space}}`);
        const { hops, contentTypes } = await roundTrip({ headers: { 'content-type': 'application/cloudevents+json' }, payload });
        for (const hop of hops) assert.equal(hop.toString('utf8'), text);
        assert.deepEqual(contentTypes, ['application/json', 'application/json', 'application/json']);
      }),
      { numRuns: 15 },
    );
  });

  it('the issue\'s cases: big numbers, trailing zeros, whitespace, a trailing newline, null, JSON that is not JSON, and nesting 100,000 deep', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const cases = ['{"n": 12345678901234567890, "f": 1.10}\n', '  [1.0, -0, 1e400]  ', 'null', '{"unterminated": ', deep];
    for (const [i, data] of cases.entries()) {
      const { hops } = await roundTrip({
        headers: { 'ce-specversion': '1.0', 'ce-id': `case-${i}`, 'ce-source': '/fidelity', 'ce-type': 'test.case', 'content-type': 'application/json' },
        payload: Buffer.from(data),
      });
      for (const hop of hops) assert.equal(hop.toString('utf8'), data);
    }
    // The same depth as a structured event's data: read without recursion.
    const { hops } = await roundTrip({ headers: { 'content-type': 'application/cloudevents+json' }, payload: Buffer.from(`{"specversion":"1.0","id":"deep-s","source":"/fidelity","type":"t","data":${deep}}`) });
    for (const hop of hops) assert.equal(hop.toString('utf8'), deep);
  });

  it('adds no time or id: an event without time arrives without one, with its own id', async () => {
    const res = await ingress.inject({ method: 'POST', url: '/events.fid.in', headers: { 'ce-specversion': '1.0', 'ce-id': 'no-time', 'ce-source': '/fidelity', 'ce-type': 't' }, payload: 'x' });
    assert.equal(res.statusCode, 202, res.body);
    const got = await waitFor('the event', () => s.fn.forId('no-time')[0]);
    assert.equal(got.headers['ce-time'], undefined);
    assert.deepEqual(Object.keys(got.headers).filter((h) => h.startsWith('ce-')).sort(), ['ce-id', 'ce-source', 'ce-specversion', 'ce-type']);
  });

  // spec.md, "id": "Producers MUST ensure that source + id is unique for each distinct event".
  it('de-duplicates on source + id: the same id from another source is another event', async () => {
    const post = (source: string): Promise<{ statusCode: number; json: <T>() => T }> =>
      ingress.inject({ method: 'POST', url: '/events.fid.in', headers: { 'ce-specversion': '1.0', 'ce-id': 'shared-id', 'ce-source': source, 'ce-type': 't' }, payload: source });
    const a = await post('/producer-a');
    const b = await post('/producer-b');
    const again = await post('/producer-a');
    assert.deepEqual([a.json<{ duplicate: boolean }>().duplicate, b.json<{ duplicate: boolean }>().duplicate, again.json<{ duplicate: boolean }>().duplicate], [false, false, true]);
    await waitFor('both events delivered', () => s.fn.forId('shared-id').filter((r) => r.path.endsWith('/echo')).length === 2);
    assert.deepEqual(s.fn.forId('shared-id').filter((r) => r.path.endsWith('/echo')).map((r) => r.body.toString()).sort(), ['/producer-a', '/producer-b']);
  });

  it('a plain NATS message keeps one id on every attempt, in its dead letter and after a redrive', async () => {
    const t = trigger('events.fid.plain', { path: '/fail', delivery: { retries: 1, backoff: { policy: 'linear', delay: '0s', maxDelay: '0s' }, deadLetterSubject: 'dl.fid.plain' } });
    await s.dispatcher.upsertTrigger(t);
    const seen = (): Received[] => s.fn.received.filter((r) => r.path.endsWith('/fail') && header(r.headers, 'ce-source') === 'nats:events.fid.plain');
    const before = seen().length;
    // The failing function refuses only an id's first delivery: make every attempt fail.
    const behaviour = s.fn.behaviour;
    s.fn.behaviour = (r, n) => (r.path.endsWith('/fail') && header(r.headers, 'ce-source') === 'nats:events.fid.plain' && n < 2 ? { status: 500 } : behaviour(r, n));
    const h = natsHeaders();
    h.set('content-type', 'text/plain');
    const ack = await s.js.publish('events.fid.plain', Buffer.from('plain bytes'), { headers: h });
    await waitFor('two attempts', () => seen().length === before + 2);
    await waitFor('the dead letter', async () => (await s.jsm.streams.getMessage('KFN_TEST', { last_by_subj: 'dl.fid.plain' }).catch(() => undefined)) !== undefined);
    const redrive = await redriveDeadLetters(s.js, s.jsm, { trigger: `default/${t.metadata.name}`, deadLetterSubject: 'dl.fid.plain' });
    assert.equal(redrive.redriven, 1);
    await waitFor('the redriven delivery', () => seen().length === before + 3);
    const ids = seen().slice(before).map((r) => header(r.headers, 'ce-id'));
    assert.deepEqual(ids, [`${ack.stream}-${ack.seq}`, `${ack.stream}-${ack.seq}`, `${ack.stream}-${ack.seq}`]);
    assert.deepEqual(seen().slice(before).map((r) => r.body.toString()), ['plain bytes', 'plain bytes', 'plain bytes']);
    assert.ok(seen().slice(before).every((r) => r.headers['ce-time'] === undefined), 'no time invented');
    s.fn.behaviour = behaviour;
  });

  it('a producer\'s JetStream conditions (Nats-Expected-*) do not follow its event into the dead letter and the redrive', async () => {
    const t = trigger('events.fid.cond', { path: '/fail', delivery: { retries: 0, deadLetterSubject: 'dl.fid.cond' } });
    await s.dispatcher.upsertTrigger(t);
    const last = (await s.jsm.streams.info('KFN_TEST')).state.last_seq;
    const h = natsHeaders();
    for (const [k, v] of Object.entries({ 'ce-specversion': '1.0', 'ce-id': 'cond-1', 'ce-source': '/fidelity', 'ce-type': 't', 'Nats-Expected-Stream': 'KFN_TEST', 'Nats-Expected-Last-Sequence': String(last) })) h.set(k, v);
    await s.js.publish('events.fid.cond', Buffer.from('conditional'), { headers: h });
    const letter = await waitFor('the dead letter', async () => s.jsm.streams.getMessage('KFN_TEST', { last_by_subj: 'dl.fid.cond' }).catch(() => undefined));
    assert.equal(letter.header.get('ce-id'), 'cond-1');
    assert.equal(letter.header.has('Nats-Expected-Last-Sequence'), false);
    const redrive = await redriveDeadLetters(s.js, s.jsm, { trigger: `default/${t.metadata.name}`, deadLetterSubject: 'dl.fid.cond' });
    assert.deepEqual([redrive.redriven, redrive.failed], [1, []]);
    await waitFor('the redriven delivery', () => s.fn.forId('cond-1').length === 2);
  });
});

function copyContentType(r: Received): Record<string, string> {
  const type = header(r.headers, 'content-type');
  return type === undefined ? {} : { 'content-type': type };
}
