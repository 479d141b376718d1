import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HTTP } from 'cloudevents';
import { EventFormatError, fromHttp, toHttpBinary } from '../../../pkg/events/cloudevents/http.js';
import { ev, plain } from './fixtures.js';

const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f, 0xfe]);

describe('toHttpBinary → fromHttp round trip', () => {
  const rows = [
    { name: 'JSON object data with datacontenttype', event: ev({ datacontenttype: 'application/json', data: { a: 1, b: ['x'] } }), body: '{"a":1,"b":["x"]}' },
    { name: 'JSON data without datacontenttype is sent as application/json', event: ev({ data: { ok: true } }), body: '{"ok":true}', contentType: 'application/json' },
    { name: 'binary data with octet-stream stays bytes', event: ev({ datacontenttype: 'application/octet-stream', data: bytes }), body: bytes },
    { name: 'binary data with an image type stays bytes', event: ev({ datacontenttype: 'image/png', data: bytes }), body: bytes },
    { name: 'binary data with no content type stays bytes', event: ev({ data: bytes }), body: bytes },
    { name: 'text data is bytes on the way back', event: ev({ datacontenttype: 'text/plain', data: Buffer.from('héllo') }), body: 'héllo' },
    { name: 'extensions and optional attributes', event: ev({ subject: 'order/42', dataschema: 'https://example.com/s', traceparent: '00-abc-01', partitionkey: 'k1', data: { n: 1 }, datacontenttype: 'application/json' }) },
    { name: '+json suffix type is parsed', event: ev({ datacontenttype: 'application/vnd.kfn+json; charset=utf-8', data: { v: 2 } }), body: '{"v":2}' },
    { name: 'no data', event: ev(), body: '' },
    { name: 'Uint8Array data (not a Buffer) stays bytes', event: ev({ data: Uint8Array.from([9, 0, 255]) }), body: Buffer.from([9, 0, 255]) },
    { name: 'a string with a JSON content type is a JSON string value', event: ev({ datacontenttype: 'application/json', data: 'hi' }), body: '"hi"' },
    { name: 'a JSON number', event: ev({ datacontenttype: 'application/json', data: 42 }), body: '42' },
    { name: 'attribute values with space, quote, percent and non-ASCII', event: ev({ subject: 'Euro € 😀 "q" 100%' }) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const msg = toHttpBinary(row.event);
      assert.equal(msg.headers['ce-id'], 'evt-1');
      assert.equal(msg.headers['ce-datacontenttype'], undefined, 'HTTP binary mode never sends ce-datacontenttype');
      for (const [name, value] of Object.entries(msg.headers)) if (name.startsWith('ce-')) assert.match(value, /^[\x21-\x7e]*$/, 'ce- values are printable ASCII');
      if (row.body !== undefined) assert.deepEqual(msg.body, Buffer.isBuffer(row.body) ? row.body : Buffer.from(row.body));
      if (row.contentType !== undefined) assert.equal(msg.headers['content-type'], row.contentType);
      const back = fromHttp(msg.headers, msg.body);
      const want = plain(row.event);
      if (row.contentType !== undefined) want.datacontenttype = row.contentType;
      assert.deepEqual(plain(back), want);
    });
  }

  it('percent-encodes as the spec example: "Euro € 😀" → Euro%20%E2%82%AC%20%F0%9F%98%80', () => {
    assert.equal(toHttpBinary(ev({ subject: 'Euro € 😀' })).headers['ce-subject'], 'Euro%20%E2%82%AC%20%F0%9F%98%80');
  });
});

describe('fromHttp accepts', () => {
  const ce = { 'ce-specversion': '1.0', 'ce-id': 'a1', 'ce-source': '/s', 'ce-type': 't' };
  it('binary mode with header names in any case and array values', () => {
    const got = fromHttp({ 'CE-SpecVersion': '1.0', 'Ce-Id': ['a1'], 'ce-source': '/s', 'ce-type': 't', 'Content-Type': 'application/json' }, Buffer.from('[1,2]'));
    assert.equal(got.id, 'a1');
    assert.deepEqual(got.data, [1, 2]);
  });
  it('the older double-quoted header form and lower-case percent escapes', () => {
    const got = fromHttp({ ...ce, 'ce-subject': '"a \\"b\\" %e2%82%ac"' }, Buffer.alloc(0));
    assert.equal(got.subject, 'a "b" €');
  });
  it('structured JSON mode with data', () => {
    const body = JSON.stringify({ specversion: '1.0', id: 's1', source: '/s', type: 't', myext: 'x', datacontenttype: 'application/json', data: { k: 'v' } });
    const got = fromHttp({ 'content-type': 'application/cloudevents+json; charset=utf-8' }, Buffer.from(body));
    assert.deepEqual([got.id, got.myext, got.datacontenttype, got.data], ['s1', 'x', 'application/json', { k: 'v' }]);
  });
  it('structured JSON mode with data_base64 gives bytes', () => {
    const body = JSON.stringify({ specversion: '1.0', id: 's1', source: '/s', type: 't', datacontenttype: 'image/png', data_base64: bytes.toString('base64') });
    const got = fromHttp({ 'content-type': 'application/cloudevents+json' }, Buffer.from(body));
    assert.ok(ArrayBuffer.isView(got.data));
    assert.deepEqual(Buffer.from(got.data as Uint8Array), bytes);
  });
});

