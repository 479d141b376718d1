// Properties of the codecs over generated inputs: whatever the bytes or the JSON text,
// what goes in is what comes out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHttp, toHttpBinary } from '../../../pkg/events/cloudevents/http.js';
import { fromNatsMessage, toNatsMessage } from '../../../pkg/events/cloudevents/nats.js';
import { fromStructured } from '../../../pkg/events/cloudevents/structured.js';
import { jsonSpace, jsonText } from '../../util/json-text.js';
import { ev } from './fixtures.js';

const contentTypes = fc.constantFrom(undefined, 'application/json', 'application/octet-stream', 'text/plain; charset=utf-8', 'image/png', 'application/vnd.kfn+json');
const bytes = fc.uint8Array({ maxLength: 4096 });
const structuredEnvelope = (member: string, space: string, datacontenttype?: string): Buffer =>
  Buffer.from(`{"specversion":"1.0","id":"p-1","source":"/props","type":"t"${datacontenttype === undefined ? '' : `,"datacontenttype":"${datacontenttype}"`},${space}"data"${space}:${space}${member}${space}}`);

describe('codec properties', () => {
  it('binary mode over HTTP: any bytes under any content type come out as they went in', () => {
    fc.assert(
      fc.property(bytes, contentTypes, (data, type) => {
        const event = ev(type === undefined ? {} : { datacontenttype: type }, data);
        const msg = toHttpBinary(event);
        assert.deepEqual(msg.body, Buffer.from(data));
        assert.deepEqual(fromHttp(msg.headers, msg.body), event);
      }),
      { numRuns: 300 },
    );
  });

  it('binary mode over NATS: any bytes under any content type come out as they went in', () => {
    fc.assert(
      fc.property(bytes, contentTypes, (data, type) => {
        const event = ev(type === undefined ? {} : { datacontenttype: type }, data);
        const msg = toNatsMessage(event);
        assert.deepEqual(fromNatsMessage({ subject: 's', headers: msg.headers, data: msg.data, stream: 'S', seq: 1 }), event);
      }),
      { numRuns: 300 },
    );
  });

  it('structured mode: the data member reaches the function as the producer wrote it', () => {
    fc.assert(
      fc.property(jsonText, jsonSpace, fc.constantFrom(undefined, 'application/json', 'application/cloudevents+json', 'text/json'), (text, space, type) => {
        const event = fromStructured(structuredEnvelope(text, space, type));
        assert.equal(event.data?.toString('utf8'), text);
        assert.deepEqual(toHttpBinary(event).body, Buffer.from(text, 'utf8'));
      }),
      { numRuns: 500 },
    );
  });

  it('structured mode: data_base64 decodes to the bytes that were encoded', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        const body = Buffer.from(JSON.stringify({ specversion: '1.0', id: 'b', source: '/s', type: 't', data_base64: Buffer.from(data).toString('base64') }));
        assert.deepEqual(fromStructured(body).data ?? Buffer.alloc(0), Buffer.from(data));
      }),
      { numRuns: 300 },
    );
  });

  it('attribute values of any Unicode survive the percent-encoding of both bindings', () => {
    const allowed = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((s) => !/[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u.test(s));
    fc.assert(
      fc.property(allowed, allowed, (subject, ext) => {
        const event = ev({ subject, myext: ext });
        const http = toHttpBinary(event);
        assert.deepEqual(fromHttp(http.headers, http.body), event);
        const nats = toNatsMessage(event);
        assert.deepEqual(fromNatsMessage({ subject: 's', headers: nats.headers, data: nats.data, stream: 'S', seq: 1 }), event);
      }),
      { numRuns: 300 },
    );
  });
});
