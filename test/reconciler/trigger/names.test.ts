// The subjects a trigger's stream must hold, and the kfn.dev/trigger finalizer helpers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KfnTrigger } from '../../../pkg/apis/trigger/types.js';
import { finalizersOf, hasFinalizer, streamOf, streamSubjectsOf, subjectsOfStream, TRIGGER_FINALIZER, withFinalizer } from '../../../pkg/reconciler/trigger/names.js';

function trigger(spec: Partial<KfnTrigger['spec']> = {}, finalizers?: string[]): KfnTrigger {
  return {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Trigger',
    metadata: { name: 'orders', namespace: 'shop', ...(finalizers ? { finalizers } : {}) },
    spec: { subject: 'orders.>', function: 'fulfil', ...spec },
  };
}

describe('stream subjects of a trigger', () => {
  const rows: { name: string; spec: Partial<KfnTrigger['spec']>; want: string[] }[] = [
    { name: 'the subject alone', spec: {}, want: ['orders.>'] },
    { name: 'with the reply subject, so replies can trigger further functions', spec: { reply: { subject: 'invoices.new' } }, want: ['orders.>', 'invoices.new'] },
    { name: 'with the dead-letter subject', spec: { delivery: { deadLetterSubject: 'dlq.orders' } }, want: ['orders.>', 'dlq.orders'] },
    { name: 'all three', spec: { reply: { subject: 'invoices.new' }, delivery: { deadLetterSubject: 'dlq.orders' } }, want: ['orders.>', 'invoices.new', 'dlq.orders'] },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(streamSubjectsOf(trigger(row.spec)), row.want));

  it('the stream is spec.stream, else the default', () => {
    assert.equal(streamOf(trigger(), 'KFN'), 'KFN');
    assert.equal(streamOf(trigger({ stream: 'ORDERS' }), 'KFN'), 'ORDERS');
  });
});

describe('the subjects a stream must hold, from every Trigger on it', () => {
  const named = (name: string, spec: Partial<KfnTrigger['spec']>, meta: Partial<KfnTrigger['metadata']> = {}): KfnTrigger => {
    const t = trigger(spec);
    return { ...t, metadata: { ...t.metadata, name, ...meta } };
  };
  const all = [
    named('a', { subject: 'a.>', reply: { subject: 'a-replies' } }),
    named('b', { subject: 'b', delivery: { deadLetterSubject: 'b.dead' } }),
    named('other', { subject: 'o.>', stream: 'OTHER' }),
    named('old', { subject: '>' }),
    named('leaving', { subject: 'leaving' }, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
  ];
  it("the union of the stream's valid Triggers' subjects; invalid and deleted ones add none", () => {
    assert.deepEqual(subjectsOfStream('KFN', all, 'KFN'), ['a.>', 'a-replies', 'b', 'b.dead']);
    assert.deepEqual(subjectsOfStream('OTHER', all, 'KFN'), ['o.>']);
    assert.deepEqual(subjectsOfStream('NONE', all, 'KFN'), []);
  });
});

describe('the kfn.dev/trigger finalizer', () => {
  it('is added once, after the finalizers of others, and removed without touching theirs', () => {
    const t = trigger({}, ['example.com/audit']);
    assert.equal(hasFinalizer(t), false);
    const added = withFinalizer(t, true);
    assert.deepEqual(finalizersOf(added), ['example.com/audit', TRIGGER_FINALIZER]);
    assert.deepEqual(finalizersOf(withFinalizer(added, true)), ['example.com/audit', TRIGGER_FINALIZER]);
    assert.deepEqual(finalizersOf(withFinalizer(added, false)), ['example.com/audit']);
    assert.deepEqual(finalizersOf(t), ['example.com/audit'], 'the input is not changed');
  });
});
