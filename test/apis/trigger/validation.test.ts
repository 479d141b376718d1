// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION } from '../../../pkg/apis/meta.js';
import { assertValidTrigger, TriggerValidationError, validateTrigger } from '../../../pkg/apis/trigger/validation.js';

interface Manifest {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  [field: string]: unknown;
}
type Option = (m: Manifest) => void;

/** A valid manifest, changed by options: trig(withDelivery({ retries: 101 })). */
function trig(...opts: Option[]): Manifest {
  const m: Manifest = { apiVersion: API_VERSION, kind: 'Trigger', metadata: { name: 'on-order' }, spec: { subject: 'orders.>', function: 'hello' } };
  for (const opt of opts) opt(m);
  return m;
}
const withTop = (fields: Record<string, unknown>): Option => (m) => void Object.assign(m, fields);
const withMeta = (fields: Record<string, unknown>): Option => (m) => void Object.assign(m.metadata, fields);
const withSpec = (fields: Record<string, unknown>): Option => (m) => void Object.assign(m.spec, fields);
const withDelivery = (delivery: Record<string, unknown>): Option => withSpec({ delivery });
const withBackoff = (backoff: Record<string, unknown>): Option => withDelivery({ backoff });
const withFilter = (filter: unknown): Option => withSpec({ filter });

interface Row {
  name: string;
  manifest: unknown;
  wantFields: string[];
}

const rows: Row[] = [
  { name: 'a minimal trigger is valid', manifest: trig(), wantFields: [] },
  { name: 'a list is not a manifest', manifest: [trig()], wantFields: ['<root>'] },
  { name: 'a Function is not a Trigger', manifest: trig(withTop({ kind: 'Function' })), wantFields: ['kind'] },
  { name: 'another API version is rejected', manifest: trig(withTop({ apiVersion: 'kfn.dev/v1' })), wantFields: ['apiVersion'] },
  { name: 'unknown top-level fields are rejected', manifest: trig(withTop({ specs: {} })), wantFields: ['specs'] },
  { name: 'a name with a dot cannot name a JetStream consumer', manifest: trig(withMeta({ name: 'on.order' })), wantFields: ['metadata.name'] },
  { name: 'a name with a wildcard is rejected', manifest: trig(withMeta({ name: 'on-*' })), wantFields: ['metadata.name'] },
  { name: 'a name of 64 characters is too long', manifest: trig(withMeta({ name: 'a'.repeat(64) })), wantFields: ['metadata.name'] },
  { name: 'a name of 63 characters is fine', manifest: trig(withMeta({ name: 'a'.repeat(63) })), wantFields: [] },
  { name: 'spec is required', manifest: trig(withTop({ spec: undefined })), wantFields: ['spec'] },
  { name: 'subject and function are required', manifest: trig(withTop({ spec: {} })), wantFields: ['spec.subject', 'spec.function'] },
  { name: 'a subject must be a string', manifest: trig(withSpec({ subject: 42 })), wantFields: ['spec.subject'] },
  { name: 'a subject may not have an empty token', manifest: trig(withSpec({ subject: 'orders.' })), wantFields: ['spec.subject'] },
  { name: "'>' must be the last token", manifest: trig(withSpec({ subject: '>.orders' })), wantFields: ['spec.subject'] },
  { name: 'a stream name may not hold a slash', manifest: trig(withSpec({ stream: 'a/b' })), wantFields: ['spec.stream'] },
  { name: 'a stream name may not be a wildcard', manifest: trig(withSpec({ stream: '*' })), wantFields: ['spec.stream'] },
  { name: 'a stream name may hold dashes and underscores', manifest: trig(withSpec({ stream: 'KFN_events-1' })), wantFields: [] },
  { name: 'a function name with a dot is rejected', manifest: trig(withSpec({ function: 'hello.world' })), wantFields: ['spec.function'] },
  { name: 'a path must start with a slash', manifest: trig(withSpec({ path: 'events' })), wantFields: ['spec.path'] },
  { name: 'a filter must be a mapping', manifest: trig(withFilter('type=x')), wantFields: ['spec.filter'] },
  { name: 'an empty filter is rejected', manifest: trig(withFilter({})), wantFields: ['spec.filter'] },
  { name: 'a filter with only empty maps is rejected', manifest: trig(withFilter({ exact: {}, prefix: {} })), wantFields: ['spec.filter'] },
  { name: 'filter values must be strings', manifest: trig(withFilter({ exact: { retries: 3 } })), wantFields: ['spec.filter.exact.retries'] },
  { name: 'filter attribute names are CloudEvents names', manifest: trig(withFilter({ suffix: { 'x-type': 'a' } })), wantFields: ['spec.filter.suffix'] },
  { name: 'unknown filter fields are rejected', manifest: trig(withFilter({ regex: { type: '.*' } })), wantFields: ['spec.filter.regex', 'spec.filter'] },
  { name: 'delivery must be a mapping', manifest: trig(withSpec({ delivery: 3 })), wantFields: ['spec.delivery'] },
  { name: 'retries may be 0', manifest: trig(withDelivery({ retries: 0 })), wantFields: [] },
  { name: 'retries may not be negative', manifest: trig(withDelivery({ retries: -1 })), wantFields: ['spec.delivery.retries'] },
  { name: 'maxInFlight stops at 10000', manifest: trig(withDelivery({ maxInFlight: 10001 })), wantFields: ['spec.delivery.maxInFlight'] },
  { name: 'backoff policy is exponential or linear', manifest: trig(withBackoff({ policy: 'Linear' })), wantFields: ['spec.delivery.backoff.policy'] },
  { name: 'a bad delay is reported once, not also against maxDelay', manifest: trig(withBackoff({ delay: 'x', maxDelay: '1s' })), wantFields: ['spec.delivery.backoff.delay'] },
  { name: 'a bad maxDelay is reported once, not also against delay', manifest: trig(withBackoff({ delay: '2s', maxDelay: '2h' })), wantFields: ['spec.delivery.backoff.maxDelay'] },
  { name: 'maxDelay below the default delay is caught', manifest: trig(withBackoff({ maxDelay: '500ms' })), wantFields: ['spec.delivery.backoff.delay'] },
  { name: 'timeout must be a string duration', manifest: trig(withDelivery({ timeout: 30 })), wantFields: ['spec.delivery.timeout'] },
  { name: 'a dead-letter subject must be a string', manifest: trig(withDelivery({ deadLetterSubject: ['a'] })), wantFields: ['spec.delivery.deadLetterSubject'] },
  { name: 'a dead-letter subject the trigger listens on is a loop', manifest: trig(withDelivery({ deadLetterSubject: 'orders.dead' })), wantFields: ['spec.delivery.deadLetterSubject'] },
  { name: 'a dead-letter subject elsewhere is fine', manifest: trig(withDelivery({ deadLetterSubject: 'dead.orders' })), wantFields: [] },
  { name: 'reply must be a mapping', manifest: trig(withSpec({ reply: 'out' })), wantFields: ['spec.reply'] },
  { name: 'a reply subject the trigger listens on is a loop', manifest: trig(withSpec({ reply: { subject: 'orders.handled' } })), wantFields: ['spec.reply.subject'] },
  { name: 'unknown reply fields are rejected', manifest: trig(withSpec({ reply: { subject: 'out', headers: {} } })), wantFields: ['spec.reply.headers'] },
  { name: 'with an invalid subject, loops are not checked', manifest: trig(withSpec({ subject: 'orders..x', reply: { subject: 'orders..x' } })), wantFields: ['spec.subject', 'spec.reply.subject'] },
  { name: 'an orderingKey must be a CloudEvents attribute name', manifest: trig(withSpec({ orderingKey: 'Partition' })), wantFields: ['spec.orderingKey'] },
  { name: 'status read back from a cluster is allowed', manifest: trig(withTop({ status: { delivered: 3 } })), wantFields: [] },
  { name: 'every problem is reported, in field order', manifest: trig(withSpec({ path: 'x' }), withDelivery({ retries: 101 })), wantFields: ['spec.path', 'spec.delivery.retries'] },
];