describe('fromHttp refuses malformed input with an EventFormatError naming the problem', () => {
  const ce: Record<string, string> = { 'ce-specversion': '1.0', 'ce-id': 'a1', 'ce-source': '/s', 'ce-type': 't' };
  const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(ce).filter(([k]) => k !== name));
  const structured = { 'content-type': 'application/cloudevents+json' };
  const rows: Array<{ name: string; headers: Record<string, string>; body?: string; want: RegExp }> = [
    { name: 'no CloudEvents headers at all', headers: { 'content-type': 'text/plain' }, body: 'hi', want: /missing required attribute "specversion"/ },
    { name: 'missing ce-id', headers: without('ce-id'), want: /missing required attribute "id"/ },
    { name: 'missing ce-source', headers: without('ce-source'), want: /missing required attribute "source"/ },
    { name: 'missing ce-type', headers: without('ce-type'), want: /missing required attribute "type"/ },
    { name: 'specversion 0.3', headers: { ...ce, 'ce-specversion': '0.3' }, want: /unsupported specversion "0.3"/ },
    { name: 'extension name with a dash', headers: { ...ce, 'ce-my-ext': 'x' }, want: /invalid attribute name "my-ext"/ },
    { name: 'bad percent-encoding', headers: { ...ce, 'ce-subject': 'a%zz' }, want: /header "ce-subject": bad percent-encoding/ },
    { name: 'overlong UTF-8 %C0%A0', headers: { ...ce, 'ce-subject': 'a%C0%A0' }, want: /not valid UTF-8/ },
    { name: 'binary JSON data that is not JSON', headers: { ...ce, 'content-type': 'application/json' }, body: '{nope', want: /data is not valid JSON/ },
    { name: 'structured body that is not JSON', headers: structured, body: '{"specversion":', want: /structured event is not valid JSON/ },
    { name: 'structured body that is an array', headers: structured, body: '[]', want: /must be a JSON object, got an array/ },
    { name: 'structured without source', headers: structured, body: '{"specversion":"1.0","id":"1","type":"t"}', want: /missing required attribute "source"/ },
    { name: 'structured with a non-string id', headers: structured, body: '{"specversion":"1.0","id":1,"source":"/s","type":"t"}', want: /attribute "id" must be a string/ },
    { name: 'batch mode', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]', want: /batch content mode is not supported/ },
    { name: 'a non-JSON event format', headers: { 'content-type': 'application/cloudevents+avro' }, body: 'x', want: /unsupported event format "application\/cloudevents\+avro"/ },
    { name: 'an invalid time', headers: { ...ce, 'ce-time': 'yesterday' }, want: /invalid CloudEvent: .*time/ },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.throws(() => fromHttp(row.headers, Buffer.from(row.body ?? '')), (err: unknown) => {
        assert.ok(err instanceof EventFormatError, `want EventFormatError, got ${String(err)}`);
        assert.match(err.message, row.want);
        return true;
      });
    });
  }
});

describe('interoperates with the cloudevents SDK', () => {
  const event = ev({ datacontenttype: 'application/json', data: { a: 1 }, myext: 'x' });
  it('reads the SDK\'s binary mode', () => {
    const msg = HTTP.binary(event);
    const got = fromHttp(msg.headers, Buffer.from(msg.body as string));
    assert.deepEqual(plain(got), plain(event));
  });
  it('reads the SDK\'s structured mode', () => {
    const msg = HTTP.structured(event);
    assert.deepEqual(plain(fromHttp(msg.headers, Buffer.from(msg.body as string))), plain(event));
  });
  it('the SDK reads our binary mode', () => {
    const msg = toHttpBinary(event);
    const got = HTTP.toEvent({ headers: msg.headers, body: msg.body.toString('utf8') });
    assert.ok(!Array.isArray(got));
    assert.deepEqual([got.id, got.type, got.myext, got.data], ['evt-1', event.type, 'x', { a: 1 }]);
  });
});
