import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventFormatError } from '../../../pkg/events/cloudevents/event.js';
import { functionSource, replyEvent, type FunctionResponse } from '../../../pkg/events/cloudevents/reply.js';
import { ev } from './fixtures.js';

const request = ev({ id: 'req-1', type: 'com.example.order.created' });
const fnSource = functionSource('shop', 'billing');
const res = (headers: Record<string, string>, body: string | Buffer, status = 200): FunctionResponse => ({
  status,
  headers,
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});

describe('replyEvent', () => {
  it('functionSource is the function\'s API path', () => {
    assert.equal(fnSource, '/apis/kfn.dev/v1alpha1/namespaces/shop/functions/billing');
  });

  it('no body → no reply', () => {
    assert.equal(replyEvent(request, res({ 'content-type': 'application/json' }, ''), fnSource), undefined);
  });

  it('non-2xx → no reply, even with a body', () => {
    assert.equal(replyEvent(request, res({ 'content-type': 'application/json' }, '{"error":"x"}', 500), fnSource), undefined);
  });

  const rows: Array<{ name: string; response: FunctionResponse; want: Record<string, unknown>; wantData: string | Buffer; newId?: boolean }> = [
    {
      name: 'plain JSON body: type <request>.reply, function source, new id, parent id, the body byte for byte',
      response: res({ 'content-type': 'application/json' }, '{"invoice": 7, "big": 12345678901234567890}\n'),
      want: { type: 'com.example.order.created.reply', source: fnSource, datacontenttype: 'application/json', kfnparentid: 'req-1', specversion: '1.0', time: undefined },
      wantData: '{"invoice": 7, "big": 12345678901234567890}\n',
      newId: true,
    },
    {
      name: 'plain non-JSON body stays bytes with its content type',
      response: res({ 'Content-Type': 'text/csv' }, 'a,b\n1,2\n'),
      want: { type: 'com.example.order.created.reply', datacontenttype: 'text/csv' },
      wantData: 'a,b\n1,2\n',
      newId: true,
    },
    {
      name: 'plain body without content type: bytes, no datacontenttype',
      response: res({}, Buffer.from([1, 2, 3])),
      want: { datacontenttype: undefined },
      wantData: Buffer.from([1, 2, 3]),
      newId: true,
    },
    {
      name: 'a body labelled JSON that is not JSON is passed on as it is',
      response: res({ 'content-type': 'application/json' }, '{not json'),
      want: { datacontenttype: 'application/json' },
      wantData: '{not json',
      newId: true,
    },
    {
      name: 'a ce-type header alone names the type',
      response: res({ 'ce-type': 'com.example.invoice.issued', 'content-type': 'application/json' }, '{}'),
      want: { type: 'com.example.invoice.issued', source: fnSource, kfnparentid: 'req-1' },
      wantData: '{}',
      newId: true,
    },
    {
      name: 'a full binary CloudEvent response is used as is',
      response: res({ 'ce-specversion': '1.0', 'ce-id': 'out-9', 'ce-source': '/billing', 'ce-type': 'invoice', 'ce-myext': 'v', 'content-type': 'application/json' }, '[1]'),
      want: { id: 'out-9', source: '/billing', type: 'invoice', myext: 'v', kfnparentid: 'req-1' },
      wantData: '[1]',
    },
    {
      name: 'a binary CloudEvent missing id and source gets them filled',
      response: res({ 'ce-specversion': '1.0', 'ce-type': 'invoice' }, 'x'),
      want: { type: 'invoice', source: fnSource },
      wantData: 'x',
      newId: true,
    },
    {
      name: 'a structured CloudEvent missing id and source gets them filled; its data as written',
      response: res({ 'content-type': 'application/cloudevents+json' }, '{"specversion":"1.0","type":"invoice","data":{ "n" : 1.10 }}'),
      want: { type: 'invoice', source: fnSource, kfnparentid: 'req-1', datacontenttype: 'application/json' },
      wantData: '{ "n" : 1.10 }',
      newId: true,
    },
    {
      name: 'a parent id the function set itself is kept',
      response: res({ 'ce-kfnparentid': 'other', 'content-type': 'application/json' }, '1'),
      want: { kfnparentid: 'other' },
      wantData: '1',
      newId: true,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = replyEvent(request, row.response, fnSource);
      assert.ok(got);
      for (const [k, v] of Object.entries(row.want)) assert.equal(got.attributes[k], v, k);
      assert.deepEqual(got.data, Buffer.from(row.wantData));
      if (row.newId) {
        assert.match(String(got.attributes.id), /^[0-9a-f-]{36}$/);
        assert.notEqual(got.attributes.id, request.attributes.id);
      }
    });
  }

  it('a malformed CloudEvent response is an EventFormatError', () => {
    assert.throws(() => replyEvent(request, res({ 'content-type': 'application/cloudevents+json' }, '{oops'), fnSource), EventFormatError);
    assert.throws(() => replyEvent(request, res({ 'ce-specversion': '0.3' }, 'x'), fnSource), /unsupported specversion "0.3"/);
    assert.throws(() => replyEvent(request, res({ 'ce-time': 'yesterday' }, 'x'), fnSource), /attribute "time" must be an RFC 3339 date-time/);
  });
});
