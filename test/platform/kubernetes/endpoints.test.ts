import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { functionKeyOfSlice, readyEndpoints, sameEndpoints } from '../../../pkg/platform/kubernetes/endpoints.js';
import type { ReadyEndpoint } from '../../../pkg/platform/types.js';
import { replicasServiceNameOf } from '../../../pkg/reconciler/function/names.js';
import { ep, slice } from './fixtures.js';

const LONG = `f${'x'.repeat(61)}`; // 62 characters: its replicas Service name is hashed

describe('readyEndpoints: EndpointSlices to the replicas that may get traffic', () => {
  const rows: Array<{ name: string; slices: V1EndpointSlice[]; want: ReadyEndpoint[] }> = [
    { name: 'no slices, no endpoints', slices: [], want: [] },
    {
      name: 'ready endpoints, id from the pod, port named http, sorted by id',
      slices: [slice('hello', [ep('10.0.0.2', { pod: 'hello-b' }), ep('10.0.0.1', { pod: 'hello-a' })])],
      want: [
        { id: 'hello-a', host: '10.0.0.1', port: 8080 },
        { id: 'hello-b', host: '10.0.0.2', port: 8080 },
      ],
    },
    { name: 'ready: false is left out', slices: [slice('hello', [ep('10.0.0.1', { ready: false }), ep('10.0.0.2')])], want: [{ id: 'p-10.0.0.2', host: '10.0.0.2', port: 8080 }] },
    { name: 'ready unset counts as ready, as the API says', slices: [slice('hello', [ep('10.0.0.1', { ready: null })])], want: [{ id: 'p-10.0.0.1', host: '10.0.0.1', port: 8080 }] },
    { name: 'terminating is left out even while still ready', slices: [slice('hello', [ep('10.0.0.1', { terminating: true })])], want: [] },
    { name: 'without a targetRef the address is the id', slices: [slice('hello', [ep('10.0.0.9', { pod: null })])], want: [{ id: '10.0.0.9', host: '10.0.0.9', port: 8080 }] },
    {
      name: 'the port named http wins over others',
      slices: [slice('hello', [ep('10.0.0.1')], { ports: [{ name: 'metrics', port: 9090 }, { name: 'http', port: 3000 }] })],
      want: [{ id: 'p-10.0.0.1', host: '10.0.0.1', port: 3000 }],
    },
    { name: 'a single unnamed port is used', slices: [slice('hello', [ep('10.0.0.1')], { ports: [{ port: 5000 }] })], want: [{ id: 'p-10.0.0.1', host: '10.0.0.1', port: 5000 }] },
    { name: 'a slice with no usable port is skipped', slices: [slice('hello', [ep('10.0.0.1')], { ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }] })], want: [] },
    {
      name: 'endpoints of several slices are merged',
      slices: [slice('hello', [ep('10.0.0.1')], { name: 's1' }), slice('hello', [ep('10.0.0.2')], { name: 's2' })],
      want: [
        { id: 'p-10.0.0.1', host: '10.0.0.1', port: 8080 },
        { id: 'p-10.0.0.2', host: '10.0.0.2', port: 8080 },
      ],
    },
    {
      name: 'a dual-stack pod counts once, at its IPv4 address',
      slices: [slice('hello', [ep('fd00::1', { pod: 'hello-a' })], { name: 'v6', addressType: 'IPv6' }), slice('hello', [ep('10.0.0.1', { pod: 'hello-a' })], { name: 'v4' })],
      want: [{ id: 'hello-a', host: '10.0.0.1', port: 8080 }],
    },
    { name: 'an IPv6-only pod keeps its IPv6 address', slices: [slice('hello', [ep('fd00::1', { pod: 'hello-a' })], { addressType: 'IPv6' })], want: [{ id: 'hello-a', host: 'fd00::1', port: 8080 }] },
    { name: 'FQDN slices are not dialled', slices: [slice('hello', [ep('hello.example.com')], { addressType: 'FQDN' })], want: [] },
    {
      name: 'a pod ready in one slice and not ready in another is ready once',
      slices: [slice('hello', [ep('10.0.0.1', { pod: 'x', ready: false })], { name: 'a' }), slice('hello', [ep('10.0.0.1', { pod: 'x' })], { name: 'b' })],
      want: [{ id: 'x', host: '10.0.0.1', port: 8080 }],
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(readyEndpoints(row.slices), row.want));
  }
});

describe('functionKeyOfSlice: which function a slice belongs to', () => {
  const rows: Array<{ name: string; given: V1EndpointSlice; want: { namespace: string; name: string } | undefined }> = [
    { name: 'the replicas Service of a function', given: slice('hello', [], { namespace: 'team-a' }), want: { namespace: 'team-a', name: 'hello' } },
    { name: 'a function whose own name ends in -replicas', given: slice('x-replicas', []), want: { namespace: 'default', name: 'x-replicas' } },
    { name: 'the public Service (not -replicas) is no function', given: slice('hello', [], { service: 'hello' }), want: undefined },
    { name: 'a bare -replicas service name is no function', given: slice('hello', [], { service: '-replicas' }), want: undefined },
    { name: 'a function with a long name: its hashed replicas Service, through the copied function label', given: slice(LONG, [], { service: replicasServiceNameOf(LONG) }), want: { namespace: 'default', name: LONG } },
    {
      // What is left is the service name read the short way (a 54-character function of that name would own it).
      name: 'a function label that does not hash to the service name is not believed',
      given: slice(LONG, [], { service: replicasServiceNameOf(LONG), labels: { 'kfn.dev/function': 'other' } }),
      want: { namespace: 'default', name: replicasServiceNameOf(LONG).slice(0, -'-replicas'.length) },
    },
    { name: 'a hand-made long <x>-replicas Service is not the hashed child of x', given: slice(LONG, [], { service: `${LONG}-replicas`, labels: { 'kfn.dev/function': 'z' } }), want: undefined },
    { name: 'a slice without the service-name label is no function', given: { metadata: { name: 's', namespace: 'default', labels: {} }, addressType: 'IPv4', endpoints: [] }, want: undefined },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(functionKeyOfSlice(row.given), row.want));
  }
});

describe('sameEndpoints', () => {
  const a = { id: 'a', host: '10.0.0.1', port: 80 };
  it('is true for equal sets and false when an id, host or port differs', () => {
    assert.equal(sameEndpoints([a], [{ ...a }]), true);
    assert.equal(sameEndpoints([], []), true);
    assert.equal(sameEndpoints([a], []), false);
    assert.equal(sameEndpoints([a], [{ ...a, id: 'b' }]), false);
    assert.equal(sameEndpoints([a], [{ ...a, host: '10.0.0.2' }]), false);
    assert.equal(sameEndpoints([a], [{ ...a, port: 81 }]), false);
  });
});
