// Cases taken from the CloudEvents 1.0.2 texts (spec.md, formats/json-format.md,
// bindings/http-protocol-binding.md), each with the sentence it rests on and the exact
// outcome it requires. Our reading of the spec is not the reference: the text is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventFormatError } from '../../../pkg/events/cloudevents/event.js';
import { fromHttp, toHttpBinary } from '../../../pkg/events/cloudevents/http.js';

const STRUCTURED = { 'content-type': 'application/cloudevents+json' };
const structured = (json: string): ReturnType<typeof fromHttp> => fromHttp(STRUCTURED, Buffer.from(json));
const binary = (headers: Record<string, string>, body = ''): ReturnType<typeof fromHttp> =>
  fromHttp({ 'ce-specversion': '1.0', 'ce-id': 'A234-1234-1234', 'ce-source': '/mycontext', 'ce-type': 'com.example.someevent', ...headers }, Buffer.from(body));
const refused = (f: () => unknown, want: RegExp): void => {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof EventFormatError, `want EventFormatError, got ${String(err)}`);
    assert.match(err.message, want);
    return true;
  });
};

// json-format.md §3.2 "Examples": each structured event and its "re-encoded using HTTP
// Binary Content Mode" form, as the spec prints them.
describe('json-format.md §3.2: the structured examples re-encoded in HTTP binary mode', () => {
  const attributes = '"specversion" : "1.0", "type" : "com.example.someevent", "source" : "/mycontext", "time" : "2018-04-05T17:31:00Z", "comexampleextension1" : "value", "comexampleothervalue" : 5';
  const headers = (id: string): Record<string, string> => ({
    'ce-specversion': '1.0', 'ce-type': 'com.example.someevent', 'ce-source': '/mycontext', 'ce-id': id, 'ce-time': '2018-04-05T17:31:00Z', 'ce-comexampleextension1': 'value', 'ce-comexampleothervalue': '5',
  });
  const thrift = Buffer.from([0x80, 0x01, 0x00, 0x01, 0xff, 0x00]);

  it('Binary-valued data: data_base64 → the raw bytes, Content-Type the datacontenttype', () => {
    const msg = toHttpBinary(structured(`{${attributes}, "id" : "A234-1234-1234", "datacontenttype" : "application/vnd.apache.thrift.binary", "data_base64" : "${thrift.toString('base64')}"}`));
    assert.deepEqual(msg.headers, { ...headers('A234-1234-1234'), 'content-type': 'application/vnd.apache.thrift.binary' });
    assert.deepEqual(msg.body, thrift);
  });

  it('an XML string with a non-JSON content type: the string itself is the body; "unsetextension": null is unset', () => {
    const msg = toHttpBinary(structured(`{${attributes}, "id" : "B234-1234-1234", "unsetextension": null, "datacontenttype" : "application/xml", "data" : "<much wow=\\"xml\\"/>"}`));
    assert.deepEqual(msg.headers, { ...headers('B234-1234-1234'), 'content-type': 'application/xml' });
    assert.equal(msg.body.toString('utf8'), '<much wow="xml"/>');
  });

  it('a JSON object with a JSON content type: the data member as written; "subject": null is unset', () => {
    const data = '{\n        "appinfoA" : "abc",\n        "appinfoB" : 123,\n        "appinfoC" : true\n    }';
    const msg = toHttpBinary(structured(`{${attributes}, "subject": null, "id" : "C234-1234-1234", "datacontenttype" : "application/json", "data" : ${data}}`));
    assert.deepEqual(msg.headers, { ...headers('C234-1234-1234'), 'content-type': 'application/json' });
    assert.equal(msg.body.toString('utf8'), data);
    assert.deepEqual(JSON.parse(msg.body.toString('utf8')), { appinfoA: 'abc', appinfoB: 123, appinfoC: true });
  });

  // "Note that the Content Type is explicitly set to the application/json value that was
  // implicit in JSON format. Note also that the content is quoted to indicate that it is a
  // literal JSON string."
  it('a string with no datacontenttype: Content-Type application/json and the quoted string as the body', () => {
    const msg = toHttpBinary(structured(`{${attributes}, "subject": null, "id" : "D234-1234-1234", "data" : "I'm just a string"}`));
    assert.deepEqual(msg.headers, { ...headers('D234-1234-1234'), 'content-type': 'application/json' });
    assert.equal(msg.body.toString('utf8'), '"I\'m just a string"');
  });

  // §3.1.1: "the data member MAY have a value of null, representing an explicit null
  // payload as distinct from the absence of the data member."
  it('data null is an explicit JSON null payload, not the absence of data', () => {
    assert.equal(toHttpBinary(structured('{"specversion":"1.0","id":"n","source":"/s","type":"t","data":null}')).body.toString(), 'null');
    assert.equal(structured('{"specversion":"1.0","id":"n","source":"/s","type":"t"}').data, undefined);
  });

  // §3.1.2: "if the data member is a string, a JSON deserializer MUST interpret it directly
  // as a JSON String value; it MUST NOT further deserialize the string as a JSON document."
  it('a string that holds JSON stays a JSON string', () => {
    assert.equal(toHttpBinary(structured('{"specversion":"1.0","id":"n","source":"/s","type":"t","datacontenttype":"application/json","data":"{\\"a\\":1}"}')).body.toString(), '"{\\"a\\":1}"');
  });

  // §3.1.1: "the presence of the data and data_base64 members is mutually exclusive".
  it('data and data_base64 together are refused', () => {
    refused(() => structured('{"specversion":"1.0","id":"n","source":"/s","type":"t","data":1,"data_base64":"AA=="}'), /both "data" and "data_base64"/);
  });

  // §3.1.2: not JSON-formatted, "An implementation MAY fail to deserialize the event if
  // the data member is not a string".
  it('a non-string data member with a non-JSON content type is refused, naming the fix', () => {
    refused(() => structured('{"specversion":"1.0","id":"n","source":"/s","type":"t","datacontenttype":"text/plain","data":{"a":1}}'), /"data" must be a JSON string when datacontenttype "text\/plain" is not JSON/);
  });

  it('data_base64 that is not base64 is refused', () => {
    refused(() => structured('{"specversion":"1.0","id":"n","source":"/s","type":"t","data_base64":"not base64!"}'), /"data_base64" must be a string of RFC 4648 base64/);
  });
});

