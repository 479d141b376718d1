// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasWildcard, isLiteralSubject, isValidSubject, subjectMatches } from '../../../pkg/apis/trigger/subject.js';

describe('subjectMatches, with NATS semantics', () => {
  const rows: [pattern: string, subject: string, want: boolean][] = [
    ['orders.created', 'orders.created', true],
    ['orders.created', 'orders.updated', false],
    ['orders.created', 'orders', false],
    ['orders', 'orders.created', false],
    ['orders.*', 'orders.eu', true],
    ['orders.*', 'orders', false],
    ['orders.*', 'orders.eu.new', false],
    ['*.created', 'orders.created', true],
    ['*.*', 'a.b', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['orders.>', 'orders.eu', true],
    ['orders.>', 'orders.eu.new', true],
    ['orders.>', 'orders', false],
    ['>', 'a', true],
    ['>', 'a.b.c', true],
    ['*.>', 'a', false],
    ['*.>', 'a.b', true],
    ['orders.*.new', 'orders.eu.new', true],
    ['orders.*.new', 'orders.eu.old', false],
    ['a+b', 'aab', false],
    ['$JS.API.>', '$JS.API.STREAM.INFO', true],
    ['Orders', 'orders', false],
  ];
  for (const [pattern, subject, want] of rows) {
    it(`${pattern} ${want ? 'matches' : 'does not match'} ${subject}`, () => {
      assert.equal(subjectMatches(pattern, subject), want);
    });
  }
});

describe('isValidSubject and isLiteralSubject', () => {
  const rows: [subject: string, valid: boolean, literal: boolean][] = [
    ['a', true, true],
    ['orders.eu.created', true, true],
    ['$KFN.dead', true, true],
    ['a-b_c.d:e', true, true],
    ['*', true, false],
    ['>', true, false],
    ['a.*.c', true, false],
    ['a.>', true, false],
    ['', false, false],
    ['.a', false, false],
    ['a.', false, false],
    ['a..b', false, false],
    ['a*', false, false],
    ['a.b>', false, false],
    ['a.>.b', false, false],
    ['a b', false, false],
    ['a\tb', false, false],
    ['a\r\nb', false, false],
    ['x'.repeat(255), true, true],
    ['x'.repeat(256), false, false],
  ];
  for (const [subject, valid, literal] of rows) {
    it(`${JSON.stringify(subject.length > 20 ? `${subject.slice(0, 4)}…(${subject.length})` : subject)} is ${valid ? 'valid' : 'invalid'}${literal ? ' and literal' : ''}`, () => {
      assert.equal(isValidSubject(subject), valid, 'isValidSubject');
      assert.equal(isLiteralSubject(subject), literal, 'isLiteralSubject');
      if (valid) assert.equal(hasWildcard(subject), !literal, 'hasWildcard');
    });
  }
});
