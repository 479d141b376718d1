// The rules of a Function manifest. On a cluster the CRD schema and its CEL rules enforce
// them (config/200-crd-function.yaml); local mode has no API server, so they are written
// once more here. test/apis/crd-agreement.test.ts runs both over the same fixtures and
// fails when they disagree, so change the two together.
export { DURATION_MAX_LENGTH, NAME_MAX_LENGTH, type DurationRange, type NumberRange } from '../checks.js';
import { formatFieldErrors, type FieldError } from '../meta.js';
import {
  checkNumber,
  checkStringMap,
  isMapping,
  dropNullFields,
  refOf,
  rejectUnknownFields,
  requireMapping,
  show,
  validateResource,
  checkDuration,
  type DurationRange,
  type Fields,
  type NumberRange,
} from '../checks.js';
import { validateEnvVarSource, validatePodFields } from './pod-validation.js';
import { FUNCTION_KIND, type FunctionSpec, type KfnFunction, type Probe, type ScaleSpec } from './types.js';

type KeysOfType<T, V> = { [K in keyof T]-?: NonNullable<T[K]> extends V ? K : never }[keyof T];

// The CRD's CEL rules over env are only accepted by the API server when the list and the
// names are bounded (the rule cost is estimated from maxItems/maxLength), so both limits
// exist on a cluster; they are mirrored here so local mode fails the same way.
export const ENV_MAX_ITEMS = 100;
export const ENV_NAME_MAX_LENGTH = 128;
// Same reason: duration strings are matched by a CEL regex, which needs a bounded length.

export const SPEC_NUMBER_RANGES: Record<KeysOfType<FunctionSpec, number>, NumberRange> = {
  port: { integer: true, min: 1, max: 65535 },
  containerConcurrency: { integer: true, min: 0, max: 1000 },
  timeoutSeconds: { integer: true, min: 1, max: 3600 },
};

export const SCALE_NUMBER_RANGES: Record<KeysOfType<ScaleSpec, number>, NumberRange> = {
  min: { integer: true, min: 0 },
  max: { integer: true, min: 0 },
  initial: { integer: true, min: 0 },
  target: { integer: false, min: 0.01 },
  targetUtilization: { integer: false, min: 1, max: 100 },
  panicWindowPercentage: { integer: false, min: 1, max: 100 },
  panicThreshold: { integer: false, min: 110, max: 1000 },
  maxScaleUpRate: { integer: false, min: 1, exclusiveMin: true },
  maxScaleDownRate: { integer: false, min: 1, exclusiveMin: true },
};

export const SCALE_DURATION_RANGES: Record<KeysOfType<ScaleSpec, string>, DurationRange> = {
  window: { min: '6s', max: '1h' },
  scaleToZeroGracePeriod: { min: '0s', max: '1h' },
  scaleDownDelay: { min: '0s', max: '1h' },
};

export const PROBE_NUMBER_RANGES: Record<KeysOfType<Probe, number>, NumberRange> = {
  initialDelaySeconds: { integer: true, min: 0 },
  periodSeconds: { integer: true, min: 0 },
  timeoutSeconds: { integer: true, min: 0 },
  failureThreshold: { integer: true, min: 1 },
  successThreshold: { integer: true, min: 1 },
};

const PORT_RANGE = SPEC_NUMBER_RANGES.port;

const SPEC_FIELDS = Object.keys({
  image: true, command: true, args: true, workingDir: true, env: true, resources: true,
  readinessProbe: true, port: true, containerConcurrency: true, timeoutSeconds: true, scale: true,
  serviceAccountName: true, imagePullSecrets: true, envFrom: true, volumes: true, volumeMounts: true,
  nodeSelector: true, tolerations: true, affinity: true, podMetadata: true, livenessProbe: true,
  securityContext: true, podSecurityContext: true,
} satisfies Record<keyof FunctionSpec, true>);
const SCALE_FIELDS = [...Object.keys(SCALE_NUMBER_RANGES), ...Object.keys(SCALE_DURATION_RANGES)];
const ENV_FIELDS = ['name', 'value', 'valueFrom'];
const RESOURCES_FIELDS = ['requests', 'limits'];
const PROBE_FIELDS = ['httpGet', 'tcpSocket', ...Object.keys(PROBE_NUMBER_RANGES)];

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;


