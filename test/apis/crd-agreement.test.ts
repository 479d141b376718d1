// The CRD, the types and validateFunction's bounds, patterns and field lists all come
// from pkg/apis/function/schema.ts (test/apis/crd-generated.test.ts proves the committed
// CRD is what it generates). What generation cannot prove is tested here: that the CEL
// rules and the validator's hand-written checks across fields accept and reject the same
// manifests for the same reason, and that the validator applies the schema's bounds as
// the API server does.
//
// There is no API server here, so the test models what it does with a Function
// (./crd-model.ts): it prunes null fields, validates the openAPIV3Schema (translated to
// JSON Schema for ajv), rejects unknown fields (kubectl's strict field validation),
// checks ObjectMeta itself, and evaluates every x-kubernetes-validations rule with
// `self` bound at its location.

// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { functionSpecSchema } from '../../pkg/apis/function/schema.js';
import { validateFunction } from '../../pkg/apis/function/validation.js';
import { durationRangeOf, type StructuralSchema } from '../../pkg/apis/schema.js';
import { anyIndex, celRule, loadCrd, loadFixtures as loadFixturesIn, prop, type K8sSchema } from './crd-model.js';

const { crd, version, root, crdErrors } = loadCrd('config/200-crd-function.yaml');
const specSchema = prop(root, 'spec');

// ---- fixtures -------------------------------------------------------------------------

const loadFixtures = (dir: 'valid' | 'invalid'): ReturnType<typeof loadFixturesIn> => loadFixturesIn('test/apis/fixtures', dir);
const validFixtures = loadFixtures('valid');
const invalidFixtures = loadFixtures('invalid');
/**
 * The CRD may also name the object that holds the field the validator names: a volume of
 * only hostPath breaks the exactly-one rule at spec.volumes[0] besides being an unknown
 * field, where the validator gives the one, more useful, error at spec.volumes[0].hostPath.
 */
function sameOrHolder(crdField: string, expect: string): boolean {
  const [f, e] = [anyIndex(crdField), anyIndex(expect)];
  return f === e || e.startsWith(`${f}.`);
}

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

  // `# checked-by: controller`: rules CEL cannot afford (the syntax of map keys: a CRD
  // cannot bound their length). The CRD stores these; the controller, running
  // validateFunction, makes the Function InvalidSpec without creating anything.
  for (const { file, manifest, expect = '', controllerOnly } of invalidFixtures) {
    it(`rejects invalid/${file} in ${controllerOnly ? 'the validator only (the CRD stores it)' : 'both'}, naming ${expect}`, () => {
      const tsErrors = validateFunction(manifest);
      assert.ok(tsErrors.length > 0, 'validateFunction accepted it');
      assert.deepEqual([...new Set(tsErrors.map((e) => e.field))], [expect], `validateFunction: ${JSON.stringify(tsErrors)}`);
      const errors = crdErrors(manifest);
      if (controllerOnly) {
        assert.deepEqual(errors, [], 'the CRD refused a rule it was meant to leave to the controller');
        return;
      }
      assert.ok(errors.length > 0, 'the CRD accepted it');
      for (const e of errors) assert.ok(sameOrHolder(e.field, expect), `CRD names ${e.field}, not ${expect}: ${JSON.stringify(errors)}`);
    });
  }

  it('has controller-only fixtures', () => assert.ok(invalidFixtures.filter((f) => f.controllerOnly).length >= 3));
});

