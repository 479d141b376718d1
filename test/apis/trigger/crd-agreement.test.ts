// Proves the Trigger CRD (what a cluster enforces) and validateTrigger (what local mode
// enforces) accept and reject the same manifests for the same reason, and that the CRD
// describes every field of the TypeScript types. The API server is modelled as for the
// Function (../crd-model.ts).

// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_PATTERN } from '../../../pkg/shared/duration.js';
import type { Condition } from '../../../pkg/apis/meta.js';
import { DURATION_MAX_LENGTH, NAME_MAX_LENGTH } from '../../../pkg/apis/function/validation.js';
import type {
  AttributeFilter, BackoffSpec, DeliverySpec, TriggerSpec, TriggerStatus,
} from '../../../pkg/apis/trigger/types.js';
import {
  ATTRIBUTE_NAME_PATTERN, BACKOFF_DURATION_RANGES, BACKOFF_POLICIES, DELIVERY_DURATION_RANGES, DELIVERY_NUMBER_RANGES,
  FILTER_MAX_ATTRIBUTES, FILTER_VALUE_MAX_LENGTH, STREAM_NAME_MAX_LENGTH, STREAM_NAME_PATTERN, validateTrigger,
} from '../../../pkg/apis/trigger/validation.js';
import { SUBJECT_MAX_LENGTH, SUBJECT_PATTERN } from '../../../pkg/apis/trigger/subject.js';
import { anyIndex, celRule, loadCrd, loadFixtures, prop, type K8sSchema } from '../crd-model.js';

const { crd, version, root, crdErrors } = loadCrd('config/210-crd-trigger.yaml');
const specSchema = prop(root, 'spec');
const deliverySchema = prop(specSchema, 'delivery');
const backoffSchema = prop(deliverySchema, 'backoff');

const FIXTURES = 'test/apis/trigger/fixtures';
const validFixtures = loadFixtures(FIXTURES, 'valid');
const invalidFixtures = loadFixtures(FIXTURES, 'invalid');

const trigger = (spec: Record<string, unknown>): unknown => ({
  apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name: 't' }, spec: { subject: 'in.a', function: 'f', ...spec },
});

/**
 * Both accept it, or both reject it naming only `field`; with `controllerOnly`, the CRD
 * accepts it and only the validator (the controller's InvalidSpec) rejects it.
 */
function assertAgree(manifest: unknown, field: string | undefined, what: string, controllerOnly = false): void {
  const tsFields = [...new Set(validateTrigger(manifest).map((e) => e.field))];
  const crdFields = [...new Set(crdErrors(manifest).map((e) => anyIndex(e.field)))];
  assert.deepEqual(tsFields, field ? [field] : [], `validateTrigger, ${what}: ${JSON.stringify(validateTrigger(manifest))}`);
  assert.deepEqual(crdFields, field && !controllerOnly ? [field] : [], `CRD, ${what}: ${JSON.stringify(crdErrors(manifest))}`);
}

describe('Trigger CRD and validateTrigger agree on the fixtures', () => {
  it('has enough fixtures to mean something', () => {
    assert.ok(validFixtures.length >= 5, `${validFixtures.length} valid fixtures`);
    assert.ok(invalidFixtures.length >= 10, `${invalidFixtures.length} invalid fixtures`);
  });

  for (const { file, manifest } of validFixtures) {
    it(`accepts valid/${file} in both`, () => {
      assert.deepEqual(validateTrigger(manifest), [], 'validateTrigger');
      assert.deepEqual(crdErrors(manifest), [], 'CRD');
    });
  }

  for (const { file, manifest, expect = '', controllerOnly } of invalidFixtures) {
    it(`rejects invalid/${file} in ${controllerOnly ? 'the validator only (the CRD stores it)' : 'both'}, naming ${expect}`, () => {
      const tsErrors = validateTrigger(manifest);
      assert.ok(tsErrors.length > 0, 'validateTrigger accepted it');
      assert.deepEqual([...new Set(tsErrors.map((e) => e.field))], [expect], `validateTrigger: ${JSON.stringify(tsErrors)}`);
      const errors = crdErrors(manifest);
      if (controllerOnly) {
        assert.deepEqual(errors, [], 'the CRD refused a rule it was meant to leave to the controller');
        return;
      }
      assert.ok(errors.length > 0, 'the CRD accepted it');
      for (const e of errors) assert.equal(anyIndex(e.field), anyIndex(expect), `CRD: ${JSON.stringify(errors)}`);
    });
  }
});