// json-format.md §2.2 "Type System Mapping" and spec.md "Type System".
describe('json-format.md §2.2: attribute values by the type-system mapping', () => {
  const withExt = (value: string): ReturnType<typeof fromHttp> => structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":${value}}`);
  it('"Integer: number, only the integer component optionally prefixed with a minus sign"', () => {
    assert.equal(withExt('-2147483648').attributes.ext, -2147483648);
    assert.equal(withExt('2147483647').attributes.ext, 2147483647);
    refused(() => withExt('2147483648'), /attribute "ext" must be an Integer from -2147483648 to 2147483647/);
    refused(() => withExt('1.0'), /attribute "ext" must be a string, boolean or Integer \(digits with an optional minus sign\), got 1.0/);
    refused(() => withExt('5e2'), /got 5e2/);
  });
  it('Boolean is a JSON boolean', () => assert.equal(withExt('true').attributes.ext, true));
  it('an object or an array is no attribute type', () => {
    refused(() => withExt('{"a":1}'), /attribute "ext" must be a string, boolean or Integer, got an object/);
    refused(() => withExt('[1]'), /got an array/);
  });
  it('"When decoding attributes and a null value is encountered, it MUST be treated as the equivalent of unset"', () => {
    assert.equal('ext' in withExt('null').attributes, false);
  });
  it('String: "\\uDEAD" is invalid, "\\uD800\\uDEAD" is legal (spec.md, String)', () => {
    refused(() => withExt('"\\uDEAD"'), /attribute "ext" holds U\+DEAD/);
    assert.equal(withExt('"\\uD800\\uDEAD"').attributes.ext, '\uD800\uDEAD');
  });
  it('String: control characters U+0000–U+001F and U+007F–U+009F are disallowed', () => {
    refused(() => withExt('"a\\u0007"'), /holds U\+0007/);
    refused(() => withExt('"a\\u0085"'), /holds U\+0085/);
    refused(() => binary({ 'ce-subject': 'a%0Ab' }), /attribute "subject" holds U\+000A/);
  });
  it('String: noncharacters are disallowed', () => refused(() => withExt('"\\uFFFE"'), /holds U\+FFFE/));
});