describe('the validator applies the schema as the API server does', () => {
  const manifest = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'd' }, spec: { image: 'x', ...spec } });

  // Every duration field: the CEL range rule and checkDuration agree at the ends of the range.
  const durations = Object.entries<StructuralSchema>(functionSpecSchema.properties.scale.properties)
    .flatMap(([key, s]) => { const range = durationRangeOf(s); return range ? [{ key, range }] : []; });
  it('finds the duration fields', () => assert.deepEqual(durations.map((d) => d.key), ['window', 'scaleToZeroGracePeriod', 'scaleDownDelay']));
  for (const { key, range } of durations) {
    it(`accepts spec.scale.${key} from ${range.min} to ${range.max} and nothing else, in both`, () => {
      const justBelow = range.min === '0s' ? undefined : '5999ms';
      const cases: [string | undefined, boolean][] = [[range.min, true], [range.max, true], ['3601s', false], [justBelow, false], ['5', false], ['1d', false]];
      for (const [value, valid] of cases) {
        if (value === undefined) continue;
        const m = manifest({ scale: { [key]: value } });
        assert.equal(validateFunction(m).length === 0, valid, `validateFunction, ${key}: ${value}`);
        assert.equal(crdErrors(m).length === 0, valid, `CRD, ${key}: ${value}`);
      }
    });
  }

  // Any number in any numeric field of these objects: the validator (checkNumber over
  // rangeOf) accepts exactly what ajv and the CEL rules accept for the generated CRD.
  const numericObjects: [string, StructuralSchema, (v: Record<string, unknown>) => Record<string, unknown>][] = [
    ['spec', functionSpecSchema, (v) => v],
    ['spec.scale', functionSpecSchema.properties.scale, (v) => ({ scale: v })],
    ['spec.readinessProbe', functionSpecSchema.properties.readinessProbe, (v) => ({ readinessProbe: v })],
    ['spec.podSecurityContext', functionSpecSchema.properties.podSecurityContext, (v) => ({ podSecurityContext: v })],
  ];
  for (const [at, node, wrap] of numericObjects) {
    const keys = Object.entries<StructuralSchema>(node.properties ?? {}).filter(([, s]) => s.type === 'integer' || s.type === 'number').map(([k]) => k);
    it(`agrees with the CRD on every number in ${at} (${keys.join(', ')})`, () => {
      const edges = keys.flatMap((k) => {
        const s = (node.properties ?? {})[k] ?? {};
        return [s.minimum, s.maximum].flatMap((b) => (b === undefined ? [] : [b - 1, b - 0.5, b, b + 0.5, b + 1]));
      });
      const value = fc.oneof(fc.constantFrom(...edges, 0, -1, 0.01, 2 ** 31), fc.integer({ min: -10, max: 5000 }), fc.double({ min: -10, max: 5000, noNaN: true }));
      fc.assert(
        fc.property(fc.constantFrom(...keys), value, (key, v) => {
          const m = manifest(wrap({ [key]: v }));
          const field = `${at}.${key}`;
          const ts = validateFunction(m).map((e) => e.field);
          const crd = crdErrors(m).map((e) => e.field);
          assert.equal(ts.length === 0, crd.length === 0, `${field}: ${v}: validator ${JSON.stringify(ts)}, CRD ${JSON.stringify(crd)}`);
          for (const f of ts) assert.equal(f, field);
        }),
        { numRuns: 400 },
      );
    });
  }
});

const S = functionSpecSchema.properties;
const LIMITS = {
  imagePullSecrets: S.imagePullSecrets.maxItems,
  envFrom: S.envFrom.maxItems,
  volumes: S.volumes.maxItems,
  volumeMounts: S.volumeMounts.maxItems,
  keyToPaths: S.volumes.items.properties.secret.properties.items.maxItems,
  projectedSources: S.volumes.items.properties.projected.properties.sources.maxItems,
  tolerations: S.tolerations.maxItems,
  nodeSelector: S.nodeSelector.maxProperties,
  labels: S.podMetadata.properties.labels.maxProperties,
  annotations: S.podMetadata.properties.annotations.maxProperties,
  supplementalGroups: S.podSecurityContext.properties.supplementalGroups.maxItems,
};
const LENGTHS = {
  OBJECT_NAME: S.serviceAccountName.maxLength,
  VOLUME_NAME: S.volumes.items.properties.name.maxLength,
  PATH: S.volumeMounts.items.properties.mountPath.maxLength,
  PREFIX: S.envFrom.items.properties.prefix.maxLength,
  LABEL_VALUE: S.podMetadata.properties.labels.additionalProperties.maxLength,
  ANNOTATION_VALUE: S.podMetadata.properties.annotations.additionalProperties.maxLength,
  KEY: S.env.items.properties.valueFrom.properties.secretKeyRef.properties.key.maxLength,
};

