import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointIndex } from '../../../pkg/platform/kubernetes/endpoint-index.js';
import type { EndpointsUpdate } from '../../../pkg/platform/types.js';
import { ep, slice } from './fixtures.js';

function recording(): { index: EndpointIndex; updates: string[] } {
  const updates: string[] = [];
  const show = (u: EndpointsUpdate): string => `${u.key.namespace}/${u.key.name}: ${u.endpoints.map((e) => `${e.id}@${e.host}:${e.port}`).join(' ')}`.trimEnd();
  return { index: new EndpointIndex((u) => updates.push(show(u))), updates };
}

describe('EndpointIndex: EndpointSlice changes to per-function endpoint updates', () => {
  it('reports a function when its ready set changes, and only then', () => {
    const { index, updates } = recording();
    index.apply('add', slice('hello', [ep('10.0.0.1', { pod: 'a' })]));
    // A not-ready pod appearing changes no ready set.
    index.apply('update', slice('hello', [ep('10.0.0.1', { pod: 'a' }), ep('10.0.0.2', { pod: 'b', ready: false })]));
    index.apply('update', slice('hello', [ep('10.0.0.1', { pod: 'a' }), ep('10.0.0.2', { pod: 'b' })]));
    index.apply('update', slice('hello', [ep('10.0.0.2', { pod: 'b' }), ep('10.0.0.1', { pod: 'a', ready: false })]));
    assert.deepEqual(updates, ['default/hello: a@10.0.0.1:8080', 'default/hello: a@10.0.0.1:8080 b@10.0.0.2:8080', 'default/hello: b@10.0.0.2:8080']);
  });

  it('merges the slices of a function and reports an empty set when the last goes', () => {
    const { index, updates } = recording();
    index.apply('add', slice('hello', [ep('10.0.0.1', { pod: 'a' })], { name: 's1' }));
    index.apply('add', slice('hello', [ep('10.0.0.2', { pod: 'b' })], { name: 's2' }));
    index.apply('delete', slice('hello', [ep('10.0.0.1', { pod: 'a' })], { name: 's1' }));
    index.apply('delete', slice('hello', [], { name: 's2' }));
    assert.deepEqual(updates, ['default/hello: a@10.0.0.1:8080', 'default/hello: a@10.0.0.1:8080 b@10.0.0.2:8080', 'default/hello: b@10.0.0.2:8080', 'default/hello:']);
    assert.deepEqual(index.current(), []);
  });

  it('keeps functions and namespaces apart, and ignores slices of other Services', () => {
    const { index, updates } = recording();
    index.apply('add', slice('hello', [ep('10.0.0.1', { pod: 'a' })]));
    index.apply('add', slice('hello', [ep('10.0.1.1', { pod: 'a' })], { namespace: 'team-b' }));
    index.apply('add', slice('hello', [ep('10.0.2.1')], { service: 'hello' }));
    assert.deepEqual(updates, ['default/hello: a@10.0.0.1:8080', 'team-b/hello: a@10.0.1.1:8080']);
    assert.deepEqual(
      index.current().map((u) => u.key),
      [
        { namespace: 'default', name: 'hello' },
        { namespace: 'team-b', name: 'hello' },
      ],
    );
    assert.deepEqual(index.endpoints({ namespace: 'team-b', name: 'hello' }).map((e) => e.host), ['10.0.1.1']);
  });

  it('a slice created with nothing ready reports nothing', () => {
    const { index, updates } = recording();
    index.apply('add', slice('hello', [ep('10.0.0.1', { ready: false })]));
    index.apply('delete', slice('hello', []));
    assert.deepEqual(updates, []);
  });
});