// spec.md, "REQUIRED Attributes" and "OPTIONAL Attributes".
describe('spec.md: attribute constraints', () => {
  const rows: Array<{ name: string; headers: Record<string, string>; ok: boolean; want?: RegExp }> = [
    // time: "If present, MUST adhere to the format specified in RFC 3339"
    { name: 'time in UTC', headers: { 'ce-time': '2018-04-05T17:31:00Z' }, ok: true },
    { name: 'time with a fraction (RFC 3339 §5.8)', headers: { 'ce-time': '1985-04-12T23:20:50.52Z' }, ok: true },
    { name: 'time with a negative offset (RFC 3339 §5.8)', headers: { 'ce-time': '1996-12-19T16:39:57-08:00' }, ok: true },
    { name: 'time on a leap second (RFC 3339 §5.8)', headers: { 'ce-time': '1990-12-31T23:59:60Z' }, ok: true },
    { name: 'time with lower-case t and z (RFC 3339 §5.6 NOTE)', headers: { 'ce-time': '2018-04-05t17:31:00z' }, ok: true },
    { name: 'time with offset +25:00', headers: { 'ce-time': '2018-04-05T17:31:00+25:00' }, ok: false, want: /attribute "time" .*out of range/ },
    { name: 'time with offset +05 (no minutes)', headers: { 'ce-time': '2018-04-05T17:31:00+05' }, ok: false, want: /attribute "time" must be an RFC 3339 date-time with an offset/ },
    { name: 'time without an offset', headers: { 'ce-time': '2018-04-05T17:31:00' }, ok: false, want: /attribute "time" must be an RFC 3339 date-time with an offset/ },
    { name: 'time on 30 February', headers: { 'ce-time': '2026-02-30T00:00:00Z' }, ok: false, want: /attribute "time" .*out of range/ },
    { name: 'time 29 February of a leap year', headers: { 'ce-time': '2024-02-29T00:00:00Z' }, ok: true },
    { name: 'time at hour 24', headers: { 'ce-time': '2026-01-01T24:00:00Z' }, ok: false, want: /out of range/ },
    { name: 'time with a space for T', headers: { 'ce-time': '2026-01-01%2000:00:00Z' }, ok: false, want: /attribute "time"/ },
    // datacontenttype: "If present, MUST adhere to the format specified in RFC 2046"
    { name: 'datacontenttype with a parameter', headers: { 'content-type': 'text/plain; charset=utf-8' }, ok: true },
    { name: 'datacontenttype with a quoted parameter', headers: { 'content-type': 'multipart/mixed; boundary="a b"' }, ok: true },
    { name: 'datacontenttype from the spec example', headers: { 'content-type': 'application/vnd.apache.thrift.binary' }, ok: true },
    { name: 'datacontenttype xyz', headers: { 'content-type': 'xyz' }, ok: false, want: /attribute "datacontenttype" must be an RFC 2046 media type/ },
    { name: 'datacontenttype without a subtype', headers: { 'content-type': 'text/' }, ok: false, want: /datacontenttype/ },
    { name: 'datacontenttype with a parameter without a value', headers: { 'content-type': 'text/plain; charset' }, ok: false, want: /datacontenttype/ },
    // source: "MUST be a non-empty URI-reference"; the spec's own examples
    { name: 'source https URI', headers: { 'ce-source': 'https://github.com/cloudevents' }, ok: true },
    { name: 'source mailto', headers: { 'ce-source': 'mailto:cncf-wg-serverless@lists.cncf.io' }, ok: true },
    { name: 'source URN', headers: { 'ce-source': 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66' }, ok: true },
    { name: 'source relative path', headers: { 'ce-source': '/sensors/tn-1234567/alerts' }, ok: true },
    { name: 'source 1-555-123-4567', headers: { 'ce-source': '1-555-123-4567' }, ok: true },
    { name: 'source with a space', headers: { 'ce-source': 'a%20b' }, ok: false, want: /attribute "source" must be a URI-reference/ },
    // dataschema: "If present, MUST be a non-empty URI" (absolute, RFC 3986 §4.3)
    { name: 'dataschema absolute', headers: { 'ce-dataschema': 'https://example.com/schema/v1' }, ok: true },
    { name: 'dataschema relative', headers: { 'ce-dataschema': '/schema/v1' }, ok: false, want: /attribute "dataschema" must be an absolute URI/ },
    // subject: "If present, MUST be a non-empty string"
    { name: 'subject empty', headers: { 'ce-subject': '' }, ok: false, want: /attribute "subject" must be a non-empty string/ },
    // id: "MUST be a non-empty string"
    { name: 'id empty', headers: { 'ce-id': '' }, ok: false, want: /missing required attribute "id"/ },
    // "Attribute names MUST consist of lower-case letters ('a' to 'z') or digits ('0' to '9')"
    { name: 'an extension name with an underscore', headers: { 'ce-my_ext': 'x' }, ok: false, want: /invalid attribute name "my_ext"/ },
    { name: 'an extension name longer than 20 characters (only a SHOULD)', headers: { 'ce-averyveryverylongextensionname': 'x' }, ok: true },
  ];
  for (const row of rows) {
    it(`${row.name}: ${row.ok ? 'accepted' : 'refused'}`, () => {
      if (row.ok) binary(row.headers);
      else refused(() => binary(row.headers), row.want ?? /./);
    });
  }
});

// http-protocol-binding.md §3.1.3.2 "HTTP Header Values".
describe('http-protocol-binding.md §3.1.3.2: header values', () => {
  it('"Euro € 😀" SHOULD be encoded as "Euro%20%E2%82%AC%20%F0%9F%98%80"', () => {
    assert.equal(toHttpBinary(binary({ 'ce-subject': 'Euro%20%E2%82%AC%20%F0%9F%98%80' })).headers['ce-subject'], 'Euro%20%E2%82%AC%20%F0%9F%98%80');
    assert.equal(binary({ 'ce-subject': 'Euro%20%E2%82%AC%20%F0%9F%98%80' }).attributes.subject, 'Euro € 😀');
  });
  it('"decoding MUST accept lower-case values"', () => assert.equal(binary({ 'ce-subject': '%e2%82%ac' }).attributes.subject, '€'));
  it('"values that have been unnecessarily percent-encoded MUST be accepted"', () => assert.equal(binary({ 'ce-subject': '%41' }).attributes.subject, 'A'));
  it('"%C0%A0 is an overlong encoding of U+0020, and MUST be rejected"', () => refused(() => binary({ 'ce-subject': '%C0%A0' }), /not valid UTF-8/));
  it('double-quoted values "MUST be supported when receiving events"', () => assert.equal(binary({ 'ce-subject': '"a b \\"c\\""' }).attributes.subject, 'a b "c"'));
  // §3.1.1: "a ce-datacontenttype HTTP header MUST NOT also be present in the message"
  it('datacontenttype travels as Content-Type only', () => {
    const msg = toHttpBinary(binary({ 'content-type': 'text/plain' }, 'x'));
    assert.equal(msg.headers['content-type'], 'text/plain');
    assert.equal('ce-datacontenttype' in msg.headers, false);
  });
  // §3.1.2: "The data byte-sequence is used as the HTTP message body."
  it('a binary-mode body labelled JSON is data, not checked as JSON', () => {
    assert.equal(String(binary({ 'content-type': 'application/json' }, '{not json').data), '{not json');
  });
});
