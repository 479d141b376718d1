import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivatorError, ERROR_STATUS, errorBody, transportError } from '../../pkg/activator/errors.js';

const errno = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

describe('transportError', () => {
  const rows: Array<[string, Error, string, number]> = [
    ['refused', errno('ECONNREFUSED'), 'replica_unavailable', 503],
    ['host unreachable', errno('EHOSTUNREACH'), 'replica_unavailable', 503],
    ['reset', errno('ECONNRESET'), 'replica_reset', 502],
    ['broken pipe', errno('EPIPE'), 'replica_reset', 502],
    ['timed out', errno('ETIMEDOUT'), 'upstream_timeout', 504],
    ['anything else', new Error('parse error'), 'bad_gateway', 502],
  ];
  for (const [name, cause, code, status] of rows) {
    it(`${name} → ${status} ${code}, keeping the cause`, () => {
      const err = transportError('default/hello', '10.0.0.1:8080', cause);
      assert.equal(err.code, code);
      assert.equal(err.status, status);
      assert.equal(err.cause, cause);
      assert.match(err.message, /^function default\/hello: replica 10\.0\.0\.1:8080 /);
    });
  }

  it('passes an ActivatorError through', () => {
    const timeout = new ActivatorError('upstream_timeout', 'slow');
    assert.equal(transportError('f', 'r', timeout), timeout);
  });
});

describe('error registry', () => {
  it('maps every code to a 4xx or 5xx and renders { error, message }', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) assert.ok(status >= 400 && status < 600, code);
    assert.equal(errorBody(new ActivatorError('queue_full', 'full')), '{"error":{"code":"queue_full","message":"full"}}');
  });
});
