import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { KubeObject } from './types.js';

const obj = (labels: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject => ({ metadata: { name: 'n', namespace: 'ns', labels }, ...extra });

describe('label selectors', () => {
  const rows: { name: string; selector: string; labels: Record<string, string>; want: boolean }[] = [
    { name: 'empty matches all', selector: '', labels: {}, want: true },
    { name: 'equality', selector: 'a=b', labels: { a: 'b' }, want: true },
    { name: 'double equals', selector: 'a==b', labels: { a: 'b' }, want: true },
    { name: 'all terms must hold', selector: 'a=b,c=d', labels: { a: 'b', c: 'x' }, want: false },
    { name: 'inequality matches a missing label', selector: 'a!=b', labels: {}, want: true },
    { name: 'exists', selector: 'a', labels: { a: '' }, want: true },
    { name: 'does not exist', selector: '!a', labels: { a: 'x' }, want: false },
    { name: 'in', selector: 'env in (prod, staging),a=b', labels: { env: 'staging', a: 'b' }, want: true },
    { name: 'notin', selector: 'env notin (prod)', labels: { env: 'prod' }, want: false },
  ];
  for (const r of rows) {
    it(r.name, () => assert.equal(parseLabelSelector(r.selector)(obj(r.labels)), r.want));
  }

  it('rejects garbage as a 400', () => {
    assert.throws(() => parseLabelSelector('a b c'), (e: { status?: { code: number } }) => e.status?.code === 400);
  });
});

describe('field selectors', () => {
  it('match dotted paths with = and !=', () => {
    const pod = obj({}, { spec: { nodeName: 'node-1' } });
    assert.equal(parseFieldSelector('metadata.name=n,metadata.namespace==ns')(pod), true);
    assert.equal(parseFieldSelector('spec.nodeName!=node-1')(pod), false);
    assert.equal(parseFieldSelector('spec.missing=')(pod), true);
  });

  it('reject set operators', () => {
    assert.throws(() => parseFieldSelector('metadata.name in (a)'));
  });
});
