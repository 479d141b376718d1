import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { EventFormatError } from '../../../pkg/events/cloudevents/event.js';
import { fromNatsMessage, msgIdFor, PLAIN_CONTENT_TYPE, PLAIN_MESSAGE_TYPE, toNatsMessage, wrappedEventHeaders, type StoredNatsMessage } from '../../../pkg/events/cloudevents/nats.js';
import { ev } from './fixtures.js';

function hdrs(pairs: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(pairs)) h.set(k, v);
  return h;
}

function stored(data: string | Uint8Array, headers?: Record<string, string>, subject = 'orders.created', seq = 7): StoredNatsMessage {
  return { subject, headers: headers ? hdrs(headers) : undefined, data: Buffer.from(data), stream: 'KFN', seq };
}

const bytes = Uint8Array.from([0, 1, 0xfe, 0xff, 0x80]);

describe('toNatsMessage → fromNatsMessage round trip (binary mode)', () => {
  const rows = [
    { name: 'JSON data, byte for byte', event: ev({ datacontenttype: 'application/json' }, '{"n": 12345678901234567890,\n "f": 1.10}  '), contentType: 'application/json' },
    { name: 'binary data stays bytes', event: ev({ datacontenttype: 'application/octet-stream' }, bytes), contentType: 'application/octet-stream' },
    { name: 'binary data without a content type', event: ev({}, bytes) },
    { name: 'extensions, subject and non-ASCII values', event: ev({ subject: 'café 😀', orderkey: 'cust-7', traceparent: '00-1-2-01' }) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const msg = toNatsMessage(row.event);
      assert.equal(msg.headers.get('ce-id'), 'evt-1');
      assert.equal(msg.headers.get('ce-specversion'), '1.0');
      assert.equal(msg.headers.get('ce-datacontenttype'), row.contentType ?? '');
      assert.equal(msg.headers.get('content-type'), row.contentType ?? '');
      const back = fromNatsMessage({ subject: 'orders.created', headers: msg.headers, data: msg.data, stream: 'KFN', seq: 1 });
      assert.deepEqual(back, row.event);
    });
  }

  it('does not write a CloudEvents media type as content-type, which would mean structured mode', () => {
    const msg = toNatsMessage(ev({ datacontenttype: 'application/cloudevents+json' }, '{"specversion":"1.0"}'));
    assert.equal(msg.headers.has('content-type'), false);
    assert.equal(msg.headers.get('ce-datacontenttype'), 'application/cloudevents+json');
  });
});

// spec.md, "id": "Producers MUST ensure that source + id is unique for each distinct
// event ... Consumers MAY assume that Events with identical source and id are duplicates."
describe('msgIdFor: JetStream de-duplicates on source + id', () => {
  it('the same source and id give the same message id', () => {
    assert.equal(msgIdFor(ev({ id: 'abc' })), msgIdFor(ev({ id: 'abc', subject: 'other attributes do not matter' })));
  });
  it('the same id from another source is another event', () => {
    assert.notEqual(msgIdFor(ev({ id: 'abc', source: '/a' })), msgIdFor(ev({ id: 'abc', source: '/b' })));
  });
  it('source and id cannot be shifted into each other', () => {
    assert.notEqual(msgIdFor(ev({ id: 'bc', source: '/a' })), msgIdFor(ev({ id: 'c', source: '/ab' })));
  });
});

