// The Trigger CRD, its types and validateTrigger's bounds, patterns and field lists all
// come from pkg/apis/trigger/schema.ts. What generation cannot prove is tested here: that
// the CEL rules and the validator's hand-written checks (subjects, durations, the backoff
// rule) accept and reject the same manifests for the same reason. The API server is
// modelled as for the Function (../crd-model.ts).

// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { triggerSpecSchema } from '../../../pkg/apis/trigger/schema.js';
import { validateTrigger } from '../../../pkg/apis/trigger/validation.js';
import { durationRangeOf, type StructuralSchema } from '../../../pkg/apis/schema.js';
import { anyIndex, celRule, loadCrd, loadFixtures, type K8sSchema } from '../crd-model.js';

const { crd, version, root, crdErrors } = loadCrd('config/210-crd-trigger.yaml');

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

describe('validateTrigger applies the schema as the API server does', () => {
  const D = triggerSpecSchema.properties.delivery;
  const durationsOf = (prefix: string, node: StructuralSchema): { key: string; range: { min: string; max: string } }[] =>
    Object.entries<StructuralSchema>(node.properties ?? {}).flatMap(([k, s]) => {
      const range = durationRangeOf(s);
      return range ? [{ key: `${prefix}${k}`, range }] : [];
    });
  const durations = [...durationsOf('backoff.', D.properties.backoff), ...durationsOf('', D)];
  it('finds the duration fields', () => assert.deepEqual(durations.map((d) => d.key), ['backoff.delay', 'backoff.maxDelay', 'timeout']));
  for (const { key, range } of durations) {
    it(`accepts spec.delivery.${key} from ${range.min} to ${range.max} and nothing else, in both`, () => {
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

  it('agrees with the CRD on any number in spec.delivery', () => {
    fc.assert(
      fc.property(fc.constantFrom('retries', 'maxInFlight'), fc.oneof(fc.integer({ min: -5, max: 20000 }), fc.double({ min: -5, max: 20000, noNaN: true }), fc.constantFrom(0, 1, 100, 101, 10000, 10001)), (key, v) => {
        // The oracle is the CRD (ajv over its schema); the validator must name the field exactly when it refuses.
        const m = trigger({ delivery: { [key]: v } });
        assertAgree(m, crdErrors(m).length === 0 ? undefined : `spec.delivery.${key}`, `${key}: ${v}`);
      }),
      { numRuns: 300 },
    );
  });

  it('compares delay with maxDelay, or with the default 60s when maxDelay is unset, in both', () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ delay: '60s' }, true], [{ delay: '61s' }, false], [{ maxDelay: '1s' }, true], [{ maxDelay: '999ms' }, false],
      [{ delay: '1m', maxDelay: '60s' }, true], [{ delay: '1m1ms', maxDelay: '1m' }, false], [{ delay: '0s', maxDelay: '0s' }, true],
    ];
    for (const [backoff, ok] of cases) {
      assertAgree(trigger({ delivery: { backoff } }), ok ? undefined : 'spec.delivery.backoff.delay', JSON.stringify(backoff));
    }
  });

  it('bounds the filter maps in both', () => {
    const FILTER_MAX_ATTRIBUTES = triggerSpecSchema.properties.filter.properties.exact.maxProperties;
    const FILTER_VALUE_MAX_LENGTH = triggerSpecSchema.properties.filter.properties.exact.additionalProperties.maxLength;
    const many = Object.fromEntries(Array.from({ length: FILTER_MAX_ATTRIBUTES + 1 }, (_, i) => [`a${i}`, 'x']));
    assertAgree(trigger({ filter: { suffix: many } }), 'spec.filter.suffix', 'too many attributes');
    assertAgree(trigger({ filter: { exact: { type: 'x'.repeat(FILTER_VALUE_MAX_LENGTH + 1) } } }), 'spec.filter.exact.type', 'long value');
    assertAgree(trigger({ filter: { exact: { ['a'.repeat(21)]: 'x' } } }), 'spec.filter.exact', 'long name');
  });
});

describe('the Trigger schema', () => {
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