describe('Trigger CRD and validateTrigger agree on subjects and loops', () => {
  // [subject, reply subject, loop?]: loops are the validator's alone (the CRD cannot
  // afford the rule); characters a regular expression treats specially are the ones
  // worth trying, in case a matcher is built from the subject.
  const loops: [string, string, boolean][] = [
    ['orders.created', 'orders.created', true],
    ['orders.*', 'orders.eu', true],
    ['orders.*', 'orders.eu.x', false],
    ['orders.>', 'orders.eu.x', true],
    ['orders.>', 'orders', false],
    ['all.>', 'all.anything.at.all', true],
    ['x.*.created', 'x.orders.created', true],
    ['a+b', 'aab', false],
    ['a.b', 'aXb', false],
    ['JS$.x', 'JS$.x', true],
    ['[x]', 'x', false],
    ['a\\b', 'a\\b', true],
    ['a^b-c]', 'a^b-c]', true],
    ['ord.(e|x)', 'ord.e', false],
  ];
  for (const [subject, reply, loop] of loops) {
    it(`${loop ? 'rejects' : 'accepts'} reply ${reply} and dead letters there under subject ${subject}`, () => {
      assertAgree(trigger({ subject, reply: { subject: reply } }), loop ? 'spec.reply.subject' : undefined, 'reply', true);
      assertAgree(trigger({ subject, delivery: { deadLetterSubject: reply } }), loop ? 'spec.delivery.deadLetterSubject' : undefined, 'dead letters', true);
    });
  }

  const subjects: [string, boolean][] = [
    ['a', true], ['a.b.c', true], ['a.*', true], ['a.>', true], ['a.*.>', true], ['KFN$.x', true], ['a.$JS.x', true], ['_INBOXES.x', true],
    ['', false], ['.a', false], ['a.', false], ['a..b', false], ['a*', false], ['a.>.b', false], ['>.a', false],
    ['a\tb', false], ['a\nb', false], ['a b', false], ['x'.repeat(255), true], ['x'.repeat(256), false],
  ];
  // NATS's own space, by the first token only: the CRD says it with startsWith and ==.
  const reserved = ['>', '*', '*.>', '*.orders', '$JS.API.>', '$JS.API.STREAM.DELETE.KFN', '$KV.x', '$SYS.>', '$O.b', '$', '_INBOX', '_INBOX.>', '_INBOX.abc'];
  for (const subject of reserved) {
    it(`rejects ${subject} as a subject, reply and dead-letter subject in both`, () => {
      assertAgree(trigger({ subject }), 'spec.subject', 'subject');
      if (!/[*>]/.test(subject)) {
        assertAgree(trigger({ reply: { subject } }), 'spec.reply.subject', 'reply');
        assertAgree(trigger({ delivery: { deadLetterSubject: subject } }), 'spec.delivery.deadLetterSubject', 'dead letters');
      }
    });
  }
  it('gives the reserved-subject error the same message in both', () => {
    const ts = validateTrigger(trigger({ subject: '$JS.API.>' })).map((e) => `${e.field}: ${e.message}`);
    const crd = crdErrors(trigger({ subject: '$JS.API.>' })).map((e) => e.message);
    assert.equal(crd.length, 1, JSON.stringify(crd));
    assert.equal(ts.length, 1, JSON.stringify(ts));
    assert.ok(ts[0]?.startsWith(crd[0] ?? '-'), `${ts[0]} / ${crd[0]}`);
  });

  for (const [subject, valid] of subjects) {
    it(`${valid ? 'accepts' : 'rejects'} the subject ${JSON.stringify(subject.length > 20 ? `${subject.slice(0, 8)}…(${subject.length})` : subject)}`, () => {
      assertAgree(trigger({ subject }), valid ? undefined : 'spec.subject', 'subject');
    });
  }
});