describe('validateTrigger', () => {
  for (const row of rows) {
    it(row.name, () => {
      const errors = validateTrigger(row.manifest);
      assert.deepEqual(errors.map((e) => e.field), row.wantFields, JSON.stringify(errors));
    });
  }

  it('says why a loop is a loop, naming the subject', () => {
    assert.deepEqual(validateTrigger(trig(withSpec({ reply: { subject: 'orders.handled' } }))), [
      { field: 'spec.reply.subject', message: 'must not be matched by spec.subject ("orders.>"): replies would come back to this trigger, got "orders.handled"' },
    ]);
  });

  it('names the default maxDelay when only delay is set', () => {
    assert.deepEqual(validateTrigger(trig(withBackoff({ delay: '2m' }))), [
      { field: 'spec.delivery.backoff.delay', message: 'must be <= spec.delivery.backoff.maxDelay (60s, the default), got "2m"' },
    ]);
  });

  it('tells a wildcard apart from a malformed subject', () => {
    const [wildcard] = validateTrigger(trig(withDelivery({ deadLetterSubject: 'dead.>' })));
    assert.match(wildcard?.message ?? '', /must not contain the wildcards/);
    const [malformed] = validateTrigger(trig(withDelivery({ deadLetterSubject: 'dead letters' })));
    assert.match(malformed?.message ?? '', /must be a NATS subject/);
  });

  it('lists every bad attribute name once', () => {
    assert.deepEqual(validateTrigger(trig(withFilter({ exact: { Type: 'a', 'my-ext': 'b', source: 'c' } }))), [
      { field: 'spec.filter.exact', message: 'attribute names must be a-z and 0-9, at most 20 characters, got "Type", "my-ext"' },
    ]);
  });
});

describe('assertValidTrigger', () => {
  it('throws one error naming the trigger and every problem', () => {
    assert.throws(
      () => assertValidTrigger(trig(withMeta({ namespace: 'shop' }), withDelivery({ retries: 101, maxInFlight: 0 }))),
      (err: unknown) => {
        assert.ok(err instanceof TriggerValidationError);
        assert.equal(
          err.message,
          'invalid Trigger shop/on-order: spec.delivery.retries: must be an integer from 0 to 100, got 101; ' +
            'spec.delivery.maxInFlight: must be an integer from 1 to 10000, got 0',
        );
        assert.deepEqual(err.fieldErrors.map((e) => e.field), ['spec.delivery.retries', 'spec.delivery.maxInFlight']);
        return true;
      },
    );
  });

  it('names a trigger without a namespace as in the default one', () => {
    assert.throws(() => assertValidTrigger(trig(withSpec({ path: 'x' }))), /^TriggerValidationError: invalid Trigger default\/on-order: /);
  });

  it('returns the trigger with null fields dropped, as the API server prunes them', () => {
    const got = assertValidTrigger(trig(withSpec({ delivery: null, filter: { exact: { type: 'a', source: null } } })));
    assert.deepEqual(got.spec, { subject: 'orders.>', function: 'hello', filter: { exact: { type: 'a' } } });
  });
});
