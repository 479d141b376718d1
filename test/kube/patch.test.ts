import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch, mergePatch } from './patch.js';

describe('merge patch', () => {
  it('merges objects, deletes on null and replaces lists wholesale', () => {
    const target = { spec: { replicas: 1, template: { c: [1, 2] } }, metadata: { labels: { a: 'x', b: 'y' } } };
    const got = mergePatch(target, { spec: { replicas: 3, template: { c: [9] } }, metadata: { labels: { b: null, c: 'z' } } });
    assert.deepEqual(got, { spec: { replicas: 3, template: { c: [9] } }, metadata: { labels: { a: 'x', c: 'z' } } });
    assert.deepEqual(target.metadata.labels, { a: 'x', b: 'y' }, 'the target is not mutated');
  });
});

describe('JSON patch', () => {
  it('applies add, replace, remove, move, copy and test in order', () => {
    const got = jsonPatch({ a: { b: 1 }, list: ['x'] }, [
      { op: 'test', path: '/a/b', value: 1 },
      { op: 'add', path: '/list/-', value: 'y' },
      { op: 'add', path: '/list/0', value: 'w' },
      { op: 'replace', path: '/a/b', value: 2 },
      { op: 'copy', from: '/a/b', path: '/c' },
      { op: 'move', from: '/c', path: '/d~1e' },
      { op: 'remove', path: '/list/1' },
    ]);
    assert.deepEqual(got, { a: { b: 2 }, list: ['w', 'y'], 'd/e': 2 });
  });

  it('fails on a missing path and on a failed test', () => {
    assert.throws(() => jsonPatch({}, [{ op: 'replace', path: '/nope', value: 1 }]), (e: { status?: { code: number } }) => e.status?.code === 400);
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), (e: { status?: { code: number } }) => e.status?.code === 422);
  });
});