describe('fromNatsMessage reads', () => {
  it('binary mode with datacontenttype only in content-type (older producers)', () => {
    const got = fromNatsMessage(stored('{"x":1}', { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/p', 'ce-type': 't', 'Content-Type': 'application/json' }));
    assert.equal(got.attributes.datacontenttype, 'application/json');
    assert.deepEqual(got.data, Buffer.from('{"x":1}'));
  });
  it('binary mode with mixed-case header names', () => {
    const got = fromNatsMessage(stored('', { 'Ce-Specversion': '1.0', 'CE-ID': '1', 'ce-Source': '/p', 'ce-type': 't' }));
    assert.equal(got.attributes.id, '1');
    assert.equal(got.data, undefined);
  });
  it('structured JSON mode with a content-type header', () => {
    const body = '{"specversion":"1.0","id":"s-1","source":"/p","type":"t","datacontenttype":"application/json","data":{"q": true}}';
    const got = fromNatsMessage(stored(body, { 'content-type': 'application/cloudevents+json' }));
    assert.deepEqual([got.attributes.id, String(got.data)], ['s-1', '{"q": true}']);
  });
  // nats-protocol-binding.md 1.0.2 §3: "the content mode is always structured and the NATS
  // message payload MUST be the JSON event format" — no headers at all, as the Go SDK sends.
  it('a header-less JSON CloudEvent as a structured event, its attributes visible to filters', () => {
    const body = '{"specversion":"1.0","id":"go-1","source":"/go","type":"com.example.go","orderkey":"k1","data":{"n":1.50}}';
    const got = fromNatsMessage(stored(body));
    assert.deepEqual(got.attributes, { specversion: '1.0', id: 'go-1', source: '/go', type: 'com.example.go', orderkey: 'k1', datacontenttype: 'application/json' });
    assert.deepEqual(got.data, Buffer.from('{"n":1.50}'));
  });
  it('a header-less structured event with only a Nats-Msg-Id header', () => {
    const got = fromNatsMessage(stored('{"specversion":"1.0","id":"go-2","source":"/go","type":"t"}', { 'Nats-Msg-Id': 'x' }));
    assert.equal(got.attributes.id, 'go-2');
  });
});

describe('fromNatsMessage wraps a plain message', () => {
  const rows: Array<{ name: string; msg: StoredNatsMessage; want: Record<string, unknown>; wantData?: string | Uint8Array }> = [
    {
      name: 'no headers: octet-stream bytes, the id from where JetStream stores it, no time',
      msg: stored(bytes, undefined, 'orders.created', 42),
      want: { specversion: '1.0', id: 'KFN-42', type: PLAIN_MESSAGE_TYPE, source: 'nats:orders.created', subject: 'orders.created', datacontenttype: PLAIN_CONTENT_TYPE },
      wantData: bytes,
    },
    {
      name: 'a JSON object that is no CloudEvent is delivered byte for byte',
      msg: stored('{"n": 1.0, "specversion": "1.0"}', undefined, 'a.b', 3),
      want: { specversion: '1.0', id: 'KFN-3', type: PLAIN_MESSAGE_TYPE, source: 'nats:a.b', subject: 'a.b', datacontenttype: PLAIN_CONTENT_TYPE },
      wantData: '{"n": 1.0, "specversion": "1.0"}',
    },
    {
      name: 'a header-less CloudEvent of another specversion is a plain message',
      msg: stored('{"specversion":"0.3","id":"1","source":"/s","type":"t"}', undefined, 'a.b', 4),
      want: { specversion: '1.0', id: 'KFN-4', type: PLAIN_MESSAGE_TYPE, source: 'nats:a.b', subject: 'a.b', datacontenttype: PLAIN_CONTENT_TYPE },
      wantData: '{"specversion":"0.3","id":"1","source":"/s","type":"t"}',
    },
    {
      name: 'content-type header is the datacontenttype; JSON is not parsed, even when it is not JSON',
      msg: stored('{"n":1, oops', { 'Content-Type': 'application/json' }, 'a.b', 5),
      want: { specversion: '1.0', id: 'KFN-5', type: PLAIN_MESSAGE_TYPE, source: 'nats:a.b', subject: 'a.b', datacontenttype: 'application/json' },
      wantData: '{"n":1, oops',
    },
    {
      name: 'Nats-Msg-Id becomes the id',
      msg: stored('x', { 'Nats-Msg-Id': 'producer-42' }, 'a.b', 6),
      want: { specversion: '1.0', id: 'producer-42', type: PLAIN_MESSAGE_TYPE, source: 'nats:a.b', subject: 'a.b', datacontenttype: PLAIN_CONTENT_TYPE },
      wantData: 'x',
    },
    {
      name: 'empty payload has no data',
      msg: stored('', undefined, 'ping', 8),
      want: { specversion: '1.0', id: 'KFN-8', type: PLAIN_MESSAGE_TYPE, source: 'nats:ping', subject: 'ping', datacontenttype: PLAIN_CONTENT_TYPE },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = fromNatsMessage(row.msg);
      assert.deepEqual(got.attributes, row.want);
      assert.deepEqual(got.data, row.wantData === undefined ? undefined : Buffer.from(row.wantData));
      assert.deepEqual(fromNatsMessage(row.msg), got, 'the same event on every delivery attempt');
    });
  }

  it('a dead letter of a wrapped message carries its attributes, so the copy keeps its id', () => {
    const original = stored('payload', undefined, 'orders.created', 42);
    const event = fromNatsMessage(original);
    const copy = { ...original, headers: hdrs(wrappedEventHeaders(original, event)), subject: 'orders.dlq', seq: 900 };
    assert.deepEqual(fromNatsMessage(copy), event);
  });
  it('events that carry their attributes need no extra headers', () => {
    const binary = stored('x', { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/p', 'ce-type': 't' });
    assert.deepEqual(wrappedEventHeaders(binary, fromNatsMessage(binary)), {});
    const structuredMsg = stored('{"specversion":"1.0","id":"1","source":"/p","type":"t"}');
    assert.deepEqual(wrappedEventHeaders(structuredMsg, fromNatsMessage(structuredMsg)), {});
  });
});

describe('fromNatsMessage refuses malformed input', () => {
  const rows: Array<{ name: string; headers?: Record<string, string>; body: string; want: RegExp }> = [
    { name: 'binary without ce-source', headers: { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-type': 't' }, body: '', want: /missing required attribute "source"/ },
    { name: 'binary with specversion 2.0', headers: { 'ce-specversion': '2.0', 'ce-id': '1', 'ce-source': '/s', 'ce-type': 't' }, body: '', want: /unsupported specversion "2.0"/ },
    { name: 'structured that is not JSON', headers: { 'content-type': 'application/cloudevents+json' }, body: 'nope', want: /structured event is not valid JSON/ },
    { name: 'batch', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]', want: /batch content mode is not supported/ },
    { name: 'a header-less CloudEvent whose time has no offset', body: '{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2026-01-01T00:00:00"}', want: /attribute "time" must be an RFC 3339 date-time/ },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.throws(() => fromNatsMessage(stored(row.body, row.headers)), (err: unknown) => err instanceof EventFormatError && row.want.test(err.message));
    });
  }
});