describe('Trigger CRD bounds match the validator', () => {
  for (const [key, range] of Object.entries(DELIVERY_NUMBER_RANGES)) {
    it(`gives spec.delivery.${key} the validator's type and range`, () => {
      const s = prop(deliverySchema, key);
      assert.deepEqual(
        { type: s.type, minimum: s.minimum, maximum: s.maximum },
        { type: range.integer ? 'integer' : 'number', minimum: range.min, maximum: range.max },
      );
    });
  }

  const durations: [string, K8sSchema, { min: string; max: string }][] = [
    ...Object.entries(BACKOFF_DURATION_RANGES).map(([k, r]): [string, K8sSchema, { min: string; max: string }] => [`backoff.${k}`, prop(backoffSchema, k), r]),
    ...Object.entries(DELIVERY_DURATION_RANGES).map(([k, r]): [string, K8sSchema, { min: string; max: string }] => [k, prop(deliverySchema, k), r]),
  ];
  for (const [key, s, range] of durations) {
    it(`checks spec.delivery.${key} with DURATION_PATTERN and the range ${range.min}..${range.max}`, () => {
      assert.equal(s.pattern, DURATION_PATTERN);
      assert.equal(s.maxLength, DURATION_MAX_LENGTH);
      for (const { rule } of s['x-kubernetes-validations'] ?? []) assert.ok(rule.includes(`r'${DURATION_PATTERN}'`), rule);
      const field = `spec.delivery.${key}`;
      const at = (v: string): unknown => {
        const [outer, inner] = key.split('.');
        // delay 0s and maxDelay 1h keep the delay ≤ maxDelay rule out of the way of the range checks.
        return trigger({ delivery: inner ? { [outer ?? '']: { delay: '0s', maxDelay: '1h', [inner]: v } } : { [outer ?? '']: v } });
      };
      assertAgree(at(range.min), undefined, range.min);
      assertAgree(at(range.max), undefined, range.max);
      assertAgree(at('3601s'), field, '3601s');
      if (range.min !== '0s') assertAgree(at('999ms'), field, '999ms');
      assertAgree(at('5'), field, 'no unit');
    });
  }

  it('compares delay with maxDelay, or with the default 60s when maxDelay is unset, in both', () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ delay: '60s' }, true], [{ delay: '61s' }, false], [{ maxDelay: '1s' }, true], [{ maxDelay: '999ms' }, false],
      [{ delay: '1m', maxDelay: '60s' }, true], [{ delay: '1m1ms', maxDelay: '1m' }, false], [{ delay: '0s', maxDelay: '0s' }, true],
    ];
    for (const [backoff, ok] of cases) {
      assertAgree(trigger({ delivery: { backoff } }), ok ? undefined : 'spec.delivery.backoff.delay', JSON.stringify(backoff));
    }
  });

  it('uses the validator\'s patterns and lengths for subjects, streams, names and attributes', () => {
    for (const s of [prop(specSchema, 'subject'), prop(deliverySchema, 'deadLetterSubject'), prop(specSchema, 'reply', 'subject')]) {
      assert.equal(s.pattern, SUBJECT_PATTERN);
      assert.equal(s.maxLength, SUBJECT_MAX_LENGTH);
    }
    assert.deepEqual([prop(specSchema, 'stream').pattern, prop(specSchema, 'stream').maxLength], [STREAM_NAME_PATTERN, STREAM_NAME_MAX_LENGTH]);
    assert.equal(prop(specSchema, 'function').maxLength, NAME_MAX_LENGTH);
    assert.equal(prop(specSchema, 'orderingKey').pattern, ATTRIBUTE_NAME_PATTERN);
    assert.deepEqual(prop(backoffSchema, 'policy').enum, BACKOFF_POLICIES);
    for (const key of ['exact', 'prefix', 'suffix']) {
      const s = prop(specSchema, 'filter', key);
      assert.equal(s.maxProperties, FILTER_MAX_ATTRIBUTES);
      assert.equal(typeof s.additionalProperties === 'object' && s.additionalProperties.maxLength, FILTER_VALUE_MAX_LENGTH);
      assert.ok(s['x-kubernetes-validations']?.some(({ rule }) => rule.includes(`'${ATTRIBUTE_NAME_PATTERN}'`)), key);
    }
  });

  it('bounds the filter maps in both', () => {
    const many = Object.fromEntries(Array.from({ length: FILTER_MAX_ATTRIBUTES + 1 }, (_, i) => [`a${i}`, 'x']));
    assertAgree(trigger({ filter: { suffix: many } }), 'spec.filter.suffix', 'too many attributes');
    assertAgree(trigger({ filter: { exact: { type: 'x'.repeat(FILTER_VALUE_MAX_LENGTH + 1) } } }), 'spec.filter.exact.type', 'long value');
    assertAgree(trigger({ filter: { exact: { ['a'.repeat(21)]: 'x' } } }), 'spec.filter.exact', 'long name');
  });
});

