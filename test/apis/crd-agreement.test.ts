// Proves the CRD (what a cluster enforces) and validateFunction (what local mode
// enforces) accept and reject the same manifests for the same reason, and that the CRD
// describes every field of the TypeScript types.
//
// There is no API server here, so the test models what it does with a Function
// (./crd-model.ts): it prunes null fields, validates the openAPIV3Schema (translated to
// JSON Schema for ajv), rejects unknown fields (kubectl's strict field validation),
// checks ObjectMeta itself, and evaluates every x-kubernetes-validations rule with
// `self` bound at its location.

// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_PATTERN } from '../../pkg/shared/duration.js';
import type { Condition } from '../../pkg/apis/meta.js';
import type { EnvVar, FunctionSpec, FunctionStatus, Probe, ResourceRequirements, ScaleSpec } from '../../pkg/apis/function/types.js';
import {
  DURATION_MAX_LENGTH, ENV_MAX_ITEMS, ENV_NAME_MAX_LENGTH, PROBE_NUMBER_RANGES, SCALE_DURATION_RANGES,
  SCALE_NUMBER_RANGES, SPEC_NUMBER_RANGES, validateFunction, type NumberRange,
} from '../../pkg/apis/function/validation.js';
import { anyIndex, celRule, loadCrd, loadFixtures as loadFixturesIn, prop, type K8sSchema } from './crd-model.js';

const { crd, version, root, crdErrors } = loadCrd('config/200-crd-function.yaml');
const specSchema = prop(root, 'spec');
const scaleSchema = prop(specSchema, 'scale');

// ---- fixtures -------------------------------------------------------------------------

const loadFixtures = (dir: 'valid' | 'invalid'): ReturnType<typeof loadFixturesIn> => loadFixturesIn('test/apis/fixtures', dir);
const validFixtures = loadFixtures('valid');
const invalidFixtures = loadFixtures('invalid');

describe('CRD and validateFunction agree on the fixtures', () => {
  it('has enough fixtures to mean something', () => {
    assert.ok(validFixtures.length >= 6, `${validFixtures.length} valid fixtures`);
    assert.ok(invalidFixtures.length >= 10, `${invalidFixtures.length} invalid fixtures`);
  });

  for (const { file, manifest } of validFixtures) {
    it(`accepts valid/${file} in both`, () => {
      assert.deepEqual(validateFunction(manifest), [], 'validateFunction');
      assert.deepEqual(crdErrors(manifest), [], 'CRD');
    });
  }

  for (const { file, manifest, expect = '' } of invalidFixtures) {
    it(`rejects invalid/${file} in both, naming ${expect}`, () => {
      const tsErrors = validateFunction(manifest);
      assert.ok(tsErrors.length > 0, 'validateFunction accepted it');
      assert.deepEqual([...new Set(tsErrors.map((e) => e.field))], [expect], `validateFunction: ${JSON.stringify(tsErrors)}`);
      const errors = crdErrors(manifest);
      assert.ok(errors.length > 0, 'the CRD accepted it');
      for (const e of errors) assert.equal(anyIndex(e.field), anyIndex(expect), `CRD: ${JSON.stringify(errors)}`);
    });
  }
});

