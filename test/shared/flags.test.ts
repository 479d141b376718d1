import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagReader } from '../../pkg/shared/flags.js';

describe('flagReader', () => {
  const r = flagReader<string>({ port: '8080', empty: '', neg: '-1', frac: '1.5', win: '6s', zero: '0s', yes: 'true', maybe: 'perhaps', bare: true });

  it('reads what is set and leaves unset or empty values undefined', () => {
    assert.equal(r.str('port'), '8080');
    assert.equal(r.str('empty'), undefined);
    assert.equal(r.str('bare'), undefined, 'a boolean switch is not a string value');
    assert.equal(r.int('port', 0), 8080);
    assert.equal(r.num('frac'), 1.5);
    assert.equal(r.duration('win'), 6000);
    assert.equal(r.duration('zero', { allowZero: true }), 0);
    assert.equal(r.bool('yes'), true);
    assert.equal(r.int('missing', 0), undefined);
  });

  const refusals: Array<[string, () => unknown, RegExp]> = [
    ['an integer below its minimum', () => r.int('neg', 0), /--neg: want an integer >= 0, got "-1"/],
    ['a fraction where an integer is wanted', () => r.int('frac', 0), /--frac: want an integer/],
    ['a negative number', () => r.num('neg'), /--neg: want a number >= 0/],
    ['a zero duration unless allowed', () => r.duration('zero', { example: '15s' }), /--zero: want a duration such as 15s, got "0s"/],
    ['a duration without a unit', () => r.duration('port'), /--port: want a duration/],
    ['a boolean that is neither true nor false', () => r.bool('maybe'), /--maybe: want true or false, got "perhaps"/],
  ];
  for (const [name, read, message] of refusals) {
    it(`refuses ${name}, naming the flag`, () => assert.throws(read, message));
  }
});
