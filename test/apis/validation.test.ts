// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION } from '../../pkg/apis/meta.js';
import {
  assertValidFunction, FunctionValidationError, validateFunction,
} from '../../pkg/apis/function/validation.js';
import {
  DEFAULT_CONTAINER_CONCURRENCY, DEFAULT_NAMESPACE, DEFAULT_PORT, DEFAULT_TIMEOUT_SECONDS, withDefaults,
} from '../../pkg/apis/function/defaults.js';
import type { KfnFunction } from '../../pkg/apis/function/types.js';

interface Manifest {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  [field: string]: unknown;
}
type Option = (m: Manifest) => void;

/** A valid manifest, changed by options: fn(withScale({ min: 3, max: 2 })). */
function fn(...opts: Option[]): Manifest {
  const m: Manifest = { apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'hello' }, spec: { image: 'ghcr.io/acme/hello:1.0' } };
  for (const opt of opts) opt(m);
  return m;
}
const withTop = (fields: Record<string, unknown>): Option => (m) => void Object.assign(m, fields);
const withMeta = (fields: Record<string, unknown>): Option => (m) => void Object.assign(m.metadata, fields);
const withSpec = (fields: Record<string, unknown>): Option => (m) => void Object.assign(m.spec, fields);
const withScale = (scale: Record<string, unknown>): Option => withSpec({ scale });
const withEnv = (...env: unknown[]): Option => withSpec({ env });
const withProbe = (readinessProbe: Record<string, unknown>): Option => withSpec({ readinessProbe });
const withoutMeta = (field: string): Option => (m) => void delete m.metadata[field];

interface Row {
  name: string;
  manifest: unknown;
  wantFields: string[];
}