describe('CRD bounds match the validator', () => {
  const numberCases: [string, K8sSchema, Record<string, NumberRange>][] = [
    ['spec', specSchema, SPEC_NUMBER_RANGES],
    ['spec.scale', scaleSchema, SCALE_NUMBER_RANGES],
    ['spec.readinessProbe', prop(specSchema, 'readinessProbe'), PROBE_NUMBER_RANGES],
    ['spec.readinessProbe.httpGet', prop(specSchema, 'readinessProbe', 'httpGet'), { port: SPEC_NUMBER_RANGES.port }],
    ['spec.readinessProbe.tcpSocket', prop(specSchema, 'readinessProbe', 'tcpSocket'), { port: SPEC_NUMBER_RANGES.port }],
  ];
  for (const [at, schema, ranges] of numberCases) {
    it(`gives the numbers under ${at} the validator's type and range`, () => {
      for (const [key, range] of Object.entries(ranges)) {
        const s = prop(schema, key);
        assert.deepEqual(
          { type: s.type, minimum: s.minimum, maximum: s.maximum, exclusiveMinimum: s.exclusiveMinimum ?? false },
          { type: range.integer ? 'integer' : 'number', minimum: range.min, maximum: range.max, exclusiveMinimum: range.exclusiveMin ?? false },
          `${at}.${key}`,
        );
      }
    });
  }

  for (const [key, range] of Object.entries(SCALE_DURATION_RANGES)) {
    it(`checks spec.scale.${key} with DURATION_PATTERN and the range ${range.min}..${range.max}`, () => {
      const s = prop(scaleSchema, key);
      assert.equal(s.pattern, DURATION_PATTERN);
      assert.equal(s.maxLength, DURATION_MAX_LENGTH);
      // The range rule guards duration() with the same pattern, so a malformed value gets
      // the pattern's message rather than a CEL evaluation error as well.
      for (const { rule } of s['x-kubernetes-validations'] ?? []) assert.ok(rule.includes(`r'${DURATION_PATTERN}'`), rule);
      const justBelow = range.min === '0s' ? undefined : '5999ms';
      const cases: [string | undefined, boolean][] = [[range.min, true], [range.max, true], ['3601s', false], [justBelow, false]];
      for (const [value, valid] of cases) {
        if (value === undefined) continue;
        const manifest = { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'd' }, spec: { image: 'x', scale: { [key]: value } } };
        assert.equal(validateFunction(manifest).length === 0, valid, `validateFunction, ${key}: ${value}`);
        assert.equal(crdErrors(manifest).length === 0, valid, `CRD, ${key}: ${value}`);
      }
    });
  }

  it('bounds spec.env as the validator does, so the CEL rules over it are cheap enough to be accepted', () => {
    const env = prop(specSchema, 'env');
    assert.equal(env.maxItems, ENV_MAX_ITEMS);
    assert.equal(env.items && prop(env.items, 'name').maxLength, ENV_NAME_MAX_LENGTH);
  });
});

describe('CRD schema describes the types', () => {
  // Each object literal must list exactly the keys of its type, so adding a field to
  // types.ts without adding it here (and to the CRD) fails to compile.
  const specKeys = {
    image: true, command: true, args: true, workingDir: true, env: true, resources: true,
    readinessProbe: true, port: true, containerConcurrency: true, timeoutSeconds: true, scale: true,
  } satisfies Record<keyof FunctionSpec, true>;
  const scaleKeys = {
    min: true, max: true, initial: true, target: true, targetUtilization: true, window: true,
    panicWindowPercentage: true, panicThreshold: true, scaleToZeroGracePeriod: true, scaleDownDelay: true,
    maxScaleUpRate: true, maxScaleDownRate: true,
  } satisfies Record<keyof ScaleSpec, true>;
  const envKeys = { name: true, value: true, valueFrom: true } satisfies Record<keyof EnvVar, true>;
  const resourcesKeys = { requests: true, limits: true } satisfies Record<keyof ResourceRequirements, true>;
  const probeKeys = {
    httpGet: true, tcpSocket: true, initialDelaySeconds: true, periodSeconds: true, timeoutSeconds: true,
    failureThreshold: true, successThreshold: true,
  } satisfies Record<keyof Probe, true>;
  const httpGetKeys = { path: true, port: true } satisfies Record<keyof NonNullable<Probe['httpGet']>, true>;
  const statusKeys = {
    url: true, replicas: true, readyReplicas: true, desiredReplicas: true, restarts: true, observedGeneration: true,
    conditions: true,
  } satisfies Record<keyof FunctionStatus, true>;
  const conditionKeys = {
    type: true, status: true, reason: true, message: true, lastTransitionTime: true,
  } satisfies Record<keyof Condition, true>;

  const env = prop(specSchema, 'env').items ?? {};
  const conditions = prop(root, 'status', 'conditions').items ?? {};
  const cases: [string, K8sSchema, object][] = [
    ['spec', specSchema, specKeys],
    ['spec.scale', scaleSchema, scaleKeys],
    ['spec.env[]', env, envKeys],
    ['spec.resources', prop(specSchema, 'resources'), resourcesKeys],
    ['spec.readinessProbe', prop(specSchema, 'readinessProbe'), probeKeys],
    ['spec.readinessProbe.httpGet', prop(specSchema, 'readinessProbe', 'httpGet'), httpGetKeys],
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
        // The API server forbids anything but a bare type on metadata.
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

  it('is the namespaced kfn.dev Function with short name fn, a status subresource and useful columns', () => {
    assert.equal(crd.spec.group, 'kfn.dev');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual(crd.spec.names.shortNames, ['fn']);
    assert.deepEqual(crd.spec.names.categories, ['all', 'kfn']);
    assert.deepEqual([version.name, version.served, version.storage], ['v1alpha1', true, true]);
    assert.deepEqual(version.subresources?.status, {});
    assert.deepEqual(
      version.additionalPrinterColumns?.map((c) => c.name),
      ['URL', 'Ready', 'Reason', 'Replicas', 'Age'],
    );
  });
});
