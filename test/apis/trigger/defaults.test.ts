// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import type { KfnTrigger, TriggerSpec } from '../../../pkg/apis/trigger/types.js';
import {
  DEFAULT_MAX_IN_FLIGHT, MAX_IN_FLIGHT_LIMIT, resolvedDelivery, withTriggerDefaults,
} from '../../../pkg/apis/trigger/defaults.js';

function trig(spec: Partial<TriggerSpec> = {}): KfnTrigger {
  return { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name: 'on-order' }, spec: { subject: 'orders.>', function: 'hello', ...spec } };
}

function fn(spec: Partial<KfnFunction['spec']> = {}): KfnFunction {
  return { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'hello' }, spec: { image: 'x', ...spec } };
}

describe('withTriggerDefaults', () => {
  it('fills path, namespace and every delivery setting, with 300s and 100 when the function is unknown', () => {
    const got = withTriggerDefaults(trig());
    assert.equal(got.metadata.namespace, 'default');
    assert.equal(got.spec.path, '/');
    assert.deepEqual(got.spec.delivery, {
      retries: 3, backoff: { policy: 'exponential', delay: '1s', maxDelay: '60s' }, timeout: '300s', maxInFlight: 100,
    });
  });

  it("takes the timeout from the function's timeoutSeconds", () => {
    assert.equal(withTriggerDefaults(trig(), fn({ timeoutSeconds: 30 })).spec.delivery?.timeout, '30s');
    assert.equal(withTriggerDefaults(trig(), fn()).spec.delivery?.timeout, '300s');
  });

  it("takes maxInFlight from the function's capacity: containerConcurrency × scale.max when both are above 0", () => {
    const rows: [Partial<KfnFunction['spec']>, number][] = [
      [{ containerConcurrency: 10, scale: { max: 5 } }, 50],
      [{ containerConcurrency: 10 }, DEFAULT_MAX_IN_FLIGHT],
      [{ containerConcurrency: 0, scale: { max: 5 } }, DEFAULT_MAX_IN_FLIGHT],
      [{ containerConcurrency: 10, scale: { max: 0 } }, DEFAULT_MAX_IN_FLIGHT],
      [{ containerConcurrency: 1000, scale: { max: 1000 } }, MAX_IN_FLIGHT_LIMIT],
    ];
    for (const [spec, want] of rows) assert.equal(withTriggerDefaults(trig(), fn(spec)).spec.delivery?.maxInFlight, want, JSON.stringify(spec));
  });

  it('keeps values that are set, including zeros, and fills the rest of a partial backoff', () => {
    const got = withTriggerDefaults(
      { ...trig({ path: '/events', delivery: { retries: 0, timeout: '5s', maxInFlight: 1, backoff: { delay: '2s' }, deadLetterSubject: 'dead' } }), metadata: { name: 't', namespace: 'shop' } },
      fn({ timeoutSeconds: 30, containerConcurrency: 10, scale: { max: 5 } }),
    );
    assert.equal(got.metadata.namespace, 'shop');
    assert.equal(got.spec.path, '/events');
    assert.deepEqual(got.spec.delivery, {
      retries: 0, backoff: { policy: 'exponential', delay: '2s', maxDelay: '60s' }, timeout: '5s', maxInFlight: 1, deadLetterSubject: 'dead',
    });
  });

  it('changes neither argument', () => {
    const t = deepFreeze(trig({ delivery: { backoff: {} } }));
    const f = deepFreeze(fn({ timeoutSeconds: 30 }));
    const before = structuredClone([t, f]);
    withTriggerDefaults(t, f);
    assert.deepEqual([t, f], before);
  });
});

describe('resolvedDelivery', () => {
  it('gives the defaults in milliseconds, as a BackoffPolicy', () => {
    assert.deepEqual(resolvedDelivery(trig()), {
      retries: 3, backoff: { kind: 'exponential', baseMs: 1000, maxMs: 60_000 }, timeoutMs: 300_000, maxInFlight: 100,
    });
  });

  it('converts set durations and carries the dead-letter subject', () => {
    const t = trig({ delivery: { retries: 1, backoff: { policy: 'linear', delay: '250ms', maxDelay: '1m30s' }, timeout: '2m', deadLetterSubject: 'dead.orders' } });
    assert.deepEqual(resolvedDelivery(t, fn({ containerConcurrency: 2, scale: { max: 3 } })), {
      retries: 1, backoff: { kind: 'linear', baseMs: 250, maxMs: 90_000 }, timeoutMs: 120_000, maxInFlight: 6, deadLetterSubject: 'dead.orders',
    });
  });

  it("uses the function's timeout", () => {
    assert.equal(resolvedDelivery(trig(), fn({ timeoutSeconds: 45 })).timeoutMs, 45_000);
  });

  it('throws on a duration a validated trigger could not have', () => {
    assert.throws(() => resolvedDelivery(trig({ delivery: { timeout: 'soon' } })), /spec\.delivery\.timeout: not a duration/);
  });
});

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
