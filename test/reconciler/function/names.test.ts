import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { childName, MAX_CHILD_NAME_LENGTH, replicasServiceName, REPLICAS_SERVICE_SUFFIX } from '../../../pkg/reconciler/function/names.js';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';

// What the API server checks a Service name against (apimachinery IsDNS1035Label).
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const isDns1035Label = (s: string): boolean => s.length <= 63 && DNS1035.test(s);

const fnNamed = (name: string): KfnFunction => ({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, namespace: 'default' }, spec: { image: 'x' } });

/** A valid Function name (DNS-1035 label) of `n` characters. */
function nameOf(n: number): string {
  return n === 1 ? 'f' : `f${'a'.repeat(n - 2)}9`;
}

describe('childName: every child of a valid Function name is a valid Service name', () => {
  it('leaves names that fit alone: <fn>-replicas up to 63 characters', () => {
    assert.equal(replicasServiceName(fnNamed('hello')), 'hello-replicas');
    const longestPlain = nameOf(MAX_CHILD_NAME_LENGTH - REPLICAS_SERVICE_SUFFIX.length);
    assert.equal(childName(longestPlain, '-replicas'), `${longestPlain}-replicas`);
  });

  it('matches Knative kmeta.ChildName for a parent too long for the suffix', () => {
    // kmeta: parent[:31-len(suffix)] + md5hex(parent) + suffix; the expected value was
    // computed apart from this code, with Python's hashlib.
    const got = childName(nameOf(62), '-replicas');
    assert.equal(got, 'faaaaaaaaaaaaaaaaaaaaa46f9aa682f9831d7eeb661acb57f29d6-replicas');
    assert.equal(got.length, 63);
  });

  const rows = Array.from({ length: 63 }, (_, i) => i + 1);
  for (const n of rows) {
    it(`a ${n}-character Function name gives a valid, stable replicas Service name`, () => {
      const name = nameOf(n);
      const got = replicasServiceName(fnNamed(name));
      assert.ok(isDns1035Label(got), `${got} (${got.length}) is a DNS-1035 label`);
      assert.equal(replicasServiceName(fnNamed(name)), got, 'stable');
      if (n + REPLICAS_SERVICE_SUFFIX.length <= 63) assert.equal(got, `${name}-replicas`);
    });
  }

  it('property: any valid Function name gives a valid child, stable, and distinct parents give distinct children', () => {
    const label = fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(
      fc.property(label, label, (a, b) => {
        const ca = childName(a, REPLICAS_SERVICE_SUFFIX);
        assert.ok(isDns1035Label(ca), `${a} → ${ca}`);
        assert.equal(childName(a, REPLICAS_SERVICE_SUFFIX), ca);
        if (a !== b) assert.notEqual(ca, childName(b, REPLICAS_SERVICE_SUFFIX));
      }),
      { numRuns: 2000 },
    );
  });

  it('two long names that differ only after the kept prefix still get distinct children', () => {
    const a = `${'p'.repeat(60)}ab`;
    const b = `${'p'.repeat(60)}ba`;
    assert.notEqual(childName(a, '-replicas'), childName(b, '-replicas'));
  });

  it('refuses a suffix that leaves no room for the parent', () => {
    assert.throws(() => childName('x', `-${'s'.repeat(31)}`), /too long/);
  });
});