/** Every problem with `obj` as a Function manifest; empty when it is valid. */
export function validateFunction(obj: unknown): FieldError[] {
  return validateResource(obj, FUNCTION_KIND, 'it becomes a DNS label', validateSpec);
}

export class FunctionValidationError extends Error {
  constructor(
    readonly fieldErrors: FieldError[],
    ref: string,
  ) {
    super(`invalid Function ${ref}: ${formatFieldErrors(fieldErrors)}`);
    this.name = 'FunctionValidationError';
  }
}

/**
 * The manifest as a KfnFunction, or a FunctionValidationError naming every problem.
 * Null fields are dropped, as the API server prunes them, so `scale:` with nothing
 * under it reads as "no scale settings" in both modes.
 */
export function assertValidFunction(obj: unknown): KfnFunction {
  const errors = validateFunction(obj);
  if (errors.length > 0) throw new FunctionValidationError(errors, refOf(obj));
  return dropNullFields(obj) as KfnFunction;
}

function validateSpec(errs: FieldError[], spec: unknown): void {
  if (!requireMapping(errs, 'spec', spec)) return;
  rejectUnknownFields(errs, 'spec', spec, SPEC_FIELDS);
  if (spec.image == null) errs.push({ field: 'spec.image', message: 'required: the container image to run, e.g. "ghcr.io/acme/hello:1.0"' });
  else if (typeof spec.image !== 'string' || spec.image === '') errs.push({ field: 'spec.image', message: `must be a non-empty string, got ${show(spec.image)}` });
  checkStringList(errs, 'spec.command', spec.command);
  checkStringList(errs, 'spec.args', spec.args);
  if (spec.workingDir != null && typeof spec.workingDir !== 'string') {
    errs.push({ field: 'spec.workingDir', message: `must be a string, got ${show(spec.workingDir)}` });
  }
  validateEnv(errs, spec.env);
  validateResources(errs, spec.resources);
  validateProbe(errs, 'spec.readinessProbe', spec.readinessProbe);
  validateProbe(errs, 'spec.livenessProbe', spec.livenessProbe);
  const liveness = spec.livenessProbe;
  // Kubernetes refuses any other value for a liveness probe.
  if (isMapping(liveness) && liveness.successThreshold != null && liveness.successThreshold !== 1 && isCount(liveness.successThreshold)) {
    errs.push({ field: 'spec.livenessProbe.successThreshold', message: `must be 1 for a liveness probe, got ${show(liveness.successThreshold)}` });
  }
  checkNumbers(errs, 'spec', spec, SPEC_NUMBER_RANGES);
  validateScale(errs, spec.scale);
  validatePodFields(errs, spec);
}

function validateEnv(errs: FieldError[], env: unknown): void {
  if (env == null) return;
  if (!Array.isArray(env)) {
    errs.push({ field: 'spec.env', message: `must be a list of {name, value} entries, got ${show(env)}` });
    return;
  }
  if (env.length > ENV_MAX_ITEMS) errs.push({ field: 'spec.env', message: `must have at most ${ENV_MAX_ITEMS} entries, got ${env.length}` });
  const firstIndexOf = new Map<string, number>();
  env.forEach((entry: unknown, i) => {
    const path = `spec.env[${i}]`;
    if (!requireMapping(errs, path, entry)) return;
    rejectUnknownFields(errs, path, entry, ENV_FIELDS);
    const { name, value, valueFrom } = entry;
    if (name == null) errs.push({ field: `${path}.name`, message: 'required' });
    else if (typeof name !== 'string' || !ENV_NAME_RE.test(name)) {
      errs.push({ field: `${path}.name`, message: `must be letters, digits and '_', not starting with a digit, got ${show(name)}` });
    } else if (name.length > ENV_NAME_MAX_LENGTH) {
      errs.push({ field: `${path}.name`, message: `must be at most ${ENV_NAME_MAX_LENGTH} characters, got ${name.length}` });
    } else if (name === 'PORT') {
      errs.push({ field: `${path}.name`, message: 'PORT is set by kfn from spec.port; set spec.port instead' });
    } else if (firstIndexOf.has(name)) {
      // Named at the entry, as the API server names a duplicate list-map key.
      errs.push({ field: path, message: `duplicate name "${name}", already set at spec.env[${firstIndexOf.get(name)}]` });
    } else {
      firstIndexOf.set(name, i);
    }
    if (value != null && typeof value !== 'string') {
      errs.push({ field: `${path}.value`, message: `must be a string (quote numbers and booleans: "8080", "true"), got ${show(value)}` });
    }
    if (value != null && valueFrom != null) errs.push({ field: `${path}.valueFrom`, message: 'may not be set together with value; keep one of them' });
    else if (valueFrom != null) validateEnvVarSource(errs, `${path}.valueFrom`, valueFrom);
  });
}