describe('Trigger CRD schema describes the types', () => {
  // Each object literal must list exactly the keys of its type, so adding a field to
  // types.ts without adding it here (and to the CRD) fails to compile.
  const specKeys = {
    subject: true, stream: true, filter: true, function: true, path: true, delivery: true, reply: true, orderingKey: true,
  } satisfies Record<keyof TriggerSpec, true>;
  const filterKeys = { exact: true, prefix: true, suffix: true } satisfies Record<keyof AttributeFilter, true>;
  const deliveryKeys = {
    retries: true, backoff: true, timeout: true, maxInFlight: true, deadLetterSubject: true,
  } satisfies Record<keyof DeliverySpec, true>;
  const backoffKeys = { policy: true, delay: true, maxDelay: true } satisfies Record<keyof BackoffSpec, true>;
  const replyKeys = { subject: true } satisfies Record<keyof NonNullable<TriggerSpec['reply']>, true>;
  const statusKeys = {
    observedGeneration: true, consumer: true, delivered: true, retried: true, deadLettered: true, dropped: true, conditions: true,
  } satisfies Record<keyof TriggerStatus, true>;
  const conditionKeys = {
    type: true, status: true, reason: true, message: true, lastTransitionTime: true,
  } satisfies Record<keyof Condition, true>;

  const conditions = prop(root, 'status', 'conditions').items ?? {};
  const cases: [string, K8sSchema, object][] = [
    ['spec', specSchema, specKeys],
    ['spec.filter', prop(specSchema, 'filter'), filterKeys],
    ['spec.delivery', deliverySchema, deliveryKeys],
    ['spec.delivery.backoff', backoffSchema, backoffKeys],
    ['spec.reply', prop(specSchema, 'reply'), replyKeys],
    ['status', prop(root, 'status'), statusKeys],
    ['status.conditions[]', conditions, conditionKeys],
  ];
  for (const [at, schema, keys] of cases) {
    it(`has exactly the fields of the type at ${at}`, () => {
      assert.deepEqual(Object.keys(schema.properties ?? {}).sort(), Object.keys(keys).sort());
    });
  }

  it('describes every property, so kubectl explain helps', () => {
    const undescribed: string[] = [];
    const walk = (s: K8sSchema, at: string): void => {
      for (const [key, sub] of Object.entries(s.properties ?? {})) {
        const field = at ? `${at}.${key}` : key;
        if (field !== 'metadata' && !sub.description) undescribed.push(field);
        walk(sub, field);
      }
      if (s.items) walk(s.items, `${at}[]`);
    };
    walk(root, '');
    assert.deepEqual(undescribed, []);
  });

  it('starts every CEL message with a field at or below the rule, and every rule compiles', () => {
    const walk = (s: K8sSchema, at: string): void => {
      for (const { rule, message } of s['x-kubernetes-validations'] ?? []) {
        assert.doesNotThrow(() => celRule(rule), rule);
        const field = message?.split(':', 1)[0] ?? '';
        assert.ok(field.startsWith(at), `rule at "${at}" names "${field}": ${rule}`);
      }
      for (const [key, sub] of Object.entries(s.properties ?? {})) walk(sub, at ? `${at}.${key}` : key);
      if (s.items) walk(s.items, `${at}[*]`);
    };
    walk(root, '');
  });

  it('is the namespaced kfn.dev Trigger with short name trig, a status subresource and useful columns', () => {
    assert.equal(crd.spec.group, 'kfn.dev');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual([crd.spec.names.kind, crd.spec.names.plural], ['Trigger', 'triggers']);
    assert.deepEqual(crd.spec.names.shortNames, ['trig']);
    assert.deepEqual(crd.spec.names.categories, ['all', 'kfn']);
    assert.deepEqual([version.name, version.served, version.storage], ['v1alpha1', true, true]);
    assert.deepEqual(version.subresources?.status, {});
    assert.deepEqual(
      version.additionalPrinterColumns?.map((c) => c.name.toUpperCase()),
      ['SUBJECT', 'FUNCTION', 'READY', 'DELIVERED', 'DEAD-LETTERED', 'DROPPED', 'AGE'],
    );
  });
});
