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
import type {
  Affinity, EnvFromSource, EnvVar, EnvVarSource, FunctionSpec, FunctionStatus, PodMetadata, PodSecurityContext, Probe,
  ResourceRequirements, ScaleSpec, SecurityContext, Toleration, Volume, VolumeMount,
} from '../../pkg/apis/function/types.js';
import * as pod from '../../pkg/apis/function/pod-validation.js';
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

describe('CRD bounds match the validator for the pod fields, at their worst values', () => {
  type Spec = Record<string, unknown>;
  const manifest = (spec: Spec): unknown => ({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'w' }, spec: { image: 'x', ...spec } });
  const n = (count: number, f: (i: number) => unknown): unknown[] => Array.from({ length: count }, (_, i) => f(i));
  const keys = (count: number, value: (i: number) => string): Record<string, string> => Object.fromEntries(n(count, (i) => [`k${i}`, value(i)]) as [string, string][]);
  /** A DNS subdomain of exactly `len` characters. */
  const subdomain = (len: number): string => n(Math.ceil(len / 64), () => 'a'.repeat(63)).join('.').slice(0, len).replace(/\.$/, 'a');
  const volume = { name: 'v', emptyDir: {} };

  // [what, spec at the limit, spec one past it, field the validator names]
  const cases: [string, Spec, Spec, string][] = [
    ['imagePullSecrets', { imagePullSecrets: n(pod.POD_LIMITS.imagePullSecrets, (i) => ({ name: `s${i}` })) },
      { imagePullSecrets: n(pod.POD_LIMITS.imagePullSecrets + 1, (i) => ({ name: `s${i}` })) }, 'spec.imagePullSecrets'],
    ['envFrom', { envFrom: n(pod.POD_LIMITS.envFrom, (i) => ({ secretRef: { name: `s${i}` } })) },
      { envFrom: n(pod.POD_LIMITS.envFrom + 1, (i) => ({ secretRef: { name: `s${i}` } })) }, 'spec.envFrom'],
    ['volumes', { volumes: n(pod.POD_LIMITS.volumes, (i) => ({ name: `v${i}`, emptyDir: {} })) },
      { volumes: n(pod.POD_LIMITS.volumes + 1, (i) => ({ name: `v${i}`, emptyDir: {} })) }, 'spec.volumes'],
    ['volumeMounts', { volumes: [volume], volumeMounts: n(pod.POD_LIMITS.volumeMounts, (i) => ({ name: 'v', mountPath: `/m${i}` })) },
      { volumes: [volume], volumeMounts: n(pod.POD_LIMITS.volumeMounts + 1, (i) => ({ name: 'v', mountPath: `/m${i}` })) }, 'spec.volumeMounts'],
    ['secret items', { volumes: [{ name: 'v', secret: { secretName: 's', items: n(pod.POD_LIMITS.keyToPaths, (i) => ({ key: `k${i}`, path: `p${i}` })) } }] },
      { volumes: [{ name: 'v', secret: { secretName: 's', items: n(pod.POD_LIMITS.keyToPaths + 1, (i) => ({ key: `k${i}`, path: `p${i}` })) } }] }, 'spec.volumes[0].secret.items'],
    ['projected sources', { volumes: [{ name: 'v', projected: { sources: n(pod.POD_LIMITS.projectedSources, () => ({})) } }] },
      { volumes: [{ name: 'v', projected: { sources: n(pod.POD_LIMITS.projectedSources + 1, () => ({})) } }] }, 'spec.volumes[0].projected.sources'],
    ['tolerations', { tolerations: n(pod.POD_LIMITS.tolerations, (i) => ({ key: `k${i}`, operator: 'Exists' })) },
      { tolerations: n(pod.POD_LIMITS.tolerations + 1, (i) => ({ key: `k${i}`, operator: 'Exists' })) }, 'spec.tolerations'],
    ['nodeSelector', { nodeSelector: keys(pod.POD_LIMITS.nodeSelector, () => 'x') }, { nodeSelector: keys(pod.POD_LIMITS.nodeSelector + 1, () => 'x') }, 'spec.nodeSelector'],
    ['pod labels', { podMetadata: { labels: keys(pod.POD_LIMITS.labels, () => 'x') } }, { podMetadata: { labels: keys(pod.POD_LIMITS.labels + 1, () => 'x') } }, 'spec.podMetadata.labels'],
    ['pod annotations', { podMetadata: { annotations: keys(pod.POD_LIMITS.annotations, () => 'x') } },
      { podMetadata: { annotations: keys(pod.POD_LIMITS.annotations + 1, () => 'x') } }, 'spec.podMetadata.annotations'],
    ['supplementalGroups', { podSecurityContext: { supplementalGroups: n(pod.POD_LIMITS.supplementalGroups, (i) => i) } },
      { podSecurityContext: { supplementalGroups: n(pod.POD_LIMITS.supplementalGroups + 1, (i) => i) } }, 'spec.podSecurityContext.supplementalGroups'],
    ['serviceAccountName length', { serviceAccountName: subdomain(pod.OBJECT_NAME_MAX_LENGTH) }, { serviceAccountName: subdomain(pod.OBJECT_NAME_MAX_LENGTH + 1) }, 'spec.serviceAccountName'],
    ['volume name length', { volumes: [{ name: 'v'.repeat(pod.VOLUME_NAME_MAX_LENGTH), emptyDir: {} }] },
      { volumes: [{ name: 'v'.repeat(pod.VOLUME_NAME_MAX_LENGTH + 1), emptyDir: {} }] }, 'spec.volumes[0].name'],
    ['mountPath length', { volumes: [volume], volumeMounts: [{ name: 'v', mountPath: `/${'m'.repeat(pod.PATH_MAX_LENGTH - 1)}` }] },
      { volumes: [volume], volumeMounts: [{ name: 'v', mountPath: `/${'m'.repeat(pod.PATH_MAX_LENGTH)}` }] }, 'spec.volumeMounts[0].mountPath'],
    ['envFrom prefix length', { envFrom: [{ prefix: 'P'.repeat(pod.PREFIX_MAX_LENGTH), secretRef: { name: 's' } }] },
      { envFrom: [{ prefix: 'P'.repeat(pod.PREFIX_MAX_LENGTH + 1), secretRef: { name: 's' } }] }, 'spec.envFrom[0].prefix'],
    ['label value length', { podMetadata: { labels: { a: 'x'.repeat(pod.LABEL_VALUE_MAX_LENGTH) } } },
      { podMetadata: { labels: { a: 'x'.repeat(pod.LABEL_VALUE_MAX_LENGTH + 1) } } }, 'spec.podMetadata.labels.a'],
    ['annotation value length', { podMetadata: { annotations: { a: 'x'.repeat(pod.ANNOTATION_VALUE_MAX_LENGTH) } } },
      { podMetadata: { annotations: { a: 'x'.repeat(pod.ANNOTATION_VALUE_MAX_LENGTH + 1) } } }, 'spec.podMetadata.annotations.a'],
    ['secret key length', { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k'.repeat(pod.KEY_MAX_LENGTH) } } }] },
      { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k'.repeat(pod.KEY_MAX_LENGTH + 1) } } }] }, 'spec.env[0].valueFrom.secretKeyRef.key'],
    ['uid range', { securityContext: { runAsUser: pod.ID_RANGE.max } }, { securityContext: { runAsUser: (pod.ID_RANGE.max ?? 0) + 1 } }, 'spec.securityContext.runAsUser'],
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
    const annotations = Object.fromEntries(n(pod.POD_LIMITS.annotations, (i) => [key(i), 'v'.repeat(pod.ANNOTATION_VALUE_MAX_LENGTH)]) as [string, string][]);
    const m = manifest({ podMetadata: { annotations } });
    assert.deepEqual(validateFunction(m).map((e) => e.field), ['spec.podMetadata.annotations']);
    assert.match(validateFunction(m)[0]?.message ?? '', /262144 bytes/);
    assert.deepEqual(crdErrors(m), []);
  });

  it('uses the validator\'s patterns', () => {
    const volume = prop(specSchema, 'volumes').items ?? {};
    const valueFrom = prop(prop(specSchema, 'env').items ?? {}, 'valueFrom');
    assert.equal(prop(specSchema, 'serviceAccountName').pattern, pod.DNS_SUBDOMAIN_PATTERN);
    assert.equal(prop(volume, 'name').pattern, pod.DNS_LABEL_PATTERN);
    assert.equal(prop(valueFrom, 'secretKeyRef', 'key').pattern, pod.CONFIG_KEY_PATTERN);
    assert.equal(prop(valueFrom, 'fieldRef', 'fieldPath').pattern, pod.ENV_FIELD_PATH_PATTERN);
    assert.equal(prop(valueFrom, 'resourceFieldRef', 'resource').pattern, pod.RESOURCE_PATTERN);
    assert.equal(prop(valueFrom, 'resourceFieldRef', 'divisor').pattern, pod.QUANTITY_PATTERN);
    assert.equal(prop(prop(specSchema, 'tolerations').items ?? {}, 'key').pattern, pod.TOLERATION_KEY_PATTERN);
    assert.equal(prop(prop(specSchema, 'tolerations').items ?? {}, 'key').maxLength, pod.LABEL_KEY_MAX_LENGTH);
    const labels = prop(specSchema, 'podMetadata', 'labels').additionalProperties;
    assert.ok(typeof labels === 'object');
    assert.deepEqual([labels.pattern, labels.maxLength], [pod.LABEL_VALUE_PATTERN, pod.LABEL_VALUE_MAX_LENGTH]);
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

describe('CRD schema describes the types', () => {
  // Each object literal must list exactly the keys of its type, so adding a field to
  // types.ts without adding it here (and to the CRD) fails to compile.
  const specKeys = {
    image: true, command: true, args: true, workingDir: true, env: true, resources: true,
    readinessProbe: true, port: true, containerConcurrency: true, timeoutSeconds: true, scale: true,
    serviceAccountName: true, imagePullSecrets: true, envFrom: true, volumes: true, volumeMounts: true,
    nodeSelector: true, tolerations: true, affinity: true, podMetadata: true, livenessProbe: true,
    securityContext: true, podSecurityContext: true,
  } satisfies Record<keyof FunctionSpec, true>;
  const valueFromKeys = { secretKeyRef: true, configMapKeyRef: true, fieldRef: true, resourceFieldRef: true } satisfies Record<keyof EnvVarSource, true>;
  const envFromKeys = { prefix: true, secretRef: true, configMapRef: true } satisfies Record<keyof EnvFromSource, true>;
  const volumeKeys = {
    name: true, secret: true, configMap: true, emptyDir: true, persistentVolumeClaim: true, projected: true,
  } satisfies Record<keyof Volume, true>;
  const mountKeys = { name: true, mountPath: true, readOnly: true, subPath: true } satisfies Record<keyof VolumeMount, true>;
  const tolerationKeys = { key: true, operator: true, value: true, effect: true, tolerationSeconds: true } satisfies Record<keyof Toleration, true>;
  const affinityKeys = { nodeAffinity: true, podAffinity: true, podAntiAffinity: true } satisfies Record<keyof Affinity, true>;
  const podMetadataKeys = { labels: true, annotations: true } satisfies Record<keyof PodMetadata, true>;
  const securityKeys = { runAsNonRoot: true, runAsUser: true, runAsGroup: true, readOnlyRootFilesystem: true } satisfies Record<keyof SecurityContext, true>;
  const podSecurityKeys = {
    runAsNonRoot: true, runAsUser: true, runAsGroup: true, fsGroup: true, supplementalGroups: true,
  } satisfies Record<keyof PodSecurityContext, true>;
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
    ['spec.livenessProbe', prop(specSchema, 'livenessProbe'), probeKeys],
    ['spec.livenessProbe.httpGet', prop(specSchema, 'livenessProbe', 'httpGet'), httpGetKeys],
    ['spec.env[].valueFrom', prop(env, 'valueFrom'), valueFromKeys],
    ['spec.envFrom[]', prop(specSchema, 'envFrom').items ?? {}, envFromKeys],
    ['spec.volumes[]', prop(specSchema, 'volumes').items ?? {}, volumeKeys],
    ['spec.volumeMounts[]', prop(specSchema, 'volumeMounts').items ?? {}, mountKeys],
    ['spec.tolerations[]', prop(specSchema, 'tolerations').items ?? {}, tolerationKeys],
    ['spec.affinity', prop(specSchema, 'affinity'), affinityKeys],
    ['spec.podMetadata', prop(specSchema, 'podMetadata'), podMetadataKeys],
    ['spec.securityContext', prop(specSchema, 'securityContext'), securityKeys],
    ['spec.podSecurityContext', prop(specSchema, 'podSecurityContext'), podSecurityKeys],
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