describe('the validator applies the schema\'s bounds to the pod fields as the API server does, at their worst values', () => {
  type Spec = Record<string, unknown>;
  const manifest = (spec: Spec): unknown => ({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'w' }, spec: { image: 'x', ...spec } });
  const n = (count: number, f: (i: number) => unknown): unknown[] => Array.from({ length: count }, (_, i) => f(i));
  const keys = (count: number, value: (i: number) => string): Record<string, string> => Object.fromEntries(n(count, (i) => [`k${i}`, value(i)]) as [string, string][]);
  /** A DNS subdomain of exactly `len` characters. */
  const subdomain = (len: number): string => n(Math.ceil(len / 64), () => 'a'.repeat(63)).join('.').slice(0, len).replace(/\.$/, 'a');
  const volume = { name: 'v', emptyDir: {} };

  // [what, spec at the limit, spec one past it, field the validator names]
  const cases: [string, Spec, Spec, string][] = [
    ['imagePullSecrets', { imagePullSecrets: n(LIMITS.imagePullSecrets, (i) => ({ name: `s${i}` })) },
      { imagePullSecrets: n(LIMITS.imagePullSecrets + 1, (i) => ({ name: `s${i}` })) }, 'spec.imagePullSecrets'],
    ['envFrom', { envFrom: n(LIMITS.envFrom, (i) => ({ secretRef: { name: `s${i}` } })) },
      { envFrom: n(LIMITS.envFrom + 1, (i) => ({ secretRef: { name: `s${i}` } })) }, 'spec.envFrom'],
    ['volumes', { volumes: n(LIMITS.volumes, (i) => ({ name: `v${i}`, emptyDir: {} })) },
      { volumes: n(LIMITS.volumes + 1, (i) => ({ name: `v${i}`, emptyDir: {} })) }, 'spec.volumes'],
    ['volumeMounts', { volumes: [volume], volumeMounts: n(LIMITS.volumeMounts, (i) => ({ name: 'v', mountPath: `/m${i}` })) },
      { volumes: [volume], volumeMounts: n(LIMITS.volumeMounts + 1, (i) => ({ name: 'v', mountPath: `/m${i}` })) }, 'spec.volumeMounts'],
    ['secret items', { volumes: [{ name: 'v', secret: { secretName: 's', items: n(LIMITS.keyToPaths, (i) => ({ key: `k${i}`, path: `p${i}` })) } }] },
      { volumes: [{ name: 'v', secret: { secretName: 's', items: n(LIMITS.keyToPaths + 1, (i) => ({ key: `k${i}`, path: `p${i}` })) } }] }, 'spec.volumes[0].secret.items'],
    ['projected sources', { volumes: [{ name: 'v', projected: { sources: n(LIMITS.projectedSources, () => ({})) } }] },
      { volumes: [{ name: 'v', projected: { sources: n(LIMITS.projectedSources + 1, () => ({})) } }] }, 'spec.volumes[0].projected.sources'],
    ['tolerations', { tolerations: n(LIMITS.tolerations, (i) => ({ key: `k${i}`, operator: 'Exists' })) },
      { tolerations: n(LIMITS.tolerations + 1, (i) => ({ key: `k${i}`, operator: 'Exists' })) }, 'spec.tolerations'],
    ['nodeSelector', { nodeSelector: keys(LIMITS.nodeSelector, () => 'x') }, { nodeSelector: keys(LIMITS.nodeSelector + 1, () => 'x') }, 'spec.nodeSelector'],
    ['pod labels', { podMetadata: { labels: keys(LIMITS.labels, () => 'x') } }, { podMetadata: { labels: keys(LIMITS.labels + 1, () => 'x') } }, 'spec.podMetadata.labels'],
    ['pod annotations', { podMetadata: { annotations: keys(LIMITS.annotations, () => 'x') } },
      { podMetadata: { annotations: keys(LIMITS.annotations + 1, () => 'x') } }, 'spec.podMetadata.annotations'],
    ['supplementalGroups', { podSecurityContext: { supplementalGroups: n(LIMITS.supplementalGroups, (i) => i) } },
      { podSecurityContext: { supplementalGroups: n(LIMITS.supplementalGroups + 1, (i) => i) } }, 'spec.podSecurityContext.supplementalGroups'],
    ['serviceAccountName length', { serviceAccountName: subdomain(LENGTHS.OBJECT_NAME) }, { serviceAccountName: subdomain(LENGTHS.OBJECT_NAME + 1) }, 'spec.serviceAccountName'],
    ['volume name length', { volumes: [{ name: 'v'.repeat(LENGTHS.VOLUME_NAME), emptyDir: {} }] },
      { volumes: [{ name: 'v'.repeat(LENGTHS.VOLUME_NAME + 1), emptyDir: {} }] }, 'spec.volumes[0].name'],
    ['mountPath length', { volumes: [volume], volumeMounts: [{ name: 'v', mountPath: `/${'m'.repeat(LENGTHS.PATH - 1)}` }] },
      { volumes: [volume], volumeMounts: [{ name: 'v', mountPath: `/${'m'.repeat(LENGTHS.PATH)}` }] }, 'spec.volumeMounts[0].mountPath'],
    ['envFrom prefix length', { envFrom: [{ prefix: 'P'.repeat(LENGTHS.PREFIX), secretRef: { name: 's' } }] },
      { envFrom: [{ prefix: 'P'.repeat(LENGTHS.PREFIX + 1), secretRef: { name: 's' } }] }, 'spec.envFrom[0].prefix'],
    ['label value length', { podMetadata: { labels: { a: 'x'.repeat(LENGTHS.LABEL_VALUE) } } },
      { podMetadata: { labels: { a: 'x'.repeat(LENGTHS.LABEL_VALUE + 1) } } }, 'spec.podMetadata.labels.a'],
    ['annotation value length', { podMetadata: { annotations: { a: 'x'.repeat(LENGTHS.ANNOTATION_VALUE) } } },
      { podMetadata: { annotations: { a: 'x'.repeat(LENGTHS.ANNOTATION_VALUE + 1) } } }, 'spec.podMetadata.annotations.a'],
    ['secret key length', { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k'.repeat(LENGTHS.KEY) } } }] },
      { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k'.repeat(LENGTHS.KEY + 1) } } }] }, 'spec.env[0].valueFrom.secretKeyRef.key'],
    ['uid range', { securityContext: { runAsUser: S.securityContext.properties.runAsUser.maximum } }, { securityContext: { runAsUser: (S.securityContext.properties.runAsUser.maximum) + 1 } }, 'spec.securityContext.runAsUser'],
    ['mode range', { volumes: [{ name: 'v', configMap: { name: 'c', defaultMode: 0o777 } }] },
      { volumes: [{ name: 'v', configMap: { name: 'c', defaultMode: 0o1000 } }] }, 'spec.volumes[0].configMap.defaultMode'],
    ['tolerationSeconds', { tolerations: [{ operator: 'Exists', effect: 'NoExecute', tolerationSeconds: Number.MAX_SAFE_INTEGER }] },
      { tolerations: [{ operator: 'Exists', effect: 'NoExecute', tolerationSeconds: -1 }] }, 'spec.tolerations[0].tolerationSeconds'],
  ];
  for (const [what, atLimit, past, field] of cases) {
    it(`${what}: both accept the limit and both refuse one more, at ${field}`, () => {
      assert.deepEqual(validateFunction(manifest(atLimit)), [], 'validateFunction at the limit');
      assert.deepEqual(crdErrors(manifest(atLimit)), [], 'CRD at the limit');
      const ts = validateFunction(manifest(past));
      assert.deepEqual([...new Set(ts.map((e) => e.field))], [field], JSON.stringify(ts));
      const crd = crdErrors(manifest(past));
      assert.ok(crd.length > 0, 'the CRD accepted one past the limit');
      for (const e of crd) assert.ok(sameOrHolder(e.field, field), JSON.stringify(crd));
    });
  }

  it('bounds the bytes of all pod annotations at 256 KiB in the validator; the CRD only bounds count and length (the controller checks the rest)', () => {
    const key = (i: number): string => `${'a'.repeat(250)}.io/${String(i).padStart(2, '0')}${'k'.repeat(58)}`;
    const annotations = Object.fromEntries(n(LIMITS.annotations, (i) => [key(i), 'v'.repeat(LENGTHS.ANNOTATION_VALUE)]) as [string, string][]);
    const m = manifest({ podMetadata: { annotations } });
    assert.deepEqual(validateFunction(m).map((e) => e.field), ['spec.podMetadata.annotations']);
    assert.match(validateFunction(m)[0]?.message ?? '', /262144 bytes/);
    assert.deepEqual(crdErrors(m), []);
  });

  it('keeps uniqueness in list-map keys, not in pairwise CEL rules the API server cannot afford', () => {
    const listMaps: [string, string[]][] = [['env', ['name']], ['imagePullSecrets', ['name']], ['volumes', ['name']], ['volumeMounts', ['mountPath']]];
    for (const [field, mapKeys] of listMaps) {
      const s = prop(specSchema, field);
      assert.equal(s['x-kubernetes-list-type'], 'map', field);
      assert.deepEqual(s['x-kubernetes-list-map-keys'], mapKeys, field);
      // A list-map key must be required (or defaulted), or the API server refuses the CRD.
      for (const k of mapKeys) assert.ok(s.items?.required?.includes(k), `${field}[].${k} required`);
    }
    const rules: string[] = [];
    const walk = (s: K8sSchema): void => {
      for (const { rule } of s['x-kubernetes-validations'] ?? []) rules.push(rule);
      for (const sub of Object.values(s.properties ?? {})) walk(sub);
      if (s.items) walk(s.items);
    };
    walk(root);
    assert.deepEqual(rules.filter((r) => r.includes('exists_one')), []);
  });
});

describe('the schema', () => {
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
