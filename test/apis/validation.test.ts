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

  it('names the earlier entry of a duplicate env name', () => {
    const [error] = validateFunction(fn(withEnv({ name: 'A' }, { name: 'A' })));
    assert.deepEqual(error, { field: 'spec.env[1].name', message: 'duplicate name "A", already set at spec.env[0]' });
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