const rows: Row[] = [
  { name: 'a minimal function is valid', manifest: fn(), wantFields: [] },
  { name: 'a list is not a manifest', manifest: [fn()], wantFields: ['<root>'] },
  { name: 'another kind is rejected', manifest: fn(withTop({ kind: 'Trigger' })), wantFields: ['kind'] },
  { name: 'metadata is required', manifest: fn(withTop({ metadata: undefined })), wantFields: ['metadata'] },
  { name: 'a name is required', manifest: fn(withoutMeta('name')), wantFields: ['metadata.name'] },
  { name: 'a name with a dot is not a DNS label', manifest: fn(withMeta({ name: 'hello.world' })), wantFields: ['metadata.name'] },
  { name: 'a name may not end with a dash', manifest: fn(withMeta({ name: 'hello-' })), wantFields: ['metadata.name'] },
  { name: 'a name must be a string', manifest: fn(withMeta({ name: 42 })), wantFields: ['metadata.name'] },
  { name: 'an empty namespace means the default one', manifest: fn(withMeta({ namespace: '' })), wantFields: [] },
  { name: 'a namespace may start with a digit, as in Kubernetes', manifest: fn(withMeta({ namespace: '1team' })), wantFields: [] },
  { name: 'label values must be strings', manifest: fn(withMeta({ labels: { tier: 1 } })), wantFields: ['metadata.labels.tier'] },
  { name: 'fields of `kubectl get -o yaml` output are known', manifest: fn(withMeta({ uid: 'u', resourceVersion: '1', generation: 2, managedFields: [] })), wantFields: [] },
  { name: 'spec must be a mapping', manifest: fn(withTop({ spec: ['image'] })), wantFields: ['spec'] },
  { name: 'image must be a string', manifest: fn(withSpec({ image: 42 })), wantFields: ['spec.image'] },
  { name: 'command must be a list', manifest: fn(withSpec({ command: 'node server.js' })), wantFields: ['spec.command'] },
  { name: 'workingDir must be a string', manifest: fn(withSpec({ workingDir: 1 })), wantFields: ['spec.workingDir'] },
  { name: 'env must be a list', manifest: fn(withSpec({ env: { MODE: 'fast' } })), wantFields: ['spec.env'] },
  { name: 'an env entry must be a mapping', manifest: fn(withEnv('MODE=fast')), wantFields: ['spec.env[0]'] },
  { name: 'an env entry needs a name', manifest: fn(withEnv({ value: 'fast' })), wantFields: ['spec.env[0].name'] },
  { name: 'an env value must be a string', manifest: fn(withEnv({ name: 'N', value: 3 })), wantFields: ['spec.env[0].value'] },
  { name: 'valueFrom must be a mapping', manifest: fn(withEnv({ name: 'N', valueFrom: 'secret' })), wantFields: ['spec.env[0].valueFrom'] },
  { name: 'unknown env fields are rejected', manifest: fn(withEnv({ name: 'N', vaule: 'x' })), wantFields: ['spec.env[0].vaule'] },
  { name: 'env has at most 100 entries', manifest: fn(withEnv(...Array.from({ length: 101 }, (_, i) => ({ name: `V${i}`, value: '' })))), wantFields: ['spec.env'] },
  { name: 'env names have at most 128 characters', manifest: fn(withEnv({ name: 'N'.repeat(129) })), wantFields: ['spec.env[0].name'] },
  { name: 'PORT twice is reported twice, not as a duplicate', manifest: fn(withEnv({ name: 'PORT' }, { name: 'PORT' })), wantFields: ['spec.env[0].name', 'spec.env[1].name'] },
  { name: 'unknown resources fields are rejected', manifest: fn(withSpec({ resources: { request: {} } })), wantFields: ['spec.resources.request'] },
  { name: 'a probe port of 0 is rejected', manifest: fn(withProbe({ httpGet: { path: '/', port: 0 } })), wantFields: ['spec.readinessProbe.httpGet.port'] },
  { name: 'a failure threshold of 0 is rejected', manifest: fn(withProbe({ failureThreshold: 0 })), wantFields: ['spec.readinessProbe.failureThreshold'] },
  { name: 'exec probes are not supported', manifest: fn(withProbe({ exec: { command: ['true'] } })), wantFields: ['spec.readinessProbe.exec'] },
  { name: 'port 0 is rejected', manifest: fn(withSpec({ port: 0 })), wantFields: ['spec.port'] },
  { name: 'a fractional port is rejected', manifest: fn(withSpec({ port: 8080.5 })), wantFields: ['spec.port'] },
  { name: 'a negative containerConcurrency is rejected', manifest: fn(withSpec({ containerConcurrency: -1 })), wantFields: ['spec.containerConcurrency'] },
  { name: 'timeoutSeconds stops at an hour', manifest: fn(withSpec({ timeoutSeconds: 3601 })), wantFields: ['spec.timeoutSeconds'] },
  { name: 'min above max 0 is fine: 0 is unbounded', manifest: fn(withScale({ min: 3, max: 0 })), wantFields: [] },
  { name: 'min equal to max is fine', manifest: fn(withScale({ min: 2, max: 2 })), wantFields: [] },
  { name: 'a bad min is reported once, not also against max', manifest: fn(withScale({ min: 'x', max: 1 })), wantFields: ['spec.scale.min'] },
  { name: 'target 0.01 is the smallest', manifest: fn(withScale({ target: 0.009 })), wantFields: ['spec.scale.target'] },
  { name: 'a target above containerConcurrency is capped later, not rejected', manifest: fn(withSpec({ containerConcurrency: 1 }), withScale({ target: 100 })), wantFields: [] },
  { name: 'maxScaleUpRate just above 1 is fine', manifest: fn(withScale({ maxScaleUpRate: 1.0001 })), wantFields: [] },
  { name: 'a window of 1.5h is too long', manifest: fn(withScale({ window: '1.5h' })), wantFields: ['spec.scale.window'] },
  { name: 'a window of 90s is fine', manifest: fn(withScale({ window: '90s' })), wantFields: [] },
  { name: 'a duration over 32 characters is rejected', manifest: fn(withScale({ scaleDownDelay: `${'0'.repeat(32)}s` })), wantFields: ['spec.scale.scaleDownDelay'] },
  { name: 'a duration must be a string', manifest: fn(withScale({ window: 60 })), wantFields: ['spec.scale.window'] },
  { name: 'every problem is reported, in field order', manifest: fn(withSpec({ port: 0 }), withScale({ min: 3, max: 2 })), wantFields: ['spec.port', 'spec.scale.max'] },
  // ---- pod-level fields ----
  { name: 'a serviceAccountName must be a DNS subdomain', manifest: fn(withSpec({ serviceAccountName: 'Reports' })), wantFields: ['spec.serviceAccountName'] },
  { name: 'a serviceAccountName must be a string', manifest: fn(withSpec({ serviceAccountName: 7 })), wantFields: ['spec.serviceAccountName'] },
  { name: 'imagePullSecrets must be a list', manifest: fn(withSpec({ imagePullSecrets: 'registry' })), wantFields: ['spec.imagePullSecrets'] },
  { name: 'an imagePullSecret needs a name', manifest: fn(withSpec({ imagePullSecrets: [{}] })), wantFields: ['spec.imagePullSecrets[0].name'] },
  { name: 'valueFrom must be one typed source', manifest: fn(withEnv({ name: 'N', valueFrom: { secretKeyRef: { name: 's', key: 'k' }, fieldRef: { fieldPath: 'metadata.name' } } })), wantFields: ['spec.env[0].valueFrom'] },
  { name: 'an unknown valueFrom source is rejected', manifest: fn(withEnv({ name: 'N', valueFrom: { vaultRef: {} } })), wantFields: ['spec.env[0].valueFrom.vaultRef', 'spec.env[0].valueFrom'] },
  { name: 'a secretKeyRef name must be a DNS subdomain', manifest: fn(withEnv({ name: 'N', valueFrom: { secretKeyRef: { name: 'My Secret', key: 'k' } } })), wantFields: ['spec.env[0].valueFrom.secretKeyRef.name'] },
  { name: 'a secret key may not contain a slash', manifest: fn(withEnv({ name: 'N', valueFrom: { secretKeyRef: { name: 's', key: 'a/b' } } })), wantFields: ['spec.env[0].valueFrom.secretKeyRef.key'] },
  { name: 'optional must be a boolean', manifest: fn(withEnv({ name: 'N', valueFrom: { configMapKeyRef: { name: 's', key: 'k', optional: 'yes' } } })), wantFields: ['spec.env[0].valueFrom.configMapKeyRef.optional'] },
  { name: 'fieldRef reads label values by key', manifest: fn(withEnv({ name: 'N', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } })), wantFields: [] },
  { name: 'fieldRef cannot read the whole labels map', manifest: fn(withEnv({ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } })), wantFields: ['spec.env[0].valueFrom.fieldRef.fieldPath'] },
  { name: 'fieldRef apiVersion is v1', manifest: fn(withEnv({ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v2' } } })), wantFields: ['spec.env[0].valueFrom.fieldRef.apiVersion'] },
  { name: 'resourceFieldRef names a request or limit', manifest: fn(withEnv({ name: 'N', valueFrom: { resourceFieldRef: { resource: 'memory' } } })), wantFields: ['spec.env[0].valueFrom.resourceFieldRef.resource'] },
  { name: 'a divisor is a quoted quantity', manifest: fn(withEnv({ name: 'N', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: 1 } } })), wantFields: ['spec.env[0].valueFrom.resourceFieldRef.divisor'] },
  { name: 'envFrom with both refs is rejected', manifest: fn(withSpec({ envFrom: [{ secretRef: { name: 'a' }, configMapRef: { name: 'b' } }] })), wantFields: ['spec.envFrom[0]'] },
  { name: 'envFrom has at most 16 entries', manifest: fn(withSpec({ envFrom: Array.from({ length: 17 }, () => ({ secretRef: { name: 'a' } })) })), wantFields: ['spec.envFrom'] },
  { name: 'hostPath is refused with its reason, once', manifest: fn(withSpec({ volumes: [{ name: 'h', hostPath: { path: '/' } }] })), wantFields: ['spec.volumes[0].hostPath'] },
  { name: 'hostPath beside an allowed source is still refused', manifest: fn(withSpec({ volumes: [{ name: 'h', emptyDir: {}, hostPath: { path: '/' } }] })), wantFields: ['spec.volumes[0].hostPath'] },
  { name: 'a volume without a source is rejected', manifest: fn(withSpec({ volumes: [{ name: 'v' }] })), wantFields: ['spec.volumes[0]'] },
  { name: 'a projected volume needs sources', manifest: fn(withSpec({ volumes: [{ name: 'v', projected: {} }] })), wantFields: ['spec.volumes[0].projected.sources'] },
  { name: 'a projected source must be a mapping', manifest: fn(withSpec({ volumes: [{ name: 'v', projected: { sources: ['secret'] } }] })), wantFields: ['spec.volumes[0].projected.sources[0]'] },
  { name: 'a defaultMode above 0777 is rejected (0644 read as YAML 1.2 is 644)', manifest: fn(withSpec({ volumes: [{ name: 'v', secret: { secretName: 's', defaultMode: 644 } }] })), wantFields: ['spec.volumes[0].secret.defaultMode'] },
  { name: 'an emptyDir sizeLimit is a quoted quantity', manifest: fn(withSpec({ volumes: [{ name: 'v', emptyDir: { sizeLimit: 'lots' } }] })), wantFields: ['spec.volumes[0].emptyDir.sizeLimit'] },
  { name: 'a mount of an undeclared volume is rejected', manifest: fn(withSpec({ volumeMounts: [{ name: 'v', mountPath: '/v' }] })), wantFields: ['spec.volumeMounts[0].name'] },
  { name: "a mountPath ending in '..' is rejected", manifest: fn(withSpec({ volumes: [{ name: 'v', emptyDir: {} }], volumeMounts: [{ name: 'v', mountPath: '/data/..' }] })), wantFields: ['spec.volumeMounts[0].mountPath'] },
  { name: "a name with '..' inside is fine", manifest: fn(withSpec({ volumes: [{ name: 'v', emptyDir: {} }], volumeMounts: [{ name: 'v', mountPath: '/data/a..b', subPath: 'x..y' }] })), wantFields: [] },
  { name: 'an absolute subPath is rejected', manifest: fn(withSpec({ volumes: [{ name: 'v', emptyDir: {} }], volumeMounts: [{ name: 'v', mountPath: '/d', subPath: '/etc' }] })), wantFields: ['spec.volumeMounts[0].subPath'] },
  { name: 'nodeSelector values are label values', manifest: fn(withSpec({ nodeSelector: { disk: 'x'.repeat(64) } })), wantFields: ['spec.nodeSelector.disk'] },
  { name: 'nodeSelector keys are label keys', manifest: fn(withSpec({ nodeSelector: { 'a/b/c': 'x' } })), wantFields: ['spec.nodeSelector.a/b/c'] },
  { name: 'a label key name part has at most 63 characters', manifest: fn(withSpec({ podMetadata: { labels: { [`acme.com/${'n'.repeat(64)}`]: 'x' } } })), wantFields: [`spec.podMetadata.labels.acme.com/${'n'.repeat(64)}`] },
  { name: 'a label key prefix has at most 253 characters', manifest: fn(withSpec({ podMetadata: { labels: { [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}/n`]: 'x' } } })), wantFields: [`spec.podMetadata.labels.${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}/n`] },
  { name: 'a toleration operator is Exists or Equal', manifest: fn(withSpec({ tolerations: [{ key: 'k', operator: 'In' }] })), wantFields: ['spec.tolerations[0].operator'] },
  { name: 'an empty-key Exists toleration tolerates everything and is fine', manifest: fn(withSpec({ tolerations: [{ operator: 'Exists' }] })), wantFields: [] },
  { name: 'affinity inner shape is left to the API server', manifest: fn(withSpec({ affinity: { nodeAffinity: { anything: [1, 2] } } })), wantFields: [] },
  { name: 'an affinity kind must be a mapping', manifest: fn(withSpec({ affinity: { podAffinity: [] } })), wantFields: ['spec.affinity.podAffinity'] },
  { name: 'podMetadata fields other than labels and annotations are rejected', manifest: fn(withSpec({ podMetadata: { name: 'x' } })), wantFields: ['spec.podMetadata.name'] },
  { name: 'app.kubernetes.io/name is set by kfn on pods', manifest: fn(withSpec({ podMetadata: { labels: { 'app.kubernetes.io/name': 'x' } } })), wantFields: ['spec.podMetadata.labels'] },
  { name: 'app.kubernetes.io/name is a fine annotation', manifest: fn(withSpec({ podMetadata: { annotations: { 'app.kubernetes.io/name': 'x' } } })), wantFields: [] },
  { name: 'an annotation value must be a string', manifest: fn(withSpec({ podMetadata: { annotations: { a: true } } })), wantFields: ['spec.podMetadata.annotations.a'] },
  { name: 'a liveness probe is checked like the readiness probe', manifest: fn(withSpec({ livenessProbe: { failureThreshold: 0 } })), wantFields: ['spec.livenessProbe.failureThreshold'] },
  { name: 'allowPrivilegeEscalation cannot be set', manifest: fn(withSpec({ securityContext: { allowPrivilegeEscalation: true } })), wantFields: ['spec.securityContext.allowPrivilegeEscalation'] },
  { name: 'seccompProfile cannot be set on the pod', manifest: fn(withSpec({ podSecurityContext: { seccompProfile: { type: 'Unconfined' } } })), wantFields: ['spec.podSecurityContext.seccompProfile'] },
  { name: 'runAsNonRoot must be a boolean', manifest: fn(withSpec({ securityContext: { runAsNonRoot: 'true' } })), wantFields: ['spec.securityContext.runAsNonRoot'] },
  { name: "the container's uid wins over the pod's root uid", manifest: fn(withSpec({ securityContext: { runAsNonRoot: true, runAsUser: 1000 }, podSecurityContext: { runAsUser: 0 } })), wantFields: [] },
  { name: "the container's runAsNonRoot false wins over the pod's true", manifest: fn(withSpec({ securityContext: { runAsNonRoot: false, runAsUser: 0 }, podSecurityContext: { runAsNonRoot: true } })), wantFields: [] },
  { name: 'uid 0 without runAsNonRoot is allowed', manifest: fn(withSpec({ securityContext: { runAsUser: 0 } })), wantFields: [] },
  { name: 'a supplemental group must be an id', manifest: fn(withSpec({ podSecurityContext: { supplementalGroups: [1, -2] } })), wantFields: ['spec.podSecurityContext.supplementalGroups[1]'] },
  { name: 'status read back from a cluster is allowed', manifest: fn(withTop({ status: { replicas: 1 } })), wantFields: [] },
  { name: 'status must be a mapping', manifest: fn(withTop({ status: 'Ready' })), wantFields: ['status'] },
];

describe('validateFunction', () => {
  for (const row of rows) {
    it(row.name, () => {
      const errors = validateFunction(row.manifest);
      assert.deepEqual(errors.map((e) => e.field), row.wantFields, JSON.stringify(errors));
    });
  }

  it('tells how to fix min above max, with the value of min', () => {
    assert.deepEqual(validateFunction(fn(withScale({ min: 3, max: 2 }))), [
      { field: 'spec.scale.max', message: 'must be >= spec.scale.min (3), or 0 for no upper bound, got 2' },
    ]);
  });

  it('points PORT at spec.port', () => {
    assert.match(validateFunction(fn(withEnv({ name: 'PORT', value: '1' })))[0]?.message ?? '', /set spec\.port instead/);
  });

  it('names the range and the value it got', () => {
    assert.deepEqual(validateFunction(fn(withSpec({ port: '8080' }))), [
      { field: 'spec.port', message: 'must be an integer from 1 to 65535, got "8080"' },
    ]);
    assert.deepEqual(validateFunction(fn(withScale({ window: '5s' }))), [
      { field: 'spec.scale.window', message: 'must be from 6s to 1h, got "5s"' },
    ]);
  });

  it('explains why hostPath is refused', () => {
    const [error] = validateFunction(fn(withSpec({ volumes: [{ name: 'h', hostPath: { path: '/' } }] })));
    assert.match(error?.message ?? '', /host-escape risk.*restricted Pod Security profile/);
  });

  it('says root contradicts runAsNonRoot, at the field that set uid 0', () => {
    assert.deepEqual(validateFunction(fn(withSpec({ podSecurityContext: { runAsNonRoot: true, runAsUser: 0 } }))), [
      { field: 'spec.podSecurityContext.runAsUser', message: 'may not be 0 (root) with runAsNonRoot: true' },
    ]);
  });

  it('names kfn\'s reserved keys when a pod label uses one', () => {
    const [error] = validateFunction(fn(withSpec({ podMetadata: { labels: { 'kfn.dev/function': 'x' } } })));
    assert.deepEqual(error, {
      field: 'spec.podMetadata.labels',
      message: 'kfn.dev/function is set by kfn itself (keys kfn.dev/*, app.kubernetes.io/managed-by, app.kubernetes.io/name); choose another key',
    });
  });

  it('names the earlier entry of a duplicate env name', () => {
    const [error] = validateFunction(fn(withEnv({ name: 'A' }, { name: 'A' })));
    assert.deepEqual(error, { field: 'spec.env[1]', message: 'duplicate name "A", already set at spec.env[0]' });
  });
});

describe('assertValidFunction', () => {
  it('throws one error naming the function and every problem', () => {
    const manifest = fn(withMeta({ namespace: 'team' }), withSpec({ port: 0 }), withScale({ min: 3, max: 2 }));
    assert.throws(
      () => assertValidFunction(manifest),
      (err: unknown) => {
        assert.ok(err instanceof FunctionValidationError);
        assert.equal(
          err.message,
          'invalid Function team/hello: spec.port: must be an integer from 1 to 65535, got 0; ' +
            'spec.scale.max: must be >= spec.scale.min (3), or 0 for no upper bound, got 2',
        );
        assert.deepEqual(err.fieldErrors.map((e) => e.field), ['spec.port', 'spec.scale.max']);
        return true;
      },
    );
  });

  it('names a function without a namespace as in the default one', () => {
    assert.throws(() => assertValidFunction(fn(withSpec({ port: 0 }))), /^FunctionValidationError: invalid Function default\/hello: /);
  });

  it('returns the function with null fields dropped, as the API server prunes them', () => {
    const got = assertValidFunction(fn(withSpec({ scale: null, env: [{ name: 'A', value: 'x' }] })));
    assert.deepEqual(got.spec, { image: 'ghcr.io/acme/hello:1.0', env: [{ name: 'A', value: 'x' }] });
  });
});

describe('withDefaults', () => {
  const base = assertValidFunction(fn());

  it('fills port, containerConcurrency, timeoutSeconds and namespace', () => {
    const got = withDefaults(base);
    assert.equal(got.metadata.namespace, DEFAULT_NAMESPACE);
    assert.deepEqual(
      [got.spec.port, got.spec.containerConcurrency, got.spec.timeoutSeconds],
      [DEFAULT_PORT, DEFAULT_CONTAINER_CONCURRENCY, DEFAULT_TIMEOUT_SECONDS],
    );
    assert.deepEqual([DEFAULT_PORT, DEFAULT_CONTAINER_CONCURRENCY, DEFAULT_TIMEOUT_SECONDS], [8080, 0, 300]);
  });

  it('keeps values that are set, including zeros', () => {
    const set: KfnFunction = { ...base, metadata: { name: 'hello', namespace: 'team' }, spec: { ...base.spec, port: 3000, containerConcurrency: 0, timeoutSeconds: 5 } };
    const got = withDefaults(set);
    assert.equal(got.metadata.namespace, 'team');
    assert.deepEqual([got.spec.port, got.spec.containerConcurrency, got.spec.timeoutSeconds], [3000, 0, 5]);
  });

  it('leaves scale fields unset for the autoscaler config to fill', () => {
    assert.equal(withDefaults(base).spec.scale, undefined);
    const withMin: KfnFunction = { ...base, spec: { ...base.spec, scale: { min: 1 } } };
    assert.deepEqual(withDefaults(withMin).spec.scale, { min: 1 });
  });

  it('does not change its argument', () => {
    const frozen = deepFreeze(structuredClone(base));
    const before = structuredClone(frozen);
    withDefaults(frozen);
    assert.deepEqual(frozen, before);
  });
});

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
