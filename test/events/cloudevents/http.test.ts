import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { EventFormatError, fromHttp, toHttpBinary } from '../../../pkg/events/cloudevents/http.js';
import { BASE, ev } from './fixtures.js';

const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f, 0xfe]);

describe('toHttpBinary → fromHttp round trip: attributes and data bytes unchanged', () => {
  const rows = [
    { name: 'JSON data with big numbers and spacing', event: ev({ datacontenttype: 'application/json' }, '{"n": 12345678901234567890, "f": 1.10}\n') },
    { name: 'JSON null data', event: ev({ datacontenttype: 'application/json' }, 'null') },
    { name: 'a body labelled JSON that is not JSON', event: ev({ datacontenttype: 'application/json' }, '{nope') },
    { name: 'binary data with octet-stream', event: ev({ datacontenttype: 'application/octet-stream' }, bytes) },
    { name: 'binary data with an image type', event: ev({ datacontenttype: 'image/png' }, bytes) },
    { name: 'binary data with no content type', event: ev({}, bytes) },
    { name: 'extensions and optional attributes', event: ev({ subject: 'order/42', dataschema: 'https://example.com/s', traceparent: '00-abc-01', partitionkey: 'k1', datacontenttype: 'application/json' }, '{"n":1}') },
    { name: '+json suffix type with parameters', event: ev({ datacontenttype: 'application/vnd.kfn+json; charset=utf-8' }, '{"v":2}') },
    { name: 'no data', event: ev() },
    { name: 'attribute values with space, quote, percent and non-ASCII', event: ev({ subject: 'Euro € 😀 "q" 100%' }) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const msg = toHttpBinary(row.event);
      assert.equal(msg.headers['ce-id'], 'evt-1');
      assert.equal(msg.headers['ce-datacontenttype'], undefined, 'HTTP binary mode never sends ce-datacontenttype (§3.1.1)');
      assert.equal(msg.headers['content-type'], row.event.attributes.datacontenttype);
      for (const [name, value] of Object.entries(msg.headers)) if (name.startsWith('ce-')) assert.match(value, /^[\x21-\x7e]*$/, 'ce- values are printable ASCII');
      assert.deepEqual(msg.body, row.event.data ?? Buffer.alloc(0));
      assert.deepEqual(fromHttp(msg.headers, msg.body), row.event);
    });
  }

  it('adds no attribute: an event without time has none after the trip', () => {
    const event = fromHttp({ 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/s', 'ce-type': 't' }, Buffer.alloc(0));
    assert.deepEqual(Object.keys(event.attributes).sort(), ['id', 'source', 'specversion', 'type']);
  });
});

describe('fromHttp accepts', () => {
  const ce = { 'ce-specversion': '1.0', 'ce-id': 'a1', 'ce-source': '/s', 'ce-type': 't' };
  it('binary mode with header names in any case and array values', () => {
    const got = fromHttp({ 'CE-SpecVersion': '1.0', 'Ce-Id': ['a1'], 'ce-source': '/s', 'ce-type': 't', 'Content-Type': 'application/json' }, Buffer.from('[1,2]'));
    assert.equal(got.attributes.id, 'a1');
    assert.deepEqual(got.data, Buffer.from('[1,2]'));
  });
  it('the older double-quoted header form and lower-case percent escapes', () => {
    const got = fromHttp({ ...ce, 'ce-subject': '"a \\"b\\" %e2%82%ac"' }, Buffer.alloc(0));
    assert.equal(got.attributes.subject, 'a "b" €');
  });
  it('structured JSON mode: data as the producer wrote it, extensions with their JSON types', () => {
    const body = '{"specversion":"1.0","id":"s1","source":"/s","type":"t","myext":"x","count":7,"flag":true,"datacontenttype":"application/json","data":{ "k" : "v" }}';
    const got = fromHttp({ 'content-type': 'application/cloudevents+json; charset=utf-8' }, Buffer.from(body));
    assert.deepEqual(got.attributes, { specversion: '1.0', id: 's1', source: '/s', type: 't', myext: 'x', count: 7, flag: true, datacontenttype: 'application/json' });
    assert.deepEqual(got.data, Buffer.from('{ "k" : "v" }'));
  });
  it('structured JSON mode with data_base64 gives the bytes', () => {
    const body = JSON.stringify({ specversion: '1.0', id: 's1', source: '/s', type: 't', datacontenttype: 'image/png', data_base64: bytes.toString('base64') });
    assert.deepEqual(fromHttp({ 'content-type': 'application/cloudevents+json' }, Buffer.from(body)).data, bytes);
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
    { name: 'an empty Content-Type', headers: { ...ce, 'content-type': '' }, want: /attribute "datacontenttype" must be a non-empty string/ },
    { name: 'a Content-Type that is no media type', headers: { ...ce, 'content-type': 'xyz' }, want: /attribute "datacontenttype" must be an RFC 2046 media type/ },
    { name: 'structured body that is not JSON', headers: structured, body: '{"specversion":', want: /structured event is not valid JSON/ },
    { name: 'structured body that is an array', headers: structured, body: '[]', want: /must be a JSON object, got an array/ },
    { name: 'structured without source', headers: structured, body: '{"specversion":"1.0","id":"1","type":"t"}', want: /missing required attribute "source"/ },
    { name: 'structured with a non-string id', headers: structured, body: '{"specversion":"1.0","id":1,"source":"/s","type":"t"}', want: /attribute "id" must be a string/ },
    { name: 'structured with a member twice', headers: structured, body: '{"specversion":"1.0","id":"1","id":"2","source":"/s","type":"t"}', want: /member "id" twice/ },
    { name: 'batch mode', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]', want: /batch content mode is not supported/ },
    { name: 'a non-JSON event format', headers: { 'content-type': 'application/cloudevents+avro' }, body: 'x', want: /unsupported event format "application\/cloudevents\+avro"/ },
    { name: 'an invalid time', headers: { ...ce, 'ce-time': 'yesterday' }, want: /attribute "time" must be an RFC 3339 date-time/ },
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

// The cloudevents SDK is a reference we did not write: what it sends we must read, and
// what we send it must read.
describe('interoperates with the cloudevents SDK', () => {
  const sdkEvent = new CloudEvent({ ...BASE, datacontenttype: 'application/json', data: { a: 1 }, myext: 'x' });
  it('reads the SDK\'s binary mode', () => {
    const msg = HTTP.binary(sdkEvent);
    const got = fromHttp(msg.headers, Buffer.from(msg.body as string));
    assert.deepEqual(got.attributes, { ...BASE, datacontenttype: 'application/json', myext: 'x' });
    assert.deepEqual(JSON.parse(String(got.data)), { a: 1 });
  });
  it('reads the SDK\'s structured mode', () => {
    const msg = HTTP.structured(sdkEvent);
    const got = fromHttp(msg.headers, Buffer.from(msg.body as string));
    assert.deepEqual(got.attributes, { ...BASE, datacontenttype: 'application/json', myext: 'x' });
    assert.deepEqual(JSON.parse(String(got.data)), { a: 1 });
  });
  it('the SDK reads our binary mode', () => {
    const msg = toHttpBinary(ev({ datacontenttype: 'application/json', myext: 'x' }, '{"a":1}'));
    const got = HTTP.toEvent({ headers: msg.headers, body: msg.body.toString('utf8') });
    assert.ok(!Array.isArray(got));
    assert.deepEqual([got.id, got.type, got.myext, got.data], ['evt-1', BASE.type, 'x', { a: 1 }]);
  });
});
