// spec.loadBalancing compiled for the throttler, and a request's hash key read from its
// headers, cookie or client address; hostile header values included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancingOf, cookieValue, DEFAULT_BALANCING, hashKeyOf } from '../../pkg/activator/balancing.js';
import { hashString } from '../../pkg/activator/hash.js';

describe('balancingOf', () => {
  it('is the default, with no ejection, when unset', () => {
    assert.equal(balancingOf(undefined), DEFAULT_BALANCING);
    assert.deepEqual(balancingOf({}), DEFAULT_BALANCING);
  });
  it('fills outlier detection defaults as Envoy: 5 in a row, 30 s, 300 s cap, 10 %', () => {
    assert.deepEqual(balancingOf({ outlierDetection: {} }).outlier, { consecutive5xx: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 10 });
  });
  it('reads durations and a lower-cased header name', () => {
    const b = balancingOf({
      policy: 'consistentHash',
      consistentHash: { header: 'X-User-Id' },
      outlierDetection: { consecutive5xx: 2, baseEjectionTime: '1m30s', maxEjectionTime: '10m', maxEjectionPercent: 50 },
    });
    assert.deepEqual(b.hashOn, { kind: 'header', name: 'x-user-id' });
    assert.deepEqual(b.outlier, { consecutive5xx: 2, baseEjectionMs: 90_000, maxEjectionMs: 600_000, maxEjectionPercent: 50 });
  });
  it('keeps a cookie name as written (cookie names are case-sensitive)', () => {
    assert.deepEqual(balancingOf({ policy: 'consistentHash', consistentHash: { cookie: 'SessionID' } }).hashOn, { kind: 'cookie', name: 'SessionID' });
  });
  it('reads leastRequest choiceCount, 2 by default', () => {
    assert.equal(balancingOf({ policy: 'leastRequest' }).choiceCount, 2);
    assert.equal(balancingOf({ policy: 'leastRequest', leastRequest: { choiceCount: 5 } }).choiceCount, 5);
  });
});

describe('cookieValue', () => {
  // RFC 6265 §4.2.1: cookie-string = cookie-pair *( ";" SP cookie-pair )
  const rows: Array<[string, string, string, string | undefined]> = [
    ['the only cookie', 'session=abc', 'session', 'abc'],
    ['among others', 'theme=dark; session=abc; lang=en', 'session', 'abc'],
    ['the last one', 'a=1; session=xyz', 'session', 'xyz'],
    ['absent', 'a=1; b=2', 'session', undefined],
    ['a name that only ends the same', 'mysession=1; session=2', 'session', '2'],
    ['a value with = in it', 'session=a=b', 'session', 'a=b'],
    ['quoted, kept as sent', 'session="abc"', 'session', '"abc"'],
    ['empty value', 'session=', 'session', ''],
    ['no = at all', 'session; a=1', 'session', undefined],
    ['names are case-sensitive', 'Session=1', 'session', undefined],
    ['empty header', '', 'session', undefined],
    ['only separators', ';;; ;', 'session', undefined],
    ['no space after ;', 'a=1;session=2', 'session', '2'],
  ];
  for (const [name, header, cookie, want] of rows) it(name, () => assert.equal(cookieValue(header, cookie), want));

  it('scans a hostile 64 KiB header of separators in linear time', () => {
    const header = `${'a=b;'.repeat(16_384)}session=found`;
    assert.equal(cookieValue(header, 'session'), 'found');
  });
});

describe('hashKeyOf', () => {
  const headers = ['Host', 'hello.default.kfn.local', 'X-User', 'alice', 'Cookie', 'theme=dark; session=s1', 'cookie', 'session2=x'];
  it('hashes the named header, whatever its case', () => assert.equal(hashKeyOf({ kind: 'header', name: 'x-user' }, headers, undefined), hashString('alice')));
  it('has no key when the header is absent', () => assert.equal(hashKeyOf({ kind: 'header', name: 'x-tenant' }, headers, undefined), undefined));
  it('hashes the named cookie', () => assert.equal(hashKeyOf({ kind: 'cookie', name: 'session' }, headers, undefined), hashString('s1')));
  it('finds a cookie in a second Cookie header', () => assert.equal(hashKeyOf({ kind: 'cookie', name: 'session2' }, headers, undefined), hashString('x')));
  it('has no key without the cookie', () => assert.equal(hashKeyOf({ kind: 'cookie', name: 'cart' }, headers, undefined), undefined));
  it('hashes the client address', () => assert.equal(hashKeyOf({ kind: 'clientAddress' }, headers, '10.1.2.3'), hashString('10.1.2.3')));
  it('has no key without a client address (a call from inside the process)', () => assert.equal(hashKeyOf({ kind: 'clientAddress' }, headers, undefined), undefined));
});
