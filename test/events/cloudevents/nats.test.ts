import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { EventFormatError } from '../../../pkg/events/cloudevents/event.js';
import { fromNatsMessage, msgIdFor, PLAIN_CONTENT_TYPE, PLAIN_MESSAGE_TYPE, toNatsMessage } from '../../../pkg/events/cloudevents/nats.js';
import { ev, plain } from './fixtures.js';

function hdrs(pairs: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(pairs)) h.set(k, v);
  return h;
}

const bytes = Uint8Array.from([0, 1, 0xfe, 0xff, 0x80]);

describe('toNatsMessage → fromNatsMessage round trip (binary mode)', () => {
  const rows = [
    { name: 'JSON data', event: ev({ datacontenttype: 'application/json', data: { a: [1, 2] } }), contentType: 'application/json' },
    { name: 'binary data stays bytes', event: ev({ datacontenttype: 'application/octet-stream', data: Buffer.from(bytes) }), contentType: 'application/octet-stream' },
    { name: 'binary data without a content type', event: ev({ data: Buffer.from(bytes) }) },
    { name: 'extensions, subject and non-ASCII values', event: ev({ subject: 'café 😀', orderkey: 'cust-7', traceparent: '00-1-2-01' }) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const msg = toNatsMessage(row.event);
      assert.equal(msg.headers.get('ce-id'), 'evt-1');
      assert.equal(msg.headers.get('ce-specversion'), '1.0');
      assert.equal(msg.headers.get('ce-datacontenttype'), row.contentType ? row.contentType : '');
      assert.equal(msg.headers.get('content-type'), row.contentType ?? '');
      const back = fromNatsMessage('orders.created', msg.headers, msg.data);
      assert.deepEqual(plain(back), plain(row.event));
    });
  }

  it('does not write a CloudEvents media type as content-type, which would mean structured mode', () => {
    const msg = toNatsMessage(ev({ datacontenttype: 'application/cloudevents+json', data: { specversion: '1.0' } }));
    assert.equal(msg.headers.has('content-type'), false);
    assert.equal(msg.headers.get('ce-datacontenttype'), 'application/cloudevents+json');
  });

  it('msgIdFor is the CloudEvent id, so a republished event is de-duplicated by JetStream', () => {
    assert.equal(msgIdFor(ev({ id: 'abc-123' })), 'abc-123');
  });
});

describe('fromNatsMessage reads', () => {
  it('binary mode with datacontenttype only in content-type (older producers)', () => {
    const got = fromNatsMessage('s', hdrs({ 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/p', 'ce-type': 't', 'Content-Type': 'application/json' }), Buffer.from('{"x":1}'));
    assert.equal(got.datacontenttype, 'application/json');
    assert.deepEqual(got.data, { x: 1 });
  });
  it('binary mode with mixed-case header names', () => {
    const got = fromNatsMessage('s', hdrs({ 'Ce-Specversion': '1.0', 'CE-ID': '1', 'ce-Source': '/p', 'ce-type': 't' }), new Uint8Array());
    assert.equal(got.id, '1');
    assert.equal(got.data, undefined);
  });
  it('structured JSON mode', () => {
    const body = JSON.stringify({ specversion: '1.0', id: 's-1', source: '/p', type: 't', datacontenttype: 'application/json', data: { q: true } });
    const got = fromNatsMessage('s', hdrs({ 'content-type': 'application/cloudevents+json' }), Buffer.from(body));
    assert.deepEqual([got.id, got.data], ['s-1', { q: true }]);
  });
});

describe('fromNatsMessage wraps a plain message', () => {
  const rows: Array<{ name: string; subject: string; headers?: Record<string, string>; data: Uint8Array; want: Record<string, unknown>; wantData: unknown }> = [
    {
      name: 'no headers: octet-stream bytes, new id',
      subject: 'orders.created',
      data: bytes,
      want: { type: PLAIN_MESSAGE_TYPE, source: 'nats:orders.created', subject: 'orders.created', datacontenttype: PLAIN_CONTENT_TYPE },
      wantData: Buffer.from(bytes),
    },
    {
      name: 'JSON-looking payload is not sniffed: delivered byte for byte',
      subject: 'a.b',
      data: Buffer.from('{"n": 1.0}'),
      want: { datacontenttype: PLAIN_CONTENT_TYPE },
      wantData: Buffer.from('{"n": 1.0}'),
    },
    {
      name: 'content-type header is the datacontenttype; JSON is parsed',
      subject: 'a.b',
      headers: { 'Content-Type': 'application/json' },
      data: Buffer.from('{"n":1}'),
      want: { datacontenttype: 'application/json' },
      wantData: { n: 1 },
    },
    {
      name: 'Nats-Msg-Id becomes the id',
      subject: 'a.b',
      headers: { 'Nats-Msg-Id': 'producer-42' },
      data: Buffer.from('x'),
      want: { id: 'producer-42', specversion: '1.0' },
      wantData: Buffer.from('x'),
    },
    { name: 'empty payload has no data', subject: 'ping', data: new Uint8Array(), want: { type: PLAIN_MESSAGE_TYPE }, wantData: undefined },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = fromNatsMessage(row.subject, row.headers ? hdrs(row.headers) : undefined, row.data);
      for (const [k, v] of Object.entries(row.want)) assert.equal((got as Record<string, unknown>)[k], v, k);
      if (row.wantData === undefined) assert.equal(got.data, undefined);
      else assert.deepEqual(ArrayBuffer.isView(got.data) ? Buffer.from(got.data as Uint8Array) : got.data, row.wantData);
      if (row.want.id === undefined) assert.match(got.id, /^[0-9a-f-]{36}$/);
    });
  }
});

describe('fromNatsMessage refuses malformed input', () => {
  const rows: Array<{ name: string; headers: Record<string, string>; body: string; want: RegExp }> = [
    { name: 'binary without ce-source', headers: { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-type': 't' }, body: '', want: /missing required attribute "source"/ },
    { name: 'binary with specversion 2.0', headers: { 'ce-specversion': '2.0', 'ce-id': '1', 'ce-source': '/s', 'ce-type': 't' }, body: '', want: /unsupported specversion "2.0"/ },
    { name: 'structured that is not JSON', headers: { 'content-type': 'application/cloudevents+json' }, body: 'nope', want: /structured event is not valid JSON/ },
    { name: 'batch', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]', want: /batch content mode is not supported/ },
    { name: 'plain message declared JSON that is not', headers: { 'content-type': 'application/json' }, body: '{', want: /data is not valid JSON/ },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.throws(() => fromNatsMessage('s', hdrs(row.headers), Buffer.from(row.body)), (err: unknown) => err instanceof EventFormatError && row.want.test(err.message));
    });
  }
});