function validateResources(errs: FieldError[], resources: unknown): void {
  if (resources == null) return;
  if (!requireMapping(errs, 'spec.resources', resources)) return;
  rejectUnknownFields(errs, 'spec.resources', resources, RESOURCES_FIELDS);
  const hint = 'quote quantities, e.g. "500m" or "1"';
  checkStringMap(errs, 'spec.resources.requests', resources.requests, hint);
  checkStringMap(errs, 'spec.resources.limits', resources.limits, hint);
}

function validateProbe(errs: FieldError[], path: string, probe: unknown): void {
  if (probe == null) return;
  if (!requireMapping(errs, path, probe)) return;
  rejectUnknownFields(errs, path, probe, PROBE_FIELDS);
  const { httpGet, tcpSocket } = probe;
  if (httpGet != null && requireMapping(errs, `${path}.httpGet`, httpGet)) {
    rejectUnknownFields(errs, `${path}.httpGet`, httpGet, ['path', 'port']);
    const p = httpGet.path;
    if (p != null && (typeof p !== 'string' || !p.startsWith('/'))) {
      errs.push({ field: `${path}.httpGet.path`, message: `must be a path starting with "/", got ${show(p)}` });
    }
    checkNumber(errs, `${path}.httpGet.port`, httpGet.port, PORT_RANGE);
  }
  if (tcpSocket != null && requireMapping(errs, `${path}.tcpSocket`, tcpSocket)) {
    rejectUnknownFields(errs, `${path}.tcpSocket`, tcpSocket, ['port']);
    checkNumber(errs, `${path}.tcpSocket.port`, tcpSocket.port, PORT_RANGE);
  }
  if (httpGet != null && tcpSocket != null) errs.push({ field: path, message: 'set only one of httpGet or tcpSocket' });
  checkNumbers(errs, path, probe, PROBE_NUMBER_RANGES);
}

function validateScale(errs: FieldError[], scale: unknown): void {
  if (scale == null) return;
  if (!requireMapping(errs, 'spec.scale', scale)) return;
  rejectUnknownFields(errs, 'spec.scale', scale, SCALE_FIELDS);
  checkNumbers(errs, 'spec.scale', scale, SCALE_NUMBER_RANGES);
  for (const [key, range] of Object.entries(SCALE_DURATION_RANGES)) checkDuration(errs, `spec.scale.${key}`, scale[key], range);
  const { min, max } = scale;
  // Only compare two values that are each valid, so one mistake gives one error.
  if (isCount(min) && isCount(max) && max > 0 && min > max) {
    errs.push({ field: 'spec.scale.max', message: `must be >= spec.scale.min (${min}), or 0 for no upper bound, got ${max}` });
  }
}

function checkNumbers(errs: FieldError[], path: string, obj: Fields, ranges: Record<string, NumberRange>): void {
  for (const [key, range] of Object.entries(ranges)) checkNumber(errs, `${path}.${key}`, obj[key], range);
}


function checkStringList(errs: FieldError[], field: string, v: unknown): void {
  if (v == null) return;
  if (!Array.isArray(v)) {
    errs.push({ field, message: `must be a list of strings, got ${show(v)}` });
    return;
  }
  v.forEach((item: unknown, i) => {
    if (typeof item !== 'string') errs.push({ field: `${field}[${i}]`, message: `must be a string (quote numbers: "8080"), got ${show(item)}` });
  });
}

/** Kubectl's strict field validation rejects unknown fields; so do we, since a typo would otherwise be ignored. */
function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

